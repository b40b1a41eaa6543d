/* s4g-store-runs.c — models, runs, metrics, evaluations, embeddings, mining, predictions. */
#define G_LOG_DOMAIN "s4g-store"
#include "s4g-store-runs.h"

#include <math.h>
#include <string.h>

static char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? g_strdup((const char *)t) : NULL;
}

static double col_real_or_nan(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static void bind_id_or_null(sqlite3_stmt *st, int i, gint64 id)
{
    if (id > 0)
        sqlite3_bind_int64(st, i, id);
    else
        sqlite3_bind_null(st, i);
}

static void bind_real_or_null(sqlite3_stmt *st, int i, double v)
{
    if (isnan(v))
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, v);
}

/* Steps a statement that returns no rows. */
static gboolean step_done(S4gStore *store, sqlite3_stmt *st, const char *what, GError **error)
{
    if (sqlite3_step(st) != SQLITE_DONE) return s4g_store_fail(store, what, error);
    return TRUE;
}

static gboolean not_found(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static gboolean not_found(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, S4G_STORE_ERROR, S4G_STORE_ERROR_NOT_FOUND, msg);
    return FALSE;
}

/* ------------------------------------------------------------------ models */

void s4g_model_row_free(S4gModelRow *m)
{
    if (!m) return;
    g_free(m->name);
    g_free(m->architecture);
    g_free(m->weights);
    g_free(m->created);
    g_free(m);
}

gint64 s4g_store_model_add(S4gStore *store, const char *name, const char *architecture,
                           const char *weights, gint64 parent, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store, "INSERT INTO models (name, architecture, weights, parent) VALUES (?,?,?,?)", error);
    if (!st) return 0;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, architecture, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, weights, -1, SQLITE_TRANSIENT);
    bind_id_or_null(st, 4, parent);
    g_autofree char *what = g_strdup_printf("adding model “%s”", name);
    if (!step_done(store, st, what, error)) return 0;
    return sqlite3_last_insert_rowid(s4g_store_db(store));
}

gboolean s4g_store_model_set_weights(S4gStore *store, gint64 id, const char *weights,
                                     GError **error)
{
    g_autoptr(sqlite3_stmt) st =
        s4g_store_prepare(store, "UPDATE models SET weights = ? WHERE id = ?", error);
    if (!st) return FALSE;
    sqlite3_bind_text(st, 1, weights, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, id);
    if (!step_done(store, st, "setting model weights", error)) return FALSE;
    if (sqlite3_changes(s4g_store_db(store)) == 0)
        return not_found(error, "%s: no model %" G_GINT64_FORMAT, s4g_store_dir(store), id);
    return TRUE;
}

#define MODEL_COLS "id, name, architecture, weights, parent, created"

static S4gModelRow *model_from(sqlite3_stmt *st)
{
    S4gModelRow *m = g_new0(S4gModelRow, 1);
    m->id = sqlite3_column_int64(st, 0);
    m->name = col_text(st, 1);
    m->architecture = col_text(st, 2);
    m->weights = col_text(st, 3);
    m->parent = sqlite3_column_int64(st, 4);
    m->created = col_text(st, 5);
    return m;
}

S4gModelRow *s4g_store_model_get(S4gStore *store, gint64 id, const char *name, GError **error)
{
    g_autoptr(sqlite3_stmt) st =
        s4g_store_prepare(store,
                          name ? "SELECT " MODEL_COLS " FROM models WHERE name = ?"
                               : "SELECT " MODEL_COLS " FROM models WHERE id = ?",
                          error);
    if (!st) return NULL;
    if (name)
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) return model_from(st);
    if (rc != SQLITE_DONE) {
        s4g_store_fail(store, "reading model", error);
        return NULL;
    }
    if (name)
        not_found(error, "%s: no model named “%s”", s4g_store_dir(store), name);
    else
        not_found(error, "%s: no model %" G_GINT64_FORMAT, s4g_store_dir(store), id);
    return NULL;
}

GPtrArray *s4g_store_model_list(S4gStore *store, GError **error)
{
    g_autoptr(sqlite3_stmt) st =
        s4g_store_prepare(store, "SELECT " MODEL_COLS " FROM models ORDER BY id", error);
    if (!st) return NULL;
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)s4g_model_row_free);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        g_ptr_array_add(out, model_from(st));
    if (rc != SQLITE_DONE) {
        s4g_store_fail(store, "listing models", error);
        return NULL;
    }
    return g_steal_pointer(&out);
}

/* ------------------------------------------------------------------ runs */

static const char *const state_names[] = {"queued", "running", "stopped", "failed", "done"};

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
    bind_id_or_null(st, 1, model);
    bind_id_or_null(st, 2, dataset);
    sqlite3_bind_text(st, 3, config ? config : "{}", -1, SQLITE_TRANSIENT);
    if (!step_done(store, st, "adding run", error)) return 0;
    return sqlite3_last_insert_rowid(s4g_store_db(store));
}

#define RUN_COLS "id, model, dataset, config, state, checkpoint, pid, started, finished, message"

static S4gRunRow *run_from(sqlite3_stmt *st)
{
    S4gRunRow *r = g_new0(S4gRunRow, 1);
    r->id = sqlite3_column_int64(st, 0);
    r->model = sqlite3_column_int64(st, 1);
    r->dataset = sqlite3_column_int64(st, 2);
    r->config = col_text(st, 3);
    s4g_run_state_parse((const char *)sqlite3_column_text(st, 4), &r->state);
    r->checkpoint = col_text(st, 5);
    r->pid = sqlite3_column_int64(st, 6);
    r->started = col_text(st, 7);
    r->finished = col_text(st, 8);
    r->message = col_text(st, 9);
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
        not_found(error, "%s: no run %" G_GINT64_FORMAT, s4g_store_dir(store), id);
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
        bind_id_or_null(st, 2, pid);
        if (message)
            sqlite3_bind_text(st, 3, message, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(st, 3);
        sqlite3_bind_int64(st, 4, id);
        if (!step_done(store, st, "setting run state", error)) goto fail;
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
        bind_id_or_null(st, 1, num);
    sqlite3_bind_int64(st, 2, id);
    if (!step_done(store, st, "updating run", error)) return FALSE;
    if (sqlite3_changes(s4g_store_db(store)) == 0)
        return not_found(error, "%s: no run %" G_GINT64_FORMAT, s4g_store_dir(store), id);
    return TRUE;
}

gboolean s4g_store_run_set_checkpoint(S4gStore *store, gint64 id, const char *checkpoint,
                                      GError **error)
{
    return run_set_column(store, id, "UPDATE runs SET checkpoint = ? WHERE id = ?", checkpoint, 0,
                          error);
}

gboolean s4g_store_run_set_model(S4gStore *store, gint64 id, gint64 model, GError **error)
{
    return run_set_column(store, id, "UPDATE runs SET model = ? WHERE id = ?", NULL, model, error);
}

/* ------------------------------------------------------------------ metrics */

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
        bind_real_or_null(st, 4, r->loss);
        bind_real_or_null(st, 5, r->lr);
        bind_real_or_null(st, 6, r->logit_scale);
        bind_real_or_null(st, 7, r->images_per_s);
        bind_real_or_null(st, 8, r->wall);
        if (!step_done(store, st, "adding metrics", error)) goto fail;
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
                          col_real_or_nan(st, 2),      col_real_or_nan(st, 3),
                          col_real_or_nan(st, 4),      col_real_or_nan(st, 5),
                          col_real_or_nan(st, 6)};
        g_array_append_val(out, r);
    }
    if (rc != SQLITE_DONE) {
        s4g_store_fail(store, "listing metrics", error);
        return NULL;
    }
    return g_steal_pointer(&out);
}

/* ------------------------------------------------------------------ evaluations */

void s4g_evaluation_row_free(S4gEvaluationRow *e)
{
    if (!e) return;
    g_free(e->split);
    g_free(e->created);
    g_free(e);
}

gint64 s4g_store_evaluation_add(S4gStore *store, const S4gEvaluationRow *e, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store,
        "INSERT INTO evaluations (model, run, dataset, split, epoch, r1, r5, r10, r1pct, "
        "hit_rate, ap, queries, refs) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        error);
    if (!st) return 0;
    bind_id_or_null(st, 1, e->model);
    bind_id_or_null(st, 2, e->run);
    sqlite3_bind_int64(st, 3, e->dataset);
    sqlite3_bind_text(st, 4, e->split ? e->split : "", -1, SQLITE_TRANSIENT);
    if (e->epoch >= 0)
        sqlite3_bind_int64(st, 5, e->epoch);
    else
        sqlite3_bind_null(st, 5);
    const double v[] = {e->r1, e->r5, e->r10, e->r1pct, e->hit_rate, e->ap};
    for (int i = 0; i < 6; i++)
        bind_real_or_null(st, 6 + i, v[i]);
    sqlite3_bind_int64(st, 12, e->queries);
    sqlite3_bind_int64(st, 13, e->refs);
    if (!step_done(store, st, "adding evaluation", error)) return 0;
    return sqlite3_last_insert_rowid(s4g_store_db(store));
}

GPtrArray *s4g_store_evaluation_list(S4gStore *store, gint64 model, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store,
        "SELECT id, model, run, dataset, split, epoch, r1, r5, r10, r1pct, hit_rate, ap, "
        "queries, refs, created FROM evaluations WHERE ?1 = 0 OR model = ?1 ORDER BY id DESC",
        error);
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, model);
    g_autoptr(GPtrArray) out =
        g_ptr_array_new_with_free_func((GDestroyNotify)s4g_evaluation_row_free);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        S4gEvaluationRow *e = g_new0(S4gEvaluationRow, 1);
        e->id = sqlite3_column_int64(st, 0);
        e->model = sqlite3_column_int64(st, 1);
        e->run = sqlite3_column_int64(st, 2);
        e->dataset = sqlite3_column_int64(st, 3);
        e->split = col_text(st, 4);
        e->epoch = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 5);
        double *v[] = {&e->r1, &e->r5, &e->r10, &e->r1pct, &e->hit_rate, &e->ap};
        for (int i = 0; i < 6; i++)
            *v[i] = col_real_or_nan(st, 6 + i);
        e->queries = sqlite3_column_int64(st, 12);
        e->refs = sqlite3_column_int64(st, 13);
        e->created = col_text(st, 14);
        g_ptr_array_add(out, e);
    }
    if (rc != SQLITE_DONE) {
        s4g_store_fail(store, "listing evaluations", error);
        return NULL;
    }
    return g_steal_pointer(&out);
}

/* ------------------------------------------------------------------ embeddings */

/* IEEE half <-> single, round to nearest even; denormals and infinities kept. */
static guint16 f32_to_f16(float f)
{
    guint32 x;
    memcpy(&x, &f, 4);
    guint32 sign = (x >> 16) & 0x8000u, e = (x >> 23) & 0xffu, m = x & 0x7fffffu;
    if (e == 0xff) /* inf / nan */
        return (guint16)(sign | 0x7c00u | (m ? 0x200u : 0));
    int ee = (int)e - 127 + 15;
    if (ee >= 31) return (guint16)(sign | 0x7c00u);
    if (ee <= 0) {
        if (ee < -10) return (guint16)sign;
        m |= 0x800000u;
        int shift = 14 - ee;
        guint32 h = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1))) h++;
        return (guint16)(sign | h);
    }
    guint32 h = ((guint32)ee << 10) | (m >> 13), rem = m & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1)))
        h++; /* may carry into the exponent, which is still the right rounding */
    return (guint16)(sign | h);
}

static float f16_to_f32(guint16 h)
{
    guint32 sign = (guint32)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, x;
    if (e == 0) {
        if (m == 0)
            x = sign;
        else {
            int k = -1;
            do {
                k++;
                m <<= 1;
            } while (!(m & 0x400u));
            x = sign | ((guint32)(127 - 15 - k) << 23) | ((m & 0x3ffu) << 13);
        }
    } else if (e == 31)
        x = sign | 0x7f800000u | (m << 13);
    else
        x = sign | ((e - 15 + 127) << 23) | (m << 13);
    float f;
    memcpy(&f, &x, 4);
    return f;
}

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
                half[d] = f32_to_f16(v[d]);
            sqlite3_bind_blob(st, 6, half, dim * 2, SQLITE_TRANSIENT);
        } else
            sqlite3_bind_blob(st, 6, v, dim * 4, SQLITE_TRANSIENT);
        if (!step_done(store, st, "storing embeddings", error)) goto fail;
    }
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
            not_found(error,
                      "%s: no embedding of image %" G_GINT64_FORMAT " by model %" G_GINT64_FORMAT,
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
            out[i] = f16_to_f32(h);
        }
    } else
        memcpy(out, blob, (gsize)d * 4);
    *dim = d;
    return out;
}

/* ------------------------------------------------------------------ mining */

gint64 s4g_store_mining_add(S4gStore *store, const char *kind, gint64 model, gint64 run,
                            gint64 dataset, gint64 epoch, const char *parameters, gsize n_anchors,
                            const gint64 *anchors, guint k, const guint *counts,
                            const gint64 *negatives, const float *scores, GError **error)
{
    if (!s4g_store_begin(store, error)) return 0;
    gint64 id = 0;
    {
        g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
            store,
            "INSERT INTO mining_runs (kind, model, run, dataset, epoch, parameters) "
            "VALUES (?,?,?,?,?,?)",
            error);
        if (!st) goto fail;
        sqlite3_bind_text(st, 1, kind, -1, SQLITE_TRANSIENT);
        bind_id_or_null(st, 2, model);
        bind_id_or_null(st, 3, run);
        sqlite3_bind_int64(st, 4, dataset);
        if (epoch >= 0)
            sqlite3_bind_int64(st, 5, epoch);
        else
            sqlite3_bind_null(st, 5);
        sqlite3_bind_text(st, 6, parameters ? parameters : "{}", -1, SQLITE_TRANSIENT);
        if (!step_done(store, st, "adding mining run", error)) goto fail;
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
                bind_real_or_null(st, 5, scores ? scores[a * k + r] : NAN);
                if (!step_done(store, st, "adding hard negatives", error)) goto fail;
            }
        }
    }
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

/* ------------------------------------------------------------------ predictions */

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
        if (!step_done(store, del, "clearing predictions", error)) goto fail;
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
            bind_id_or_null(st, 5, rows[i].reference);
            bind_real_or_null(st, 6, rows[i].score);
            bind_real_or_null(st, 7, rows[i].lat);
            bind_real_or_null(st, 8, rows[i].lon);
            if (!step_done(store, st, "adding predictions", error)) goto fail;
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
        S4gPredictionRow r = {sqlite3_column_int64(st, 0), col_real_or_nan(st, 1),
                              col_real_or_nan(st, 2), col_real_or_nan(st, 3)};
        g_array_append_val(out, r);
    }
    if (rc != SQLITE_DONE) {
        s4g_store_fail(store, "reading predictions", error);
        return NULL;
    }
    return g_steal_pointer(&out);
}
