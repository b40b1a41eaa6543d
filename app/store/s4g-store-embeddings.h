/* s4g-store-embeddings.h — typed access to the embeddings table: cached image embeddings of a model
 * (f32 or f16). */
#pragma once

#include "s4g-store.h"

G_BEGIN_DECLS

typedef enum { S4G_EMB_F32, S4G_EMB_F16 } S4gEmbDtype;

/* Stores n embeddings of one model (images[i] ↔ vecs[i*dim..]) in one transaction,
 * replacing earlier ones; f16 halves the size (round to nearest even). */
gboolean s4g_store_embeddings_put(S4gStore *store, gint64 model, gsize n, const gint64 *images,
                                  int dim, const float *vecs, S4gEmbDtype dtype,
                                  gboolean normalized, GError **error);
/* One embedding as float32 (converted from f16 if stored so); *dim gets its length.
 * NOT_FOUND when absent. */
float *s4g_store_embedding_get(S4gStore *store, gint64 model, gint64 image, int *dim,
                               GError **error);
/* The image ids that have an embedding by the model: a set of gint64* keys. */
GHashTable *s4g_store_embedding_ids(S4gStore *store, gint64 model, GError **error);

G_END_DECLS
