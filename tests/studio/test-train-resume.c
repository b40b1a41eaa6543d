/* test-train-resume.c — past runs and Resume in the training window, on the REAL `s4g train`
 * (S4G_PROGRAM): a tiny synthetic world, atto at 64x64 / 64x64, batch 4, 6 epochs of 8 steps
 * (evaluations after epochs 4 and 6).  The run is cancelled after the epoch-4 evaluation; the
 * list must show it stopped with as many steps as the store holds, selecting it must draw
 * exactly the stored points and evaluation; Resume must run it to done with the live points
 * continuing the stored ones, and a resume the trainer refuses must show its error. */
#include "s4g-config.h"
#include "s4g-store-private.h"

#include "s4g-run-item.h"
#include "s4g-store.h"
#include "s4g-test-fixture.h"
#include "s4g-train-window.h"

#include <adwaita.h>
#include <math.h>

#define STEPS_PER_EPOCH 8 /* 32 training pairs / batch 4 */
#define EPOCHS 6

static GObject *child(S4gTrainWindow *tw, const char *name)
{
    GObject *o = gtk_widget_get_template_child(GTK_WIDGET(tw), S4G_TYPE_TRAIN_WINDOW, name);
    g_assert_nonnull(o);
    return o;
}

static gint64 store_count(const char *project, const char *sql, gint64 run)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gStore) store = s4g_store_open(project, FALSE, &error);
    g_assert_no_error(error);
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(store, sql, &error);
    g_assert_no_error(error);
    sqlite3_bind_int64(st, 1, run);
    g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
    return sqlite3_column_int64(st, 0);
}

static char *store_state(const char *project, gint64 run)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gStore) store = s4g_store_open(project, FALSE, &error);
    g_assert_no_error(error);
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(store, "SELECT state FROM runs WHERE id = ?1", &error);
    g_assert_no_error(error);
    sqlite3_bind_int64(st, 1, run);
    g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
    return g_strdup((const char *)sqlite3_column_text(st, 0));
}

/* Event waits, no wall-clock deadline: the test's meson timeout is the only cap. */
static void wait_idle(S4gTrainWindow *tw)
{
    while (s4g_train_window_is_running(tw))
        g_main_context_iteration(NULL, TRUE);
    g_assert_false(s4g_train_window_is_running(tw));
}

/* The one listed run (a new reference: a reload replaces the list's items). */
static S4gRunItem *only_run(S4gTrainWindow *tw)
{
    GListModel *runs = s4g_train_window_get_runs(tw);
    g_assert_cmpuint(g_list_model_get_n_items(runs), ==, 1);
    return g_list_model_get_item(runs, 0);
}

static void test_resume(void)
{
    g_autofree char *dir = g_dir_make_tmp("s4g-train-resume-XXXXXX", NULL);
    g_autofree char *project = fix_make_tiny_trainable_project(dir);

    S4gTrainWindow *tw = s4g_train_window_new(NULL, project);
    GListModel *runs = s4g_train_window_get_runs(tw);
    g_assert_cmpuint(g_list_model_get_n_items(runs), ==, 0);
    gtk_editable_set_text(GTK_EDITABLE(child(tw, "model_row")), "resumable");
    g_assert_cmpstr(gtk_string_object_get_string(adw_combo_row_get_selected_item(
                        ADW_COMBO_ROW(child(tw, "dataset_row")))),
                    ==, "tiny");
    gtk_editable_set_text(GTK_EDITABLE(child(tw, "preset_row")), "atto");
    /* square inputs: the same under a W×H or an H×W flag convention */
    gtk_editable_set_text(GTK_EDITABLE(child(tw, "ground_size_row")), "64x64");
    gtk_editable_set_text(GTK_EDITABLE(child(tw, "satellite_size_row")), "64x64");
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(child(tw, "epochs_spin")), EPOCHS);
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(child(tw, "batch_spin")), 4);
    gtk_window_set_default_size(GTK_WINDOW(tw), 820, 760);
    gtk_window_present(GTK_WINDOW(tw));
    GtkWidget *resume = GTK_WIDGET(child(tw, "resume_button"));
    GtkLabel *status = GTK_LABEL(child(tw, "status_label"));
    S4gLossChart *chart = s4g_train_window_get_chart(tw);

    /* a new run, cancelled after the epoch-4 evaluation */
    g_autoptr(GError) error = NULL;
    g_assert_true(s4g_train_window_start(tw, &error));
    g_assert_no_error(error);
    const guint want = 4 * STEPS_PER_EPOCH + 2;
    while ((s4g_loss_chart_get_n_points(chart) < want || s4g_loss_chart_get_n_evals(chart) < 1) &&
           s4g_train_window_is_running(tw))
        g_main_context_iteration(NULL, TRUE);
    g_assert_true(s4g_train_window_is_running(tw));
    /* the start event put the running run in the list */
    {
        g_autoptr(S4gRunItem) running = only_run(tw);
        g_assert_cmpint(s4g_run_item_get_info(running)->state, ==, S4G_RUN_RUNNING);
    }
    g_assert_false(gtk_widget_get_sensitive(resume));
    s4g_train_window_cancel(tw);
    wait_idle(tw);
    g_assert_true(g_str_has_prefix(gtk_label_get_label(status), "Stopped after"));

    /* the list was reloaded when the run ended: stopped, with the store's step count */
    g_autoptr(S4gRunItem) stopped_item = only_run(tw);
    const S4gRunInfo *info = s4g_run_item_get_info(stopped_item);
    gint64 run = info->id;
    gint64 stored = store_count(project, "SELECT COUNT(*) FROM metrics WHERE run = ?1", run);
    gint64 stored_evals =
        store_count(project, "SELECT COUNT(*) FROM evaluations WHERE run = ?1", run);
    g_autofree char *state = store_state(project, run);
    g_assert_cmpstr(state, ==, "stopped");
    g_assert_cmpint(info->state, ==, S4G_RUN_STOPPED);
    g_assert_cmpint(stored, >=, want);
    g_assert_cmpint(stored, <, EPOCHS * STEPS_PER_EPOCH);
    g_assert_cmpint(stored_evals, ==, 1);
    g_assert_cmpuint(info->n_metrics, ==, (guint)stored);
    g_assert_cmpuint(info->n_evals, ==, 1);
    g_assert_cmpstr(info->dataset, ==, "tiny");
    g_assert_cmpstr(info->model, ==, "resumable");
    g_assert_cmpstr(info->preset, ==, "atto");
    g_assert_true(isfinite(info->best_r1) && info->best_r1 >= 0 && info->best_r1 <= 100);
    g_assert_nonnull(info->started);
    g_assert_true(s4g_run_info_can_resume(info));
    /* the run just ended is selected, ready to resume */
    GtkSingleSelection *selection = GTK_SINGLE_SELECTION(
        gtk_column_view_get_model(GTK_COLUMN_VIEW(child(tw, "runs_view"))));
    g_assert_cmpuint(gtk_single_selection_get_selected(selection), ==, 0);
    g_assert_true(gtk_widget_get_sensitive(resume));

    /* selecting it draws exactly the stored curve and its evaluation */
    s4g_loss_chart_clear(chart);
    adw_view_stack_set_visible_child_name(ADW_VIEW_STACK(child(tw, "view_stack")), "past");
    g_assert_true(s4g_train_window_select_run(tw, run));
    g_assert_cmpuint(s4g_loss_chart_get_n_points(chart), ==, (guint)stored);
    g_assert_cmpuint(s4g_loss_chart_get_n_stored(chart), ==, (guint)stored);
    g_assert_cmpuint(s4g_loss_chart_get_n_evals(chart), ==, 1);
    double step, loss, r1;
    g_assert_true(s4g_loss_chart_get_point(chart, 0, &step, &loss));
    g_assert_cmpfloat(step, ==, 1);
    g_assert_true(isfinite(loss) && loss > 0);
    g_assert_true(s4g_loss_chart_get_point(chart, (guint)stored - 1, &step, &loss));
    g_assert_cmpfloat(step, ==, (double)stored);
    /* the evaluation after epoch 4 sits on that epoch's last step */
    g_assert_true(s4g_loss_chart_get_eval(chart, 0, &step, &r1));
    g_assert_cmpfloat(step, ==, 4 * STEPS_PER_EPOCH);
    g_assert_cmpfloat(fabs(r1 - info->best_r1), <, 1e-9);
    g_autofree char *readout = s4g_loss_chart_describe(chart, 4 * STEPS_PER_EPOCH - 1);
    g_assert_nonnull(strstr(readout, "R@1"));
    g_assert_true(gtk_widget_get_sensitive(resume));

    /* Resume runs it to done; the live points continue the stored ones */
    g_signal_emit_by_name(resume, "clicked");
    g_assert_true(s4g_train_window_is_running(tw));
    g_assert_false(gtk_widget_get_sensitive(resume));
    wait_idle(tw);
    g_assert_true(g_str_has_prefix(gtk_label_get_label(status), "Finished"));
    g_assert_false(gtk_widget_has_css_class(GTK_WIDGET(status), "error"));
    g_autofree char *state2 = store_state(project, run);
    g_assert_cmpstr(state2, ==, "done");
    gint64 total = store_count(project, "SELECT COUNT(*) FROM metrics WHERE run = ?1", run);
    g_assert_cmpint(total, ==, EPOCHS * STEPS_PER_EPOCH);
    g_assert_cmpuint(s4g_loss_chart_get_n_points(chart), >, (guint)stored);
    g_assert_cmpuint(s4g_loss_chart_get_n_points(chart), ==, (guint)total);
    g_assert_cmpuint(s4g_loss_chart_get_n_stored(chart), ==, (guint)stored);
    for (guint i = 0; i < (guint)total; i++) {
        g_assert_true(s4g_loss_chart_get_point(chart, i, &step, &loss));
        g_assert_cmpfloat(step, ==, i + 1); /* no step lost or repeated across the resume */
        g_assert_true(isfinite(loss) && loss > 0);
    }
    g_assert_cmpuint(s4g_loss_chart_get_n_evals(chart), ==, 2); /* stored epoch 4, live epoch 6 */
    g_assert_true(s4g_loss_chart_get_eval(chart, 1, &step, &r1));
    g_assert_cmpfloat(step, ==, EPOCHS * STEPS_PER_EPOCH);
    g_autoptr(S4gRunItem) done_item = only_run(tw); /* reloaded when the run ended */
    info = s4g_run_item_get_info(done_item);
    g_assert_cmpint(info->state, ==, S4G_RUN_DONE);
    g_assert_cmpuint(info->n_metrics, ==, (guint)total);
    g_assert_cmpuint(info->n_evals, ==, 2);
    g_assert_false(gtk_widget_get_sensitive(resume));
    g_assert_cmpuint(gtk_single_selection_get_selected(selection), ==, 0);

    for (int i = 0; i < 20; i++)
        g_main_context_iteration(NULL, FALSE);
    fix_screenshot(GTK_WIDGET(tw), "past-runs.png");

    /* a resume the trainer refuses (the run is done): its message is shown, not swallowed */
    g_assert_true(s4g_train_window_resume(tw, run, &error));
    g_assert_no_error(error);
    wait_idle(tw);
    g_test_message("refused resume: %s", gtk_label_get_label(status));
    g_assert_nonnull(strstr(gtk_label_get_label(status), "only a stopped, failed or interrupted run resumes"));
    g_assert_true(gtk_widget_has_css_class(GTK_WIDGET(status), "error"));
    g_autofree char *state3 = store_state(project, run);
    g_assert_cmpstr(state3, ==, "done");

    gtk_window_destroy(GTK_WINDOW(tw));
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", dir);
    g_spawn_command_line_sync(rm, NULL, NULL, NULL, NULL);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    fix_init(argv[0]);
    gtk_init();
    adw_init();
    g_test_add_func("/studio/train/resume", test_resume);
    return g_test_run();
}
