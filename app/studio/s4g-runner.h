/* s4g-runner.h — one subprocess of the Studio (the trainer, `s4g demo`, `s4g predict`): a
 * GSubprocess whose stdout and stderr are read asynchronously line by line (a line ends at
 * \n, \r or \r\n, so progress bars count; text that is not UTF-8 is repaired), with the last
 * lines of stderr kept for error messages, cancel as SIGTERM followed by SIGKILL after a
 * grace period, and the exit status once it is over.  A runner runs one process: make a new
 * one for the next.
 *
 * Signals: "stdout-line" (const char *line) and "stderr-line" (const char *line) per
 * non-empty line, stripped; "finished" once, after the process exited and both pipes were
 * read to their end, so every line has been delivered before it. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define S4G_TYPE_RUNNER (s4g_runner_get_type())
G_DECLARE_FINAL_TYPE(S4gRunner, s4g_runner, S4G, RUNNER, GObject)

/* Cancel waits `kill_grace_ms` after SIGTERM before SIGKILL. */
S4gRunner *s4g_runner_new(guint kill_grace_ms);
gboolean s4g_runner_start(S4gRunner *self, const char *const *argv, GError **error);
/* From start until "finished". */
gboolean s4g_runner_is_running(S4gRunner *self);
/* SIGTERM now, SIGKILL if it has not exited after the grace; does nothing once finished. */
void s4g_runner_cancel(S4gRunner *self);
/* SIGKILL now (the window is going away). */
void s4g_runner_kill(S4gRunner *self);
gboolean s4g_runner_was_cancelled(S4gRunner *self);

/* After "finished": TRUE when it exited with status 0, else an error as
 * g_spawn_check_wait_status words it ("Child process exited with code 1"). */
gboolean s4g_runner_check(S4gRunner *self, GError **error);
/* After "finished": the exit status, or -1 when a signal ended it. */
int s4g_runner_get_exit_status(S4gRunner *self);
/* After "finished": the signal that ended it, or 0. */
int s4g_runner_get_term_sig(S4gRunner *self);
/* The last non-empty line of either stream, or NULL. */
const char *s4g_runner_get_last_line(S4gRunner *self);
/* The last lines of stderr (at most 6), joined by \n; "" when there were none. */
char *s4g_runner_get_stderr_tail(S4gRunner *self);

/* The s4g program: $S4G_PROGRAM, else next to this executable, else on PATH; NULL if none. */
char *s4g_runner_find_s4g(void);

G_END_DECLS
