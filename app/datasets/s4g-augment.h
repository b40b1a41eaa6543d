/* s4g-augment.h — the training augmentations of reference §5, on 8-bit RGB images, seeded
 * and reproducible (same seed → same bytes).
 *
 * Pair level (§5.1): joint horizontal flip (p 0.5); after the per-view transforms, with
 * p 0.75, r ∈ {1,2,3}: the satellite is rotated r·90° counter-clockwise (torch.rot90 k=r,
 * out[i][j] = in[j][W−1−i] for r=1) and the panorama is rolled by (−W)//4·r columns
 * (torch.roll: out[j] = in[(j − shift) mod W]).  University-1652 (§5.4): the satellite gets
 * an independent rot90 with k uniform in 0..3, p 1, no roll.
 * Per view (§5.2): JPEG re-compression q ∈ [90,100] p 0.5 → resize (INTER_LINEAR_EXACT) →
 * colour jitter 0.15 p 0.5 → one of AdvancedBlur/Sharpen p 0.3 → one of GridDropout/
 * CoarseDropout p 0.3.  Normalisation is s4g_image_normalize.  Geometric steps run on the
 * 8-bit image instead of the normalised tensor: per-pixel normalisation commutes with them. */
#pragma once

#include "s4g-image.h"
#include "s4g-rng.h"

G_BEGIN_DECLS

/* The project's PRNG (s4g-rng.h), seeded from (seed, stream): streams make per-sample
 * generators independent of thread scheduling.  The augment stream seeding (seed mixed with
 * the stream without hashing it) predates s4g_rng_derive and is kept so that a seed gives
 * the same augmentations as before. */
typedef S4gRng S4gAugRng;

void s4g_aug_rng_init(S4gAugRng *r, guint64 seed, guint64 stream);
guint64 s4g_aug_rng_next(S4gAugRng *r);
double s4g_aug_rng_uniform(S4gAugRng *r, double lo, double hi); /* [lo, hi) */
int s4g_aug_rng_int(S4gAugRng *r, int lo, int hi);               /* [lo, hi] inclusive */

/* Geometry. */
void s4g_augment_flip(S4gImage *im); /* horizontal, in place (cv2.flip(., 1)) */
/* Content moves dx right and dy down; uncovered pixels repeat the nearest edge. */
void s4g_augment_translate(S4gImage *im, int dx, int dy);
S4gImage *s4g_augment_rot90(const S4gImage *im, int k); /* k·90° counter-clockwise */
void s4g_augment_roll(S4gImage *im, int k);              /* shift (−W)//4·k columns */

/* Photometric and dropout steps (in place unless noted). */
/* Channel order of the JPEG re-compression.  The reference (albumentations ImageCompression)
 * hands its RGB array to cv2.imencode, which takes it for BGR: the colour transform weighs R
 * and B swapped and 4:2:0 subsamples the other chroma.  REFERENCE reproduces that (R and B
 * swapped around the encode/decode); RGB encodes the true colours. */
typedef enum {
    S4G_JPEG_ORDER_REFERENCE = 0,
    S4G_JPEG_ORDER_RGB = 1,
} S4gJpegOrder;

/* "reference" / "rgb"; FALSE for anything else. */
gboolean s4g_jpeg_order_parse(const char *s, S4gJpegOrder *out);
const char *s4g_jpeg_order_name(S4gJpegOrder o);
/* Re-encodes as JPEG at `quality` and decodes again (libvips jpegsave_buffer/jpegload_buffer). */
gboolean s4g_augment_jpeg(S4gImage **im, int quality, S4gJpegOrder order, GError **error);
/* Brightness, contrast, saturation factors ~ U[1−x, 1+x], hue ~ U[−h, h], applied in a random
 * order (albumentations ColorJitter uint8 semantics). */
void s4g_augment_color_jitter(S4gImage *im, S4gAugRng *r, double brightness, double contrast,
                              double saturation, double hue);
void s4g_augment_advanced_blur(S4gImage *im, S4gAugRng *r);
void s4g_augment_sharpen(S4gImage *im, S4gAugRng *r);
void s4g_augment_grid_dropout(S4gImage *im, double ratio);
void s4g_augment_coarse_dropout(S4gImage *im, S4gAugRng *r, int min_holes, int max_holes,
                                int min_size, int max_size);

/* One view's train transform. */
typedef struct {
    int width, height;   /* model input */
    double grid_ratio;   /* GridDropout ratio: 0.4 satellite/drone, 0.5 panorama */
    int hole_min, hole_max; /* CoarseDropout hole size: int(0.1·H), int(0.2·H) */
    int shift; /* not in the reference (0 there): the satellite view is translated by a
                * uniform integer offset in [−shift, shift] on each axis (edges repeated), so
                * the model tolerates a reference that is not centred exactly on the camera —
                * as gallery patches cut on a grid are not */
    S4gJpegOrder jpeg_order; /* REFERENCE (0) unless asked */
} S4gAugmentView;

/* The view spec of reference §5.2 for an output size (panorama = ground of CVUSA/CVACT/VIGOR). */
S4gAugmentView s4g_augment_view_spec(S4gSize size, gboolean panorama);

/* A → E of §5.2 on a copy of `raw`, resized to the view's size. */
S4gImage *s4g_augment_view_train(const S4gImage *raw, const S4gAugmentView *v, S4gAugRng *r,
                                 GError **error);

typedef enum {
    S4G_AUGMENT_PANORAMA,   /* CVUSA, CVACT, VIGOR: rot90 of the satellite + roll of the panorama */
    S4G_AUGMENT_UNIVERSITY, /* independent rot90 (k 0..3) of the satellite, no roll */
} S4gAugmentMode;

/* The full training pipeline for one pair: replaces *ground and *satellite (raw decoded
 * images) with augmented images at the views' sizes. */
gboolean s4g_augment_pair(S4gImage **ground, S4gImage **satellite, const S4gAugmentView *gv,
                          const S4gAugmentView *sv, S4gAugmentMode mode, S4gAugRng *r,
                          GError **error);

G_END_DECLS
