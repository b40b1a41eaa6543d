/* s4g-embed.c — encoding a dataset's images into the embeddings table, skipping cached ones. */
#include "s4g-embed.h"
#include "s4g-store-runs.h"

#include <string.h>

/* Images encoded and stored per chunk: the vectors in memory stay bounded (a whole gallery's
 * would be n × dim floats: 12.5 GB for 9.8 M patches at 320 dimensions). */
#define EMBED_CHUNK 4096

/* The encoder's progress over one chunk, passed on as progress over the whole pass. */
typedef struct {
    S4gEncodeProgress progress;
    gpointer user_data;
    guint offset, total;
} ChunkProgress;

static void chunk_progress(guint done, guint total, gpointer user_data)
{
    (void)total;
    const ChunkProgress *c = user_data;
    c->progress(c->offset + done, c->total, c->user_data);
}

gboolean s4g_embed_cached(S4gStore *store, s4g_convnext *m, gint64 model_id,
                          const S4gModelSpec *spec, const char *root, GArray *images, int batch,
                          S4gEncodeProgress progress, gpointer user_data, guint *encoded,
                          GError **error)
{
    return s4g_embed_cached_chunked(store, m, model_id, spec, root, images, batch, EMBED_CHUNK,
                                    progress, user_data, encoded, error);
}

gboolean s4g_embed_cached_chunked(S4gStore *store, s4g_convnext *m, gint64 model_id,
                                  const S4gModelSpec *spec, const char *root, GArray *images,
                                  int batch, guint chunk_images, S4gEncodeProgress progress,
                                  gpointer user_data, guint *encoded, GError **error)
{
    if (encoded) *encoded = 0;
    g_autoptr(GHashTable) have = s4g_store_embedding_ids(store, model_id, error);
    if (!have) return FALSE;
    /* two passes: satellite images at the satellite size, the rest at the ground size */
    for (int sat = 0; sat < 2; sat++) {
        g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
        for (guint i = 0; i < images->len; i++) {
            const S4gStoreImage *im = &g_array_index(images, S4gStoreImage, i);
            if ((g_strcmp0(im->view, "satellite") == 0) != sat) continue;
            if (g_hash_table_contains(have, &im->id)) continue;
            g_ptr_array_add(paths, g_build_filename(root, im->path, NULL));
            g_array_append_val(ids, im->id);
        }
        if (ids->len == 0) continue;
        /* a whole number of encode batches per chunk: the same batches as in one call */
        guint chunk = (guint)MAX(batch, 1) * MAX(1u, chunk_images / (guint)MAX(batch, 1));
        for (guint c0 = 0; c0 < ids->len; c0 += chunk) {
            guint nc = MIN(chunk, ids->len - c0);
            ChunkProgress cp = {progress, user_data, c0, ids->len};
            g_autofree float *vecs = s4g_encode_images(
                m, (char *const *)paths->pdata + c0, nc, sat ? spec->satellite : spec->ground,
                batch, progress ? chunk_progress : NULL, &cp, error);
            if (!vecs) return FALSE;
            if (!s4g_store_embeddings_put(store, model_id, nc, &g_array_index(ids, gint64, c0),
                                          m->cfg.dims[3], vecs, S4G_EMB_F32, TRUE, error))
                return FALSE;
            if (encoded) *encoded += nc;
        }
    }
    return TRUE;
}
