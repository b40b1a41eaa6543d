/* s4g-store-embeddings.c — the embeddings table: cached image embeddings of a model (f32 or f16).
 */
#include "s4g-store-embeddings.h"
#include "s4g-store-private.h"
#include "s4g-half.h"
#include "s4g-test-kill.h"

#include <math.h>
#include <string.h>

gboolean s4g_store_embeddings_put(S4gStore *store, gint64 model, gsize n, const gint64 *images,
                                  int dim, const float *vecs, S4gEmbDtype dtype,
                                  gboolean normalized, GError **error)
{
    if (dim <= 0) {
        g_set_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_INVALID, "embeddings: dimension %d",
                    dim);
        return FALSE;
    }
    if (!s4g_store_begin(store, error)) return FALSE;
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store,
        "INSERT OR REPLACE INTO embeddings (model, image, dim, dtype, normalized, vector) "
        "VALUES (?,?,?,?,?,?)",
        error);
    g_autofree guint16 *half = dtype == S4G_EMB_F16 ? g_new(guint16, dim) : NULL;
    if (!st) goto fail;
    for (gsize i = 0; i < n; i++) {
        const float *v = vecs + i * (gsize)dim;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, model);
        sqlite3_bind_int64(st, 2, images[i]);
        sqlite3_bind_int(st, 3, dim);
        sqlite3_bind_text(st, 4, dtype == S4G_EMB_F16 ? "f16" : "f32", -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, normalized ? 1 : 0);
        if (half) {
            for (int d = 0; d < dim; d++)
                half[d] = s4g_half_from_float(v[d]);
            sqlite3_bind_blob(st, 6, half, dim * 2, SQLITE_TRANSIENT);
        } else
            sqlite3_bind_blob(st, 6, v, dim * 4, SQLITE_TRANSIENT);
        if (!s4g_store_step_done(store, st, "storing embeddings", error)) goto fail;
    }
    s4g_test_kill_at("embeddings-rows");
    return s4g_store_commit(store, error);
fail:
    s4g_store_rollback(store);
    return FALSE;
}

float *s4g_store_embedding_get(S4gStore *store, gint64 model, gint64 image, int *dim,
                               GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store, "SELECT dim, dtype, vector FROM embeddings WHERE model = ? AND image = ?", error);
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, model);
    sqlite3_bind_int64(st, 2, image);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        if (rc == SQLITE_DONE)
            s4g_store_not_found(
                error, "%s: no embedding of image %" G_GINT64_FORMAT " by model %" G_GINT64_FORMAT,
                s4g_store_dir(store), image, model);
        else
            s4g_store_fail(store, "reading embedding", error);
        return NULL;
    }
    int d = sqlite3_column_int(st, 0);
    gboolean f16 = !g_strcmp0((const char *)sqlite3_column_text(st, 1), "f16");
    const void *blob = sqlite3_column_blob(st, 2);
    int bytes = sqlite3_column_bytes(st, 2);
    if (d <= 0 || bytes != d * (f16 ? 2 : 4)) {
        g_set_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_INVALID,
                    "%s: embedding of image %" G_GINT64_FORMAT ": %d bytes for %d %s values",
                    s4g_store_dir(store), image, bytes, d, f16 ? "f16" : "f32");
        return NULL;
    }
    float *out = g_new(float, d);
    if (f16) {
        const guint8 *b = blob;
        for (int i = 0; i < d; i++) {
            guint16 h;
            memcpy(&h, b + 2 * i, 2);
            out[i] = s4g_half_to_float(h);
        }
    } else
        memcpy(out, blob, (gsize)d * 4);
    *dim = d;
    return out;
}

GHashTable *s4g_store_embedding_ids(S4gStore *store, gint64 model, GError **error)
{
    g_autoptr(sqlite3_stmt) st =
        s4g_store_prepare(store, "SELECT image FROM embeddings WHERE model = ?", error);
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, model);
    GHashTable *set = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        gint64 id = sqlite3_column_int64(st, 0);
        g_hash_table_add(set, g_memdup2(&id, sizeof id));
    }
    if (rc != SQLITE_DONE) {
        s4g_store_fail(store, "reading cached embeddings", error);
        g_hash_table_unref(set);
        return NULL;
    }
    return set;
}
