/* test-window.c — drives the real main window on a fixture project under Xvfb: photo grid,
 * prediction markers and panel, the error line, hard negatives, annotations with undo/redo
 * that persist across close/reopen, the 10,000-photo load time, and screenshots of the main
 * views into the build folder. */
#include "s4g-config.h"

#include "s4g-geo.h"
#include "s4g-store-annotations.h"
#include "s4g-test-fixture.h"
#include "s4g-window.h"

#include <adwaita.h>
#include <math.h>

static AdwApplication *app;

static void spin(int ms)
{
    gint64 end = g_get_monotonic_time() + ms * 1000;
    while (g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, FALSE);
}

static void wait_drawn(GtkWidget *w)
{
    gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while ((!gtk_widget_get_mapped(w) || gtk_widget_get_width(w) == 0) &&
           g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, TRUE);
    g_assert_true(gtk_widget_get_mapped(w));
}

static void screenshot(GtkWidget *window, const char *name)
{
    const char *dir = g_getenv("S4G_SCREENSHOT_DIR");
    if (!dir)
        dir = g_get_tmp_dir();
    g_mkdir_with_parents(dir, 0755);
    GdkPaintable *p = gtk_widget_paintable_new(window);
    int w = gtk_widget_get_width(window), h = gtk_widget_get_height(window);
    GtkSnapshot *snap = gtk_snapshot_new();
    gdk_paintable_snapshot(p, snap, w, h);
    GskRenderNode *node = gtk_snapshot_free_to_node(snap);
    g_assert_nonnull(node);
    GskRenderer *r = gtk_native_get_renderer(GTK_NATIVE(window));
    GdkTexture *t = gsk_renderer_render_texture(r, node, &GRAPHENE_RECT_INIT(0, 0, w, h));
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_assert_true(gdk_texture_save_to_png(t, path));
    g_test_message("screenshot: %s", path);
    g_object_unref(t);
    gsk_render_node_unref(node);
    g_object_unref(p);
}

static S4gWindow *open_window(const char *dir)
{
    S4gWindow *win = s4g_window_new(GTK_APPLICATION(app));
    gtk_window_set_default_size(GTK_WINDOW(win), 1280, 800);
    g_autoptr(GError) error = NULL;
    g_assert_true(s4g_window_open_project(win, dir, &error));
    g_assert_no_error(error);
    gtk_window_present(GTK_WINDOW(win));
    wait_drawn(GTK_WIDGET(s4g_window_get_map(win)));
    return win;
}

static void test_prediction(void)
{
    g_autofree char *dir = fix_make_project();
    S4gWindow *win = open_window(dir);
    g_assert_cmpuint(s4g_window_count_visible_photos(win), ==, FIX_PHOTOS);
    g_assert_cmpuint(s4g_window_count_photo_markers(win), ==, FIX_PHOTOS);

    s4g_window_select_photo(win, 2);
    g_assert_cmpuint(s4g_window_count_candidate_markers(win), ==, FIX_K);
    g_assert_cmpuint(s4g_window_count_candidate_thumbnails(win), ==, FIX_K);
    double metres;
    g_assert_true(s4g_window_has_error_line(win, &metres));
    double tlat, tlon, clat, clon;
    fix_photo_location(2, &tlat, &tlon);
    fix_candidate_location(2, 1, &clat, &clon);
    g_assert_cmpfloat_with_epsilon(metres, s4g_geo_haversine_m(tlat, tlon, clat, clon), 0.01);
    g_assert_cmpfloat(metres, >, 1000); /* 0.03° lat, 0.02° lon: several km */

    /* top-k follows the preference */
    g_autoptr(GSettings) settings = g_settings_new(S4G_APP_ID);
    g_settings_set_int(settings, "top-k", 2);
    s4g_window_select_photo(win, 1);
    g_assert_cmpuint(s4g_window_count_candidate_markers(win), ==, 2);
    g_assert_cmpuint(s4g_window_count_candidate_thumbnails(win), ==, 2);
    g_settings_set_int(settings, "top-k", FIX_K);
    s4g_window_select_photo(win, 0);
    g_assert_cmpuint(s4g_window_count_candidate_markers(win), ==, FIX_K);
    spin(1500); /* thumbnails decode in workers, tiles fade in */
    screenshot(GTK_WIDGET(win), "studio-prediction.png");

    /* hard negatives of mining run 0, anchor 1 (image 2) */
    s4g_window_select_anchor(win, 0, 1);
    g_assert_cmpuint(s4g_window_count_negative_tiles(win), ==, FIX_NEGATIVES);
    g_assert_cmpuint(s4g_window_count_negative_markers(win), ==, FIX_NEGATIVES);
    spin(1000);
    screenshot(GTK_WIDGET(win), "studio-hard-negatives.png");
    gtk_window_destroy(GTK_WINDOW(win));
}

static guint count_annotations(const char *dir, gint64 image)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gStore) store = s4g_store_open(dir, FALSE, &error);
    g_assert_no_error(error);
    g_autoptr(GPtrArray) a = s4g_store_annotations_for_image(store, image, &error);
    g_assert_no_error(error);
    return a->len;
}

static void test_annotation(void)
{
    g_autofree char *dir = fix_make_project();
    S4gWindow *win = open_window(dir);
    s4g_window_select_photo(win, 3); /* image 4 */
    g_autoptr(GError) error = NULL;
    g_assert_true(s4g_window_set_photo_location(win, 11.0, 11.5, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(count_annotations(dir, 4), ==, 1); /* written at once */
    /* the error line now starts at the corrected location */
    double metres, clat, clon;
    fix_candidate_location(3, 1, &clat, &clon);
    g_assert_true(s4g_window_has_error_line(win, &metres));
    g_assert_cmpfloat_with_epsilon(metres, s4g_geo_haversine_m(11.0, 11.5, clat, clon), 0.01);

    gtk_widget_activate_action(GTK_WIDGET(win), "win.undo", NULL);
    g_assert_cmpuint(count_annotations(dir, 4), ==, 0);
    gtk_widget_activate_action(GTK_WIDGET(win), "win.redo", NULL);
    g_assert_cmpuint(count_annotations(dir, 4), ==, 1);
    gtk_widget_activate_action(GTK_WIDGET(win), "win.flag-bad-pair", NULL);
    g_assert_cmpuint(count_annotations(dir, 4), ==, 2);
    S4gPhoto *p = s4g_project_find_photo(s4g_window_get_project(win), 4);
    g_assert_true(s4g_photo_get_flagged(p));
    gtk_window_destroy(GTK_WINDOW(win));

    /* reopen: the annotations and the open flag are still there */
    win = open_window(dir);
    p = s4g_project_find_photo(s4g_window_get_project(win), 4);
    g_assert_true(s4g_photo_get_flagged(p));
    s4g_window_select_photo(win, 3);
    g_assert_true(s4g_window_has_error_line(win, &metres));
    g_assert_cmpfloat_with_epsilon(metres, s4g_geo_haversine_m(11.0, 11.5, clat, clon), 0.01);
    /* reviewing resolves the flag */
    gtk_widget_activate_action(GTK_WIDGET(win), "win.mark-reviewed", NULL);
    g_assert_false(s4g_photo_get_flagged(p));
    g_assert_cmpuint(count_annotations(dir, 4), ==, 3);
    gtk_window_destroy(GTK_WINDOW(win));
}

static void test_empty_state(void)
{
    S4gWindow *win = s4g_window_new(GTK_APPLICATION(app));
    gtk_window_set_default_size(GTK_WINDOW(win), 1000, 700);
    gtk_window_present(GTK_WINDOW(win));
    wait_drawn(GTK_WIDGET(win));
    spin(300);
    screenshot(GTK_WIDGET(win), "studio-empty.png");
    gtk_window_destroy(GTK_WINDOW(win));
}

static void test_many_photos(void)
{
    g_autofree char *dir = fix_make_project();
    fix_add_many_photos(dir, 10000);
    gint64 t0 = g_get_monotonic_time();
    S4gWindow *win = open_window(dir); /* returns once the map is mapped and sized */
    double secs = (g_get_monotonic_time() - t0) / 1e6;
    g_test_message("window with %d photos shown in %.3f s", 10000 + FIX_PHOTOS, secs);
    g_printerr("# window with %d photos shown in %.3f s\n", 10000 + FIX_PHOTOS, secs);
    g_assert_cmpuint(s4g_window_count_visible_photos(win), ==, 10000 + FIX_PHOTOS);
    g_assert_cmpfloat(secs, <, 2.0);
    gtk_window_destroy(GTK_WINDOW(win));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    fix_init(argv[0]);
    gtk_init();
    adw_init();
    app = g_object_new(ADW_TYPE_APPLICATION, "application-id", S4G_APP_ID ".Test", "flags",
                       G_APPLICATION_NON_UNIQUE, "resource-base-path", "/org/sample4geo/Studio",
                       NULL);
    g_assert_true(g_application_register(G_APPLICATION(app), NULL, NULL));
    g_test_add_func("/studio/window/empty-state", test_empty_state);
    g_test_add_func("/studio/window/prediction", test_prediction);
    g_test_add_func("/studio/window/annotation", test_annotation);
    g_test_add_func("/studio/window/many-photos", test_many_photos);
    return g_test_run();
}
