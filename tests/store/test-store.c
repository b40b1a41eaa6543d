/* test-store.c — the project database: migrations from empty, typed access for runs and
 * friends, crash safety (a child SIGKILLed during heavy writes leaves whole transactions
 * only), and a reader and a writer connection at once. */
#include "s4g-store-runs.h"
#include "s4g-store-private.h"
#include "s4g-store-test.h"

#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static gint64 add_dataset_and_images(S4gStore *s, int n_images)
{
    g_assert_true(s4g_store_exec(
        s, "INSERT INTO datasets (name, kind, root) VALUES ('w', 'synthetic', '/tmp/w')", NULL));
    gint64 ds = sqlite3_last_insert_rowid(s4g_store_db(s));
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        s, "INSERT INTO images (dataset, view, path, split) VALUES (?, 'ground', ?, 'train')",
        NULL);
    for (int i = 0; i < n_images; i++) {
        g_autofree char *p = g_strdup_printf("g%04d.jpg", i);
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, ds);
        sqlite3_bind_text(st, 2, p, -1, SQLITE_TRANSIENT);
        g_assert_cmpint(sqlite3_step(st), ==, SQLITE_DONE);
    }
    return ds;
}

static void test_migrations(void)
{
    g_autofree char *dir = tmp_project();
    g_autoptr(GError) error = NULL;
    g_autofree char *missing = g_build_filename(dir, "nope", NULL);
    g_assert_null(s4g_store_open(missing, FALSE, &error));
    g_assert_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_NOT_FOUND);
    g_clear_error(&error);
    {
        g_autoptr(S4gStore) s = s4g_store_open(dir, TRUE, &error);
        g_assert_no_error(error);
        g_assert_cmpint(s4g_store_schema_version(s), ==, s4g_store_latest_version());
        g_assert_cmpint(count(s, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                 "name IN ('models','runs','metrics','evaluations','embeddings',"
                                 "'mining_runs','hard_negatives','predictions')"),
                        ==, 8);
    }
    /* reopening applies nothing and keeps the version */
    g_autoptr(S4gStore) s = s4g_store_open(dir, FALSE, &error);
    g_assert_no_error(error);
    g_assert_cmpint(s4g_store_schema_version(s), ==, s4g_store_latest_version());
    /* a newer database is refused */
    g_assert_true(s4g_store_exec(s, "PRAGMA user_version = 999", NULL));
    g_autoptr(S4gStore) s2 = s4g_store_open(dir, FALSE, &error);
    g_assert_null(s2);
    g_assert_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_VERSION);
}

static void test_runs_and_friends(void)
{
    g_autofree char *dir = tmp_project();
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gStore) s = s4g_store_open(dir, TRUE, &error);
    gint64 ds = add_dataset_and_images(s, 7);

    gint64 m = s4g_store_model_add(s, "atto-1", "{\"depths\":[2,2,6,2]}", "models/a.safetensors", 0,
                                   &error);
    g_assert_no_error(error);
    g_assert_cmpint(m, >, 0);
    g_assert_cmpint(s4g_store_model_add(s, "atto-1", "{}", "x", 0, &error), ==, 0);
    g_assert_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_SQL);
    g_clear_error(&error);
    g_assert_true(s4g_store_model_set_weights(s, m, "models/best.safetensors", &error));
    g_autoptr(S4gModelRow) mr = s4g_store_model_get(s, 0, "atto-1", &error);
    g_assert_cmpstr(mr->weights, ==, "models/best.safetensors");
    g_assert_null(s4g_store_model_get(s, 4242, NULL, &error));
    g_assert_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_NOT_FOUND);
    g_clear_error(&error);

    gint64 run = s4g_store_run_add(s, m, ds, "{\"epochs\":3}", &error);
    g_assert_no_error(error);
    g_autoptr(S4gRunRow) r0 = s4g_store_run_get(s, run, &error);
    g_assert_cmpint(r0->state, ==, S4G_RUN_QUEUED);
    g_assert_null(r0->started);
    g_assert_false(s4g_store_run_set_state(s, run, S4G_RUN_DONE, 0, NULL, &error));
    g_assert_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_true(s4g_store_run_set_state(s, run, S4G_RUN_RUNNING, 1234, NULL, &error));
    g_assert_true(s4g_store_run_set_state(s, run, S4G_RUN_STOPPED, 0, "interrupted", &error));
    g_assert_true(s4g_store_run_set_state(s, run, S4G_RUN_RUNNING, 99, NULL, &error));
    g_assert_true(s4g_store_run_set_state(s, run, S4G_RUN_DONE, 0, NULL, &error));
    g_assert_false(s4g_store_run_set_state(s, run, S4G_RUN_RUNNING, 0, NULL, &error));
    g_clear_error(&error);
    g_assert_true(s4g_store_run_set_checkpoint(s, run, "models/run1-last.safetensors", &error));
    g_autoptr(S4gRunRow) r1 = s4g_store_run_get(s, run, &error);
    g_assert_cmpint(r1->state, ==, S4G_RUN_DONE);
    g_assert_nonnull(r1->started);
    g_assert_nonnull(r1->finished);
    g_assert_cmpstr(r1->checkpoint, ==, "models/run1-last.safetensors");

    S4gMetricRow rows[3] = {{1, 0.1, 4.1, 0.0, 2.65, 10, 1},
                            {2, 0.2, 3.9, 1e-4, 2.66, 11, 2},
                            {3, 0.3, NAN, 2e-4, 2.67, 12, 3}};
    g_assert_true(s4g_store_metrics_add(s, run, rows, 3, &error));
    rows[1].loss = 3.5; /* replacing a step (resume) */
    g_assert_true(s4g_store_metrics_add(s, run, &rows[1], 1, &error));
    g_autoptr(GArray) ml = s4g_store_metrics_list(s, run, 1, &error);
    g_assert_cmpuint(ml->len, ==, 2);
    g_assert_cmpfloat(g_array_index(ml, S4gMetricRow, 0).loss, ==, 3.5);
    g_assert_true(isnan(g_array_index(ml, S4gMetricRow, 1).loss));

    S4gEvaluationRow e = {.model = m,
                          .run = run,
                          .dataset = ds,
                          .split = "test",
                          .epoch = 2,
                          .r1 = 12.5,
                          .r5 = 40,
                          .r10 = 60,
                          .r1pct = 0,
                          .hit_rate = NAN,
                          .ap = NAN,
                          .queries = 33,
                          .refs = 33};
    g_assert_cmpint(s4g_store_evaluation_add(s, &e, &error), >, 0);
    g_autoptr(GPtrArray) ev = s4g_store_evaluation_list(s, m, &error);
    g_assert_cmpuint(ev->len, ==, 1);
    S4gEvaluationRow *e0 = ev->pdata[0];
    g_assert_cmpfloat(e0->r1, ==, 12.5);
    g_assert_true(isnan(e0->ap));
    g_assert_cmpint(e0->epoch, ==, 2);

    /* embeddings: f32 exact, f16 within half precision */
    const gint64 imgs[2] = {1, 2};
    float v[2 * 7];
    for (int i = 0; i < 14; i++)
        v[i] = (float)sin(i * 0.7) * (i == 3 ? 1e-6f : 1.f);
    g_assert_true(s4g_store_embeddings_put(s, m, 2, imgs, 7, v, S4G_EMB_F32, TRUE, &error));
    int dim = 0;
    g_autofree float *g1 = s4g_store_embedding_get(s, m, 1, &dim, &error);
    g_assert_cmpint(dim, ==, 7);
    g_assert_cmpmem(g1, 28, v, 28);
    g_assert_true(s4g_store_embeddings_put(s, m, 2, imgs, 7, v, S4G_EMB_F16, TRUE, &error));
    g_autofree float *g2 = s4g_store_embedding_get(s, m, 2, &dim, &error);
    for (int i = 0; i < 7; i++)
        g_assert_cmpfloat_with_epsilon(g2[i], v[7 + i], 1e-3 * fabsf(v[7 + i]) + 1e-7);
    g_autofree float *g3 = s4g_store_embedding_get(s, m, 1, &dim, &error);
    /* a subnormal half: steps of 2^-24 ≈ 6e-8, so within half a step */
    g_assert_cmpfloat_with_epsilon(g3[3], v[3], 2.99e-8);
    g_assert_cmpint(count(s, "SELECT length(vector) FROM embeddings WHERE image = 1"), ==, 14);

    /* mining + hard negatives */
    const gint64 anchors[3] = {1, 2, 3};
    const guint counts[3] = {2, 0, 3};
    const gint64 negs[9] = {4, 5, -1, -1, -1, -1, 6, 7, 1};
    const float sc[9] = {.9f, .8f, 0, 0, 0, 0, .7f, .6f, .5f};
    gint64 mr_id = s4g_store_mining_add(s, "dss", m, run, ds, 4, "{\"k\":3}", 3, anchors, 3, counts,
                                        negs, sc, &error);
    g_assert_no_error(error);
    g_assert_cmpint(s4g_store_mining_count(s, mr_id, &error), ==, 5);
    /* a bad row (unknown image) rolls back the whole mining run */
    const gint64 bad[3] = {4, 999999, 5};
    const guint c1[1] = {3};
    g_assert_cmpint(
        s4g_store_mining_add(s, "gps", 0, 0, ds, -1, NULL, 1, anchors, 3, c1, bad, NULL, &error),
        ==, 0);
    g_assert_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_SQL);
    g_clear_error(&error);
    g_assert_cmpint(count(s, "SELECT count(*) FROM mining_runs"), ==, 1);

    /* predictions replace */
    S4gPredictionRow pr[3] = {{3, 0.9, 41.0, -87.0}, {4, 0.8, 41.1, -87.1}, {5, 0.7, NAN, NAN}};
    g_assert_true(s4g_store_predictions_put(s, m, 1, "test", pr, 3, &error));
    g_assert_true(s4g_store_predictions_put(s, m, 1, "test", pr + 1, 2, &error));
    g_autoptr(GArray) pg = s4g_store_predictions_get(s, m, 1, "test", &error);
    g_assert_cmpuint(pg->len, ==, 2);
    g_assert_cmpint(g_array_index(pg, S4gPredictionRow, 0).reference, ==, 4);
    g_assert_true(isnan(g_array_index(pg, S4gPredictionRow, 1).lat));
}

#define ANCHORS 40
#define K 25

/* The child: mining runs of ANCHORS×K hard negatives plus a block of metrics rows, as fast
 * as it can, until killed. */
static void child_write_forever(const char *dir, gint64 ds, gint64 run)
{
    g_autoptr(S4gStore) s = s4g_store_open(dir, FALSE, NULL);
    if (!s) _exit(3);
    gint64 anchors[ANCHORS], negs[ANCHORS * K];
    guint counts[ANCHORS];
    float sc[ANCHORS * K];
    for (int a = 0; a < ANCHORS; a++) {
        anchors[a] = 1 + a;
        counts[a] = K;
        for (int r = 0; r < K; r++)
            negs[a * K + r] = 1 + (a + r + 1) % 64, sc[a * K + r] = 1.f / (r + 1);
    }
    for (gint64 step = 0;; step += 10) {
        if (!s4g_store_mining_add(s, "dss", 0, run, ds, step, NULL, ANCHORS, anchors, K, counts,
                                  negs, sc, NULL))
            _exit(4);
        S4gMetricRow rows[10];
        for (int i = 0; i < 10; i++)
            rows[i] = (S4gMetricRow){step + i, 0, 1, 1, 1, 1, 1};
        if (!s4g_store_metrics_add(s, run, rows, 10, NULL)) _exit(5);
    }
}

static void test_kill_during_writes(void)
{
    g_autofree char *dir = tmp_project();
    g_autoptr(GError) error = NULL;
    gint64 ds, run;
    {
        g_autoptr(S4gStore) s = s4g_store_open(dir, TRUE, &error);
        ds = add_dataset_and_images(s, 64);
        run = s4g_store_run_add(s, 0, ds, NULL, &error);
    }
    for (int round = 0; round < 3; round++) {
        pid_t pid = fork();
        g_assert_cmpint(pid, >=, 0);
        if (pid == 0) child_write_forever(dir, ds, run);
        /* a reader watches until the child has committed a few transactions, then kills it
         * at an arbitrary point (the sleep varies the moment) */
        g_autoptr(S4gStore) reader = s4g_store_open(dir, FALSE, &error);
        g_assert_no_error(error);
        gint64 start = count(reader, "SELECT count(*) FROM mining_runs");
        gint64 t0 = g_get_monotonic_time();
        while (count(reader, "SELECT count(*) FROM mining_runs") < start + 3) {
            g_assert_cmpint(g_get_monotonic_time() - t0, <, 20 * G_USEC_PER_SEC);
            g_usleep(2000);
        }
        g_usleep(1000 * (1 + round * 7));
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        g_assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        s4g_store_close(g_steal_pointer(&reader));

        g_autoptr(S4gStore) s = s4g_store_open(dir, FALSE, &error);
        g_assert_no_error(error);
        g_autoptr(sqlite3_stmt) ic = s4g_store_prepare(s, "PRAGMA integrity_check", NULL);
        g_assert_cmpint(sqlite3_step(ic), ==, SQLITE_ROW);
        g_assert_cmpstr((const char *)sqlite3_column_text(ic, 0), ==, "ok");
        gint64 runs = count(s, "SELECT count(*) FROM mining_runs");
        g_assert_cmpint(runs, >=, start + 3);
        /* whole transactions only: every mining run has all its rows */
        g_assert_cmpint(count(s, "SELECT count(*) FROM hard_negatives"), ==, runs * ANCHORS * K);
        g_assert_cmpint(count(s, "SELECT count(*) FROM (SELECT mining_run, count(*) AS c FROM "
                                 "hard_negatives GROUP BY mining_run) WHERE c != 1000"),
                        ==, 0);
        g_assert_cmpint(count(s, "SELECT count(*) FROM metrics") % 10, ==, 0);
    }
}

static void test_reader_and_writer(void)
{
    g_autofree char *dir = tmp_project();
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gStore) w = s4g_store_open(dir, TRUE, &error);
    gint64 ds = add_dataset_and_images(w, 3);
    gint64 run = s4g_store_run_add(w, 0, ds, NULL, &error);
    g_autoptr(S4gStore) r = s4g_store_open(dir, FALSE, &error);
    g_assert_no_error(error);
    S4gMetricRow rows[50];
    for (int i = 0; i < 50; i++)
        rows[i] = (S4gMetricRow){i, i / 10.0, 5.0 - i * 0.01, 1e-3, 2.6, 100, i};
    g_assert_true(s4g_store_metrics_add(w, run, rows, 50, &error));
    /* The reader holds a read transaction open mid-iteration while the writer commits:
     * WAL lets both proceed, and the reader's snapshot stays at 50 rows. */
    g_autoptr(sqlite3_stmt) st =
        s4g_store_prepare(r, "SELECT step FROM metrics WHERE run = ? ORDER BY step", &error);
    sqlite3_bind_int64(st, 1, run);
    int seen = 0;
    for (; seen < 20; seen++)
        g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
    for (int i = 0; i < 50; i++)
        rows[i].step += 50;
    g_assert_true(s4g_store_metrics_add(w, run, rows, 50, &error));
    g_assert_no_error(error);
    while (sqlite3_step(st) == SQLITE_ROW)
        seen++;
    g_assert_cmpint(seen, ==, 50);
    sqlite3_reset(st);
    g_autoptr(GArray) all = s4g_store_metrics_list(r, run, -1, &error);
    g_assert_cmpuint(all->len, ==, 100);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/store/migrations", test_migrations);
    g_test_add_func("/store/runs-and-friends", test_runs_and_friends);
    g_test_add_func("/store/kill-during-writes", test_kill_during_writes);
    g_test_add_func("/store/reader-and-writer", test_reader_and_writer);
    return g_test_run();
}
