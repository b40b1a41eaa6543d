/* test-vk-core-ops.c — every vk-core kernel on the Vulkan backend (lavapipe) against the CPU
 * backend on odd sizes and non-zero tensor offsets; GEMM also against a double-precision
 * loop.  Tolerance: max |vk - ref| <= 1e-5 * max(1, max |ref|).  Run once with push
 * descriptors and once with the descriptor-pool fallback. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "s4g-compute.h"

typedef struct {
    s4g_ctx *vk, *cpu;
} pair;

static guint32 rng = 12345;
static float frand(void)
{
    rng = rng * 1664525u + 1013904223u;
    return (float)((rng >> 8) & 0xffffff) / (float)0x800000 - 1.0f; /* [-1, 1) */
}

static pair pair_new(void)
{
    s4g_err err = {0};
    s4g_ctx_opts ov = {.backend = S4G_BACKEND_VULKAN, .allow_cpu_device = 1};
    s4g_ctx_opts oc = {.backend = S4G_BACKEND_CPU, .threads = 1};
    pair p = {s4g_ctx_new(&ov, &err), NULL};
    if (!p.vk)
        g_error("vulkan context: %s", err.msg);
    p.cpu = s4g_ctx_new(&oc, &err);
    g_assert_nonnull(p.cpu);
    return p;
}

static void pair_free(pair *p)
{
    g_assert_cmpint(s4g_ctx_validation_errors(p->vk), ==, 0);
    s4g_ctx_free(p->vk);
    s4g_ctx_free(p->cpu);
}

/* Same random data, at element offset `off`, in one buffer per backend. */
typedef struct {
    s4g_buf *v, *c;
    size_t off, n;
} tens;

#define OFF 3

static tens tens_new(pair *p, size_t n, float lo, float hi)
{
    s4g_err err = {0};
    tens t = {s4g_buf_new(p->vk, n + OFF + 2, &err), s4g_buf_new(p->cpu, n + OFF + 2, &err), OFF,
              n};
    g_assert_nonnull(t.v);
    g_assert_nonnull(t.c);
    float *x = g_new(float, n + OFF + 2);
    for (size_t i = 0; i < n + OFF + 2; i++)
        x[i] = lo + (hi - lo) * 0.5f * (frand() + 1.0f);
    g_assert_cmpint(s4g_buf_upload(t.v, 0, x, n + OFF + 2, &err), ==, 0);
    g_assert_cmpint(s4g_buf_upload(t.c, 0, x, n + OFF + 2, &err), ==, 0);
    g_free(x);
    return t;
}

static void tens_free(tens *t)
{
    s4g_buf_free(t->v);
    s4g_buf_free(t->c);
}

static float *fetch(s4g_buf *b)
{
    s4g_err err = {0};
    size_t n = s4g_buf_len(b);
    float *x = g_new(float, n);
    g_assert_cmpint(s4g_buf_download(b, 0, x, n, &err), ==, 0);
    return x;
}

/* Compares the whole buffers (so writes outside the range are caught too). */
static void same(const char *what, tens *t, double tol)
{
    float *a = fetch(t->v), *b = fetch(t->c);
    size_t n = s4g_buf_len(t->v);
    double maxref = 1.0, maxdiff = 0.0;
    for (size_t i = 0; i < n; i++) {
        maxref = fmax(maxref, fabs(b[i]));
        g_assert_false(isnan(a[i]) && !isnan(b[i]));
        maxdiff = fmax(maxdiff, fabs((double)a[i] - b[i]));
    }
    if (maxdiff > tol * maxref)
        g_error("%s: max |vk - cpu| = %g > %g (max |ref| %g)", what, maxdiff, tol * maxref,
                maxref);
    g_free(a);
    g_free(b);
}

#define V(t) s4g_at((t).v, (t).off)
#define C(t) s4g_at((t).c, (t).off)
#define OK(call) g_assert_cmpint((call), ==, 0)

static const size_t sizes[] = {1, 7, 33, 129, 1000, 70001};

static void test_eltwise(void)
{
    pair p = pair_new();
    s4g_err err = {0};
    for (size_t si = 0; si < G_N_ELEMENTS(sizes); si++) {
        size_t n = sizes[si];
        tens x = tens_new(&p, n, -4, 4), y = tens_new(&p, n, -2, 2), z = tens_new(&p, n, -1, 1);
        OK(s4g_fill(p.vk, n, V(x), 0.375f, &err));
        OK(s4g_fill(p.cpu, n, C(x), 0.375f, &err));
        same("fill", &x, 0);
        tens w = tens_new(&p, n, -4, 4);
        OK(s4g_copy(p.vk, n, V(w), V(z), &err));
        OK(s4g_copy(p.cpu, n, C(w), C(z), &err));
        same("copy", &z, 0);
        OK(s4g_add(p.vk, n, V(w), V(y), V(x), &err));
        OK(s4g_add(p.cpu, n, C(w), C(y), C(x), &err));
        same("add", &x, 1e-6);
        OK(s4g_add(p.vk, n, V(x), V(y), V(x), &err)); /* aliased out */
        OK(s4g_add(p.cpu, n, C(x), C(y), C(x), &err));
        same("add aliased", &x, 1e-6);
        OK(s4g_axpy(p.vk, n, -0.7f, V(w), V(y), &err));
        OK(s4g_axpy(p.cpu, n, -0.7f, C(w), C(y), &err));
        same("axpy", &y, 1e-6);
        OK(s4g_scale(p.vk, n, 1.75f, V(y), &err));
        OK(s4g_scale(p.cpu, n, 1.75f, C(y), &err));
        same("scale", &y, 1e-6);
        OK(s4g_clamp(p.vk, n, V(y), -0.5f, 0.25f, &err));
        OK(s4g_clamp(p.cpu, n, C(y), -0.5f, 0.25f, &err));
        same("clamp", &y, 0);
        OK(s4g_gelu(p.vk, n, V(w), V(z), &err));
        OK(s4g_gelu(p.cpu, n, C(w), C(z), &err));
        same("gelu", &z, 1e-5);
        tens dy = tens_new(&p, n, -1, 1);
        OK(s4g_gelu_back(p.vk, n, V(w), V(dy), V(z), &err));
        OK(s4g_gelu_back(p.cpu, n, C(w), C(dy), C(z), &err));
        same("gelu_back", &z, 1e-5);
        tens_free(&x);
        tens_free(&y);
        tens_free(&z);
        tens_free(&w);
        tens_free(&dy);
    }
    pair_free(&p);
}

/* GELU against double erf over a fine grid (the shader's erf is a fit). */
static void test_gelu_precise(void)
{
    pair p = pair_new();
    s4g_err err = {0};
    enum { N = 20001 };
    s4g_buf *x = s4g_buf_new(p.vk, N, &err), *y = s4g_buf_new(p.vk, N, &err),
            *dy = s4g_buf_new(p.vk, N, &err), *dx = s4g_buf_new(p.vk, N, &err);
    float *h = g_new(float, N), *out = g_new(float, N);
    for (int i = 0; i < N; i++)
        h[i] = -10.0f + 20.0f * (float)i / (N - 1);
    OK(s4g_buf_upload(x, 0, h, N, &err));
    OK(s4g_fill(p.vk, N, s4g_at(dy, 0), 1.0f, &err));
    OK(s4g_gelu(p.vk, N, s4g_at(x, 0), s4g_at(y, 0), &err));
    OK(s4g_gelu_back(p.vk, N, s4g_at(x, 0), s4g_at(dy, 0), s4g_at(dx, 0), &err));
    OK(s4g_buf_download(y, 0, out, N, &err));
    for (int i = 0; i < N; i++) {
        double v = h[i], ref = 0.5 * v * (1.0 + erf(v / sqrt(2.0)));
        g_assert_cmpfloat(fabs(out[i] - ref), <=, 1e-5 * fmax(1.0, fabs(ref)));
    }
    OK(s4g_buf_download(dx, 0, out, N, &err));
    for (int i = 0; i < N; i++) {
        double v = h[i];
        double ref = 0.5 * (1.0 + erf(v / sqrt(2.0))) + v * exp(-0.5 * v * v) / sqrt(2 * M_PI);
        g_assert_cmpfloat(fabs(out[i] - ref), <=, 1e-5 * fmax(1.0, fabs(ref)));
    }
    g_free(h);
    g_free(out);
    s4g_buf_free(x);
    s4g_buf_free(y);
    s4g_buf_free(dy);
    s4g_buf_free(dx);
    pair_free(&p);
}

static void test_adamw(void)
{
    pair p = pair_new();
    s4g_err err = {0};
    size_t n = 4099;
    tens w = tens_new(&p, n, -1, 1), m = tens_new(&p, n, 0, 0), v = tens_new(&p, n, 0, 0);
    for (int step = 1; step <= 3; step++) {
        tens g = tens_new(&p, n, -0.1f, 0.1f);
        s4g_adamw_hp hp = {1e-3f, 0.9f, 0.999f, 1e-8f, 0.05f, step};
        OK(s4g_adamw(p.vk, n, V(w), V(g), V(m), V(v), &hp, &err));
        OK(s4g_adamw(p.cpu, n, C(w), C(g), C(m), C(v), &hp, &err));
        tens_free(&g);
    }
    same("adamw p", &w, 1e-6);
    same("adamw m", &m, 1e-6);
    same("adamw v", &v, 1e-6);
    tens_free(&w);
    tens_free(&m);
    tens_free(&v);
    pair_free(&p);
}

static void test_colsum(void)
{
    pair p = pair_new();
    s4g_err err = {0};
    int dims[] = {1, 7, 33, 129};
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++) {
            int M = dims[a], N = dims[b];
            tens x = tens_new(&p, (size_t)M * N, -1, 1), o = tens_new(&p, (size_t)N, -1, 1);
            float beta = (a + b) % 2 ? 0.5f : 0.0f;
            OK(s4g_colsum(p.vk, M, N, V(x), beta, V(o), &err));
            OK(s4g_colsum(p.cpu, M, N, C(x), beta, C(o), &err));
            same("colsum", &o, 1e-5);
            tens_free(&x);
            tens_free(&o);
        }
    pair_free(&p);
}

static void test_gemm_sizes(const int *dims, int nd)
{
    pair p = pair_new();
    s4g_err err = {0};
    int cnt = 0;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++)
            for (int a = 0; a < nd; a++)
                for (int b = 0; b < nd; b++)
                    for (int c = 0; c < nd; c++, cnt++) {
                        int M = dims[a], N = dims[b], K = dims[c];
                        tens A = tens_new(&p, (size_t)M * K, -1, 1);
                        tens B = tens_new(&p, (size_t)K * N, -1, 1);
                        tens Cm = tens_new(&p, (size_t)M * N, -1, 1);
                        tens bias = tens_new(&p, (size_t)N, -1, 1);
                        int use_bias = cnt % 3 == 0;
                        float alpha = cnt % 2 ? 1.0f : 0.75f;
                        float beta = cnt % 4 == 1 ? 0.0f : cnt % 4 == 3 ? 1.0f : -0.5f;
                        float *A0 = fetch(A.c), *B0 = fetch(B.c), *C0 = fetch(Cm.c),
                              *b0 = fetch(bias.c);
                        if (beta == 0.0f) {
                            /* beta = 0 must not read C: poison it on the device. */
                            OK(s4g_fill(p.vk, (size_t)M * N, V(Cm), NAN, &err));
                        }
                        OK(s4g_gemm(p.vk, ta, tb, M, N, K, alpha, V(A), V(B), beta, V(Cm),
                                    use_bias ? V(bias) : s4g_none(), &err));
                        OK(s4g_gemm(p.cpu, ta, tb, M, N, K, alpha, C(A), C(B), beta, C(Cm),
                                    use_bias ? C(bias) : s4g_none(), &err));
                        char what[96];
                        g_snprintf(what, sizeof what, "gemm ta=%d tb=%d M=%d N=%d K=%d", ta, tb,
                                   M, N, K);
                        same(what, &Cm, 1e-5);
                        /* and against a double loop */
                        float *got = fetch(Cm.v);
                        double maxref = 1.0, maxdiff = 0.0;
                        for (int i = 0; i < M; i++)
                            for (int j = 0; j < N; j++) {
                                double s = 0;
                                for (int k = 0; k < K; k++) {
                                    double av = ta ? A0[OFF + (size_t)k * M + i]
                                                   : A0[OFF + (size_t)i * K + k];
                                    double bv = tb ? B0[OFF + (size_t)j * K + k]
                                                   : B0[OFF + (size_t)k * N + j];
                                    s += av * bv;
                                }
                                double ref = alpha * s +
                                             (beta != 0.0f ? beta * C0[OFF + (size_t)i * N + j] : 0) +
                                             (use_bias ? b0[OFF + j] : 0);
                                maxref = fmax(maxref, fabs(ref));
                                maxdiff = fmax(maxdiff, fabs(ref - got[OFF + (size_t)i * N + j]));
                            }
                        if (maxdiff > 1e-5 * maxref)
                            g_error("%s: max |vk - double| = %g", what, maxdiff);
                        g_free(got);
                        g_free(A0);
                        g_free(B0);
                        g_free(C0);
                        g_free(b0);
                        tens_free(&A);
                        tens_free(&B);
                        tens_free(&Cm);
                        tens_free(&bias);
                    }
    pair_free(&p);
}

static void test_gemm(void)
{
    static const int dims[] = {1, 7, 33, 129};
    test_gemm_sizes(dims, 4);
}

/* Descriptor-pool path (devices without VK_KHR_push_descriptor). */
static void test_no_push_descriptor(void)
{
    g_setenv("S4G_VK_NO_PUSH_DESCRIPTOR", "1", TRUE);
    static const int dims[] = {1, 33};
    test_gemm_sizes(dims, 2);
    test_colsum();
    g_unsetenv("S4G_VK_NO_PUSH_DESCRIPTOR");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/vk/ops/eltwise", test_eltwise);
    g_test_add_func("/vk/ops/gelu-precise", test_gelu_precise);
    g_test_add_func("/vk/ops/adamw", test_adamw);
    g_test_add_func("/vk/ops/colsum", test_colsum);
    g_test_add_func("/vk/ops/gemm", test_gemm);
    g_test_add_func("/vk/ops/no-push-descriptor", test_no_push_descriptor);
    return g_test_run();
}
