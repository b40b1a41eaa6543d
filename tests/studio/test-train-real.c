/* test-train-real.c — the training window drives the REAL `s4g train --json` (built
 * alongside, S4G_PROGRAM): a tiny synthetic world (`s4g synth` + `s4g import`), atto at
 * 32x128 (H×W) / 64x64, batch 4.  The chart must receive the run's loss points as they come,
 * and Cancel (SIGTERM) must leave the run 'stopped' in the project's runs table. */
#include "s4g-config.h"
#include "s4g-store-private.h"

#include "s4g-defaults.h"
#include "s4g-store-datasets.h"
#include "s4g-store.h"
#include "s4g-train.h"
#include "s4g-test-fixture.h"
#include "s4g-train-window.h"
#include "s4g-window.h"

#include <adwaita.h>
#include <math.h>
#include <string.h>

static AdwApplication *app;

static GObject *part(S4gTrainWindow *tw, const char *name)
{
    GObject *o = gtk_widget_get_template_child(GTK_WIDGET(tw), S4G_TYPE_TRAIN_WINDOW, name);
    g_assert_nonnull(o);
    return o;
}

static void set_row(S4gTrainWindow *tw, const char *name, const char *text)
{
    gtk_editable_set_text(GTK_EDITABLE(part(tw, name)), text);
}

/* Picks `name` in the dataset drop-down, which lists the project's datasets with photos. */
static void select_dataset(S4gTrainWindow *tw, const char *name)
{
    AdwComboRow *row = ADW_COMBO_ROW(part(tw, "dataset_row"));
    GListModel *m = adw_combo_row_get_model(row);
    for (guint i = 0; i < g_list_model_get_n_items(m); i++)
        if (!g_strcmp0(gtk_string_list_get_string(GTK_STRING_LIST(m), i), name)) {
            adw_combo_row_set_selected(row, i);
            return;
        }
    g_error("dataset %s is not in the training form's list", name);
}

/* The value that follows `flag` in argv, or NULL. */
static const char *arg_after(GStrv argv, const char *flag)
{
    for (guint i = 0; argv[i]; i++)
        if (!g_strcmp0(argv[i], flag)) return argv[i + 1];
    return NULL;
}

static void set_spin(S4gTrainWindow *tw, const char *name, double v)
{
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(part(tw, name)), v);
}

/* The form starts from the same defaults as `s4g train` (s4g-defaults.h). */
static void test_form_defaults(void)
{
    S4gTrainWindow *tw = s4g_train_window_new(NULL, "/nonexistent");
    g_assert_cmpstr(gtk_editable_get_text(GTK_EDITABLE(part(tw, "preset_row"))), ==,
                    s4g_defaults.preset);
    g_assert_cmpint(gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(part(tw, "epochs_spin"))),
                    ==, s4g_defaults.epochs);
    g_assert_cmpint(gtk_spin_button_get_value_as_int(GTK_SPIN_BUTTON(part(tw, "batch_spin"))),
                    ==, s4g_defaults.batch);
    const char *lr = gtk_editable_get_text(GTK_EDITABLE(part(tw, "lr_row")));
    g_assert_cmpfloat(g_ascii_strtod(lr, NULL), ==, s4g_defaults.lr);
    /* the size rows, left empty, name the sizes the trainer then takes */
    g_autofree char *g =
        g_strdup_printf("%dx%d)", s4g_defaults.ground.h, s4g_defaults.ground.w);
    g_autofree char *sat =
        g_strdup_printf("%dx%d)", s4g_defaults.satellite.h, s4g_defaults.satellite.w);
    const char *gt =
        adw_preferences_row_get_title(ADW_PREFERENCES_ROW(part(tw, "ground_size_row")));
    const char *st =
        adw_preferences_row_get_title(ADW_PREFERENCES_ROW(part(tw, "satellite_size_row")));
    g_assert_true(g_str_has_suffix(gt, g));
    g_assert_true(g_str_has_suffix(st, sat));
    /* the satellite shift, neighbour and evaluation options start from the same table */
    g_auto(GStrv) argv = s4g_train_window_build_argv(tw, "s4g");
    g_autofree char *shift = g_strdup_printf("%u", s4g_defaults.satellite_shift);
    g_autofree char *sel = g_strdup_printf("%u", s4g_defaults.neighbour_select);
    g_autofree char *range = g_strdup_printf("%u", s4g_defaults.neighbour_range);
    g_autofree char *every = g_strdup_printf("%u", s4g_defaults.eval_every);
    g_assert_cmpstr(arg_after(argv, "--satellite-shift"), ==, shift);
    g_assert_cmpstr(arg_after(argv, "--neighbour-select"), ==, sel);
    g_assert_cmpstr(arg_after(argv, "--neighbour-range"), ==, range);
    g_assert_cmpstr(arg_after(argv, "--eval-every"), ==, every);
    /* no project, no dataset: never a run with an empty --dataset */
    g_assert_null(arg_after(argv, "--dataset"));
    g_assert_false(gtk_widget_get_sensitive(GTK_WIDGET(part(tw, "start_button"))));
    gtk_window_destroy(GTK_WINDOW(tw));
}

static void test_real_run(void)
{
    g_autofree char *dir = g_dir_make_tmp("s4g-train-real-XXXXXX", NULL);
    g_autofree char *project = fix_make_tiny_trainable_project(dir);

    /* opened from the main window: the model it trains joins the window's model list */
    S4gWindow *win = s4g_window_new(GTK_APPLICATION(app));
    g_autoptr(GError) open_error = NULL;
    g_assert_true(s4g_window_open_project(win, project, &open_error));
    g_assert_no_error(open_error);
    GtkStringList *models = s4g_project_get_models(s4g_window_get_project(win));
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(models)), ==, 0);
    gtk_widget_activate_action(GTK_WIDGET(win), "win.train", NULL);
    S4gTrainWindow *tw = NULL;
    g_autoptr(GListModel) tops = gtk_window_get_toplevels();
    for (guint i = 0; i < g_list_model_get_n_items(tops); i++) {
        g_autoptr(GObject) t = g_list_model_get_item(tops, i);
        if (S4G_IS_TRAIN_WINDOW(t)) tw = S4G_TRAIN_WINDOW(t);
    }
    g_assert_nonnull(tw);
    set_row(tw, "model_row", "real");
    select_dataset(tw, "tiny");
    set_row(tw, "preset_row", "atto");
    set_row(tw, "ground_size_row", "32x128");
    set_row(tw, "satellite_size_row", "64x64");
    /* 32 training pairs / 4 = 8 steps an epoch; 20 epochs is far more than we wait for */
    set_spin(tw, "epochs_spin", 20);
    set_spin(tw, "batch_spin", 4);
    g_auto(GStrv) argv = s4g_train_window_build_argv(tw, "s4g");
    g_assert_cmpstr(arg_after(argv, "--dataset"), ==, "tiny");
    gtk_window_set_default_size(GTK_WINDOW(tw), 720, 620);
    gtk_window_present(GTK_WINDOW(tw));
    g_autoptr(GError) error = NULL;
    g_assert_true(s4g_train_window_start(tw, &error));
    g_assert_no_error(error);
    S4gLossChart *chart = s4g_train_window_get_chart(tw);
    const guint want = 36; /* 4.5 epochs: the epoch-4 eval (R@k, --eval-every 4) came too */
    /* event waits, no wall-clock deadline: the test's meson timeout is the only cap */
    while (s4g_loss_chart_get_n_points(chart) < want && s4g_train_window_is_running(tw))
        g_main_context_iteration(NULL, TRUE);
    g_assert_true(s4g_train_window_is_running(tw)); /* still mid-run: 160 steps planned */
    g_assert_cmpuint(s4g_loss_chart_get_n_points(chart), >=, want);
    /* real losses: finite, positive, steps counting up from 1 */
    double first_step, first_loss, step, loss;
    g_assert_true(s4g_loss_chart_get_point(chart, 0, &first_step, &first_loss));
    g_assert_cmpfloat(first_step, ==, 1);
    g_assert_true(isfinite(first_loss) && first_loss > 0);
    g_assert_true(s4g_loss_chart_get_point(chart, want - 1, &step, &loss));
    g_assert_cmpfloat(step, ==, want);
    g_assert_true(isfinite(loss) && loss > 0);
    double r1, r5, r10;
    g_assert_true(s4g_loss_chart_get_recall(chart, &r1, &r5, &r10));
    g_assert_cmpfloat(r5, >=, r1);

    s4g_train_window_cancel(tw);
    /* said at once, before the trainer has stopped */
    GtkLabel *status0 = GTK_LABEL(part(tw, "status_label"));
    g_assert_true(g_str_has_prefix(gtk_label_get_label(status0), "Cancelling"));
    g_assert_false(gtk_widget_get_sensitive(GTK_WIDGET(part(tw, "cancel_button"))));
    while (s4g_train_window_is_running(tw))
        g_main_context_iteration(NULL, TRUE);
    g_assert_false(s4g_train_window_is_running(tw));
    /* the end event may come after the exit is seen */
    GtkLabel *status = GTK_LABEL(
        gtk_widget_get_template_child(GTK_WIDGET(tw), S4G_TYPE_TRAIN_WINDOW, "status_label"));
    while (!g_str_has_prefix(gtk_label_get_label(status), "Stopped after"))
        g_main_context_iteration(NULL, TRUE);
    g_assert_true(g_str_has_prefix(gtk_label_get_label(status), "Stopped after"));
    guint got = s4g_loss_chart_get_n_points(chart);
    g_assert_cmpuint(got, <, 160);
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(models)), ==, 1);
    g_assert_cmpstr(gtk_string_list_get_string(models, 0), ==, "real");
    {
        g_autoptr(S4gStore) store = s4g_store_open(project, FALSE, &error);
        g_assert_no_error(error);
        g_autoptr(sqlite3_stmt) st =
            s4g_store_prepare(store, "SELECT state, COUNT(*) FROM runs GROUP BY state", &error);
        g_assert_no_error(error);
        g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
        g_assert_cmpstr((const char *)sqlite3_column_text(st, 0), ==, "stopped");
        g_assert_cmpint(sqlite3_column_int(st, 1), ==, 1);
        g_assert_cmpint(sqlite3_step(st), ==, SQLITE_DONE);
    }
    for (int i = 0; i < 20; i++)
        g_main_context_iteration(NULL, FALSE);
    fix_screenshot(GTK_WIDGET(tw), "training-window.png");
    gtk_window_destroy(GTK_WINDOW(tw));
    gtk_window_destroy(GTK_WINDOW(win));
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", dir);
    g_spawn_command_line_sync(rm, NULL, NULL, NULL, NULL);
}

/* The batch fits the chosen dataset as s4g train requires (at most its training pairs): the
 * paper's 128 becomes the tiny world's 32, the row says why, and a smaller choice stays. */
static void test_batch_fits_dataset(void)
{
    g_autofree char *dir = g_dir_make_tmp("s4g-train-batch-XXXXXX", NULL);
    g_autofree char *project = fix_make_tiny_trainable_project(dir);
    S4gTrainWindow *tw = s4g_train_window_new(NULL, project);
    select_dataset(tw, "tiny");
    GtkSpinButton *batch = GTK_SPIN_BUTTON(part(tw, "batch_spin"));
    AdwActionRow *row = ADW_ACTION_ROW(part(tw, "batch_row"));
    g_assert_cmpint(s4g_defaults.batch, >, 32);
    g_assert_cmpint(gtk_spin_button_get_value_as_int(batch), ==, 32); /* 40 places, 32 train */
    g_assert_nonnull(strstr(adw_action_row_get_subtitle(row), "32 pairs"));
    g_assert_true(gtk_widget_get_sensitive(GTK_WIDGET(part(tw, "start_button"))));
    {
        g_auto(GStrv) argv = s4g_train_window_build_argv(tw, "s4g");
        g_assert_cmpstr(arg_after(argv, "--batch"), ==, "32");
    }
    /* the trainer counts the same pairs */
    {
        g_autoptr(GError) error = NULL;
        g_autoptr(S4gStore) store = s4g_store_open(project, FALSE, &error);
        g_assert_no_error(error);
        S4gStoreDataset ds = {0};
        g_assert_true(s4g_store_dataset_find(store, "tiny", &ds, &error));
        guint n = 0;
        g_assert_true(s4g_train_count_pairs(store, ds.id, "train", TRUE, &n, &error));
        g_assert_cmpuint(n, ==, 32);
        s4g_store_dataset_clear(&ds);
    }
    /* a smaller batch is the user's: kept, nothing to explain */
    set_spin(tw, "batch_spin", 8);
    g_assert_cmpint(gtk_spin_button_get_value_as_int(batch), ==, 8);
    g_assert_cmpstr(adw_action_row_get_subtitle(row), ==, "");
    /* a larger one stops at the limit */
    set_spin(tw, "batch_spin", 500);
    g_assert_cmpint(gtk_spin_button_get_value_as_int(batch), ==, 32);
    /* the window fits a 1280×800 screen with a top bar (the form scrolls) */
    gtk_window_present(GTK_WINDOW(tw));
    int min_h = 0, min_w = 0, def_w = 0, def_h = 0;
    gtk_widget_measure(GTK_WIDGET(tw), GTK_ORIENTATION_VERTICAL, -1, &min_h, NULL, NULL, NULL);
    gtk_widget_measure(GTK_WIDGET(tw), GTK_ORIENTATION_HORIZONTAL, -1, &min_w, NULL, NULL, NULL);
    gtk_window_get_default_size(GTK_WINDOW(tw), &def_w, &def_h);
    g_test_message("train window: minimum %d×%d, default %d×%d", min_w, min_h, def_w, def_h);
    g_assert_cmpint(min_h, <=, 720);
    g_assert_cmpint(def_h, <=, 720);
    g_assert_cmpint(MAX(min_w, def_w), <=, 1280);
    gtk_window_destroy(GTK_WINDOW(tw));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    fix_init(argv[0]);
    gtk_init();
    adw_init();
    app = fix_make_app("TrainRealTest");
    g_test_add_func("/studio/train/form-defaults", test_form_defaults);
    g_test_add_func("/studio/train/batch-fits-dataset", test_batch_fits_dataset);
    g_test_add_func("/studio/train/real-run", test_real_run);
    int rc = g_test_run();
    g_object_unref(app);
    return rc;
}
