/* test-cpu-ops.c — every forward op of the CPU backend against the naive double reference
 * (s4g-ref.c) on random inputs with odd sizes; bounds checking; AdamW against a scalar
 * transcription of torch's formula; the cosine schedule; thread-count independence; two
 * threads sharing one context. */
#include "s4g-test-util.h"

#include <string.h>

#include "cpu/s4g-cpu.h" /* s4g_cpu_gemm_blocked, the no-OpenBLAS GEMM */
#include "s4g-test-isa.h"

#define TOL 1e-5

static s4g_ctx *ctx;

static void test_describe(void)
{
    const char *d = s4g_ctx_describe(ctx);
    g_assert_nonnull(strstr(d, "cpu (3 threads"));
    g_assert_nonnull(strstr(d, " vector path"));
#ifdef S4G_HAVE_OPENBLAS
    g_assert_nonnull(strstr(d, "OpenBLAS"));
#endif
    g_assert_cmpint(s4g_ctx_backend(ctx), ==, S4G_BACKEND_CPU);
}

static void test_eltwise(void)
{
    static const size_t sizes[] = {7, 33, 129, 40001};
    uint64_t rng = 11;
    s4g_err err = {0};
    for (size_t si = 0; si < G_N_ELEMENTS(sizes); si++) {
        size_t n = sizes[si];
        float *ha, *hb;
        s4g_buf *a = tu_rand(ctx, &rng, n, -3, 3, &ha), *b = tu_rand(ctx, &rng, n, -3, 3, &hb);
        s4g_buf *o = tu_buf(ctx, n + 5, NULL);
        double *want = g_new(double, n);

        g_assert_cmpint(s4g_fill(ctx, n + 5, s4g_at(o, 0), 2.5f, &err), ==, 0);
        float *got = tu_get(o, n + 5);
        for (size_t i = 0; i < n + 5; i++)
            g_assert_cmpfloat(got[i], ==, 2.5f);
        g_free(got);

        g_assert_cmpint(s4g_copy(ctx, n, s4g_at(a, 0), s4g_at(o, 5), &err), ==, 0);
        got = tu_get(o, n + 5);
        g_assert_cmpfloat(got[4], ==, 2.5f);
        g_assert_cmpmem(got + 5, n * sizeof(float), ha, n * sizeof(float));
        g_free(got);

        for (size_t i = 0; i < n; i++)
            want[i] = (double)ha[i] + hb[i];
        g_assert_cmpint(s4g_add(ctx, n, s4g_at(a, 0), s4g_at(b, 0), s4g_at(o, 0), &err), ==, 0);
        tu_check("add", o, want, n, TOL);

        for (size_t i = 0; i < n; i++)
            want[i] = -0.75 * ha[i] + want[i]; /* o holds a + b */
        g_assert_cmpint(s4g_axpy(ctx, n, -0.75f, s4g_at(a, 0), s4g_at(o, 0), &err), ==, 0);
        tu_check("axpy", o, want, n, TOL);

        for (size_t i = 0; i < n; i++)
            want[i] *= 3.0;
        g_assert_cmpint(s4g_scale(ctx, n, 3.0f, s4g_at(o, 0), &err), ==, 0);
        tu_check("scale", o, want, n, TOL);

        for (size_t i = 0; i < n; i++)
            want[i] = fmin(fmax(ha[i], -1.5), 0.5);
        g_assert_cmpint(s4g_copy(ctx, n, s4g_at(a, 0), s4g_at(o, 0), &err), ==, 0);
        g_assert_cmpint(s4g_clamp(ctx, n, s4g_at(o, 0), -1.5f, 0.5f, &err), ==, 0);
        tu_check("clamp", o, want, n, 0);

        double *da = tu_dbl(ha, n);
        s4g_ref_gelu(n, da, want);
        g_assert_cmpint(s4g_gelu(ctx, n, s4g_at(a, 0), s4g_at(o, 0), &err), ==, 0);
        tu_check("gelu", o, want, n, TOL);

        /* add with out aliasing a */
        for (size_t i = 0; i < n; i++)
            want[i] = (double)ha[i] + hb[i];
        g_assert_cmpint(s4g_add(ctx, n, s4g_at(a, 0), s4g_at(b, 0), s4g_at(a, 0), &err), ==, 0);
        tu_check("add in place", a, want, n, TOL);

        g_free(da);
        g_free(want);
        g_free(ha);
        g_free(hb);
        s4g_buf_free(a);
        s4g_buf_free(b);
        s4g_buf_free(o);
    }
}

/* Normalised mean squared error sum (got-want)^2 / sum want^2. */
static double nmse(const float *got, const double *want, size_t n)
{
    double e = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        e += ((double)got[i] - want[i]) * ((double)got[i] - want[i]);
        s += want[i] * want[i];
    }
    return s > 0 ? e / s : e;
}

typedef int (*gemm_fn)(int ta, int tb, int M, int N, int K, float alpha, s4g_buf *A, s4g_buf *B,
                       float beta, s4g_buf *C, s4g_buf *bias);

static int gemm_api(int ta, int tb, int M, int N, int K, float alpha, s4g_buf *A, s4g_buf *B,
                    float beta, s4g_buf *C, s4g_buf *bias)
{
    s4g_err err = {0};
    int rc = s4g_gemm(ctx, ta, tb, M, N, K, alpha, s4g_at(A, 0), s4g_at(B, 0), beta,
                      s4g_at(C, 0), bias ? s4g_at(bias, 0) : s4g_none(), &err);
    if (rc)
        g_error("gemm: %s", err.msg);
    return rc;
}

static int gemm_blocked(int ta, int tb, int M, int N, int K, float alpha, s4g_buf *A, s4g_buf *B,
                        float beta, s4g_buf *C, s4g_buf *bias)
{
    return s4g_cpu_gemm_blocked(ctx, ta, tb, M, N, K, alpha, A->host, B->host, beta, C->host,
                                bias ? bias->host : NULL);
}

static void check_gemm(gemm_fn fn, const char *name)
{
    static const int shapes[][3] = {{7, 33, 129}, {33, 7, 5}, {129, 129, 33}, {1, 3, 1},
                                    {65, 1100, 300}, {1000, 1031, 7}};
    uint64_t rng = 42;
    for (size_t s = 0; s < G_N_ELEMENTS(shapes); s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                for (int variant = 0; variant < 3; variant++) {
                    int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
                    float alpha = variant == 2 ? -0.5f : 1.0f;
                    float beta = variant == 0 ? 0.0f : 0.75f;
                    int with_bias = variant != 1;
                    float *hA, *hB, *hC, *hb;
                    s4g_buf *A = tu_rand(ctx, &rng, (size_t)M * K, -1, 1, &hA);
                    s4g_buf *B = tu_rand(ctx, &rng, (size_t)K * N, -1, 1, &hB);
                    s4g_buf *C = tu_rand(ctx, &rng, (size_t)M * N, -1, 1, &hC);
                    s4g_buf *bias = tu_rand(ctx, &rng, N, -1, 1, &hb);
                    if (beta == 0.0f) { /* beta 0 must not read C: poison it */
                        for (size_t i = 0; i < (size_t)M * N; i++)
                            hC[i] = NAN;
                        s4g_buf_upload(C, 0, hC, (size_t)M * N, NULL);
                    }
                    double *dA = tu_dbl(hA, (size_t)M * K), *dB = tu_dbl(hB, (size_t)K * N);
                    double *dC = tu_dbl(hC, (size_t)M * N), *db = tu_dbl(hb, N);
                    s4g_ref_gemm(ta, tb, M, N, K, alpha, dA, dB, beta, dC, with_bias ? db : NULL);
                    fn(ta, tb, M, N, K, alpha, A, B, beta, C, with_bias ? bias : NULL);
                    float *got = tu_get(C, (size_t)M * N);
                    double e = nmse(got, dC, (size_t)M * N);
                    if (!(e <= 1e-10))
                        g_error("%s ta=%d tb=%d M=%d N=%d K=%d alpha=%g beta=%g bias=%d: "
                                "NMSE %.3g > 1e-10",
                                name, ta, tb, M, N, K, alpha, beta, with_bias, e);
                    g_free(got);
                    g_free(dA);
                    g_free(dB);
                    g_free(dC);
                    g_free(db);
                    g_free(hA);
                    g_free(hB);
                    g_free(hC);
                    g_free(hb);
                    s4g_buf_free(A);
                    s4g_buf_free(B);
                    s4g_buf_free(C);
                    s4g_buf_free(bias);
                }
}

static void test_gemm(void)
{
    check_gemm(gemm_api, "gemm");
}

static void test_gemm_blocked(void)
{
    check_gemm(gemm_blocked, "gemm_blocked");
}

/* s4g_gemm_gelu / s4g_gemm_gelu_back (GELU applied per chunk of rows while it is in cache)
 * against the double reference: the product to the GEMM's NMSE, the GELU (forward) and
 * gelu'(H) * T (backward) element-wise from the product it returned.  {1000, 1031, 7} and
 * {777, 2049, 3} are split into chunks of 112 and 64 rows with a partial last one. */
static double gelu_grad1(double x)
{
    return 0.5 * (1.0 + erf(x / sqrt(2.0))) + x * exp(-0.5 * x * x) / sqrt(2.0 * G_PI);
}

static void test_gemm_gelu(void)
{
    static const int shapes[][3] = {{7, 33, 129}, {1, 3, 1}, {333, 97, 61}, {1000, 1031, 7},
                                    {777, 2049, 3}};
    uint64_t rng = 77;
    s4g_err err = {0};
    for (size_t s = 0; s < G_N_ELEMENTS(shapes); s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
                size_t mn = (size_t)M * N;
                float *hA, *hB, *hb, *hH;
                s4g_buf *A = tu_rand(ctx, &rng, (size_t)M * K, -1, 1, &hA);
                s4g_buf *B = tu_rand(ctx, &rng, (size_t)K * N, -1, 1, &hB);
                s4g_buf *bias = tu_rand(ctx, &rng, N, -1, 1, &hb);
                s4g_buf *H = tu_rand(ctx, &rng, mn, -2, 2, &hH); /* backward's H: any values */
                s4g_buf *C = tu_rand(ctx, &rng, mn, -1, 1, NULL);
                s4g_buf *G = tu_rand(ctx, &rng, mn, -1, 1, NULL);
                double *dA = tu_dbl(hA, (size_t)M * K), *dB = tu_dbl(hB, (size_t)K * N);
                double *db = tu_dbl(hb, N), *want = g_new(double, mn), *w2 = g_new(double, mn);
                char what[96];
                g_snprintf(what, sizeof what, "gemm_gelu ta=%d tb=%d M=%d N=%d K=%d", ta, tb, M,
                           N, K);

                s4g_ref_gemm(ta, tb, M, N, K, 1.25, dA, dB, 0.0, want, db);
                g_assert_cmpint(s4g_gemm_gelu(ctx, ta, tb, M, N, K, 1.25f, s4g_at(A, 0),
                                              s4g_at(B, 0), s4g_at(bias, 0), s4g_at(C, 0),
                                              s4g_at(G, 0), &err),
                                ==, 0);
                float *got = tu_get(C, mn);
                if (!(nmse(got, want, mn) <= 1e-10))
                    g_error("%s: product NMSE %.3g", what, nmse(got, want, mn));
                double *dgot = tu_dbl(got, mn);
                s4g_ref_gelu(mn, dgot, w2);
                tu_check(what, G, w2, mn, TOL);
                g_free(got);
                g_free(dgot);

                g_snprintf(what, sizeof what, "gemm_gelu_back ta=%d tb=%d M=%d N=%d K=%d", ta, tb,
                           M, N, K);
                s4g_ref_gemm(ta, tb, M, N, K, 1.25, dA, dB, 0.0, want, NULL);
                g_assert_cmpint(s4g_gemm_gelu_back(ctx, ta, tb, M, N, K, 1.25f, s4g_at(A, 0),
                                                   s4g_at(B, 0), s4g_at(H, 0), s4g_at(C, 0),
                                                   s4g_at(G, 0), &err),
                                ==, 0);
                got = tu_get(C, mn);
                if (!(nmse(got, want, mn) <= 1e-10))
                    g_error("%s: product NMSE %.3g", what, nmse(got, want, mn));
                for (size_t i = 0; i < mn; i++)
                    w2[i] = gelu_grad1(hH[i]) * got[i];
                tu_check(what, G, w2, mn, TOL);
                g_free(got);
                g_free(dA);
                g_free(dB);
                g_free(db);
                g_free(want);
                g_free(w2);
                g_free(hA);
                g_free(hB);
                g_free(hb);
                g_free(hH);
                s4g_buf_free(A);
                s4g_buf_free(B);
                s4g_buf_free(bias);
                s4g_buf_free(H);
                s4g_buf_free(C);
                s4g_buf_free(G);
            }
}

static void test_colsum(void)
{
    uint64_t rng = 5;
    s4g_err err = {0};
    /* 64-column chunks whole (128) and cut (33, 70, 200), one row, odd row counts */
    static const int shapes[][2] = {{7, 3},     {129, 33},  {33, 129}, {1000, 70},
                                    {301, 128}, {5, 200},   {1, 64}};
    for (size_t s = 0; s < G_N_ELEMENTS(shapes); s++)
        for (int b = 0; b < 2; b++) {
            int M = shapes[s][0], N = shapes[s][1];
            float beta = b ? 0.5f : 0.0f;
            float *hx, *ho;
            s4g_buf *x = tu_rand(ctx, &rng, (size_t)M * N, -1, 1, &hx);
            s4g_buf *o = tu_rand(ctx, &rng, N, -1, 1, &ho);
            double *dx = tu_dbl(hx, (size_t)M * N), *dout = tu_dbl(ho, N);
            s4g_ref_colsum(M, N, dx, beta, dout);
            g_assert_cmpint(s4g_colsum(ctx, M, N, s4g_at(x, 0), beta, s4g_at(o, 0), &err), ==, 0);
            tu_check("colsum", o, dout, N, TOL);
            g_free(dx);
            g_free(dout);
            g_free(hx);
            g_free(ho);
            s4g_buf_free(x);
            s4g_buf_free(o);
        }
}

static void test_patchify(void)
{
    /* stem k=4 on 13x9 (floor drops a row and a column), downsample k=2 on 7x13 */
    static const int cases[][5] = {{2, 13, 9, 3, 4}, {3, 7, 13, 5, 2}, {2, 9, 7, 33, 2}};
    uint64_t rng = 7;
    s4g_err err = {0};
    for (size_t ci = 0; ci < G_N_ELEMENTS(cases); ci++) {
        int N = cases[ci][0], H = cases[ci][1], W = cases[ci][2], C = cases[ci][3],
            k = cases[ci][4];
        size_t nx = (size_t)N * H * W * C, ny = (size_t)N * (H / k) * (W / k) * k * k * C;
        float *hx;
        s4g_buf *x = tu_rand(ctx, &rng, nx, -1, 1, &hx);
        s4g_buf *y = tu_buf(ctx, ny, NULL);
        double *dx = tu_dbl(hx, nx), *dy = g_new(double, ny);
        s4g_ref_patchify(N, H, W, C, k, dx, dy);
        g_assert_cmpint(s4g_patchify(ctx, N, H, W, C, k, s4g_at(x, 0), s4g_at(y, 0), &err), ==,
                        0);
        tu_check("patchify", y, dy, ny, 0);
        g_free(dx);
        g_free(dy);
        g_free(hx);
        s4g_buf_free(x);
        s4g_buf_free(y);
    }
}

static void test_dwconv7(void)
{
    static const int cases[][4] = {{2, 7, 9, 33}, {3, 13, 7, 5}, {2, 9, 13, 3}, {2, 3, 2, 70}};
    uint64_t rng = 8;
    s4g_err err = {0};
    for (size_t ci = 0; ci < G_N_ELEMENTS(cases); ci++)
        for (int with_b = 0; with_b < 2; with_b++) {
            int N = cases[ci][0], H = cases[ci][1], W = cases[ci][2], C = cases[ci][3];
            size_t n = (size_t)N * H * W * C;
            float *hx, *hw, *hb;
            s4g_buf *x = tu_rand(ctx, &rng, n, -1, 1, &hx);
            s4g_buf *w = tu_rand(ctx, &rng, 49 * (size_t)C, -1, 1, &hw);
            s4g_buf *b = tu_rand(ctx, &rng, C, -1, 1, &hb);
            s4g_buf *y = tu_buf(ctx, n, NULL);
            double *dx = tu_dbl(hx, n), *dw = tu_dbl(hw, 49 * (size_t)C), *db = tu_dbl(hb, C);
            double *want = g_new(double, n);
            s4g_ref_dwconv7(N, H, W, C, dx, dw, with_b ? db : NULL, want);
            g_assert_cmpint(s4g_dwconv7(ctx, N, H, W, C, s4g_at(x, 0), s4g_at(w, 0),
                                        with_b ? s4g_at(b, 0) : s4g_none(), s4g_at(y, 0), &err),
                            ==, 0);
            tu_check("dwconv7", y, want, n, TOL);
            g_free(want);
            g_free(dx);
            g_free(dw);
            g_free(db);
            g_free(hx);
            g_free(hw);
            g_free(hb);
            s4g_buf_free(x);
            s4g_buf_free(w);
            s4g_buf_free(b);
            s4g_buf_free(y);
        }
}

static void test_layernorm(void)
{
    static const int cases[][2] = {{7, 3}, {33, 5}, {129, 33}, {7, 1024}};
    uint64_t rng = 9;
    s4g_err err = {0};
    for (size_t ci = 0; ci < G_N_ELEMENTS(cases); ci++) {
        int rows = cases[ci][0], C = cases[ci][1];
        size_t n = (size_t)rows * C;
        float *hx, *hg, *hb;
        float *tmp = g_new(float, n);
        s4g_buf *x = tu_rand(ctx, &rng, n, -2, 2, &hx);
        /* large per-row offsets: one-pass E[x^2]-E[x]^2 statistics would lose digits */
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < C; c++)
                hx[(size_t)r * C + c] += 50.0f * (float)(r % 5);
        s4g_buf_upload(x, 0, hx, n, NULL);
        s4g_buf *g = tu_rand(ctx, &rng, C, 0.5, 1.5, &hg);
        s4g_buf *b = tu_rand(ctx, &rng, C, -1, 1, &hb);
        s4g_buf *y = tu_buf(ctx, n, NULL), *mean = tu_buf(ctx, rows, NULL),
                *rstd = tu_buf(ctx, rows, NULL);
        double *dx = tu_dbl(hx, n), *dg = tu_dbl(hg, C), *db = tu_dbl(hb, C);
        double *want = g_new(double, n), *wm = g_new(double, rows), *wr = g_new(double, rows);
        s4g_ref_layernorm(rows, C, 1e-6, dx, dg, db, want, wm, wr);
        g_assert_cmpint(s4g_layernorm(ctx, rows, C, 1e-6f, s4g_at(x, 0), s4g_at(g, 0),
                                      s4g_at(b, 0), s4g_at(y, 0), s4g_at(mean, 0),
                                      s4g_at(rstd, 0), &err),
                        ==, 0);
        float *got = tu_get(y, n), *gm = tu_get(mean, rows), *gr = tu_get(rstd, rows);
        tu_close("layernorm y", got, want, n, TOL);
        tu_close("layernorm mean", gm, wm, rows, TOL);
        /* rstd is relative: 1/std can be large */
        for (int r = 0; r < rows; r++)
            g_assert_cmpfloat(fabs(gr[r] - wr[r]), <=, TOL * wr[r]);
        /* mean/rstd are optional */
        g_assert_cmpint(s4g_layernorm(ctx, rows, C, 1e-6f, s4g_at(x, 0), s4g_at(g, 0),
                                      s4g_at(b, 0), s4g_at(y, 0), s4g_none(), s4g_none(), &err),
                        ==, 0);
        g_free(got);
        tu_check("layernorm y (no stats)", y, want, n, TOL);
        g_free(gm);
        g_free(gr);
        g_free(want);
        g_free(wm);
        g_free(wr);
        g_free(dx);
        g_free(dg);
        g_free(db);
        g_free(hx);
        g_free(hg);
        g_free(hb);
        g_free(tmp);
        s4g_buf_free(x);
        s4g_buf_free(g);
        s4g_buf_free(b);
        s4g_buf_free(y);
        s4g_buf_free(mean);
        s4g_buf_free(rstd);
    }
}

static void test_scale_residual(void)
{
    uint64_t rng = 10;
    s4g_err err = {0};
    int rows = 129, C = 33;
    size_t n = (size_t)rows * C;
    float *hx, *hy, *hg;
    s4g_buf *x = tu_rand(ctx, &rng, n, -1, 1, &hx), *y = tu_rand(ctx, &rng, n, -1, 1, &hy);
    s4g_buf *g = tu_rand(ctx, &rng, C, -1, 1, &hg);
    double *dx = tu_dbl(hx, n), *dy = tu_dbl(hy, n), *dg = tu_dbl(hg, C), *want = g_new(double, n);
    s4g_ref_scale_residual(rows, C, dx, dy, dg, want);
    /* in place: out aliases x, as the residual stream is updated */
    g_assert_cmpint(s4g_scale_residual(ctx, rows, C, s4g_at(x, 0), s4g_at(y, 0), s4g_at(g, 0),
                                       s4g_at(x, 0), &err),
                    ==, 0);
    tu_check("scale_residual", x, want, n, TOL);
    g_free(dx);
    g_free(dy);
    g_free(dg);
    g_free(want);
    g_free(hx);
    g_free(hy);
    g_free(hg);
    s4g_buf_free(x);
    s4g_buf_free(y);
    s4g_buf_free(g);
}

static void test_avgpool(void)
{
    static const int cases[][3] = {{2, 49, 33}, {3, 91, 5}, {2, 117, 129}};
    uint64_t rng = 12;
    s4g_err err = {0};
    for (size_t ci = 0; ci < G_N_ELEMENTS(cases); ci++) {
        int N = cases[ci][0], HW = cases[ci][1], C = cases[ci][2];
        size_t n = (size_t)N * HW * C;
        float *hx;
        s4g_buf *x = tu_rand(ctx, &rng, n, -1, 1, &hx), *y = tu_buf(ctx, (size_t)N * C, NULL);
        double *dx = tu_dbl(hx, n), *want = g_new(double, (size_t)N * C);
        s4g_ref_avgpool(N, HW, C, dx, want);
        g_assert_cmpint(s4g_avgpool(ctx, N, HW, C, s4g_at(x, 0), s4g_at(y, 0), &err), ==, 0);
        tu_check("avgpool", y, want, (size_t)N * C, TOL);
        g_free(dx);
        g_free(want);
        g_free(hx);
        s4g_buf_free(x);
        s4g_buf_free(y);
    }
}

static void test_l2norm(void)
{
    static const int cases[][2] = {{7, 3}, {33, 129}, {129, 33}};
    uint64_t rng = 13;
    s4g_err err = {0};
    for (size_t ci = 0; ci < G_N_ELEMENTS(cases); ci++) {
        int rows = cases[ci][0], C = cases[ci][1];
        size_t n = (size_t)rows * C;
        float *hx;
        s4g_buf *x = tu_rand(ctx, &rng, n, -3, 3, &hx);
        for (int c = 0; c < C; c++) /* an all-zero row: norm clamps at 1e-12, y = 0 */
            hx[c] = 0;
        s4g_buf_upload(x, 0, hx, n, NULL);
        s4g_buf *y = tu_buf(ctx, n, NULL), *nr = tu_buf(ctx, rows, NULL);
        double *dx = tu_dbl(hx, n), *want = g_new(double, n), *wn = g_new(double, rows);
        s4g_ref_l2norm(rows, C, dx, want, wn);
        g_assert_cmpint(s4g_l2norm(ctx, rows, C, s4g_at(x, 0), s4g_at(y, 0), s4g_at(nr, 0), &err),
                        ==, 0);
        float *got = tu_get(y, n), *gn = tu_get(nr, rows);
        tu_close("l2norm", got, want, n, TOL);
        tu_close("l2norm norms", gn, wn, rows, TOL);
        g_assert_cmpfloat(got[0], ==, 0.0f);
        g_free(got);
        g_free(gn);
        g_free(dx);
        g_free(want);
        g_free(wn);
        g_free(hx);
        s4g_buf_free(x);
        s4g_buf_free(y);
        s4g_buf_free(nr);
    }
}

static void test_infonce(void)
{
    static const int cases[][2] = {{7, 33}, {33, 129}, {2, 5}};
    static const float smooth[] = {0.1f, 0.0f};
    uint64_t rng = 14;
    s4g_err err = {0};
    for (size_t ci = 0; ci < G_N_ELEMENTS(cases); ci++)
        for (size_t si = 0; si < G_N_ELEMENTS(smooth); si++) {
            int B = cases[ci][0], D = cases[ci][1];
            size_t n = (size_t)B * D;
            float *hq, *hr;
            s4g_buf *q = tu_rand(ctx, &rng, n, -1, 1, &hq), *r = tu_rand(ctx, &rng, n, -1, 1, &hr);
            /* unit rows, as after l2norm; the loss is defined for any rows though */
            s4g_l2norm(ctx, B, D, s4g_at(q, 0), s4g_at(q, 0), s4g_none(), &err);
            s4g_l2norm(ctx, B, D, s4g_at(r, 0), s4g_at(r, 0), s4g_none(), &err);
            g_free(hq);
            g_free(hr);
            hq = tu_get(q, n);
            hr = tu_get(r, n);
            float ls = logf(1.0f / 0.07f);
            s4g_buf *scale = tu_buf(ctx, 1, &ls), *loss = tu_buf(ctx, 1, NULL);
            double *dq = tu_dbl(hq, n), *dr = tu_dbl(hr, n);
            double want = s4g_ref_infonce(B, D, smooth[si], dq, dr, ls);
            g_assert_cmpint(s4g_infonce(ctx, B, D, smooth[si], s4g_at(q, 0), s4g_at(r, 0),
                                        s4g_at(scale, 0), s4g_at(loss, 0), s4g_none(),
                                        s4g_none(), s4g_none(), &err),
                            ==, 0);
            float *got = tu_get(loss, 1);
            tu_close("infonce loss", got, &want, 1, TOL);
            g_assert_cmpfloat(got[0], >, 0.0f);
            g_free(got);
            g_free(dq);
            g_free(dr);
            g_free(hq);
            g_free(hr);
            s4g_buf_free(q);
            s4g_buf_free(r);
            s4g_buf_free(scale);
            s4g_buf_free(loss);
        }
    /* A known value: B=2, orthogonal perfect pairs, s=1, smoothing 0:
     * each row's logits (1, 0): loss = log(1 + e^-1). */
    float q2[4] = {1, 0, 0, 1}, zero = 0;
    s4g_buf *q = tu_buf(ctx, 4, q2), *sc = tu_buf(ctx, 1, &zero), *loss = tu_buf(ctx, 1, NULL);
    g_assert_cmpint(s4g_infonce(ctx, 2, 2, 0.0f, s4g_at(q, 0), s4g_at(q, 0), s4g_at(sc, 0),
                                s4g_at(loss, 0), s4g_none(), s4g_none(), s4g_none(), &err),
                    ==, 0);
    float *got = tu_get(loss, 1);
    g_assert_cmpfloat_with_epsilon(got[0], log(1.0 + exp(-1.0)), 1e-6);
    g_free(got);
    s4g_buf_free(q);
    s4g_buf_free(sc);
    s4g_buf_free(loss);
}

static void test_adamw(void)
{
    const size_t n = 129;
    uint64_t rng = 15;
    s4g_err err = {0};
    float *hp;
    s4g_buf *p = tu_rand(ctx, &rng, n, -1, 1, &hp);
    s4g_buf *g = tu_buf(ctx, n, NULL), *m = tu_buf(ctx, n, NULL), *v = tu_buf(ctx, n, NULL);
    double *dp = tu_dbl(hp, n), *dm = g_new0(double, n), *dv = g_new0(double, n);
    double *dg = g_new(double, n);
    float *hg = g_new(float, n);
    /* step 1 with lr 0 (the schedule's first step), then two real steps */
    const float lrs[3] = {0.0f, 1e-3f, 5e-4f};
    for (int step = 1; step <= 3; step++) {
        s4g_ref_random(&rng, hg, n, -2, 2);
        hg[0] = 0; /* zero gradient: only decay and momentum move p */
        s4g_buf_upload(g, 0, hg, n, NULL);
        s4g_ref_to_double(hg, dg, n);
        s4g_adamw_hp hpar = {.lr = lrs[step - 1], .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                             .weight_decay = 0.01f, .step = step};
        g_assert_cmpint(s4g_adamw(ctx, n, s4g_at(p, 0), s4g_at(g, 0), s4g_at(m, 0), s4g_at(v, 0),
                                  &hpar, &err),
                        ==, 0);
        s4g_ref_adamw(n, dp, dg, dm, dv, (double)hpar.lr, (double)hpar.beta1,
                      (double)hpar.beta2, (double)hpar.eps, (double)hpar.weight_decay, step);
        float *gp = tu_get(p, n), *gm = tu_get(m, n), *gv = tu_get(v, n);
        tu_close("adamw p", gp, dp, n, 1e-6);
        tu_close("adamw m", gm, dm, n, 1e-6);
        tu_close("adamw v", gv, dv, n, 1e-6);
        if (step == 1) /* lr 0: parameters unchanged */
            g_assert_cmpmem(gp, n * sizeof(float), hp, n * sizeof(float));
        g_free(gp);
        g_free(gm);
        g_free(gv);
    }
    /* step 0 is rejected */
    s4g_adamw_hp bad = {.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .step = 0};
    g_assert_cmpint(s4g_adamw(ctx, n, s4g_at(p, 0), s4g_at(g, 0), s4g_at(m, 0), s4g_at(v, 0),
                              &bad, &err),
                    ==, -1);
    g_free(hp);
    g_free(hg);
    g_free(dp);
    g_free(dm);
    g_free(dv);
    g_free(dg);
    s4g_buf_free(p);
    s4g_buf_free(g);
    s4g_buf_free(m);
    s4g_buf_free(v);
}

static void test_cosine_lr(void)
{
    const double base = 1e-3;
    g_assert_cmpfloat(s4g_cosine_lr(base, 0, 10, 100), ==, 0.0);
    g_assert_cmpfloat_with_epsilon(s4g_cosine_lr(base, 5, 10, 100), 0.5e-3, 1e-15);
    g_assert_cmpfloat_with_epsilon(s4g_cosine_lr(base, 10, 10, 100), base, 1e-15);
    g_assert_cmpfloat_with_epsilon(s4g_cosine_lr(base, 55, 10, 100), 0.5e-3, 1e-15);
    g_assert_cmpfloat_with_epsilon(s4g_cosine_lr(base, 100, 10, 100), 0.0, 1e-15);
    g_assert_cmpfloat(s4g_cosine_lr(base, 150, 10, 100), >=, 0.0);
    /* fractional warm-up as U1652 (W = 0 here): first step already at the top */
    g_assert_cmpfloat_with_epsilon(s4g_cosine_lr(base, 0, 0, 100), base, 1e-15);
    /* monotone after the warm-up */
    for (long k = 11; k <= 100; k++)
        g_assert_cmpfloat(s4g_cosine_lr(base, k, 10, 100), <=, s4g_cosine_lr(base, k - 1, 10, 100));
}

/* The reference's W is a real number: University-1652 logs "Warmup Steps: 473.2, Train Steps:
 * 4732" (ceil(37854/8) × 0.1 and × 1).  lambda(k) = k / max(1, W) for k < W, else
 * 0.5 (1 + cos(pi (k − W) / max(1, T − W))); values worked out from that formula. */
static void test_cosine_lr_fractional(void)
{
    const double base = 1e-3, W = 473.2;
    const long T = 4732;
    g_assert_cmpfloat(s4g_cosine_lr(base, 0, W, T), ==, 0.0);
    /* 1e-3 / 473.2 */
    g_assert_cmpfloat_with_epsilon(s4g_cosine_lr(base, 1, W, T), 2.113271344040575e-06, 1e-18);
    /* 473 < W: still warming up, 473 / 473.2 of the peak (W rounded to 473 would give 1e-3) */
    g_assert_cmpfloat_with_epsilon(s4g_cosine_lr(base, 473, W, T), 9.99577345731192e-04, 1e-17);
    g_assert_cmpfloat(s4g_cosine_lr(base, 473, W, T), <, base - 4e-7);
    /* 474: cosine at (474 − 473.2) / 4258.8 of its span */
    g_assert_cmpfloat_with_epsilon(s4g_cosine_lr(base, 474, W, T), 9.999999129346752e-04, 1e-17);
    /* (2366 − 473.2) / 4258.8 = 0.44444…: 0.5 (1 + cos(0.44444 pi)) */
    g_assert_cmpfloat_with_epsilon(s4g_cosine_lr(base, 2366, W, T), 5.868240888334653e-04, 1e-16);
    g_assert_cmpfloat_with_epsilon(s4g_cosine_lr(base, 4731, W, T), 1.3603956783292403e-10, 1e-17);
    g_assert_cmpfloat_with_epsilon(s4g_cosine_lr(base, T, W, T), 0.0, 1e-18);
    /* W < 1 divides by max(1, W) = 1 while k < W, then the cosine starts at k = 1 */
    g_assert_cmpfloat(s4g_cosine_lr(base, 0, 0.5, 10), ==, 0.0);
    g_assert_cmpfloat_with_epsilon(s4g_cosine_lr(base, 1, 0.5, 10), 9.931806517013613e-04, 1e-17);
    g_assert_cmpfloat_with_epsilon(s4g_cosine_lr(base, 2, 0.5, 10), 9.397368756032445e-04, 1e-17);
}

static void test_bounds(void)
{
    s4g_err err = {0};
    s4g_buf *a = tu_buf(ctx, 100, NULL), *small = tu_buf(ctx, 10, NULL);
    /* C needs 7*9 = 63 floats, has 10 */
    g_assert_cmpint(s4g_gemm(ctx, 0, 0, 7, 9, 3, 1, s4g_at(a, 0), s4g_at(a, 0), 0,
                             s4g_at(small, 0), s4g_none(), &err),
                    ==, -1);
    g_assert_cmpint(err.code, ==, S4G_E_INVALID);
    g_assert_nonnull(strstr(err.msg, "gemm"));
    g_assert_nonnull(strstr(err.msg, "'C'"));
    s4g_err_clear(&err);
    /* an offset pushing the range past the end */
    g_assert_cmpint(s4g_fill(ctx, 10, s4g_at(a, 95), 1, &err), ==, -1);
    g_assert_nonnull(strstr(err.msg, "fill"));
    g_assert_cmpint(s4g_copy(ctx, 5, s4g_at(a, 0), s4g_at(a, 1000), &err), ==, -1);
    /* dwconv7 weights need 49*C */
    g_assert_cmpint(s4g_dwconv7(ctx, 1, 3, 3, 3, s4g_at(a, 0), s4g_at(small, 0), s4g_none(),
                                s4g_at(a, 0), &err),
                    ==, -1);
    g_assert_nonnull(strstr(err.msg, "'w'"));
    /* a missing required tensor */
    g_assert_cmpint(s4g_layernorm(ctx, 2, 3, 1e-6f, s4g_at(a, 0), s4g_none(), s4g_at(a, 0),
                                  s4g_at(a, 0), s4g_none(), s4g_none(), &err),
                    ==, -1);
    g_assert_nonnull(strstr(err.msg, "gamma"));
    /* non-positive dims, patch larger than the input, bad smoothing */
    g_assert_cmpint(s4g_avgpool(ctx, 0, 3, 3, s4g_at(a, 0), s4g_at(a, 0), &err), ==, -1);
    g_assert_cmpint(s4g_patchify(ctx, 1, 3, 3, 1, 4, s4g_at(a, 0), s4g_at(a, 0), &err), ==, -1);
    g_assert_cmpint(s4g_infonce(ctx, 2, 2, 1.0f, s4g_at(a, 0), s4g_at(a, 0), s4g_at(a, 0),
                                s4g_at(a, 0), s4g_none(), s4g_none(), s4g_none(), &err),
                    ==, -1);
    /* a tensor of another context */
    s4g_ctx *other = tu_ctx(1);
    s4g_buf *ob = tu_buf(other, 100, NULL);
    g_assert_cmpint(s4g_add(ctx, 5, s4g_at(a, 0), s4g_at(ob, 0), s4g_at(a, 0), &err), ==, -1);
    g_assert_nonnull(strstr(err.msg, "another context"));
    /* nothing was written by the failed calls */
    float *h = tu_get(a, 100);
    for (int i = 0; i < 100; i++)
        g_assert_cmpfloat(h[i], ==, 0.0f);
    g_free(h);
    s4g_buf_free(ob);
    s4g_ctx_free(other);
    s4g_buf_free(a);
    s4g_buf_free(small);
}

/* The same reductions with 1 and 3 threads must agree bit for bit. */
static void test_threads_deterministic(void)
{
    s4g_ctx *c1 = tu_ctx(1), *c3 = tu_ctx(3);
    s4g_ctx *cs[2] = {c1, c3};
    const int N = 2, H = 33, W = 31, C = 70, rows = N * H * W;
    const size_t n = (size_t)rows * C;
    float *out[2][4];
    for (int t = 0; t < 2; t++) {
        s4g_err err = {0};
        uint64_t rng = 99;
        s4g_ctx *c = cs[t];
        s4g_buf *x = tu_rand(c, &rng, n, -1, 1, NULL), *dy = tu_rand(c, &rng, n, -1, 1, NULL);
        s4g_buf *w = tu_rand(c, &rng, 49 * C, -1, 1, NULL), *g = tu_rand(c, &rng, C, -1, 1, NULL);
        s4g_buf *dx = tu_buf(c, n, NULL), *dw = tu_buf(c, 49 * C, NULL), *db = tu_buf(c, C, NULL);
        s4g_buf *cs_ = tu_buf(c, C, NULL), *mean = tu_buf(c, rows, NULL),
                *rstd = tu_buf(c, rows, NULL), *dg = tu_buf(c, C, NULL), *y = tu_buf(c, n, NULL);
        g_assert_cmpint(s4g_dwconv7_back(c, N, H, W, C, s4g_at(x, 0), s4g_at(w, 0),
                                         s4g_at(dy, 0), s4g_at(dx, 0), 0, s4g_at(dw, 0),
                                         s4g_at(db, 0), &err),
                        ==, 0);
        g_assert_cmpint(s4g_colsum(c, rows, C, s4g_at(x, 0), 0, s4g_at(cs_, 0), &err), ==, 0);
        g_assert_cmpint(s4g_layernorm(c, rows, C, 1e-6f, s4g_at(x, 0), s4g_at(g, 0), s4g_at(g, 0),
                                      s4g_at(y, 0), s4g_at(mean, 0), s4g_at(rstd, 0), &err),
                        ==, 0);
        g_assert_cmpint(s4g_layernorm_back(c, rows, C, s4g_at(x, 0), s4g_at(g, 0),
                                           s4g_at(mean, 0), s4g_at(rstd, 0), s4g_at(dy, 0),
                                           s4g_at(y, 0), s4g_at(dg, 0), s4g_none(), &err),
                        ==, 0);
        out[t][0] = tu_get(dw, 49 * C);
        out[t][1] = tu_get(db, C);
        out[t][2] = tu_get(cs_, C);
        out[t][3] = tu_get(dg, C);
        tu_free_bufs(x, dy, w, g, dx, dw, db, cs_, mean, rstd, dg, y);
    }
    g_assert_cmpmem(out[0][0], 49 * C * sizeof(float), out[1][0], 49 * C * sizeof(float));
    for (int k = 1; k < 4; k++)
        g_assert_cmpmem(out[0][k], C * sizeof(float), out[1][k], C * sizeof(float));
    for (int t = 0; t < 2; t++)
        for (int k = 0; k < 4; k++)
            g_free(out[t][k]);
    s4g_ctx_free(c1);
    s4g_ctx_free(c3);
}

/* Two threads issuing ops on one context at once: the second finds the pool busy and runs
 * its op serially; both must get exactly the results of running alone. */
typedef struct {
    s4g_ctx *ctx;
    uint64_t seed;
    float *out; /* gemm result then layernorm result */
} shared_arg;

enum { SH_M = 129, SH_N = 65, SH_K = 300 };

static void shared_work(shared_arg *a, int reps)
{
    s4g_err err = {0};
    uint64_t rng = a->seed;
    s4g_buf *A = tu_rand(a->ctx, &rng, SH_M * SH_K, -1, 1, NULL);
    s4g_buf *B = tu_rand(a->ctx, &rng, SH_N * SH_K, -1, 1, NULL);
    s4g_buf *g = tu_rand(a->ctx, &rng, SH_N, -1, 1, NULL);
    s4g_buf *C = tu_buf(a->ctx, SH_M * SH_N, NULL), *Y = tu_buf(a->ctx, SH_M * SH_N, NULL);
    for (int r = 0; r < reps; r++) {
        g_assert_cmpint(s4g_gemm(a->ctx, 0, 1, SH_M, SH_N, SH_K, 1, s4g_at(A, 0), s4g_at(B, 0), 0,
                                 s4g_at(C, 0), s4g_at(g, 0), &err),
                        ==, 0);
        g_assert_cmpint(s4g_layernorm(a->ctx, SH_M, SH_N, 1e-6f, s4g_at(C, 0), s4g_at(g, 0),
                                      s4g_at(g, 0), s4g_at(Y, 0), s4g_none(), s4g_none(), &err),
                        ==, 0);
    }
    a->out = tu_get(Y, SH_M * SH_N);
    tu_free_bufs(A, B, g, C, Y);
}

static gpointer shared_thread(gpointer p)
{
    shared_work(p, 40);
    return NULL;
}

static void test_shared_context(void)
{
    s4g_ctx *c = tu_ctx(2);
    shared_arg solo[2] = {{c, 1, NULL}, {c, 2, NULL}}, both[2] = {{c, 1, NULL}, {c, 2, NULL}};
    shared_work(&solo[0], 1);
    shared_work(&solo[1], 1);
    GThread *t0 = g_thread_new("s4g-test-a", shared_thread, &both[0]);
    GThread *t1 = g_thread_new("s4g-test-b", shared_thread, &both[1]);
    g_thread_join(t0);
    g_thread_join(t1);
    for (int i = 0; i < 2; i++) {
        g_assert_cmpmem(solo[i].out, SH_M * SH_N * sizeof(float), both[i].out,
                        SH_M * SH_N * sizeof(float));
        g_free(solo[i].out);
        g_free(both[i].out);
    }
    s4g_ctx_free(c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ctx = tu_ctx(3);
    g_test_add_func("/cpu/describe", test_describe);
    tu_add_isa("/cpu", "eltwise", test_eltwise);
    g_test_add_func("/cpu/gemm", test_gemm);
    g_test_add_func("/cpu/gemm-blocked", test_gemm_blocked);
    tu_add_isa("/cpu", "gemm-gelu", test_gemm_gelu);
    tu_add_isa("/cpu", "colsum", test_colsum);
    g_test_add_func("/cpu/patchify", test_patchify);
    tu_add_isa("/cpu", "dwconv7", test_dwconv7);
    tu_add_isa("/cpu", "layernorm", test_layernorm);
    g_test_add_func("/cpu/scale-residual", test_scale_residual);
    g_test_add_func("/cpu/avgpool", test_avgpool);
    g_test_add_func("/cpu/l2norm", test_l2norm);
    g_test_add_func("/cpu/infonce", test_infonce);
    tu_add_isa("/cpu", "adamw", test_adamw);
    g_test_add_func("/cpu/cosine-lr", test_cosine_lr);
    g_test_add_func("/cpu/cosine-lr-fractional", test_cosine_lr_fractional);
    g_test_add_func("/cpu/bounds", test_bounds);
    g_test_add_func("/cpu/threads-deterministic", test_threads_deterministic);
    g_test_add_func("/cpu/shared-context", test_shared_context);
    int rc = g_test_run();
    s4g_ctx_free(ctx);
    return rc;
}
