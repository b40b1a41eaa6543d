/* s4g-evaluate.h — encoding images with a model and evaluating retrieval on a split
 * (sample4geo-reference.md §7): eval pre-processing (resize + ImageNet normalisation, no
 * augmentation), L2-normalised embeddings, then per query the positive's score and the
 * strict rank count through the engine's gallery search (never a Q×R matrix), recall
 * R@1/5/10/1% and, when the split has semi-positives (VIGOR), the hit rate.
 *
 * The model spec (architecture + input sizes) is what the models table stores as JSON. */
#pragma once

#include "s4g-convnext.h"
#include "s4g-metrics.h"
#include "s4g-split.h"

G_BEGIN_DECLS

typedef struct {
    s4g_convnext_cfg cfg;
    int ground_w, ground_h; /* query view input (panorama / photo / drone) */
    int sat_w, sat_h;       /* reference view input */
} S4gModelSpec;

/* {"preset":"atto","depths":[..],"dims":[..],"ground":[W,H],"satellite":[W,H],
 *  "size_order":"wh"} — stored arrays are width first (older rows lack "size_order" and are
 * read as "wh"; "hw" is accepted too), unlike the command line's H×W flags. */
char *s4g_model_spec_to_json(const S4gModelSpec *spec);
gboolean s4g_model_spec_from_json(const char *json, S4gModelSpec *spec, GError **error);

/* Progress of a long encode: done of total images. */
typedef void (*S4gEncodeProgress)(guint done, guint total, gpointer user_data);

/* Encodes n image files at w×h into L2-normalised embeddings [n × dims[3]] (g_free). */
float *s4g_encode_images(s4g_convnext *m, char *const *paths, guint n, int w, int h, int batch,
                         S4gEncodeProgress progress, gpointer user_data, GError **error);

/* Recall (and hit rate) of a split from embeddings already computed. */
gboolean s4g_evaluate_embeddings(s4g_ctx *ctx, const S4gSplit *split, const float *query_emb,
                                 const float *ref_emb, int dim, S4gRetrievalMetrics *out,
                                 GError **error);

/* Encodes both sides of the split and evaluates; the embeddings are returned when the
 * pointers are non-NULL (g_free). */
gboolean s4g_evaluate_split(s4g_convnext *m, const S4gModelSpec *spec, const S4gSplit *split,
                            int batch, S4gEncodeProgress progress, gpointer user_data,
                            S4gRetrievalMetrics *out, float **query_emb, float **ref_emb,
                            GError **error);

G_END_DECLS

G_BEGIN_DECLS
/* Opens a model by its name in the project (weights and spec from the models row) or, when
 * no such row exists, from a safetensors file path (architecture from its keys; the input
 * sizes are those already in *spec).  *model_id gets the row id or 0. */
s4g_convnext *s4g_model_open(S4gStore *store, const char *name_or_path, s4g_ctx *ctx,
                             S4gModelSpec *spec, gint64 *model_id, GError **error);
G_END_DECLS
