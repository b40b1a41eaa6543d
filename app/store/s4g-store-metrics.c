/* s4g-store-metrics.c — the metrics table: per-step training metrics of a run. */
#include "s4g-store-metrics.h"
#include "s4g-store-private.h"

#include <math.h>
#include <string.h>

gboolean s4g_store_metrics_add(S4gStore *store, gint64 run, const S4gMetricRow *rows, gsize n,
                               GError **error)
{
    if (!s4g_store_begin(store, error)) return FALSE;
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store,
        "INSERT OR REPLACE INTO metrics (run, step, epoch, loss, lr, logit_scale, images_per_s, "
        "wall) VALUES (?,?,?,?,?,?,?,?)",
        error);
    if (!st) goto fail;
    for (gsize i = 0; i < n; i++) {
        const S4gMetricRow *r = &rows[i];
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, run);
        sqlite3_bind_int64(st, 2, r->step);
        sqlite3_bind_double(st, 3, r->epoch);
        s4g_store_bind_real(st, 4, r->loss);
        s4g_store_bind_real(st, 5, r->lr);
        s4g_store_bind_real(st, 6, r->logit_scale);
        s4g_store_bind_real(st, 7, r->images_per_s);
        s4g_store_bind_real(st, 8, r->wall);
        if (!s4g_store_step_done(store, st, "adding metrics", error)) goto fail;
    }
    return s4g_store_commit(store, error);
fail:
    s4g_store_rollback(store);
    return FALSE;
}

GArray *s4g_store_metrics_list(S4gStore *store, gint64 run, gint64 after_step, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store,
        "SELECT step, epoch, loss, lr, logit_scale, images_per_s, wall FROM metrics "
        "WHERE run = ? AND step > ? ORDER BY step",
        error);
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, run);
    sqlite3_bind_int64(st, 2, after_step);
    g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(S4gMetricRow));
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        S4gMetricRow r = {sqlite3_column_int64(st, 0), sqlite3_column_double(st, 1),
                          s4g_store_col_real(st, 2),   s4g_store_col_real(st, 3),
                          s4g_store_col_real(st, 4),   s4g_store_col_real(st, 5),
                          s4g_store_col_real(st, 6)};
        g_array_append_val(out, r);
    }
    if (rc != SQLITE_DONE) {
        s4g_store_fail(store, "listing metrics", error);
        return NULL;
    }
    return g_steal_pointer(&out);
}
