/* test-prediction.c — the prediction half of the Studio (issue 14), on the real window under
 * Xvfb.  On the fixture project: map layers in a fixed order with the truth on top, the
 * legend, the estimate with its confidence and error, fit-to-content, Enter on a candidate,
 * the Hard Negatives page without the photo's prediction, the recall plot.  On a small real
 * `s4g demo` project: errors, sorting and the error filter at open; on-demand prediction
 * in-process with the numbers `s4g predict --json` prints for the same photo; a second photo
 * clicked while the first is predicted; grid labels updated without reopening; Predict all
 * with progress and Cancel, then sorting by error; and Predict all's time against `s4g
 * predict` on the same photos. */
#include "s4g-config.h"
#include "s4g-store-private.h"

#include "s4g-embedding-view.h"
#include "s4g-geo.h"
#include "s4g-recall-plot.h"
#include "s4g-store.h"
#include "s4g-test-fixture.h"
#include "s4g-window-prediction.h"
#include "s4g-window.h"

#include <adwaita.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

static AdwApplication *app;
static char *demo; /* the demo project, made once */

static S4gWindow *open_window(const char *dir)
{
    S4gWindow *win = s4g_window_new(GTK_APPLICATION(app));
    gtk_window_set_default_size(GTK_WINDOW(win), 1280, 800);
    g_autoptr(GError) error = NULL;
    g_assert_true(s4g_window_open_project(win, dir, &error));
    g_assert_no_error(error);
    gtk_window_present(GTK_WINDOW(win));
    fix_wait_drawn(GTK_WIDGET(s4g_window_get_map(win)));
    return win;
}

static void wait_idle(S4gWindow *win, double seconds)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)(seconds * G_USEC_PER_SEC);
    while (s4g_window_is_predicting(win) && g_get_monotonic_time() < deadline)
        g_main_context_iteration(NULL, TRUE);
    g_assert_false(s4g_window_is_predicting(win));
}

/* Whether (lat, lon) lies inside the map widget as shown now. */
static gboolean on_screen(S4gWindow *win, double lat, double lon)
{
    ShumateSimpleMap *map = s4g_window_get_map(win);
    ShumateViewport *vp = shumate_simple_map_get_viewport(map);
    double x, y;
    shumate_viewport_location_to_widget_coords(vp, GTK_WIDGET(map), lat, lon, &x, &y);
    return x >= 0 && y >= 0 && x <= gtk_widget_get_width(GTK_WIDGET(map)) &&
           y <= gtk_widget_get_height(GTK_WIDGET(map));
}

/* The widgets of type `type` under w, in tree order. */
static void collect(GtkWidget *w, GType type, GPtrArray *out)
{
    if (G_TYPE_CHECK_INSTANCE_TYPE(w, type)) g_ptr_array_add(out, w);
    for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c))
        collect(c, type, out);
}

static void test_map(void)
{
    g_autofree char *dir = fix_make_project();
    S4gWindow *win = open_window(dir);
    /* truth above the candidates above the estimate, whatever the base layer did */
    g_autofree char *layers = s4g_window_describe_layers(win);
    g_assert_true(g_str_has_suffix(layers, "negatives compare estimate candidates truth"));
    g_assert_true(g_str_has_prefix(layers, "photos error"));
    GtkWidget *legend = s4g_window_get_map_legend(win);
    g_assert_true(gtk_widget_get_mapped(legend));
    s4g_window_select_photo(win, 2);
    double lat, lon, conf, err, tlat, tlon, clat, clon;
    g_assert_true(s4g_window_get_shown_estimate(win, &lat, &lon, &conf, &err));
    /* candidates degrees apart: the refined estimate is the best tile's centre */
    fix_photo_location(2, &tlat, &tlon);
    fix_candidate_location(2, 1, &clat, &clon);
    g_assert_cmpfloat_with_epsilon(lat, clat, 1e-9);
    g_assert_cmpfloat_with_epsilon(lon, clon, 1e-9);
    g_assert_cmpfloat_with_epsilon(err, s4g_geo_haversine_m(tlat, tlon, clat, clon), 1e-6);
    g_assert_cmpfloat(conf, >, 0.3);
    g_assert_cmpfloat(conf, <=, 1);
    /* fit to content: a short animation, then truth and every candidate are in view */
    fix_spin(600);
    g_assert_true(on_screen(win, tlat, tlon));
    for (int r = 1; r <= FIX_K; r++) {
        fix_candidate_location(2, r, &clat, &clon);
        g_assert_true(on_screen(win, clat, clon));
    }
    fix_screenshot(GTK_WIDGET(win), "map-legend-fit.png");
    /* Enter on a focused candidate centres the map on it */
    GtkWidget *panel = s4g_window_get_side_panel(win);
    GtkFlowBox *flow = NULL;
    for (GtkWidget *c = gtk_widget_get_first_child(panel); c; c = gtk_widget_get_next_sibling(c))
        if (GTK_IS_FLOW_BOX(c)) flow = GTK_FLOW_BOX(c);
    g_assert_nonnull(flow);
    GtkFlowBoxChild *second = gtk_flow_box_get_child_at_index(flow, 1);
    gtk_widget_grab_focus(GTK_WIDGET(second));
    g_signal_emit_by_name(second, "activate");
    fix_candidate_location(2, 2, &clat, &clon);
    ShumateViewport *vp = shumate_simple_map_get_viewport(s4g_window_get_map(win));
    g_assert_cmpfloat_with_epsilon(shumate_location_get_latitude(SHUMATE_LOCATION(vp)), clat, 1e-6);
    g_assert_cmpfloat_with_epsilon(shumate_location_get_longitude(SHUMATE_LOCATION(vp)), clon,
                                   1e-6);
    /* the error filter's spin buttons are in metres, each with a visible label */
    s4g_window_set_filters(win, FALSE, FALSE, 0.5, 20000);
    g_autoptr(GPtrArray) spins = g_ptr_array_new();
    collect(GTK_WIDGET(win), GTK_TYPE_SPIN_BUTTON, spins);
    g_assert_cmpuint(spins->len, ==, 2);
    g_assert_cmpfloat(gtk_spin_button_get_value(spins->pdata[0]), ==, 500);
    g_assert_cmpfloat(gtk_spin_button_get_value(spins->pdata[1]), ==, 2e7);
    for (guint i = 0; i < 2; i++) {
        GtkWidget *label = gtk_widget_get_prev_sibling(spins->pdata[i]);
        g_assert_true(GTK_IS_LABEL(label));
        g_assert_true(g_str_has_suffix(gtk_label_get_text(GTK_LABEL(label)), "(m)"));
    }
    s4g_window_set_filters(win, FALSE, FALSE, 0, 20000);
    /* the recall plot: every fixture photo has an error */
    S4gRecallPlot *plot = S4G_RECALL_PLOT(s4g_window_get_recall_plot(win));
    g_assert_cmpuint(s4g_recall_plot_get_n(plot), ==, FIX_PHOTOS);
    g_assert_cmpfloat(s4g_recall_plot_recall_at(plot, 1e9), ==, 1);
    g_assert_cmpfloat(s4g_recall_plot_recall_at(plot, 0), ==, 0);
    /* the Hard Negatives page shows no photo's prediction in the side panel */
    s4g_window_select_anchor(win, 0, 0);
    fix_spin(100);
    g_assert_false(gtk_widget_get_visible(gtk_widget_get_prev_sibling(GTK_WIDGET(flow))));
    g_assert_false(gtk_widget_get_visible(GTK_WIDGET(flow)));
    g_assert_false(gtk_widget_get_visible(gtk_widget_get_parent(plot ? GTK_WIDGET(plot) : NULL)));
    g_autofree char *after = s4g_window_describe_layers(win);
    g_assert_cmpstr(after, ==, layers);
    gtk_window_destroy(GTK_WINDOW(win));
}

/* The compared run's negatives: their own class (a purple square) and an offset, so a tile both
 * runs chose shows two markers side by side, not one on the other; the legend says which. */
static void test_compare_markers(void)
{
    g_autofree char *dir = fix_make_project();
    {
        g_autoptr(GError) error = NULL;
        g_autoptr(S4gStore) store = s4g_store_open(dir, FALSE, &error);
        g_assert_true(s4g_store_exec(
            store,
            "INSERT INTO mining_runs (id, kind, dataset, epoch) VALUES (2, 'gps', 1, 0);"
            "INSERT INTO hard_negatives (mining_run, anchor, rank, negative, score) VALUES "
            "(2, 101, 0, 100, 150.0), (2, 101, 1, 103, 12500.0);",
            &error));
        g_assert_no_error(error);
    }
    S4gWindow *win = open_window(dir);
    S4gNegativesView *view = s4g_window_get_negatives_view(win);
    s4g_window_select_anchor(win, 0, 1);
    g_assert_true(s4g_negatives_view_set_compare(view, 1));
    fix_spin(300);
    g_autoptr(GPtrArray) markers = g_ptr_array_new();
    collect(GTK_WIDGET(s4g_window_get_map(win)), SHUMATE_TYPE_MARKER, markers);
    guint main = 0, compare = 0;
    for (guint i = 0; i < markers->len; i++) {
        GtkWidget *child = shumate_marker_get_child(markers->pdata[i]);
        if (!gtk_widget_get_visible(markers->pdata[i]) || !child) continue;
        if (gtk_widget_has_css_class(child, "s4g-compare-negative")) {
            compare++;
            g_assert_cmpint(gtk_widget_get_margin_start(child), >, 0);
            g_assert_cmpint(gtk_widget_get_margin_bottom(child), >, 0);
        } else if (gtk_widget_has_css_class(child, "s4g-negative")) {
            main++;
            g_assert_cmpint(gtk_widget_get_margin_start(child), ==, 0);
        }
    }
    g_assert_cmpuint(main, ==, FIX_NEGATIVES);
    g_assert_cmpuint(compare, ==, 2);
    /* the legend lists negatives and the compared run on this page, not the prediction */
    g_autoptr(GPtrArray) rows = g_ptr_array_new();
    collect(s4g_window_get_map_legend(win), GTK_TYPE_LABEL, rows);
    g_autoptr(GString) shown = g_string_new(NULL);
    for (guint i = 0; i < rows->len; i++)
        if (gtk_widget_is_visible(rows->pdata[i]))
            g_string_append_printf(shown, "%s|", gtk_label_get_text(rows->pdata[i]));
    g_assert_nonnull(strstr(shown->str, "Hard negatives"));
    g_assert_nonnull(strstr(shown->str, "Compared run"));
    g_assert_null(strstr(shown->str, "Estimate"));
    fix_screenshot(GTK_WIDGET(win), "compare-markers.png");
    gtk_window_destroy(GTK_WINDOW(win));
}

/* Choosing a photo's dot on the map scrolls the grid to it. */
static void test_dot_scrolls_grid(void)
{
    g_autofree char *dir = fix_make_project();
    fix_add_many_photos(dir, 300);
    S4gWindow *win = open_window(dir);
    fix_spin(200);
    guint n = s4g_window_count_visible_photos(win);
    S4gPhoto *last = s4g_window_get_visible_photo(win, n - 1);
    g_autoptr(GPtrArray) grids = g_ptr_array_new();
    collect(GTK_WIDGET(win), GTK_TYPE_GRID_VIEW, grids);
    g_assert_cmpuint(grids->len, ==, 1);
    GtkAdjustment *v = gtk_scrollable_get_vadjustment(grids->pdata[0]);
    g_assert_cmpfloat(gtk_adjustment_get_value(v), ==, 0);
    s4g_window_choose_photo_marker(win, s4g_photo_get_id(last));
    fix_spin(300);
    g_assert_cmpfloat(gtk_adjustment_get_value(v), >, 0);
    gtk_window_destroy(GTK_WINDOW(win));
}

/* The search box: a file name filters the grid, "lat, lon" moves the map. */
static void test_search(void)
{
    double lat, lon;
    g_assert_true(s4g_parse_lat_lon(" 48.1372, 11.5756 ", &lat, &lon));
    g_assert_cmpfloat(lat, ==, 48.1372);
    g_assert_cmpfloat(lon, ==, 11.5756);
    g_assert_true(s4g_parse_lat_lon("-33.9 151.2", &lat, &lon));
    g_assert_false(s4g_parse_lat_lon("ground-1.png", &lat, &lon));
    g_assert_false(s4g_parse_lat_lon("91, 10", &lat, &lon));
    g_assert_false(s4g_parse_lat_lon("1, 2, 3", &lat, &lon));
    g_autofree char *dir = fix_make_project();
    S4gWindow *win = open_window(dir);
    g_assert_false(s4g_window_search(win, "GROUND-2"));
    g_assert_cmpuint(s4g_window_count_visible_photos(win), ==, 1);
    g_assert_true(g_str_has_suffix(s4g_photo_get_path(s4g_window_get_visible_photo(win, 0)),
                                   "ground-2.png"));
    g_assert_false(s4g_window_search(win, ""));
    g_assert_cmpuint(s4g_window_count_visible_photos(win), ==, FIX_PHOTOS);
    g_assert_true(s4g_window_search(win, "10.5, 20.25"));
    g_assert_cmpuint(s4g_window_count_visible_photos(win), ==, FIX_PHOTOS);
    fix_spin(600);
    ShumateViewport *vp = shumate_simple_map_get_viewport(s4g_window_get_map(win));
    g_assert_cmpfloat_with_epsilon(shumate_location_get_latitude(SHUMATE_LOCATION(vp)), 10.5, 1e-6);
    g_assert_cmpfloat_with_epsilon(shumate_location_get_longitude(SHUMATE_LOCATION(vp)), 20.25,
                                   1e-6);
    gtk_window_destroy(GTK_WINDOW(win));
}

/* PCA by power iteration: points on a line in 8-D project onto the first component in their
 * order along it, with (almost) nothing on the second. */
static void test_pca(void)
{
    enum { N = 50, D = 8 };
    float x[N * D], out[2 * N];
    const float dir[D] = {1, 2, 0, -1, 0.5f, 0, 0, 3};
    for (int i = 0; i < N; i++)
        for (int d = 0; d < D; d++)
            x[i * D + d] = (i - 20) * dir[d] + 0.001f * ((i * 7 + d * 3) % 5 - 2);
    s4g_pca2(x, N, D, 40, out);
    float sign = out[2 * (N - 1)] > out[0] ? 1 : -1;
    for (int i = 1; i < N; i++) {
        g_assert_cmpfloat(sign * out[2 * i], >, sign * out[2 * (i - 1)]);
        g_assert_cmpfloat(fabsf(out[2 * i + 1]), <, 0.05f);
    }
}

/* The recall plot's numbers: the share within d, the axis a power of ten either side. */
static void test_recall_plot(void)
{
    GtkWidget *w = s4g_recall_plot_new();
    g_object_ref_sink(w);
    S4gRecallPlot *plot = S4G_RECALL_PLOT(w);
    double errors[] = {5, 50, NAN, 500, 5000};
    s4g_recall_plot_set_errors(plot, errors, G_N_ELEMENTS(errors));
    g_assert_cmpuint(s4g_recall_plot_get_n(plot), ==, 4);
    g_assert_cmpfloat(s4g_recall_plot_recall_at(plot, 4.9), ==, 0);
    g_assert_cmpfloat(s4g_recall_plot_recall_at(plot, 50), ==, 0.5);
    g_assert_cmpfloat(s4g_recall_plot_recall_at(plot, 1000), ==, 0.75);
    double lo, hi;
    s4g_recall_plot_get_range(plot, &lo, &hi);
    g_assert_cmpfloat(lo, ==, 1);
    g_assert_cmpfloat(hi, ==, 10000);
    g_object_unref(w);
}

/* ---- on a real demo project ----------------------------------------------------------- */

static const char *demo_project(void)
{
    if (demo) return demo;
    /* a project made by a full `s4g demo` (80 held-out photos) for the timing, by hand */
    if (g_getenv("S4G_PREDICTION_PROJECT"))
        return demo = g_strdup(g_getenv("S4G_PREDICTION_PROJECT"));
    g_autofree char *tmp = g_dir_make_tmp("s4g-pred-XXXXXX", NULL);
    g_autofree char *args =
        g_strdup_printf("demo --dir %s %s", tmp, g_getenv("S4G_DEMO_ARGS"));
    fix_run_s4g(args);
    demo = g_build_filename(tmp, "project", NULL); /* s4g demo puts it there */
    return demo;
}

static guint find_photo(S4gWindow *win, const char *base)
{
    for (guint i = 0; i < s4g_window_count_visible_photos(win); i++)
        if (g_str_has_suffix(s4g_photo_get_path(s4g_window_get_visible_photo(win, i)), base))
            return i;
    return G_MAXUINT;
}

static void delete_predictions(const char *dir, const char *base)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gStore) store = s4g_store_open(dir, FALSE, &error);
    g_assert_no_error(error);
    g_autofree char *sql = g_strdup_printf(
        "DELETE FROM predictions WHERE image IN (SELECT id FROM images WHERE path LIKE '%%%s')",
        base);
    g_assert_true(s4g_store_exec(store, sql, &error));
    g_assert_no_error(error);
}

static const char *model_name(S4gWindow *win)
{
    return gtk_string_list_get_string(s4g_project_get_models(s4g_window_get_project(win)), 0);
}

/* `s4g predict --json` over the gallery: one JSON object per photo (stdout). */
static char *cli_predict(const char *dir, const char *model, const char *top, char **photos,
                         double *seconds)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    const char *head[] = {g_getenv("S4G_PROGRAM"), "predict", "--json", "--project", dir,
                          "--gallery", "region", "--model", model, "--top", top, NULL};
    g_strv_builder_addv(b, head);
    g_strv_builder_addv(b, (const char **)photos);
    g_auto(GStrv) argv = g_strv_builder_end(b);
    g_autofree char *err = NULL;
    char *out = NULL;
    int status = 0;
    gint64 t0 = g_get_monotonic_time();
    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                               NULL));
    if (seconds) *seconds = (g_get_monotonic_time() - t0) / 1e6;
    if (!g_spawn_check_wait_status(status, NULL)) g_error("s4g predict failed: %s", err);
    return out;
}

static void test_demo_open(void)
{
    S4gWindow *win = open_window(demo_project());
    /* the demo's held-out predictions are on the gallery: that space is chosen */
    g_assert_cmpstr(s4g_window_get_search_space(win), ==, "region/*");
    g_assert_true(g_strv_contains(s4g_window_get_search_spaces(win), "demo/*"));
    guint n = s4g_window_count_visible_photos(win), with_error = 0;
    double max = 0;
    for (guint i = 0; i < n; i++) {
        double e = s4g_photo_get_error(s4g_window_get_visible_photo(win, i));
        if (!isnan(e)) with_error++, max = MAX(max, e);
    }
    g_assert_cmpuint(with_error, >, 3);
    /* sorting by error puts the largest first; the error filter keeps the range */
    s4g_window_set_filters(win, FALSE, TRUE, 0, 1e6);
    g_assert_cmpfloat(s4g_photo_get_error(s4g_window_get_visible_photo(win, 0)), ==, max);
    s4g_window_set_filters(win, FALSE, TRUE, 0.001, max / 2000);
    guint kept = s4g_window_count_visible_photos(win);
    g_assert_cmpuint(kept, <, with_error);
    for (guint i = 0; i < kept; i++) {
        double e = s4g_photo_get_error(s4g_window_get_visible_photo(win, i));
        g_assert_cmpfloat(e, >=, 1);
        g_assert_cmpfloat(e, <=, max / 2 + 1e-9);
    }
    S4gRecallPlot *plot = S4G_RECALL_PLOT(s4g_window_get_recall_plot(win));
    g_assert_cmpuint(s4g_recall_plot_get_n(plot), ==, with_error);
    s4g_window_set_filters(win, FALSE, TRUE, 0, 1e6);
    s4g_window_select_photo(win, 0);
    fix_spin(1500);
    fix_screenshot(GTK_WIDGET(win), "demo-prediction-recall.png");
    gtk_window_destroy(GTK_WINDOW(win));
}

/* The window's numbers for a photo predicted in-process are those of `s4g predict`. */
static void test_demo_matches_cli(void)
{
    const char *dir = demo_project();
    delete_predictions(dir, "0000011.jpg");
    S4gWindow *win = open_window(dir);
    guint pos = find_photo(win, "0000011.jpg");
    g_assert_cmpuint(pos, !=, G_MAXUINT);
    g_autofree char *path = g_strdup(s4g_photo_get_path(s4g_window_get_visible_photo(win, pos)));
    char *photos[] = {path, NULL};
    g_autofree char *json = cli_predict(dir, model_name(win), "5", photos, NULL);
    s4g_window_select_photo(win, pos);
    g_assert_true(s4g_window_is_predicting(win));
    double lat, lon, conf, err;
    g_assert_false(s4g_window_get_shown_estimate(win, &lat, &lon, &conf, &err));
    wait_idle(win, 60);
    g_assert_true(s4g_window_get_shown_estimate(win, &lat, &lon, &conf, &err));
    g_assert_cmpuint(s4g_window_count_candidate_markers(win), ==, 5);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_assert_true(json_parser_load_from_data(parser, json, -1, NULL));
    JsonObject *o = json_node_get_object(json_parser_get_root(parser));
    /* s4g predict prints %.7f, %.4f and %.1f */
    g_assert_cmpfloat_with_epsilon(lat, json_object_get_double_member(o, "lat"), 6e-8);
    g_assert_cmpfloat_with_epsilon(lon, json_object_get_double_member(o, "lon"), 6e-8);
    g_assert_cmpfloat_with_epsilon(conf, json_object_get_double_member(o, "confidence"), 6e-5);
    g_assert_cmpfloat_with_epsilon(err, json_object_get_double_member(o, "error_m"), 0.06);
    /* the grid's label has it without reopening */
    S4gPhoto *p = s4g_window_get_visible_photo(win, pos);
    g_assert_cmpfloat_with_epsilon(s4g_photo_get_error(p), err, 1e-6);
    fix_spin(100);
    g_autoptr(GPtrArray) grids = g_ptr_array_new(), labels = g_ptr_array_new();
    collect(GTK_WIDGET(win), GTK_TYPE_GRID_VIEW, grids);
    collect(grids->pdata[0], GTK_TYPE_LABEL, labels);
    g_autofree char *want = err >= 10000 ? g_strdup_printf("0000011.jpg · %.0f km", err / 1000)
                                         : g_strdup_printf("0000011.jpg · %.0f m", err);
    gboolean labelled = FALSE;
    for (guint i = 0; i < labels->len; i++)
        labelled |= !g_strcmp0(gtk_label_get_text(labels->pdata[i]), want);
    g_assert_true(labelled);
    gtk_window_destroy(GTK_WINDOW(win));
}

/* Photo B clicked while A is predicted: B gets predicted too, and A keeps its result. */
static void test_demo_click_while_predicting(void)
{
    const char *dir = demo_project();
    delete_predictions(dir, "0000013.jpg");
    delete_predictions(dir, "0000017.jpg");
    S4gWindow *win = open_window(dir);
    guint a = find_photo(win, "0000013.jpg"), b = find_photo(win, "0000017.jpg");
    g_assert_cmpuint(a, !=, G_MAXUINT);
    g_assert_cmpuint(b, !=, G_MAXUINT);
    S4gPhoto *pa = s4g_window_get_visible_photo(win, a), *pb = s4g_window_get_visible_photo(win, b);
    g_assert_true(isnan(s4g_photo_get_error(pa)));
    s4g_window_select_photo(win, a);
    g_assert_true(s4g_window_is_predicting(win));
    s4g_window_select_photo(win, b);
    wait_idle(win, 60);
    double lat, lon, conf, err;
    g_assert_true(s4g_window_get_shown_estimate(win, &lat, &lon, &conf, &err));
    g_assert_false(isnan(s4g_photo_get_error(pa)));
    g_assert_cmpfloat_with_epsilon(s4g_photo_get_error(pb), err, 1e-6);
    gtk_window_destroy(GTK_WINDOW(win));
}

/* Predict all: progress, then sorting by error; Cancel stops it. */
static void test_demo_predict_all(void)
{
    const char *dir = demo_project();
    S4gWindow *win = open_window(dir);
    guint n = s4g_window_count_visible_photos(win);
    g_assert_true(s4g_window_predict_all(win));
    g_assert_true(s4g_window_is_predicting(win));
    g_assert_false(s4g_window_predict_all(win)); /* one at a time */
    s4g_window_cancel_prediction(win);
    wait_idle(win, 60);
    guint done, total;
    s4g_window_get_predict_progress(win, &done, &total);
    g_assert_cmpuint(total, ==, 0); /* over */

    g_assert_true(s4g_window_predict_all(win));
    guint seen_progress = 0;
    gint64 deadline = g_get_monotonic_time() + 120 * G_USEC_PER_SEC;
    while (s4g_window_is_predicting(win) && g_get_monotonic_time() < deadline) {
        g_main_context_iteration(NULL, TRUE);
        s4g_window_get_predict_progress(win, &done, &total);
        if (total == n && done > 0 && done < n) seen_progress++;
    }
    g_assert_false(s4g_window_is_predicting(win));
    if (n > 32) g_assert_cmpuint(seen_progress, >, 0);
    /* every photo now has an error in the space; sorting by error works */
    s4g_window_set_filters(win, FALSE, TRUE, 0, 1e6);
    double prev = INFINITY;
    for (guint i = 0; i < s4g_window_count_visible_photos(win); i++) {
        double e = s4g_photo_get_error(s4g_window_get_visible_photo(win, i));
        g_assert_false(isnan(e));
        g_assert_cmpfloat(e, <=, prev);
        prev = e;
    }
    /* the embedding view: the photos (cached by the prediction) and the tiles; a click on a
     * photo's disc selects that photo */
    s4g_window_show_embeddings(win, TRUE);
    gint64 deadline2 = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    while (s4g_window_is_loading_embeddings(win) && g_get_monotonic_time() < deadline2)
        g_main_context_iteration(NULL, TRUE);
    fix_spin(300);
    S4gEmbeddingView *ev = S4G_EMBEDDING_VIEW(s4g_window_get_embedding_view(win));
    g_assert_cmpuint(s4g_embedding_view_get_n(ev, TRUE), ==, n);
    g_assert_cmpuint(s4g_embedding_view_get_n(ev, FALSE), >, 0);
    double ex, ey;
    g_assert_true(s4g_embedding_view_point_position(ev, 0, &ex, &ey));
    gint64 picked = s4g_embedding_view_pick(ev, ex, ey);
    g_assert_cmpint(picked, >, 0);
    g_signal_emit_by_name(ev, "photo-activated", picked);
    S4gPhoto *sel = NULL;
    for (guint i = 0; i < s4g_window_count_visible_photos(win); i++) {
        S4gPhoto *p = s4g_window_get_visible_photo(win, i);
        if (s4g_photo_get_id(p) == picked) sel = p;
    }
    g_assert_nonnull(sel);
    double lat, lon, conf, err;
    g_assert_true(s4g_window_get_shown_estimate(win, &lat, &lon, &conf, &err));
    g_assert_cmpfloat_with_epsilon(err, s4g_photo_get_error(sel), 1e-6);
    fix_spin(500);
    fix_screenshot(GTK_WIDGET(win), "embedding-view.png");
    gtk_window_destroy(GTK_WINDOW(win));
}

/* Predict all in the app takes no longer than `s4g predict` on the same photos (+10 %). */
static void test_demo_predict_all_time(void)
{
    const char *dir = demo_project();
    S4gWindow *win = open_window(dir);
    /* the held-out photos: the val split's, as in the drop-down */
    g_autoptr(GPtrArray) drops = g_ptr_array_new();
    collect(GTK_WIDGET(win), GTK_TYPE_DROP_DOWN, drops);
    gboolean split = FALSE;
    for (guint i = 0; i < drops->len && !split; i++) {
        GListModel *m = gtk_drop_down_get_model(drops->pdata[i]);
        for (guint j = 0; GTK_IS_STRING_LIST(m) && j < g_list_model_get_n_items(m); j++)
            if (!g_strcmp0(gtk_string_list_get_string(GTK_STRING_LIST(m), j), "val") &&
                !g_strcmp0(gtk_string_list_get_string(GTK_STRING_LIST(m), 0), "All splits")) {
                gtk_drop_down_set_selected(drops->pdata[i], j);
                split = TRUE;
            }
    }
    g_assert_true(split);
    guint n = s4g_window_count_visible_photos(win);
    g_assert_cmpuint(n, >, 3);
    g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < n; i++)
        g_ptr_array_add(paths, g_strdup(s4g_photo_get_path(s4g_window_get_visible_photo(win, i))));
    g_ptr_array_add(paths, NULL);
    /* compared in CPU seconds (the s4g process vs this one), which the machine's other load
     * hardly changes; wall-clock seconds are printed for information */
    double cli = 0, cli0 = fix_children_cpu_seconds();
    g_autofree char *json = cli_predict(dir, model_name(win), "5", (char **)paths->pdata, &cli);
    double cli_cpu = fix_children_cpu_seconds() - cli0;
    gint64 t0 = g_get_monotonic_time();
    double app0 = fix_cpu_seconds();
    g_assert_true(s4g_window_predict_all(win));
    wait_idle(win, 120);
    double app_cpu = fix_cpu_seconds() - app0;
    double app_s = (g_get_monotonic_time() - t0) / 1e6;
    g_test_message("predict all of %u photos: app %.2f CPU-s (%.2f s), s4g predict %.2f CPU-s "
                   "(%.2f s)", n, app_cpu, app_s, cli_cpu, cli);
    g_printerr("predict all of %u photos: app %.2f CPU-s (%.2f s), s4g predict %.2f CPU-s "
               "(%.2f s)\n", n, app_cpu, app_s, cli_cpu, cli);
    g_assert_cmpfloat(app_cpu, <=, cli_cpu * 1.1);
    gtk_window_destroy(GTK_WINDOW(win));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    fix_init(argv[0]);
    gtk_init();
    adw_init();
    app = fix_make_app("Prediction");
    g_test_add_func("/studio/prediction/recall-plot", test_recall_plot);
    g_test_add_func("/studio/prediction/pca", test_pca);
    g_test_add_func("/studio/prediction/map", test_map);
    g_test_add_func("/studio/prediction/compare-markers", test_compare_markers);
    g_test_add_func("/studio/prediction/dot-scrolls-grid", test_dot_scrolls_grid);
    g_test_add_func("/studio/prediction/search", test_search);
    g_test_add_func("/studio/prediction/demo-open", test_demo_open);
    g_test_add_func("/studio/prediction/matches-cli", test_demo_matches_cli);
    g_test_add_func("/studio/prediction/click-while-predicting", test_demo_click_while_predicting);
    g_test_add_func("/studio/prediction/predict-all", test_demo_predict_all);
    g_test_add_func("/studio/prediction/predict-all-time", test_demo_predict_all_time);
    int rc = g_test_run();
    if (demo && !g_getenv("S4G_PREDICTION_PROJECT")) { /* the demo this program made */
        g_autofree char *tmp = g_path_get_dirname(demo);
        g_autofree char *rm = g_strdup_printf("rm -rf '%s'", tmp);
        g_spawn_command_line_sync(rm, NULL, NULL, NULL, NULL);
    }
    g_free(demo);
    return rc;
}
