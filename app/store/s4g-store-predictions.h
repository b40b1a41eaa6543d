/* s4g-store-predictions.h — typed access to the predictions table: the top-k references of a photo
 * per model and gallery. */
#pragma once

#include "s4g-store-datasets.h"

G_BEGIN_DECLS

typedef struct {
    gint64 reference; /* image id of the gallery item */
    double score, lat, lon;
} S4gPredictionRow;

/* Replaces the predictions of (model, image, gallery) by rows[0..n) (rank = position), in
 * one transaction. */
gboolean s4g_store_predictions_put(S4gStore *store, gint64 model, gint64 image, const char *gallery,
                                   const S4gPredictionRow *rows, gsize n, GError **error);
/* By rank (GArray of S4gPredictionRow). */
GArray *s4g_store_predictions_get(S4gStore *store, gint64 model, gint64 image, const char *gallery,
                                  GError **error);

/* The estimate of each image a model predicted: the best-ranked row with a location of the
 * first gallery (by name) of that image (GArray of S4gPredictionBest, by image). */
typedef struct {
    gint64 image;
    double lat, lon;
} S4gPredictionBest;
GArray *s4g_store_predictions_best(S4gStore *store, gint64 model, GError **error);
/* The first k predictions by rank of an image in its first gallery, each with its reference's
 * file and the reference's location where the row has none (GArray of S4gStoreHit). */
GArray *s4g_store_predictions_hits(S4gStore *store, gint64 model, gint64 image, int k,
                                   GError **error);

/* As s4g_store_predictions_hits, of one gallery (a search space: "<dataset>/<split or *>"). */
GArray *s4g_store_predictions_hits_in(S4gStore *store, gint64 model, gint64 image,
                                      const char *gallery, int k, GError **error);
/* The galleries a model has predictions in, the one with the most images first (NULL-ended,
 * g_strfreev), NULL on error. */
char **s4g_store_predictions_galleries(S4gStore *store, gint64 model, GError **error);
/* Every row of a model in one gallery by image and rank, each with its reference's location
 * where the row has none (GArray of S4gPredictionRanked): what an estimate is made from. */
typedef struct {
    gint64 image;
    double score, lat, lon;
} S4gPredictionRanked;
GArray *s4g_store_predictions_ranked(S4gStore *store, gint64 model, const char *gallery,
                                     GError **error);

/* Every prediction row of a model with the photo's file and truth and the reference's file,
 * by image, gallery, rank (GArray of S4gPredictionExport with clear func). */
typedef struct {
    gint64 image;
    char *gallery;
    double score, lat, lon;    /* NAN when NULL */
    char *file;                /* the photo's: root/path */
    double true_lat, true_lon; /* NAN when unknown */
    char *reference_file;      /* NULL when the reference is gone */
} S4gPredictionExport;
void s4g_prediction_export_clear(S4gPredictionExport *e);
GArray *s4g_store_predictions_export(S4gStore *store, gint64 model, GError **error);

G_END_DECLS
