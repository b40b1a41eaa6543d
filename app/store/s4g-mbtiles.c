/* s4g-mbtiles.c — MBTiles 1.3 reading and writing on SQLite. */
#include "s4g-mbtiles.h"
#include "s4g-store-private.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdlib.h>

struct _S4gMbtiles {
    sqlite3 *db;
    char *path;
    char *format;
    gboolean writing;
    sqlite3_stmt *get, *put;
    GMutex lock;
    gint budget; /* progress callbacks left to the current query of a read-only open */
};

/* A user's MBTiles may make `tiles` or `metadata` a VIEW over an endless recursive query:
 * every query of a read-only open gets a budget of VM steps (1000 per callback), then fails
 * ("interrupted"); tiles and metadata values are capped at 64 MB. */
#define READ_BUDGET_CALLBACKS 20000
#define READ_MAX_VALUE_BYTES (64 << 20)

static int over_budget(void *data)
{
    S4gMbtiles *mb = data;
    return g_atomic_int_dec_and_test(&mb->budget) ? 1 : 0;
}

static void new_query(S4gMbtiles *mb)
{
    g_atomic_int_set(&mb->budget, READ_BUDGET_CALLBACKS);
}

static gboolean fail(S4gMbtiles *mb, const char *what, GError **error)
{
    gboolean budget = mb->db && sqlite3_errcode(mb->db) == SQLITE_INTERRUPT;
    g_set_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_SQL, "%s: %s: %s%s", mb->path, what,
                mb->db ? sqlite3_errmsg(mb->db) : "cannot open",
                budget ? " (the query ran past its step budget: a VIEW over an endless query, "
                         "or a tiles table without its index?)"
                       : "");
    return FALSE;
}

static gboolean exec(S4gMbtiles *mb, const char *sql, GError **error)
{
    if (sqlite3_exec(mb->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return fail(mb, sql, error);
    return TRUE;
}

void s4g_mbtiles_close(S4gMbtiles *mb)
{
    if (!mb)
        return;
    if (mb->get)
        sqlite3_finalize(mb->get);
    if (mb->put)
        sqlite3_finalize(mb->put);
    if (mb->db) {
        if (mb->writing)
            sqlite3_exec(mb->db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(mb->db);
    }
    g_mutex_clear(&mb->lock);
    g_free(mb->path);
    g_free(mb->format);
    g_free(mb);
}

static S4gMbtiles *mb_new(const char *path)
{
    S4gMbtiles *mb = g_new0(S4gMbtiles, 1);
    mb->path = g_strdup(path);
    g_mutex_init(&mb->lock);
    return mb;
}

S4gMbtiles *s4g_mbtiles_create(const char *path, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    g_autoptr(S4gMbtiles) mb = mb_new(path);
    if (g_unlink(path) != 0 && errno != ENOENT) {
        g_set_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_INVALID, "%s: cannot replace: %s", path,
                    g_strerror(errno));
        return NULL;
    }
    if (sqlite3_open_v2(path, &mb->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        fail(mb, "create", error);
        return NULL;
    }
    /* No journal file and a fixed page size: a fresh set written in one transaction, which
     * also makes the file's bytes a function of its contents (reproducible datasets). */
    g_autofree char *app = g_strdup_printf("PRAGMA application_id=%d", S4G_MBTILES_APPLICATION_ID);
    if (!exec(mb, "PRAGMA page_size=4096", error) || !exec(mb, "PRAGMA journal_mode=OFF", error) ||
        !exec(mb, "PRAGMA synchronous=OFF", error) || !exec(mb, app, error) ||
        !exec(mb, "BEGIN", error))
        return NULL;
    mb->writing = TRUE;
    if (!exec(mb, "CREATE TABLE metadata (name text, value text)", error) ||
        !exec(mb, "CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, "
                  "tile_data blob)",
              error) ||
        !exec(mb, "CREATE UNIQUE INDEX tile_index on tiles (zoom_level, tile_column, tile_row)", error) ||
        !exec(mb, "CREATE UNIQUE INDEX name on metadata (name)", error))
        return NULL;
    if (sqlite3_prepare_v2(mb->db, "INSERT OR REPLACE INTO tiles VALUES (?, ?, ?, ?)", -1, &mb->put, NULL) !=
        SQLITE_OK) {
        fail(mb, "prepare insert", error);
        return NULL;
    }
    return g_steal_pointer(&mb);
}

gboolean s4g_mbtiles_set_metadata(S4gMbtiles *mb, const char *name, const char *value, GError **error)
{
    g_autoptr(sqlite3_stmt) st = NULL;
    if (sqlite3_prepare_v2(mb->db, "INSERT OR REPLACE INTO metadata VALUES (?, ?)", -1, &st, NULL) != SQLITE_OK)
        return fail(mb, "prepare metadata", error);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE)
        return fail(mb, "write metadata", error);
    if (!g_strcmp0(name, "format")) {
        g_free(mb->format);
        mb->format = g_strdup(value);
    }
    return TRUE;
}

static gboolean check_zxy(S4gMbtiles *mb, int z, int x, int y, GError **error)
{
    if (z < 0 || z > 30 || x < 0 || y < 0 || x >= (1 << z) || y >= (1 << z)) {
        g_set_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_INVALID, "%s: tile %d/%d/%d is out of range",
                    mb->path, z, x, y);
        return FALSE;
    }
    return TRUE;
}

gboolean s4g_mbtiles_put_tile(S4gMbtiles *mb, int z, int x, int y_xyz, const void *data, gsize len,
                              GError **error)
{
    g_return_val_if_fail(mb != NULL && (data != NULL || len == 0), FALSE);
    if (!mb->put) {
        g_set_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_INVALID, "%s: not open for writing", mb->path);
        return FALSE;
    }
    if (!check_zxy(mb, z, x, y_xyz, error))
        return FALSE;
    sqlite3_reset(mb->put);
    sqlite3_bind_int(mb->put, 1, z);
    sqlite3_bind_int(mb->put, 2, x);
    sqlite3_bind_int(mb->put, 3, (1 << z) - 1 - y_xyz); /* TMS row */
    sqlite3_bind_blob64(mb->put, 4, data, len, SQLITE_TRANSIENT);
    if (sqlite3_step(mb->put) != SQLITE_DONE)
        return fail(mb, "write tile", error);
    return TRUE;
}

gboolean s4g_mbtiles_finish(S4gMbtiles *mb, GError **error)
{
    if (!mb->writing)
        return TRUE;
    if (mb->put) {
        sqlite3_finalize(mb->put);
        mb->put = NULL;
    }
    if (!exec(mb, "COMMIT", error))
        return FALSE;
    mb->writing = FALSE;
    return TRUE;
}

S4gMbtiles *s4g_mbtiles_open(const char *path, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    g_autoptr(S4gMbtiles) mb = mb_new(path);
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_NOT_FOUND, "%s: no such tile set", path);
        return NULL;
    }
    if (sqlite3_open_v2(path, &mb->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
        fail(mb, "open", error);
        return NULL;
    }
    sqlite3_progress_handler(mb->db, 1000, over_budget, mb);
    sqlite3_limit(mb->db, SQLITE_LIMIT_LENGTH, READ_MAX_VALUE_BYTES);
    new_query(mb);
    if (sqlite3_prepare_v2(mb->db,
                           "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                           -1, &mb->get, NULL) != SQLITE_OK) {
        fail(mb, "not an MBTiles file (tiles table)", error);
        return NULL;
    }
    g_autoptr(sqlite3_stmt) st = NULL;
    if (sqlite3_prepare_v2(mb->db, "SELECT value FROM metadata WHERE name = 'format'", -1, &st, NULL) != SQLITE_OK) {
        fail(mb, "not an MBTiles file (metadata table)", error);
        return NULL;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_text(st, 0))
        mb->format = g_strdup((const char *)sqlite3_column_text(st, 0));
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        fail(mb, "reading metadata", error);
        return NULL;
    }
    return g_steal_pointer(&mb);
}

GBytes *s4g_mbtiles_get_tile(S4gMbtiles *mb, int z, int x, int y_xyz, GError **error)
{
    g_return_val_if_fail(mb != NULL, NULL);
    if (z < 0 || z > 30 || x < 0 || y_xyz < 0 || x >= (1 << z) || y_xyz >= (1 << z))
        return NULL; /* outside the world: simply no tile */
    g_mutex_lock(&mb->lock);
    sqlite3_stmt *st = mb->get;
    if (!st) {
        g_mutex_unlock(&mb->lock);
        g_set_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_INVALID, "%s: not open for reading", mb->path);
        return NULL;
    }
    sqlite3_reset(st);
    new_query(mb);
    sqlite3_bind_int(st, 1, z);
    sqlite3_bind_int(st, 2, x);
    sqlite3_bind_int(st, 3, (1 << z) - 1 - y_xyz);
    GBytes *out = NULL;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const void *p = sqlite3_column_blob(st, 0);
        int n = sqlite3_column_bytes(st, 0);
        out = g_bytes_new(p, (gsize)n);
    } else if (rc != SQLITE_DONE) {
        fail(mb, "read tile", error);
    }
    sqlite3_reset(st);
    g_mutex_unlock(&mb->lock);
    return out;
}

char *s4g_mbtiles_get_metadata(S4gMbtiles *mb, const char *name)
{
    g_autoptr(sqlite3_stmt) st = NULL;
    if (sqlite3_prepare_v2(mb->db, "SELECT value FROM metadata WHERE name = ?", -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    new_query(mb);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        return g_strdup((const char *)sqlite3_column_text(st, 0));
    return NULL;
}

gboolean s4g_mbtiles_get_bounds(S4gMbtiles *mb, double bounds[4])
{
    g_autofree char *v = s4g_mbtiles_get_metadata(mb, "bounds");
    if (!v)
        return FALSE;
    g_auto(GStrv) parts = g_strsplit(v, ",", -1);
    if (g_strv_length(parts) != 4)
        return FALSE;
    for (int i = 0; i < 4; i++) {
        char *end = NULL;
        bounds[i] = g_ascii_strtod(g_strstrip(parts[i]), &end);
        if (!end || *end || end == parts[i])
            return FALSE;
    }
    return TRUE;
}

static int zoom_row(S4gMbtiles *mb, const char *name)
{
    g_autofree char *v = s4g_mbtiles_get_metadata(mb, name);
    if (!v)
        return -1;
    char *end = NULL;
    gint64 z = g_ascii_strtoll(g_strstrip(v), &end, 10);
    if (!end || *end || end == v || z < 0 || z > 30)
        return -1;
    return (int)z;
}

int s4g_mbtiles_get_min_zoom(S4gMbtiles *mb)
{
    return zoom_row(mb, "minzoom");
}

int s4g_mbtiles_get_max_zoom(S4gMbtiles *mb)
{
    return zoom_row(mb, "maxzoom");
}

const char *s4g_mbtiles_get_format(S4gMbtiles *mb)
{
    return mb->format;
}

const char *s4g_mbtiles_get_path(S4gMbtiles *mb)
{
    return mb->path;
}
