/* s4g-window-tasks.c — the task bar: one s4g subprocess at a time behind it. */
#define G_LOG_DOMAIN "s4g-studio"
#include "s4g-config.h"

#include "s4g-window-private.h"

#include <glib/gi18n.h>

/* Cancel asks the s4g run to stop (SIGTERM) and kills it when it has not after this. */
#define TASK_KILL_GRACE_MS 3000

static void task_free(Task *t)
{
    if (t->data_free) t->data_free(t->data);
    g_signal_handlers_disconnect_by_data(t->runner, t);
    g_clear_object(&t->runner);
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

static void task_finished(S4gRunner *runner, Task *t)
{
    g_autoptr(GError) error = NULL;
    const char *last = s4g_runner_get_last_line(runner);
    if (s4g_runner_was_cancelled(runner)) {
        task_finish(t, FALSE, _("Cancelled"));
        return;
    }
    if (!s4g_runner_check(runner, &error)) {
        g_autofree char *msg = g_strdup_printf("%s: %s%s%s", t->what, error->message,
                                               last ? " — " : "", last ? last : "");
        task_finish(t, FALSE, msg);
        return;
    }
    task_finish(t, TRUE, last);
}

static void task_line(S4gRunner *runner, const char *line, Task *t)
{
    if (t->self->task != t) return;
    g_autofree char *text = g_strdup_printf("%s — %s", t->what, line);
    gtk_label_set_label(t->self->task_label, text);
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
    g_autoptr(S4gRunner) runner = s4g_runner_new(TASK_KILL_GRACE_MS);
    if (!s4g_runner_start(runner, argv, &error)) {
        done(self, FALSE, error->message, data);
        if (data_free) data_free(data);
        return FALSE;
    }
    Task *t = g_new0(Task, 1);
    t->self = g_object_ref(self);
    t->runner = g_steal_pointer(&runner);
    t->what = g_strdup(what);
    t->done = done;
    t->data = data;
    t->data_free = data_free;
    g_signal_connect(t->runner, "stdout-line", G_CALLBACK(task_line), t);
    g_signal_connect(t->runner, "stderr-line", G_CALLBACK(task_line), t);
    g_signal_connect(t->runner, "finished", G_CALLBACK(task_finished), t);
    self->task = t;
    gtk_label_set_label(self->task_label, what);
    gtk_spinner_start(self->task_spinner);
    gtk_action_bar_set_revealed(self->task_bar, TRUE);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.cancel-task", TRUE);
    return TRUE;
}

void _s4g_window_cancel_task(GtkWidget *w, const char *a, GVariant *p)
{
    S4gWindow *self = S4G_WINDOW(w);
    if (!self->task) return;
    s4g_runner_cancel(self->task->runner);
}

gboolean s4g_window_is_busy(S4gWindow *self)
{
    return self->task != NULL;
}

void s4g_window_cancel_task(S4gWindow *self)
{
    _s4g_window_cancel_task(GTK_WIDGET(self), NULL, NULL);
}
