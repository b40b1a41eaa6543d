/* s4g-train-window.c — training runs from the Studio (see the header). */
#include "s4g-config.h"

#include "s4g-train-window.h"

#include "s4g-defaults.h"
#include "s4g-run-item.h"
#include "s4g-runner.h"
#include "s4g-train-events.h"
#include "s4g-store-datasets.h"
#include "s4g-store-runs.h"
#include "s4g-train.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

/* Cancel asks the trainer to stop (SIGTERM: it finishes its step and checkpoints); only a
 * trainer that has not exited after this long is killed.  Long: one step of a large model
 * on the CPU backend can take minutes, and a kill loses the checkpoint. */
#define TRAIN_KILL_GRACE_MS (10 * 60 * 1000)

struct _S4gTrainWindow {
    AdwWindow parent_instance;
    GtkButton *start_button, *cancel_button, *resume_button;
    AdwEntryRow *model_row, *preset_row, *lr_row;
    AdwComboRow *dataset_row; /* the project's datasets with photos */
    AdwPreferencesGroup *form_group;
    GtkSpinButton *shift_spin, *select_spin, *range_spin, *eval_spin;
    AdwEntryRow *ground_size_row, *satellite_size_row; /* empty: the trainer's defaults */
    GtkSpinButton *epochs_spin, *batch_spin;
    AdwActionRow *batch_row; /* its subtitle says when the dataset limits the batch */
    int batch_wanted;        /* the batch asked for (the default, then the user's) */
    guint n_pairs;           /* training pairs of the chosen dataset; 0: none chosen */
    gboolean fitting;        /* the batch is being fitted: not the user's choice */
    GtkLabel *status_label, *runs_label;
    S4gLossChart *chart;
    AdwViewStack *view_stack;
    GtkColumnView *runs_view;
    GListStore *runs; /* S4gRunItem, newest first */
    GtkSingleSelection *runs_selection;
    gboolean refreshing; /* the list is being reloaded: selection changes load no curve */

    char *project_dir;
    S4gRunner *runner; /* the trainer; NULL before the first run */
    guint lines_read, bad_lines; /* of the trainer's stdout */
    gboolean ended;      /* the trainer's "end" event was read; its state is on the status line */
    gint64 live_run;     /* the run id the trainer announced (or the one resumed), 0 before */
    char *error_message; /* from the trainer's {"event": "error"} line */
};

G_DEFINE_FINAL_TYPE(S4gTrainWindow, s4g_train_window, ADW_TYPE_WINDOW)

enum { SIGNAL_RUN_ENDED, N_SIGNALS };
static guint signals[N_SIGNALS];

GStrv s4g_train_window_build_argv(S4gTrainWindow *self, const char *program)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_strv_builder_add_many(b, program, "train", "--json", "--project", self->project_dir, NULL);
    const char *model = gtk_editable_get_text(GTK_EDITABLE(self->model_row));
    if (*model) g_strv_builder_add_many(b, "--model", model, NULL);
    gpointer ds = adw_combo_row_get_selected_item(self->dataset_row);
    if (ds) g_strv_builder_add_many(b, "--dataset", gtk_string_object_get_string(ds), NULL);
    const char *preset = gtk_editable_get_text(GTK_EDITABLE(self->preset_row));
    if (*preset) g_strv_builder_add_many(b, "--preset", preset, NULL);
    const char *gsz = gtk_editable_get_text(GTK_EDITABLE(self->ground_size_row));
    if (*gsz) g_strv_builder_add_many(b, "--ground-size", gsz, NULL);
    const char *ssz = gtk_editable_get_text(GTK_EDITABLE(self->satellite_size_row));
    if (*ssz) g_strv_builder_add_many(b, "--satellite-size", ssz, NULL);
    g_autofree char *epochs =
        g_strdup_printf("%d", gtk_spin_button_get_value_as_int(self->epochs_spin));
    g_autofree char *batch =
        g_strdup_printf("%d", gtk_spin_button_get_value_as_int(self->batch_spin));
    g_strv_builder_add_many(b, "--epochs", epochs, "--batch", batch, "--lr",
                            gtk_editable_get_text(GTK_EDITABLE(self->lr_row)), NULL);
    const struct {
        const char *flag;
        GtkSpinButton *spin;
    } ints[] = {{"--satellite-shift", self->shift_spin},
                {"--neighbour-select", self->select_spin},
                {"--neighbour-range", self->range_spin},
                {"--eval-every", self->eval_spin}};
    for (guint i = 0; i < G_N_ELEMENTS(ints); i++) {
        g_autofree char *v = g_strdup_printf("%d", gtk_spin_button_get_value_as_int(ints[i].spin));
        g_strv_builder_add_many(b, ints[i].flag, v, NULL);
    }
    return g_strv_builder_end(b);
}

static void set_running(S4gTrainWindow *self, gboolean running);
static void refresh_runs(S4gTrainWindow *self, gint64 select);

gboolean s4g_train_window_is_running(S4gTrainWindow *self)
{
    return self->runner && s4g_runner_is_running(self->runner);
}

static void set_status(S4gTrainWindow *self, const char *text, gboolean is_error)
{
    gtk_label_set_label(self->status_label, text);
    if (is_error)
        gtk_widget_add_css_class(GTK_WIDGET(self->status_label), "error");
    else
        gtk_widget_remove_css_class(GTK_WIDGET(self->status_label), "error");
}

static S4gRunItem *selected_item(S4gTrainWindow *self)
{
    gpointer item = gtk_single_selection_get_selected_item(self->runs_selection);
    return item ? S4G_RUN_ITEM(item) : NULL;
}

static void update_resume_sensitivity(S4gTrainWindow *self)
{
    S4gRunItem *item = selected_item(self);
    gboolean ok = !s4g_train_window_is_running(self) && item &&
                  s4g_run_info_can_resume(s4g_run_item_get_info(item));
    gtk_widget_set_sensitive(GTK_WIDGET(self->resume_button), ok);
}

static void set_running(S4gTrainWindow *self, gboolean running)
{
    /* no dataset with photos, or fewer than two pairs: nothing to train on */
    gtk_widget_set_sensitive(GTK_WIDGET(self->start_button),
                             !running && adw_combo_row_get_selected_item(self->dataset_row) &&
                                 self->n_pairs >= 2);
    gtk_widget_set_sensitive(GTK_WIDGET(self->cancel_button), running);
    update_resume_sensitivity(self);
}

/* The trainer exited and its output has been read: say how the run ended (the trainer's own
 * words when it failed) and show the run's new state in the list. */
static void finish_run(S4gRunner *runner, S4gTrainWindow *self)
{
    int status = s4g_runner_get_exit_status(runner), sig = s4g_runner_get_term_sig(runner);
    gboolean ok = status == 0;
    g_autofree char *msg = NULL;
    gboolean is_error = FALSE;
    if (ok && self->ended)
        ; /* the end event said done or stopped; its message is on the status line */
    else if (ok)
        msg = g_strdup_printf(_("Finished: %u steps"), s4g_loss_chart_get_n_points(self->chart));
    else {
        is_error = TRUE;
        g_autofree char *tail = s4g_runner_get_stderr_tail(runner);
        const char *detail = self->error_message ? self->error_message : tail;
        if (sig)
            msg = g_strdup_printf(_("Stopped by signal %d"), sig);
        else if (*detail)
            msg = g_strdup_printf(_("Training failed (exit status %d): %s"), status, detail);
        else
            msg = g_strdup_printf(_("Training failed with exit status %d"), status);
    }
    if (msg) set_status(self, msg, is_error);
    set_running(self, FALSE);
    /* the run just ended is the one to look at (and to resume, when stopped) */
    refresh_runs(self, self->live_run);
    g_signal_emit(self, signals[SIGNAL_RUN_ENDED], 0);
}

/* `s4g train --json` ends with {"event": "end", "state": "done"|"stopped", "step": N}: a
 * cancelled run exits 0 too, so the state comes from here. */
static void note_end(S4gTrainWindow *self, const S4gTrainEvent *ev)
{
    g_autofree char *msg =
        g_strcmp0(ev->what, "stopped") == 0
            ? g_strdup_printf(_("Stopped after %u steps; the run can be resumed"), (guint)ev->step)
            : g_strdup_printf(_("Finished: %u steps"), s4g_loss_chart_get_n_points(self->chart));
    set_status(self, msg, FALSE);
    self->ended = TRUE;
}

static void note_error(S4gTrainWindow *self, const S4gTrainEvent *ev)
{
    g_free(self->error_message);
    self->error_message = g_strdup(ev->what ? ev->what : _("unknown error"));
    g_autofree char *msg = g_strdup_printf(_("Training failed: %s"), self->error_message);
    set_status(self, msg, TRUE);
}

/* Each line of the trainer's stdout is one event (s4g-train-events.h), parsed once: the
 * lifecycle ones (start, end, error) are the window's, steps and evaluations the chart's. */
static void on_line(S4gRunner *runner, const char *line, S4gTrainWindow *self)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gTrainEvent) ev = s4g_train_event_parse(line, ++self->lines_read, &error);
    if (!ev && g_error_matches(error, S4G_TRAIN_EVENTS_ERROR, S4G_TRAIN_EVENTS_ERROR_UNKNOWN))
        return; /* an event of a newer trainer */
    if (!ev) {
        /* Not fatal: a trainer may print other lines; show the latest problem. */
        self->bad_lines++;
        set_status(self, error->message, TRUE);
        return;
    }
    if (ev->kind == S4G_TRAIN_EVENT_END) {
        note_end(self, ev);
        return;
    }
    if (ev->kind == S4G_TRAIN_EVENT_ERROR) {
        note_error(self, ev);
        return;
    }
    if (ev->kind == S4G_TRAIN_EVENT_START) {
        /* a new run now has its row (state running): show it in the list */
        if (ev->run > 0) self->live_run = ev->run;
        refresh_runs(self, 0);
    }
    S4gLossModel *model = s4g_loss_chart_get_model(self->chart);
    s4g_loss_model_add_event(model, ev);
    guint n = s4g_loss_model_get_n_points(model);
    if (n > 0 && !s4g_runner_was_cancelled(runner)) { /* "Cancelling…" stays */
        g_autofree char *d = s4g_loss_model_describe(model, n - 1);
        set_status(self, d, FALSE);
    }
}

/* The trainer's stderr: its error messages when it fails (the runner keeps the last ones),
 * log lines otherwise. */
static void on_err_line(S4gRunner *runner, const char *line, S4gTrainWindow *self)
{
    g_debug("s4g train: %s", line);
}

/* Stops listening to the previous trainer (a cancelled one may still be finishing). */
static void detach_runner(S4gTrainWindow *self)
{
    if (!self->runner) return;
    g_signal_handlers_disconnect_by_data(self->runner, self);
    g_clear_object(&self->runner);
}

/* Starts argv with stdout (JSON lines) and stderr (messages) read asynchronously. */
static gboolean spawn(S4gTrainWindow *self, GStrv argv, GError **error)
{
    g_autoptr(S4gRunner) runner = s4g_runner_new(TRAIN_KILL_GRACE_MS);
    g_signal_connect(runner, "stdout-line", G_CALLBACK(on_line), self);
    g_signal_connect(runner, "stderr-line", G_CALLBACK(on_err_line), self);
    g_signal_connect(runner, "finished", G_CALLBACK(finish_run), self);
    if (!s4g_runner_start(runner, (const char *const *)argv, error)) {
        g_signal_handlers_disconnect_by_data(runner, self);
        return FALSE;
    }
    detach_runner(self);
    self->runner = g_steal_pointer(&runner);
    self->lines_read = self->bad_lines = 0;
    self->ended = FALSE;
    g_clear_pointer(&self->error_message, g_free);
    set_running(self, TRUE);
    g_autofree char *cmd = g_strjoinv(" ", argv);
    g_autofree char *msg = g_strdup_printf(_("Running %s"), cmd);
    set_status(self, msg, FALSE);
    return TRUE;
}

/* The s4g program to run (g_free), or NULL with an error when a run is already going or the
 * program cannot be found. */
static char *program_for_new_process(S4gTrainWindow *self, GError **error)
{
    if (s4g_train_window_is_running(self)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY, _("A run is already in progress"));
        return NULL;
    }
    char *program = s4g_runner_find_s4g();
    if (!program)
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    _("The s4g program was not found (set S4G_PROGRAM or install it)"));
    return program;
}

gboolean s4g_train_window_start(S4gTrainWindow *self, GError **error)
{
    g_return_val_if_fail(S4G_IS_TRAIN_WINDOW(self), FALSE);
    g_autofree char *program = program_for_new_process(self, error);
    if (!program) return FALSE;
    g_auto(GStrv) argv = s4g_train_window_build_argv(self, program);
    s4g_loss_chart_clear(self->chart);
    self->live_run = 0;
    return spawn(self, argv, error);
}

/* ------------------------------------------------------------------ past runs */

/* Draws run `id`'s stored loss curve (metrics) and its R@1 at evaluations into the chart,
 * each evaluation after the last step of its epoch. */
static gboolean load_curve(S4gTrainWindow *self, gint64 id, GError **error)
{
    g_autoptr(S4gStore) store = s4g_store_open(self->project_dir, FALSE, error);
    if (!store) return FALSE;
    g_autoptr(GArray) rows = s4g_store_metrics_list(store, id, 0, error);
    if (!rows) return FALSE;
    g_autoptr(GPtrArray) evals = s4g_store_evaluation_list_run(store, id, error);
    if (!evals) return FALSE;
    s4g_loss_chart_clear(self->chart);
    for (guint i = 0; i < rows->len; i++) {
        S4gMetricRow *m = &g_array_index(rows, S4gMetricRow, i);
        /* the store counts images (ground + satellite) per second, the live line pairs */
        s4g_loss_chart_add_point(self->chart, (double)m->step, m->epoch, m->loss, m->lr,
                                 m->logit_scale, m->images_per_s / 2);
    }
    for (guint e = 0; e < evals->len; e++) {
        const S4gEvaluationRow *ev = evals->pdata[e];
        double epoch = ev->epoch < 0 ? NAN : (double)ev->epoch;
        double step = 0;
        for (guint i = 0; i < rows->len; i++) {
            S4gMetricRow *m = &g_array_index(rows, S4gMetricRow, i);
            if (isnan(epoch) || m->epoch <= epoch + 1e-9) step = (double)m->step;
        }
        s4g_loss_chart_add_eval(self->chart, step, epoch, ev->r1, ev->r5, ev->r10);
    }
    s4g_loss_chart_set_n_stored(self->chart, rows->len);
    return TRUE;
}

static void describe_selected(S4gTrainWindow *self)
{
    S4gRunItem *item = selected_item(self);
    if (!item) {
        gtk_label_set_label(self->runs_label, _("Select a run to see its stored curve"));
        return;
    }
    const S4gRunInfo *i = s4g_run_item_get_info(item);
    /* two counts, each with its own plural */
    g_autofree char *steps =
        g_strdup_printf(ngettext("%u stored step", "%u stored steps", i->n_metrics), i->n_metrics);
    g_autofree char *evals =
        g_strdup_printf(ngettext("%u evaluation", "%u evaluations", i->n_evals), i->n_evals);
    g_autofree char *text = g_strdup_printf(_("Run %lld (%s): %s, %s"), (long long)i->id,
                                            s4g_run_info_state_label(i), steps, evals);
    if (i->message && *i->message) {
        g_autofree char *with = g_strdup_printf("%s — %s", text, i->message);
        gtk_label_set_label(self->runs_label, with);
    } else
        gtk_label_set_label(self->runs_label, text);
}

/* Draws the selected run's stored curve, unless a run is live (the chart is its) or the list
 * is being reloaded (the chart already shows the run). */
static void show_selected(S4gTrainWindow *self)
{
    S4gRunItem *item = selected_item(self);
    if (!item || self->refreshing || s4g_train_window_is_running(self)) return;
    g_autoptr(GError) error = NULL;
    const S4gRunInfo *i = s4g_run_item_get_info(item);
    if (!load_curve(self, i->id, &error)) {
        g_autofree char *msg = g_strdup_printf(_("Run %lld: %s"), (long long)i->id, error->message);
        set_status(self, msg, TRUE);
        return;
    }
    g_autofree char *msg = g_strdup_printf(_("Run %lld: %u steps from the store"), (long long)i->id,
                                           s4g_loss_chart_get_n_points(self->chart));
    set_status(self, msg, FALSE);
}

static void on_selection_changed(S4gTrainWindow *self)
{
    update_resume_sensitivity(self);
    describe_selected(self);
    show_selected(self);
}

/* Reloads the list from the store, selecting run `select` (0: the run selected before); the
 * chart keeps what it shows. */
static void refresh_runs(S4gTrainWindow *self, gint64 select)
{
    if (!self->project_dir) return;
    S4gRunItem *sel = selected_item(self);
    gint64 keep = select > 0 ? select : sel ? s4g_run_item_get_info(sel)->id : 0;
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gStore) store = s4g_store_open(self->project_dir, FALSE, &error);
    self->refreshing = TRUE;
    if (!store || !s4g_run_items_load(store, self->runs, &error)) {
        g_autofree char *msg = g_strdup_printf(_("Past runs: %s"), error->message);
        gtk_label_set_label(self->runs_label, msg);
        self->refreshing = FALSE;
        return;
    }
    guint pos = GTK_INVALID_LIST_POSITION;
    for (guint i = 0; keep && i < g_list_model_get_n_items(G_LIST_MODEL(self->runs)); i++) {
        g_autoptr(S4gRunItem) it = g_list_model_get_item(G_LIST_MODEL(self->runs), i);
        if (s4g_run_item_get_info(it)->id == keep) pos = i;
    }
    gtk_single_selection_set_selected(self->runs_selection, pos);
    self->refreshing = FALSE;
    update_resume_sensitivity(self);
    describe_selected(self);
}

gboolean s4g_train_window_resume(S4gTrainWindow *self, gint64 run, GError **error)
{
    g_return_val_if_fail(S4G_IS_TRAIN_WINDOW(self), FALSE);
    g_autofree char *program = program_for_new_process(self, error);
    if (!program) return FALSE;
    /* the live points continue the stored curve */
    if (!load_curve(self, run, error)) return FALSE;
    g_autofree char *id = g_strdup_printf("%" G_GINT64_FORMAT, run);
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_strv_builder_add_many(b, program, "train", "--project", self->project_dir, "--resume", id,
                            "--json", NULL);
    g_auto(GStrv) argv = g_strv_builder_end(b);
    self->live_run = run;
    return spawn(self, argv, error);
}

/* Runs made elsewhere (the CLI, another window) show up when the list is looked at. */
static void on_page_changed(S4gTrainWindow *self)
{
    if (!g_strcmp0(adw_view_stack_get_visible_child_name(self->view_stack), "past"))
        refresh_runs(self, 0);
}

static void on_resume(S4gTrainWindow *self)
{
    S4gRunItem *item = selected_item(self);
    if (!item) return;
    g_autoptr(GError) error = NULL;
    if (!s4g_train_window_resume(self, s4g_run_item_get_info(item)->id, &error))
        set_status(self, error->message, TRUE);
}

GListModel *s4g_train_window_get_runs(S4gTrainWindow *self)
{
    return G_LIST_MODEL(self->runs);
}

gboolean s4g_train_window_select_run(S4gTrainWindow *self, gint64 run)
{
    for (guint i = 0; i < g_list_model_get_n_items(G_LIST_MODEL(self->runs)); i++) {
        g_autoptr(S4gRunItem) it = g_list_model_get_item(G_LIST_MODEL(self->runs), i);
        if (s4g_run_item_get_info(it)->id == run) {
            if (gtk_single_selection_get_selected(self->runs_selection) == i)
                show_selected(self); /* selected already: draw it again from the store */
            else
                gtk_single_selection_set_selected(self->runs_selection, i);
            return TRUE;
        }
    }
    return FALSE;
}

void s4g_train_window_cancel(S4gTrainWindow *self)
{
    if (!s4g_train_window_is_running(self)) return;
    /* feedback at once: the trainer first finishes its step and saves a checkpoint */
    set_status(self, _("Cancelling: the trainer finishes its step and saves a checkpoint…"),
               FALSE);
    gtk_widget_set_sensitive(GTK_WIDGET(self->cancel_button), FALSE);
    s4g_runner_cancel(self->runner);
}

static void show_batch_limit(S4gTrainWindow *self, const char *problem);

/* The batch the chosen dataset allows, as s4g train decides it: a batch holds at most the
 * training pairs of the split it trains on (s4g_train_count_pairs, with the trainer's default
 * split and flag rule).  The form keeps the batch asked for when it fits and shows the limit
 * when it does not. */
static void fit_batch(S4gTrainWindow *self)
{
    self->n_pairs = 0;
    gpointer item = adw_combo_row_get_selected_item(self->dataset_row);
    g_autoptr(GError) error = NULL;
    S4gTrainOptions o;
    s4g_train_options_init(&o);
    if (item) {
        const char *name = gtk_string_object_get_string(item);
        g_autoptr(S4gStore) store = s4g_store_open(self->project_dir, FALSE, &error);
        S4gStoreDataset ds = {0};
        if (store && s4g_store_dataset_find(store, name, &ds, &error))
            s4g_train_count_pairs(store, ds.id, o.train_split, o.exclude_flagged,
                                  &self->n_pairs, &error);
        s4g_store_dataset_clear(&ds);
    }
    guint upper = MAX(self->n_pairs, 2);
    self->fitting = TRUE;
    GtkAdjustment *adj = gtk_spin_button_get_adjustment(self->batch_spin);
    gtk_adjustment_set_upper(adj, self->n_pairs ? upper : 4096);
    gtk_spin_button_set_value(self->batch_spin, self->n_pairs ? MIN(self->batch_wanted, (int)upper)
                                                              : self->batch_wanted);
    self->fitting = FALSE;
    show_batch_limit(self, error ? error->message : NULL);
    set_running(self, s4g_train_window_is_running(self));
}

/* The batch row's subtitle: problem, or why the batch is below the one asked for. */
static void show_batch_limit(S4gTrainWindow *self, const char *problem)
{
    gboolean item = adw_combo_row_get_selected_item(self->dataset_row) != NULL;
    g_autofree char *why = NULL;
    if (problem)
        why = g_strdup(problem);
    else if (item && self->n_pairs < 2)
        why = g_strdup_printf(ngettext("The training split has %u pair: too few to train",
                                       "The training split has %u pairs: too few to train",
                                       self->n_pairs),
                              self->n_pairs);
    else if (item && self->n_pairs < (guint)self->batch_wanted)
        why = g_strdup_printf(ngettext("At most %u: the training split has %u pair",
                                       "At most %u: the training split has %u pairs",
                                       self->n_pairs),
                              self->n_pairs, self->n_pairs);
    adw_action_row_set_subtitle(self->batch_row, why ? why : "");
}

/* A batch the user set (not one fit_batch set) is the one asked for. */
static void on_batch_changed(S4gTrainWindow *self)
{
    if (self->fitting) return;
    self->batch_wanted = gtk_spin_button_get_value_as_int(self->batch_spin);
    show_batch_limit(self, NULL);
}

/* A spin button row of the form: `title` (also its accessible name), lower..upper, value. */
static GtkSpinButton *add_spin_row(S4gTrainWindow *self, const char *title, const char *subtitle,
                                   double lower, double upper, double value)
{
    GtkWidget *row = adw_action_row_new();
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(row), title);
    if (subtitle) adw_action_row_set_subtitle(ADW_ACTION_ROW(row), subtitle);
    GtkWidget *spin = gtk_spin_button_new_with_range(lower, upper, 1);
    gtk_spin_button_set_value(GTK_SPIN_BUTTON(spin), value);
    gtk_widget_set_valign(spin, GTK_ALIGN_CENTER);
    gtk_accessible_update_property(GTK_ACCESSIBLE(spin), GTK_ACCESSIBLE_PROPERTY_LABEL, title,
                                   -1);
    adw_action_row_add_suffix(ADW_ACTION_ROW(row), spin);
    adw_action_row_set_activatable_widget(ADW_ACTION_ROW(row), spin);
    adw_preferences_group_add(self->form_group, row);
    return GTK_SPIN_BUTTON(spin);
}

/* The combo row's lists (the one in the row, the one in its popover) are named as the row. */
static void name_lists(GtkWidget *w)
{
    if (GTK_IS_LIST_VIEW(w))
        gtk_accessible_update_property(GTK_ACCESSIBLE(w), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                       _("Dataset"), -1);
    for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c))
        name_lists(c);
}

/* Keeps neighbour-select ≤ neighbour-range, as s4g train requires. */
static void on_range_changed(S4gTrainWindow *self)
{
    double range = gtk_spin_button_get_value(self->range_spin);
    gtk_spin_button_set_range(self->select_spin, 0, range);
}

/* Columns of the past-runs list: each a label bound to one field of S4gRunInfo. */
typedef enum { COL_ID, COL_DATASET, COL_MODEL, COL_STATE, COL_STARTED, COL_STEPS, COL_R1 } Col;

static void setup_cell(GtkSignalListItemFactory *f, GtkListItem *li, gpointer data)
{
    GtkWidget *label = gtk_label_new(NULL);
    gtk_label_set_xalign(
        GTK_LABEL(label),
        GPOINTER_TO_INT(data) == COL_ID || GPOINTER_TO_INT(data) >= COL_STEPS ? 1.0f : 0.0f);
    gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_END);
    gtk_list_item_set_child(li, label);
}

static void bind_cell(GtkSignalListItemFactory *f, GtkListItem *li, gpointer data)
{
    const S4gRunInfo *i = s4g_run_item_get_info(S4G_RUN_ITEM(gtk_list_item_get_item(li)));
    GtkLabel *label = GTK_LABEL(gtk_list_item_get_child(li));
    g_autofree char *text = NULL;
    gtk_widget_remove_css_class(GTK_WIDGET(label), "error");
    gtk_widget_remove_css_class(GTK_WIDGET(label), "success");
    switch ((Col)GPOINTER_TO_INT(data)) {
    case COL_ID:
        text = g_strdup_printf("%" G_GINT64_FORMAT, i->id);
        break;
    case COL_DATASET:
        text = g_strdup(i->dataset);
        break;
    case COL_MODEL:
        text = *i->preset ? g_strdup_printf("%s (%s)", i->model, i->preset) : g_strdup(i->model);
        break;
    case COL_STATE:
        text = g_strdup(s4g_run_info_state_label(i));
        if (i->state == S4G_RUN_FAILED) gtk_widget_add_css_class(GTK_WIDGET(label), "error");
        if (i->state == S4G_RUN_DONE) gtk_widget_add_css_class(GTK_WIDGET(label), "success");
        break;
    case COL_STARTED:
        text = s4g_run_info_started_label(i);
        break;
    case COL_STEPS:
        text = g_strdup_printf("%u", i->n_metrics);
        break;
    case COL_R1:
        text = isnan(i->best_r1) ? g_strdup("—") : g_strdup_printf("%.1f %%", i->best_r1);
        break;
    }
    gtk_label_set_label(label, text);
    gtk_widget_set_tooltip_text(GTK_WIDGET(label), i->message);
}

static void add_column(S4gTrainWindow *self, const char *title, Col col, gboolean expand)
{
    GtkListItemFactory *f = gtk_signal_list_item_factory_new();
    g_signal_connect(f, "setup", G_CALLBACK(setup_cell), GINT_TO_POINTER(col));
    g_signal_connect(f, "bind", G_CALLBACK(bind_cell), GINT_TO_POINTER(col));
    g_autoptr(GtkColumnViewColumn) c = gtk_column_view_column_new(title, f);
    gtk_column_view_column_set_expand(c, expand);
    gtk_column_view_append_column(self->runs_view, c);
}

S4gLossChart *s4g_train_window_get_chart(S4gTrainWindow *self)
{
    return self->chart;
}

static void on_start(S4gTrainWindow *self)
{
    g_autoptr(GError) error = NULL;
    if (!s4g_train_window_start(self, &error)) set_status(self, error->message, TRUE);
}

static void dispose(GObject *o)
{
    S4gTrainWindow *self = S4G_TRAIN_WINDOW(o);
    /* tearing the template down must not reload the list or the chart */
    if (self->view_stack) g_signal_handlers_disconnect_by_data(self->view_stack, self);
    if (self->runs_selection) g_signal_handlers_disconnect_by_data(self->runs_selection, self);
    s4g_train_window_cancel(self); /* the trainer checkpoints and exits on its own */
    detach_runner(self);
    g_clear_object(&self->runs_selection);
    g_clear_object(&self->runs);
    gtk_widget_dispose_template(GTK_WIDGET(self), S4G_TYPE_TRAIN_WINDOW);
    G_OBJECT_CLASS(s4g_train_window_parent_class)->dispose(o);
}

static void finalize(GObject *o)
{
    S4gTrainWindow *self = S4G_TRAIN_WINDOW(o);
    g_free(self->project_dir);
    g_free(self->error_message);
    G_OBJECT_CLASS(s4g_train_window_parent_class)->finalize(o);
}

static gboolean close_window(GtkWidget *w, GVariant *args, gpointer data)
{
    gtk_window_close(GTK_WINDOW(w));
    return TRUE;
}

static void s4g_train_window_class_init(S4gTrainWindowClass *klass)
{
    signals[SIGNAL_RUN_ENDED] = g_signal_new("run-ended", G_TYPE_FROM_CLASS(klass),
                                             G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = dispose;
    G_OBJECT_CLASS(klass)->finalize = finalize;
    g_type_ensure(S4G_TYPE_LOSS_CHART);
    gtk_widget_class_set_template_from_resource(wc, "/org/sample4geo/Studio/s4g-train-window.ui");
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, start_button);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, cancel_button);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, model_row);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, dataset_row);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, form_group);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, lr_row);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, preset_row);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, ground_size_row);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, satellite_size_row);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, epochs_spin);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, batch_spin);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, batch_row);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, status_label);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, chart);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, resume_button);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, runs_label);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, runs_view);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, view_stack);
    gtk_widget_class_add_binding(wc, GDK_KEY_Escape, 0, close_window, NULL);
}

static void s4g_train_window_init(S4gTrainWindow *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    /* the form starts from the defaults of `s4g train` (s4g-defaults.h) */
    gtk_editable_set_text(GTK_EDITABLE(self->preset_row), s4g_defaults.preset);
    gtk_spin_button_set_value(self->epochs_spin, s4g_defaults.epochs);
    gtk_spin_button_set_value(self->batch_spin, s4g_defaults.batch);
    self->batch_wanted = s4g_defaults.batch;
    const S4gSize g = s4g_defaults.ground, s = s4g_defaults.satellite;
    g_autofree char *gt = g_strdup_printf(_("Ground input H×W (empty: %dx%d)"), g.h, g.w);
    g_autofree char *st = g_strdup_printf(_("Satellite input H×W (empty: %dx%d)"), s.h, s.w);
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(self->ground_size_row), gt);
    adw_preferences_row_set_title(ADW_PREFERENCES_ROW(self->satellite_size_row), st);
    self->shift_spin =
        add_spin_row(self, _("Satellite shift"),
                     _("Pixels each training satellite image is moved at random"), 0, 64,
                     s4g_defaults.satellite_shift);
    self->range_spin = add_spin_row(self, _("Neighbour candidates"),
                                    _("Nearest candidates per anchor (range)"), 1, 4096,
                                    s4g_defaults.neighbour_range);
    self->select_spin = add_spin_row(self, _("Neighbours per anchor"),
                                     _("Hard negatives picked among the candidates"), 0,
                                     s4g_defaults.neighbour_range, s4g_defaults.neighbour_select);
    self->eval_spin = add_spin_row(self, _("Evaluate every"),
                                   _("Epochs between evaluations and DSS mining"), 1, 1000,
                                   s4g_defaults.eval_every);
    g_signal_connect_swapped(self->range_spin, "value-changed", G_CALLBACK(on_range_changed),
                             self);
    name_lists(GTK_WIDGET(self->dataset_row));
    char lr[G_ASCII_DTOSTR_BUF_SIZE];
    gtk_editable_set_text(GTK_EDITABLE(self->lr_row),
                          g_ascii_formatd(lr, sizeof lr, "%g", s4g_defaults.lr));
    g_signal_connect_swapped(self->start_button, "clicked", G_CALLBACK(on_start), self);
    g_signal_connect_swapped(self->cancel_button, "clicked", G_CALLBACK(s4g_train_window_cancel),
                             self);
    g_signal_connect_swapped(self->resume_button, "clicked", G_CALLBACK(on_resume), self);
    g_signal_connect_swapped(self->view_stack, "notify::visible-child", G_CALLBACK(on_page_changed),
                             self);
    self->runs = g_list_store_new(S4G_TYPE_RUN_ITEM);
    self->runs_selection = gtk_single_selection_new(g_object_ref(G_LIST_MODEL(self->runs)));
    gtk_single_selection_set_autoselect(self->runs_selection, FALSE);
    gtk_single_selection_set_can_unselect(self->runs_selection, TRUE);
    gtk_column_view_set_model(self->runs_view, GTK_SELECTION_MODEL(self->runs_selection));
    g_signal_connect_swapped(self->runs_selection, "notify::selected",
                             G_CALLBACK(on_selection_changed), self);
    /* the column view's inner list takes the focus: name it as the view is named */
    for (GtkWidget *c = gtk_widget_get_first_child(GTK_WIDGET(self->runs_view)); c;
         c = gtk_widget_get_next_sibling(c))
        if (GTK_IS_LIST_VIEW(c))
            gtk_accessible_update_property(GTK_ACCESSIBLE(c), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                           _("Past training runs"), -1);
    add_column(self, C_("run column", "Run"), COL_ID, FALSE);
    add_column(self, _("Dataset"), COL_DATASET, TRUE);
    add_column(self, _("Model"), COL_MODEL, TRUE);
    add_column(self, _("State"), COL_STATE, FALSE);
    add_column(self, _("Started"), COL_STARTED, FALSE);
    add_column(self, _("Steps"), COL_STEPS, FALSE);
    add_column(self, _("Best R@1"), COL_R1, FALSE);
}

S4gTrainWindow *s4g_train_window_new(GtkWindow *parent, const char *project_dir)
{
    S4gTrainWindow *self =
        g_object_new(S4G_TYPE_TRAIN_WINDOW, "transient-for", parent, "modal", FALSE, NULL);
    self->project_dir = g_strdup(project_dir);
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gStore) store = s4g_store_open(project_dir, FALSE, &error);
    g_auto(GStrv) names = store ? s4g_store_photo_dataset_names(store, &error) : NULL;
    g_autoptr(GtkStringList) list = gtk_string_list_new((const char *const *)names);
    adw_combo_row_set_model(self->dataset_row, G_LIST_MODEL(list));
    if (error)
        set_status(self, error->message, TRUE);
    else if (!names || !names[0])
        set_status(self, _("This project has no dataset with photos to train on"), TRUE);
    /* the batch fits the chosen dataset, now and whenever another is chosen */
    fit_batch(self);
    g_signal_connect_swapped(self->dataset_row, "notify::selected", G_CALLBACK(fit_batch), self);
    g_signal_connect_swapped(self->batch_spin, "value-changed", G_CALLBACK(on_batch_changed),
                             self);
    refresh_runs(self, 0);
    return self;
}
