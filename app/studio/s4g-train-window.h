/* s4g-train-window.h — configure and run a training run: starts `s4g train --json …` as a
 * GSubprocess, reads its JSON lines asynchronously into a live loss chart, and cancels it
 * with SIGTERM (the trainer then finishes its step and checkpoints).  A second page lists the
 * project's past runs from the store; selecting one draws its stored curve and R@1 at
 * evaluations in the same chart, and Resume continues a stopped run (`s4g train --resume`)
 * with the live points drawn on top of the stored ones.  The trainer's errors (its JSON error
 * event, else its stderr) are shown on the status line. */
#pragma once

#include <adwaita.h>

#include "s4g-loss-chart.h"

G_BEGIN_DECLS

#define S4G_TYPE_TRAIN_WINDOW (s4g_train_window_get_type())
G_DECLARE_FINAL_TYPE(S4gTrainWindow, s4g_train_window, S4G, TRAIN_WINDOW, AdwWindow)

/* Signal "run-ended" (no arguments): a run started here has exited and its output is read
 * (its model, if new, is in the store). */
S4gTrainWindow *s4g_train_window_new(GtkWindow *parent, const char *project_dir);
/* Starts the run with the values in the form. */
gboolean s4g_train_window_start(S4gTrainWindow *self, GError **error);
void s4g_train_window_cancel(S4gTrainWindow *self);
gboolean s4g_train_window_is_running(S4gTrainWindow *self);
S4gLossChart *s4g_train_window_get_chart(S4gTrainWindow *self);
/* Resumes run `run` (`s4g train --project P --resume RUN --json`), its stored curve first. */
gboolean s4g_train_window_resume(S4gTrainWindow *self, gint64 run, GError **error);
/* The past runs (S4gRunItem, newest first), reloaded when a run starts or ends. */
GListModel *s4g_train_window_get_runs(S4gTrainWindow *self);
/* Selects run `run` in the list (drawing its stored curve unless a run is live); FALSE if
 * it is not listed. */
gboolean s4g_train_window_select_run(S4gTrainWindow *self, gint64 run);
/* The argument vector the form describes (for tests and the status line). */
GStrv s4g_train_window_build_argv(S4gTrainWindow *self, const char *program);

G_END_DECLS
