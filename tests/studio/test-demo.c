/* test-demo.c — "Open Demo Project" end to end: the window runs the real `s4g demo` (built
 * alongside; S4G_DEMO_ARGS keeps it small) behind its task bar — first cancelled, then to
 * the end — opens the result and shows its photos over the synthetic region's MBTiles, the
 * trained model's stored predictions and the training's mining runs. */
#include "s4g-config.h"

#include "s4g-mbtiles-source.h"
#include "s4g-store.h"
#include "s4g-test-fixture.h"
#include "s4g-window.h"

#include <adwaita.h>
#include <string.h>

static AdwApplication *app;

static char *demo_dir(void)
{
    return g_build_filename(g_get_user_data_dir(), "s4g-studio", "demo", NULL);
}

static S4gWindow *new_window(void)
{
    S4gWindow *win = s4g_window_new(GTK_APPLICATION(app));
    gtk_window_set_default_size(GTK_WINDOW(win), 1280, 800);
    gtk_window_present(GTK_WINDOW(win));
    return win;
}

static void spin(double seconds)
{
    gint64 until = g_get_monotonic_time() + (gint64)(seconds * G_USEC_PER_SEC);
    while (g_get_monotonic_time() < until)
        g_main_context_iteration(NULL, FALSE);
}

/* Position of the visible photo whose file is `base`, or G_MAXUINT. */
static guint find_photo(S4gWindow *win, const char *base)
{
    for (guint i = 0; i < s4g_window_count_visible_photos(win); i++)
        if (g_str_has_suffix(s4g_photo_get_path(s4g_window_get_visible_photo(win, i)), base))
            return i;
    return G_MAXUINT;
}

static void test_cancel(void)
{
    g_autofree char *dir = demo_dir();
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", dir);
    g_assert_true(g_spawn_command_line_sync(rm, NULL, NULL, NULL, NULL));
    S4gWindow *win = new_window();
    gtk_widget_activate_action(GTK_WIDGET(win), "win.open-demo", NULL);
    g_assert_true(s4g_window_is_busy(win));
    /* let it get into the world synthesis, then stop it */
    spin(1.0);
    g_assert_true(s4g_window_is_busy(win));
    s4g_window_cancel_task(win);
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (s4g_window_is_busy(win) && g_get_monotonic_time() < deadline)
        g_main_context_iteration(NULL, TRUE);
    g_assert_false(s4g_window_is_busy(win));
    g_assert_null(s4g_window_get_project(win));
    g_autofree char *db = g_build_filename(dir, "project", "project.s4g", NULL);
    g_assert_false(g_file_test(db, G_FILE_TEST_EXISTS)); /* never reopened as if complete */
    gtk_window_destroy(GTK_WINDOW(win));
}

static void test_open(void)
{
    g_autofree char *dir = demo_dir();
    g_autofree char *want = g_build_filename(dir, "project", NULL);
    S4gWindow *win = new_window();
    gtk_widget_activate_action(GTK_WIDGET(win), "win.open-demo", NULL);
    g_assert_true(s4g_window_is_busy(win));
    gint64 deadline = g_get_monotonic_time() + 80 * G_USEC_PER_SEC;
    while (!s4g_window_get_project(win) && g_get_monotonic_time() < deadline)
        g_main_context_iteration(NULL, TRUE);
    g_assert_nonnull(s4g_window_get_project(win));
    g_assert_false(s4g_window_is_busy(win));
    S4gProject *project = s4g_window_get_project(win);
    g_assert_cmpstr(s4g_project_get_dir(project), ==, want);
    /* 48 locations: one ground photo each, each with a map marker */
    g_assert_cmpuint(s4g_window_count_visible_photos(win), ==, 48);
    g_assert_cmpuint(s4g_window_count_photo_markers(win), ==, 48);
    ShumateMapSource *src = shumate_simple_map_get_map_source(s4g_window_get_map(win));
    g_assert_true(S4G_IS_MBTILES_SOURCE(src));
    g_assert_cmpuint(shumate_map_source_get_max_zoom_level(src), ==, 17);
    /* the trained model and the training's mining runs (GPS at start, DSS after epochs) */
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(s4g_project_get_models(project))), ==,
                     1);
    g_autoptr(GArray) run_ids = NULL;
    GtkStringList *runs = s4g_project_get_mining_runs(project, &run_ids);
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(runs)), >=, 2);
    /* `s4g demo` predicted the first val photos with --top 3: markers and thumbnails */
    guint pos = find_photo(win, "0000005.jpg");
    g_assert_cmpuint(pos, !=, G_MAXUINT);
    s4g_window_select_photo(win, pos);
    g_assert_cmpuint(s4g_window_count_candidate_markers(win), ==, 3);
    g_assert_cmpuint(s4g_window_count_candidate_thumbnails(win), ==, 3);
    double m = 0;
    g_assert_true(s4g_window_has_error_line(win, &m));
    g_assert_cmpfloat(m, >, 0);
    spin(3.0);
    fix_screenshot(GTK_WIDGET(win), "prediction-view.png");
    /* the DSS run mined after epoch 1: each anchor has 16 hard negatives (--neighbour-range
     * 16 of `s4g demo`), shown as tiles and markers */
    guint dss = G_MAXUINT;
    for (guint i = 0; i < g_list_model_get_n_items(G_LIST_MODEL(runs)); i++)
        if (strstr(gtk_string_list_get_string(runs, i), " dss ")) dss = i;
    g_assert_cmpuint(dss, !=, G_MAXUINT);
    s4g_window_select_anchor(win, dss, 2);
    g_assert_cmpuint(s4g_window_count_negative_tiles(win), ==, 16);
    g_assert_cmpuint(s4g_window_count_negative_markers(win), ==, 16);
    g_assert_false(s4g_window_candidate_layer_visible(win));
    spin(3.0);
    fix_screenshot(GTK_WIDGET(win), "hard-negatives.png");
    gtk_window_destroy(GTK_WINDOW(win));
}

/* A photo whose stored predictions were deleted is predicted on demand by `s4g predict`
 * when selected: the task bar runs meanwhile, the UI stays live, and the rows it stores
 * come back as k markers and thumbnails. */
static void test_predict_on_demand(void)
{
    g_autofree char *dir = demo_dir();
    g_autofree char *want = g_build_filename(dir, "project", NULL);
    g_autoptr(GError) error = NULL;
    {
        g_autoptr(S4gStore) store = s4g_store_open(want, FALSE, &error);
        g_assert_no_error(error);
        g_assert_true(s4g_store_exec(store,
                                     "DELETE FROM predictions WHERE image IN (SELECT id FROM "
                                     "images WHERE path LIKE '%0000011.jpg')",
                                     &error));
        g_assert_no_error(error);
        g_assert_cmpint(sqlite3_changes(s4g_store_db(store)), ==, 3);
    }
    S4gWindow *win = new_window();
    g_assert_true(s4g_window_open_project(win, want, &error));
    g_assert_no_error(error);
    guint pos = find_photo(win, "0000011.jpg");
    g_assert_cmpuint(pos, !=, G_MAXUINT);
    s4g_window_select_photo(win, pos);
    g_assert_true(s4g_window_is_busy(win));
    g_assert_cmpuint(s4g_window_count_candidate_markers(win), ==, 0);
    guint ticks = 0; /* the main loop keeps turning while s4g predict runs */
    gint64 deadline = g_get_monotonic_time() + 40 * G_USEC_PER_SEC;
    while (s4g_window_is_busy(win) && g_get_monotonic_time() < deadline) {
        g_main_context_iteration(NULL, TRUE);
        ticks++;
    }
    g_assert_false(s4g_window_is_busy(win));
    g_assert_cmpuint(ticks, >, 1);
    /* top-k is 5 by default; the demo gallery has 48 tiles */
    g_assert_cmpuint(s4g_window_count_candidate_markers(win), ==, 5);
    g_assert_cmpuint(s4g_window_count_candidate_thumbnails(win), ==, 5);
    double m = 0;
    g_assert_true(s4g_window_has_error_line(win, &m));
    g_assert_cmpfloat(m, >, 0);
    {
        g_autoptr(S4gStore) store = s4g_store_open(want, FALSE, &error);
        g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
            store,
            "SELECT COUNT(*) FROM predictions WHERE image IN (SELECT id FROM images WHERE path "
            "LIKE '%0000011.jpg')",
            &error);
        g_assert_no_error(error);
        g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
        g_assert_cmpint(sqlite3_column_int(st, 0), ==, 5);
    }
    gtk_window_destroy(GTK_WINDOW(win));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    fix_init(argv[0]);
    gtk_init();
    adw_init();
    app = g_object_new(ADW_TYPE_APPLICATION, "application-id", S4G_APP_ID ".DemoTest", "flags",
                       G_APPLICATION_NON_UNIQUE, "resource-base-path", "/org/sample4geo/Studio",
                       NULL);
    g_assert_true(g_application_register(G_APPLICATION(app), NULL, NULL));
    g_test_add_func("/studio/demo/cancel", test_cancel);
    g_test_add_func("/studio/demo/open", test_open);
    g_test_add_func("/studio/demo/predict-on-demand", test_predict_on_demand);
    int rc = g_test_run();
    g_object_unref(app);
    return rc;
}
