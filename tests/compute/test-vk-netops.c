/* test-vk-netops.c — every vk-ops network op on the Vulkan backend (lavapipe in CI) against the
 * CPU backend on the same random inputs (odd sizes), plus a chained ConvNeXt block forward
 * and backward.  Relative error: max|vk - cpu| / max(max|cpu|, 1e-3) <= 1e-5 (1e-4 where a
 * long reduction is summed in a different order).  Every test ends by asserting that the
 * validation layer (on under `meson test --setup=validation`) reported nothing. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "s4g-compute.h"

static s4g_ctx *cpu_ctx, *vk_ctx;

typedef struct pair {
    s4g_buf *c, *v;
    size_t n;
    float *host;
} pair;

static guint32 rng_state = 12345;
static float frand(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)((rng_state >> 8) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

static pair mk(size_t n, float scale, float shift)
{
    s4g_err err = {0};
    pair p = {s4g_buf_new(cpu_ctx, n, &err), NULL, n, g_new(float, n)};
    g_assert_nonnull(p.c);
    p.v = s4g_buf_new(vk_ctx, n, &err);
    if (!p.v)
        g_error("vk buffer: %s", err.msg);
    for (size_t i = 0; i < n; i++)
        p.host[i] = shift + scale * frand();
    g_assert_cmpint(s4g_buf_upload(p.c, 0, p.host, n, &err), ==, 0);
    g_assert_cmpint(s4g_buf_upload(p.v, 0, p.host, n, &err), ==, 0);
    return p;
}

static void drop(pair *p)
{
    s4g_buf_free(p->c);
    s4g_buf_free(p->v);
    g_free(p->host);
}

#define C_(p) s4g_at((p).c, 0)
#define V_(p) s4g_at((p).v, 0)

static void expect_close(const char *what, pair *p, double tol)
{
    s4g_err err = {0};
    float *a = g_new(float, p->n), *b = g_new(float, p->n);
    if (s4g_buf_download(p->c, 0, a, p->n, &err) || s4g_buf_download(p->v, 0, b, p->n, &err))
        g_error("%s: download: %s", what, err.msg);
    double mx = 1e-3, md = 0;
    size_t worst = 0;
    for (size_t i = 0; i < p->n; i++) {
        g_assert_true(isfinite(b[i]));
        mx = fmax(mx, fabs(a[i]));
        if (fabs(a[i] - b[i]) > md)
            md = fabs(a[i] - b[i]), worst = i;
    }
    if (md / mx > tol)
        g_error("%s: rel err %.3g > %.1g at %zu (cpu %.8g, vk %.8g)", what, md / mx, tol, worst,
                a[worst], b[worst]);
    g_free(a);
    g_free(b);
}

/* Runs the same op on both backends: `OP(ctx, T(x), ...)` with T picking the side. */
#define BOTH(expr)                                                                             \
    do {                                                                                       \
        for (int side_ = 0; side_ < 2; side_++) {                                              \
            s4g_err e_ = {0};                                                                  \
            s4g_ctx *ctx = side_ ? vk_ctx : cpu_ctx;                                           \
            if ((expr) != 0)                                                                   \
                g_error("%s %s: %s", side_ ? "vulkan" : "cpu", #expr, e_.msg);                 \
        }                                                                                      \
    } while (0)
#define T(p) s4g_at(side_ ? (p).v : (p).c, 0)
#define ERR (&e_)

static void check_validation(void)
{
    s4g_err err = {0};
    g_assert_cmpint(s4g_ctx_sync(vk_ctx, &err), ==, 0);
    g_assert_cmpint(s4g_ctx_validation_errors(vk_ctx), ==, 0);
}

static void test_patchify(void)
{
    const int N = 2, H = 9, W = 11, C = 3;
    for (int k = 2; k <= 4; k += 2) {
        int rows = N * (H / k) * (W / k);
        pair x = mk((size_t)N * H * W * C, 1, 0), y = mk((size_t)rows * k * k * C, 1, 0);
        BOTH(s4g_patchify(ctx, N, H, W, C, k, T(x), T(y), ERR));
        expect_close("patchify", &y, 0);
        pair dy = mk((size_t)rows * k * k * C, 1, 0), dx = mk((size_t)N * H * W * C, 1, 0);
        BOTH(s4g_patchify_back(ctx, N, H, W, C, k, T(dy), T(dx), ERR));
        expect_close("patchify_back", &dx, 0);
        drop(&x), drop(&y), drop(&dy), drop(&dx);
    }
    check_validation();
}

static void test_dwconv7(void)
{
    const int N = 2, H = 7, W = 9, C = 5;
    size_t n = (size_t)N * H * W * C;
    pair x = mk(n, 1, 0), w = mk(49 * C, 0.3f, 0), b = mk(C, 1, 0), y = mk(n, 1, 0);
    BOTH(s4g_dwconv7(ctx, N, H, W, C, T(x), T(w), T(b), T(y), ERR));
    expect_close("dwconv7", &y, 1e-5);
    BOTH(s4g_dwconv7(ctx, N, H, W, C, T(x), T(w), s4g_none(), T(y), ERR));
    expect_close("dwconv7 no bias", &y, 1e-5);
    pair dy = mk(n, 1, 0), dx = mk(n, 1, 0), dw = mk(49 * C, 1, 0), db = mk(C, 1, 0);
    BOTH(s4g_dwconv7_back(ctx, N, H, W, C, T(x), T(w), T(dy), T(dx), 0, T(dw), T(db), ERR));
    expect_close("dwconv7_back dx", &dx, 1e-5);
    expect_close("dwconv7_back dw (+=)", &dw, 1e-5);
    expect_close("dwconv7_back db (+=)", &db, 1e-5);
    BOTH(s4g_dwconv7_back(ctx, N, H, W, C, T(x), T(w), T(dy), T(dx), 1, T(dw), s4g_none(), ERR));
    expect_close("dwconv7_back dx accumulate", &dx, 1e-5);
    expect_close("dwconv7_back dw twice", &dw, 1e-5);
    drop(&x), drop(&w), drop(&b), drop(&y), drop(&dy), drop(&dx), drop(&dw), drop(&db);

    /* 69 image rows: 35 blocks of 2 rows for the dw/db partial sums, the last one short */
    const int N2 = 3, H2 = 23, W2 = 5, C2 = 9;
    size_t n2 = (size_t)N2 * H2 * W2 * C2;
    pair x2 = mk(n2, 1, 0), w2 = mk(49 * C2, 0.3f, 0), dy2 = mk(n2, 1, 0), dx2 = mk(n2, 1, 0),
         dw2 = mk(49 * C2, 0, 0), db2 = mk(C2, 0, 0);
    BOTH(s4g_dwconv7_back(ctx, N2, H2, W2, C2, T(x2), T(w2), T(dy2), T(dx2), 0, T(dw2), T(db2),
                          ERR));
    expect_close("dwconv7_back dx, 69 rows", &dx2, 1e-5);
    expect_close("dwconv7_back dw, 69 rows", &dw2, 1e-5);
    expect_close("dwconv7_back db, 69 rows", &db2, 1e-5);
    drop(&x2), drop(&w2), drop(&dy2), drop(&dx2), drop(&dw2), drop(&db2);
    check_validation();
}

static void test_layernorm(void)
{
    const int rows = 33;
    const int Cs[] = {7, 129};
    for (int t = 0; t < 2; t++) {
        int C = Cs[t];
        size_t n = (size_t)rows * C;
        pair x = mk(n, 2, 3), g = mk(C, 1, 1), b = mk(C, 1, 0), y = mk(n, 1, 0);
        pair mean = mk(rows, 1, 0), rstd = mk(rows, 1, 0);
        BOTH(s4g_layernorm(ctx, rows, C, 1e-6f, T(x), T(g), T(b), T(y), T(mean), T(rstd), ERR));
        expect_close("layernorm y", &y, 1e-5);
        expect_close("layernorm mean", &mean, 1e-5);
        expect_close("layernorm rstd", &rstd, 1e-5);
        pair dy = mk(n, 1, 0), dx = mk(n, 1, 0), dg = mk(C, 1, 0), dbt = mk(C, 1, 0);
        /* backward from the CPU's saved statistics on both sides (identical inputs) */
        float *ms = g_new(float, 2 * rows);
        s4g_err err = {0};
        g_assert_cmpint(s4g_buf_download(mean.c, 0, ms, rows, &err), ==, 0);
        g_assert_cmpint(s4g_buf_download(rstd.c, 0, ms + rows, rows, &err), ==, 0);
        g_assert_cmpint(s4g_buf_upload(mean.v, 0, ms, rows, &err), ==, 0);
        g_assert_cmpint(s4g_buf_upload(rstd.v, 0, ms + rows, rows, &err), ==, 0);
        g_free(ms);
        BOTH(s4g_layernorm_back(ctx, rows, C, T(x), T(g), T(mean), T(rstd), T(dy), T(dx), T(dg),
                                T(dbt), ERR));
        expect_close("layernorm_back dx", &dx, 1e-5);
        expect_close("layernorm_back dgamma", &dg, 1e-5);
        expect_close("layernorm_back dbeta", &dbt, 1e-5);
        drop(&x), drop(&g), drop(&b), drop(&y), drop(&mean), drop(&rstd);
        drop(&dy), drop(&dx), drop(&dg), drop(&dbt);
    }
    check_validation();
}

static void test_scale_residual(void)
{
    const int rows = 33, C = 7;
    size_t n = (size_t)rows * C;
    pair x = mk(n, 1, 0), y = mk(n, 1, 0), g = mk(C, 1, 0), out = mk(n, 1, 0);
    BOTH(s4g_scale_residual(ctx, rows, C, T(x), T(y), T(g), T(out), ERR));
    expect_close("scale_residual", &out, 1e-6);
    pair dout = mk(n, 1, 0), dy = mk(n, 1, 0), dg = mk(C, 1, 0);
    BOTH(s4g_scale_residual_back(ctx, rows, C, T(y), T(g), T(dout), T(dy), T(dg), ERR));
    expect_close("scale_residual_back dy", &dy, 1e-6);
    expect_close("scale_residual_back dgamma", &dg, 1e-5);
    drop(&x), drop(&y), drop(&g), drop(&out), drop(&dout), drop(&dy), drop(&dg);
    check_validation();
}

static void test_avgpool_l2norm(void)
{
    const int N = 3, HW = 13, C = 7;
    pair x = mk((size_t)N * HW * C, 1, 0), y = mk((size_t)N * C, 1, 0);
    BOTH(s4g_avgpool(ctx, N, HW, C, T(x), T(y), ERR));
    expect_close("avgpool", &y, 1e-5);
    BOTH(s4g_avgpool_back(ctx, N, HW, C, T(y), T(x), ERR));
    expect_close("avgpool_back", &x, 1e-6);
    const int rows = 33, D = 129;
    size_t n = (size_t)rows * D;
    pair a = mk(n, 1, 0.2f), u = mk(n, 1, 0), nr = mk(rows, 1, 0), du = mk(n, 1, 0),
         da = mk(n, 1, 0);
    BOTH(s4g_l2norm(ctx, rows, D, T(a), T(u), T(nr), ERR));
    expect_close("l2norm y", &u, 1e-5);
    expect_close("l2norm norms", &nr, 1e-5);
    BOTH(s4g_l2norm_back(ctx, rows, D, T(u), T(nr), T(du), T(da), ERR));
    expect_close("l2norm_back", &da, 1e-5);
    drop(&x), drop(&y), drop(&a), drop(&u), drop(&nr), drop(&du), drop(&da);
    check_validation();
}

static void test_infonce(void)
{
    const int B = 33, D = 17;
    size_t n = (size_t)B * D;
    pair q = mk(n, 1, 0), r = mk(n, 1, 0), nq = mk(B, 1, 0), nr = mk(B, 1, 0);
    /* unit vectors, as the op expects */
    BOTH(s4g_l2norm(ctx, B, D, T(q), T(q), T(nq), ERR));
    BOTH(s4g_l2norm(ctx, B, D, T(r), T(r), T(nr), ERR));
    pair ls = mk(1, 0, (float)log(1 / 0.07)), loss = mk(1, 0, 0), dq = mk(n, 1, 0),
         dr = mk(n, 1, 0), ds = mk(1, 0, 0.5f);
    BOTH(s4g_infonce(ctx, B, D, 0.1f, T(q), T(r), T(ls), T(loss), T(dq), T(dr), T(ds), ERR));
    expect_close("infonce loss", &loss, 1e-5);
    expect_close("infonce dq", &dq, 1e-5);
    expect_close("infonce dr", &dr, 1e-5);
    expect_close("infonce dscale (+=)", &ds, 1e-5);
    BOTH(s4g_infonce(ctx, B, D, 0.0f, T(q), T(r), T(ls), T(loss), s4g_none(), s4g_none(),
                     s4g_none(), ERR));
    expect_close("infonce loss, no smoothing, forward only", &loss, 1e-5);
    float l = 0;
    s4g_err err = {0};
    g_assert_cmpint(s4g_buf_download(loss.v, 0, &l, 1, &err), ==, 0);
    g_assert_true(l > 0 && isfinite(l));
    drop(&q), drop(&r), drop(&nq), drop(&nr), drop(&ls), drop(&loss), drop(&dq), drop(&dr),
        drop(&ds);
    check_validation();
}

/* dwconv -> LN -> Linear(C,4C) -> GELU -> Linear(4C,C) -> scale_residual, forward and backward,
 * as the ConvNeXt block runs it. */
static void test_block_chain(void)
{
    const int N = 1, H = 7, W = 9, C = 8, E = 4 * C, rows = N * H * W;
    size_t n = (size_t)rows * C, ne = (size_t)rows * E;
    pair x = mk(n, 1, 0), dww = mk(49 * C, 0.2f, 0), dwb = mk(C, 0.1f, 0), h1 = mk(n, 1, 0);
    pair lg = mk(C, 0.2f, 1), lb = mk(C, 0.1f, 0), h2 = mk(n, 1, 0), mu = mk(rows, 1, 0),
         rs = mk(rows, 1, 0);
    pair w1 = mk((size_t)E * C, 0.3f, 0), b1 = mk(E, 0.1f, 0), h3 = mk(ne, 1, 0),
         h4 = mk(ne, 1, 0);
    pair w2 = mk((size_t)C * E, 0.2f, 0), b2 = mk(C, 0.1f, 0), h5 = mk(n, 1, 0);
    pair gam = mk(C, 0.5f, 0), out = mk(n, 1, 0);
    BOTH(s4g_dwconv7(ctx, N, H, W, C, T(x), T(dww), T(dwb), T(h1), ERR));
    BOTH(s4g_layernorm(ctx, rows, C, 1e-6f, T(h1), T(lg), T(lb), T(h2), T(mu), T(rs), ERR));
    BOTH(s4g_gemm(ctx, 0, 1, rows, E, C, 1, T(h2), T(w1), 0, T(h3), T(b1), ERR));
    BOTH(s4g_gelu(ctx, ne, T(h3), T(h4), ERR));
    BOTH(s4g_gemm(ctx, 0, 1, rows, C, E, 1, T(h4), T(w2), 0, T(h5), T(b2), ERR));
    BOTH(s4g_scale_residual(ctx, rows, C, T(x), T(h5), T(gam), T(out), ERR));
    expect_close("block forward", &out, 1e-5);

    pair dout = mk(n, 1, 0), dh5 = mk(n, 1, 0), dgam = mk(C, 0, 0), dh4 = mk(ne, 1, 0),
         dw2 = mk((size_t)C * E, 0, 0), db2 = mk(C, 0, 0), dh3 = mk(ne, 1, 0),
         dh2 = mk(n, 1, 0), dw1 = mk((size_t)E * C, 0, 0), db1 = mk(E, 0, 0),
         dh1 = mk(n, 1, 0), dlg = mk(C, 0, 0), dlb = mk(C, 0, 0), dx = mk(n, 1, 0),
         ddww = mk(49 * C, 0, 0), ddwb = mk(C, 0, 0);
    BOTH(s4g_scale_residual_back(ctx, rows, C, T(h5), T(gam), T(dout), T(dh5), T(dgam), ERR));
    BOTH(s4g_gemm(ctx, 0, 0, rows, E, C, 1, T(dh5), T(w2), 0, T(dh4), s4g_none(), ERR));
    BOTH(s4g_gemm(ctx, 1, 0, C, E, rows, 1, T(dh5), T(h4), 1, T(dw2), s4g_none(), ERR));
    BOTH(s4g_colsum(ctx, rows, C, T(dh5), 1, T(db2), ERR));
    BOTH(s4g_gelu_back(ctx, ne, T(h3), T(dh4), T(dh3), ERR));
    BOTH(s4g_gemm(ctx, 0, 0, rows, C, E, 1, T(dh3), T(w1), 0, T(dh2), s4g_none(), ERR));
    BOTH(s4g_gemm(ctx, 1, 0, E, C, rows, 1, T(dh3), T(h2), 1, T(dw1), s4g_none(), ERR));
    BOTH(s4g_colsum(ctx, rows, E, T(dh3), 1, T(db1), ERR));
    BOTH(s4g_layernorm_back(ctx, rows, C, T(h1), T(lg), T(mu), T(rs), T(dh2), T(dh1), T(dlg),
                            T(dlb), ERR));
    /* residual: dx = dout + dwconv^T(dh1) */
    BOTH(s4g_copy(ctx, n, T(dout), T(dx), ERR));
    BOTH(s4g_dwconv7_back(ctx, N, H, W, C, T(x), T(dww), T(dh1), T(dx), 1, T(ddww), T(ddwb), ERR));
    expect_close("block dgamma", &dgam, 1e-5);
    expect_close("block dW2", &dw2, 1e-5);
    expect_close("block dW1", &dw1, 1e-5);
    expect_close("block dLN gamma", &dlg, 1e-5);
    expect_close("block dLN beta", &dlb, 1e-5);
    expect_close("block dx", &dx, 1e-5);
    expect_close("block d dw-weight", &ddww, 1e-5);
    expect_close("block d dw-bias", &ddwb, 1e-5);
    pair *all[] = {&x, &dww, &dwb, &h1, &lg, &lb, &h2, &mu, &rs, &w1, &b1, &h3, &h4, &w2,
                   &b2, &h5, &gam, &out, &dout, &dh5, &dgam, &dh4, &dw2, &db2, &dh3, &dh2,
                   &dw1, &db1, &dh1, &dlg, &dlb, &dx, &ddww, &ddwb};
    for (size_t i = 0; i < G_N_ELEMENTS(all); i++)
        drop(all[i]);
    check_validation();
}

/* Grids beyond 65535 workgroups are split over y: row kernels with > 65535 rows and an
 * element-wise kernel with > 65535*64 invocations must still cover every element once. */
static void test_large_grid(void)
{
    const int rows = 65537 + 6, C = 3;
    size_t n = (size_t)rows * C;
    pair x = mk(n, 1, 0), g = mk(C, 1, 1), b = mk(C, 1, 0), y = mk(n, 1, 0);
    pair mean = mk(rows, 1, 0), rstd = mk(rows, 1, 0), nr = mk(rows, 1, 0);
    BOTH(s4g_layernorm(ctx, rows, C, 1e-6f, T(x), T(g), T(b), T(y), T(mean), T(rstd), ERR));
    /* 65543 random 3-element rows include some with a tiny variance, whose large rstd
     * amplifies last-bit differences of the mean: 1e-4 here, 1e-5 in test_layernorm */
    expect_close("layernorm, 65543 rows", &y, 1e-4);
    expect_close("layernorm rstd, 65543 rows", &rstd, 1e-4);
    /* dgamma/dbeta: 256 row blocks of 257 rows, the last one short */
    pair dy2 = mk(n, 1, 0), dx2 = mk(n, 1, 0), dg = mk(C, 0, 0), dbt = mk(C, 0, 0);
    BOTH(s4g_layernorm_back(ctx, rows, C, T(x), T(g), T(mean), T(rstd), T(dy2), T(dx2), T(dg),
                            T(dbt), ERR));
    expect_close("layernorm_back dx, 65543 rows", &dx2, 1e-4);
    expect_close("layernorm_back dgamma, 65543 rows", &dg, 1e-4);
    expect_close("layernorm_back dbeta, 65543 rows", &dbt, 1e-4);
    drop(&dy2), drop(&dx2), drop(&dg), drop(&dbt);
    BOTH(s4g_l2norm(ctx, rows, C, T(x), T(y), T(nr), ERR));
    expect_close("l2norm, 65543 rows", &y, 1e-5);
    const int N = 1, HW = 1398107, PC = 3; /* 4194321 elements > 65535 * 64 */
    pair dy = mk((size_t)N * PC, 1, 0), dx = mk((size_t)N * HW * PC, 1, 0);
    BOTH(s4g_avgpool_back(ctx, N, HW, PC, T(dy), T(dx), ERR));
    expect_close("avgpool_back, 4.2M elements", &dx, 1e-6);
    drop(&x), drop(&g), drop(&b), drop(&y), drop(&mean), drop(&rstd), drop(&nr), drop(&dy),
        drop(&dx);
    check_validation();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    s4g_err err = {0};
    s4g_ctx_opts co = {.backend = S4G_BACKEND_CPU, .threads = 2};
    s4g_ctx_opts vo = {.backend = S4G_BACKEND_VULKAN, .allow_cpu_device = 1};
    cpu_ctx = s4g_ctx_new(&co, &err);
    g_assert_nonnull(cpu_ctx);
    vk_ctx = s4g_ctx_new(&vo, &err);
    if (!vk_ctx)
        g_error("no Vulkan context (lavapipe expected): %s", err.msg);
    g_test_message("vulkan: %s; validation %s", s4g_ctx_describe(vk_ctx),
                   g_getenv("S4G_VALIDATION") ? "on" : "off");
    g_test_add_func("/vk-ops/patchify", test_patchify);
    g_test_add_func("/vk-ops/dwconv7", test_dwconv7);
    g_test_add_func("/vk-ops/layernorm", test_layernorm);
    g_test_add_func("/vk-ops/scale-residual", test_scale_residual);
    g_test_add_func("/vk-ops/avgpool-l2norm", test_avgpool_l2norm);
    g_test_add_func("/vk-ops/infonce", test_infonce);
    g_test_add_func("/vk-ops/block-chain", test_block_chain);
    g_test_add_func("/vk-ops/large-grid", test_large_grid);
    int rc = g_test_run();
    s4g_ctx_free(vk_ctx);
    s4g_ctx_free(cpu_ctx);
    return rc;
}
