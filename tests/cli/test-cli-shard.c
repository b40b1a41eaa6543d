/* test-cli-shard.c — sharded search under MPI: `mpirun -np 2 s4g eval` and `mpirun -np 2 s4g
 * predict` (each process holds one shard of the references / gallery tiles, top-k lists
 * merged, rank counts summed) give exactly the one-process results: the same recall, the
 * same predictions byte for byte (scores, order, estimate), for a weights file (embeddings
 * encoded by shard) and for a project model (through the embeddings cache).
 *
 * A tie across the shard boundary is built in: the tiles are sharded in units of 4 rows
 * (S4G_SEARCH_CHUNK_ROWS=4 and --batch 4, s4g_gallery_shard), so with 40 tiles rank 0
 * holds rows 0..19 and rank 1 rows 20..39; tile 20's image is copied over tile 16's (the same
 * place in their encode batches and scan blocks, so the same embedding and score), and the
 * merged top-40 must list tile 16 right before tile 20 with the same score, as one process
 * does (the lower index first among equal scores).
 *
 * `s4g bench --train-scaling` / `--search` under mpirun report their figures (checked for
 * consistency, not speed).
 *
 * Stopping: SIGUSR1 to mpirun stops every rank after the same step with one checkpoint and
 * exit status 0; SIGKILL to one rank ends the job with Open MPI's message naming the rank and
 * the signal, the run failed or interrupted, the database intact.  Both wait on events (the
 * first step in the output, the processes' exits), never on a clock.
 *
 * Arguments: the s4g program, mpirun. */
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "../compute/s4g-test-files.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>

static const char *s4g_path, *mpirun_path;

/* The satellite image paths of the project (relative to the dataset root), by id: the
 * predictor's tile order. */
static GPtrArray *satellite_paths(const char *proj)
{
    g_autofree char *db = g_build_filename(proj, "project.s4g", NULL);
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    g_assert_cmpint(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_prepare_v2(h, "SELECT path FROM images WHERE view = 'satellite' "
                                          "ORDER BY id",
                                       -1, &st, NULL),
                    ==, SQLITE_OK);
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    while (sqlite3_step(st) == SQLITE_ROW)
        g_ptr_array_add(a, g_strdup((const char *)sqlite3_column_text(st, 0)));
    sqlite3_finalize(st);
    sqlite3_close(h);
    return a;
}

static gint64 count_rows(const char *proj, const char *sql)
{
    g_autofree char *db = g_build_filename(proj, "project.s4g", NULL);
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    g_assert_cmpint(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_prepare_v2(h, sql, -1, &st, NULL), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
    gint64 n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return n;
}

/* Runs s4g with args (NULL-terminated), under `mpirun -np np` when np > 0. */
static char *run_np(int np, const char *const *args)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autofree char *nps = g_strdup_printf("%d", np);
    if (np > 0) {
        g_ptr_array_add(argv, (gpointer)mpirun_path);
        g_ptr_array_add(argv, (gpointer)"-np");
        g_ptr_array_add(argv, nps);
    }
    g_ptr_array_add(argv, (gpointer)s4g_path);
    for (int i = 0; args[i]; i++)
        g_ptr_array_add(argv, (gpointer)args[i]);
    g_ptr_array_add(argv, NULL);
    return tf_run_ok((const char *const *)argv->pdata);
}

static JsonObject *parse_object(JsonParser *p, const char *text)
{
    g_autoptr(GError) error = NULL;
    g_assert_true(json_parser_load_from_data(p, text, -1, &error));
    g_assert_no_error(error);
    return json_node_get_object(json_parser_get_root(p));
}

/* `s4g eval --json` of model on split, one process or np under mpirun: the recall fields
 * must be equal (not close). */
static void assert_same_eval(const char *proj, const char *model, const char *split)
{
    const char *args[] = {"eval",    "-p",   proj,          "-d",     "w",         "-m",
                          model,     "-s",   split,         "--batch", "4",        "--ground-size",
                          "32x96",   "--satellite-size",    "32x32",  "--backend", "cpu",
                          "--threads", "1",  "--json",      NULL};
    g_autofree char *one = run_np(0, args), *two = run_np(2, args);
    g_autoptr(JsonParser) p1 = json_parser_new(), p2 = json_parser_new();
    JsonObject *a = parse_object(p1, one), *b = parse_object(p2, two);
    g_assert_cmpint(json_object_get_int_member(b, "processes"), ==, 2);
    g_assert_false(json_object_has_member(a, "processes"));
    const char *ints[] = {"queries", "refs"};
    for (guint i = 0; i < G_N_ELEMENTS(ints); i++)
        g_assert_cmpint(json_object_get_int_member(b, ints[i]), ==,
                        json_object_get_int_member(a, ints[i]));
    g_assert_cmpint(json_object_get_int_member(a, "refs"), >=, 8);
    const char *fields[] = {"r1", "r5", "r10", "r1pct"};
    for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
        double x = json_object_get_double_member(a, fields[i]),
               y = json_object_get_double_member(b, fields[i]);
        g_test_message("eval %s %s: %s %.17g (1 process) vs %.17g (2)", model, split, fields[i],
                       x, y);
        g_assert_cmpfloat(y, ==, x);
    }
}

/* `s4g predict --json --top 40` of two photos: the whole ranking of the 40 tiles. */
static char *predict_np(int np, const char *proj, const char *model, const char *world)
{
    g_autofree char *p1 = g_build_filename(world, "streetview", "panos", "0000001.jpg", NULL);
    g_autofree char *p2 = g_build_filename(world, "streetview", "panos", "0000017.jpg", NULL);
    const char *args[] = {"predict",  "-p",   proj,      "-d",     "w",         "-m",
                          model,      "-k",   "40",      "--batch", "4",        "--ground-size",
                          "32x96",    "--satellite-size", "32x32", "--backend", "cpu",
                          "--threads", "1",   "--json",  p1,       p2,          NULL};
    return run_np(np, args);
}

/* In every prediction of `out`, tile `a` comes right before tile `b`, with the same score. */
static void assert_tie_order(const char *out, const char *a, const char *b)
{
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    guint n = 0;
    for (char **l = lines; *l; l++) {
        if (!**l) continue;
        g_autoptr(JsonParser) p = json_parser_new();
        JsonArray *top = json_object_get_array_member(parse_object(p, *l), "top");
        g_assert_cmpuint(json_array_get_length(top), ==, 40);
        int ia = -1, ib = -1;
        double sa = 0, sb = 0;
        for (guint i = 0; i < 40; i++) {
            JsonObject *t = json_array_get_object_element(top, i);
            const char *tile = json_object_get_string_member(t, "tile");
            if (!strcmp(tile, a)) ia = (int)i, sa = json_object_get_double_member(t, "score");
            if (!strcmp(tile, b)) ib = (int)i, sb = json_object_get_double_member(t, "score");
        }
        g_test_message("tied tiles at ranks %d and %d, scores %.9g and %.9g", ia, ib, sa, sb);
        g_assert_cmpint(ia, >=, 0);
        g_assert_cmpint(ib, ==, ia + 1);
        g_assert_cmpfloat(sa, ==, sb);
        n++;
    }
    g_assert_cmpuint(n, ==, 2);
}

/* A project of 40 synthetic pairs in a new temporary folder (*tmp, tf_rmtree it). */
static char *small_project(char **tmp)
{
    g_autoptr(GError) error = NULL;
    *tmp = g_dir_make_tmp("s4g-cli-shard-XXXXXX", &error);
    g_assert_no_error(error);
    g_autofree char *world = g_build_filename(*tmp, "w", NULL);
    char *proj = g_build_filename(*tmp, "p", NULL);
    const char *synth[] = {s4g_path, "synth",         "--layout", "cvusa", "--out", world, "-n",
                           "40",     "--image-scale", "0.5",      "-j",    "2",     NULL};
    g_free(tf_run_ok(synth));
    const char *imp[] = {s4g_path, "import", "--project", proj,  "--kind",
                         "cvusa",  "--name", "w",         world, NULL};
    g_free(tf_run_ok(imp));
    return proj;
}

static void test_shard(void)
{
    g_autofree char *tmp = NULL;
    g_autofree char *proj = small_project(&tmp);
    g_autofree char *world = g_build_filename(tmp, "w", NULL);
    g_autoptr(GPtrArray) tiles = satellite_paths(proj);
    g_assert_cmpuint(tiles->len, ==, 40);
    /* the tie: tile 16 (rank 0's shard) becomes a copy of tile 20 (rank 1's first) */
    g_autofree char *src = g_build_filename(world, tiles->pdata[20], NULL);
    g_autofree char *dst = g_build_filename(world, tiles->pdata[16], NULL);
    g_autofree char *bytes = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(src, &bytes, &len, NULL));
    g_assert_true(g_file_set_contents(dst, bytes, (gssize)len, NULL));

    const char *train[] = {s4g_path, "train", "--project", proj, "--dataset", "w", "--model", "m",
                           "--ground-size", "32x96", "--satellite-size", "32x32", "--epochs",
                           "1", "--batch", "8", "--backend", "cpu",
                           "--threads", "1", "--json", NULL};
    g_free(tf_run_ok(train));
    g_autofree char *weights = g_build_filename(proj, "models", "m-best.safetensors", NULL);
    g_assert_true(g_file_test(weights, G_FILE_TEST_IS_REGULAR));

    /* evaluation: references sharded, the same recall (train split: 32 references) */
    assert_same_eval(proj, weights, "train");

    /* a weights file: every run encodes its gallery, by shard under mpirun */
    g_autofree char *w1 = predict_np(0, proj, weights, world);
    g_autofree char *w2 = predict_np(2, proj, weights, world);
    g_assert_cmpstr(w2, ==, w1);
    assert_tie_order(w1, tiles->pdata[16], tiles->pdata[20]);

    /* the project model: first under mpirun (each rank encodes and caches its shard), then
     * one process reading the cache; the predictions stored once, by rank 0 */
    g_autofree char *m2 = predict_np(2, proj, "m", world);
    g_assert_cmpint(count_rows(proj, "SELECT count(DISTINCT image) FROM predictions"), ==, 2);
    gint64 stored = count_rows(proj, "SELECT count(*) FROM predictions");
    g_autofree char *m1 = predict_np(0, proj, "m", world);
    g_assert_cmpstr(m2, ==, m1);
    g_assert_cmpstr(m1, ==, w1);
    g_assert_cmpint(count_rows(proj, "SELECT count(*) FROM predictions"), ==, stored);
    /* and the model's evaluation: one stored row per run, whatever the processes */
    gint64 evals = count_rows(proj, "SELECT count(*) FROM evaluations");
    assert_same_eval(proj, "m", "train");
    g_assert_cmpint(count_rows(proj, "SELECT count(*) FROM evaluations"), ==, evals + 2);
    tf_rmtree(tmp);
}

static double member(JsonObject *o, const char *name)
{
    g_assert_true(json_object_has_member(o, name));
    return json_object_get_double_member(o, name);
}

/* `s4g bench --train-scaling` and `--search` under mpirun: the figures are there, the
 * global batch's loss is the one-process loss, each process hands at least the summed
 * gradients to the collectives, and the shards cover the gallery. */
static void test_bench(void)
{
    const char *tr[] = {"bench",     "--train-scaling", "--batch",   "4",     "--size", "32x32",
                        "--seconds", "0.1",             "--threads", "1",     "--backend",
                        "cpu",       "--json",          NULL};
    g_autofree char *t1 = run_np(0, tr), *t2 = run_np(2, tr);
    g_autoptr(JsonParser) p1 = json_parser_new(), p2 = json_parser_new();
    JsonObject *a = parse_object(p1, t1), *b = parse_object(p2, t2);
    g_assert_cmpfloat(member(a, "processes"), ==, 1);
    g_assert_cmpfloat(member(b, "processes"), ==, 2);
    g_assert_cmpfloat(member(a, "comm_bytes_per_step"), ==, 0);
    double params = member(b, "parameters");
    g_assert_cmpfloat(member(b, "comm_bytes_per_step"), >=, 4 * params);
    g_assert_cmpfloat(member(b, "comm_bytes_per_step"), <, 4 * params + 1e6);
    /* the first three steps' losses (the third after an update with lr > 0) */
    JsonArray *la = json_object_get_array_member(a, "train_losses_first"),
              *lb = json_object_get_array_member(b, "train_losses_first");
    g_assert_cmpuint(json_array_get_length(la), ==, 3);
    g_assert_cmpuint(json_array_get_length(lb), ==, 3);
    for (guint i = 0; i < 3; i++) {
        double x = json_array_get_double_element(la, i), y = json_array_get_double_element(lb, i);
        g_test_message("bench step %u: loss %.9g (1 process) vs %.9g (2)", i + 1, x, y);
        g_assert_cmpfloat(fabs(y - x), <=, 1e-5 * fabs(x));
    }
    g_assert_cmpfloat(json_array_get_double_element(la, 2), !=,
                      json_array_get_double_element(la, 0));
    for (JsonObject *o = a;; o = b) {
        g_assert_cmpfloat(member(o, "train_pairs_per_s"), >, 0);
        g_assert_cmpfloat(member(o, "train_pairs_per_cpu_s"), >, 0);
        if (o == b) break;
    }

    const char *se[] = {"bench", "--search", "--gallery", "5000", "--queries", "4", "--seconds",
                        "0.1", "--threads", "1", "--backend", "cpu", "--json", NULL};
    g_autofree char *s2 = run_np(2, se);
    g_autoptr(JsonParser) p3 = json_parser_new();
    JsonObject *c = parse_object(p3, s2);
    JsonArray *ranks = json_object_get_array_member(c, "search_ranks");
    g_assert_cmpuint(json_array_get_length(ranks), ==, 2);
    double rows = 0;
    for (guint i = 0; i < 2; i++) {
        JsonObject *r = json_array_get_object_element(ranks, i);
        g_assert_cmpfloat(member(r, "rank"), ==, i);
        g_assert_cmpfloat(member(r, "queries_per_s"), >, 0);
        rows += member(r, "rows");
    }
    g_assert_cmpfloat(rows, ==, 5000);
    g_assert_cmpfloat(member(c, "search_merged_queries_per_s"), >, 0);
}

/* ------------------------------------------------------------ stopping a job */

/* Starts `mpirun -np 2 s4g train` of model m for many epochs with stdout and stderr in files
 * of tmp; returns mpirun's pid (a child of this process). */
static GPid start_job(const char *tmp, const char *proj)
{
    g_autofree char *out = g_build_filename(tmp, "out.txt", NULL);
    g_autofree char *err = g_build_filename(tmp, "err.txt", NULL);
    g_autofree char *cmd = g_strdup_printf(
        "exec '%s' -np 2 '%s' train --project '%s' --dataset w --model m --ground-size 32x96 "
        "--satellite-size 32x32 --epochs 1000 --batch 8 --backend cpu --threads 1 --json "
        ">'%s' 2>'%s'",
        mpirun_path, s4g_path, proj, out, err);
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    GPid pid = 0;
    g_autoptr(GError) error = NULL;
    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                NULL, &pid, &error));
    g_assert_no_error(error);
    return pid;
}

/* Waits (no deadline: the suite's timeout bounds it) until the job printed a step event. */
static void wait_first_step(const char *tmp, GPid pid)
{
    g_autofree char *out = g_build_filename(tmp, "out.txt", NULL);
    for (;;) {
        g_autofree char *text = NULL;
        if (g_file_get_contents(out, &text, NULL, NULL) && strstr(text, "\"event\": \"step\""))
            return;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            g_error("the job ended before its first step (status %d)", status);
        g_usleep(50000);
    }
}

static int wait_job(GPid pid)
{
    int status = 0;
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    return status;
}

/* The state of the project's only run after an s4g command opened the project (which marks a
 * run whose trainer holds no lock interrupted), and PRAGMA integrity_check. */
static char *run_state_after_open(const char *proj)
{
    const char *list[] = {s4g_path, "model", "list", "--project", proj, NULL};
    g_free(tf_run_ok(list));
    g_autofree char *db = g_build_filename(proj, "project.s4g", NULL);
    sqlite3 *h = NULL;
    sqlite3_stmt *st = NULL;
    g_assert_cmpint(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL), ==,
                    SQLITE_OK);
    g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
    g_assert_cmpstr((const char *)sqlite3_column_text(st, 0), ==, "ok");
    sqlite3_finalize(st);
    g_assert_cmpint(sqlite3_prepare_v2(h, "SELECT state, (SELECT count(*) FROM runs) FROM runs",
                                       -1, &st, NULL),
                    ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
    g_assert_cmpint(sqlite3_column_int(st, 1), ==, 1);
    char *state = g_strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(h);
    return state;
}

/* SIGUSR1 to mpirun (forwarded to every rank): every rank stops after the same step, one
 * checkpoint, the run stored `stopped`, mpirun exits 0. */
static void test_stop(void)
{
    g_autofree char *tmp = NULL;
    g_autofree char *proj = small_project(&tmp);
    GPid pid = start_job(tmp, proj);
    wait_first_step(tmp, pid);
    g_assert_cmpint(kill(pid, SIGUSR1), ==, 0);
    int status = wait_job(pid);
    g_autofree char *outp = g_build_filename(tmp, "out.txt", NULL);
    g_autofree char *out = NULL;
    g_assert_true(g_file_get_contents(outp, &out, NULL, NULL));
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    g_assert_nonnull(strstr(out, "\"state\": \"stopped\""));
    /* one checkpoint event (rank 0 alone writes), the file complete */
    const char *c = strstr(out, "\"event\": \"checkpoint\"");
    g_assert_nonnull(c);
    g_assert_null(strstr(c + 1, "\"event\": \"checkpoint\""));
    g_autofree char *ckpt = g_build_filename(proj, "models", "m-last.safetensors", NULL);
    g_assert_true(g_file_test(ckpt, G_FILE_TEST_IS_REGULAR));
    g_autofree char *state = run_state_after_open(proj);
    g_assert_cmpstr(state, ==, "stopped");
    tf_rmtree(tmp);
}

/* The pid of rank `rank` among the children of mpirun (Open MPI launches local ranks as its
 * children, OMPI_COMM_WORLD_RANK in their environment). */
static pid_t find_rank(GPid mpirun, int rank)
{
    g_autofree char *want = g_strdup_printf("OMPI_COMM_WORLD_RANK=%d", rank);
    g_autoptr(GDir) d = g_dir_open("/proc", 0, NULL);
    g_assert_nonnull(d);
    for (const char *e; (e = g_dir_read_name(d));) {
        if (!g_ascii_isdigit(e[0])) continue;
        g_autofree char *stat = g_build_filename("/proc", e, "stat", NULL);
        g_autofree char *st = NULL;
        if (!g_file_get_contents(stat, &st, NULL, NULL)) continue;
        const char *rp = strrchr(st, ')');
        int ppid = 0;
        if (!rp || sscanf(rp + 2, "%*c %d", &ppid) != 1 || ppid != mpirun) continue;
        g_autofree char *envp = g_build_filename("/proc", e, "environ", NULL);
        g_autofree char *env = NULL;
        gsize len = 0;
        if (!g_file_get_contents(envp, &env, &len, NULL)) continue;
        for (gsize at = 0; at < len; at += strlen(env + at) + 1)
            if (!strcmp(env + at, want)) return (pid_t)atoi(e);
    }
    return 0;
}

/* SIGKILL to rank 1: the job ends (mpirun names the rank and the signal), rank 0 does not
 * hang in a collective, the run ends failed or interrupted, the database intact. */
static void test_rank_killed(void)
{
    g_autofree char *tmp = NULL;
    g_autofree char *proj = small_project(&tmp);
    GPid pid = start_job(tmp, proj);
    wait_first_step(tmp, pid);
    pid_t r1 = find_rank(pid, 1);
    g_assert_cmpint(r1, >, 0);
    g_assert_cmpint(kill(r1, SIGKILL), ==, 0);
    int status = wait_job(pid);
    g_assert_true(!WIFEXITED(status) || WEXITSTATUS(status) != 0);
    g_autofree char *errp = g_build_filename(tmp, "err.txt", NULL);
    g_autofree char *err = NULL;
    g_assert_true(g_file_get_contents(errp, &err, NULL, NULL));
    g_test_message("mpirun's stderr: %s", err);
    g_assert_nonnull(strstr(err, "rank 1"));
    g_assert_nonnull(strstr(err, "signal 9"));
    g_autofree char *state = run_state_after_open(proj);
    g_test_message("run state after the kill: %s", state);
    g_assert_true(!strcmp(state, "interrupted") || !strcmp(state, "failed"));
    tf_rmtree(tmp);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (argc < 3) {
        g_printerr("usage: %s PATH-TO-s4g PATH-TO-mpirun\n", argv[0]);
        return 2;
    }
    s4g_path = argv[1];
    mpirun_path = argv[2];
    g_setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", TRUE);
    g_setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", TRUE);
    g_setenv("OPENBLAS_NUM_THREADS", "1", TRUE);
    g_setenv("OMPI_MCA_rmaps_base_oversubscribe", "1", TRUE);
    g_setenv("OMPI_MCA_hwloc_base_binding_policy", "none", TRUE);
    /* scan blocks (and so shard units) of 4 rows: a boundary inside 40 tiles */
    g_setenv("S4G_SEARCH_CHUNK_ROWS", "4", TRUE);
    g_test_add_func("/cli/shard/eval-predict", test_shard);
    g_test_add_func("/cli/shard/bench", test_bench);
    g_test_add_func("/cli/shard/stop", test_stop);
    g_test_add_func("/cli/shard/rank-killed", test_rank_killed);
    return g_test_run();
}
