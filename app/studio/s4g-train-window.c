/* s4g-train-window.c — training runs from the Studio (see the header). */
#define G_LOG_DOMAIN "s4g-studio"
#include "s4g-config.h"

#include "s4g-train-window.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>

struct _S4gTrainWindow {
    AdwWindow parent_instance;
    GtkButton *start_button, *cancel_button;
    AdwEntryRow *model_row, *dataset_row, *preset_row, *lr_row;
    AdwEntryRow *ground_size_row, *satellite_size_row; /* empty: the trainer's defaults */
    GtkSpinButton *epochs_spin, *batch_spin;
    GtkLabel *status_label;
    S4gLossChart *chart;

    char *project_dir;
    GSubprocess *proc;
    GDataInputStream *out;
    GCancellable *cancellable;
    guint bad_lines;
    gboolean ended; /* the trainer's "end" event was read; its state is on the status line */
};

G_DEFINE_FINAL_TYPE(S4gTrainWindow, s4g_train_window, ADW_TYPE_WINDOW)

char *s4g_train_window_find_s4g(void)
{
    const char *env = g_getenv("S4G_PROGRAM");
    if (env && *env) return g_strdup(env);
    g_autofree char *self_exe = g_file_read_link("/proc/self/exe", NULL);
    if (self_exe) {
        /* Build tree: app/studio/s4g-studio next to app/cli/s4g; installed: same bindir. */
        g_autofree char *dir = g_path_get_dirname(self_exe);
        g_autofree char *sibling = g_build_filename(dir, "s4g", NULL);
        if (g_file_test(sibling, G_FILE_TEST_IS_EXECUTABLE)) return g_steal_pointer(&sibling);
        g_autofree char *cli = g_build_filename(dir, "..", "cli", "s4g", NULL);
        if (g_file_test(cli, G_FILE_TEST_IS_EXECUTABLE)) return g_steal_pointer(&cli);
    }
    return g_find_program_in_path("s4g");
}

GStrv s4g_train_window_build_argv(S4gTrainWindow *self, const char *program)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_strv_builder_add_many(b, program, "train", "--json", "--project", self->project_dir, NULL);
    const char *model = gtk_editable_get_text(GTK_EDITABLE(self->model_row));
    if (*model) g_strv_builder_add_many(b, "--model", model, NULL);
    const char *dataset = gtk_editable_get_text(GTK_EDITABLE(self->dataset_row));
    if (*dataset) g_strv_builder_add_many(b, "--dataset", dataset, NULL);
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
    return g_strv_builder_end(b);
}

static void set_running(S4gTrainWindow *self, gboolean running)
{
    gtk_widget_set_sensitive(GTK_WIDGET(self->start_button), !running);
    gtk_widget_set_sensitive(GTK_WIDGET(self->cancel_button), running);
}

static void read_next(S4gTrainWindow *self);

static void on_process_exit(GObject *src, GAsyncResult *res, gpointer data)
{
    g_autoptr(S4gTrainWindow) self = data;
    g_autoptr(GError) error = NULL;
    GSubprocess *proc = G_SUBPROCESS(src);
    if (!g_subprocess_wait_finish(proc, res, &error))
        return; /* cancelled: the window is going away */
    g_autofree char *msg = NULL;
    gboolean ok = g_subprocess_get_if_exited(proc) && g_subprocess_get_exit_status(proc) == 0;
    if (ok && self->ended)
        ; /* the end event said done or stopped, whichever order the exit and it arrive in */
    else if (ok)
        msg = g_strdup_printf(_("Finished: %u steps"), s4g_loss_chart_get_n_points(self->chart));
    else if (g_subprocess_get_if_signaled(proc))
        msg = g_strdup_printf(_("Stopped by signal %d"), g_subprocess_get_term_sig(proc));
    else
        msg = g_strdup_printf(_("Failed with exit status %d (see the terminal for its messages)"),
                              g_subprocess_get_exit_status(proc));
    if (msg) gtk_label_set_label(self->status_label, msg);
    if (self->proc == proc) {
        g_clear_object(&self->proc);
        set_running(self, FALSE);
    }
}

/* `s4g train --json` ends with {"event": "end", "state": "done"|"stopped", "step": N}: a
 * cancelled run exits 0 too, so the state comes from here. */
static gboolean note_end(S4gTrainWindow *self, const char *line)
{
    if (!strstr(line, "\"end\"")) return FALSE;
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, line, -1, NULL)) return FALSE;
    JsonNode *root = json_parser_get_root(parser);
    if (!JSON_NODE_HOLDS_OBJECT(root)) return FALSE;
    JsonObject *o = json_node_get_object(root);
    if (g_strcmp0(json_object_get_string_member_with_default(o, "event", NULL), "end") != 0)
        return FALSE;
    const char *state = json_object_get_string_member_with_default(o, "state", "");
    gint64 step = json_object_get_int_member_with_default(o, "step", 0);
    g_autofree char *msg =
        g_strcmp0(state, "stopped") == 0
            ? g_strdup_printf(_("Stopped after %u steps; the run can be resumed"), (guint)step)
            : g_strdup_printf(_("Finished: %u steps"), s4g_loss_chart_get_n_points(self->chart));
    gtk_label_set_label(self->status_label, msg);
    self->ended = TRUE;
    return TRUE;
}

static void on_line(GObject *src, GAsyncResult *res, gpointer data)
{
    g_autoptr(S4gTrainWindow) self = data;
    g_autoptr(GError) error = NULL;
    gsize len;
    g_autofree char *line =
        g_data_input_stream_read_line_finish_utf8(G_DATA_INPUT_STREAM(src), res, &len, &error);
    if (!line) {
        if (error && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            gtk_label_set_label(self->status_label, error->message);
        return; /* EOF or cancelled */
    }
    g_autoptr(GError) perr = NULL;
    if (*g_strstrip(line) && note_end(self, line)) {
        /* status line set */
    } else if (*line && !s4g_loss_chart_feed_line(self->chart, line, &perr)) {
        /* Not fatal: a trainer may print other lines; show the latest problem. */
        self->bad_lines++;
        gtk_label_set_label(self->status_label, perr->message);
    } else if (*line) {
        guint n = s4g_loss_chart_get_n_points(self->chart);
        if (n > 0) {
            g_autofree char *d = s4g_loss_chart_describe(self->chart, n - 1);
            gtk_label_set_label(self->status_label, d);
        }
    }
    read_next(self);
}

static void read_next(S4gTrainWindow *self)
{
    g_data_input_stream_read_line_async(self->out, G_PRIORITY_DEFAULT, self->cancellable, on_line,
                                        g_object_ref(self));
}

gboolean s4g_train_window_start(S4gTrainWindow *self, GError **error)
{
    g_return_val_if_fail(S4G_IS_TRAIN_WINDOW(self), FALSE);
    if (self->proc) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY, _("A run is already in progress"));
        return FALSE;
    }
    g_autofree char *program = s4g_train_window_find_s4g();
    if (!program) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    _("The s4g program was not found (set S4G_PROGRAM or install it)"));
        return FALSE;
    }
    g_auto(GStrv) argv = s4g_train_window_build_argv(self, program);
    GSubprocess *proc =
        g_subprocess_newv((const char *const *)argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, error);
    if (!proc) return FALSE;
    self->proc = proc;
    s4g_loss_chart_clear(self->chart);
    self->bad_lines = 0;
    self->ended = FALSE;
    g_clear_object(&self->out);
    self->out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(proc));
    g_set_object(&self->cancellable, g_cancellable_new());
    g_object_unref(self->cancellable);
    g_subprocess_wait_async(proc, self->cancellable, on_process_exit, g_object_ref(self));
    read_next(self);
    set_running(self, TRUE);
    g_autofree char *cmd = g_strjoinv(" ", argv);
    g_autofree char *msg = g_strdup_printf(_("Running %s"), cmd);
    gtk_label_set_label(self->status_label, msg);
    return TRUE;
}

void s4g_train_window_cancel(S4gTrainWindow *self)
{
    if (self->proc) g_subprocess_send_signal(self->proc, SIGTERM);
}

gboolean s4g_train_window_is_running(S4gTrainWindow *self)
{
    return self->proc != NULL;
}

S4gLossChart *s4g_train_window_get_chart(S4gTrainWindow *self)
{
    return self->chart;
}

static void on_start(S4gTrainWindow *self)
{
    g_autoptr(GError) error = NULL;
    if (!s4g_train_window_start(self, &error))
        gtk_label_set_label(self->status_label, error->message);
}

static void dispose(GObject *o)
{
    S4gTrainWindow *self = S4G_TRAIN_WINDOW(o);
    s4g_train_window_cancel(self);
    if (self->cancellable) g_cancellable_cancel(self->cancellable);
    g_clear_object(&self->cancellable);
    g_clear_object(&self->proc);
    g_clear_object(&self->out);
    gtk_widget_dispose_template(GTK_WIDGET(self), S4G_TYPE_TRAIN_WINDOW);
    G_OBJECT_CLASS(s4g_train_window_parent_class)->dispose(o);
}

static void finalize(GObject *o)
{
    g_free(S4G_TRAIN_WINDOW(o)->project_dir);
    G_OBJECT_CLASS(s4g_train_window_parent_class)->finalize(o);
}

static gboolean close_window(GtkWidget *w, GVariant *args, gpointer data)
{
    gtk_window_close(GTK_WINDOW(w));
    return TRUE;
}

static void s4g_train_window_class_init(S4gTrainWindowClass *klass)
{
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = dispose;
    G_OBJECT_CLASS(klass)->finalize = finalize;
    g_type_ensure(S4G_TYPE_LOSS_CHART);
    gtk_widget_class_set_template_from_resource(wc, "/org/sample4geo/Studio/s4g-train-window.ui");
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, start_button);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, cancel_button);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, model_row);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, dataset_row);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, lr_row);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, preset_row);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, ground_size_row);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, satellite_size_row);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, epochs_spin);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, batch_spin);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, status_label);
    gtk_widget_class_bind_template_child(wc, S4gTrainWindow, chart);
    gtk_widget_class_add_binding(wc, GDK_KEY_Escape, 0, close_window, NULL);
}

static void s4g_train_window_init(S4gTrainWindow *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    g_signal_connect_swapped(self->start_button, "clicked", G_CALLBACK(on_start), self);
    g_signal_connect_swapped(self->cancel_button, "clicked", G_CALLBACK(s4g_train_window_cancel),
                             self);
}

S4gTrainWindow *s4g_train_window_new(GtkWindow *parent, const char *project_dir)
{
    S4gTrainWindow *self =
        g_object_new(S4G_TYPE_TRAIN_WINDOW, "transient-for", parent, "modal", FALSE, NULL);
    self->project_dir = g_strdup(project_dir);
    return self;
}
