/* s4g-predict.h — locating ground photos by retrieval (architecture.md §5 "Predict"), as a
 * library the CLI, the demo and the Studio share.  An S4gPredictor holds a search space (a
 * dataset's satellite images, or a gallery made by `s4g gallery`: a gallery is a dataset)
 * and a model; its gallery embeddings come from the project's embeddings cache
 * (s4g_embed_cached) for project models.  s4g_predictor_locate embeds each photo, takes the
 * top-k tiles, estimates the location (s4g-locate.h: the best tile's centre refined by the
 * softmax-weighted mean of the top-k centres within the refine radius; the best tile's weight
 * is the confidence), looks up the photo's truth in the project and stores the predictions
 * (and the photo's embedding, for the Studio's embedding view) through the store's typed
 * queries.  Nothing here prints: progress goes to a callback and a
 * GCancellable stops the work before the gallery is built and between encode batches (the
 * batch under way finishes first), so a GTask thread can run it.  Photos are encoded and
 * searched `batch` at a time (one photo per call, as s4g predict calls it, is a batch of 1). */
#pragma once

#include "s4g-comm.h"
#include "s4g-model.h"
#include "s4g-store-datasets.h"

G_BEGIN_DECLS

typedef struct {
    int top;              /* tiles per photo, 1..S4G_SEARCH_MAX_K (fewer when the gallery is
                           * smaller) */
    int batch;            /* images per encode batch of the gallery */
    double refine_radius; /* metres around the anchor tile (0 = the anchor only) */
    gboolean densest;     /* anchor on the densest top-k tile instead of the best */
    /* Predictions are stored for photos that are images of the searched dataset.  With
     * store_located, also for photos that are located ground images of another dataset of
     * the project (a held-out photo searched over a gallery). */
    gboolean store_located;
    /* Data parallel (size > 1; borrowed, NULL = one process): every process of the group
     * makes the same calls; each holds one shard of the gallery (s4g_gallery_shard, aligned
     * to the encode batch), encodes (or reads from the cache) only its shard, every process
     * encodes the photos and the per-photo top-k is merged over the shards with the
     * one-process tie rule (s4g_gallery_topk_shared), so every process gets the one-process
     * predictions.  Only rank 0 stores predictions and photo embeddings. */
    const s4g_comm *comm;
} S4gPredictorOptions;

/* stage is "gallery" while the gallery is encoded, "photos" while photos are located. */
typedef void (*S4gPredictProgress)(const char *stage, guint done, guint total, gpointer user_data);

typedef struct {
    gint64 image; /* the tile's image id */
    char *path;   /* relative to the search space's root */
    double score, lat, lon;
} S4gPredictorHit;

typedef struct {
    char *photo;                 /* as given */
    double lat, lon, confidence; /* lat/lon NAN when no top tile has a location */
    double error_m;              /* NAN when the photo's location is unknown */
    double true_lat, true_lon;   /* the photo's location in the project, NAN when unknown */
    gint64 image;                /* the photo's image id in the project, 0 = none */
    gboolean stored;             /* its predictions were stored */
    guint k;
    S4gPredictorHit *top; /* k tiles, best first */
} S4gPrediction;

void s4g_prediction_free(S4gPrediction *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(S4gPrediction, s4g_prediction_free)

typedef struct S4gPredictor S4gPredictor;

/* The search space: the satellite images of the dataset (or gallery) `dataset` of the
 * project, only those of `split` unless it is NULL.  INVALID error when it has none. */
S4gPredictor *s4g_predictor_new(S4gStore *store, const char *dataset, const char *split,
                                GError **error);
void s4g_predictor_free(S4gPredictor *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(S4gPredictor, s4g_predictor_free)

/* Attaches a model (model_id 0: a weights file outside the project, whose gallery
 * embeddings are not cached) and builds the gallery on ctx.  store, ctx and m are borrowed
 * and must outlive the predictor. */
gboolean s4g_predictor_set_model(S4gPredictor *p, s4g_ctx *ctx, s4g_convnext *m, gint64 model_id,
                                 const S4gModelSpec *spec, const S4gPredictorOptions *options,
                                 GCancellable *cancellable, S4gPredictProgress progress,
                                 gpointer user_data, GError **error);

guint s4g_predictor_n_tiles(S4gPredictor *p);
/* Whether every gallery embedding came from the cache (nothing was encoded). */
gboolean s4g_predictor_cached(S4gPredictor *p);
/* The gallery name predictions are stored under: "<dataset>/<split or *>". */
const char *s4g_predictor_gallery(S4gPredictor *p);

/* Locates n photo files, options->batch at a time: a GPtrArray of S4gPrediction in the
 * photos' order, or NULL with an error (G_IO_ERROR_CANCELLED when cancellable fired). */
GPtrArray *s4g_predictor_locate(S4gPredictor *p, const char *const *photos, guint n,
                                GCancellable *cancellable, S4gPredictProgress progress,
                                gpointer user_data, GError **error);

G_END_DECLS
