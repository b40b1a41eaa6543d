/* s4g-image.h — the image pipeline: decode (libvips: JPEG/PNG/WebP/TIFF) to 8-bit RGB HWC,
 * bilinear resize bit-exact to OpenCV's INTER_LINEAR_EXACT (reference §5.2 B: half-pixel
 * centres, no antialias, 8-bit fixed-point weights), ImageNet normalisation to float NHWC
 * (the engine's layout) or NCHW. */
#pragma once

#include <glib.h>

#include "s4g-geo.h"
#include "s4g-size.h"

G_BEGIN_DECLS

/* 8-bit RGB, rows of width*3 bytes, no padding. */
typedef struct {
    int width, height;
    guint8 *data;
} S4gImage;

/* libvips' pending error text (trailing newline removed), newly allocated; clears it. */
char *s4g_image_vips_error(void);

/* Starts libvips once per process (thread-safe); later calls return its result. */
gboolean s4g_image_init(GError **error);

S4gImage *s4g_image_new(int width, int height); /* zero-filled */
S4gImage *s4g_image_copy(const S4gImage *src);
void s4g_image_free(S4gImage *im);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(S4gImage, s4g_image_free)

/* Pixel budget of one decode: images whose header declares more pixels are refused before
 * any decoding (decompression bombs: a 48 KB PNG can declare 20000×20000).  The default
 * (100 megapixels, 300 MB decoded) is raised with the environment variable
 * S4G_MAX_IMAGE_PIXELS or s4g_image_set_max_pixels() (0 restores the default). */
#define S4G_IMAGE_MAX_PIXELS ((guint64)100000000)
guint64 s4g_image_max_pixels(void);
void s4g_image_set_max_pixels(guint64 max_pixels);
/* FALSE (error naming `what` and the size) when width×height is empty or over the budget. */
gboolean s4g_image_check_pixels(int width, int height, const char *what, GError **error);

/* Whether the first bytes are an ISO-BMFF "ftyp" box of a HEIF image (HEIC from phones:
 * brands heic, heix, hevc, hevx, heim, heis, mif1, msf1), decoded through libvips' libheif. */
gboolean s4g_image_sniff_heif(const guint8 *b, gsize n);

/* Decodes a file / an encoded buffer fully into 8-bit sRGB (EXIF orientation applied, grey
 * expanded, alpha flattened onto black, 16-bit scaled down), after checking the pixel budget
 * from the header.  A file must be a regular file.  Errors name the file (or `what`). */
S4gImage *s4g_image_load(const char *path, GError **error);
S4gImage *s4g_image_load_buffer(const void *data, gsize len, const char *what, GError **error);
/* The same, shrunk while decoding where the format allows (JPEG DCT scaling by 2, 4 or 8;
 * WebP scaled decode; a HEIC's stored thumbnail) to a power-of-two fraction that is still at
 * least twice min_w×min_h (upright, after the EXIF orientation) in both directions, so that
 * a bilinear resize to that size afterwards differs little from one of the whole decode
 * (tests/geo/test-image.c measures it) at a fraction of the memory and time. */
S4gImage *s4g_image_load_for_size(const char *path, int min_w, int min_h, GError **error);
S4gImage *s4g_image_load_buffer_for_size(const void *data, gsize len, const char *what,
                                         int min_w, int min_h, GError **error);
/* The size an encoded buffer declares in its header (nothing decoded). */
gboolean s4g_image_buffer_size(const void *data, gsize len, const char *what, int *width,
                               int *height, GError **error);
/* Encodes as PNG or JPEG (quality 1..100) through libvips. */
gboolean s4g_image_save(const S4gImage *im, const char *path, int jpeg_quality, GError **error);

/* Resize like cv2.resize(..., INTER_LINEAR_EXACT): source coordinate
 * (d + 0.5)·src/dst − 0.5, floor and fraction; fraction rounded to 8 bits (1/256); samples
 * outside the image clamp to the edge; horizontal pass exact in 16 bits, vertical pass in 32
 * bits, result rounded half up. */
S4gImage *s4g_image_resize(const S4gImage *src, int width, int height);

/* ImageNet statistics of reference §5.2 F. */
extern const float s4g_image_mean[3];
extern const float s4g_image_std[3];

/* (v − 255·mean)·1/(255·std) for every pixel; `out` holds width·height·3 floats, written
 * HWC (nchw FALSE) or CHW (nchw TRUE). */
void s4g_image_normalize(const S4gImage *im, float *out, gboolean nchw);

/* Decode (shrunk on load, s4g_image_load_for_size) + resize to `size` + normalise in one call (evaluation / prediction pre-processing);
 * `out` holds size.h·size.w·3 floats. */
gboolean s4g_image_load_tensor(const char *path, S4gSize size, gboolean nchw, float *out,
                               GError **error);

G_END_DECLS
