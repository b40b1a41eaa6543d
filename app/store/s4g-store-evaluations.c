/* s4g-store-evaluations.c — the evaluations table: recall/AP of a model on a dataset split. */
#include "s4g-store-evaluations.h"
#include "s4g-store-private.h"

#include <math.h>
#include <string.h>

void s4g_evaluation_row_free(S4gEvaluationRow *e)
{
    if (!e) return;
    g_free(e->split);
    g_free(e->created);
    g_free(e);
}

static gint64 evaluation_insert(S4gStore *store, const S4gEvaluationRow *e, GError **error);

gint64 s4g_store_evaluation_add(S4gStore *store, const S4gEvaluationRow *e, GError **error)
{
    if (!s4g_store_begin(store, error)) return 0;
    gint64 id = evaluation_insert(store, e, error);
    if (!id || !s4g_store_commit(store, error)) {
        s4g_store_rollback(store);
        return 0;
    }
    return id;
}

/* A run's evaluation of a split at an epoch replaces the one it may already have (a resumed
 * epoch evaluates again); evaluations outside runs accumulate. */
static gint64 evaluation_insert(S4gStore *store, const S4gEvaluationRow *e, GError **error)
{
    if (e->run > 0) {
        g_autoptr(sqlite3_stmt) del = s4g_store_prepare(
            store, "DELETE FROM evaluations WHERE run = ? AND epoch IS ? AND split = ?", error);
        if (!del) return 0;
        sqlite3_bind_int64(del, 1, e->run);
        if (e->epoch >= 0)
            sqlite3_bind_int64(del, 2, e->epoch);
        else
            sqlite3_bind_null(del, 2);
        sqlite3_bind_text(del, 3, e->split ? e->split : "", -1, SQLITE_TRANSIENT);
        if (!s4g_store_step_done(store, del, "replacing evaluation", error)) return 0;
    }
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store,
        "INSERT INTO evaluations (model, run, dataset, split, epoch, r1, r5, r10, r1pct, "
        "hit_rate, ap, queries, refs) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        error);
    if (!st) return 0;
    s4g_store_bind_id(st, 1, e->model);
    s4g_store_bind_id(st, 2, e->run);
    sqlite3_bind_int64(st, 3, e->dataset);
    sqlite3_bind_text(st, 4, e->split ? e->split : "", -1, SQLITE_TRANSIENT);
    if (e->epoch >= 0)
        sqlite3_bind_int64(st, 5, e->epoch);
    else
        sqlite3_bind_null(st, 5);
    const double v[] = {e->r1, e->r5, e->r10, e->r1pct, e->hit_rate, e->ap};
    for (int i = 0; i < 6; i++)
        s4g_store_bind_real(st, 6 + i, v[i]);
    sqlite3_bind_int64(st, 12, e->queries);
    sqlite3_bind_int64(st, 13, e->refs);
    if (!s4g_store_step_done(store, st, "adding evaluation", error)) return 0;
    return sqlite3_last_insert_rowid(s4g_store_db(store));
}

#define EVAL_COLS                                                                                  \
    "SELECT id, model, run, dataset, split, epoch, r1, r5, r10, r1pct, hit_rate, ap, "             \
    "queries, refs, created FROM evaluations "

/* The evaluations `sql` (EVAL_COLS …, one parameter bound to id) selects. */
static GPtrArray *list_evaluations(S4gStore *store, const char *sql, gint64 id, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(store, sql, error);
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, id);
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify)s4g_evaluation_row_free);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        S4gEvaluationRow *e = g_new0(S4gEvaluationRow, 1);
        e->id = sqlite3_column_int64(st, 0);
        e->model = sqlite3_column_int64(st, 1);
        e->run = sqlite3_column_int64(st, 2);
        e->dataset = sqlite3_column_int64(st, 3);
        e->split = s4g_store_col_text(st, 4);
        e->epoch = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 5);
        double *v[] = {&e->r1, &e->r5, &e->r10, &e->r1pct, &e->hit_rate, &e->ap};
        for (int i = 0; i < 6; i++)
            *v[i] = s4g_store_col_real(st, 6 + i);
        e->queries = sqlite3_column_int64(st, 12);
        e->refs = sqlite3_column_int64(st, 13);
        e->created = s4g_store_col_text(st, 14);
        g_ptr_array_add(out, e);
    }
    if (rc != SQLITE_DONE) {
        s4g_store_fail(store, "listing evaluations", error);
        return NULL;
    }
    return g_steal_pointer(&out);
}

GPtrArray *s4g_store_evaluation_list(S4gStore *store, gint64 model, GError **error)
{
    return list_evaluations(store, EVAL_COLS "WHERE ?1 = 0 OR model = ?1 ORDER BY id DESC", model,
                            error);
}

GPtrArray *s4g_store_evaluation_list_run(S4gStore *store, gint64 run, GError **error)
{
    return list_evaluations(store, EVAL_COLS "WHERE run = ?1 AND r1 IS NOT NULL ORDER BY epoch, id",
                            run, error);
}
