/* s4g-store-annotations.c — the annotations table (see the header). */
#include "s4g-store-annotations.h"
#include "s4g-store-private.h"
#include "s4g-csv.h"
#include "s4g-json-out.h"

#include <math.h>

#include <string.h>

static const char *const flag_names[] = {"ok", "bad-pair", "wrong-location", "location"};

const char *s4g_annotation_flag_to_string(S4gAnnotationFlag flag)
{
    g_return_val_if_fail((guint)flag < G_N_ELEMENTS(flag_names), "ok");
    return flag_names[flag];
}

gboolean s4g_annotation_flag_from_string(const char *s, S4gAnnotationFlag *flag)
{
    for (guint i = 0; i < G_N_ELEMENTS(flag_names); i++)
        if (g_strcmp0(s, flag_names[i]) == 0) {
            *flag = (S4gAnnotationFlag)i;
            return TRUE;
        }
    return FALSE;
}

void s4g_annotation_free(S4gAnnotation *a)
{
    if (!a) return;
    g_free(a->note);
    g_free(a->created);
    g_free(a);
}

gint64 s4g_store_annotation_add(S4gStore *store, gint64 image, S4gAnnotationFlag flag,
                                gboolean has_location, double lat, double lon, const char *note,
                                GError **error)
{
    g_return_val_if_fail(store != NULL, 0);
    if (flag == S4G_ANNOTATION_LOCATION &&
        (!has_location || lat < -90 || lat > 90 || lon < -180 || lon > 180)) {
        g_set_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_INVALID,
                    "%s: annotation of image %" G_GINT64_FORMAT
                    ": a location flag needs a latitude in [-90, 90] and a longitude in "
                    "[-180, 180]",
                    s4g_store_dir(store), image);
        return 0;
    }
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store, "INSERT INTO annotations (image, lat, lon, flag, note, state) VALUES (?,?,?,?,?,?)",
        error);
    if (!st) return 0;
    sqlite3_bind_int64(st, 1, image);
    if (has_location) {
        sqlite3_bind_double(st, 2, lat);
        sqlite3_bind_double(st, 3, lon);
    }
    sqlite3_bind_text(st, 4, s4g_annotation_flag_to_string(flag), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, note ? note : "", -1, SQLITE_TRANSIENT);
    gboolean open = flag == S4G_ANNOTATION_BAD_PAIR || flag == S4G_ANNOTATION_WRONG_LOCATION;
    sqlite3_bind_text(st, 6, open ? "open" : "resolved", -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        g_autofree char *what =
            g_strdup_printf("adding an annotation to image %" G_GINT64_FORMAT, image);
        s4g_store_fail(store, what, error);
        return 0;
    }
    return sqlite3_last_insert_rowid(s4g_store_db(store));
}

static gboolean exec_on_id(S4gStore *store, const char *sql, gint64 id, const char *text,
                           GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(store, sql, error);
    if (!st) return FALSE;
    int i = 1;
    if (text) sqlite3_bind_text(st, i++, text, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, i, id);
    if (sqlite3_step(st) != SQLITE_DONE) {
        g_autofree char *what = g_strdup_printf("annotation %" G_GINT64_FORMAT, id);
        return s4g_store_fail(store, what, error);
    }
    if (sqlite3_changes(s4g_store_db(store)) != 1) {
        g_set_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_NOT_FOUND,
                    "%s: no annotation with id %" G_GINT64_FORMAT, s4g_store_dir(store), id);
        return FALSE;
    }
    return TRUE;
}

gboolean s4g_store_annotation_delete(S4gStore *store, gint64 id, GError **error)
{
    return exec_on_id(store, "DELETE FROM annotations WHERE id = ?", id, NULL, error);
}

gboolean s4g_store_annotation_set_open(S4gStore *store, gint64 id, gboolean open, GError **error)
{
    return exec_on_id(store, "UPDATE annotations SET state = ? WHERE id = ?", id,
                      open ? "open" : "resolved", error);
}

static S4gAnnotation *row_to_annotation(sqlite3_stmt *st)
{
    S4gAnnotation *a = g_new0(S4gAnnotation, 1);
    a->id = sqlite3_column_int64(st, 0);
    a->image = sqlite3_column_int64(st, 1);
    a->has_location = sqlite3_column_type(st, 2) != SQLITE_NULL;
    a->lat = sqlite3_column_double(st, 2);
    a->lon = sqlite3_column_double(st, 3);
    if (!s4g_annotation_flag_from_string((const char *)sqlite3_column_text(st, 4), &a->flag))
        a->flag = S4G_ANNOTATION_OK; /* the CHECK constraint makes this unreachable */
    a->note = g_strdup((const char *)sqlite3_column_text(st, 5));
    a->open = g_strcmp0((const char *)sqlite3_column_text(st, 6), "open") == 0;
    a->created = g_strdup((const char *)sqlite3_column_text(st, 7));
    return a;
}

GPtrArray *s4g_store_annotations_for_image(S4gStore *store, gint64 image, GError **error)
{
    g_autoptr(sqlite3_stmt) st =
        s4g_store_prepare(store,
                          "SELECT id, image, lat, lon, flag, note, state, created FROM "
                          "annotations WHERE image = ? ORDER BY id",
                          error);
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, image);
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)s4g_annotation_free);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        g_ptr_array_add(out, row_to_annotation(st));
    if (rc != SQLITE_DONE) {
        g_ptr_array_unref(out);
        s4g_store_fail(store, "reading annotations", error);
        return NULL;
    }
    return out;
}

gboolean s4g_store_annotation_location(S4gStore *store, gint64 image, double *lat, double *lon)
{
    g_autoptr(sqlite3_stmt) st =
        s4g_store_prepare(store,
                          "SELECT lat, lon FROM annotations WHERE image = ? AND flag = 'location' "
                          "AND lat IS NOT NULL ORDER BY id DESC LIMIT 1",
                          NULL);
    if (!st) return FALSE;
    sqlite3_bind_int64(st, 1, image);
    if (sqlite3_step(st) != SQLITE_ROW) return FALSE;
    *lat = sqlite3_column_double(st, 0);
    *lon = sqlite3_column_double(st, 1);
    return TRUE;
}

GHashTable *s4g_store_annotations_open_images(S4gStore *store, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store, "SELECT DISTINCT image FROM annotations WHERE state = 'open'", error);
    if (!st) return NULL;
    GHashTable *set = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    while (sqlite3_step(st) == SQLITE_ROW) {
        gint64 *k = g_new(gint64, 1);
        *k = sqlite3_column_int64(st, 0);
        g_hash_table_add(set, k);
    }
    return set;
}

static const char export_sql[] =
    "SELECT a.id, a.image, a.lat, a.lon, a.flag, a.note, a.state, a.created, i.path, i.lat, "
    "i.lon FROM annotations a JOIN images i ON i.id = a.image ORDER BY a.id";

/* The column as a double, NaN when NULL. */
static double column_double(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? NAN : sqlite3_column_double(st, col);
}

static gboolean write_out(const char *path, const GString *s, GError **error)
{
    if (!g_file_set_contents(path, s->str, (gssize)s->len, error)) {
        g_prefix_error(error, "exporting annotations: ");
        return FALSE;
    }
    return TRUE;
}

/* RFC 4180 (s4g-csv.h): fields holding a comma, quote or line break are quoted. */
gboolean s4g_store_annotations_export_csv(S4gStore *store, const char *path, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(store, export_sql, error);
    if (!st) return FALSE;
    S4gCsvWriter w;
    s4g_csv_writer_init(&w);
    s4g_csv_write_header(&w, "id,image,path,image_lat,image_lon,flag,lat,lon,state,note,created");
    while (sqlite3_step(st) == SQLITE_ROW) {
        s4g_csv_write_int(&w, sqlite3_column_int64(st, 0));
        s4g_csv_write_int(&w, sqlite3_column_int64(st, 1));
        s4g_csv_write(&w, (const char *)sqlite3_column_text(st, 8));
        s4g_csv_write_double(&w, "%.7f", column_double(st, 9));
        s4g_csv_write_double(&w, "%.7f", column_double(st, 10));
        s4g_csv_write(&w, (const char *)sqlite3_column_text(st, 4));
        s4g_csv_write_double(&w, "%.7f", column_double(st, 2));
        s4g_csv_write_double(&w, "%.7f", column_double(st, 3));
        s4g_csv_write(&w, (const char *)sqlite3_column_text(st, 6));
        s4g_csv_write(&w, (const char *)sqlite3_column_text(st, 5));
        s4g_csv_write(&w, (const char *)sqlite3_column_text(st, 7));
        s4g_csv_end_row(&w);
    }
    gboolean ok = write_out(path, w.text, error);
    s4g_csv_writer_clear(&w);
    return ok;
}

/* One Point feature per annotation: the corrected location when there is one, else the
 * image's own location; annotations with neither are skipped (GeoJSON needs geometry). */
gboolean s4g_store_annotations_export_geojson(S4gStore *store, const char *path, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(store, export_sql, error);
    if (!st) return FALSE;
    g_autoptr(JsonBuilder) b = json_builder_new();
    s4g_geojson_begin_collection(b);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int lat_col = sqlite3_column_type(st, 2) != SQLITE_NULL ? 2 : 9;
        if (sqlite3_column_type(st, lat_col) == SQLITE_NULL) continue;
        s4g_geojson_begin_point(b, sqlite3_column_double(st, lat_col + 1),
                                sqlite3_column_double(st, lat_col));
        s4g_json_add_int(b, "id", sqlite3_column_int64(st, 0));
        s4g_json_add_int(b, "image", sqlite3_column_int64(st, 1));
        s4g_json_add_string(b, "path", (const char *)sqlite3_column_text(st, 8));
        s4g_json_add_string(b, "flag", (const char *)sqlite3_column_text(st, 4));
        s4g_json_add_string(b, "state", (const char *)sqlite3_column_text(st, 6));
        s4g_json_add_string(b, "note", (const char *)sqlite3_column_text(st, 5));
        s4g_json_add_string(b, "created", (const char *)sqlite3_column_text(st, 7));
        s4g_geojson_end_feature(b);
    }
    s4g_geojson_end_collection(b);
    g_autofree char *doc = s4g_json_to_string(b);
    g_autoptr(GString) s = g_string_new(doc);
    g_string_append_c(s, '\n');
    return write_out(path, s, error);
}
