/* s4g-mbtiles-source.c — MBTiles map source (see the header). */
#define G_LOG_DOMAIN "s4g-studio"
#include "s4g-mbtiles-source.h"

#include <sqlite3.h>
#include <stdlib.h>

struct _S4gMbtilesSource {
    ShumateMapSource parent_instance;
    sqlite3 *db;
    GMutex lock; /* one statement, shared by the worker threads */
    sqlite3_stmt *select;
    char *path;
    gboolean has_center;
    double center_lat, center_lon, center_zoom;
};

G_DEFINE_FINAL_TYPE(S4gMbtilesSource, s4g_mbtiles_source, SHUMATE_TYPE_MAP_SOURCE)

typedef struct {
    guint x, y, z;
} TileKey;

GBytes *s4g_mbtiles_source_read_tile(S4gMbtilesSource *self, guint z, guint x, guint y,
                                     GError **error)
{
    g_return_val_if_fail(S4G_IS_MBTILES_SOURCE(self), NULL);
    if (z > 30 || x >= (1u << z) || y >= (1u << z)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "%s: tile %u/%u/%u is outside the tile grid", self->path, z, x, y);
        return NULL;
    }
    guint tms_row = (1u << z) - 1 - y;
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&self->lock);
    sqlite3_reset(self->select);
    sqlite3_bind_int(self->select, 1, (int)z);
    sqlite3_bind_int(self->select, 2, (int)x);
    sqlite3_bind_int(self->select, 3, (int)tms_row);
    int rc = sqlite3_step(self->select);
    if (rc == SQLITE_ROW) {
        const void *blob = sqlite3_column_blob(self->select, 0);
        int n = sqlite3_column_bytes(self->select, 0);
        GBytes *bytes = g_bytes_new(blob, (gsize)n);
        sqlite3_reset(self->select);
        return bytes;
    }
    if (rc == SQLITE_DONE)
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s: no tile %u/%u/%u (TMS row %u)",
                    self->path, z, x, y, tms_row);
    else
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: reading tile %u/%u/%u: %s",
                    self->path, z, x, y, sqlite3_errmsg(self->db));
    sqlite3_reset(self->select);
    return NULL;
}

static void read_worker(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    const TileKey *k = data;
    GError *error = NULL;
    if (g_task_return_error_if_cancelled(task))
        return;
    g_autoptr(GBytes) bytes =
        s4g_mbtiles_source_read_tile(S4G_MBTILES_SOURCE(source), k->z, k->x, k->y, &error);
    if (!bytes) {
        g_task_return_error(task, error);
        return;
    }
    GdkTexture *texture = gdk_texture_new_from_bytes(bytes, &error);
    if (!texture) {
        g_prefix_error(&error, "%s: tile %u/%u/%u: ", S4G_MBTILES_SOURCE(source)->path, k->z,
                       k->x, k->y);
        g_task_return_error(task, error);
        return;
    }
    g_task_return_pointer(task, texture, g_object_unref);
}

static void read_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GTask) outer = data;
    GError *error = NULL;
    g_autoptr(GdkTexture) texture = g_task_propagate_pointer(G_TASK(res), &error);
    if (!texture) {
        g_task_return_error(outer, error);
        return;
    }
    ShumateTile *tile = g_task_get_task_data(outer);
    shumate_tile_set_paintable(tile, GDK_PAINTABLE(texture));
    shumate_tile_set_fade_in(tile, TRUE);
    shumate_tile_set_state(tile, SHUMATE_STATE_DONE);
    g_task_return_boolean(outer, TRUE);
}

static void fill_tile_async(ShumateMapSource *source, ShumateTile *tile,
                            GCancellable *cancellable, GAsyncReadyCallback callback,
                            gpointer user_data)
{
    GTask *outer = g_task_new(source, cancellable, callback, user_data);
    g_task_set_source_tag(outer, fill_tile_async);
    g_task_set_task_data(outer, g_object_ref(tile), g_object_unref);

    TileKey *k = g_new(TileKey, 1);
    k->x = shumate_tile_get_x(tile);
    k->y = shumate_tile_get_y(tile);
    k->z = shumate_tile_get_zoom_level(tile);
    g_autoptr(GTask) inner = g_task_new(source, cancellable, read_done, outer);
    g_task_set_task_data(inner, k, g_free);
    g_task_run_in_thread(inner, read_worker);
}

static gboolean fill_tile_finish(ShumateMapSource *source, GAsyncResult *res, GError **error)
{
    return g_task_propagate_boolean(G_TASK(res), error);
}

static void finalize(GObject *object)
{
    S4gMbtilesSource *self = S4G_MBTILES_SOURCE(object);
    sqlite3_finalize(self->select);
    sqlite3_close_v2(self->db);
    g_mutex_clear(&self->lock);
    g_free(self->path);
    G_OBJECT_CLASS(s4g_mbtiles_source_parent_class)->finalize(object);
}

static void s4g_mbtiles_source_class_init(S4gMbtilesSourceClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = finalize;
    SHUMATE_MAP_SOURCE_CLASS(klass)->fill_tile_async = fill_tile_async;
    SHUMATE_MAP_SOURCE_CLASS(klass)->fill_tile_finish = fill_tile_finish;
}

static void s4g_mbtiles_source_init(S4gMbtilesSource *self)
{
    g_mutex_init(&self->lock);
}

static char *metadata(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st = NULL;
    char *value = NULL;
    if (sqlite3_prepare_v2(db, "SELECT value FROM metadata WHERE name = ?", -1, &st, NULL) !=
        SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        value = g_strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return value;
}

static guint metadata_uint(sqlite3 *db, const char *name, guint fallback)
{
    g_autofree char *v = metadata(db, name);
    guint64 n;
    if (v && g_ascii_string_to_unsigned(v, 10, 0, 30, &n, NULL))
        return (guint)n;
    return fallback;
}

/* Parses "a,b,c[,d]" into doubles; returns how many were read. */
static int parse_doubles(const char *s, double *out, int max)
{
    if (!s)
        return 0;
    g_auto(GStrv) parts = g_strsplit(s, ",", -1);
    int n = 0;
    for (; parts[n] && n < max; n++) {
        char *end = NULL;
        out[n] = g_ascii_strtod(parts[n], &end);
        if (end == parts[n])
            return n;
    }
    return n;
}

S4gMbtilesSource *s4g_mbtiles_source_new(const char *path, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    sqlite3 *db = NULL;
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s: no such MBTiles file", path);
        return NULL;
    }
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, NULL) !=
        SQLITE_OK) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", path,
                    db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close_v2(db);
        return NULL;
    }
    sqlite3_stmt *select = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? "
                           "AND tile_row = ?",
                           -1, &select, NULL) != SQLITE_OK) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: not an MBTiles file (no readable tiles table): %s", path,
                    sqlite3_errmsg(db));
        sqlite3_close_v2(db);
        return NULL;
    }
    g_autofree char *name = metadata(db, "name");
    g_autofree char *attribution = metadata(db, "attribution");
    g_autofree char *basename = g_path_get_basename(path);
    /* The id keys libshumate's tile memory cache, so it must differ per file. */
    g_autofree char *id = g_strdup_printf("s4g-mbtiles:%s", path);
    S4gMbtilesSource *self = g_object_new(
        S4G_TYPE_MBTILES_SOURCE, "id", id, "name", name ? name : basename, "license",
        attribution ? attribution : "", "min-zoom-level", metadata_uint(db, "minzoom", 0),
        "max-zoom-level", metadata_uint(db, "maxzoom", 18), "tile-size", 256u, "projection",
        SHUMATE_MAP_PROJECTION_MERCATOR, NULL);
    self->db = db;
    self->select = select;
    self->path = g_strdup(path);

    g_autofree char *center = metadata(db, "center");
    g_autofree char *bounds = metadata(db, "bounds");
    double v[4];
    if (parse_doubles(center, v, 3) >= 2) {
        self->has_center = TRUE;
        self->center_lon = v[0];
        self->center_lat = v[1];
        self->center_zoom = parse_doubles(center, v, 3) == 3 ? v[2] : 12;
    } else if (parse_doubles(bounds, v, 4) == 4) {
        self->has_center = TRUE;
        self->center_lon = (v[0] + v[2]) / 2;
        self->center_lat = (v[1] + v[3]) / 2;
        self->center_zoom = metadata_uint(db, "maxzoom", 12);
    }
    return self;
}

gboolean s4g_mbtiles_source_get_center(S4gMbtilesSource *self, double *lat, double *lon,
                                       double *zoom)
{
    g_return_val_if_fail(S4G_IS_MBTILES_SOURCE(self), FALSE);
    if (!self->has_center)
        return FALSE;
    *lat = self->center_lat;
    *lon = self->center_lon;
    *zoom = self->center_zoom;
    return TRUE;
}
