/* s4g-augment.c — reference §5 augmentations on 8-bit RGB.  Arithmetic follows OpenCV's uint8
 * paths where the reference relies on them (gray weights, HSV tables, saturating rounding). */
#include "s4g-augment.h"

#include <math.h>
#include <string.h>
#include <vips/vips.h>

/* ---- PRNG ---------------------------------------------------------------------------- */

void s4g_aug_rng_init(S4gAugRng *r, guint64 seed, guint64 stream)
{
    s4g_rng_init(r, seed ^ (stream * 0xD1342543DE82EF95ull + 0x2545F4914F6CDD1Dull));
}

guint64 s4g_aug_rng_next(S4gAugRng *r)
{
    return s4g_rng_next(r);
}

double s4g_aug_rng_uniform(S4gAugRng *r, double lo, double hi)
{
    return s4g_rng_range(r, lo, hi);
}

int s4g_aug_rng_int(S4gAugRng *r, int lo, int hi)
{
    guint64 span = (guint64)(hi - lo) + 1;
    /* rejection keeps it unbiased */
    guint64 lim = G_MAXUINT64 - G_MAXUINT64 % span, v;
    do
        v = s4g_rng_next(r);
    while (v >= lim);
    return lo + (int)(v % span);
}

/* ---- geometry ------------------------------------------------------------------------ */

void s4g_augment_flip(S4gImage *im)
{
    for (int y = 0; y < im->height; y++) {
        guint8 *row = im->data + (gsize)y * im->width * 3;
        for (int a = 0, b = im->width - 1; a < b; a++, b--)
            for (int c = 0; c < 3; c++) {
                guint8 t = row[a * 3 + c];
                row[a * 3 + c] = row[b * 3 + c];
                row[b * 3 + c] = t;
            }
    }
}

S4gImage *s4g_augment_rot90(const S4gImage *im, int k)
{
    k = ((k % 4) + 4) % 4;
    int w = im->width, h = im->height;
    S4gImage *out = (k % 2) ? s4g_image_new(h, w) : s4g_image_new(w, h);
    int ow = out->width;
    for (int i = 0; i < out->height; i++)
        for (int j = 0; j < ow; j++) {
            int sy, sx;
            switch (k) {
            case 0: sy = i, sx = j; break;
            case 1: sy = j, sx = w - 1 - i; break;          /* out[i][j] = in[j][W−1−i] */
            case 2: sy = h - 1 - i, sx = w - 1 - j; break;
            default: sy = h - 1 - j, sx = i; break;          /* out[i][j] = in[H−1−j][i] */
            }
            memcpy(out->data + ((gsize)i * ow + j) * 3, im->data + ((gsize)sy * w + sx) * 3, 3);
        }
    return out;
}

void s4g_augment_roll(S4gImage *im, int k)
{
    int w = im->width;
    /* Python's (−W)//4 floors */
    int q = -((w + 3) / 4);
    int shift = ((q * k) % w + w) % w;
    if (!shift)
        return;
    g_autofree guint8 *row = g_malloc((gsize)w * 3);
    for (int y = 0; y < im->height; y++) {
        guint8 *r = im->data + (gsize)y * w * 3;
        memcpy(row, r, (gsize)w * 3);
        for (int j = 0; j < w; j++) /* out[j] = in[(j − shift) mod W] */
            memcpy(r + j * 3, row + ((j - shift + w) % w) * 3, 3);
    }
}

/* ---- photometric ---------------------------------------------------------------------
 * Checked against cv2 4.6 + the albumentations 1.3.1 formulas (python3-opencv, outside the
 * tests) on a 53×37 noise image: brightness and contrast equal; saturation and sharpen off
 * by one on < 0.3% of values; hue off by one on ~14% — cv2 itself differs by that much
 * between the same pixels laid out as 53×37 or as one row (its vector path truncates, its
 * scalar tail rounds); we follow the vector path. */

gboolean s4g_jpeg_order_parse(const char *s, S4gJpegOrder *out)
{
    if (!g_strcmp0(s, "reference"))
        *out = S4G_JPEG_ORDER_REFERENCE;
    else if (!g_strcmp0(s, "rgb"))
        *out = S4G_JPEG_ORDER_RGB;
    else
        return FALSE;
    return TRUE;
}

const char *s4g_jpeg_order_name(S4gJpegOrder o)
{
    return o == S4G_JPEG_ORDER_RGB ? "rgb" : "reference";
}

static void swap_rb(S4gImage *im)
{
    gsize n = (gsize)im->width * im->height;
    for (gsize i = 0; i < n; i++) {
        guint8 t = im->data[3 * i];
        im->data[3 * i] = im->data[3 * i + 2];
        im->data[3 * i + 2] = t;
    }
}

gboolean s4g_augment_jpeg(S4gImage **im, int quality, S4gJpegOrder order, GError **error)
{
    if (!s4g_image_init(error))
        return FALSE;
    S4gImage *src = *im;
    /* REFERENCE: the bytes go to the encoder with R and B exchanged, as cv2 reads the RGB
     * array it is given as BGR, and come back exchanged again (cv2.imdecode returns the
     * same order) */
    if (order == S4G_JPEG_ORDER_REFERENCE)
        swap_rb(src);
    VipsImage *v = vips_image_new_from_memory(src->data, (size_t)src->width * src->height * 3,
                                              src->width, src->height, 3, VIPS_FORMAT_UCHAR);
    void *buf = NULL;
    size_t len = 0;
    /* 4:2:0 chroma at every quality, as cv2.imencode does (libvips alone would stop
     * subsampling at Q >= 90, which is the whole range used here).  Codec and settings are
     * cv2's; byte equality with cv2.imencode + imdecode holds for the bytes cv2 is handed
     * (checked at Q 90, 95, 100), and the reference hands it RGB as if it were BGR: that is
     * the channel order above, not a property of the codec. */
    int rc = v ? vips_jpegsave_buffer(v, &buf, &len, "Q", quality, "strip", TRUE,
                                      "subsample_mode", VIPS_FOREIGN_SUBSAMPLE_ON, NULL)
               : -1;
    if (v)
        g_object_unref(v);
    if (order == S4G_JPEG_ORDER_REFERENCE)
        swap_rb(src); /* the caller's image is unchanged on failure */
    if (rc) {
        g_autofree char *msg = s4g_image_vips_error();
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_COMPUTE, "JPEG re-compression: %s", msg);
        return FALSE;
    }
    S4gImage *out = s4g_image_load_buffer(buf, len, "JPEG re-compression", error);
    g_free(buf);
    if (!out)
        return FALSE;
    if (order == S4G_JPEG_ORDER_REFERENCE)
        swap_rb(out);
    s4g_image_free(src);
    *im = out;
    return TRUE;
}

static inline guint8 sat_u8(double v)
{
    return v <= 0 ? 0 : v >= 255 ? 255 : (guint8)nearbyint(v);
}

/* OpenCV RGB2GRAY for uint8: fixed-point BT.601 weights. */
static inline int gray_of(const guint8 *p)
{
    return (p[0] * 4899 + p[1] * 9617 + p[2] * 1868 + (1 << 13)) >> 14;
}

static void apply_lut(S4gImage *im, const guint8 *lut)
{
    gsize n = (gsize)im->width * im->height * 3;
    for (gsize i = 0; i < n; i++)
        im->data[i] = lut[im->data[i]];
}

static void jitter_brightness(S4gImage *im, double f)
{
    guint8 lut[256];
    for (int v = 0; v < 256; v++) /* np.clip(v·f, 0, 255).astype(uint8) truncates */
        lut[v] = (guint8)CLAMP(v * f, 0.0, 255.0);
    apply_lut(im, lut);
}

static void jitter_contrast(S4gImage *im, double f)
{
    gsize n = (gsize)im->width * im->height;
    double sum = 0;
    for (gsize i = 0; i < n; i++)
        sum += gray_of(im->data + i * 3);
    double mean = sum / (double)n;
    guint8 lut[256];
    for (int v = 0; v < 256; v++)
        lut[v] = (guint8)CLAMP(v * f + mean * (1 - f), 0.0, 255.0);
    apply_lut(im, lut);
}

static void jitter_saturation(S4gImage *im, double f)
{
    /* cv2.addWeighted(img, f, gray, 1−f, 0): uint8 path computes in float */
    float a = (float)f, b = (float)(1 - f);
    gsize n = (gsize)im->width * im->height;
    for (gsize i = 0; i < n; i++) {
        guint8 *p = im->data + i * 3;
        int g = gray_of(p);
        for (int c = 0; c < 3; c++)
            p[c] = sat_u8(p[c] * a + g * b);
    }
}

/* OpenCV RGB2HSV_b (H in [0,180)) and HSV2RGB_b, integer tables as in color_hsv.cpp. */
static void rgb_to_hsv(const guint8 *p, int *h, int *s, int *v)
{
    const int shift = 12;
    int r = p[0], g = p[1], b = p[2];
    int vmax = MAX(r, MAX(g, b)), vmin = MIN(r, MIN(g, b)), diff = vmax - vmin;
    int sdiv = vmax ? (int)nearbyint((255 << shift) / (double)vmax) : 0;
    int hdiv = diff ? (int)nearbyint((180 << shift) / (6.0 * diff)) : 0;
    int hh;
    if (vmax == r)
        hh = g - b;
    else if (vmax == g)
        hh = b - r + 2 * diff;
    else
        hh = r - g + 4 * diff;
    hh = (hh * hdiv + (1 << (shift - 1))) >> shift;
    if (hh < 0)
        hh += 180;
    *h = hh;
    *s = (diff * sdiv + (1 << (shift - 1))) >> shift;
    *v = vmax;
}

/* OpenCV 4.6's HSV2RGB for uint8 (its SIMD path): float math, the result ×255 truncated.
 * Measured against cv2 over 2.4 M HSV triples: equal but for 671 values off by one. */
static void hsv_to_rgb(int h8, int s8, int v8, guint8 *p)
{
    static const int sector_data[6][3] = {{1, 3, 0}, {1, 0, 2}, {3, 0, 1},
                                          {0, 2, 1}, {0, 1, 3}, {2, 1, 0}};
    float h = (float)h8 * (6.0f / 180.0f), s = (float)s8 * (1.0f / 255.0f),
          v = (float)v8 * (1.0f / 255.0f);
    float pre = truncf(h);
    h -= pre;
    float tab[4] = {v, v * (1.f - s), v * (1.f - s * h), v * (1.f - s * (1.f - h))};
    int sector = (int)(pre - truncf(pre * (1.0f / 6.0f)) * 6.0f);
    if ((unsigned)sector >= 6u)
        sector = 0;
    float b = tab[sector_data[sector][0]], g = tab[sector_data[sector][1]],
          r = tab[sector_data[sector][2]];
    p[0] = (guint8)CLAMP(truncf(r * 255.f), 0.f, 255.f);
    p[1] = (guint8)CLAMP(truncf(g * 255.f), 0.f, 255.f);
    p[2] = (guint8)CLAMP(truncf(b * 255.f), 0.f, 255.f);
}

static void jitter_hue(S4gImage *im, double f)
{
    guint8 lut[256];
    for (int v = 0; v < 256; v++) /* np.mod(v + 180·f, 180).astype(uint8) */
        lut[v] = (guint8)fmod(fmod(v + 180.0 * f, 180.0) + 180.0, 180.0);
    gsize n = (gsize)im->width * im->height;
    for (gsize i = 0; i < n; i++) {
        int h, s, v;
        rgb_to_hsv(im->data + i * 3, &h, &s, &v);
        hsv_to_rgb(lut[h], s, v, im->data + i * 3);
    }
}

void s4g_augment_color_jitter(S4gImage *im, S4gAugRng *r, double brightness, double contrast,
                              double saturation, double hue)
{
    double fb = s4g_aug_rng_uniform(r, 1 - brightness, 1 + brightness);
    double fc = s4g_aug_rng_uniform(r, 1 - contrast, 1 + contrast);
    double fs = s4g_aug_rng_uniform(r, 1 - saturation, 1 + saturation);
    double fh = s4g_aug_rng_uniform(r, -hue, hue);
    int order[4] = {0, 1, 2, 3};
    for (int i = 3; i > 0; i--) { /* Fisher–Yates */
        int j = s4g_aug_rng_int(r, 0, i), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    /* albumentations returns the image untouched for neutral factors */
    for (int i = 0; i < 4; i++)
        switch (order[i]) {
        case 0: if (fb != 1) jitter_brightness(im, fb); break;
        case 1: if (fc != 1) jitter_contrast(im, fc); break;
        case 2: if (fs != 1) jitter_saturation(im, fs); break;
        default: if (fh != 0) jitter_hue(im, fh); break;
        }
}

/* cv2.filter2D on uint8 with BORDER_REFLECT_101, kernel centred, result rounded and
 * saturated. */
static void filter2d(S4gImage *im, const float *k, int ks)
{
    int w = im->width, h = im->height, a = ks / 2;
    g_autofree guint8 *src = g_memdup2(im->data, (gsize)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            float acc[3] = {0, 0, 0};
            for (int i = 0; i < ks; i++) {
                int yy = y + i - a;
                if (h == 1)
                    yy = 0;
                else {
                    while (yy < 0 || yy >= h)
                        yy = yy < 0 ? -yy : 2 * (h - 1) - yy;
                }
                for (int j = 0; j < ks; j++) {
                    int xx = x + j - a;
                    if (w == 1)
                        xx = 0;
                    else {
                        while (xx < 0 || xx >= w)
                            xx = xx < 0 ? -xx : 2 * (w - 1) - xx;
                    }
                    const guint8 *p = src + ((gsize)yy * w + xx) * 3;
                    float kv = k[i * ks + j];
                    acc[0] += kv * p[0], acc[1] += kv * p[1], acc[2] += kv * p[2];
                }
            }
            guint8 *o = im->data + ((gsize)y * w + x) * 3;
            for (int c = 0; c < 3; c++)
                o[c] = sat_u8(acc[c]);
        }
}

void s4g_augment_advanced_blur(S4gImage *im, S4gAugRng *r)
{
    int ks = 3 + 2 * s4g_aug_rng_int(r, 0, 2); /* randrange(3, 8, 2) */
    double sx = s4g_aug_rng_uniform(r, 0.2, 1.0), sy = s4g_aug_rng_uniform(r, 0.2, 1.0);
    double ang = s4g_aug_rng_uniform(r, -90, 90) * G_PI / 180.0;
    double beta = s4g_aug_rng_uniform(r, 0, 1) < 0.5 ? s4g_aug_rng_uniform(r, 0.5, 1.0)
                                                     : s4g_aug_rng_uniform(r, 1.0, 8.0);
    /* Σ = U·diag(sx², sy²)·Uᵀ; its inverse = U·diag(1/sx², 1/sy²)·Uᵀ */
    double c = cos(ang), s = sin(ang), ix = 1 / (sx * sx), iy = 1 / (sy * sy);
    double i00 = c * c * ix + s * s * iy, i11 = s * s * ix + c * c * iy, i01 = c * s * (ix - iy);
    float k[49];
    double sum = 0;
    for (int i = 0; i < ks; i++)
        for (int j = 0; j < ks; j++) {
            double gx = j - ks / 2, gy = i - ks / 2; /* meshgrid: x along columns */
            double q = gx * gx * i00 + 2 * gx * gy * i01 + gy * gy * i11;
            double v = exp(-0.5 * pow(q, beta)) * s4g_aug_rng_uniform(r, 0.9, 1.1);
            k[i * ks + j] = (float)v;
            sum += v;
        }
    for (int i = 0; i < ks * ks; i++)
        k[i] = (float)(k[i] / sum);
    filter2d(im, k, ks);
}

void s4g_augment_sharpen(S4gImage *im, S4gAugRng *r)
{
    double alpha = s4g_aug_rng_uniform(r, 0.2, 0.5), light = s4g_aug_rng_uniform(r, 0.5, 1.0);
    float k[9];
    for (int i = 0; i < 9; i++)
        k[i] = (float)(alpha * -1.0);
    k[4] = (float)((1 - alpha) + alpha * (8 + light));
    filter2d(im, k, 3);
}

static void fill_rect(S4gImage *im, int x0, int y0, int w, int h)
{
    int x1 = MIN(im->width, x0 + w), y1 = MIN(im->height, y0 + h);
    for (int y = MAX(0, y0); y < y1; y++)
        if (x1 > x0)
            memset(im->data + ((gsize)y * im->width + MAX(0, x0)) * 3, 0,
                   (gsize)(x1 - MAX(0, x0)) * 3);
}

void s4g_augment_grid_dropout(S4gImage *im, double ratio)
{
    int W = im->width, H = im->height;
    int uw = MAX(2, W / 10), uh = MAX(MIN(uw, H), 2);
    int hw = CLAMP((int)(uw * ratio), 1, uw - 1), hh = CLAMP((int)(uh * ratio), 1, uh - 1);
    for (int i = 0; i <= W / uw; i++)
        for (int j = 0; j <= H / uh; j++)
            fill_rect(im, uw * i, uh * j, hw, hh);
}

void s4g_augment_coarse_dropout(S4gImage *im, S4gAugRng *r, int min_holes, int max_holes,
                                int min_size, int max_size)
{
    int n = s4g_aug_rng_int(r, min_holes, max_holes);
    for (int i = 0; i < n; i++) {
        int h = MIN(s4g_aug_rng_int(r, min_size, max_size), im->height);
        int w = MIN(s4g_aug_rng_int(r, min_size, max_size), im->width);
        int y = s4g_aug_rng_int(r, 0, im->height - h);
        int x = s4g_aug_rng_int(r, 0, im->width - w);
        fill_rect(im, x, y, w, h);
    }
}

/* ---- pipelines ----------------------------------------------------------------------- */

void s4g_augment_translate(S4gImage *im, int dx, int dy)
{
    if (!dx && !dy) return;
    int w = im->width, h = im->height;
    g_autofree uint8_t *src = g_memdup2(im->data, (gsize)w * h * 3);
    for (int y = 0; y < h; y++) {
        int sy = CLAMP(y - dy, 0, h - 1);
        for (int x = 0; x < w; x++) {
            int sx = CLAMP(x - dx, 0, w - 1);
            memcpy(im->data + ((gsize)y * w + x) * 3, src + ((gsize)sy * w + sx) * 3, 3);
        }
    }
}

S4gAugmentView s4g_augment_view_spec(S4gSize size, gboolean panorama)
{
    /* hole sizes from the view's height (for the satellite H = W = 384 → 38/76) */
    S4gAugmentView v = {size.w, size.h, panorama ? 0.5 : 0.4, MAX(1, (int)(0.1 * size.h)),
                        MAX(1, (int)(0.2 * size.h))};
    return v;
}

S4gImage *s4g_augment_view_train(const S4gImage *raw, const S4gAugmentView *v, S4gAugRng *r,
                                 GError **error)
{
    S4gImage *im = s4g_image_copy(raw);
    if (s4g_aug_rng_uniform(r, 0, 1) < 0.5) {
        int q = s4g_aug_rng_int(r, 90, 100);
        if (!s4g_augment_jpeg(&im, q, v->jpeg_order, error)) {
            s4g_image_free(im);
            return NULL;
        }
    }
    S4gImage *sized = s4g_image_resize(im, v->width, v->height);
    s4g_image_free(im);
    im = sized;
    if (s4g_aug_rng_uniform(r, 0, 1) < 0.5)
        s4g_augment_color_jitter(im, r, 0.15, 0.15, 0.15, 0.15);
    if (s4g_aug_rng_uniform(r, 0, 1) < 0.3) {
        if (s4g_aug_rng_int(r, 0, 1) == 0)
            s4g_augment_advanced_blur(im, r);
        else
            s4g_augment_sharpen(im, r);
    }
    if (s4g_aug_rng_uniform(r, 0, 1) < 0.3) {
        if (s4g_aug_rng_int(r, 0, 1) == 0)
            s4g_augment_grid_dropout(im, v->grid_ratio);
        else
            s4g_augment_coarse_dropout(im, r, 10, 25, v->hole_min, v->hole_max);
    }
    return im;
}

gboolean s4g_augment_pair(S4gImage **ground, S4gImage **satellite, const S4gAugmentView *gv,
                          const S4gAugmentView *sv, S4gAugmentMode mode, S4gAugRng *r,
                          GError **error)
{
    if (s4g_aug_rng_uniform(r, 0, 1) < 0.5) {
        s4g_augment_flip(*ground);
        s4g_augment_flip(*satellite);
    }
    S4gImage *g = s4g_augment_view_train(*ground, gv, r, error);
    if (!g)
        return FALSE;
    S4gImage *s = s4g_augment_view_train(*satellite, sv, r, error);
    if (!s) {
        s4g_image_free(g);
        return FALSE;
    }
    s4g_image_free(*ground);
    s4g_image_free(*satellite);
    if (sv->shift > 0) { /* drawn only when asked for: the reference's stream is unchanged */
        int dx = s4g_aug_rng_int(r, -sv->shift, sv->shift);
        int dy = s4g_aug_rng_int(r, -sv->shift, sv->shift);
        s4g_augment_translate(s, dx, dy);
    }
    if (mode == S4G_AUGMENT_PANORAMA) {
        if (s4g_aug_rng_uniform(r, 0, 1) < 0.75) {
            int k = s4g_aug_rng_int(r, 1, 3);
            S4gImage *rs = s4g_augment_rot90(s, k);
            s4g_image_free(s);
            s = rs;
            s4g_augment_roll(g, k);
        }
    } else {
        int k = s4g_aug_rng_int(r, 0, 3);
        S4gImage *rs = s4g_augment_rot90(s, k);
        s4g_image_free(s);
        s = rs;
    }
    *ground = g;
    *satellite = s;
    return TRUE;
}
