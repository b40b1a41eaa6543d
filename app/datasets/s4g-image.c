/* s4g-image.c — decode with libvips, resize and normalise in C (so the arithmetic is ours and
 * exactly that of the reference's OpenCV resize). */
#include "s4g-image.h"
#include "s4g-file.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>
#include <vips/vips.h>

const float s4g_image_mean[3] = {0.485f, 0.456f, 0.406f};
const float s4g_image_std[3] = {0.229f, 0.224f, 0.225f};

static char *init_error;

static gpointer init_once(gpointer unused)
{
    if (VIPS_INIT("s4g")) {
        init_error = g_strdup(vips_error_buffer());
        vips_error_clear();
        return GINT_TO_POINTER(0);
    }
    /* The pipeline runs its own worker threads; libvips' per-image thread pool only adds
     * contention on a 2-core machine. */
    vips_concurrency_set(1);
    vips_cache_set_max(0);
    return GINT_TO_POINTER(1);
}

char *s4g_image_vips_error(void)
{
    char *m = vips_error_buffer_copy(); /* copies and clears */
    return g_strchomp(m);
}

gboolean s4g_image_init(GError **error)
{
    static GOnce once = G_ONCE_INIT;
    g_once(&once, init_once, NULL);
    if (!GPOINTER_TO_INT(once.retval)) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "libvips failed to start: %s",
                    init_error ? init_error : "unknown error");
        return FALSE;
    }
    return TRUE;
}

S4gImage *s4g_image_new(int width, int height)
{
    g_return_val_if_fail(width > 0 && height > 0, NULL);
    S4gImage *im = g_new0(S4gImage, 1);
    im->width = width;
    im->height = height;
    im->data = g_malloc0((gsize)width * height * 3);
    return im;
}

S4gImage *s4g_image_copy(const S4gImage *src)
{
    S4gImage *im = s4g_image_new(src->width, src->height);
    memcpy(im->data, src->data, (gsize)src->width * src->height * 3);
    return im;
}

void s4g_image_free(S4gImage *im)
{
    if (!im)
        return;
    g_free(im->data);
    g_free(im);
}

/* Turns any decoded VipsImage into packed 8-bit RGB, consuming `in`. */
static S4gImage *to_rgb8(VipsImage *in, const char *what, GError **error)
{
    VipsImage *cur = in, *next = NULL;
#define STEP(call)                                                                             \
    do {                                                                                       \
        if (call) {                                                                            \
            g_object_unref(cur);                                                               \
            goto fail;                                                                         \
        }                                                                                      \
        g_object_unref(cur);                                                                   \
        cur = next;                                                                            \
        next = NULL;                                                                           \
    } while (0)
    /* EXIF orientation 2..8 turns the pixels upright (as cv2.imread does); 1 or none is a
     * no-op */
    STEP(vips_autorot(cur, &next, NULL));
    if (vips_image_hasalpha(cur))
        STEP(vips_flatten(cur, &next, NULL));
    if (vips_image_get_interpretation(cur) != VIPS_INTERPRETATION_sRGB)
        STEP(vips_colourspace(cur, &next, VIPS_INTERPRETATION_sRGB, NULL));
    if (vips_image_get_bands(cur) > 3)
        STEP(vips_extract_band(cur, &next, 0, "n", 3, NULL));
    if (vips_image_get_format(cur) != VIPS_FORMAT_UCHAR)
        STEP(vips_cast_uchar(cur, &next, NULL));
#undef STEP
    if (vips_image_get_bands(cur) != 3) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                    "%s: cannot convert a %d-band image to RGB", what,
                    vips_image_get_bands(cur));
        g_object_unref(cur);
        return NULL;
    }
    size_t size = 0;
    void *mem = vips_image_write_to_memory(cur, &size);
    int w = vips_image_get_width(cur), h = vips_image_get_height(cur);
    g_object_unref(cur);
    if (!mem)
        goto fail;
    if (size != (size_t)w * h * 3) {
        g_free(mem);
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE, "%s: unexpected decoded size",
                    what);
        return NULL;
    }
    S4gImage *im = g_new0(S4gImage, 1);
    im->width = w;
    im->height = h;
    im->data = mem;
    return im;
fail:;
    g_autofree char *msg = s4g_image_vips_error();
    g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE, "%s: cannot decode image: %s", what,
                msg[0] ? msg : "libvips gave no reason");
    return NULL;
}

gboolean s4g_image_sniff_heif(const guint8 *b, gsize n)
{
    static const char brands[][5] = {"heic", "heix", "hevc", "hevx", "heim", "heis", "mif1",
                                     "msf1"};
    if (n < 12 || memcmp(b + 4, "ftyp", 4)) return FALSE;
    for (gsize i = 0; i < G_N_ELEMENTS(brands); i++)
        if (!memcmp(b + 8, brands[i], 4)) return TRUE;
    return FALSE;
}

/* The first bytes of the formats we accept (see s4g-dataset.c for why we check first). */
static gboolean sniff(const guint8 *b, gsize n)
{
    return s4g_image_sniff_heif(b, n) || (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) ||
           (n >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8)) ||
           (n >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4)) ||
           (n >= 4 && (!memcmp(b, "II*\0", 4) || !memcmp(b, "MM\0*", 4)));
}

/* The lazily opened image of an encoded buffer (its header read, nothing decoded), after the
 * format sniff.  A truncated or corrupt file is an error instead of a grey-padded image; mere
 * warnings (extraneous bytes, odd markers — common in scraped JPEGs, which cv2 decodes) are
 * not. */
static VipsImage *open_buffer(const void *data, gsize len, const char *what, GError **error)
{
    if (!s4g_image_init(error))
        return NULL;
    if (!sniff(data, len)) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                    "%s: not an image (expected JPEG, PNG, WebP, TIFF or HEIC)", what);
        return NULL;
    }
    VipsImage *in = vips_image_new_from_buffer(data, len, "", "fail_on", VIPS_FAIL_ON_TRUNCATED,
                                               NULL);
    if (!in) {
        g_autofree char *msg = s4g_image_vips_error();
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE, "%s: cannot decode image: %s",
                    what, msg[0] ? msg : "libvips gave no reason");
    }
    return in;
}

gboolean s4g_image_buffer_size(const void *data, gsize len, const char *what, int *width,
                               int *height, GError **error)
{
    VipsImage *in = open_buffer(data, len, what, error);
    if (!in)
        return FALSE;
    *width = vips_image_get_width(in);
    *height = vips_image_get_height(in);
    g_object_unref(in);
    return TRUE;
}

S4gImage *s4g_image_load_buffer(const void *data, gsize len, const char *what, GError **error)
{
    VipsImage *in = open_buffer(data, len, what, error);
    if (!in)
        return NULL;
    /* The header is read; nothing is decoded yet.  A decompression bomb stops here. */
    if (!s4g_image_check_pixels(vips_image_get_width(in), vips_image_get_height(in), what,
                                error)) {
        g_object_unref(in);
        return NULL;
    }
    return to_rgb8(in, what, error);
}

/* Largest encoded image file read (a 100-megapixel JPEG is ~50 MB). */
#define MAX_IMAGE_FILE_BYTES ((gsize)1 << 30)

/* The largest power-of-two shrink (at most `max`) that leaves a w×h image at least twice the
 * min_w×min_h target in both directions, so the bilinear resize after it still shrinks. */
static int shrink_factor(int w, int h, int min_w, int min_h, int max)
{
    int s = 1;
    while (s * 2 <= max && w / (s * 2) >= 2 * min_w && h / (s * 2) >= 2 * min_h) s *= 2;
    return s;
}

S4gImage *s4g_image_load_buffer_for_size(const void *data, gsize len, const char *what,
                                         int min_w, int min_h, GError **error)
{
    VipsImage *in = open_buffer(data, len, what, error);
    if (!in)
        return NULL;
    int w = vips_image_get_width(in), h = vips_image_get_height(in);
    if (!s4g_image_check_pixels(w, h, what, error)) {
        g_object_unref(in);
        return NULL;
    }
    /* the target is upright; the stored pixels of orientations 5..8 are transposed */
    if (vips_image_get_orientation(in) >= 5) {
        int t = min_w;
        min_w = min_h, min_h = t;
    }
    const char *loader = vips_foreign_find_load_buffer(data, len);
    VipsImage *small = NULL;
    if (loader && !strcmp(loader, "VipsForeignLoadJpegBuffer")) {
        /* libjpeg's DCT scaling: 1/2, 1/4 or 1/8 of the pixels decoded */
        int s = shrink_factor(w, h, min_w, min_h, 8);
        if (s > 1)
            small = vips_image_new_from_buffer(data, len, "", "shrink", s, "fail_on",
                                               VIPS_FAIL_ON_TRUNCATED, NULL);
    } else if (loader && !strcmp(loader, "VipsForeignLoadWebpBuffer")) {
        int s = shrink_factor(w, h, min_w, min_h, 1024);
        if (s > 1)
            small = vips_image_new_from_buffer(data, len, "", "scale", 1.0 / s, "fail_on",
                                               VIPS_FAIL_ON_TRUNCATED, NULL);
    } else if (loader && !strcmp(loader, "VipsForeignLoadHeifBuffer")) {
        /* a HEIC's stored thumbnail, when it is large enough (phones store ~320 px ones) */
        small = vips_image_new_from_buffer(data, len, "", "thumbnail", TRUE, "fail_on",
                                           VIPS_FAIL_ON_TRUNCATED, NULL);
        if (small && (vips_image_get_width(small) < 2 * min_w ||
                      vips_image_get_height(small) < 2 * min_h ||
                      vips_image_get_width(small) >= w))
            g_clear_object(&small);
    }
    vips_error_clear(); /* a failed shrunk open falls back to the whole decode */
    if (small) {
        g_object_unref(in);
        in = small;
    }
    return to_rgb8(in, what, error);
}

S4gImage *s4g_image_load_for_size(const char *path, int min_w, int min_h, GError **error)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    if (!s4g_file_read_regular(path, MAX_IMAGE_FILE_BYTES, &data, &len, error))
        return NULL;
    g_autofree char *shown = s4g_file_clip(path);
    return s4g_image_load_buffer_for_size(data, len, shown, min_w, min_h, error);
}


S4gImage *s4g_image_load(const char *path, GError **error)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    if (!s4g_file_read_regular(path, MAX_IMAGE_FILE_BYTES, &data, &len, error))
        return NULL;
    g_autofree char *shown = s4g_file_clip(path);
    return s4g_image_load_buffer(data, len, shown, error);
}

static guint64 max_pixels_override;

guint64 s4g_image_max_pixels(void)
{
    if (max_pixels_override)
        return max_pixels_override;
    const char *env = g_getenv("S4G_MAX_IMAGE_PIXELS");
    guint64 v = env ? g_ascii_strtoull(env, NULL, 10) : 0;
    return v ? v : S4G_IMAGE_MAX_PIXELS;
}

void s4g_image_set_max_pixels(guint64 max_pixels)
{
    max_pixels_override = max_pixels;
}

gboolean s4g_image_check_pixels(int width, int height, const char *what, GError **error)
{
    guint64 n = (guint64)MAX(width, 0) * (guint64)MAX(height, 0), max = s4g_image_max_pixels();
    if (width <= 0 || height <= 0 || n > max) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                    "%s: %d×%d pixels, more than the %" G_GUINT64_FORMAT
                    " decoded at most (S4G_MAX_IMAGE_PIXELS raises it)",
                    what, width, height, max);
        return FALSE;
    }
    return TRUE;
}

gboolean s4g_image_save(const S4gImage *im, const char *path, int jpeg_quality, GError **error)
{
    if (!s4g_image_init(error))
        return FALSE;
    VipsImage *v = vips_image_new_from_memory(im->data, (size_t)im->width * im->height * 3,
                                              im->width, im->height, 3, VIPS_FORMAT_UCHAR);
    /* written under a temporary name and renamed: a killed process never leaves a torn image
     * under the final name (leftovers are swept when the project opens, s4g-store-locks.h) */
    g_autofree char *tmp = g_strdup_printf("%s.tmp-%ld", path, (long)getpid());
    int r = -1;
    if (v) {
        if (g_str_has_suffix(path, ".png"))
            r = vips_pngsave(v, tmp, "strip", TRUE, NULL);
        else
            r = vips_jpegsave(v, tmp, "Q", jpeg_quality, "strip", TRUE, NULL);
        g_object_unref(v);
    }
    if (r) {
        g_autofree char *msg = s4g_image_vips_error();
        g_unlink(tmp);
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "%s: cannot write image: %s", path,
                    msg);
        return FALSE;
    }
    if (g_rename(tmp, path) != 0) {
        int e = errno;
        g_unlink(tmp);
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "%s: cannot write image: %s", path,
                    g_strerror(e));
        return FALSE;
    }
    return TRUE;
}

/* Per output coordinate: the first source sample and its two 8-bit weights (sum 256), as
 * OpenCV's interpolationLinear<uchar>::getCoeffs computes them with ufixedpoint16. */
static void linear_coeffs(int src, int dst, int *ofs, guint16 *w)
{
    double scale = (double)src / (double)dst;
    for (int d = 0; d < dst; d++) {
        double f = (d + 0.5) * scale - 0.5;
        int i = (int)floor(f);
        if (i < 0) {
            ofs[d] = 0;
            w[2 * d] = 256, w[2 * d + 1] = 0;
        } else if (i >= src - 1) {
            ofs[d] = src - 1;
            w[2 * d] = 256, w[2 * d + 1] = 0;
        } else {
            /* cvRound: round half to even */
            guint16 b = (guint16)nearbyint((f - i) * 256.0);
            ofs[d] = i;
            w[2 * d] = (guint16)(256 - b), w[2 * d + 1] = b;
        }
    }
}

S4gImage *s4g_image_resize(const S4gImage *src, int width, int height)
{
    g_return_val_if_fail(src && width > 0 && height > 0, NULL);
    if (width == src->width && height == src->height)
        return s4g_image_copy(src);
    S4gImage *dst = s4g_image_new(width, height);
    int sw = src->width, sh = src->height;
    g_autofree int *xo = g_new(int, width);
    g_autofree guint16 *xw = g_new(guint16, 2 * width);
    g_autofree int *yo = g_new(int, height);
    g_autofree guint16 *yw = g_new(guint16, 2 * height);
    linear_coeffs(sw, width, xo, xw);
    linear_coeffs(sh, height, yo, yw);
    /* Horizontal pass of each source row a destination row uses, done once per row: values
     * carry 8 fraction bits and are exact in 16 bits (255·256 max). */
    g_autofree guint16 *hrows = g_new(guint16, (gsize)sh * width * 3);
    g_autofree guint8 *done = g_new0(guint8, sh);
    for (int y = 0; y < height; y++) {
        int need[2] = {yo[y], MIN(yo[y] + 1, sh - 1)};
        for (int r = 0; r < 2; r++) {
            if (done[need[r]])
                continue;
            const guint8 *s = src->data + (gsize)need[r] * sw * 3;
            guint16 *o = hrows + (gsize)need[r] * width * 3;
            for (int x = 0; x < width; x++) {
                const guint8 *a = s + (gsize)xo[x] * 3;
                const guint8 *b = s + (gsize)MIN(xo[x] + 1, sw - 1) * 3;
                guint16 w0 = xw[2 * x], w1 = xw[2 * x + 1];
                for (int c = 0; c < 3; c++)
                    o[x * 3 + c] = (guint16)(a[c] * w0 + b[c] * w1);
            }
            done[need[r]] = 1;
        }
        const guint16 *row0 = hrows + (gsize)need[0] * width * 3;
        const guint16 *row1 = hrows + (gsize)need[1] * width * 3;
        guint32 w0 = yw[2 * y], w1 = yw[2 * y + 1];
        guint8 *o = dst->data + (gsize)y * width * 3;
        for (int i = 0; i < width * 3; i++) {
            guint32 v = (guint32)row0[i] * w0 + (guint32)row1[i] * w1;
            v = (v + (1u << 15)) >> 16;
            o[i] = (guint8)MIN(v, 255u);
        }
    }
    return dst;
}

void s4g_image_normalize(const S4gImage *im, float *out, gboolean nchw)
{
    float scale[3], shift[3];
    for (int c = 0; c < 3; c++) {
        scale[c] = 1.0f / (255.0f * s4g_image_std[c]);
        shift[c] = 255.0f * s4g_image_mean[c];
    }
    gsize n = (gsize)im->width * im->height;
    const guint8 *p = im->data;
    if (nchw) {
        for (gsize i = 0; i < n; i++)
            for (int c = 0; c < 3; c++)
                out[c * n + i] = ((float)p[i * 3 + c] - shift[c]) * scale[c];
    } else {
        for (gsize i = 0; i < n * 3; i++)
            out[i] = ((float)p[i] - shift[i % 3]) * scale[i % 3];
    }
}

gboolean s4g_image_load_tensor(const char *path, S4gSize size, gboolean nchw, float *out,
                               GError **error)
{
    /* a photo much larger than the model's input is shrunk while it is decoded */
    g_autoptr(S4gImage) im = s4g_image_load_for_size(path, size.w, size.h, error);
    if (!im)
        return FALSE;
    g_autoptr(S4gImage) r = s4g_image_resize(im, size.w, size.h);
    s4g_image_normalize(r, out, nchw);
    return TRUE;
}
