/* s4g-store-runs.c — the runs table: training runs and their state machine. */
#include "s4g-store-runs.h"
#include "s4g-store-private.h"

#include <math.h>
#include <string.h>

static const char *const state_names[] = {"queued", "running", "stopped",
                                          "failed", "done",    "interrupted"};

const char *s4g_run_state_name(S4gRunState s)
{
    return (guint)s < G_N_ELEMENTS(state_names) ? state_names[s] : "?";
}

gboolean s4g_run_state_parse(const char *name, S4gRunState *out)
{
    for (guint i = 0; i < G_N_ELEMENTS(state_names); i++) {
        if (!g_strcmp0(name, state_names[i])) {
            *out = (S4gRunState)i;
            return TRUE;
        }
    }
    return FALSE;
}

gboolean s4g_run_state_transition_ok(S4gRunState from, S4gRunState to)
{
    switch (from) {
    case S4G_RUN_QUEUED:
        return to == S4G_RUN_RUNNING || to == S4G_RUN_FAILED;
    case S4G_RUN_RUNNING:
        return to == S4G_RUN_STOPPED || to == S4G_RUN_FAILED || to == S4G_RUN_DONE;
    case S4G_RUN_STOPPED:
    case S4G_RUN_FAILED:
    case S4G_RUN_INTERRUPTED:
        return to == S4G_RUN_RUNNING;
    case S4G_RUN_DONE:
        return FALSE;
    }
    return FALSE;
}

void s4g_run_row_free(S4gRunRow *r)
{
    if (!r) return;
    g_free(r->config);
    g_free(r->checkpoint);
    g_free(r->started);
    g_free(r->finished);
    g_free(r->message);
    g_free(r);
}

gint64 s4g_store_run_add(S4gStore *store, gint64 model, gint64 dataset, const char *config,
                         GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store, "INSERT INTO runs (model, dataset, config, state) VALUES (?,?,?,'queued')", error);
    if (!st) return 0;
    s4g_store_bind_id(st, 1, model);
    s4g_store_bind_id(st, 2, dataset);
    sqlite3_bind_text(st, 3, config ? config : "{}", -1, SQLITE_TRANSIENT);
    if (!s4g_store_step_done(store, st, "adding run", error)) return 0;
    return sqlite3_last_insert_rowid(s4g_store_db(store));
}

#define RUN_COLS "id, model, dataset, config, state, checkpoint, pid, started, finished, message"

static S4gRunRow *run_from(sqlite3_stmt *st)
{
    S4gRunRow *r = g_new0(S4gRunRow, 1);
    r->id = sqlite3_column_int64(st, 0);
    r->model = sqlite3_column_int64(st, 1);
    r->dataset = sqlite3_column_int64(st, 2);
    r->config = s4g_store_col_text(st, 3);
    s4g_run_state_parse((const char *)sqlite3_column_text(st, 4), &r->state);
    r->checkpoint = s4g_store_col_text(st, 5);
    r->pid = sqlite3_column_int64(st, 6);
    r->started = s4g_store_col_text(st, 7);
    r->finished = s4g_store_col_text(st, 8);
    r->message = s4g_store_col_text(st, 9);
    return r;
}

S4gRunRow *s4g_store_run_get(S4gStore *store, gint64 id, GError **error)
{
    g_autoptr(sqlite3_stmt) st =
        s4g_store_prepare(store, "SELECT " RUN_COLS " FROM runs WHERE id = ?", error);
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) return run_from(st);
    if (rc != SQLITE_DONE)
        s4g_store_fail(store, "reading run", error);
    else
        s4g_store_not_found(error, "%s: no run %" G_GINT64_FORMAT, s4g_store_dir(store), id);
    return NULL;
}

GPtrArray *s4g_store_run_list(S4gStore *store, GError **error)
{
    g_autoptr(sqlite3_stmt) st =
        s4g_store_prepare(store, "SELECT " RUN_COLS " FROM runs ORDER BY id DESC", error);
    if (!st) return NULL;
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)s4g_run_row_free);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        g_ptr_array_add(out, run_from(st));
    if (rc != SQLITE_DONE) {
        s4g_store_fail(store, "listing runs", error);
        return NULL;
    }
    return g_steal_pointer(&out);
}

gboolean s4g_store_run_set_state(S4gStore *store, gint64 id, S4gRunState to, gint64 pid,
                                 const char *message, GError **error)
{
    if (!s4g_store_begin(store, error)) return FALSE;
    g_autoptr(S4gRunRow) cur = s4g_store_run_get(store, id, error);
    if (!cur) goto fail;
    if (!s4g_run_state_transition_ok(cur->state, to)) {
        g_set_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_INVALID,
                    "%s: run %" G_GINT64_FORMAT ": cannot go from %s to %s", s4g_store_dir(store),
                    id, s4g_run_state_name(cur->state), s4g_run_state_name(to));
        goto fail;
    }
    {
        const char *sql =
            to == S4G_RUN_RUNNING
                ? "UPDATE runs SET state = ?1, pid = ?2, message = ?3, finished = NULL, "
                  "started = coalesce(started, strftime('%Y-%m-%dT%H:%M:%fZ','now')) WHERE id = ?4"
                : "UPDATE runs SET state = ?1, pid = ?2, message = ?3, "
                  "finished = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE id = ?4";
        g_autoptr(sqlite3_stmt) st = s4g_store_prepare(store, sql, error);
        if (!st) goto fail;
        sqlite3_bind_text(st, 1, s4g_run_state_name(to), -1, SQLITE_STATIC);
        s4g_store_bind_id(st, 2, pid);
        if (message)
            sqlite3_bind_text(st, 3, message, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, 3);
        sqlite3_bind_int64(st, 4, id);
        if (!s4g_store_step_done(store, st, "setting run state", error)) goto fail;
    }
    return s4g_store_commit(store, error);
fail:
    s4g_store_rollback(store);
    return FALSE;
}

static gboolean run_set_column(S4gStore *store, gint64 id, const char *sql, const char *text,
                               gint64 num, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(store, sql, error);
    if (!st) return FALSE;
    if (text)
        sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
    else
        s4g_store_bind_id(st, 1, num);
    sqlite3_bind_int64(st, 2, id);
    if (!s4g_store_step_done(store, st, "updating run", error)) return FALSE;
    if (sqlite3_changes(s4g_store_db(store)) == 0)
        return s4g_store_not_found(error, "%s: no run %" G_GINT64_FORMAT, s4g_store_dir(store), id);
    return TRUE;
}

gboolean s4g_store_run_set_checkpoint(S4gStore *store, gint64 id, const char *checkpoint,
                                      GError **error)
{
    return run_set_column(store, id, "UPDATE runs SET checkpoint = ? WHERE id = ?", checkpoint, 0,
                          error);
}

gboolean s4g_store_run_interrupt(S4gStore *store, gint64 id, const char *message,
                                 gboolean *changed, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store,
        "UPDATE runs SET state = 'interrupted', pid = NULL, message = ?1, "
        "finished = strftime('%Y-%m-%dT%H:%M:%fZ','now') "
        "WHERE id = ?2 AND state IN ('queued','running')",
        error);
    if (!st) return FALSE;
    s4g_store_bind_text(st, 1, message);
    sqlite3_bind_int64(st, 2, id);
    if (!s4g_store_step_done(store, st, "marking run interrupted", error)) return FALSE;
    if (changed) *changed = sqlite3_changes(s4g_store_db(store)) > 0;
    return TRUE;
}

gboolean s4g_store_run_discard_after(S4gStore *store, gint64 id, guint epoch, gint64 step,
                                     GError **error)
{
    static const char *const sql[] = {
        "DELETE FROM metrics WHERE run = ?1 AND step > ?3",
        "DELETE FROM evaluations WHERE run = ?1 AND epoch >= ?2",
        "DELETE FROM mining_runs WHERE run = ?1 AND epoch >= ?2",
    };
    if (!s4g_store_begin(store, error)) return FALSE;
    for (guint i = 0; i < G_N_ELEMENTS(sql); i++) {
        g_autoptr(sqlite3_stmt) st = s4g_store_prepare(store, sql[i], error);
        if (!st) goto fail;
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, epoch);
        sqlite3_bind_int64(st, 3, step);
        if (!s4g_store_step_done(store, st, "discarding rows after the checkpoint", error))
            goto fail;
    }
    return s4g_store_commit(store, error);
fail:
    s4g_store_rollback(store);
    return FALSE;
}

gboolean s4g_store_run_set_model(S4gStore *store, gint64 id, gint64 model, GError **error)
{
    return run_set_column(store, id, "UPDATE runs SET model = ? WHERE id = ?", NULL, model, error);
}

void s4g_run_summary_clear(S4gRunSummary *s)
{
    g_clear_pointer(&s->dataset, g_free);
    g_clear_pointer(&s->model, g_free);
    g_clear_pointer(&s->architecture, g_free);
    g_clear_pointer(&s->started, g_free);
    g_clear_pointer(&s->checkpoint, g_free);
    g_clear_pointer(&s->message, g_free);
}

static char *text_or_empty(sqlite3_stmt *st, int i)
{
    char *t = s4g_store_col_text(st, i);
    return t ? t : g_strdup("");
}

GArray *s4g_store_run_summaries(S4gStore *store, GError **error)
{
    /* One statement: the counts and the best R@1 come from indexed per-run lookups
     * (metrics' primary key starts with run). */
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store,
        "SELECT r.id, d.name, m.name, m.architecture, r.state, r.started, r.checkpoint, "
        "       r.message, (SELECT MAX(e.r1) FROM evaluations e WHERE e.run = r.id), "
        "       (SELECT COUNT(*) FROM metrics x WHERE x.run = r.id), "
        "       (SELECT COUNT(*) FROM evaluations e WHERE e.run = r.id) "
        "FROM runs r LEFT JOIN datasets d ON d.id = r.dataset "
        "LEFT JOIN models m ON m.id = r.model ORDER BY r.id DESC",
        error);
    if (!st) return NULL;
    g_autoptr(GArray) out = g_array_new(FALSE, TRUE, sizeof(S4gRunSummary));
    g_array_set_clear_func(out, (GDestroyNotify)s4g_run_summary_clear);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        S4gRunSummary s = {.id = sqlite3_column_int64(st, 0)};
        const char *state = (const char *)sqlite3_column_text(st, 4);
        if (!s4g_run_state_parse(state, &s.state)) {
            g_set_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_INVALID,
                        "runs: run %" G_GINT64_FORMAT ": unknown state “%s”", s.id,
                        state ? state : "(null)");
            return NULL;
        }
        s.dataset = text_or_empty(st, 1);
        s.model = text_or_empty(st, 2);
        s.architecture = text_or_empty(st, 3);
        s.started = s4g_store_col_text(st, 5);
        s.checkpoint = s4g_store_col_text(st, 6);
        s.message = s4g_store_col_text(st, 7);
        s.best_r1 = s4g_store_col_real(st, 8);
        s.n_metrics = (guint)sqlite3_column_int64(st, 9);
        s.n_evals = (guint)sqlite3_column_int64(st, 10);
        g_array_append_val(out, s);
    }
    if (rc != SQLITE_DONE) return s4g_store_fail(store, "listing runs", error), NULL;
    return g_steal_pointer(&out);
}
