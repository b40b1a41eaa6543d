/* s4g-store-predictions.c — the predictions table: the top-k references of a photo per model and
 * gallery. */
#include "s4g-store-predictions.h"
#include "s4g-store-private.h"

#include <math.h>
#include <string.h>

gboolean s4g_store_predictions_put(S4gStore *store, gint64 model, gint64 image, const char *gallery,
                                   const S4gPredictionRow *rows, gsize n, GError **error)
{
    if (!gallery) gallery = "";
    if (!s4g_store_begin(store, error)) return FALSE;
    {
        g_autoptr(sqlite3_stmt) del = s4g_store_prepare(
            store, "DELETE FROM predictions WHERE model = ? AND image = ? AND gallery = ?", error);
        if (!del) goto fail;
        sqlite3_bind_int64(del, 1, model);
        sqlite3_bind_int64(del, 2, image);
        sqlite3_bind_text(del, 3, gallery, -1, SQLITE_TRANSIENT);
        if (!s4g_store_step_done(store, del, "clearing predictions", error)) goto fail;
        g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
            store,
            "INSERT INTO predictions (model, image, gallery, rank, reference, score, lat, lon) "
            "VALUES (?,?,?,?,?,?,?,?)",
            error);
        if (!st) goto fail;
        for (gsize i = 0; i < n; i++) {
            sqlite3_reset(st);
            sqlite3_bind_int64(st, 1, model);
            sqlite3_bind_int64(st, 2, image);
            sqlite3_bind_text(st, 3, gallery, -1, SQLITE_TRANSIENT);
            sqlite3_bind_int64(st, 4, (gint64)i);
            s4g_store_bind_id(st, 5, rows[i].reference);
            s4g_store_bind_real(st, 6, rows[i].score);
            s4g_store_bind_real(st, 7, rows[i].lat);
            s4g_store_bind_real(st, 8, rows[i].lon);
            if (!s4g_store_step_done(store, st, "adding predictions", error)) goto fail;
        }
    }
    return s4g_store_commit(store, error);
fail:
    s4g_store_rollback(store);
    return FALSE;
}

GArray *s4g_store_predictions_get(S4gStore *store, gint64 model, gint64 image, const char *gallery,
                                  GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store,
        "SELECT reference, score, lat, lon FROM predictions WHERE model = ? AND image = ? AND "
        "gallery = ? ORDER BY rank",
        error);
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, model);
    sqlite3_bind_int64(st, 2, image);
    sqlite3_bind_text(st, 3, gallery ? gallery : "", -1, SQLITE_TRANSIENT);
    g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(S4gPredictionRow));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        S4gPredictionRow r = {sqlite3_column_int64(st, 0), s4g_store_col_real(st, 1),
                              s4g_store_col_real(st, 2), s4g_store_col_real(st, 3)};
        g_array_append_val(out, r);
    }
    if (rc != SQLITE_DONE) {
        s4g_store_fail(store, "reading predictions", error);
        return NULL;
    }
    return g_steal_pointer(&out);
}

static void read_best(sqlite3_stmt *st, gpointer out)
{
    S4gPredictionBest *b = out;
    b->image = sqlite3_column_int64(st, 0);
    b->lat = sqlite3_column_double(st, 1);
    b->lon = sqlite3_column_double(st, 2);
}

GArray *s4g_store_predictions_best(S4gStore *store, gint64 model, GError **error)
{
    g_autoptr(sqlite3_stmt) st =
        s4g_store_prepare(store,
                          "SELECT p.image, p.lat, p.lon FROM predictions p WHERE p.model = ?1 "
                          "AND p.lat IS NOT NULL AND p.rank = (SELECT MIN(q.rank) FROM "
                          "predictions q WHERE q.model = ?1 AND q.image = p.image AND "
                          "q.gallery = p.gallery) AND p.gallery = (SELECT MIN(g.gallery) FROM "
                          "predictions g WHERE g.model = ?1 AND g.image = p.image) "
                          "ORDER BY p.image",
                          error);
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, model);
    return s4g_store_read_rows(store, st, sizeof(S4gPredictionBest), NULL, read_best,
                               "reading predictions", error);
}

/* The first k rows by rank of (model, image) in `gallery`, or in its first gallery by name when
 * gallery is NULL, with the reference's file and location. */
static GArray *hits(S4gStore *store, gint64 model, gint64 image, const char *gallery, int k,
                    GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store,
        "SELECT p.rank, p.reference, d.root, i.path, p.score, COALESCE(p.lat, i.lat), "
        "COALESCE(p.lon, i.lon) FROM predictions p LEFT JOIN images i ON i.id = p.reference "
        "LEFT JOIN datasets d ON d.id = i.dataset WHERE p.model = ?1 AND p.image = ?2 "
        "AND p.gallery = COALESCE(?4, (SELECT MIN(g.gallery) FROM predictions g WHERE "
        "g.model = ?1 AND g.image = ?2)) ORDER BY p.rank LIMIT ?3",
        error);
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, model);
    sqlite3_bind_int64(st, 2, image);
    sqlite3_bind_int(st, 3, k);
    if (gallery) sqlite3_bind_text(st, 4, gallery, -1, SQLITE_TRANSIENT);
    return s4g_store_read_rows(store, st, sizeof(S4gStoreHit), (GDestroyNotify)s4g_store_hit_clear,
                               s4g_store_read_hit, "reading predictions", error);
}

GArray *s4g_store_predictions_hits(S4gStore *store, gint64 model, gint64 image, int k,
                                   GError **error)
{
    return hits(store, model, image, NULL, k, error);
}

GArray *s4g_store_predictions_hits_in(S4gStore *store, gint64 model, gint64 image,
                                      const char *gallery, int k, GError **error)
{
    return hits(store, model, image, gallery ? gallery : "", k, error);
}

char **s4g_store_predictions_galleries(S4gStore *store, gint64 model, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store,
        "SELECT gallery FROM predictions WHERE model = ? GROUP BY gallery "
        "ORDER BY COUNT(DISTINCT image) DESC, gallery",
        error);
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, model);
    return s4g_store_read_strings(store, st, "reading prediction galleries", error);
}

static void read_ranked(sqlite3_stmt *st, gpointer out)
{
    S4gPredictionRanked *r = out;
    r->image = sqlite3_column_int64(st, 0);
    r->score = s4g_store_col_real(st, 1);
    r->lat = s4g_store_col_real(st, 2);
    r->lon = s4g_store_col_real(st, 3);
}

GArray *s4g_store_predictions_ranked(S4gStore *store, gint64 model, const char *gallery,
                                     GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store,
        "SELECT p.image, p.score, COALESCE(p.lat, i.lat), COALESCE(p.lon, i.lon) "
        "FROM predictions p LEFT JOIN images i ON i.id = p.reference "
        "WHERE p.model = ? AND p.gallery = ? ORDER BY p.image, p.rank",
        error);
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, model);
    sqlite3_bind_text(st, 2, gallery ? gallery : "", -1, SQLITE_TRANSIENT);
    return s4g_store_read_rows(store, st, sizeof(S4gPredictionRanked), NULL, read_ranked,
                               "reading predictions", error);
}

void s4g_prediction_export_clear(S4gPredictionExport *e)
{
    g_clear_pointer(&e->gallery, g_free);
    g_clear_pointer(&e->file, g_free);
    g_clear_pointer(&e->reference_file, g_free);
}

static void read_export(sqlite3_stmt *st, gpointer out)
{
    S4gPredictionExport *e = out;
    e->image = sqlite3_column_int64(st, 0);
    e->gallery = s4g_store_col_text(st, 1);
    e->score = s4g_store_col_real(st, 2);
    e->lat = s4g_store_col_real(st, 3);
    e->lon = s4g_store_col_real(st, 4);
    e->file = s4g_store_col_text(st, 5);
    e->true_lat = s4g_store_col_real(st, 6);
    e->true_lon = s4g_store_col_real(st, 7);
    e->reference_file = s4g_store_col_text(st, 8);
}

GArray *s4g_store_predictions_export(S4gStore *store, gint64 model, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store,
        "SELECT p.image, p.gallery, p.score, p.lat, p.lon, d.root || '/' || i.path, i.lat, i.lon,"
        "       dr.root || '/' || r.path "
        "FROM predictions p JOIN images i ON i.id = p.image JOIN datasets d ON d.id = i.dataset "
        "LEFT JOIN images r ON r.id = p.reference LEFT JOIN datasets dr ON dr.id = r.dataset "
        "WHERE p.model = ? ORDER BY p.image, p.gallery, p.rank",
        error);
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, model);
    return s4g_store_read_rows(store, st, sizeof(S4gPredictionExport),
                               (GDestroyNotify)s4g_prediction_export_clear, read_export,
                               "reading predictions", error);
}
