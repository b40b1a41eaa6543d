/* test-cli-encode.c — s4g encode on the timm-mirror fixture (features and --normalize), its
 * errors, and s4g bench --json on a tiny size.  argv[1] is the s4g program. */
#define _GNU_SOURCE
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "../compute/s4g-test-files.h"

static const char *s4g;
static char *tmpdir;

static int run(const char *const *args, char **out, char **errout)
{
    return tf_run(s4g, args, out, errout);
}

/* float32 data of a .npy written by s4g (header length at bytes 8-9) */
static float *npy_data(const char *path, gsize *count)
{
    gchar *raw;
    gsize len;
    g_assert_true(g_file_get_contents(path, &raw, &len, NULL));
    gsize hl = (guint8)raw[8] | ((gsize)(guint8)raw[9] << 8);
    *count = (len - 10 - hl) / 4;
    float *d = g_memdup2(raw + 10 + hl, *count * 4);
    g_free(raw);
    return d;
}

/* the expected embeddings from the fixture's safetensors (parsed the simple way: fixed key) */
static void test_encode(void)
{
    g_autofree char *w = tf_fixture("convnext-tiny-fixture.safetensors");
    g_autofree char *in = tf_fixture("convnext-tiny-fixture-sat.npy");
    g_autofree char *o1 = g_build_filename(tmpdir, "f.npy", NULL);
    g_autofree char *o2 = g_build_filename(tmpdir, "n.npy", NULL);
    char *out = NULL, *err = NULL;
    const char *a1[] = {"encode", "--weights", w, "--input", in, "--output", o1, "--backend",
                        "cpu", "--json", NULL};
    g_assert_cmpint(run(a1, &out, &err), ==, 0);
    g_assert_nonnull(strstr(out, "\"images\": 2"));
    g_assert_nonnull(strstr(out, "\"dim\": 64"));
    g_free(out);
    g_free(err);
    const char *a2[] = {"encode", "-w", w, "-i", in, "-o", o2, "--normalize", "--batch", "1",
                        NULL};
    g_assert_cmpint(run(a2, &out, &err), ==, 0);
    g_free(out);
    g_free(err);
    gsize n1, n2;
    g_autofree float *f = npy_data(o1, &n1);
    g_autofree float *u = npy_data(o2, &n2);
    g_assert_cmpuint(n1, ==, 128);
    g_assert_cmpuint(n2, ==, 128);
    /* timm features (pre-L2) are not unit length; --normalize gives unit rows along f */
    for (int r = 0; r < 2; r++) {
        double s = 0, dot = 0, su = 0;
        for (int k = 0; k < 64; k++) {
            s += (double)f[r * 64 + k] * f[r * 64 + k];
            su += (double)u[r * 64 + k] * u[r * 64 + k];
            dot += (double)f[r * 64 + k] * u[r * 64 + k];
        }
        g_assert_cmpfloat(fabs(sqrt(s) - 1), >, 0.1);
        g_assert_cmpfloat(fabs(su - 1), <, 1e-5);
        g_assert_cmpfloat(fabs(dot - sqrt(s)), <, 1e-4 * sqrt(s));
    }
    /* the features match the fixture (emb.sat is the 2nd tensor by name: emb.ground, emb.sat) */
    g_autofree char *e = tf_fixture("convnext-tiny-fixture-expected.safetensors");
    gchar *raw;
    gsize len;
    g_assert_true(g_file_get_contents(e, &raw, &len, NULL));
    guint64 hl = 0;
    for (int i = 7; i >= 0; i--)
        hl = (hl << 8) | (guint8)raw[i];
    const char *k = g_strstr_len(raw + 8, (gssize)hl, "\"emb.sat\"");
    g_assert_nonnull(k);
    const char *offs = strstr(k, "data_offsets\":[");
    g_assert_nonnull(offs);
    gsize b = g_ascii_strtoull(offs + 15, NULL, 10);
    const float *ref = (const float *)(raw + 8 + hl + b);
    double maxd = 0, maxv = 0;
    for (int i = 0; i < 128; i++) {
        maxd = fmax(maxd, fabs(f[i] - ref[i]));
        maxv = fmax(maxv, fabs(ref[i]));
    }
    g_assert_cmpfloat(maxd / maxv, <=, 1e-4);
    g_free(raw);
}

/* a PyTorch checkpoint (DataParallel around Sample4Geo's TimmModel, tools/make-pth-fixtures.py)
 * gives the features of the same values as safetensors, and the load prints its one line */
static void test_encode_pth(void)
{
    g_autofree char *p = tf_fixture("pth/dataparallel.pth");
    g_autofree char *r = tf_fixture("pth/reference.safetensors");
    g_autofree char *in = tf_fixture("convnext-tiny-fixture-sat.npy");
    g_autofree char *o1 = g_build_filename(tmpdir, "pth.npy", NULL);
    g_autofree char *o2 = g_build_filename(tmpdir, "ref.npy", NULL);
    char *out = NULL, *err = NULL;
    const char *a1[] = {"encode", "-w", p, "-i", in, "-o", o1, "--backend", "cpu", NULL};
    g_assert_cmpint(run(a1, &out, &err), ==, 0);
    if (!strstr(err, "s4g encode: loaded 55 of 55 tensors (ConvNeXt depths 1,1,1,1 dims "
                     "8,16,24,32; PyTorch checkpoint, DataParallel, Sample4Geo TimmModel)"))
        g_error("no load line in: %s", err);
    g_free(out);
    g_free(err);
    const char *a2[] = {"encode", "-w", r, "-i", in, "-o", o2, "--backend", "cpu", NULL};
    g_assert_cmpint(run(a2, &out, &err), ==, 0);
    g_free(out);
    g_free(err);
    gsize n1, n2;
    g_autofree float *f = npy_data(o1, &n1);
    g_autofree float *g = npy_data(o2, &n2);
    g_assert_cmpuint(n1, ==, 64);
    g_assert_cmpmem(f, n1 * sizeof *f, g, n2 * sizeof *g);
    /* a legacy checkpoint: the error says how to re-save it */
    g_autofree char *legacy = tf_fixture("pth/legacy.pth");
    const char *a3[] = {"encode", "-w", legacy, "-i", in, "-o", o1, NULL};
    g_assert_cmpint(run(a3, &out, &err), ==, 1);
    g_assert_nonnull(strstr(err, "legacy.pth: a PyTorch checkpoint in the legacy format"));
    g_free(out);
    g_free(err);
}

static void test_encode_errors(void)
{
    g_autofree char *w = tf_fixture("convnext-tiny-fixture.safetensors");
    g_autofree char *in = tf_fixture("convnext-tiny-fixture-sat.npy");
    g_autofree char *o = g_build_filename(tmpdir, "x.npy", NULL);
    char *out = NULL, *err = NULL;
    const char *wrong_arch[] = {"encode", "-w", w, "-i", in, "-o", o, "--arch", "atto", NULL};
    g_assert_cmpint(run(wrong_arch, &out, &err), ==, 1);
    g_assert_nonnull(strstr(err, "stem.0.weight"));
    g_free(out);
    g_free(err);
    const char *not_npy[] = {"encode", "-w", w, "-i", w, "-o", o, NULL};
    g_assert_cmpint(run(not_npy, &out, &err), ==, 1);
    g_assert_nonnull(strstr(err, "not a .npy file"));
    g_free(out);
    g_free(err);
    const char *no_w[] = {"encode", "-w", "/nonexistent.safetensors", "-i", in, "-o", o, NULL};
    g_assert_cmpint(run(no_w, &out, &err), ==, 1);
    g_assert_nonnull(strstr(err, "/nonexistent.safetensors"));
    g_free(out);
    g_free(err);
    const char *missing[] = {"encode", "-i", in, NULL};
    g_assert_cmpint(run(missing, &out, &err), ==, 2);
    g_free(out);
    g_free(err);
    g_assert_false(g_file_test(o, G_FILE_TEST_EXISTS));
}

static void test_bench(void)
{
    char *out = NULL, *err = NULL;
    const char *a[] = {"bench", "--backend", "cpu", "--arch", "atto", "--size", "32x64",
                       "--batch", "2", "--seconds", "0.01", "--gallery", "100", "--queries",
                       "4", "--json", NULL};
    g_assert_cmpint(run(a, &out, &err), ==, 0);
    g_autoptr(GRegex) re = g_regex_new("\"inference_img_per_s\": ([0-9.]+).*"
                                       "\"train_pairs_per_s\": ([0-9.]+)",
                                       0, 0, NULL);
    g_autoptr(GMatchInfo) mi = NULL;
    if (!g_regex_match(re, out, 0, &mi))
        g_error("unexpected bench output: %s", out);
    g_autofree char *i = g_match_info_fetch(mi, 1), *t = g_match_info_fetch(mi, 2);
    g_assert_cmpfloat(g_ascii_strtod(i, NULL), >, 0);
    g_assert_cmpfloat(g_ascii_strtod(t, NULL), >, 0);
    g_free(out);
    g_free(err);
    const char *bad[] = {"bench", "--size", "12x", NULL};
    g_assert_cmpint(run(bad, &out, &err), ==, 2);
    g_assert_nonnull(strstr(err, "--size"));
    g_free(out);
    g_free(err);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (argc < 2)
        g_error("usage: test-cli-encode PATH-TO-S4G");
    s4g = argv[1];
    tmpdir = tf_tmpdir_new("s4g-cli-encode-XXXXXX");
    g_test_add_func("/cli/encode/features", test_encode);
    g_test_add_func("/cli/encode/errors", test_encode_errors);
    g_test_add_func("/cli/encode/pth", test_encode_pth);
    g_test_add_func("/cli/bench/json", test_bench);
    int rc = g_test_run();
    tf_tmpdir_remove(tmpdir);
    return rc;
}
