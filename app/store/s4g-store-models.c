/* s4g-store-models.c — the models table: named weights files with their architecture (JSON) and
 * parent. */
#include "s4g-store-models.h"
#include "s4g-store-private.h"

#include <math.h>
#include <string.h>

void s4g_model_row_free(S4gModelRow *m)
{
    if (!m) return;
    g_free(m->name);
    g_free(m->architecture);
    g_free(m->weights);
    g_free(m->created);
    g_free(m->source);
    g_free(m->sha256);
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
    s4g_store_bind_id(st, 4, parent);
    g_autofree char *what = g_strdup_printf("adding model “%s”", name);
    if (!s4g_store_step_done(store, st, what, error)) return 0;
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
    if (!s4g_store_step_done(store, st, "setting model weights", error)) return FALSE;
    if (sqlite3_changes(s4g_store_db(store)) == 0)
        return s4g_store_not_found(error, "%s: no model %" G_GINT64_FORMAT, s4g_store_dir(store),
                                   id);
    return TRUE;
}

gboolean s4g_store_model_set_source(S4gStore *store, gint64 id, const char *source,
                                    const char *sha256, GError **error)
{
    g_autoptr(sqlite3_stmt) st =
        s4g_store_prepare(store, "UPDATE models SET source = ?, sha256 = ? WHERE id = ?", error);
    if (!st) return FALSE;
    s4g_store_bind_text(st, 1, source);
    s4g_store_bind_text(st, 2, sha256);
    sqlite3_bind_int64(st, 3, id);
    if (!s4g_store_step_done(store, st, "recording a model's source", error)) return FALSE;
    if (sqlite3_changes(s4g_store_db(store)) == 0)
        return s4g_store_not_found(error, "%s: no model %" G_GINT64_FORMAT, s4g_store_dir(store),
                                   id);
    return TRUE;
}

#define MODEL_COLS "id, name, architecture, weights, parent, created, source, sha256"

static S4gModelRow *model_from(sqlite3_stmt *st)
{
    S4gModelRow *m = g_new0(S4gModelRow, 1);
    m->id = sqlite3_column_int64(st, 0);
    m->name = s4g_store_col_text(st, 1);
    m->architecture = s4g_store_col_text(st, 2);
    m->weights = s4g_store_col_text(st, 3);
    m->parent = sqlite3_column_int64(st, 4);
    m->created = s4g_store_col_text(st, 5);
    m->source = s4g_store_col_text(st, 6);
    m->sha256 = s4g_store_col_text(st, 7);
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
        s4g_store_not_found(error, "%s: no model named “%s”", s4g_store_dir(store), name);
    else
        s4g_store_not_found(error, "%s: no model %" G_GINT64_FORMAT, s4g_store_dir(store), id);
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
