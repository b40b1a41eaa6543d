/* test-store-reliability.c — issue 17: 20 processes opening the same new project at once all
 * succeed (migrations inside BEGIN IMMEDIATE); migration 3 keeps the runs and what refers to
 * them; a run whose process died (its lock free) becomes interrupted on the next open while a
 * live owner's run stays running; *.tmp-PID leftovers of dead processes are removed, a live
 * process's kept; a writer holding the database longer than the old 10 s timeout makes the
 * others wait, not fail. */
#include "s4g-store-locks.h"
#include "s4g-store-private.h"
#include "s4g-store-runs.h"
#include "s4g-store-test.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* Forks a child that waits for the parent to close the write end of the pipe `gate` and then
 * runs fn(dir); the child exits with fn's status. */
static pid_t fork_gated(const int gate[2], int (*fn)(const char *), const char *dir)
{
    pid_t pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        char c;
        close(gate[1]);
        while (read(gate[0], &c, 1) > 0) {}
        _exit(fn(dir));
    }
    return pid;
}

static int open_new_project(const char *dir)
{
    g_autoptr(GError) error = NULL;
    S4gStore *s = s4g_store_open(dir, TRUE, &error);
    if (!s) {
        g_printerr("child %d: %s\n", (int)getpid(), error->message);
        return 1;
    }
    int ok = s4g_store_schema_version(s) == s4g_store_latest_version();
    s4g_store_close(s);
    return ok ? 0 : 2;
}

static void test_concurrent_first_open(void)
{
    enum { N = 20 };
    for (int round = 0; round < 3; round++) {
        g_autofree char *tmp = tmp_project();
        g_autofree char *dir = g_build_filename(tmp, "new", NULL);
        int gate[2];
        g_assert_cmpint(pipe(gate), ==, 0);
        pid_t kids[N];
        for (int i = 0; i < N; i++)
            kids[i] = fork_gated(gate, open_new_project, dir);
        close(gate[0]);
        close(gate[1]); /* all start at once */
        int failed = 0;
        for (int i = 0; i < N; i++) {
            int status = 0;
            g_assert_cmpint(waitpid(kids[i], &status, 0), ==, kids[i]);
            failed += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        g_assert_cmpint(failed, ==, 0);
        g_autoptr(GError) error = NULL;
        g_autoptr(S4gStore) s = s4g_store_open(dir, FALSE, &error);
        g_assert_no_error(error);
        g_assert_cmpint(count(s, "SELECT count(*) FROM sqlite_master WHERE name = 'runs'"), ==, 1);
    }
}

/* A project one version before runs could be 'interrupted', with a run, its metrics and an
 * evaluation: the migration that rebuilds runs keeps all of it (no cascade from the rebuild). */
static void test_migration_keeps_runs(void)
{
    g_autofree char *dir = tmp_project();
    g_autoptr(GError) error = NULL;
    {
        g_autoptr(S4gStore) s = s4g_store_open(dir, TRUE, &error);
        g_assert_no_error(error);
        g_assert_true(s4g_store_exec(
            s,
            "INSERT INTO datasets (id, name, kind, root) VALUES (1, 'w', 'synthetic', '/w');"
            "INSERT INTO runs (id, dataset, config, state, checkpoint) "
            "  VALUES (7, 1, '{\"x\": 1}', 'stopped', 'models/a-last.safetensors');"
            "INSERT INTO metrics (run, step, epoch, loss) VALUES (7, 1, 0.5, 2.0), (7, 2, 1, 1.5);"
            "INSERT INTO evaluations (run, dataset, split, epoch, r1) VALUES (7, 1, 'val', 1, 50);"
            "PRAGMA foreign_keys = OFF;"
            "BEGIN;"
            "CREATE TABLE runs_v2 (id INTEGER PRIMARY KEY, model INTEGER, dataset INTEGER,"
            "  config TEXT NOT NULL DEFAULT '{}', state TEXT NOT NULL CHECK (state IN "
            "  ('queued','running','stopped','failed','done')), checkpoint TEXT, pid INTEGER,"
            "  started TEXT, finished TEXT, message TEXT);"
            "INSERT INTO runs_v2 SELECT * FROM runs; DROP TABLE runs;"
            "ALTER TABLE runs_v2 RENAME TO runs; COMMIT;",
            &error));
        g_autofree char *back =
            g_strdup_printf("PRAGMA user_version = %d", s4g_store_latest_version() - 1);
        g_assert_true(s4g_store_exec(s, back, &error));
        g_assert_no_error(error);
    }
    g_autoptr(S4gStore) s = s4g_store_open(dir, FALSE, &error);
    g_assert_no_error(error);
    g_assert_cmpint(s4g_store_schema_version(s), ==, s4g_store_latest_version());
    g_autoptr(S4gRunRow) r = s4g_store_run_get(s, 7, &error);
    g_assert_no_error(error);
    g_assert_cmpint(r->state, ==, S4G_RUN_STOPPED);
    g_assert_cmpstr(r->checkpoint, ==, "models/a-last.safetensors");
    g_assert_cmpstr(r->config, ==, "{\"x\": 1}");
    g_assert_cmpint(count(s, "SELECT count(*) FROM metrics WHERE run = 7"), ==, 2);
    g_assert_cmpint(count(s, "SELECT count(*) FROM evaluations WHERE run = 7"), ==, 1);
    g_assert_cmpint(count(s, "SELECT count(*) FROM pragma_foreign_key_check"), ==, 0);
    /* the new state is accepted now, and foreign keys are on again after migrating */
    g_assert_true(s4g_store_run_interrupt(s, 7, "x", NULL, &error));
    g_assert_true(s4g_store_run_set_state(s, 7, S4G_RUN_RUNNING, 1, NULL, &error));
    g_assert_cmpint(count(s, "PRAGMA foreign_keys"), ==, 1);
}

static gint64 g_run; /* the run a locking child owns */

/* Child: takes the run's lock, marks it running, then waits to be killed. */
static int own_run_forever(const char *dir)
{
    g_autoptr(GError) error = NULL;
    S4gStore *s = s4g_store_open(dir, FALSE, &error);
    if (!s) return 1;
    S4gRunLock *lock = s4g_run_lock_take(s, g_run, &error);
    if (!lock || !s4g_store_run_set_state(s, g_run, S4G_RUN_RUNNING, getpid(), NULL, &error))
        return 2;
    g_autofree char *ready = g_build_filename(dir, "ready", NULL);
    g_file_set_contents(ready, "", 0, NULL);
    for (;;) pause();
}

static void wait_for_file(const char *path)
{
    /* the child writes it once it holds the lock; waitpid would say if it died first */
    while (!g_file_test(path, G_FILE_TEST_EXISTS)) g_usleep(1000);
}

static void test_dead_owner_interrupted(void)
{
    g_autofree char *dir = tmp_project();
    g_autoptr(GError) error = NULL;
    {
        g_autoptr(S4gStore) s = s4g_store_open(dir, TRUE, &error);
        g_assert_no_error(error);
        g_run = s4g_store_run_add(s, 0, 0, "{}", &error);
        g_assert_cmpint(g_run, >, 0);
    }
    int gate[2];
    g_assert_cmpint(pipe(gate), ==, 0);
    pid_t owner = fork_gated(gate, own_run_forever, dir);
    close(gate[0]);
    close(gate[1]);
    g_autofree char *ready = g_build_filename(dir, "ready", NULL);
    wait_for_file(ready);

    /* leftovers: one of a process that is gone, one of the live owner */
    pid_t gone = fork();
    if (gone == 0) _exit(0);
    g_assert_cmpint(waitpid(gone, NULL, 0), ==, gone);
    g_autofree char *dead_tmp = g_strdup_printf("%s/models/a-last.safetensors.tmp-%d", dir, gone);
    g_autofree char *live_tmp =
        g_strdup_printf("%s/models/a-last.safetensors.tmp-%d", dir, (int)owner);
    g_assert_true(g_file_set_contents(dead_tmp, "x", 1, NULL));
    g_assert_true(g_file_set_contents(live_tmp, "x", 1, NULL));

    {
        /* the owner lives: its run stays running, its file stays; a resumer is refused */
        g_autoptr(S4gStore) s = s4g_store_open(dir, FALSE, &error);
        g_assert_no_error(error);
        g_autoptr(S4gRunRow) r = s4g_store_run_get(s, g_run, &error);
        g_assert_cmpint(r->state, ==, S4G_RUN_RUNNING);
        gint64 pid = 0;
        g_assert_true(s4g_run_lock_held(s, g_run, &pid));
        g_assert_cmpint(pid, ==, owner);
        g_assert_null(s4g_run_lock_take(s, g_run, &error));
        g_assert_nonnull(strstr(error->message, "is running in process"));
        g_clear_error(&error);
        g_assert_false(g_file_test(dead_tmp, G_FILE_TEST_EXISTS));
        g_assert_true(g_file_test(live_tmp, G_FILE_TEST_EXISTS));
    }
    kill(owner, SIGKILL);
    g_assert_cmpint(waitpid(owner, NULL, 0), ==, owner);
    {
        /* dead: the next open interrupts the run and removes its leftover */
        g_autoptr(S4gStore) s = s4g_store_open(dir, FALSE, &error);
        g_assert_no_error(error);
        g_autoptr(S4gRunRow) r = s4g_store_run_get(s, g_run, &error);
        g_assert_cmpint(r->state, ==, S4G_RUN_INTERRUPTED);
        g_autofree char *want = g_strdup_printf("process %d ended", (int)owner);
        g_assert_nonnull(strstr(r->message, want));
        g_assert_false(g_file_test(live_tmp, G_FILE_TEST_EXISTS));
        /* and it resumes: the lock is free, interrupted → running is allowed */
        g_autoptr(S4gRunLock) lock = s4g_run_lock_take(s, g_run, &error);
        g_assert_no_error(error);
        g_assert_true(s4g_store_run_set_state(s, g_run, S4G_RUN_RUNNING, getpid(), NULL, &error));
        /* held by this process through another descriptor: not interrupted */
        g_autoptr(S4gStore) again = s4g_store_open(dir, FALSE, &error);
        g_autoptr(S4gRunRow) r2 = s4g_store_run_get(again, g_run, &error);
        g_assert_cmpint(r2->state, ==, S4G_RUN_RUNNING);
    }
}

static int write_after_gate(const char *dir)
{
    g_autoptr(GError) error = NULL;
    S4gStore *s = s4g_store_open(dir, FALSE, &error);
    gboolean ok = s && s4g_store_run_add(s, 0, 0, "{}", &error) > 0;
    if (!ok) g_printerr("writer: %s\n", error->message);
    s4g_store_close(s);
    return ok ? 0 : 1;
}

/* A writer holds the write lock for 11 s (past the old busy timeout of 10 s): the other
 * process waits and then succeeds. */
static void test_writer_waits(void)
{
    if (!g_test_slow()) {
        g_test_skip("holds the database 11 s; run with -m slow");
        return;
    }
    g_autofree char *dir = tmp_project();
    g_autoptr(GError) error = NULL;
    open_new_project(dir);
    /* fork before this process opens the database: SQLite connections must not cross fork() */
    int gate[2];
    g_assert_cmpint(pipe(gate), ==, 0);
    pid_t w = fork_gated(gate, write_after_gate, dir);
    g_autoptr(S4gStore) s = s4g_store_open(dir, FALSE, &error);
    g_assert_no_error(error);
    g_assert_true(s4g_store_begin(s, &error));
    close(gate[0]);
    close(gate[1]);
    g_usleep(11 * G_USEC_PER_SEC);
    g_assert_true(s4g_store_commit(s, &error));
    int status = 0;
    g_assert_cmpint(waitpid(w, &status, 0), ==, w);
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    g_assert_cmpint(count(s, "SELECT count(*) FROM runs"), ==, 1);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/store/concurrent-first-open", test_concurrent_first_open);
    g_test_add_func("/store/migration-keeps-runs", test_migration_keeps_runs);
    g_test_add_func("/store/dead-owner-interrupted", test_dead_owner_interrupted);
    g_test_add_func("/store/writer-waits", test_writer_waits);
    return g_test_run();
}
