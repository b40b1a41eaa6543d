/* test-mbtiles.c — MBTiles 1.3 writing and reading: TMS y-flip in the file, XYZ in the API,
 * metadata getters, application_id, absent tiles and bad files. */
#include "s4g-mbtiles.h"
#include "s4g-store.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

static char *tmp_path(const char *name)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("s4g-mbtiles-XXXXXX", &error);
    g_assert_no_error(error);
    return g_build_filename(dir, name, NULL);
}

/* Removes a file made by tmp_path and its folder. */
static void tmp_remove(const char *path)
{
    g_autofree char *dir = g_path_get_dirname(path);
    g_unlink(path);
    g_rmdir(dir);
}

static void test_roundtrip(void)
{
    g_autofree char *path = tmp_path("t.mbtiles");
    g_autoptr(GError) error = NULL;
    {
        g_autoptr(S4gMbtiles) mb = s4g_mbtiles_create(path, &error);
        g_assert_no_error(error);
        g_assert_true(s4g_mbtiles_set_metadata(mb, "name", "test", &error));
        g_assert_true(s4g_mbtiles_set_metadata(mb, "format", "png", &error));
        g_assert_true(s4g_mbtiles_set_metadata(mb, "bounds", "11.5,48.1,11.6,48.2", &error));
        g_assert_true(s4g_mbtiles_set_metadata(mb, "minzoom", "1", &error));
        g_assert_true(s4g_mbtiles_set_metadata(mb, "maxzoom", "11", &error));
        /* XYZ 2/1/0 (top row) and the example of the spec, 11/327/791. */
        g_assert_true(s4g_mbtiles_put_tile(mb, 2, 1, 0, "top", 3, &error));
        g_assert_true(s4g_mbtiles_put_tile(mb, 11, 327, 791, "spec", 4, &error));
        g_assert_false(s4g_mbtiles_put_tile(mb, 2, 4, 0, "x", 1, &error));
        g_assert_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_INVALID);
        g_clear_error(&error);
        g_assert_true(s4g_mbtiles_finish(mb, &error));
        g_assert_no_error(error);
    }
    /* In the file the rows are TMS: 2^z − 1 − y. */
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    sqlite3_stmt *st = NULL;
    g_assert_cmpint(sqlite3_prepare_v2(db, "SELECT zoom_level, tile_column, tile_row FROM tiles ORDER BY zoom_level",
                                       -1, &st, NULL), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
    g_assert_cmpint(sqlite3_column_int(st, 0), ==, 2);
    g_assert_cmpint(sqlite3_column_int(st, 1), ==, 1);
    g_assert_cmpint(sqlite3_column_int(st, 2), ==, 3);
    g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
    g_assert_cmpint(sqlite3_column_int(st, 0), ==, 11);
    g_assert_cmpint(sqlite3_column_int(st, 1), ==, 327);
    g_assert_cmpint(sqlite3_column_int(st, 2), ==, 1256);
    sqlite3_finalize(st);
    g_assert_cmpint(sqlite3_prepare_v2(db, "PRAGMA application_id", -1, &st, NULL), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
    g_assert_cmpint(sqlite3_column_int(st, 0), ==, 0x4d504258);
    sqlite3_finalize(st);
    sqlite3_close(db);

    g_autoptr(S4gMbtiles) mb = s4g_mbtiles_open(path, &error);
    g_assert_no_error(error);
    g_autoptr(GBytes) t = s4g_mbtiles_get_tile(mb, 2, 1, 0, &error);
    g_assert_no_error(error);
    g_assert_nonnull(t);
    g_assert_cmpmem(g_bytes_get_data(t, NULL), g_bytes_get_size(t), "top", 3);
    g_autoptr(GBytes) s = s4g_mbtiles_get_tile(mb, 11, 327, 791, &error);
    g_assert_nonnull(s);
    g_assert_cmpmem(g_bytes_get_data(s, NULL), g_bytes_get_size(s), "spec", 4);
    /* Absent tiles, including the y-flipped twin and out-of-range numbers: NULL, no error. */
    g_assert_null(s4g_mbtiles_get_tile(mb, 2, 1, 3, &error));
    g_assert_no_error(error);
    g_assert_null(s4g_mbtiles_get_tile(mb, 2, 9, 0, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(s4g_mbtiles_get_format(mb), ==, "png");
    g_assert_cmpint(s4g_mbtiles_get_min_zoom(mb), ==, 1);
    g_assert_cmpint(s4g_mbtiles_get_max_zoom(mb), ==, 11);
    double b[4];
    g_assert_true(s4g_mbtiles_get_bounds(mb, b));
    g_assert_cmpfloat(b[0], ==, 11.5);
    g_assert_cmpfloat(b[3], ==, 48.2);
    g_autofree char *name = s4g_mbtiles_get_metadata(mb, "name");
    g_assert_cmpstr(name, ==, "test");
    g_assert_null(s4g_mbtiles_get_metadata(mb, "attribution"));
    s4g_mbtiles_close(g_steal_pointer(&mb));
    tmp_remove(path);
}

static void test_bad_files(void)
{
    g_autoptr(GError) error = NULL;
    g_assert_null(s4g_mbtiles_open("/nonexistent/x.mbtiles", &error));
    g_assert_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(error->message, "/nonexistent/x.mbtiles"));
    g_clear_error(&error);
    /* A text file, and an SQLite database without the tables. */
    g_autofree char *txt = tmp_path("junk.mbtiles");
    g_assert_true(g_file_set_contents(txt, "not a database at all, just some text.......", -1, NULL));
    g_assert_null(s4g_mbtiles_open(txt, &error));
    g_assert_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_SQL);
    g_assert_nonnull(strstr(error->message, "junk.mbtiles"));
    g_clear_error(&error);
    g_autofree char *empty = tmp_path("empty.mbtiles");
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open(empty, &db), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_exec(db, "CREATE TABLE t (a)", NULL, NULL, NULL), ==, SQLITE_OK);
    sqlite3_close(db);
    g_assert_null(s4g_mbtiles_open(empty, &error));
    g_assert_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_SQL);
    g_assert_nonnull(strstr(error->message, "tiles"));
    g_clear_error(&error);
    /* A set with no bounds row / a malformed one. */
    g_autofree char *nb = tmp_path("nb.mbtiles");
    g_autoptr(S4gMbtiles) mb = s4g_mbtiles_create(nb, &error);
    g_assert_no_error(error);
    g_assert_true(s4g_mbtiles_set_metadata(mb, "bounds", "1,2,3", &error));
    g_assert_true(s4g_mbtiles_set_metadata(mb, "maxzoom", "x", &error));
    g_assert_true(s4g_mbtiles_finish(mb, &error));
    double b[4];
    g_assert_false(s4g_mbtiles_get_bounds(mb, b));
    g_assert_cmpint(s4g_mbtiles_get_max_zoom(mb), ==, -1);
    g_assert_cmpint(s4g_mbtiles_get_min_zoom(mb), ==, -1);
    g_assert_null(s4g_mbtiles_get_format(mb));
    s4g_mbtiles_close(g_steal_pointer(&mb));
    tmp_remove(nb);
    tmp_remove(txt);
    tmp_remove(empty);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/mbtiles/roundtrip", test_roundtrip);
    g_test_add_func("/mbtiles/bad-files", test_bad_files);
    return g_test_run();
}
