/* s4g-loader.h — threaded, prefetching batch loader.  Given the epoch's list of (ground,
 * satellite) image paths cut into batches, worker threads decode, augment (or not) and
 * normalise batches ahead of the consumer, so compute never waits on decoding.  Batches come
 * out in order and are identical whatever the thread count: each pair's augmentation uses
 * its own generator seeded from (seed, position in the list). */
#pragma once

#include "s4g-augment.h"
#include "s4g-size.h"

G_BEGIN_DECLS

typedef struct {
    S4gSize ground;              /* H×W, e.g. 140×768 (CVUSA), 384×384 (University drone) */
    S4gSize satellite;           /* e.g. 384×384 */
    int batch_size;              /* pairs per batch; the last may be short */
    gboolean augment;            /* training transforms of §5, else §5.3 eval */
    S4gAugmentMode mode;         /* pair geometry when augmenting */
    gboolean ground_is_panorama; /* GridDropout ratio 0.5 and height-based holes */
    int satellite_shift;         /* S4gAugmentView.shift of the satellite (0) */
    S4gJpegOrder jpeg_order;     /* S4gAugmentView.jpeg_order of both views */
    guint64 seed;
    gboolean nchw;          /* planar CHW per image instead of the engine's HWC */
    gboolean skip_corrupt;  /* an undecodable image drops its pair (counted) instead of failing */
    int threads;            /* worker threads (0: 2) */
    int prefetch;           /* batches ready ahead (0: 2·threads) */
} S4gLoaderOptions;

typedef struct {
    guint index;       /* batch number */
    guint n;           /* pairs in this batch (fewer than asked when some were skipped) */
    float *ground;     /* n × ground H × W × 3 (or n × 3 × H × W with nchw) */
    float *satellite;  /* n × sat H × W × 3 */
    guint *pairs;      /* n: position in the input list of each delivered pair */
    guint skipped;     /* pairs of this batch dropped for a corrupt image */
} S4gBatch;

void s4g_batch_free(S4gBatch *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(S4gBatch, s4g_batch_free)

typedef struct S4gLoader S4gLoader;

/* `ground` and `satellite` are parallel arrays of n_pairs file paths (copied).  Starts the
 * workers at once. */
S4gLoader *s4g_loader_new(const S4gLoaderOptions *opts, const char *const *ground,
                          const char *const *satellite, guint n_pairs);
/* Number of batches it will deliver. */
guint s4g_loader_n_batches(S4gLoader *l);
/* Next batch in order; NULL at the end (no error) or on a failure (error names the file). */
S4gBatch *s4g_loader_next(S4gLoader *l, GError **error);
/* Pairs skipped so far for corrupt images (skip_corrupt), and the first such error message. */
guint s4g_loader_skipped(S4gLoader *l);
const char *s4g_loader_first_skip(S4gLoader *l);
/* Seconds the consumer has spent blocked in s4g_loader_next so far: near 0 means decoding
 * keeps up with compute. */
double s4g_loader_wait_seconds(S4gLoader *l);
/* Stops the workers and frees everything (safe before the end). */
void s4g_loader_free(S4gLoader *l);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(S4gLoader, s4g_loader_free)

G_END_DECLS
