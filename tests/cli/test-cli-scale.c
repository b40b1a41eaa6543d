/* test-cli-scale.c — `s4g train --micro-batch`: a run in chunks of 3 pairs of a batch of 8 gives
 * the losses of the whole-batch run step by step (<= 1e-5 relative); a negative value is
 * refused naming the flag.  With an mpirun (second argument, when built with MPI):
 * `mpirun -np 2 s4g train --micro-batch 3` gives the one-process losses and the same last
 * checkpoint (weights and Adam moments, <= 1e-5), the same DSS table and evaluations (each rank
 * embeds a slice of the split, all-gathered), and a batch that does not divide over the processes is
 * refused with the numbers. */
#include <gio/gio.h>
#include <math.h>
#include <string.h>

#include "../compute/s4g-test-files.h"
#include "s4g-safetensors.h"

#include <sqlite3.h>

static const char *s4g_path;    /* the s4g program, from the command line */
static const char *mpirun_path; /* mpirun, or NULL without MPI */

/* The "loss" of every step line of `s4g train --json` output. */
static GArray *step_losses(const char *out)
{
    GArray *a = g_array_new(FALSE, FALSE, sizeof(double));
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    for (char **l = lines; *l; l++) {
        if (!strstr(*l, "\"event\": \"step\""))
            continue;
        const char *p = strstr(*l, "\"loss\": ");
        g_assert_nonnull(p);
        double v = g_ascii_strtod(p + 8, NULL);
        g_array_append_val(a, v);
    }
    return a;
}

/* The lines of `s4g train --json` output with "event": what. */
static char **event_lines(const char *out, const char *what)
{
    g_autofree char *tag = g_strdup_printf("\"event\": \"%s\"", what);
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    for (char **l = lines; *l; l++)
        if (strstr(*l, tag))
            g_strv_builder_add(b, *l);
    return g_strv_builder_end(b);
}

/* A synthetic CVUSA-like project of 40 pairs in tmp/p. */
static char *make_project(const char *tmp)
{
    g_autofree char *world = g_build_filename(tmp, "w", NULL);
    char *proj = g_build_filename(tmp, "p", NULL);
    const char *synth[] = {s4g_path, "synth",         "--layout", "cvusa", "--out", world, "-n",
                           "40",     "--image-scale", "0.5",      "-j",    "2",     NULL};
    g_free(tf_run_ok(synth));
    const char *imp[] = {s4g_path, "import", "--project", proj,  "--kind",
                         "cvusa",  "--name", "w",         world, NULL};
    g_free(tf_run_ok(imp));
    return proj;
}

/* Two epochs of 4 steps of 8 pairs (GPS, then DSS mined after the first), images encoded 4 at
 * a time for DSS and evaluation (so two processes share the encoding); extra: NULL-terminated further arguments; np > 0 runs it
 * under mpirun with np processes. */
static char *train_np(int np, const char *proj, const char *model, const char *const *extra)
{
    g_autofree char *nps = g_strdup_printf("%d", np);
    const char *mpi[] = {mpirun_path, "-np", nps};
    const char *base[] = {s4g_path, "train", "--project", proj, "--dataset", "w", "--model",
                          model, "--ground-size", "32x96", "--satellite-size", "32x32",
                          "--epochs", "2", "--batch", "8", "--eval-every", "1",
                          "--neighbour-select", "8", "--neighbour-range", "16", "--eval-batch", "4",
                          "--backend",
                          "cpu", "--threads", "1", "--json"};
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    for (size_t i = 0; np > 0 && i < G_N_ELEMENTS(mpi); i++)
        g_ptr_array_add(argv, (gpointer)mpi[i]);
    for (size_t i = 0; i < G_N_ELEMENTS(base); i++)
        g_ptr_array_add(argv, (gpointer)base[i]);
    for (size_t i = 0; extra && extra[i]; i++)
        g_ptr_array_add(argv, (gpointer)extra[i]);
    g_ptr_array_add(argv, NULL);
    return tf_run_ok((const char *const *)argv->pdata);
}

static char *train(const char *proj, const char *model, const char *const *extra)
{
    return train_np(0, proj, model, extra);
}

static void assert_same_losses(const char *what, GArray *got, GArray *want)
{
    g_assert_cmpuint(want->len, ==, 8); /* 2 epochs of 32 train pairs / 8 */
    g_assert_cmpuint(got->len, ==, want->len);
    for (guint i = 0; i < want->len; i++) {
        double a = g_array_index(got, double, i), b = g_array_index(want, double, i);
        g_test_message("%s step %u: loss %.6f vs %.6f", what, i + 1, a, b);
        /* the JSON prints 6 decimals: allow that rounding on top of 1e-5 */
        g_assert_cmpfloat(fabs(a - b), <=, 1e-5 * fabs(b) + 1e-6);
    }
}

/* A new project in a new temporary folder, trained once by one process with whole batches
 * (model "one"): returns that run's output, *proj the project. */
static char *baseline(char **proj)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *tmp = g_dir_make_tmp("s4g-cli-scale-XXXXXX", &error);
    g_assert_no_error(error);
    *proj = make_project(tmp);
    return train(*proj, "one", NULL);
}

static void test_micro_batch(void)
{
    g_autofree char *proj = NULL;
    g_autofree char *whole = baseline(&proj);
    const char *mb[] = {"--micro-batch", "3", NULL};
    g_autofree char *micro = train(proj, "micro", mb);
    g_assert_nonnull(strstr(micro, "\"state\": \"done\""));
    g_autoptr(GArray) lw = step_losses(whole), lm = step_losses(micro);
    assert_same_losses("micro-batch 3 of 8", lm, lw);

    const char *bad[] = {s4g_path, "train", "--project", proj, "--dataset", "w",
                         "--micro-batch", "-2", NULL};
    tf_run_fails(bad, "--micro-batch must be ≥ 0 (0 = whole batch), not -2");
}

/* Every tensor of checkpoint a within tol of b's: |a - b| <= tol * max(1, |b|). */
static void assert_same_checkpoint(const char *a, const char *b, double tol)
{
    s4g_err err = {0};
    s4g_st_file *fa = s4g_st_open(a, &err), *fb = fa ? s4g_st_open(b, &err) : NULL;
    if (!fb)
        g_error("%s", err.msg);
    g_assert_cmpuint(fa->ntensors, ==, fb->ntensors);
    double worst = 0;
    const char *at = "";
    for (size_t i = 0; i < fb->ntensors; i++) {
        const s4g_st_tensor *tb = &fb->tensors[i], *ta = s4g_st_find(fa, tb->name);
        g_assert_nonnull(ta);
        g_assert_cmpuint(ta->count, ==, tb->count);
        g_autofree float *va = g_new(float, ta->count), *vb = g_new(float, tb->count);
        g_assert_cmpint(s4g_st_to_f32(ta, va, &err), ==, 0);
        g_assert_cmpint(s4g_st_to_f32(tb, vb, &err), ==, 0);
        for (size_t k = 0; k < tb->count; k++) {
            double e = fabs((double)va[k] - vb[k]) / fmax(1.0, fabs((double)vb[k]));
            if (!(e <= worst)) {
                worst = isnan(e) ? INFINITY : e;
                at = tb->name;
            }
        }
    }
    g_test_message("checkpoints: worst difference %.3g (%s)", worst, at);
    g_assert_cmpstr(s4g_st_meta(fa, "step"), ==, s4g_st_meta(fb, "step"));
    if (!(worst <= tol))
        g_error("%s vs %s: %s differs by %.3g (> %.3g)", a, b, at, worst, tol);
    s4g_st_close(fa);
    s4g_st_close(fb);
}

/* The DSS hard negatives mined for a model's run: (anchor, rank, negative) triples in
 * *ids, their similarities in *scores. */
static void dss_table(const char *proj, const char *model, GArray **ids, GArray **scores)
{
    g_autofree char *db = g_build_filename(proj, "project.s4g", NULL);
    sqlite3 *h = NULL;
    g_assert_cmpint(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    sqlite3_stmt *st = NULL;
    g_assert_cmpint(sqlite3_prepare_v2(h,
                                       "SELECT x.anchor, x.rank, x.negative, x.score FROM "
                                       "hard_negatives x JOIN mining_runs k ON k.id = "
                                       "x.mining_run JOIN models m ON m.id = k.model WHERE "
                                       "k.kind = 'dss' AND m.name = ? ORDER BY k.epoch, "
                                       "x.anchor, x.rank",
                                       -1, &st, NULL),
                    ==, SQLITE_OK);
    sqlite3_bind_text(st, 1, model, -1, SQLITE_STATIC);
    *ids = g_array_new(FALSE, FALSE, sizeof(gint64));
    *scores = g_array_new(FALSE, FALSE, sizeof(double));
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int c = 0; c < 3; c++) {
            gint64 v = sqlite3_column_int64(st, c);
            g_array_append_val(*ids, v);
        }
        double sc = sqlite3_column_double(st, 3);
        g_array_append_val(*scores, sc);
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
}

static void test_mpi(void)
{
    g_autofree char *proj = NULL;
    g_autofree char *one = baseline(&proj);
    const char *mb[] = {"--micro-batch", "3", NULL};
    g_autofree char *two = train_np(2, proj, "two", mb);
    g_assert_nonnull(strstr(two, "\"state\": \"done\""));
    /* rank 0 alone prints: one start line */
    g_assert_null(strstr(strstr(two, "\"event\": \"start\"") + 1, "\"event\": \"start\""));
    g_autoptr(GArray) l1 = step_losses(one), l2 = step_losses(two);
    assert_same_losses("mpirun -np 2, micro-batch 3", l2, l1);
    /* the evaluations (each rank encodes a slice, rank 0 ranks): the same metrics */
    g_auto(GStrv) e1 = event_lines(one, "eval"), e2 = event_lines(two, "eval");
    g_assert_cmpuint(g_strv_length(e1), ==, 2);
    g_assert_cmpstrv(e2, e1);
    g_autofree char *c1 = g_build_filename(proj, "models", "one-last.safetensors", NULL);
    g_autofree char *c2 = g_build_filename(proj, "models", "two-last.safetensors", NULL);
    assert_same_checkpoint(c2, c1, 1e-5);
    /* the same neighbours; similarities within 1e-5 (the weights differ by rounding) */
    g_autoptr(GArray) i1 = NULL, s1 = NULL, i2 = NULL, s2 = NULL;
    dss_table(proj, "one", &i1, &s1);
    dss_table(proj, "two", &i2, &s2);
    g_assert_cmpuint(s1->len, >, 0);
    g_assert_cmpuint(i2->len, ==, i1->len);
    g_assert_cmpmem(i2->data, i2->len * sizeof(gint64), i1->data, i1->len * sizeof(gint64));
    for (guint k = 0; k < s1->len; k++)
        g_assert_cmpfloat(fabs(g_array_index(s2, double, k) - g_array_index(s1, double, k)), <=,
                          1e-5);

    const char *bad[] = {mpirun_path, "-np", "3", s4g_path, "train", "--project", proj,
                         "--dataset", "w", "--batch", "8", "--backend", "cpu", NULL};
    tf_run_fails(bad, "the global batch of 8 pairs does not divide over 3 processes "
                      "(8 = 3 × 2 + 2)");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    s4g_path = tf_s4g_argument(argc, argv);
    mpirun_path = argc > 2 ? argv[2] : NULL;
    /* mpirun as root (containers, CI), one thread per rank */
    g_setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", TRUE);
    g_setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", TRUE);
    g_setenv("OPENBLAS_NUM_THREADS", "1", TRUE);
    /* Open MPI: more ranks than cores allowed (-np 3 on a 2-core machine), no core binding */
    g_setenv("OMPI_MCA_rmaps_base_oversubscribe", "1", TRUE);
    g_setenv("OMPI_MCA_hwloc_base_binding_policy", "none", TRUE);
    g_test_add_func("/cli/scale/micro-batch", test_micro_batch);
    if (mpirun_path)
        g_test_add_func("/cli/scale/mpi", test_mpi);
    return g_test_run();
}
