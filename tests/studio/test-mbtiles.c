/* test-mbtiles.c — the MBTiles map source: TMS y-flip, metadata, missing/corrupt input, and
 * filling a ShumateTile through the worker thread. */
#include "s4g-mbtiles-source.h"
#include "s4g-test-fixture.h"

#include <sqlite3.h>

static char *tmp_mbtiles(void)
{
    g_autofree char *dir = g_dir_make_tmp("s4g-mbt-XXXXXX", NULL);
    char *path = g_build_filename(dir, "t.mbtiles", NULL);
    fix_write_mbtiles(path);
    return path;
}

/* Decodes a tile's bytes and returns the RGB of its centre pixel. */
static guint32 centre_rgb(GdkTexture *t)
{
    int w = gdk_texture_get_width(t), h = gdk_texture_get_height(t);
    g_autofree guint8 *px = g_malloc((gsize)w * h * 4);
    gdk_texture_download(t, px, (gsize)w * 4); /* cairo ARGB32, native endian */
    guint32 argb = ((guint32 *)px)[(h / 2) * w + w / 2];
    return argb & 0xffffff;
}

static void test_read_flip(void)
{
    g_autofree char *path = tmp_mbtiles();
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gMbtilesSource) src = s4g_mbtiles_source_new(path, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(shumate_map_source_get_min_zoom_level(SHUMATE_MAP_SOURCE(src)), ==, 0);
    g_assert_cmpuint(shumate_map_source_get_max_zoom_level(SHUMATE_MAP_SOURCE(src)), ==, 1);
    g_assert_cmpstr(shumate_map_source_get_name(SHUMATE_MAP_SOURCE(src)), ==, "fixture");
    double lat, lon, zoom;
    g_assert_true(s4g_mbtiles_source_get_center(src, &lat, &lon, &zoom));
    g_assert_cmpfloat(lat, ==, 10);
    g_assert_cmpfloat(lon, ==, 10);
    g_assert_cmpfloat(zoom, ==, 1);
    /* XYZ (x,y) → expected colour: red (0,0), green (1,0), blue (0,1), yellow (1,1) */
    const guint32 want[2][2] = {{0xff0000, 0x00ff00}, {0x0000ff, 0xffff00}};
    for (guint y = 0; y < 2; y++)
        for (guint x = 0; x < 2; x++) {
            g_autoptr(GBytes) b = s4g_mbtiles_source_read_tile(src, 1, x, y, &error);
            g_assert_no_error(error);
            g_autoptr(GdkTexture) t = gdk_texture_new_from_bytes(b, &error);
            g_assert_no_error(error);
            g_assert_cmpint(gdk_texture_get_width(t), ==, 256);
            g_assert_cmphex(centre_rgb(t), ==, want[y][x]);
        }
    g_assert_null(s4g_mbtiles_source_read_tile(src, 1, 2, 0, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
    /* no zoom-2 tiles in the file */
    g_assert_null(s4g_mbtiles_source_read_tile(src, 2, 1, 1, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(error->message, "2/1/1"));
}

static void filled(GObject *src, GAsyncResult *res, gpointer data)
{
    GError **err = data;
    shumate_map_source_fill_tile_finish(SHUMATE_MAP_SOURCE(src), res, err);
    g_object_set_data(src, "done", GINT_TO_POINTER(1));
}

static void test_fill_tile(void)
{
    g_autofree char *path = tmp_mbtiles();
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gMbtilesSource) src = s4g_mbtiles_source_new(path, &error);
    g_assert_no_error(error);
    g_autoptr(ShumateTile) tile = shumate_tile_new_full(1, 1, 256, 1); /* x=1 y=1: yellow */
    shumate_map_source_fill_tile_async(SHUMATE_MAP_SOURCE(src), tile, NULL, filled, &error);
    while (!g_object_get_data(G_OBJECT(src), "done"))
        g_main_context_iteration(NULL, TRUE);
    g_assert_no_error(error);
    g_assert_cmpint(shumate_tile_get_state(tile), ==, SHUMATE_STATE_DONE);
    GdkPaintable *p = shumate_tile_get_paintable(tile);
    g_assert_true(GDK_IS_TEXTURE(p));
    g_assert_cmphex(centre_rgb(GDK_TEXTURE(p)), ==, 0xffff00);

    /* a missing tile fails the fill with an error instead of hanging the layer */
    g_object_set_data(G_OBJECT(src), "done", NULL);
    g_autoptr(ShumateTile) none = shumate_tile_new_full(0, 0, 256, 2);
    shumate_map_source_fill_tile_async(SHUMATE_MAP_SOURCE(src), none, NULL, filled, &error);
    while (!g_object_get_data(G_OBJECT(src), "done"))
        g_main_context_iteration(NULL, TRUE);
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static void test_bad_files(void)
{
    g_autoptr(GError) error = NULL;
    g_assert_null(s4g_mbtiles_source_new("/nonexistent/x.mbtiles", &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(error->message, "/nonexistent/x.mbtiles"));
    g_clear_error(&error);
    g_autofree char *dir = g_dir_make_tmp("s4g-mbt-XXXXXX", NULL);
    g_autofree char *junk = g_build_filename(dir, "junk.mbtiles", NULL);
    g_assert_true(g_file_set_contents(junk, "this is not sqlite at all, just text", -1, NULL));
    g_assert_null(s4g_mbtiles_source_new(junk, &error));
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "junk.mbtiles"));
    g_clear_error(&error);
    /* a valid tile row whose blob is not an image */
    g_autofree char *bad = g_build_filename(dir, "bad.mbtiles", NULL);
    sqlite3 *db;
    sqlite3_open(bad, &db);
    sqlite3_exec(db,
                 "CREATE TABLE metadata (name text, value text);"
                 "CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row "
                 "integer, tile_data blob); INSERT INTO tiles VALUES (0,0,0,x'00010203');",
                 NULL, NULL, NULL);
    sqlite3_close(db);
    g_autoptr(S4gMbtilesSource) src = s4g_mbtiles_source_new(bad, &error);
    g_assert_no_error(error);
    g_autoptr(ShumateTile) tile = shumate_tile_new_full(0, 0, 256, 0);
    shumate_map_source_fill_tile_async(SHUMATE_MAP_SOURCE(src), tile, NULL, filled, &error);
    while (!g_object_get_data(G_OBJECT(src), "done"))
        g_main_context_iteration(NULL, TRUE);
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "0/0/0"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    fix_init(argv[0]);
    g_test_add_func("/studio/mbtiles/read-flip", test_read_flip);
    g_test_add_func("/studio/mbtiles/fill-tile", test_fill_tile);
    g_test_add_func("/studio/mbtiles/bad-files", test_bad_files);
    return g_test_run();
}
