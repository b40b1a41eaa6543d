/* s4g-store-mining.c — the mining_runs and hard_negatives tables: a mining run with its hard
 * negatives. */
#include "s4g-store-mining.h"
#include "s4g-store-private.h"
#include "s4g-test-kill.h"

#include <math.h>
#include <string.h>

gint64 s4g_store_mining_add(S4gStore *store, const char *kind, gint64 model, gint64 run,
                            gint64 dataset, gint64 epoch, const char *parameters, gsize n_anchors,
                            const gint64 *anchors, guint k, const guint *counts,
                            const gint64 *negatives, const float *scores, GError **error)
{
    if (!s4g_store_begin(store, error)) return 0;
    gint64 id = 0;
    if (run > 0) {
        /* one mining run of a kind per (run, epoch): a resumed epoch replaces its own */
        g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
            store, "DELETE FROM mining_runs WHERE run = ? AND epoch IS ? AND kind = ?", error);
        if (!st) goto fail;
        sqlite3_bind_int64(st, 1, run);
        if (epoch >= 0)
            sqlite3_bind_int64(st, 2, epoch);
        else
            sqlite3_bind_null(st, 2);
        sqlite3_bind_text(st, 3, kind, -1, SQLITE_TRANSIENT);
        if (!s4g_store_step_done(store, st, "replacing mining run", error)) goto fail;
    }
    {
        g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
            store,
            "INSERT INTO mining_runs (kind, model, run, dataset, epoch, parameters) "
            "VALUES (?,?,?,?,?,?)",
            error);
        if (!st) goto fail;
        sqlite3_bind_text(st, 1, kind, -1, SQLITE_TRANSIENT);
        s4g_store_bind_id(st, 2, model);
        s4g_store_bind_id(st, 3, run);
        sqlite3_bind_int64(st, 4, dataset);
        if (epoch >= 0)
            sqlite3_bind_int64(st, 5, epoch);
        else
            sqlite3_bind_null(st, 5);
        sqlite3_bind_text(st, 6, parameters ? parameters : "{}", -1, SQLITE_TRANSIENT);
        if (!s4g_store_step_done(store, st, "adding mining run", error)) goto fail;
        id = sqlite3_last_insert_rowid(s4g_store_db(store));
    }
    {
        g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
            store,
            "INSERT INTO hard_negatives (mining_run, anchor, rank, negative, score) "
            "VALUES (?,?,?,?,?)",
            error);
        if (!st) goto fail;
        for (gsize a = 0; a < n_anchors; a++) {
            for (guint r = 0; r < MIN(counts[a], k); r++) {
                sqlite3_reset(st);
                sqlite3_bind_int64(st, 1, id);
                sqlite3_bind_int64(st, 2, anchors[a]);
                sqlite3_bind_int(st, 3, (int)r);
                sqlite3_bind_int64(st, 4, negatives[a * k + r]);
                s4g_store_bind_real(st, 5, scores ? scores[a * k + r] : NAN);
                if (!s4g_store_step_done(store, st, "adding hard negatives", error)) goto fail;
            }
        }
    }
    s4g_test_kill_at("mining-rows");
    if (!s4g_store_commit(store, error)) goto fail;
    return id;
fail:
    s4g_store_rollback(store);
    return 0;
}

gint64 s4g_store_mining_count(S4gStore *store, gint64 mining_run, GError **error)
{
    g_autoptr(sqlite3_stmt) st =
        s4g_store_prepare(store, "SELECT count(*) FROM hard_negatives WHERE mining_run = ?", error);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, mining_run);
    if (sqlite3_step(st) != SQLITE_ROW) {
        s4g_store_fail(store, "counting hard negatives", error);
        return -1;
    }
    return sqlite3_column_int64(st, 0);
}

static void read_pair_ids(sqlite3_stmt *st, gpointer out)
{
    S4gHardNegative *h = out;
    h->anchor = sqlite3_column_int64(st, 0);
    h->negative = sqlite3_column_int64(st, 1);
}

GArray *s4g_store_mining_latest_of_run(S4gStore *store, gint64 run, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store,
        "SELECT h.anchor, h.negative FROM hard_negatives h WHERE h.mining_run = "
        "(SELECT max(id) FROM mining_runs WHERE run = ?) ORDER BY h.anchor, h.rank",
        error);
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, run);
    return s4g_store_read_rows(store, st, sizeof(S4gHardNegative), NULL, read_pair_ids,
                               "reading the run's neighbour table", error);
}

void s4g_mining_run_row_free(S4gMiningRunRow *r)
{
    if (!r) return;
    g_free(r->kind);
    g_free(r->model);
    g_free(r->created);
    g_free(r);
}

GPtrArray *s4g_store_mining_list(S4gStore *store, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store,
        "SELECT r.id, r.kind, COALESCE(m.name, ''), COALESCE(r.epoch, 0), r.created "
        "FROM mining_runs r LEFT JOIN models m ON m.id = r.model ORDER BY r.id",
        error);
    if (!st) return NULL;
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify)s4g_mining_run_row_free);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        S4gMiningRunRow *r = g_new0(S4gMiningRunRow, 1);
        r->id = sqlite3_column_int64(st, 0);
        r->kind = s4g_store_col_text(st, 1);
        r->model = s4g_store_col_text(st, 2);
        r->epoch = sqlite3_column_int64(st, 3);
        r->created = s4g_store_col_text(st, 4);
        g_ptr_array_add(out, r);
    }
    if (rc != SQLITE_DONE) return s4g_store_fail(store, "listing mining runs", error), NULL;
    return g_steal_pointer(&out);
}

char *s4g_store_mining_kind(S4gStore *store, gint64 mining_run, GError **error)
{
    g_autoptr(sqlite3_stmt) st =
        s4g_store_prepare(store, "SELECT kind FROM mining_runs WHERE id = ?", error);
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, mining_run);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) return s4g_store_col_text(st, 0);
    if (rc == SQLITE_DONE)
        s4g_store_not_found(error, "%s: no mining run %" G_GINT64_FORMAT, s4g_store_dir(store),
                            mining_run);
    else
        s4g_store_fail(store, "reading a mining run", error);
    return NULL;
}

static void read_id(sqlite3_stmt *st, gpointer out)
{
    *(gint64 *)out = sqlite3_column_int64(st, 0);
}

GArray *s4g_store_mining_anchors(S4gStore *store, gint64 mining_run, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store, "SELECT DISTINCT anchor FROM hard_negatives WHERE mining_run = ? ORDER BY anchor",
        error);
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, mining_run);
    return s4g_store_read_rows(store, st, sizeof(gint64), NULL, read_id, "reading anchors", error);
}

GArray *s4g_store_mining_negatives(S4gStore *store, gint64 mining_run, gint64 anchor,
                                   GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store,
        "SELECT h.rank, h.negative, d.root, i.path, h.score, i.lat, i.lon FROM hard_negatives h "
        "JOIN images i ON i.id = h.negative JOIN datasets d ON d.id = i.dataset "
        "WHERE h.mining_run = ? AND h.anchor = ? ORDER BY h.rank",
        error);
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, mining_run);
    sqlite3_bind_int64(st, 2, anchor);
    return s4g_store_read_rows(store, st, sizeof(S4gStoreHit), (GDestroyNotify)s4g_store_hit_clear,
                               s4g_store_read_hit, "reading hard negatives", error);
}
