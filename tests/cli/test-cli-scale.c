/* test-cli-scale.c — `s4g train --micro-batch`: a run in chunks of 3 pairs of a batch of 8 gives
 * the losses of the whole-batch run step by step (<= 1e-5 relative); a negative value is
 * refused naming the flag. */
#include <gio/gio.h>
#include <math.h>
#include <string.h>

#include "../compute/s4g-test-files.h"

static const char *s4g_path; /* the s4g program, from the command line */

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

/* One epoch of 4 steps of 8 pairs; extra: NULL-terminated further arguments. */
static char *train(const char *proj, const char *model, const char *const *extra)
{
    const char *base[] = {s4g_path, "train", "--project", proj, "--dataset", "w", "--model",
                          model, "--ground-size", "32x96", "--satellite-size", "32x32",
                          "--epochs", "1", "--batch", "8", "--eval-every", "1",
                          "--neighbour-select", "8", "--neighbour-range", "16", "--backend",
                          "cpu", "--threads", "1", "--json"};
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    for (size_t i = 0; i < G_N_ELEMENTS(base); i++)
        g_ptr_array_add(argv, (gpointer)base[i]);
    for (size_t i = 0; extra && extra[i]; i++)
        g_ptr_array_add(argv, (gpointer)extra[i]);
    g_ptr_array_add(argv, NULL);
    return tf_run_ok((const char *const *)argv->pdata);
}

static void assert_same_losses(const char *what, GArray *got, GArray *want)
{
    g_assert_cmpuint(want->len, ==, 4); /* 40 pairs / 8, floor: 4 or 5 full batches */
    g_assert_cmpuint(got->len, ==, want->len);
    for (guint i = 0; i < want->len; i++) {
        double a = g_array_index(got, double, i), b = g_array_index(want, double, i);
        g_test_message("%s step %u: loss %.6f vs %.6f", what, i + 1, a, b);
        /* the JSON prints 6 decimals: allow that rounding on top of 1e-5 */
        g_assert_cmpfloat(fabs(a - b), <=, 1e-5 * fabs(b) + 1e-6);
    }
}

static void test_micro_batch(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *tmp = g_dir_make_tmp("s4g-cli-scale-XXXXXX", &error);
    g_autofree char *proj = make_project(tmp);
    g_autofree char *whole = train(proj, "whole", NULL);
    const char *mb[] = {"--micro-batch", "3", NULL};
    g_autofree char *micro = train(proj, "micro", mb);
    g_assert_nonnull(strstr(micro, "\"state\": \"done\""));
    g_autoptr(GArray) lw = step_losses(whole), lm = step_losses(micro);
    assert_same_losses("micro-batch 3 of 8", lm, lw);

    const char *bad[] = {s4g_path, "train", "--project", proj, "--dataset", "w",
                         "--micro-batch", "-2", NULL};
    tf_run_fails(bad, "--micro-batch must be ≥ 0 (0 = whole batch), not -2");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    s4g_path = tf_s4g_argument(argc, argv);
    g_test_add_func("/cli/scale/micro-batch", test_micro_batch);
    return g_test_run();
}
