/* test-runner.c — S4gRunner on small shell scripts: stdout lines in order (\n, \r and \r\n
 * all end a line; invalid UTF-8 repaired), stderr's last lines kept, the exit status, and
 * cancel: SIGTERM first, SIGKILL only after the grace when the process ignores it. */
#include "s4g-runner.h"

#include <signal.h>
#include <string.h>

typedef struct {
    GPtrArray *out, *err;
    gboolean finished;
} Seen;

static void on_out(S4gRunner *r, const char *line, Seen *s)
{
    g_assert_false(s->finished); /* every line before "finished" */
    g_ptr_array_add(s->out, g_strdup(line));
}

static void on_err(S4gRunner *r, const char *line, Seen *s)
{
    g_ptr_array_add(s->err, g_strdup(line));
}

static void on_finished(S4gRunner *r, Seen *s)
{
    g_assert_false(s->finished);
    s->finished = TRUE;
}

static S4gRunner *run(const char *script, guint grace_ms, Seen *s)
{
    s->out = g_ptr_array_new_with_free_func(g_free);
    s->err = g_ptr_array_new_with_free_func(g_free);
    s->finished = FALSE;
    S4gRunner *r = s4g_runner_new(grace_ms);
    g_signal_connect(r, "stdout-line", G_CALLBACK(on_out), s);
    g_signal_connect(r, "stderr-line", G_CALLBACK(on_err), s);
    g_signal_connect(r, "finished", G_CALLBACK(on_finished), s);
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    g_autoptr(GError) error = NULL;
    g_assert_true(s4g_runner_start(r, argv, &error));
    g_assert_no_error(error);
    g_assert_true(s4g_runner_is_running(r));
    g_assert_false(s4g_runner_start(r, argv, &error)); /* one process per runner */
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_BUSY);
    return r;
}

static void wait_finished(Seen *s, double seconds)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)(seconds * G_USEC_PER_SEC);
    while (!s->finished && g_get_monotonic_time() < deadline)
        g_main_context_iteration(NULL, TRUE);
    g_assert_true(s->finished);
}

static void test_lines_and_status(void)
{
    Seen s;
    g_autoptr(S4gRunner) r =
        run("printf 'one\\ntwo\\r10%%\\r20%%\\r\\nbad \\377 byte\\n\\n  padded  \\nlast'; "
            "for i in 1 2 3 4 5 6 7 8; do echo \"err $i\" >&2; done; exit 3",
            1000, &s);
    wait_finished(&s, 20);
    g_assert_false(s4g_runner_is_running(r));
    const char *want[] = {"one", "two", "10%", "20%", "bad \xef\xbf\xbd byte", "padded", "last"};
    g_assert_cmpuint(s.out->len, ==, G_N_ELEMENTS(want));
    for (guint i = 0; i < G_N_ELEMENTS(want); i++)
        g_assert_cmpstr(s.out->pdata[i], ==, want[i]);
    g_assert_cmpuint(s.err->len, ==, 8);
    g_autofree char *tail = s4g_runner_get_stderr_tail(r);
    g_assert_cmpstr(tail, ==, "err 3\nerr 4\nerr 5\nerr 6\nerr 7\nerr 8");
    g_assert_cmpint(s4g_runner_get_exit_status(r), ==, 3);
    g_assert_cmpint(s4g_runner_get_term_sig(r), ==, 0);
    g_assert_false(s4g_runner_was_cancelled(r));
    g_autoptr(GError) error = NULL;
    g_assert_false(s4g_runner_check(r, &error));
    g_assert_nonnull(strstr(error->message, "3"));
    g_ptr_array_unref(s.out);
    g_ptr_array_unref(s.err);

    g_autoptr(S4gRunner) ok = run("echo fine", 1000, &s);
    wait_finished(&s, 20);
    g_assert_true(s4g_runner_check(ok, NULL));
    g_assert_cmpint(s4g_runner_get_exit_status(ok), ==, 0);
    g_assert_cmpstr(s4g_runner_get_last_line(ok), ==, "fine");
    g_ptr_array_unref(s.out);
    g_ptr_array_unref(s.err);
}

/* A process that stops on SIGTERM ends by it; one that ignores it is killed after the grace. */
static void test_cancel(void)
{
    Seen s;
    g_autoptr(S4gRunner) polite = run("echo ready; exec sleep 30", 10000, &s);
    while (s.out->len == 0)
        g_main_context_iteration(NULL, TRUE);
    gint64 t0 = g_get_monotonic_time();
    s4g_runner_cancel(polite);
    wait_finished(&s, 20);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 5 * G_USEC_PER_SEC); /* not the grace */
    g_assert_true(s4g_runner_was_cancelled(polite));
    g_assert_cmpint(s4g_runner_get_term_sig(polite), ==, SIGTERM);
    g_ptr_array_unref(s.out);
    g_ptr_array_unref(s.err);

    g_autoptr(S4gRunner) stubborn = run("trap '' TERM; echo ready; exec sleep 30", 300, &s);
    while (s.out->len == 0)
        g_main_context_iteration(NULL, TRUE);
    t0 = g_get_monotonic_time();
    s4g_runner_cancel(stubborn);
    wait_finished(&s, 20);
    gint64 took = g_get_monotonic_time() - t0;
    g_assert_cmpint(took, >=, 250 * 1000); /* the grace was waited for */
    g_assert_cmpint(took, <, 10 * G_USEC_PER_SEC);
    g_assert_cmpint(s4g_runner_get_term_sig(stubborn), ==, SIGKILL);
    g_assert_cmpint(s4g_runner_get_exit_status(stubborn), ==, -1);
    g_ptr_array_unref(s.out);
    g_ptr_array_unref(s.err);
}

static void test_find_s4g(void)
{
    g_setenv("S4G_PROGRAM", "/opt/elsewhere/s4g", TRUE);
    g_autofree char *p = s4g_runner_find_s4g();
    g_assert_cmpstr(p, ==, "/opt/elsewhere/s4g");
    g_unsetenv("S4G_PROGRAM");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/studio/runner/lines-and-status", test_lines_and_status);
    g_test_add_func("/studio/runner/cancel", test_cancel);
    g_test_add_func("/studio/runner/find-s4g", test_find_s4g);
    return g_test_run();
}
