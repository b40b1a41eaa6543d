/* test-imagery-map.c — a GeoTIFF as the Studio's map base layer.  A tiny synthetic world
 * (s4g synth) gives the MBTiles; an EPSG:4326 GeoTIFF is made from it with GDAL's C API
 * (tests/imagery/geotiff-fixture.h).  The imagery map source renders every tile of the
 * region like the MBTiles source (pixels compared), outside the footprint it has none; a
 * window showing the project's MBTiles and one showing the GeoTIFF (s4g-studio --imagery's
 * path) draw the same map at the same place (screenshots imagery-map-*.png). */
#include "../imagery/geotiff-fixture.h"
#include "s4g-imagery-source.h"
#include "s4g-mbtiles-source.h"
#include "s4g-test-fixture.h"
#include "s4g-window.h"

#include <sqlite3.h>

static char *tmp, *project, *mbt, *tif;
static double bounds[4];
static int zmax;
static gpointer app;

/* Premultiplied RGBA bytes of a texture (w·h·4): transparent and black differ. */
static guint8 *rgb_of(GdkTexture *t, int *w, int *h)
{
    *w = gdk_texture_get_width(t), *h = gdk_texture_get_height(t);
    g_autofree guint8 *argb = g_malloc((gsize)*w * *h * 4);
    gdk_texture_download(t, argb, (gsize)*w * 4); /* cairo ARGB32, native endian */
    guint8 *out = g_malloc((gsize)*w * *h * 4);
    for (gsize i = 0; i < (gsize)*w * *h; i++) {
        guint32 p = ((guint32 *)argb)[i];
        out[i * 4] = p >> 16, out[i * 4 + 1] = p >> 8, out[i * 4 + 2] = p, out[i * 4 + 3] = p >> 24;
    }
    return out;
}

/* Mean and largest absolute difference of two byte buffers. */
static double mean_diff(const guint8 *a, const guint8 *b, gsize n, int *worst)
{
    double s = 0;
    *worst = 0;
    for (gsize i = 0; i < n; i++) {
        int d = abs((int)a[i] - (int)b[i]);
        s += d;
        *worst = MAX(*worst, d);
    }
    return s / n;
}

static void tile_range(int z, int *tx0, int *ty0, int *tx1, int *ty1)
{
    int n = 1 << z;
    double r3 = bounds[3] * G_PI / 180, r1 = bounds[1] * G_PI / 180;
    *tx0 = (int)floor((bounds[0] + 180) / 360 * n), *tx1 = (int)floor((bounds[2] + 180) / 360 * n);
    *ty0 = (int)floor((1 - log(tan(r3) + 1 / cos(r3)) / G_PI) / 2 * n);
    *ty1 = (int)floor((1 - log(tan(r1) + 1 / cos(r1)) / G_PI) / 2 * n);
}

static void filled(GObject *src, GAsyncResult *res, gpointer data)
{
    GError **err = data;
    shumate_map_source_fill_tile_finish(SHUMATE_MAP_SOURCE(src), res, err);
    g_object_set_data(src, "done", GINT_TO_POINTER(1));
}

static void test_tiles(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gImagerySource) im = s4g_imagery_source_new(tif, &error);
    g_assert_no_error(error);
    g_autoptr(S4gMbtilesSource) mb = s4g_mbtiles_source_new(mbt, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(shumate_map_source_get_max_zoom_level(SHUMATE_MAP_SOURCE(im)), >=, zmax);
    int tx0, ty0, tx1, ty1, tiles = 0;
    tile_range(zmax, &tx0, &ty0, &tx1, &ty1);
    double sum = 0;
    int worst = 0;
    for (int ty = ty0; ty <= ty1; ty++)
        for (int tx = tx0; tx <= tx1; tx++) {
            g_autoptr(GdkTexture) a = s4g_imagery_source_render_tile(im, zmax, tx, ty, &error);
            g_assert_no_error(error);
            g_autoptr(GBytes) bytes = s4g_mbtiles_source_read_tile(mb, zmax, tx, ty, &error);
            g_assert_no_error(error);
            g_autoptr(GdkTexture) b = gdk_texture_new_from_bytes(bytes, &error);
            g_assert_no_error(error);
            int w, h, w2, h2, wt;
            g_autofree guint8 *pa = rgb_of(a, &w, &h), *pb = rgb_of(b, &w2, &h2);
            g_assert_cmpint(w, ==, w2);
            g_assert_cmpint(h, ==, h2);
            sum += mean_diff(pa, pb, (gsize)w * h * 4, &wt);
            worst = MAX(worst, wt);
            tiles++;
        }
    g_test_message("%d tiles at z%d: mean difference %.4f grey levels, largest %d", tiles, zmax,
                   sum / tiles, worst);
    g_assert_cmpint(tiles, >=, 4);
    /* nearest-neighbour copy in EPSG:4326, warped back bilinearly: rows drift ≤ 0.02 px */
    g_assert_cmpfloat(sum / tiles, <, 0.1);
    g_assert_cmpint(worst, <=, 16);
    /* the same tile again comes from the cache: the same texture */
    g_autoptr(GdkTexture) c1 = s4g_imagery_source_render_tile(im, zmax, tx0, ty0, NULL);
    g_autoptr(GdkTexture) c2 = s4g_imagery_source_render_tile(im, zmax, tx0, ty0, NULL);
    g_assert_true(c1 == c2);
    /* outside the footprint: no tile */
    g_assert_null(s4g_imagery_source_render_tile(im, zmax, tx1 + 3, ty0, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
    g_clear_error(&error);
    /* through libshumate's fill_tile in the worker thread */
    g_autoptr(ShumateTile) tile = shumate_tile_new_full(tx0, ty0, 256, zmax);
    shumate_map_source_fill_tile_async(SHUMATE_MAP_SOURCE(im), tile, NULL, filled, &error);
    while (!g_object_get_data(G_OBJECT(im), "done")) g_main_context_iteration(NULL, TRUE);
    g_assert_no_error(error);
    g_assert_cmpint(shumate_tile_get_state(tile), ==, SHUMATE_STATE_DONE);
    g_assert_true(GDK_IS_TEXTURE(shumate_tile_get_paintable(tile)));
    /* a file that is no raster: an error naming it */
    g_autofree char *bad = g_build_filename(tmp, "not-a-raster.tif", NULL);
    g_assert_true(g_file_set_contents(bad, "no", -1, NULL));
    g_assert_null(s4g_imagery_source_new(bad, &error));
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "not-a-raster.tif"));
}

/* The map widget drawn to RGBA (its own snapshot; the window's renderer). */
static guint8 *map_pixels(S4gWindow *win, int *w, int *h, const char *save)
{
    GtkWidget *map = GTK_WIDGET(s4g_window_get_map(win));
    *w = gtk_widget_get_width(map), *h = gtk_widget_get_height(map);
    GdkPaintable *p = gtk_widget_paintable_new(map);
    GtkSnapshot *snap = gtk_snapshot_new();
    gdk_paintable_snapshot(p, snap, *w, *h);
    GskRenderNode *node = gtk_snapshot_free_to_node(snap);
    g_assert_nonnull(node);
    GskRenderer *r = gtk_native_get_renderer(GTK_NATIVE(win));
    GdkTexture *t = gsk_renderer_render_texture(r, node, &GRAPHENE_RECT_INIT(0, 0, *w, *h));
    int tw, th;
    guint8 *px = rgb_of(t, &tw, &th);
    if (save) {
        const char *dir = g_getenv("S4G_SCREENSHOT_DIR");
        g_autofree char *path = g_build_filename(dir ? dir : g_get_tmp_dir(), save, NULL);
        g_assert_true(gdk_texture_save_to_png(t, path));
    }
    *w = tw, *h = th;
    g_object_unref(t);
    gsk_render_node_unref(node);
    g_object_unref(p);
    return px;
}

static gboolean uniform(const guint8 *px, gsize n)
{
    for (gsize i = 4; i < n; i++)
        if (px[i] != px[i % 4]) return FALSE;
    return TRUE;
}

/* A window on the project, its map at the region's centre at zmax; waits until the map has
 * drawn tiles and is stable (two snapshots 400 ms apart equal). */
static S4gWindow *open_window(const char *imagery, guint8 **px, int *w, int *h)
{
    S4gWindow *win = s4g_window_new(GTK_APPLICATION(app));
    gtk_window_set_default_size(GTK_WINDOW(win), 1100, 700);
    if (imagery) s4g_window_set_base_imagery(win, imagery);
    g_autoptr(GError) error = NULL;
    g_assert_true(s4g_window_open_project(win, project, &error));
    g_assert_no_error(error);
    gtk_window_present(GTK_WINDOW(win));
    fix_wait_drawn(s4g_window_get_map(win));
    ShumateViewport *vp = shumate_simple_map_get_viewport(s4g_window_get_map(win));
    shumate_viewport_set_zoom_level(vp, zmax);
    shumate_location_set_location(SHUMATE_LOCATION(vp), (bounds[1] + bounds[3]) / 2,
                                  (bounds[0] + bounds[2]) / 2);
    g_autofree guint8 *last = NULL;
    gint64 end = g_get_monotonic_time() + 40 * G_USEC_PER_SEC;
    for (int same = 0; same < 3;) {
        fix_spin(500);
        guint8 *now = map_pixels(win, w, h, NULL);
        gsize n = (gsize)*w * *h * 4;
        same = last && !uniform(now, n) && !memcmp(now, last, n) ? same + 1 : 0;
        g_free(last);
        last = now;
        if (g_get_monotonic_time() > end) g_error("the map did not settle within 40 s");
    }
    *px = g_steal_pointer(&last);
    return win;
}

static void test_window(void)
{
    int w1, h1, w2, h2, worst;
    g_autofree guint8 *a = NULL, *b = NULL;
    S4gWindow *mbwin = open_window(NULL, &a, &w1, &h1);
    fix_screenshot(mbwin, "imagery-map-mbtiles.png");
    g_free(map_pixels(mbwin, &w1, &h1, "imagery-map-mbtiles-map.png"));
    S4gWindow *tifwin = open_window(tif, &b, &w2, &h2);
    fix_screenshot(tifwin, "imagery-map-geotiff.png");
    g_free(map_pixels(tifwin, &w2, &h2, "imagery-map-geotiff-map.png"));
    g_assert_cmpint(w1, ==, w2);
    g_assert_cmpint(h1, ==, h2);
    double m = mean_diff(a, b, (gsize)w1 * h1 * 4, &worst);
    g_test_message("map %dx%d at z%d: mean difference %.4f grey levels, largest %d", w1, h1,
                   zmax, m, worst);
    g_assert_cmpfloat(m, <, 0.5);
    /* and not merely two blank maps: a window on another place differs */
    ShumateViewport *vp = shumate_simple_map_get_viewport(s4g_window_get_map(tifwin));
    shumate_location_set_location(SHUMATE_LOCATION(vp), bounds[3] + 1, bounds[2] + 1);
    fix_spin(800);
    g_autofree guint8 *c = map_pixels(tifwin, &w2, &h2, NULL);
    g_assert_cmpfloat(mean_diff(a, c, (gsize)w1 * h1 * 4, &worst), >, 5);
    gtk_window_destroy(GTK_WINDOW(mbwin));
    gtk_window_destroy(GTK_WINDOW(tifwin));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    fix_init(argv[0]);
    gtk_init();
    adw_init();
    GDALAllRegister();
    tmp = g_dir_make_tmp("s4g-imagery-map-XXXXXX", NULL);
    project = fix_make_tiny_trainable_project(tmp);
    mbt = g_build_filename(tmp, "world", "tiles", "region.mbtiles", NULL);
    zmax = geotiff_fixture_region(mbt, bounds);
    tif = g_build_filename(tmp, "region-4326.tif", NULL);
    geotiff_fixture_4326(mbt, bounds, zmax, tif);
    app = fix_make_app("ImageryMap");
    g_test_add_func("/imagery-map/tiles", test_tiles);
    g_test_add_func("/imagery-map/window", test_window);
    int rc = g_test_run();
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", tmp);
    g_spawn_command_line_sync(rm, NULL, NULL, NULL, NULL);
    return rc;
}
