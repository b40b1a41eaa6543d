/* s4g-window-tasks.c — the task bar: one s4g subprocess at a time behind it. */
#define G_LOG_DOMAIN "s4g-studio"
#include "s4g-config.h"

#include "s4g-window-private.h"

#include <glib/gi18n.h>

static void task_free(Task *t)
{
    if (t->data_free) t->data_free(t->data);
    g_clear_object(&t->proc);
    g_clear_object(&t->cancel);
    g_string_free(t->partial, TRUE);
    g_free(t->last);
    g_free(t->what);
    g_object_unref(t->self);
    g_free(t);
}

static void task_finish(Task *t, gboolean ok, const char *message)
{
    S4gWindow *self = t->self;
    if (self->task != t) { /* the window was closed meanwhile */
        task_free(t);
        return;
    }
    self->task = NULL;
    gtk_spinner_stop(self->task_spinner);
    gtk_action_bar_set_revealed(self->task_bar, FALSE);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.cancel-task", FALSE);
    t->done(self, ok, message, t->data);
    task_free(t);
}

static void task_exited(GObject *src, GAsyncResult *res, gpointer data)
{
    Task *t = data;
    g_autoptr(GError) error = NULL;
    if (g_cancellable_is_cancelled(t->cancel)) {
        task_finish(t, FALSE, _("Cancelled"));
        return;
    }
    if (!g_subprocess_wait_check_finish(G_SUBPROCESS(src), res, &error)) {
        g_autofree char *msg = g_strdup_printf("%s: %s%s%s", t->what, error->message,
                                               t->last ? " — " : "", t->last ? t->last : "");
        task_finish(t, FALSE, msg);
        return;
    }
    task_finish(t, TRUE, t->last);
}

static void task_read(GObject *src, GAsyncResult *res, gpointer data)
{
    Task *t = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) bytes = g_input_stream_read_bytes_finish(G_INPUT_STREAM(src), res, &error);
    if (!bytes || g_bytes_get_size(bytes) == 0) {
        /* end of output (or the pipe broke): the exit status decides */
        g_subprocess_wait_async(t->proc, NULL, task_exited, t);
        return;
    }
    gsize n;
    const char *p = g_bytes_get_data(bytes, &n);
    for (gsize i = 0; i < n; i++) {
        if (p[i] == '\n' || p[i] == '\r') {
            g_strstrip(t->partial->str);
            if (*t->partial->str) {
                g_free(t->last);
                t->last = g_strdup(t->partial->str);
            }
            g_string_truncate(t->partial, 0);
        } else {
            g_string_append_c(t->partial, p[i]);
        }
    }
    if (t->self->task == t && t->last) {
        g_autofree char *text = g_strdup_printf("%s — %s", t->what, t->last);
        gtk_label_set_label(t->self->task_label, text);
    }
    g_input_stream_read_bytes_async(G_INPUT_STREAM(src), 4096, G_PRIORITY_DEFAULT, NULL, task_read,
                                    t);
}

/* Starts argv behind the task bar; done runs exactly once (also on failure to start). */
gboolean _s4g_window_task_start(S4gWindow *self, const char *what, const char *const *argv,
                           TaskDone done, gpointer data, GDestroyNotify data_free)
{
    if (self->task) {
        g_autofree char *msg = g_strdup_printf(_("Busy: %s"), self->task->what);
        _s4g_window_toast(self, msg);
        if (data_free) data_free(data);
        return FALSE;
    }
    g_autoptr(GError) error = NULL;
    GSubprocess *proc = g_subprocess_newv(
        argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE, &error);
    if (!proc) {
        done(self, FALSE, error->message, data);
        if (data_free) data_free(data);
        return FALSE;
    }
    Task *t = g_new0(Task, 1);
    t->self = g_object_ref(self);
    t->proc = proc;
    t->cancel = g_cancellable_new();
    t->partial = g_string_new(NULL);
    t->what = g_strdup(what);
    t->done = done;
    t->data = data;
    t->data_free = data_free;
    self->task = t;
    gtk_label_set_label(self->task_label, what);
    gtk_spinner_start(self->task_spinner);
    gtk_action_bar_set_revealed(self->task_bar, TRUE);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.cancel-task", TRUE);
    g_input_stream_read_bytes_async(g_subprocess_get_stdout_pipe(proc), 4096, G_PRIORITY_DEFAULT,
                                    NULL, task_read, t);
    return TRUE;
}

void _s4g_window_cancel_task(GtkWidget *w, const char *a, GVariant *p)
{
    S4gWindow *self = S4G_WINDOW(w);
    if (!self->task) return;
    g_cancellable_cancel(self->task->cancel);
    g_subprocess_force_exit(self->task->proc);
}

gboolean s4g_window_is_busy(S4gWindow *self)
{
    return self->task != NULL;
}

void s4g_window_cancel_task(S4gWindow *self)
{
    _s4g_window_cancel_task(GTK_WIDGET(self), NULL, NULL);
}

