/* s4g-model.h — a model of the method: its spec (ConvNeXt architecture + the input size of
 * each view, what the models table stores as JSON), opening it from the project or a weights
 * file, and encoding image files with it (eval pre-processing of sample4geo-reference.md §7:
 * resize + ImageNet normalisation, no augmentation; L2-normalised embeddings).  Used by
 * training, evaluation, embedding caches, mining and prediction. */
#pragma once

#include "s4g-convnext.h"
#include "s4g-geo.h"
#include "s4g-size.h"
#include "s4g-store.h"

G_BEGIN_DECLS

typedef struct {
    s4g_convnext_cfg cfg;
    S4gSize ground;    /* query view input (panorama / photo / drone) */
    S4gSize satellite; /* reference view input */
} S4gModelSpec;

/* The defaults table's input sizes (s4g-defaults.h) and a zero architecture. */
S4gModelSpec s4g_model_spec_default(void);

/* {"preset":"atto","depths":[..],"dims":[..],"ground":[W,H],"satellite":[W,H],
 *  "size_order":"wh"} — stored arrays are width first (older rows lack "size_order" and are
 * read as "wh"; "hw" is accepted too); in memory sizes are S4gSize, height first. */
char *s4g_model_spec_to_json(const S4gModelSpec *spec);
gboolean s4g_model_spec_from_json(const char *json, S4gModelSpec *spec, GError **error);

/* The weights file of a model of the project by name (the project folder + its weights),
 * else name_or_path itself when it is a file; an error naming both otherwise.  g_free. */
char *s4g_model_weights_path(S4gStore *store, const char *name_or_path, GError **error);

/* Opens a model by its name in the project (weights and spec from the models row) or, when
 * no such row exists, from a safetensors file path (architecture from its keys; the input
 * sizes are those already in *spec).  *model_id gets the row id or 0. */
s4g_convnext *s4g_model_open(S4gStore *store, const char *name_or_path, s4g_ctx *ctx,
                             S4gModelSpec *spec, gint64 *model_id, GError **error);

/* Progress of a long encode: done of total images. */
typedef void (*S4gEncodeProgress)(guint done, guint total, gpointer user_data);

/* Encodes n image files at `size` into L2-normalised embeddings [n × dims[3]] (g_free). */
float *s4g_encode_images(s4g_convnext *m, char *const *paths, guint n, S4gSize size, int batch,
                         S4gEncodeProgress progress, gpointer user_data, GError **error);

G_END_DECLS
