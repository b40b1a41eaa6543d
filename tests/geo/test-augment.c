/* test-augment.c — geometry of flip / rot90 / roll, determinism, dropout sizes, photometric
 * sanity. */
#include "fixtures.h"
#include "s4g-augment.h"

#include <math.h>

static void set_px(S4gImage *im, int y, int x, guint8 v)
{
    guint8 *p = im->data + ((gsize)y * im->width + x) * 3;
    p[0] = p[1] = p[2] = v;
}

static void find_px(const S4gImage *im, guint8 v, int *y, int *x)
{
    int n = 0;
    for (int i = 0; i < im->height; i++)
        for (int j = 0; j < im->width; j++)
            if (im->data[((gsize)i * im->width + j) * 3] == v)
                *y = i, *x = j, n++;
    g_assert_cmpint(n, ==, 1);
}

static void test_rot90(void)
{
    /* 7×7, a mark at row 1, column 5 (top right) */
    g_autoptr(S4gImage) s = s4g_image_new(7, 7);
    set_px(s, 1, 5, 200);
    static const int want[4][2] = {{1, 5}, {1, 1}, {5, 1}, {5, 5}}; /* CCW: TR→TL→BL→BR */
    for (int k = 0; k < 4; k++) {
        g_autoptr(S4gImage) r = s4g_augment_rot90(s, k);
        int y, x;
        find_px(r, 200, &y, &x);
        g_assert_cmpint(y, ==, want[k][0]);
        g_assert_cmpint(x, ==, want[k][1]);
    }
    /* non-square: torch.rot90 k=1 of H×W gives W×H with out[i][j] = in[j][W−1−i] */
    g_autoptr(S4gImage) ns = s4g_image_new(5, 3);
    set_px(ns, 2, 4, 99);
    g_autoptr(S4gImage) r1 = s4g_augment_rot90(ns, 1);
    g_assert_cmpint(r1->width, ==, 3);
    g_assert_cmpint(r1->height, ==, 5);
    int y, x;
    find_px(r1, 99, &y, &x);
    g_assert_cmpint(y, ==, 0); /* W−1−i = 4 → i = 0 */
    g_assert_cmpint(x, ==, 2); /* j = 2 */
}

static void test_roll(void)
{
    static const int widths[] = {12, 10, 33};
    for (guint w = 0; w < G_N_ELEMENTS(widths); w++) {
        int W = widths[w];
        int q = -(int)ceil(W / 4.0); /* Python (−W)//4 */
        for (int k = 1; k <= 3; k++) {
            g_autoptr(S4gImage) p = s4g_image_new(W, 3);
            set_px(p, 1, 0, 77);
            s4g_augment_roll(p, k);
            int y, x;
            find_px(p, 77, &y, &x);
            /* torch.roll(shift): column c goes to (c + shift) mod W */
            g_assert_cmpint(x, ==, (((q * k) % W) + W) % W);
            g_assert_cmpint(y, ==, 1);
        }
    }
}

/* The pair geometry: a landmark east of the satellite centre and the panorama column that
 * looks east (north at the centre column, east to the right) stay in agreement for k=1,2,3. */
static void test_rot_roll_agree(void)
{
    const int S = 9, W = 16, H = 4;
    for (int k = 1; k <= 3; k++) {
        g_autoptr(S4gImage) sat = s4g_image_new(S, S);
        set_px(sat, 4, 7, 250); /* due east of the centre (4, 4) */
        g_autoptr(S4gImage) pano = s4g_image_new(W, H);
        for (int y = 0; y < H; y++)
            set_px(pano, y, W / 2 + W / 4, 250); /* east column = 12 */
        g_autoptr(S4gImage) rs = s4g_augment_rot90(sat, k);
        s4g_augment_roll(pano, k);
        int sy, sx, px = -1;
        find_px(rs, 250, &sy, &sx);
        /* the landmark's azimuth, clockwise from north */
        double az_sat = atan2(sx - S / 2, S / 2 - sy) * 180 / G_PI;
        int cols = 0;
        for (int j = 0; j < W; j++)
            if (pano->data[(0 * W + j) * 3] == 250)
                px = j, cols++;
        g_assert_cmpint(cols, ==, 1);
        double az_pano = (px - W / 2) * 360.0 / W;
        double d = fmod(az_sat - az_pano + 720, 360);
        g_test_message("k=%d: satellite mark at (%d,%d) az %.0f°, panorama column %d az %.0f°", k,
                       sy, sx, az_sat, px, az_pano);
        g_assert_cmpfloat(d, ==, 0);
    }
    /* concretely for k=1: east (4, 7) → north (1, 4) */
    g_autoptr(S4gImage) sat = s4g_image_new(S, S);
    set_px(sat, 4, 7, 250);
    g_autoptr(S4gImage) r = s4g_augment_rot90(sat, 1);
    int y, x;
    find_px(r, 250, &y, &x);
    g_assert_cmpint(y, ==, 1);
    g_assert_cmpint(x, ==, 4);
}

static void test_flip(void)
{
    g_autoptr(S4gImage) im = s4g_image_new(5, 3);
    set_px(im, 1, 0, 9);
    set_px(im, 2, 3, 8);
    s4g_augment_flip(im);
    int y, x;
    find_px(im, 9, &y, &x);
    g_assert_cmpint(y, ==, 1);
    g_assert_cmpint(x, ==, 4);
    find_px(im, 8, &y, &x);
    g_assert_cmpint(x, ==, 1);
}

static S4gImage *noise(int w, int h, guint64 seed)
{
    S4gAugRng r;
    s4g_aug_rng_init(&r, seed, 0);
    S4gImage *im = s4g_image_new(w, h);
    for (int i = 0; i < w * h * 3; i++)
        im->data[i] = (guint8)(s4g_aug_rng_next(&r) >> 56);
    return im;
}

static void run_pair(guint64 seed, S4gImage **g, S4gImage **s)
{
    *g = noise(77, 15, 1);
    *s = noise(41, 41, 2);
    S4gAugmentView gv = s4g_augment_view_spec((S4gSize){.h = 12, .w = 64}, TRUE);
    S4gAugmentView sv = s4g_augment_view_spec((S4gSize){.h = 33, .w = 33}, FALSE);
    S4gAugRng r;
    s4g_aug_rng_init(&r, seed, 5);
    g_autoptr(GError) e = NULL;
    g_assert_true(s4g_augment_pair(g, s, &gv, &sv, S4G_AUGMENT_PANORAMA, &r, &e));
    g_assert_no_error(e);
    g_assert_cmpint((*g)->width, ==, 64);
    g_assert_cmpint((*g)->height, ==, 12);
    g_assert_cmpint((*s)->width, ==, 33);
}

static void test_determinism(void)
{
    int differ = 0;
    for (guint64 seed = 1; seed <= 12; seed++) {
        S4gImage *g1, *s1, *g2, *s2, *g3, *s3;
        run_pair(seed, &g1, &s1);
        run_pair(seed, &g2, &s2);
        run_pair(seed + 1000, &g3, &s3);
        g_assert_cmpmem(g1->data, 64 * 12 * 3, g2->data, 64 * 12 * 3);
        g_assert_cmpmem(s1->data, 33 * 33 * 3, s2->data, 33 * 33 * 3);
        differ += memcmp(g1->data, g3->data, 64 * 12 * 3) != 0;
        s4g_image_free(g1), s4g_image_free(s1), s4g_image_free(g2), s4g_image_free(s2);
        s4g_image_free(g3), s4g_image_free(s3);
    }
    g_assert_cmpint(differ, >=, 10);
}

/* Translation: content moves by (dx, dy), the uncovered border repeats the edge. */
static void test_translate(void)
{
    g_autoptr(S4gImage) im = s4g_image_new(7, 9); /* 7 wide, 9 high */
    set_px(im, 4, 3, 200);
    set_px(im, 0, 6, 50); /* top-right corner */
    s4g_augment_translate(im, -2, 3);
    int y, x;
    find_px(im, 200, &y, &x);
    g_assert_cmpint(y, ==, 7);
    g_assert_cmpint(x, ==, 1);
    /* the top-right corner: out(y, x) = in(clamp(y − 3), clamp(x + 2)) is in(0, 6) for rows
     * 0..3 (clamped to row 0) and columns 4..6 (clamped to column 6): 12 pixels */
    int n50 = 0;
    for (int i = 0; i < 9; i++)
        for (int j = 0; j < 7; j++)
            if (im->data[((gsize)i * 7 + j) * 3] == 50) {
                g_assert_cmpint(j, >=, 4);
                n50++;
            }
    g_assert_cmpint(n50, ==, 12);
    /* zero shift leaves the image alone */
    g_autoptr(S4gImage) a = noise(13, 11, 3), b = noise(13, 11, 3);
    s4g_augment_translate(a, 0, 0);
    g_assert_cmpmem(a->data, 13 * 11 * 3, b->data, 13 * 11 * 3);
}

/* shift 0 (the reference) draws nothing extra: the same bytes as before the option existed,
 * i.e. the same as a run that never set it; shift > 0 changes the satellite, not the
 * ground's geometry, and stays deterministic */
static void test_shift_stream(void)
{
    int moved = 0;
    for (guint64 seed = 1; seed <= 8; seed++) {
        S4gImage *g[3], *s[3];
        for (int v = 0; v < 3; v++) {
            g[v] = noise(77, 15, 1);
            s[v] = noise(41, 41, 2);
            S4gAugmentView gv = s4g_augment_view_spec((S4gSize){.h = 12, .w = 64}, TRUE);
            S4gAugmentView sv = s4g_augment_view_spec((S4gSize){.h = 33, .w = 33}, FALSE);
            sv.shift = v == 0 ? 0 : 3;
            S4gAugRng r;
            s4g_aug_rng_init(&r, seed, 5);
            g_autoptr(GError) e = NULL;
            g_assert_true(s4g_augment_pair(&g[v], &s[v], &gv, &sv, S4G_AUGMENT_PANORAMA, &r, &e));
            g_assert_no_error(e);
        }
        S4gImage *g0, *s0;
        run_pair(seed, &g0, &s0); /* shift 0 by default */
        g_assert_cmpmem(g0->data, 64 * 12 * 3, g[0]->data, 64 * 12 * 3);
        g_assert_cmpmem(s0->data, 33 * 33 * 3, s[0]->data, 33 * 33 * 3);
        g_assert_cmpmem(s[1]->data, 33 * 33 * 3, s[2]->data, 33 * 33 * 3);
        moved += memcmp(s[0]->data, s[1]->data, 33 * 33 * 3) != 0;
        s4g_image_free(g0), s4g_image_free(s0);
        for (int v = 0; v < 3; v++)
            s4g_image_free(g[v]), s4g_image_free(s[v]);
    }
    /* a draw of (0, 0) has probability 1/49 per pair */
    g_assert_cmpint(moved, >=, 6);
}

static int count_black(const S4gImage *im)
{
    int n = 0;
    for (int i = 0; i < im->width * im->height; i++)
        n += !im->data[i * 3] && !im->data[i * 3 + 1] && !im->data[i * 3 + 2];
    return n;
}

static void test_dropout(void)
{
    /* satellite 384: unit 38, hole 15, holes at 0, 38, …, 380 (the last clipped to 4) */
    g_autoptr(S4gImage) s = s4g_image_new(384, 384);
    memset(s->data, 255, 384 * 384 * 3);
    s4g_augment_grid_dropout(s, 0.4);
    g_assert_cmpint(count_black(s), ==, 154 * 154);
    /* ground 768×140: unit 76×76, hole 38; columns 10·38 + 8 (last at 760 clipped) = 388,
     * rows at 0 and 76 → 76 */
    g_autoptr(S4gImage) g = s4g_image_new(768, 140);
    memset(g->data, 255, 768 * 140 * 3);
    s4g_augment_grid_dropout(g, 0.5);
    g_assert_cmpint(count_black(g), ==, 388 * 76);
    /* coarse: 10..25 holes of 14..28 px, deterministic */
    S4gAugRng r1, r2;
    s4g_aug_rng_init(&r1, 3, 0);
    s4g_aug_rng_init(&r2, 3, 0);
    g_autoptr(S4gImage) c1 = s4g_image_new(99, 41), c2 = s4g_image_new(99, 41);
    memset(c1->data, 200, 99 * 41 * 3);
    memset(c2->data, 200, 99 * 41 * 3);
    s4g_augment_coarse_dropout(c1, &r1, 10, 25, 4, 8);
    s4g_augment_coarse_dropout(c2, &r2, 10, 25, 4, 8);
    g_assert_cmpmem(c1->data, 99 * 41 * 3, c2->data, 99 * 41 * 3);
    int b = count_black(c1);
    g_assert_cmpint(b, >=, 16);         /* at least one 4×4 hole */
    g_assert_cmpint(b, <=, 25 * 8 * 8); /* at most 25 8×8 holes */
}

static void test_photometric(void)
{
    g_autoptr(S4gImage) src = noise(33, 17, 4);
    /* neutral factors leave the image untouched (albumentations returns it as is) */
    g_autoptr(S4gImage) j = s4g_image_copy(src);
    S4gAugRng r;
    s4g_aug_rng_init(&r, 9, 0);
    s4g_augment_color_jitter(j, &r, 0, 0, 0, 0);
    g_assert_cmpmem(j->data, 33 * 17 * 3, src->data, 33 * 17 * 3);
    /* a hue shift leaves grey pixels (s = 0) alone and moves colours */
    for (int i = 0; i < 33; i++)
        set_px(src, 0, i, (guint8)(i * 7));
    g_autoptr(S4gImage) hj = s4g_image_copy(src);
    s4g_augment_color_jitter(hj, &r, 0, 0, 0, 0.15);
    g_assert_cmpmem(hj->data, 33 * 3, src->data, 33 * 3);
    g_assert_true(memcmp(hj->data, src->data, 33 * 17 * 3) != 0);
    /* brightness factor only: v·b truncated */
    g_autoptr(S4gImage) grey = s4g_image_new(3, 1);
    memset(grey->data, 100, 9);
    s4g_aug_rng_init(&r, 1, 0);
    s4g_augment_color_jitter(grey, &r, 0.15, 0, 0, 0);
    g_assert_cmpint(grey->data[0], >=, 85);
    g_assert_cmpint(grey->data[0], <=, 115);
    /* blur and sharpen (lightness 1 is not guaranteed: sum = 1 − α + α·ℓ) keep a flat image
     * flat */
    g_autoptr(S4gImage) flat = s4g_image_new(9, 9);
    memset(flat->data, 120, 9 * 9 * 3);
    s4g_augment_advanced_blur(flat, &r);
    for (int i = 0; i < 9 * 9 * 3; i++)
        g_assert_cmpint(flat->data[i], ==, 120);
    s4g_augment_sharpen(flat, &r);
    for (int i = 1; i < 9 * 9 * 3; i++)
        g_assert_cmpint(flat->data[i], ==, flat->data[0]);
    g_assert_cmpint(flat->data[0], <=, 120);
    g_assert_cmpint(flat->data[0], >=, 120 * 0.75);
    /* JPEG re-compression keeps the size and stays close at q 95 on a smooth image */
    g_autoptr(GError) e = NULL;
    g_autoptr(S4gImage) smooth = s4g_image_new(33, 17);
    for (int y = 0; y < 17; y++)
        for (int x = 0; x < 33; x++) {
            guint8 *p = smooth->data + (y * 33 + x) * 3;
            p[0] = (guint8)(x * 7), p[1] = (guint8)(y * 13), p[2] = (guint8)(100 + x + y);
        }
    S4gImage *q = s4g_image_copy(smooth);
    g_assert_true(s4g_augment_jpeg(&q, 95, S4G_JPEG_ORDER_RGB, &e));
    g_assert_cmpint(q->width, ==, 33);
    g_assert_cmpint(q->height, ==, 17);
    double mad = 0;
    for (int i = 0; i < 33 * 17 * 3; i++)
        mad += abs((int)q->data[i] - (int)smooth->data[i]);
    mad /= 33 * 17 * 3;
    g_test_message("JPEG q95 mean abs change on a gradient: %.2f", mad);
    g_assert_cmpfloat(mad, >, 0);
    g_assert_cmpfloat(mad, <, 4);
    s4g_image_free(q);

    /* --jpeg-order: REFERENCE encodes the RGB bytes as if they were BGR (albumentations hands
     * cv2 an RGB array): the same as the RGB path on the R/B-swapped image, swapped back;
     * it differs from RGB on a coloured image (4:2:0 thins another chroma) and not on grey */
    S4gImage *swapped = s4g_image_copy(smooth);
    for (int i = 0; i < 33 * 17; i++) {
        guint8 t = swapped->data[3 * i];
        swapped->data[3 * i] = swapped->data[3 * i + 2];
        swapped->data[3 * i + 2] = t;
    }
    S4gImage *ref = s4g_image_copy(smooth), *rgb = s4g_image_copy(smooth);
    g_assert_true(s4g_augment_jpeg(&ref, 92, S4G_JPEG_ORDER_REFERENCE, &e));
    g_assert_true(s4g_augment_jpeg(&rgb, 92, S4G_JPEG_ORDER_RGB, &e));
    g_assert_true(s4g_augment_jpeg(&swapped, 92, S4G_JPEG_ORDER_RGB, &e));
    int differ = 0;
    for (int i = 0; i < 33 * 17; i++) {
        g_assert_cmpint(ref->data[3 * i], ==, swapped->data[3 * i + 2]);
        g_assert_cmpint(ref->data[3 * i + 1], ==, swapped->data[3 * i + 1]);
        g_assert_cmpint(ref->data[3 * i + 2], ==, swapped->data[3 * i]);
        differ += memcmp(ref->data + 3 * i, rgb->data + 3 * i, 3) != 0;
    }
    g_test_message("JPEG q92: %d of %d pixels differ between reference and rgb order", differ,
                   33 * 17);
    g_assert_cmpint(differ, >, 0);
    s4g_image_free(ref);
    s4g_image_free(rgb);
    s4g_image_free(swapped);
    g_autoptr(S4gImage) grey_img = s4g_image_new(16, 16);
    for (int i = 0; i < 256; i++)
        memset(grey_img->data + 3 * i, (i * 37) & 255, 3);
    S4gImage *g1 = s4g_image_copy(grey_img), *g2 = s4g_image_copy(grey_img);
    g_assert_true(s4g_augment_jpeg(&g1, 95, S4G_JPEG_ORDER_REFERENCE, &e));
    g_assert_true(s4g_augment_jpeg(&g2, 95, S4G_JPEG_ORDER_RGB, &e));
    g_assert_cmpmem(g1->data, 256 * 3, g2->data, 256 * 3);
    s4g_image_free(g1);
    s4g_image_free(g2);
    S4gJpegOrder jo;
    g_assert_true(s4g_jpeg_order_parse("rgb", &jo) && jo == S4G_JPEG_ORDER_RGB);
    g_assert_true(s4g_jpeg_order_parse("reference", &jo) && jo == S4G_JPEG_ORDER_REFERENCE);
    g_assert_false(s4g_jpeg_order_parse("bgr", &jo));
}

int main(int argc, char **argv)
{
    fx_init(&argc, &argv);
    g_test_add_func("/augment/rot90", test_rot90);
    g_test_add_func("/augment/roll", test_roll);
    g_test_add_func("/augment/rot-roll-agree", test_rot_roll_agree);
    g_test_add_func("/augment/flip", test_flip);
    g_test_add_func("/augment/determinism", test_determinism);
    g_test_add_func("/augment/translate", test_translate);
    g_test_add_func("/augment/shift-stream", test_shift_stream);
    g_test_add_func("/augment/dropout", test_dropout);
    g_test_add_func("/augment/photometric", test_photometric);
    return g_test_run();
}
