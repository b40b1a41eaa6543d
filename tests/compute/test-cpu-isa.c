/* test-cpu-isa.c — what the CPU backend picks at start-up, and that every pick is correct:
 *  - the OpenBLAS kernel set matches the CPU's vector width (never the SSE3 "Prescott"
 *    fallback on an AVX-512 CPU), also after OpenBLAS was made to pick Prescott;
 *  - GEMM results agree with a double reference, to fp32 tolerance, under every kernel set
 *    this CPU can run;
 *  - the polynomial erf of every vector path: GELU and its derivative stay within a bound of
 *    the double-precision function, as close as the libm erff/expf formula is;
 *  - S4G_CPU_ISA naming a path the CPU lacks (or nonsense) fails context creation. */
#include "s4g-test-util.h"
#include "s4g-test-isa.h"
#include "s4g-half.h" /* s4g_half_to_float, the scalar reference */

#include <string.h>
#include <strings.h>

#ifdef S4G_HAVE_OPENBLAS
#include <cblas.h>
#endif

static int has_avx512(const s4g_cpu_info *in)
{
    const char *need[] = {"avx512f", "avx512bw", "avx512vl", "avx512dq"};
    for (size_t i = 0; i < G_N_ELEMENTS(need); i++)
        if (!strstr(in->features, need[i]))
            return 0;
    return 1;
}

static void test_info(void)
{
    s4g_cpu_info in;
    s4g_cpu_info_get(&in);
    g_test_message("features: %s; path %s (%s); BLAS %s (%s)", in.features, in.isa,
                   in.isa_why, in.blas, in.blas_why);
    g_assert_cmpstr(in.isa, ==, s4g_cpu_isa_name(s4g_cpu_isa_current()));
    g_assert_cmpuint(strlen(in.isa_why), >, 0);
    g_assert_cmpuint(strlen(in.blas_why), >, 0);
    if (has_avx512(&in))
        g_assert_true(s4g_cpu_isa_supported(S4G_ISA_AVX512));
#ifdef S4G_HAVE_OPENBLAS
    g_assert_cmpstr(in.blas, ==, openblas_get_corename());
    if (has_avx512(&in) && !getenv("OPENBLAS_CORETYPE")) {
        g_assert_cmpstr(in.blas, !=, "Prescott");
        g_assert_true(!strcasecmp(in.blas, "SkylakeX") || !strcasecmp(in.blas, "Cooperlake") ||
                      !strcasecmp(in.blas, "SapphireRapids"));
    }
#else
    g_assert_cmpstr(in.blas, ==, "none");
#endif
}

#ifdef S4G_HAVE_OPENBLAS
/* Make OpenBLAS run Prescott (what 0.3.21 does on CPUs it does not know), then rerun our
 * start-up selection: it must switch back to the kernel set of the CPU's width. */
static void test_blas_reselect(void)
{
    s4g_cpu_info in;
    s4g_cpu_info_get(&in);
    if (!strstr(in.features, "avx")) {
        g_test_skip("CPU without AVX: OpenBLAS's own choice stands");
        return;
    }
    if (getenv("OPENBLAS_CORETYPE")) {
        g_test_skip("OPENBLAS_CORETYPE is set: the user's choice wins");
        return;
    }
    char before[32];
    g_strlcpy(before, openblas_get_corename(), sizeof before);
    if (s4g_cpu_blas_use("Prescott") != 0) {
        g_test_skip("OpenBLAS without DYNAMIC_ARCH: one fixed kernel set");
        return;
    }
    g_assert_cmpstr(openblas_get_corename(), ==, "Prescott");
    g_assert_null(getenv("OPENBLAS_CORETYPE")); /* the environment is put back */
    s4g_cpu_blas_reselect();
    s4g_cpu_info_get(&in);
    g_test_message("after Prescott: %s (%s)", in.blas, in.blas_why);
    g_assert_cmpstr(in.blas, !=, "Prescott");
    g_assert_nonnull(strstr(in.blas_why, "switched to"));
    if (has_avx512(&in))
        g_assert_cmpstr(in.blas, ==, "SkylakeX");
    g_assert_cmpint(s4g_cpu_blas_use(before), ==, 0);
}

/* The same odd-sized GEMMs (every transpose combination, a bias) under each kernel set the
 * CPU can run, against the double reference. */
static void test_blas_agree(void)
{
    static const char *const sets[] = {"Prescott", "Sandybridge", "Haswell", "SkylakeX"};
    static const char *const need[] = {NULL, "avx", "avx2", "avx512dq"};
    s4g_cpu_info in;
    s4g_cpu_info_get(&in);
    char before[32];
    g_strlcpy(before, openblas_get_corename(), sizeof before);
    s4g_err err = {0};
    s4g_ctx *ctx = tu_ctx(2);
    const int M = 67, N = 45, K = 131;
    uint64_t rng = 5;
    float *ha, *hb, *hbias;
    s4g_buf *a = tu_rand(ctx, &rng, (size_t)M * K, -1, 1, &ha);
    s4g_buf *b = tu_rand(ctx, &rng, (size_t)K * N, -1, 1, &hb);
    s4g_buf *bias = tu_rand(ctx, &rng, N, -1, 1, &hbias);
    s4g_buf *c = tu_buf(ctx, (size_t)M * N, NULL);
    double *da = g_new(double, (size_t)M * K), *db = g_new(double, (size_t)K * N);
    double *dbias = g_new(double, N), *want = g_new(double, (size_t)M * N);
    s4g_ref_to_double(ha, da, (size_t)M * K);
    s4g_ref_to_double(hb, db, (size_t)K * N);
    s4g_ref_to_double(hbias, dbias, N);
    int ran = 0;
    for (size_t s = 0; s < G_N_ELEMENTS(sets); s++) {
        if (need[s] && !strstr(in.features, need[s]))
            continue;
        if (s4g_cpu_blas_use(sets[s]) != 0) {
            g_test_message("OpenBLAS cannot switch to %s", sets[s]);
            continue;
        }
        ran++;
        for (int t = 0; t < 4; t++) {
            int ta = t & 1, tb = t >> 1;
            /* the same storage read as A (M x K) or A^T's storage (K x M) */
            g_assert_cmpint(s4g_gemm(ctx, ta, tb, M, N, K, 0.5f, s4g_at(a, 0), s4g_at(b, 0),
                                     0.0f, s4g_at(c, 0), s4g_at(bias, 0), &err), ==, 0);
            s4g_ref_gemm(ta, tb, M, N, K, 0.5, da, db, 0.0, want, dbias);
            char what[64];
            g_snprintf(what, sizeof what, "gemm %s ta=%d tb=%d", sets[s], ta, tb);
            tu_check(what, c, want, (size_t)M * N, 1e-5);
        }
    }
    g_assert_cmpint(ran, >=, 1);
    g_assert_cmpint(s4g_cpu_blas_use(before), ==, 0);
    g_free(ha), g_free(hb), g_free(hbias), g_free(da), g_free(db), g_free(dbias), g_free(want);
    s4g_buf_free(a), s4g_buf_free(b), s4g_buf_free(bias), s4g_buf_free(c);
    s4g_ctx_free(ctx);
}
#endif

/* GELU and GELU' of the current path on a dense grid over [-12, 12] (and beyond, where the
 * erf clamp holds), against double precision; the bound is the one the libm formula
 * (erff, expf in float) meets, with a little room. */
static void test_gelu_accuracy(void)
{
    const long n = 240001;
    float *x = g_new(float, n), *y = g_new(float, n), *dy = g_new(float, n);
    float *dx = g_new(float, n);
    for (long i = 0; i < n; i++) {
        x[i] = -12.0f + 24.0f * (float)i / (float)(n - 1);
        dy[i] = 1.0f;
    }
    x[0] = -30.0f, x[n - 1] = 30.0f;
    s4g_cpu_k->gelu(x, y, n);
    s4g_cpu_k->gelu_back(x, dy, dx, n);
    double worst = 0, worst_libm = 0, worst_d = 0, worst_d_libm = 0;
    for (long i = 0; i < n; i++) {
        double v = x[i];
        double want = 0.5 * v * (1.0 + erf(v / sqrt(2.0)));
        double dwant = 0.5 * (1.0 + erf(v / sqrt(2.0))) + v * exp(-0.5 * v * v) / sqrt(2 * G_PI);
        float vf = x[i];
        float libm = 0.5f * vf * (1.0f + erff(vf * 0.70710678118654752440f));
        float dlibm = 0.5f * (1.0f + erff(vf * 0.70710678118654752440f)) +
                      vf * 0.39894228040143267794f * expf(-0.5f * vf * vf);
        double scale = 1.0 + fabs(v);
        worst = fmax(worst, fabs(y[i] - want) / scale);
        worst_libm = fmax(worst_libm, fabs(libm - want) / scale);
        worst_d = fmax(worst_d, fabs(dx[i] - dwant) / scale);
        worst_d_libm = fmax(worst_d_libm, fabs(dlibm - dwant) / scale);
    }
    g_test_message("%s: |gelu err|/(1+|x|) %.3g (erff formula %.3g); gelu' %.3g (libm %.3g)",
                   s4g_cpu_isa_name(s4g_cpu_isa_current()), worst, worst_libm, worst_d,
                   worst_d_libm);
    g_assert_cmpfloat(worst, <=, 4e-7);
    g_assert_cmpfloat(worst, <=, 4 * worst_libm);
    g_assert_cmpfloat(worst_d, <=, 6e-7);
    g_assert_cmpfloat(worst_d, <=, 4 * worst_d_libm);
    g_free(x), g_free(y), g_free(dy), g_free(dx);
}

/* Each path on every length 0..70 (vector bodies and every tail) agrees with the baseline
 * path elementwise to a few ulp. */
static void test_gelu_tails(void)
{
    float x[70], y[71], ref[70], dy[70], dx[71], dref[70];
    uint64_t rng = 3;
    s4g_ref_random(&rng, x, 70, -5, 5);
    s4g_ref_random(&rng, dy, 70, -1, 1);
    s4g_cpu_kernels_baseline.gelu(x, ref, 70);
    s4g_cpu_kernels_baseline.gelu_back(x, dy, dref, 70);
    for (long n = 0; n <= 70; n++) {
        y[n] = dx[n] = 1234.0f; /* must stay: nothing written past n */
        s4g_cpu_k->gelu(x, y, n);
        s4g_cpu_k->gelu_back(x, dy, dx, n);
        for (long i = 0; i < n; i++) {
            g_assert_cmpfloat(fabsf(y[i] - ref[i]), <=, 1e-6f * (1 + fabsf(ref[i])));
            g_assert_cmpfloat(fabsf(dx[i] - dref[i]), <=, 1e-6f * (1 + fabsf(dref[i])));
        }
        g_assert_cmpfloat(y[n], ==, 1234.0f);
        g_assert_cmpfloat(dx[n], ==, 1234.0f);
    }
}

/* Every one of the 65536 halves (lengths with every tail), bit for bit as the scalar
 * s4g_half_to_float, NaNs as NaNs; through the pool too. */
static void test_half_to_float(void)
{
    if (!s4g_cpu_k->half_to_float) {
        g_assert_cmpint(s4g_cpu_isa_current(), ==, S4G_ISA_BASELINE);
        g_test_skip("the baseline path converts with the table in s4g-search.c");
        return;
    }
    const size_t n = 65536 + 13;
    uint16_t *h = g_new(uint16_t, n);
    float *got = g_new(float, n + 1);
    for (size_t i = 0; i < n; i++)
        h[i] = (uint16_t)(i * 40503u); /* odd multiplier: a permutation of 0..65535 */
    s4g_ctx *ctx = tu_ctx(2);
    for (int pass = 0; pass < 2; pass++) {
        got[n] = 1234.0f;
        if (pass == 0)
            s4g_cpu_k->half_to_float(h, got, (long)n);
        else
            g_assert_cmpint(s4g_cpu_half_to_float(ctx, h, got, n), ==, 0);
        for (size_t i = 0; i < n; i++) {
            float want = s4g_half_to_float(h[i]);
            if (isnan(want))
                g_assert_true(isnan(got[i]));
            else
                g_assert_cmpmem(&got[i], sizeof(float), &want, sizeof(float));
        }
        g_assert_cmpfloat(got[n], ==, 1234.0f);
    }
    for (long len = 0; len < 40; len++) { /* tails */
        got[len] = -7.0f;
        s4g_cpu_k->half_to_float(h + 1, got, len);
        for (long i = 0; i < len; i++)
            if (!isnan(got[i]))
                g_assert_cmpfloat(got[i], ==, s4g_half_to_float(h[1 + i]));
        g_assert_cmpfloat(got[len], ==, -7.0f);
    }
    s4g_ctx_free(ctx);
    g_free(h);
    g_free(got);
}

/* Scores straight from float and half gallery rows (the few-query search path), on the
 * pool, against double dot products of the same (widened) values; every query count up to
 * the limit, dims with and without a vector tail. */
static void test_scores(void)
{
    if (!s4g_cpu_k->scores) {
        g_test_skip("the baseline path scores with SGEMM");
        return;
    }
    static const int dims[] = {64, 67, 320};
    const long ng = 301;
    s4g_ctx *ctx = tu_ctx(2);
    uint64_t rng = 9;
    for (size_t di = 0; di < G_N_ELEMENTS(dims); di++) {
        const int dim = dims[di], nq = S4G_CPU_SCORES_MAX_Q;
        float *q = g_new(float, (size_t)nq * dim), *gf = g_new(float, (size_t)ng * dim);
        uint16_t *gh = g_new(uint16_t, (size_t)ng * dim);
        float *tile = g_new(float, (size_t)nq * ng);
        s4g_ref_random(&rng, q, (size_t)nq * dim, -1, 1);
        s4g_ref_random(&rng, gf, (size_t)ng * dim, -1, 1);
        for (size_t i = 0; i < (size_t)ng * dim; i++) {
            gh[i] = s4g_half_from_float(gf[i]);
            gf[i] = s4g_half_to_float(gh[i]); /* the same values in both storages */
        }
        for (int fp16 = 0; fp16 < 2; fp16++)
            for (int n = 1; n <= nq; n += (n < 9 ? 1 : 7)) {
                g_assert_cmpint(s4g_cpu_scores(ctx, q, n, fp16 ? (const void *)gh : gf, fp16,
                                               dim, ng, tile), ==, 0);
                for (int i = 0; i < n; i++)
                    for (long r = 0; r < ng; r++) {
                        double want = 0, mag = 0;
                        for (int d = 0; d < dim; d++) {
                            want += (double)q[(size_t)i * dim + d] * gf[(size_t)r * dim + d];
                            mag += fabs((double)q[(size_t)i * dim + d] * gf[(size_t)r * dim + d]);
                        }
                        double got = tile[(size_t)i * ng + r];
                        if (fabs(got - want) > 1e-6 * mag + 1e-7)
                            g_error("scores dim %d fp16 %d nq %d: [%d][%ld] = %.8g, want %.8g",
                                    dim, fp16, n, i, r, got, want);
                    }
            }
        g_free(q), g_free(gf), g_free(gh), g_free(tile);
    }
    s4g_ctx_free(ctx);
}

static void test_isa_env(void)
{
    /* the environment is read once, at start-up: check it in a child process */
    if (g_test_subprocess()) {
        s4g_err err = {0};
        s4g_ctx_opts o = {.backend = S4G_BACKEND_CPU, .threads = 1};
        s4g_ctx *c = s4g_ctx_new(&o, &err);
        if (c) {
            printf("created: %s\n", s4g_ctx_describe(c));
            s4g_ctx_free(c);
            exit(0);
        }
        printf("refused: %s\n", err.msg);
        exit(3);
    }
    static const char *const envs[] = {"S4G_CPU_ISA=sse9", "S4G_CPU_ISA=baseline",
                                       "S4G_CPU_ISA=avx2", "S4G_CPU_ISA=avx512"};
    for (size_t i = 0; i < G_N_ELEMENTS(envs); i++) {
        const char *name = envs[i] + strlen("S4G_CPU_ISA=");
        int ok = i > 0 && s4g_cpu_isa_supported((s4g_cpu_isa)(i - 1));
        /* the child is a fresh exec of this program: it inherits the variable */
        g_setenv("S4G_CPU_ISA", name, TRUE);
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
        g_unsetenv("S4G_CPU_ISA");
        if (ok) {
            g_test_trap_assert_passed();
            char *want = g_strdup_printf("*%s vector path*", name);
            g_test_trap_assert_stdout(want);
            g_free(want);
        } else {
            g_test_trap_assert_failed();
            g_test_trap_assert_stdout("*refused: S4G_CPU_ISA=*");
        }
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cpu-isa/info", test_info);
#ifdef S4G_HAVE_OPENBLAS
    g_test_add_func("/cpu-isa/blas-reselect", test_blas_reselect);
    g_test_add_func("/cpu-isa/blas-agree", test_blas_agree);
#endif
    tu_add_isa("/cpu-isa", "gelu-accuracy", test_gelu_accuracy);
    tu_add_isa("/cpu-isa", "gelu-tails", test_gelu_tails);
    tu_add_isa("/cpu-isa", "half-to-float", test_half_to_float);
    tu_add_isa("/cpu-isa", "scores", test_scores);
    g_test_add_func("/cpu-isa/env", test_isa_env);
    return g_test_run();
}
