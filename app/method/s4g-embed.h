/* s4g-embed.h — the embeddings cache of a project: images of a dataset encoded by one of the
 * project's models, stored in the embeddings table (one row per model and image).  Images
 * already there are skipped, so re-running costs no encoding.  Ground and drone images are
 * encoded at the model's ground input size, satellite images at its satellite size. */
#pragma once

#include "s4g-model.h"
#include "s4g-store-datasets.h"

G_BEGIN_DECLS

/* images: GArray of S4gStoreImage of the dataset whose root is `root`.  Encodes those
 * without an embedding by model_id (batch images per encode batch) and stores them (f32,
 * normalised), a few thousand at a time (memory stays bounded; after a failure the chunks
 * stored before it stay cached).  *encoded (may be NULL) gets how many were encoded. */
gboolean s4g_embed_cached(S4gStore *store, s4g_convnext *m, gint64 model_id,
                          const S4gModelSpec *spec, const char *root, GArray *images, int batch,
                          S4gEncodeProgress progress, gpointer user_data, guint *encoded,
                          GError **error);

/* s4g_embed_cached with chunks of `chunk_images` images (rounded down to whole encode
 * batches, at least one batch) instead of a few thousand: tests cross chunk boundaries with
 * small ones. */
gboolean s4g_embed_cached_chunked(S4gStore *store, s4g_convnext *m, gint64 model_id,
                                  const S4gModelSpec *spec, const char *root, GArray *images,
                                  int batch, guint chunk_images, S4gEncodeProgress progress,
                                  gpointer user_data, guint *encoded, GError **error);

G_END_DECLS
