/* test-demo.c — "Open Demo Project" end to end: the window runs the real `s4g demo` (built
 * alongside; S4G_DEMO_ARGS keeps it small) behind its task bar — first cancelled, then to
 * the end — opens the result and shows its photos over the synthetic region's MBTiles, the
 * trained model's stored predictions and the training's mining runs. */
#include "s4g-config.h"
#include "s4g-store-private.h"

#include "s4g-mbtiles-source.h"
#include "s4g-store.h"
#include "s4g-test-fixture.h"
#include "s4g-window-prediction.h"
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

/* The first widget below `w` whose action is `action`, or NULL. */
static GtkWidget *find_actionable(GtkWidget *w, const char *action)
{
    if (GTK_IS_ACTIONABLE(w) &&
        !g_strcmp0(gtk_actionable_get_action_name(GTK_ACTIONABLE(w)), action))
        return w;
    for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c)) {
        GtkWidget *found = find_actionable(c, action);
        if (found) return found;
    }
    return NULL;
}

/* Iterates the main loop until the task bar's progress passes `fraction` (at most 60 s);
 * TRUE when a text of the training's own progress ("… (42 %)") was shown meanwhile. */
static gboolean wait_for_progress(S4gWindow *win, double fraction)
{
    gboolean saw_training = FALSE;
    gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    while (s4g_window_is_busy(win) && s4g_window_get_task_fraction(win) <= fraction &&
           g_get_monotonic_time() < deadline) {
        g_main_context_iteration(NULL, TRUE);
        saw_training |= g_str_has_suffix(s4g_window_get_task_text(win), " %)");
    }
    return saw_training;
}

/* Progress comes from `s4g demo --json` as "Step k of 7: …" with a progress bar, never the
 * CLI's own text; the project is built in project.partial, so neither a second click nor a
 * cancel ever opens or leaves a half-made DIR/project; Cancel says so at once. */
static void test_cancel(void)
{
    g_autofree char *dir = demo_dir();
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", dir);
    g_assert_true(g_spawn_command_line_sync(rm, NULL, NULL, NULL, NULL));
    S4gWindow *win = new_window();
    GtkWidget *button = find_actionable(GTK_WIDGET(win), "win.open-demo");
    g_assert_nonnull(button);
    g_assert_true(gtk_widget_is_sensitive(button));
    gtk_widget_activate_action(GTK_WIDGET(win), "win.open-demo", NULL);
    g_assert_true(s4g_window_is_busy(win));
    g_assert_false(gtk_widget_is_sensitive(button));
    /* into the training, past its first steps (the trainer's events move the bar within the
     * step): the world and the staged project exist, DIR/project does not */
    g_assert_true(wait_for_progress(win, 2.0 / 7 + 0.01));
    g_assert_true(s4g_window_is_busy(win));
    const char *text = s4g_window_get_task_text(win);
    g_assert_true(g_str_has_prefix(text, "Creating the demo project — Step "));
    g_assert_nonnull(strstr(text, " of 7: "));
    g_assert_null(strstr(text, "s4g"));
    g_assert_cmpfloat(s4g_window_get_task_fraction(win), >, 2.0 / 7);
    g_autofree char *db = g_build_filename(dir, "project", "project.s4g", NULL);
    g_autofree char *staged = g_build_filename(dir, "project.partial", "project.s4g", NULL);
    g_assert_true(g_file_test(staged, G_FILE_TEST_EXISTS));
    g_assert_false(g_file_test(db, G_FILE_TEST_EXISTS));
    /* a second click opens nothing half made */
    gtk_widget_activate_action(GTK_WIDGET(win), "win.open-demo", NULL);
    g_assert_null(s4g_window_get_project(win));
    g_assert_true(s4g_window_is_busy(win));
    s4g_window_cancel_task(win);
    g_assert_cmpstr(s4g_window_get_task_text(win), ==, "Creating the demo project — cancelling…");
    /* event waits, no wall-clock deadline: the test's meson timeout is the only cap */
    while (s4g_window_is_busy(win))
        g_main_context_iteration(NULL, TRUE);
    g_assert_false(s4g_window_is_busy(win));
    g_assert_true(gtk_widget_is_sensitive(button));
    g_assert_null(s4g_window_get_project(win));
    g_assert_false(g_file_test(db, G_FILE_TEST_EXISTS)); /* never reopened as if complete */
    gtk_window_destroy(GTK_WINDOW(win));
}

/* A demo run that fails leaves the project that is open, and its database, alone. */
static void test_failure_keeps_open_project(void)
{
    g_autofree char *mine = fix_make_project();
    g_autofree char *mine_db = g_build_filename(mine, "project.s4g", NULL);
    S4gWindow *win = new_window();
    g_autoptr(GError) error = NULL;
    g_assert_true(s4g_window_open_project(win, mine, &error));
    g_assert_no_error(error);
    g_autofree char *saved = g_strdup(g_getenv("S4G_DEMO_ARGS"));
    g_setenv("S4G_DEMO_ARGS", "--epochs 0", TRUE); /* s4g demo refuses it */
    gtk_widget_activate_action(GTK_WIDGET(win), "win.open-demo", NULL);
    g_setenv("S4G_DEMO_ARGS", saved, TRUE);
    g_assert_true(s4g_window_is_busy(win));
    gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    while (s4g_window_is_busy(win) && g_get_monotonic_time() < deadline)
        g_main_context_iteration(NULL, TRUE);
    g_assert_false(s4g_window_is_busy(win));
    g_assert_nonnull(s4g_window_get_project(win));
    g_assert_cmpstr(s4g_project_get_dir(s4g_window_get_project(win)), ==, mine);
    g_assert_true(g_file_test(mine_db, G_FILE_TEST_EXISTS));
    g_assert_true(gtk_widget_is_sensitive(find_actionable(GTK_WIDGET(win), "win.open-demo")));
    gtk_window_destroy(GTK_WINDOW(win));
}

static void test_open(void)
{
    g_autofree char *dir = demo_dir();
    g_autofree char *want = g_build_filename(dir, "project", NULL);
    S4gWindow *win = new_window();
    gtk_widget_activate_action(GTK_WIDGET(win), "win.open-demo", NULL);
    g_assert_true(s4g_window_is_busy(win));
    while (!s4g_window_get_project(win))
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
    /* `s4g demo` stored every held-out (val) photo's gallery predictions: all have an error */
    GListModel *photos = s4g_project_get_photos(project);
    guint n_val = 0;
    for (guint i = 0; i < g_list_model_get_n_items(photos); i++) {
        g_autoptr(S4gPhoto) p = g_list_model_get_item(photos, i);
        if (g_strcmp0(s4g_photo_get_split(p), "val")) continue;
        n_val++;
        g_assert_cmpfloat(s4g_photo_get_error(p), >=, 0);
    }
    g_assert_cmpuint(n_val, >, 3);
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

/* A photo whose stored predictions were deleted is predicted on demand (in-process, in the
 * search space with the most predictions: the gallery) when selected: a thread runs meanwhile, the UI stays live, and the rows it stores
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
        /* --top 3 over the dataset's tiles and over the gallery */
        g_assert_cmpint(sqlite3_changes(s4g_store_db(store)), ==, 6);
    }
    S4gWindow *win = new_window();
    g_assert_true(s4g_window_open_project(win, want, &error));
    g_assert_no_error(error);
    guint pos = find_photo(win, "0000011.jpg");
    g_assert_cmpuint(pos, !=, G_MAXUINT);
    s4g_window_select_photo(win, pos);
    g_assert_true(s4g_window_is_predicting(win));
    g_assert_cmpuint(s4g_window_count_candidate_markers(win), ==, 0);
    guint ticks = 0; /* the main loop keeps turning while s4g predict runs */
    while (s4g_window_is_predicting(win)) {
        g_main_context_iteration(NULL, TRUE);
        ticks++;
    }
    g_assert_false(s4g_window_is_predicting(win));
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

static gint64 query_int(S4gStore *store, const char *sql, gint64 a, gint64 b, gint64 c, gint64 d)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(store, sql, &error);
    g_assert_no_error(error);
    gint64 args[] = {a, b, c, d};
    for (int i = 0; i < sqlite3_bind_parameter_count(st); i++)
        sqlite3_bind_int64(st, i + 1, args[i]);
    g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
    return sqlite3_column_int64(st, 0);
}

#define COUNT_NEGS "SELECT COUNT(*) FROM hard_negatives WHERE mining_run = ?1 AND anchor = ?2"
#define COUNT_BOTH                                                                               \
    "SELECT COUNT(*) FROM (SELECT negative FROM hard_negatives WHERE mining_run = ?1 AND "      \
    "anchor = ?2 INTERSECT SELECT negative FROM hard_negatives WHERE mining_run = ?3 AND "      \
    "anchor = ?4)"

/* The GPS run (mined per satellite tile) beside a DSS run (mined per ground photo) for one
 * pair: both grids and both marker layers hold the run's k negatives, the shared ones are
 * marked, and the overlap shown is the intersection the store holds.  Then the pair is taken
 * out of the DSS run: the second column says so instead. */
static void test_compare(void)
{
    g_autofree char *dir = demo_dir();
    g_autofree char *want = g_build_filename(dir, "project", NULL);
    g_autoptr(GError) error = NULL;
    S4gWindow *win = new_window();
    g_assert_true(s4g_window_open_project(win, want, &error));
    g_assert_no_error(error);
    S4gProject *project = s4g_window_get_project(win);
    S4gStore *store = s4g_project_get_store(project);
    g_autoptr(GArray) run_ids = NULL;
    g_autoptr(GtkStringList) runs = s4g_project_get_mining_runs(project, &run_ids);
    guint gps = G_MAXUINT, dss = G_MAXUINT;
    for (guint i = 0; i < run_ids->len; i++) {
        const char *name = gtk_string_list_get_string(runs, i);
        if (strstr(name, " gps ") && gps == G_MAXUINT) gps = i;
        if (strstr(name, " dss ") && dss == G_MAXUINT) dss = i;
    }
    g_assert_cmpuint(gps, !=, G_MAXUINT);
    g_assert_cmpuint(dss, !=, G_MAXUINT);
    gint64 gps_id = g_array_index(run_ids, gint64, gps), dss_id = g_array_index(run_ids, gint64, dss);
    g_autoptr(GArray) anchors = s4g_project_mining_anchors(project, gps_id, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(anchors->len, >, 0);
    /* the first GPS anchor whose pair shares some but not all negatives with the DSS run */
    guint pos = G_MAXUINT;
    gint64 tile = 0, ground = 0, k = 0, k2 = 0, both = 0;
    for (guint i = 0; i < anchors->len && pos == G_MAXUINT; i++) {
        tile = g_array_index(anchors, gint64, i);
        ground = query_int(store, "SELECT ground FROM pairs WHERE satellite = ?1", tile, 0, 0, 0);
        k = query_int(store, COUNT_NEGS, gps_id, tile, 0, 0);
        k2 = query_int(store, COUNT_NEGS, dss_id, ground, 0, 0);
        both = query_int(store, COUNT_BOTH, gps_id, tile, dss_id, ground);
        if (both > 0 && both < k) pos = i;
    }
    g_assert_cmpuint(pos, !=, G_MAXUINT);
    g_assert_cmpint(k, ==, 16); /* k of `s4g demo`'s mining */
    g_assert_cmpint(k2, ==, 16);

    S4gNegativesView *view = s4g_window_get_negatives_view(win);
    s4g_window_select_anchor(win, gps, pos);
    g_assert_cmpint(s4g_negatives_view_get_anchor(view), ==, tile);
    g_assert_cmpuint(s4g_negatives_view_count_tiles(view, S4G_NEGATIVES_COMPARE), ==, 0);
    g_assert_cmpstr(s4g_negatives_view_get_summary(view), ==, "");
    g_assert_true(s4g_negatives_view_set_compare(view, dss));
    g_assert_cmpuint(s4g_window_count_negative_tiles(win), ==, k);
    g_assert_cmpuint(s4g_window_count_negative_markers(win), ==, k);
    g_assert_cmpuint(s4g_negatives_view_count_tiles(view, S4G_NEGATIVES_MAIN), ==, k);
    g_assert_cmpuint(s4g_negatives_view_count_tiles(view, S4G_NEGATIVES_COMPARE), ==, k2);
    g_assert_cmpuint(s4g_negatives_view_count_markers(view, S4G_NEGATIVES_COMPARE), ==, k2);
    g_assert_cmpuint(s4g_negatives_view_count_shared(view, S4G_NEGATIVES_MAIN), ==, both);
    g_assert_cmpuint(s4g_negatives_view_count_shared(view, S4G_NEGATIVES_COMPARE), ==, both);
    g_autofree char *summary =
        g_strdup_printf("%" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " in both runs", both, k);
    g_assert_cmpstr(s4g_negatives_view_get_summary(view), ==, summary);
    g_assert_cmpstr(s4g_negatives_view_get_message(view, S4G_NEGATIVES_COMPARE), ==, "");
    /* a shared tile: CSS class, badge and "also in <run>"; a GPS caption is a distance */
    g_autofree char *also =
        g_strdup_printf("also in %s", gtk_string_list_get_string(runs, dss));
    guint shared_seen = 0;
    for (guint i = 0; i < k; i++) {
        GtkWidget *t = s4g_negatives_view_get_tile(view, S4G_NEGATIVES_MAIN, i);
        g_assert_nonnull(t);
        const char *caption = gtk_label_get_label(GTK_LABEL(gtk_widget_get_last_child(t)));
        g_assert_true(g_str_has_suffix(caption, " m") || g_str_has_suffix(caption, " km"));
        if (!gtk_widget_has_css_class(t, "s4g-shared")) continue;
        shared_seen++;
        g_assert_cmpstr(g_object_get_data(G_OBJECT(t), "s4g-also"), ==, also);
        gtk_test_accessible_assert_property(GTK_ACCESSIBLE(t), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                            also);
    }
    g_assert_cmpuint(shared_seen, ==, both);
    spin(3.0);
    fix_screenshot(GTK_WIDGET(win), "compare-runs.png");

    /* The pair leaves the DSS run: its column says so, nothing is counted or drawn for it. */
    g_assert_true(s4g_store_exec(store, "BEGIN", &error));
    {
        g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
            store, "DELETE FROM hard_negatives WHERE mining_run = ?1 AND anchor = ?2", &error);
        g_assert_no_error(error);
        sqlite3_bind_int64(st, 1, dss_id);
        sqlite3_bind_int64(st, 2, ground);
        g_assert_cmpint(sqlite3_step(st), ==, SQLITE_DONE);
        g_assert_cmpint(sqlite3_changes(s4g_store_db(store)), ==, k2);
    }
    g_assert_true(s4g_store_exec(store, "COMMIT", &error));
    s4g_negatives_view_set_compare(view, GTK_INVALID_LIST_POSITION);
    g_assert_true(s4g_negatives_view_set_compare(view, dss));
    g_assert_cmpuint(s4g_negatives_view_count_tiles(view, S4G_NEGATIVES_MAIN), ==, k);
    g_assert_cmpuint(s4g_negatives_view_count_tiles(view, S4G_NEGATIVES_COMPARE), ==, 0);
    g_assert_cmpuint(s4g_negatives_view_count_markers(view, S4G_NEGATIVES_COMPARE), ==, 0);
    g_assert_cmpuint(s4g_negatives_view_count_shared(view, S4G_NEGATIVES_MAIN), ==, 0);
    g_assert_cmpstr(s4g_negatives_view_get_summary(view), ==, "");
    g_assert_nonnull(strstr(s4g_negatives_view_get_message(view, S4G_NEGATIVES_COMPARE),
                            "is not an anchor of"));
    gtk_window_destroy(GTK_WINDOW(win));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    fix_init(argv[0]);
    /* the test AT context records accessible properties for the compare test to read */
    g_setenv("GTK_A11Y", "test", TRUE);
    gtk_init();
    adw_init();
    app = fix_make_app("DemoTest");
    g_test_add_func("/studio/demo/cancel", test_cancel);
    g_test_add_func("/studio/demo/failure-keeps-open-project", test_failure_keeps_open_project);
    g_test_add_func("/studio/demo/open", test_open);
    g_test_add_func("/studio/demo/predict-on-demand", test_predict_on_demand);
    g_test_add_func("/studio/demo/compare-runs", test_compare);
    int rc = g_test_run();
    g_object_unref(app);
    return rc;
}
