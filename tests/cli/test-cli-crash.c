/* test-cli-crash.c — crash consistency (issue 17): `s4g train` on the tiny synthetic world of
 * cli-train, killed with SIGKILL at chosen points by the test-only hook S4G_TEST_KILL_AT
 * (after a step, after an evaluation row, after a mining run, after the checkpoint rename
 * and before its row), then resumed with `s4g train --resume 1`, ends with a final checkpoint
 * byte-equal to an uninterrupted run's, one evaluation per epoch, one mining run per
 * (epoch, kind) and one metrics row per step.  The opener marks the killed run interrupted,
 * removes a planted *.tmp-PID leftover, and a new run under the same model name is told to
 * resume instead.  A non-finite loss fails the run with a message. */
#include "s4g-store-runs.h"
#include "s4g-store-private.h"

#include <gio/gio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../compute/s4g-test-files.h"
#include "../store/s4g-store-test.h"

static const char *s4g_path;
static char *tmp, *world, *reference; /* reference: the uninterrupted run's last checkpoint */

static const char *const train_flags[] = {
    "--ground-size", "32x96", "--satellite-size",   "32x32", "--epochs",          "2",
    "--batch",       "8",     "--eval-every",       "1",     "--neighbour-select", "8",
    "--neighbour-range", "16", "--backend", "cpu",  "--threads", "2", "--json", NULL};

/* s4g train on project `proj` (new run "m", or --resume 1 when resume); kill_at sets the
 * hook.  Returns the wait status. */
static int train(const char *proj, gboolean resume, const char *kill_at)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    const char *head[] = {s4g_path, "train", "--project", proj};
    for (guint i = 0; i < G_N_ELEMENTS(head); i++) g_ptr_array_add(argv, (char *)head[i]);
    if (resume) {
        g_ptr_array_add(argv, "--resume");
        g_ptr_array_add(argv, "1");
        const char *rest[] = {"--backend", "cpu", "--threads", "2", "--json"};
        for (guint i = 0; i < G_N_ELEMENTS(rest); i++) g_ptr_array_add(argv, (char *)rest[i]);
    } else {
        const char *rest[] = {"--dataset", "w", "--model", "m"};
        for (guint i = 0; i < G_N_ELEMENTS(rest); i++) g_ptr_array_add(argv, (char *)rest[i]);
        for (guint i = 0; train_flags[i]; i++) g_ptr_array_add(argv, (char *)train_flags[i]);
    }
    g_ptr_array_add(argv, NULL);
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(
        G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
    if (kill_at)
        g_subprocess_launcher_setenv(l, "S4G_TEST_KILL_AT", kill_at, TRUE);
    else
        g_subprocess_launcher_unsetenv(l, "S4G_TEST_KILL_AT");
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) p =
        g_subprocess_launcher_spawnv(l, (const char *const *)argv->pdata, &error);
    g_assert_no_error(error);
    g_assert_true(g_subprocess_wait(p, NULL, &error));
    return g_subprocess_get_status(p);
}

static char *new_project(const char *name)
{
    char *proj = g_build_filename(tmp, name, NULL);
    const char *imp[] = {s4g_path, "import", "--project", proj,  "--kind",
                         "cvusa",  "--name", "w",         world, NULL};
    g_free(tf_run_ok(imp));
    return proj;
}

static void assert_same_file(const char *a, const char *b)
{
    g_autofree char *ta = NULL, *tb = NULL;
    gsize la = 0, lb = 0;
    g_assert_true(g_file_get_contents(a, &ta, &la, NULL));
    g_assert_true(g_file_get_contents(b, &tb, &lb, NULL));
    g_assert_cmpuint(la, ==, lb);
    g_assert_true(memcmp(ta, tb, la) == 0);
}

static void setup_world(void)
{
    g_autoptr(GError) error = NULL;
    tmp = g_dir_make_tmp("s4g-crash-XXXXXX", &error);
    g_assert_no_error(error);
    world = g_build_filename(tmp, "w", NULL);
    const char *synth[] = {s4g_path, "synth",         "--layout", "cvusa", "--out", world, "-n",
                           "40",     "--image-scale", "0.5",      "-j",    "2",     NULL};
    g_free(tf_run_ok(synth));
    g_autofree char *proj = new_project("ref");
    int status = train(proj, FALSE, NULL);
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    reference = g_build_filename(proj, "models", "m-last.safetensors", NULL);
}

typedef struct {
    const char *kills[3]; /* hook values of successive attempts, each killed */
    gboolean row_behind;  /* the first kill leaves the checkpoint file without its row */
} Case;

static void test_kill_resume(gconstpointer data)
{
    const Case *c = data;
    g_autofree char *name = g_strdup_printf("p-%s", c->kills[0]);
    g_autofree char *proj = new_project(name);
    g_autofree char *last = g_build_filename(proj, "models", "m-last.safetensors", NULL);
    for (guint k = 0; k < G_N_ELEMENTS(c->kills) && c->kills[k]; k++) {
        int status = train(proj, k > 0, c->kills[k]);
        g_assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        g_autoptr(GError) error = NULL;
        /* a leftover of a process that is gone */
        pid_t gone = fork();
        if (gone == 0) _exit(0);
        g_assert_cmpint(waitpid(gone, NULL, 0), ==, gone);
        g_autofree char *left =
            g_strdup_printf("%s/models/m-last.safetensors.tmp-%d", proj, (int)gone);
        g_assert_true(g_file_set_contents(left, "partial", -1, NULL));

        g_autoptr(S4gStore) s = s4g_store_open(proj, FALSE, &error);
        g_assert_no_error(error);
        g_autoptr(S4gRunRow) r = s4g_store_run_get(s, 1, &error);
        g_assert_no_error(error);
        g_assert_cmpint(r->state, ==, S4G_RUN_INTERRUPTED);
        g_assert_nonnull(strstr(r->message, "s4g train --resume 1"));
        g_assert_false(g_file_test(left, G_FILE_TEST_EXISTS));
        if (k == 0 && c->row_behind) {
            g_assert_null(r->checkpoint);
            g_assert_true(g_file_test(last, G_FILE_TEST_IS_REGULAR));
        }
    }
    if (!strncmp(c->kills[0], "step:1", 7)) {
        /* killed in epoch 1: the name is the run's, and the error says how to go on */
        const char *again[] = {s4g_path, "train", "--project", proj,  "--dataset", "w",
                               "--model", "m",    "--batch",   "8",   "--ground-size",
                               "32x96",   "--satellite-size", "32x32", "--backend", "cpu",
                               NULL};
        tf_run_fails(again, "model name “m” belongs to run 1 (interrupted); continue it with "
                            "s4g train --resume 1");
    }
    int status = train(proj, TRUE, NULL);
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_same_file(last, reference);
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gStore) s = s4g_store_open(proj, FALSE, &error);
    g_assert_no_error(error);
    g_autoptr(S4gRunRow) r = s4g_store_run_get(s, 1, &error);
    g_assert_cmpint(r->state, ==, S4G_RUN_DONE);
    g_assert_cmpstr(r->checkpoint, ==, "models/m-last.safetensors");
    g_assert_cmpint(count(s, "SELECT count(*) FROM evaluations WHERE run = 1"), ==, 2);
    g_assert_cmpint(count(s, "SELECT count(DISTINCT epoch) FROM evaluations WHERE run = 1"), ==, 2);
    g_assert_cmpint(count(s, "SELECT count(*) FROM mining_runs WHERE run = 1"), ==, 2);
    g_assert_cmpint(count(s, "SELECT count(*) FROM mining_runs WHERE run = 1 AND "
                             "((kind = 'gps' AND epoch = 0) OR (kind = 'dss' AND epoch = 1))"),
                    ==, 2);
    g_assert_cmpint(count(s, "SELECT count(*) FROM metrics WHERE run = 1"), ==, 8);
    g_assert_cmpint(count(s, "SELECT count(*) FROM models"), ==, 1);
    g_assert_cmpint(count(s, "SELECT count(*) FROM pragma_integrity_check WHERE "
                             "integrity_check != 'ok'"),
                    ==, 0);
}

static void test_nan_loss(void)
{
    g_autofree char *proj = new_project("nan");
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    const char *head[] = {s4g_path, "train", "--project", proj, "--dataset", "w", "--model", "m",
                          "--lr", "1e30"};
    for (guint i = 0; i < G_N_ELEMENTS(head); i++) g_ptr_array_add(argv, (char *)head[i]);
    for (guint i = 0; train_flags[i]; i++) g_ptr_array_add(argv, (char *)train_flags[i]);
    g_ptr_array_add(argv, NULL);
    tf_run_fails((const char *const *)argv->pdata, "training stopped (lower the learning rate?)");
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gStore) s = s4g_store_open(proj, FALSE, &error);
    g_autoptr(S4gRunRow) r = s4g_store_run_get(s, 1, &error);
    g_assert_no_error(error);
    g_assert_cmpint(r->state, ==, S4G_RUN_FAILED);
    g_assert_true(strstr(r->message, "the loss is NaN") || strstr(r->message, "the loss is infinite"));
}

static void test_hook_parse(void)
{
    g_autofree char *proj = new_project("hook");
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    const char *head[] = {s4g_path, "train", "--project", proj, "--dataset", "w"};
    for (guint i = 0; i < G_N_ELEMENTS(head); i++) g_ptr_array_add(argv, (char *)head[i]);
    g_ptr_array_add(argv, NULL);
    g_setenv("S4G_TEST_KILL_AT", "checkpoint:1", TRUE);
    tf_run_fails((const char *const *)argv->pdata, "S4G_TEST_KILL_AT=checkpoint:1: expected POINT:N");
    g_unsetenv("S4G_TEST_KILL_AT");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    s4g_path = tf_s4g_argument(argc, argv);
    setup_world();
    static const Case cases[] = {
        {{"step:1"}, FALSE},           /* epoch 1, no checkpoint yet: starts over */
        {{"step:6"}, FALSE},           /* mid epoch 2: from epoch 2's start */
        {{"eval:1"}, FALSE},           /* evaluation row stored, no checkpoint */
        {{"eval:2"}, FALSE},
        {{"mine:1"}, FALSE},           /* the GPS table of epoch 0 */
        {{"mine:2"}, FALSE},           /* the DSS table after epoch 1 */
        {{"checkpoint-write:1"}, TRUE}, /* file renamed, row not written */
        {{"checkpoint-write:2"}, FALSE}, /* same name: the row cannot lag */
        {{"step:3", "eval:1", "mine:1"}, FALSE}, /* killed again while resuming, twice */
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path = g_strdup_printf("/cli/crash/%s%s", cases[i].kills[0],
                                                cases[i].kills[1] ? "-again" : "");
        g_test_add_data_func(path, &cases[i], test_kill_resume);
    }
    g_test_add_func("/cli/crash/nan-loss", test_nan_loss);
    g_test_add_func("/cli/crash/hook-parse", test_hook_parse);
    int rc = g_test_run();
    tf_rmtree(tmp);
    return rc;
}
