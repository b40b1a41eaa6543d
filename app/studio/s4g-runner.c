/* s4g-runner.c — one subprocess of the Studio (see the header). */
#include "s4g-runner.h"

#include <signal.h>

/* Lines of stderr kept for the message when the process fails. */
#define STDERR_KEEP 6

struct _S4gRunner {
    GObject parent_instance;
    guint kill_grace_ms;
    GSubprocess *proc;
    GDataInputStream *out, *err;
    gboolean started, exited, out_eof, err_eof, finished, cancelled;
    guint kill_source;
    char *last_line;
    GQueue err_lines; /* the last STDERR_KEEP lines of stderr (char *) */
};

G_DEFINE_FINAL_TYPE(S4gRunner, s4g_runner, G_TYPE_OBJECT)

enum { SIGNAL_STDOUT_LINE, SIGNAL_STDERR_LINE, SIGNAL_FINISHED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void finish_if_over(S4gRunner *self)
{
    if (self->finished || !self->exited || !self->out_eof || !self->err_eof) return;
    self->finished = TRUE;
    g_clear_handle_id(&self->kill_source, g_source_remove);
    g_signal_emit(self, signals[SIGNAL_FINISHED], 0);
}

static void on_process_exit(GObject *src, GAsyncResult *res, gpointer data)
{
    g_autoptr(S4gRunner) self = data;
    g_subprocess_wait_finish(G_SUBPROCESS(src), res, NULL); /* no cancellable: cannot fail */
    self->exited = TRUE;
    finish_if_over(self);
}

static void read_next(S4gRunner *self, GDataInputStream *stream);

static void note_line(S4gRunner *self, GDataInputStream *stream, char *line)
{
    g_strstrip(line);
    if (!*line) return;
    g_free(self->last_line);
    self->last_line = g_strdup(line);
    if (stream == self->out) {
        g_signal_emit(self, signals[SIGNAL_STDOUT_LINE], 0, line);
        return;
    }
    g_queue_push_tail(&self->err_lines, g_strdup(line));
    while (self->err_lines.length > STDERR_KEEP)
        g_free(g_queue_pop_head(&self->err_lines));
    g_signal_emit(self, signals[SIGNAL_STDERR_LINE], 0, line);
}

static void on_line(GObject *src, GAsyncResult *res, gpointer data)
{
    g_autoptr(S4gRunner) self = data;
    GDataInputStream *stream = G_DATA_INPUT_STREAM(src);
    g_autoptr(GError) error = NULL;
    gsize len;
    g_autofree char *raw = g_data_input_stream_read_line_finish(stream, res, &len, &error);
    if (!raw) {
        /* end of output, or the pipe broke: either way nothing more comes */
        if (error) g_debug("reading the output of a subprocess: %s", error->message);
        if (stream == self->out)
            self->out_eof = TRUE;
        else
            self->err_eof = TRUE;
        finish_if_over(self);
        return;
    }
    g_autofree char *line = g_utf8_make_valid(raw, (gssize)len);
    note_line(self, stream, line);
    read_next(self, stream);
}

static void read_next(S4gRunner *self, GDataInputStream *stream)
{
    g_data_input_stream_read_line_async(stream, G_PRIORITY_DEFAULT, NULL, on_line,
                                        g_object_ref(self));
}

static GDataInputStream *line_reader(GInputStream *pipe)
{
    GDataInputStream *s = g_data_input_stream_new(pipe);
    g_data_input_stream_set_newline_type(s, G_DATA_STREAM_NEWLINE_TYPE_ANY);
    return s;
}

gboolean s4g_runner_start(S4gRunner *self, const char *const *argv, GError **error)
{
    g_return_val_if_fail(S4G_IS_RUNNER(self), FALSE);
    g_return_val_if_fail(argv && argv[0], FALSE);
    if (self->started) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_BUSY, "a runner runs one process");
        return FALSE;
    }
    self->proc = g_subprocess_newv(
        argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, error);
    if (!self->proc) return FALSE;
    self->started = TRUE;
    self->out = line_reader(g_subprocess_get_stdout_pipe(self->proc));
    self->err = line_reader(g_subprocess_get_stderr_pipe(self->proc));
    g_subprocess_wait_async(self->proc, NULL, on_process_exit, g_object_ref(self));
    read_next(self, self->out);
    read_next(self, self->err);
    return TRUE;
}

gboolean s4g_runner_is_running(S4gRunner *self)
{
    g_return_val_if_fail(S4G_IS_RUNNER(self), FALSE);
    return self->started && !self->finished;
}

static gboolean kill_after_grace(gpointer data)
{
    S4gRunner *self = data;
    self->kill_source = 0;
    if (!self->exited) g_subprocess_force_exit(self->proc);
    return G_SOURCE_REMOVE;
}

void s4g_runner_cancel(S4gRunner *self)
{
    g_return_if_fail(S4G_IS_RUNNER(self));
    if (!s4g_runner_is_running(self) || self->exited) return;
    self->cancelled = TRUE;
    g_subprocess_send_signal(self->proc, SIGTERM);
    if (!self->kill_source)
        self->kill_source =
            g_timeout_add_full(G_PRIORITY_DEFAULT, self->kill_grace_ms, kill_after_grace,
                               g_object_ref(self), g_object_unref);
}

void s4g_runner_kill(S4gRunner *self)
{
    g_return_if_fail(S4G_IS_RUNNER(self));
    if (!s4g_runner_is_running(self) || self->exited) return;
    self->cancelled = TRUE;
    g_subprocess_force_exit(self->proc);
}

gboolean s4g_runner_was_cancelled(S4gRunner *self)
{
    g_return_val_if_fail(S4G_IS_RUNNER(self), FALSE);
    return self->cancelled;
}

gboolean s4g_runner_check(S4gRunner *self, GError **error)
{
    g_return_val_if_fail(S4G_IS_RUNNER(self) && self->finished, FALSE);
    return g_spawn_check_wait_status(g_subprocess_get_status(self->proc), error);
}

int s4g_runner_get_exit_status(S4gRunner *self)
{
    g_return_val_if_fail(S4G_IS_RUNNER(self) && self->finished, -1);
    return g_subprocess_get_if_exited(self->proc) ? g_subprocess_get_exit_status(self->proc) : -1;
}

int s4g_runner_get_term_sig(S4gRunner *self)
{
    g_return_val_if_fail(S4G_IS_RUNNER(self) && self->finished, 0);
    return g_subprocess_get_if_signaled(self->proc) ? g_subprocess_get_term_sig(self->proc) : 0;
}

const char *s4g_runner_get_last_line(S4gRunner *self)
{
    g_return_val_if_fail(S4G_IS_RUNNER(self), NULL);
    return self->last_line;
}

char *s4g_runner_get_stderr_tail(S4gRunner *self)
{
    g_return_val_if_fail(S4G_IS_RUNNER(self), NULL);
    GString *s = g_string_new(NULL);
    for (GList *l = self->err_lines.head; l; l = l->next)
        g_string_append_printf(s, "%s%s", s->len ? "\n" : "", (char *)l->data);
    return g_string_free(s, FALSE);
}

char *s4g_runner_find_s4g(void)
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

static void finalize(GObject *o)
{
    S4gRunner *self = S4G_RUNNER(o);
    /* pending reads, the exit wait and the kill timer all hold a reference: none is left */
    g_clear_object(&self->out);
    g_clear_object(&self->err);
    g_clear_object(&self->proc);
    g_free(self->last_line);
    g_queue_clear_full(&self->err_lines, g_free);
    G_OBJECT_CLASS(s4g_runner_parent_class)->finalize(o);
}

static void s4g_runner_class_init(S4gRunnerClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = finalize;
    signals[SIGNAL_STDOUT_LINE] =
        g_signal_new("stdout-line", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
    signals[SIGNAL_STDERR_LINE] =
        g_signal_new("stderr-line", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
    signals[SIGNAL_FINISHED] = g_signal_new("finished", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                            0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void s4g_runner_init(S4gRunner *self)
{
    g_queue_init(&self->err_lines);
}

S4gRunner *s4g_runner_new(guint kill_grace_ms)
{
    S4gRunner *self = g_object_new(S4G_TYPE_RUNNER, NULL);
    self->kill_grace_ms = kill_grace_ms;
    return self;
}
