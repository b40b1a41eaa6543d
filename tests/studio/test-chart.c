/* test-chart.c — the loss chart fed with `s4g train --json` lines, directly and through the
 * training window's GSubprocess (a stand-in trainer script prints the lines). */
#include "s4g-defaults.h"
#include "s4g-loss-chart.h"
#include "s4g-test-fixture.h"
#include "s4g-train-window.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <math.h>

static void test_feed(void)
{
    S4gLossChart *chart = S4G_LOSS_CHART(g_object_ref_sink(s4g_loss_chart_new()));
    g_autoptr(GError) error = NULL;
    const char *lines[] = {
        "{\"step\":1,\"epoch\":0.1,\"loss\":4.5,\"lr\":1e-4,\"logit_scale\":14.3,\"pairs_per_s\":"
        "12.5}",
        "{\"step\":2,\"epoch\":0.2,\"loss\":4.25,\"lr\":1e-4,\"logit_scale\":14.4,\"pairs_per_s\":"
        "13}",
        "{\"step\":5,\"epoch\":0.5,\"loss\":3.0,\"lr\":2e-4,\"logit_scale\":15,\"pairs_per_s\":13}",
        "{\"epoch\":1,\"r1\":12.5,\"r5\":40,\"r10\":55.5}",
        /* the real trainer's event objects: non-data events pass without a point */
        "{\"event\": \"start\", \"run\": 1, \"model\": 2, \"device\": \"cpu\", \"pairs\": 160}",
        "{\"event\": \"checkpoint\", \"path\": \"models/run-1.safetensors\"}",
        "{\"event\": \"end\", \"run\": 1, \"model\": 2, \"state\": \"done\", \"step\": 5}",
    };
    for (guint i = 0; i < G_N_ELEMENTS(lines); i++) {
        g_assert_true(s4g_loss_chart_feed_line(chart, lines[i], &error));
        g_assert_no_error(error);
    }
    g_assert_cmpuint(s4g_loss_chart_get_n_points(chart), ==, 3);
    g_assert_true(s4g_loss_chart_feed_line(
        chart, "{\"event\": \"step\", \"step\": 6, \"epoch\": 0.6, \"loss\": 2.5, \"lr\": 2e-4}",
        &error));
    g_assert_cmpuint(s4g_loss_chart_get_n_points(chart), ==, 4);
    g_assert_false(s4g_loss_chart_feed_line(
        chart, "{\"event\": \"error\", \"run\": 1, \"message\": \"out of memory\"}", &error));
    g_assert_cmpstr(error->message, ==, "out of memory");
    g_clear_error(&error);
    double step, loss;
    g_assert_true(s4g_loss_chart_get_point(chart, 2, &step, &loss));
    g_assert_cmpfloat(step, ==, 5);
    g_assert_cmpfloat(loss, ==, 3.0);
    double r1, r5, r10;
    g_assert_true(s4g_loss_chart_get_recall(chart, &r1, &r5, &r10));
    g_assert_cmpfloat(r1, ==, 12.5);
    g_assert_cmpfloat(r10, ==, 55.5);
    g_autofree char *d = s4g_loss_chart_describe(chart, 1);
    g_assert_nonnull(strstr(d, "step 2"));
    g_assert_nonnull(strstr(d, "loss 4.2500"));
    g_assert_nonnull(strstr(d, "13.0 pairs/s"));

    /* malformed lines name their line number and the field */
    g_assert_false(s4g_loss_chart_feed_line(chart, "{\"step\":6}", &error));
    g_assert_nonnull(strstr(error->message, "line 10"));
    g_assert_nonnull(strstr(error->message, "loss"));
    g_clear_error(&error);
    g_assert_false(s4g_loss_chart_feed_line(chart, "{\"step\": 7, \"loss\": ", &error));
    g_assert_nonnull(strstr(error->message, "line 11"));
    g_clear_error(&error);
    g_assert_false(s4g_loss_chart_feed_line(chart, "[1,2]", &error));
    g_clear_error(&error);
    g_assert_cmpuint(s4g_loss_chart_get_n_points(chart), ==, 4);
    g_object_unref(chart);
}

static void count_changed(S4gLossModel *m, guint *n)
{
    (*n)++;
}

/* The model alone: every change announced, points in 0–1 of the range (loss with 5 %
 * margins), evaluations at R@1/100, the nearest point by x, and events from the parser. */
static void test_model(void)
{
    g_autoptr(S4gLossModel) m = s4g_loss_model_new();
    guint changes = 0;
    g_signal_connect(m, "changed", G_CALLBACK(count_changed), &changes);
    double x, y, x0, x1, y0, y1;
    g_assert_false(s4g_loss_model_get_range(m, &x0, &x1, &y0, &y1));
    g_assert_false(s4g_loss_model_get_point_xy(m, 0, &x, &y));
    g_assert_cmpint(s4g_loss_model_nearest(m, 0.5), ==, -1);
    s4g_loss_model_add_point(m, 10, NAN, 3.0, NAN, NAN, NAN);
    s4g_loss_model_add_point(m, 20, NAN, 2.0, NAN, NAN, NAN);
    s4g_loss_model_add_point(m, 30, NAN, 1.0, NAN, NAN, NAN);
    g_assert_cmpuint(changes, ==, 3);
    g_assert_true(s4g_loss_model_get_range(m, &x0, &x1, &y0, &y1));
    g_assert_cmpfloat(x0, ==, 10);
    g_assert_cmpfloat(x1, ==, 30);
    g_assert_cmpfloat_with_epsilon(y0, 0.9, 1e-12);
    g_assert_cmpfloat_with_epsilon(y1, 3.1, 1e-12);
    g_assert_true(s4g_loss_model_get_point_xy(m, 1, &x, &y));
    g_assert_cmpfloat_with_epsilon(x, 0.5, 1e-12);
    g_assert_cmpfloat_with_epsilon(y, 0.5, 1e-12);
    g_assert_true(s4g_loss_model_get_point_xy(m, 2, &x, &y));
    g_assert_cmpfloat_with_epsilon(x, 1.0, 1e-12);
    g_assert_cmpfloat_with_epsilon(y, 0.1 / 2.2, 1e-12);
    g_assert_cmpint(s4g_loss_model_nearest(m, 0.2), ==, 0);
    g_assert_cmpint(s4g_loss_model_nearest(m, 0.8), ==, 2);
    S4gTrainEvent eval = {.kind = S4G_TRAIN_EVENT_EVAL, .epoch = 1, .metrics = {.r1 = 40}};
    g_assert_true(s4g_loss_model_add_event(m, &eval));
    g_assert_true(s4g_loss_model_get_eval_xy(m, 0, &x, &y));
    g_assert_cmpfloat(x, ==, 1.0); /* after the last point */
    g_assert_cmpfloat_with_epsilon(y, 0.4, 1e-12);
    S4gTrainEvent start = {.kind = S4G_TRAIN_EVENT_START, .run = 1};
    g_assert_false(s4g_loss_model_add_event(m, &start));
    g_assert_cmpuint(changes, ==, 4);
    /* a chart draws the model it owns */
    S4gLossChart *chart = S4G_LOSS_CHART(g_object_ref_sink(s4g_loss_chart_new()));
    S4gLossModel *own = s4g_loss_chart_get_model(chart);
    g_assert_true(S4G_IS_LOSS_MODEL(own));
    g_assert_true(s4g_loss_model_feed_line(own, "{\"step\": 3, \"loss\": 1.5}", NULL));
    g_assert_cmpuint(s4g_loss_chart_get_n_points(chart), ==, 1);
    g_object_unref(chart);
}

static void test_hover(void)
{
    GtkWidget *win = gtk_window_new();
    GtkWidget *chart = s4g_loss_chart_new();
    gtk_window_set_child(GTK_WINDOW(win), chart);
    gtk_window_set_default_size(GTK_WINDOW(win), 568, 300); /* plot width 500 px */
    for (int s = 0; s <= 10; s++) {
        g_autofree char *l = g_strdup_printf("{\"step\":%d,\"loss\":%g}", s * 10, 5.0 - 0.3 * s);
        g_assert_true(s4g_loss_chart_feed_line(S4G_LOSS_CHART(chart), l, NULL));
    }
    gtk_window_present(GTK_WINDOW(win));
    while (gtk_widget_get_width(chart) == 0)
        g_main_context_iteration(NULL, TRUE);
    int w = gtk_widget_get_width(chart);
    /* plot spans [56, w-12]: the x of step 70 is 56 + 0.7 * (w - 68) */
    double x = 56 + 0.7 * (w - 68);
    g_assert_cmpint(s4g_loss_chart_nearest(S4G_LOSS_CHART(chart), x + 3), ==, 7);
    g_assert_cmpint(s4g_loss_chart_nearest(S4G_LOSS_CHART(chart), 0), ==, 0);
    g_assert_cmpint(s4g_loss_chart_nearest(S4G_LOSS_CHART(chart), w), ==, 10);
    gtk_window_destroy(GTK_WINDOW(win));
}

static void test_subprocess(void)
{
    g_autofree char *dir = g_dir_make_tmp("s4g-train-XXXXXX", NULL);
    g_autofree char *script = g_build_filename(dir, "fake-s4g", NULL);
    g_autofree char *argsfile = g_build_filename(dir, "args", NULL);
    /* Stands in for the real trainer: records its arguments, prints JSON lines. */
    g_autofree char *body =
        g_strdup_printf("#!/bin/sh\necho \"$@\" > '%s'\n"
                        "for i in 1 2 3 4 5 6 7; do echo "
                        "\"{\\\"step\\\":$i,\\\"epoch\\\":0,\\\"loss\\\":$((10 - i)),"
                        "\\\"lr\\\":0.001,\\\"logit_scale\\\":14,\\\"pairs_per_s\\\":3}\"; done\n"
                        "echo 'not json'\n"
                        "echo '{\"r1\":50,\"r5\":80,\"r10\":90}'\n",
                        argsfile);
    g_assert_true(g_file_set_contents(script, body, -1, NULL));
    g_chmod(script, 0755);
    g_setenv("S4G_PROGRAM", script, TRUE);

    S4gTrainWindow *tw = s4g_train_window_new(NULL, dir);
    g_autoptr(GError) error = NULL;
    g_assert_true(s4g_train_window_start(tw, &error));
    g_assert_no_error(error);
    gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    while (s4g_train_window_is_running(tw) && g_get_monotonic_time() < deadline)
        g_main_context_iteration(NULL, TRUE);
    S4gLossChart *chart = s4g_train_window_get_chart(tw);
    double r1, r5, r10;
    /* the exit may be seen before the last lines are read */
    while (!s4g_loss_chart_get_recall(chart, &r1, &r5, &r10) && g_get_monotonic_time() < deadline)
        g_main_context_iteration(NULL, TRUE);
    g_assert_cmpuint(s4g_loss_chart_get_n_points(chart), ==, 7);
    double step, loss;
    g_assert_true(s4g_loss_chart_get_point(chart, 6, &step, &loss));
    g_assert_cmpfloat(step, ==, 7);
    g_assert_cmpfloat(loss, ==, 3);
    g_assert_true(s4g_loss_chart_get_recall(chart, &r1, &r5, &r10));
    g_assert_cmpfloat(r5, ==, 80);
    g_autofree char *args = NULL;
    g_assert_true(g_file_get_contents(argsfile, &args, NULL, NULL));
    /* the form's values: the defaults table's (s4g-defaults.h) */
    char lr[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd(lr, sizeof lr, "%g", s4g_defaults.lr);
    g_autofree char *want = g_strdup_printf(
        "train --json --project %s --model model --preset %s --epochs %u --batch %u --lr %s "
        "--satellite-shift %u --neighbour-select %u --neighbour-range %u --eval-every %u\n",
        dir, s4g_defaults.preset, s4g_defaults.epochs, s4g_defaults.batch, lr,
        s4g_defaults.satellite_shift, s4g_defaults.neighbour_select, s4g_defaults.neighbour_range,
        s4g_defaults.eval_every);
    g_assert_cmpstr(args, ==, want);
    gtk_window_set_default_size(GTK_WINDOW(tw), 720, 620);
    gtk_window_present(GTK_WINDOW(tw));
    while (gtk_widget_get_width(GTK_WIDGET(chart)) == 0)
        g_main_context_iteration(NULL, TRUE);
    int w = gtk_widget_get_width(GTK_WIDGET(chart));
    /* the middle of the plot is step 4 (steps 1..7) */
    g_assert_cmpint(s4g_loss_chart_nearest(chart, 56 + 0.5 * (w - 68)), ==, 3);
    for (int i = 0; i < 20; i++)
        g_main_context_iteration(NULL, FALSE);
    fix_screenshot(GTK_WIDGET(tw), "studio-training.png");
    gtk_window_destroy(GTK_WINDOW(tw));
}

/* Cancel sends SIGTERM; the run ends and the window is ready for another. */
static void test_cancel(void)
{
    g_autofree char *dir = g_dir_make_tmp("s4g-train-XXXXXX", NULL);
    g_autofree char *script = g_build_filename(dir, "slow-s4g", NULL);
    g_assert_true(g_file_set_contents(
        script, "#!/bin/sh\necho '{\"step\":1,\"loss\":2.5}'\nexec sleep 30\n", -1, NULL));
    g_chmod(script, 0755);
    g_setenv("S4G_PROGRAM", script, TRUE);
    S4gTrainWindow *tw = s4g_train_window_new(NULL, dir);
    S4gLossChart *chart = s4g_train_window_get_chart(tw);
    g_assert_true(s4g_train_window_start(tw, NULL));
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (s4g_loss_chart_get_n_points(chart) == 0 && g_get_monotonic_time() < deadline)
        g_main_context_iteration(NULL, TRUE);
    g_assert_cmpuint(s4g_loss_chart_get_n_points(chart), ==, 1);
    g_assert_true(s4g_train_window_is_running(tw));
    gint64 t0 = g_get_monotonic_time();
    s4g_train_window_cancel(tw);
    while (s4g_train_window_is_running(tw) && g_get_monotonic_time() < deadline)
        g_main_context_iteration(NULL, TRUE);
    g_assert_false(s4g_train_window_is_running(tw));
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 5 * G_USEC_PER_SEC); /* not the 30 s sleep */
    gtk_window_destroy(GTK_WINDOW(tw));
}

/* Stored points, then live ones from the resumed trainer: steps stay increasing, a repeated
 * step replaces what follows, evaluations sit on their step and show in the read-out. */
static void test_chart_merge(void)
{
    S4gLossChart *chart = S4G_LOSS_CHART(g_object_ref_sink(s4g_loss_chart_new()));
    for (int s = 1; s <= 9; s++)
        s4g_loss_chart_add_point(chart, s, s / 3.0, 5.0 - 0.25 * s, 1e-4, 14, 33);
    s4g_loss_chart_add_eval(chart, 6, 2, 25, 50, 75);
    s4g_loss_chart_set_n_stored(chart, 9);
    g_assert_cmpuint(s4g_loss_chart_get_n_stored(chart), ==, 9);
    g_autofree char *d6 = s4g_loss_chart_describe(chart, 5);
    g_assert_nonnull(strstr(d6, "R@1 25.0%"));
    g_autofree char *d7 = s4g_loss_chart_describe(chart, 6);
    g_assert_null(strstr(d7, "R@1"));
    /* the live lines of the resumed run */
    g_autoptr(GError) error = NULL;
    g_assert_true(s4g_loss_chart_feed_line(
        chart, "{\"event\": \"step\", \"step\": 10, \"epoch\": 3.33, \"loss\": 2.5}", &error));
    g_assert_true(s4g_loss_chart_feed_line(
        chart, "{\"event\": \"eval\", \"epoch\": 4, \"r1\": 37.5, \"r5\": 60, \"r10\": 70}",
        &error));
    g_assert_no_error(error);
    g_assert_cmpuint(s4g_loss_chart_get_n_points(chart), ==, 10);
    g_assert_cmpuint(s4g_loss_chart_get_n_evals(chart), ==, 2);
    double step, r1, loss;
    g_assert_true(s4g_loss_chart_get_eval(chart, 1, &step, &r1));
    g_assert_cmpfloat(step, ==, 10); /* after the last point so far */
    g_assert_cmpfloat(r1, ==, 37.5);
    double r5, r10;
    g_assert_true(s4g_loss_chart_get_recall(chart, &r1, &r5, &r10));
    g_assert_cmpfloat(r10, ==, 70);
    /* a trainer that restarts from step 7 replaces steps 7..10 */
    s4g_loss_chart_add_point(chart, 7, 2.33, 1.5, NAN, NAN, NAN);
    g_assert_cmpuint(s4g_loss_chart_get_n_points(chart), ==, 7);
    g_assert_cmpuint(s4g_loss_chart_get_n_stored(chart), ==, 6);
    g_assert_true(s4g_loss_chart_get_point(chart, 6, &step, &loss));
    g_assert_cmpfloat(step, ==, 7);
    g_assert_cmpfloat(loss, ==, 1.5);
    s4g_loss_chart_clear(chart);
    g_assert_cmpuint(s4g_loss_chart_get_n_evals(chart), ==, 0);
    g_assert_cmpuint(s4g_loss_chart_get_n_stored(chart), ==, 0);
    g_assert_false(s4g_loss_chart_get_recall(chart, &r1, &r5, &r10));
    g_object_unref(chart);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    fix_init(argv[0]);
    gtk_init();
    adw_init();
    g_test_add_func("/studio/chart/feed", test_feed);
    g_test_add_func("/studio/chart/hover", test_hover);
    g_test_add_func("/studio/chart/trainer-process", test_subprocess);
    g_test_add_func("/studio/chart/cancel", test_cancel);
    g_test_add_func("/studio/chart/model", test_model);
    g_test_add_func("/studio/chart/stored-then-live", test_chart_merge);
    return g_test_run();
}
