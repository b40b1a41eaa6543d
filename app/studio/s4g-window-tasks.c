/* s4g-window-tasks.c — the task bar: one s4g subprocess at a time behind it. */
#include "s4g-config.h"

#include "s4g-window-private.h"

#include <glib/gi18n.h>
#include <string.h>

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
    gtk_widget_set_visible(GTK_WIDGET(self->task_progress), FALSE);
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
        /* a run read by on_line: its own words are on stderr */
        g_autofree char *tail = t->on_line ? s4g_runner_get_stderr_tail(runner) : NULL;
        if (tail) {
            char *nl = strrchr(tail, '\n');
            last = nl ? nl + 1 : *tail ? tail : NULL;
        }
        g_autofree char *msg = g_strdup_printf("%s: %s%s%s", t->what, error->message,
                                               last ? " — " : "", last ? last : "");
        task_finish(t, FALSE, msg);
        return;
    }
    task_finish(t, TRUE, t->on_line ? NULL : last);
}

static void task_line(S4gRunner *runner, const char *line, Task *t)
{
    if (t->self->task != t || t->cancelling) return;
    g_autofree char *text = g_strdup_printf("%s — %s", t->what, line);
    gtk_label_set_label(t->self->task_label, text);
}

static void task_stdout_line(S4gRunner *runner, const char *line, Task *t)
{
    t->n_lines++;
    if (t->self->task != t) return;
    if (t->on_line)
        t->on_line(t->self, line, t->data);
    else
        task_line(runner, line, t);
}

void _s4g_window_task_progress(S4gWindow *self, double fraction, const char *text)
{
    if (!self->task || self->task->cancelling) return;
    gtk_progress_bar_set_fraction(self->task_progress, CLAMP(fraction, 0.0, 1.0));
    gtk_widget_set_visible(GTK_WIDGET(self->task_progress), TRUE);
    g_autofree char *label = g_strdup_printf("%s — %s", self->task->what, text);
    gtk_label_set_label(self->task_label, label);
}

gboolean _s4g_window_task_start(S4gWindow *self, const char *what, const char *const *argv,
                                TaskDone done, gpointer data, GDestroyNotify data_free)
{
    return _s4g_window_task_start_full(self, what, argv, NULL, done, data, data_free);
}

/* Starts argv behind the task bar; done runs exactly once (also on failure to start). */
gboolean _s4g_window_task_start_full(S4gWindow *self, const char *what,
                                     const char *const *argv, TaskLine on_line, TaskDone done,
                                     gpointer data, GDestroyNotify data_free)
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
    t->on_line = on_line;
    t->data = data;
    t->data_free = data_free;
    g_signal_connect(t->runner, "stdout-line", G_CALLBACK(task_stdout_line), t);
    /* a run that reports its progress keeps its messages for the error, if any */
    if (!on_line) g_signal_connect(t->runner, "stderr-line", G_CALLBACK(task_line), t);
    g_signal_connect(t->runner, "finished", G_CALLBACK(task_finished), t);
    self->task = t;
    gtk_label_set_label(self->task_label, what);
    gtk_progress_bar_set_fraction(self->task_progress, 0);
    gtk_widget_set_visible(GTK_WIDGET(self->task_progress), on_line != NULL);
    gtk_spinner_start(self->task_spinner);
    gtk_action_bar_set_revealed(self->task_bar, TRUE);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.cancel-task", TRUE);
    return TRUE;
}

void _s4g_window_cancel_task(GtkWidget *w, const char *a, GVariant *p)
{
    S4gWindow *self = S4G_WINDOW(w);
    Task *t = self->task;
    if (!t || t->cancelling) return;
    /* feedback at once: the run may take a moment to stop (it finishes its step) */
    t->cancelling = TRUE;
    g_autofree char *text = g_strdup_printf(_("%s — cancelling…"), t->what);
    gtk_label_set_label(self->task_label, text);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.cancel-task", FALSE);
    s4g_runner_cancel(t->runner);
}

gboolean s4g_window_is_busy(S4gWindow *self)
{
    return self->task != NULL;
}

void s4g_window_cancel_task(S4gWindow *self)
{
    _s4g_window_cancel_task(GTK_WIDGET(self), NULL, NULL);
}

const char *s4g_window_get_task_text(S4gWindow *self)
{
    return gtk_label_get_label(self->task_label);
}

double s4g_window_get_task_fraction(S4gWindow *self)
{
    return gtk_widget_get_visible(GTK_WIDGET(self->task_progress))
               ? gtk_progress_bar_get_fraction(self->task_progress)
               : -1;
}
