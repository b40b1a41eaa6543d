/* test-image.c — decode, INTER_LINEAR_EXACT resize against the direct formula, normalisation. */
#include "fixtures.h"
#include "photo-fixture.h"
#include "s4g-image.h"

#include <math.h>
#include <vips/vips.h>

/* shrink-on-load against the whole decode, both resized to the model's input: measured on
 * the 48 Mpx fixture (see test_shrink_on_load's messages) */
#define MEAN_TOL 3.0 /* measured 2.10–2.43: the whole decode's point-sampled grain */
#define MAX_TOL 24    /* measured 15–16 */

static S4gImage *pattern(int w, int h, guint32 seed)
{
    S4gImage *im = s4g_image_new(w, h);
    guint32 x = seed;
    for (int i = 0; i < w * h * 3; i++) {
        x = x * 1664525u + 1013904223u;
        im->data[i] = (guint8)(x >> 24);
    }
    return im;
}

/* The resize written straight from its definition, in double precision: source coordinate
 * (d + 0.5)·s/d − 0.5 clamped to [0, s−1], bilinear weights, round half up. */
static S4gImage *resize_formula(const S4gImage *src, int W, int H)
{
    S4gImage *out = s4g_image_new(W, H);
    for (int y = 0; y < H; y++) {
        double fy = CLAMP((y + 0.5) * src->height / H - 0.5, 0.0, src->height - 1.0);
        int y0 = (int)floor(fy), y1 = MIN(y0 + 1, src->height - 1);
        double b = fy - y0;
        for (int x = 0; x < W; x++) {
            double fx = CLAMP((x + 0.5) * src->width / W - 0.5, 0.0, src->width - 1.0);
            int x0 = (int)floor(fx), x1 = MIN(x0 + 1, src->width - 1);
            double a = fx - x0;
            for (int c = 0; c < 3; c++) {
#define P(yy, xx) src->data[((yy) * src->width + (xx)) * 3 + c]
                double v = (1 - b) * ((1 - a) * P(y0, x0) + a * P(y0, x1)) +
                           b * ((1 - a) * P(y1, x0) + a * P(y1, x1));
#undef P
                out->data[(y * W + x) * 3 + c] = (guint8)floor(v + 0.5);
            }
        }
    }
    return out;
}

static int max_diff(const S4gImage *a, const S4gImage *b)
{
    g_assert_cmpint(a->width, ==, b->width);
    g_assert_cmpint(a->height, ==, b->height);
    int m = 0;
    for (int i = 0; i < a->width * a->height * 3; i++)
        m = MAX(m, abs((int)a->data[i] - (int)b->data[i]));
    return m;
}

static void test_resize_formula(void)
{
    static const int cases[][4] = {
        {33, 7, 129, 17},   {129, 33, 7, 5},     {224, 120, 768, 140}, {750, 75, 384, 38},
        {100, 100, 200, 200}, {13, 13, 13, 29},  {1, 1, 7, 3},         {64, 64, 384, 384},
    };
    int worst = 0;
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(S4gImage) src = pattern(cases[i][0], cases[i][1], 17 + i);
        g_autoptr(S4gImage) a = s4g_image_resize(src, cases[i][2], cases[i][3]);
        g_autoptr(S4gImage) b = resize_formula(src, cases[i][2], cases[i][3]);
        int d = max_diff(a, b), n = 0, total = a->width * a->height * 3;
        for (int k = 0; k < total; k++)
            n += a->data[k] != b->data[k];
        g_test_message("resize %dx%d -> %dx%d: max |fixed-point − formula| = %d (%d of %d "
                       "values differ)",
                       cases[i][0], cases[i][1], cases[i][2], cases[i][3], d, n, total);
        /* 8-bit weights can move a value by one step, never more */
        g_assert_cmpint(d, <=, 1);
        worst = MAX(worst, d);
    }
    /* An exact 2× upscale has weights 1/4, 3/4 (exact in 8 bits): no difference at all. */
    g_autoptr(S4gImage) src = pattern(31, 9, 5);
    g_autoptr(S4gImage) a = s4g_image_resize(src, 62, 18);
    g_autoptr(S4gImage) b = resize_formula(src, 62, 18);
    g_assert_cmpint(max_diff(a, b), ==, 0);
    /* Exact halving averages 2×2 blocks (weights ½): (sum + 2) / 4, i.e. rounded half up. */
    g_autoptr(S4gImage) even = pattern(30, 8, 6);
    g_autoptr(S4gImage) h = s4g_image_resize(even, 15, 4);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 15; x++)
            for (int c = 0; c < 3; c++) {
#define E(yy, xx) even->data[((yy) * 30 + (xx)) * 3 + c]
                int sum = E(2 * y, 2 * x) + E(2 * y, 2 * x + 1) + E(2 * y + 1, 2 * x) +
                          E(2 * y + 1, 2 * x + 1);
#undef E
                g_assert_cmpint(h->data[(y * 15 + x) * 3 + c], ==, (sum + 2) / 4);
            }
    g_test_message("worst case over all sizes: %d", worst);
    /* Same size is a copy (cv2 does the same). */
    g_autoptr(S4gImage) same = s4g_image_resize(src, 31, 9);
    g_assert_cmpmem(same->data, 31 * 9 * 3, src->data, 31 * 9 * 3);
}

/* Known answers from OpenCV 4.6.0 itself (python3-opencv, Debian 12): FNV-1a 64 of
 * cv2.resize(pattern(w, h, seed), (ow, oh), interpolation=cv2.INTER_LINEAR_EXACT).tobytes().
 * Outside the tests the same comparison over 6.85 M output values (sizes up to 2048×1024,
 * noise and smooth images) found no differing byte. */
static void test_resize_cv2(void)
{
    static const struct {
        int w, h, ow, oh;
        guint32 seed;
        guint64 fnv;
    } cases[] = {
        {33, 7, 129, 17, 101, 0xa9c1005addbd00c2ull},
        {129, 33, 7, 5, 102, 0x66978434e73dd27eull},
        {250, 45, 768, 140, 103, 0x6c1cdd599a6540b1ull},
        {200, 200, 97, 97, 104, 0xa103e188948ff392ull},
        {41, 41, 384, 384, 105, 0xaf1473843ff1268bull},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(S4gImage) src = pattern(cases[i].w, cases[i].h, cases[i].seed);
        g_autoptr(S4gImage) r = s4g_image_resize(src, cases[i].ow, cases[i].oh);
        guint64 h = 0xcbf29ce484222325ull;
        for (int k = 0; k < r->width * r->height * 3; k++)
            h = (h ^ r->data[k]) * 0x100000001b3ull;
        g_test_message("%dx%d -> %dx%d: %016" G_GINT64_MODIFIER "x", cases[i].w, cases[i].h,
                       cases[i].ow, cases[i].oh, h);
        g_assert_cmpuint(h, ==, cases[i].fnv);
    }
}

static void test_normalize(void)
{
    g_autoptr(S4gImage) im = s4g_image_new(3, 2);
    for (int i = 0; i < 18; i++)
        im->data[i] = (guint8)(i * 14);
    float hwc[18], chw[18];
    s4g_image_normalize(im, hwc, FALSE);
    s4g_image_normalize(im, chw, TRUE);
    for (int p = 0; p < 6; p++)
        for (int c = 0; c < 3; c++) {
            double want = (im->data[p * 3 + c] / 255.0 - s4g_image_mean[c]) / s4g_image_std[c];
            g_assert_cmpfloat_with_epsilon(hwc[p * 3 + c], want, 1e-5);
            g_assert_cmpfloat(chw[c * 6 + p], ==, hwc[p * 3 + c]);
        }
    /* white → (1 − 0.485)/0.229 = 2.2489 */
    memset(im->data, 255, 18);
    s4g_image_normalize(im, hwc, FALSE);
    g_assert_cmpfloat_with_epsilon(hwc[0], 2.2489083, 1e-5);
}

/* Every format decodes to the same pixels (lossless ones exactly). */
static void test_decode_formats(void)
{
    g_autofree char *dir = fx_tmpdir();
    g_autoptr(S4gImage) src = pattern(21, 13, 3);
    g_autoptr(GError) e = NULL;
    VipsImage *v = vips_image_new_from_memory(src->data, 21 * 13 * 3, 21, 13, 3,
                                              VIPS_FORMAT_UCHAR);
    const char *names[] = {"a.png", "a.tif", "a.webp", "a.jpg"};
    for (int i = 0; i < 4; i++) {
        g_autofree char *p = g_build_filename(dir, names[i], NULL);
        int rc = i == 2 ? vips_webpsave(v, p, "lossless", TRUE, NULL)
                 : i == 3 ? vips_jpegsave(v, p, "Q", 100, NULL)
                          : vips_image_write_to_file(v, p, NULL);
        g_assert_cmpint(rc, ==, 0);
        g_autoptr(S4gImage) im = s4g_image_load(p, &e);
        g_assert_no_error(e);
        g_assert_cmpint(im->width, ==, 21);
        g_assert_cmpint(im->height, ==, 13);
        if (i < 3)
            g_assert_cmpmem(im->data, 21 * 13 * 3, src->data, 21 * 13 * 3);
        else
            g_assert_cmpint(max_diff(im, src), <, 48); /* noise pattern: JPEG is lossy */
    }
    g_object_unref(v);
    /* grey + alpha PNG → RGB */
    g_autoptr(S4gImage) grey = s4g_image_new(4, 4);
    VipsImage *g1 = vips_image_new_from_memory(grey->data, 16, 4, 4, 1, VIPS_FORMAT_UCHAR);
    g_autofree char *gp = g_build_filename(dir, "g.png", NULL);
    VipsImage *ga = NULL;
    g_assert_cmpint(vips_bandjoin_const1(g1, &ga, 255, NULL), ==, 0);
    g_assert_cmpint(vips_pngsave(ga, gp, NULL), ==, 0);
    g_object_unref(ga);
    g_object_unref(g1);
    g_autoptr(S4gImage) gi = s4g_image_load(gp, &e);
    g_assert_no_error(e);
    g_assert_cmpint(gi->width, ==, 4);
    /* errors name the file */
    g_autofree char *bad = g_build_filename(dir, "bad.jpg", NULL);
    g_assert_true(g_file_set_contents(bad, "plain text", -1, NULL));
    g_autoptr(S4gImage) none = s4g_image_load(bad, &e);
    g_assert_null(none);
    fx_assert_error_mentions(e, "bad.jpg", "not an image", NULL);
    g_clear_error(&e);
    /* a truncated JPEG */
    g_autofree char *jp = g_build_filename(dir, "a.jpg", NULL), *data = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(jp, &data, &len, NULL));
    g_autofree char *tr = g_build_filename(dir, "trunc.jpg", NULL);
    g_assert_true(g_file_set_contents(tr, data, (gssize)len / 2, NULL));
    g_autoptr(S4gImage) t = s4g_image_load(tr, &e);
    g_assert_null(t);
    fx_assert_error_mentions(e, "trunc.jpg", "cannot decode", NULL);
    g_clear_error(&e);
    /* a truncated PNG */
    g_autofree char *pp = g_build_filename(dir, "a.png", NULL), *pdata = NULL;
    g_assert_true(g_file_get_contents(pp, &pdata, &len, NULL));
    g_autofree char *tp = g_build_filename(dir, "trunc.png", NULL);
    g_assert_true(g_file_set_contents(tp, pdata, (gssize)len * 2 / 3, NULL));
    g_autoptr(S4gImage) t2 = s4g_image_load(tp, &e);
    g_assert_null(t2);
    fx_assert_error_mentions(e, "trunc.png", "cannot decode", NULL);
    g_clear_error(&e);
    g_autoptr(S4gImage) m = s4g_image_load("/nonexistent/x.png", &e);
    fx_assert_error_mentions(e, "/nonexistent/x.png", "not found", NULL);
    fx_rmtree(dir);
}

static void test_load_tensor(void)
{
    g_autofree char *dir = fx_tmpdir();
    fx_image(dir, "p.png", 40, 20, 9);
    g_autofree char *p = g_build_filename(dir, "p.png", NULL);
    float out[17 * 9 * 3];
    g_autoptr(GError) e = NULL;
    g_assert_true(s4g_image_load_tensor(p, (S4gSize){.h = 9, .w = 17}, FALSE, out, &e));
    g_autoptr(S4gImage) im = s4g_image_load(p, &e);
    g_autoptr(S4gImage) r = s4g_image_resize(im, 17, 9);
    float want[17 * 9 * 3];
    s4g_image_normalize(r, want, FALSE);
    g_assert_cmpmem(out, sizeof out, want, sizeof want);
    fx_rmtree(dir);
}

/* A 48-megapixel phone-like JPEG (and a 12-megapixel one with EXIF orientation 6) decoded
 * for a model input, shrunk on load (1/4 or 1/8 of each side), equals the whole decode
 * resized within a few grey levels on average (the whole decode's bilinear resize
 * point-samples the grain that the shrink averages). */
static void test_shrink_on_load(void)
{
    g_autofree char *dir = fx_tmpdir();
    const S4gSize sizes[] = {{.w = 384, .h = 384}, {.w = 224, .h = 224}, {.w = 512, .h = 256}};
    for (int orientation = 1; orientation <= 6; orientation += 5) {
        const int W = orientation == 1 ? 8000 : 4000, H = orientation == 1 ? 6000 : 3000;
        g_autofree char *name = g_strdup_printf("photo-%d.jpg", orientation);
        g_autofree char *p = g_build_filename(dir, name, NULL);
        photo_fixture_make(p, W, H, orientation);
        g_autoptr(GError) e = NULL;
        g_autoptr(S4gImage) whole = s4g_image_load(p, &e);
        g_assert_no_error(e);
        /* upright: orientation 6 turns 8000×6000 stored pixels into 6000×8000 */
        g_assert_cmpint(whole->width, ==, orientation == 6 ? H : W);
        for (guint k = 0; k < G_N_ELEMENTS(sizes); k++) {
            S4gSize sz = sizes[k];
            g_autoptr(S4gImage) small = s4g_image_load_for_size(p, sz.w, sz.h, &e);
            g_assert_no_error(e);
            /* shrunk by a power of two, still at least twice the target, upright */
            g_assert_cmpint(small->width, <=, whole->width / (orientation == 1 ? 4 : 2));
            g_assert_cmpint(small->width, >=, 2 * sz.w);
            g_assert_cmpint(small->height, >=, 2 * sz.h);
            g_assert_cmpint(whole->width * small->height, ==, whole->height * small->width);
            g_autoptr(S4gImage) a = s4g_image_resize(whole, sz.w, sz.h);
            g_autoptr(S4gImage) b = s4g_image_resize(small, sz.w, sz.h);
            double sum = 0;
            int worst = 0;
            gsize n = (gsize)sz.w * sz.h * 3;
            for (gsize i = 0; i < n; i++) {
                int d = abs((int)a->data[i] - (int)b->data[i]);
                sum += d;
                worst = MAX(worst, d);
            }
            g_test_message("orientation %d, %dx%d: decoded %dx%d instead of %dx%d; mean "
                           "difference %.3f grey levels, largest %d",
                           orientation, sz.w, sz.h, small->width, small->height, whole->width,
                           whole->height, sum / n, worst);
            g_assert_cmpfloat(sum / n, <, MEAN_TOL);
            g_assert_cmpint(worst, <=, MAX_TOL);
            /* the model input path takes the shrunk decode */
            g_autofree float *t = g_new(float, n), *want = g_new(float, n);
            g_assert_true(s4g_image_load_tensor(p, sz, FALSE, t, &e));
            s4g_image_normalize(b, want, FALSE);
            g_assert_cmpmem(t, n * sizeof(float), want, n * sizeof(float));
        }
    }
    fx_rmtree(dir);
}

int main(int argc, char **argv)
{
    fx_init(&argc, &argv);
    g_assert_true(s4g_image_init(NULL));
    g_test_add_func("/image/resize-formula", test_resize_formula);
    g_test_add_func("/image/resize-cv2", test_resize_cv2);
    g_test_add_func("/image/normalize", test_normalize);
    g_test_add_func("/image/decode-formats", test_decode_formats);
    g_test_add_func("/image/load-tensor", test_load_tensor);
    g_test_add_func("/image/shrink-on-load", test_shrink_on_load);
    return g_test_run();
}
