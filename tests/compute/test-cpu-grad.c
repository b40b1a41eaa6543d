/* test-cpu-grad.c — every backward op of the CPU backend against central finite differences.
 *
 * Method: for an op y = f(theta) and a fixed random upstream gradient R, the objective
 * J = sum(R * f(theta)) is evaluated IN DOUBLE with the naive reference (s4g-ref.c), at the
 * same (float-representable) inputs the backend sees.  dJ/dtheta_i is estimated by central
 * differences with h = 1e-5 (truncation ~h^2, rounding ~1e-11: both far below float
 * precision), and the backend's float backward must match within 1e-4 of the largest
 * gradient magnitude (tu_grad).  A wrong backward misses by O(1) of that scale.
 *
 * Parameter gradients are checked with the accumulate convention: the gradient buffers
 * start with nonzero values P and must end as P + gradient; activation gradients start
 * with garbage and must be overwritten (or added to, for dwconv7's accumulate flag). */
#include "s4g-test-util.h"
#include "s4g-test-isa.h"

#include <string.h>

#define H_FD 1e-5
#define GTOL 1e-4

static s4g_ctx *ctx;

typedef double (*objective)(void *st);

/* Numeric gradient of f with respect to the n doubles at param. */
static double *fd_grad(double *param, size_t n, objective f, void *st)
{
    double *g = g_new(double, n);
    for (size_t i = 0; i < n; i++) {
        double save = param[i];
        param[i] = save + H_FD;
        double fp = f(st);
        param[i] = save - H_FD;
        double fm = f(st);
        param[i] = save;
        g[i] = (fp - fm) / (2 * H_FD);
    }
    return g;
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* Like fd_grad + tu_grad, but for large tensors checks only every stride-th element
 * (stride = ceil(n / max_points)), so a check costs at most 2 * max_points forwards. */
static void fd_check(const char *what, const float *got, double *param, size_t n,
                     size_t max_points, objective f, void *st)
{
    size_t stride = (n + max_points - 1) / max_points, m = 0;
    double *want = g_new(double, n / stride + 1);
    float *sel = g_new(float, n / stride + 1);
    for (size_t i = 0; i < n; i += stride, m++) {
        double save = param[i];
        param[i] = save + H_FD;
        double fp = f(st);
        param[i] = save - H_FD;
        double fm = f(st);
        param[i] = save;
        want[m] = (fp - fm) / (2 * H_FD);
        sel[m] = got[i];
    }
    tu_grad(what, sel, want, m, GTOL);
    g_free(want);
    g_free(sel);
}

/* Downloads b and subtracts the prefill value p from every element. */
static float *get_minus(s4g_buf *b, size_t n, const float *p)
{
    float *h = tu_get(b, n);
    for (size_t i = 0; i < n; i++)
        h[i] -= p[i];
    return h;
}

/* ------------------------------------------------------------------ gelu */

typedef struct {
    size_t n;
    double *x, *R, *tmp;
} gelu_st;

static double gelu_J(void *p)
{
    gelu_st *s = p;
    s4g_ref_gelu(s->n, s->x, s->tmp);
    return dot(s->tmp, s->R, s->n);
}

static void test_gelu(void)
{
    const size_t n = 129;
    uint64_t rng = 1;
    s4g_err err = {0};
    float *hx, *hR, *junk = g_new(float, n);
    s4g_buf *x = tu_rand(ctx, &rng, n, -4, 4, &hx), *dy = tu_rand(ctx, &rng, n, -1, 1, &hR);
    for (size_t i = 0; i < n; i++)
        junk[i] = 1e30f;
    s4g_buf *dx = tu_buf(ctx, n, junk);
    g_assert_cmpint(s4g_gelu_back(ctx, n, s4g_at(x, 0), s4g_at(dy, 0), s4g_at(dx, 0), &err), ==,
                    0);
    gelu_st st = {n, tu_dbl(hx, n), tu_dbl(hR, n), g_new(double, n)};
    double *want = fd_grad(st.x, n, gelu_J, &st);
    float *got = tu_get(dx, n);
    tu_grad("gelu_back dx", got, want, n, GTOL);
    g_free(got);
    g_free(want);
    g_free(st.x);
    g_free(st.R);
    g_free(st.tmp);
    g_free(hx);
    g_free(hR);
    g_free(junk);
    s4g_buf_free(x);
    s4g_buf_free(dy);
    s4g_buf_free(dx);
}

/* ------------------------------------------------------------------ linear (gemm + colsum) */

typedef struct {
    int M, N, K;
    double *X, *Wt, *b, *R, *tmp;
} lin_st;

static double lin_J(void *p)
{
    lin_st *s = p;
    s4g_ref_gemm(0, 1, s->M, s->N, s->K, 1.0, s->X, s->Wt, 0.0, s->tmp, s->b);
    return dot(s->tmp, s->R, (size_t)s->M * s->N);
}

/* Linear y = x W^T + b and its backward as the model writes it with gemm/colsum:
 * dX = dY W (overwrite), dW += dY^T X, db += colsum(dY). */
static void test_linear(void)
{
    const int M = 7, N = 5, K = 33;
    uint64_t rng = 2;
    s4g_err err = {0};
    float *hX, *hW, *hb, *hR, *pW, *pb;
    s4g_buf *X = tu_rand(ctx, &rng, (size_t)M * K, -1, 1, &hX);
    s4g_buf *W = tu_rand(ctx, &rng, (size_t)N * K, -1, 1, &hW);
    s4g_buf *b = tu_rand(ctx, &rng, N, -1, 1, &hb);
    s4g_buf *dY = tu_rand(ctx, &rng, (size_t)M * N, -1, 1, &hR);
    s4g_buf *dX = tu_buf(ctx, (size_t)M * K, NULL);
    s4g_buf *dW = tu_rand(ctx, &rng, (size_t)N * K, -1, 1, &pW);
    s4g_buf *db = tu_rand(ctx, &rng, N, -1, 1, &pb);
    g_assert_cmpint(s4g_gemm(ctx, 0, 0, M, K, N, 1, s4g_at(dY, 0), s4g_at(W, 0), 0,
                             s4g_at(dX, 0), s4g_none(), &err),
                    ==, 0);
    g_assert_cmpint(s4g_gemm(ctx, 1, 0, N, K, M, 1, s4g_at(dY, 0), s4g_at(X, 0), 1,
                             s4g_at(dW, 0), s4g_none(), &err),
                    ==, 0);
    g_assert_cmpint(s4g_colsum(ctx, M, N, s4g_at(dY, 0), 1, s4g_at(db, 0), &err), ==, 0);

    lin_st st = {M, N, K, tu_dbl(hX, (size_t)M * K), tu_dbl(hW, (size_t)N * K), tu_dbl(hb, N),
                 tu_dbl(hR, (size_t)M * N), g_new(double, (size_t)M * N)};
    double *wx = fd_grad(st.X, (size_t)M * K, lin_J, &st);
    double *ww = fd_grad(st.Wt, (size_t)N * K, lin_J, &st);
    double *wb = fd_grad(st.b, N, lin_J, &st);
    float *gx = tu_get(dX, (size_t)M * K), *gw = get_minus(dW, (size_t)N * K, pW),
          *gb = get_minus(db, N, pb);
    tu_grad("linear dX", gx, wx, (size_t)M * K, GTOL);
    tu_grad("linear dW", gw, ww, (size_t)N * K, GTOL);
    tu_grad("linear db", gb, wb, N, GTOL);
    g_free(wx), g_free(ww), g_free(wb), g_free(gx), g_free(gw), g_free(gb);
    g_free(st.X), g_free(st.Wt), g_free(st.b), g_free(st.R), g_free(st.tmp);
    g_free(hX), g_free(hW), g_free(hb), g_free(hR), g_free(pW), g_free(pb);
    tu_free_bufs(X, W, b, dY, dX, dW, db);
}

/* ------------------------------------------------------------------ patchify */

typedef struct {
    int N, H, W, C, k;
    double *x, *R, *tmp;
    size_t ny;
} patch_st;

static double patch_J(void *p)
{
    patch_st *s = p;
    s4g_ref_patchify(s->N, s->H, s->W, s->C, s->k, s->x, s->tmp);
    return dot(s->tmp, s->R, s->ny);
}

static void test_patchify(void)
{
    static const int cases[][5] = {{2, 13, 9, 3, 4}, {3, 7, 9, 5, 2}};
    uint64_t rng = 3;
    s4g_err err = {0};
    for (size_t ci = 0; ci < G_N_ELEMENTS(cases); ci++) {
        int N = cases[ci][0], H = cases[ci][1], W = cases[ci][2], C = cases[ci][3],
            k = cases[ci][4];
        size_t nx = (size_t)N * H * W * C, ny = (size_t)N * (H / k) * (W / k) * k * k * C;
        float *hx, *hR, *junk;
        s4g_buf *x = tu_rand(ctx, &rng, nx, -1, 1, &hx), *dy = tu_rand(ctx, &rng, ny, -1, 1, &hR);
        s4g_buf *dx = tu_rand(ctx, &rng, nx, 100, 200, &junk); /* overwritten, incl. dropped */
        g_assert_cmpint(s4g_patchify_back(ctx, N, H, W, C, k, s4g_at(dy, 0), s4g_at(dx, 0), &err),
                        ==, 0);
        patch_st st = {N, H, W, C, k, tu_dbl(hx, nx), tu_dbl(hR, ny), g_new(double, ny), ny};
        double *want = fd_grad(st.x, nx, patch_J, &st);
        float *got = tu_get(dx, nx);
        tu_grad("patchify_back dx", got, want, nx, GTOL);
        /* the floor-dropped last row/column get exactly 0 */
        g_assert_cmpfloat(got[nx - 1], ==, 0.0f);
        g_free(got), g_free(want), g_free(st.x), g_free(st.R), g_free(st.tmp);
        g_free(hx), g_free(hR), g_free(junk);
        s4g_buf_free(x), s4g_buf_free(dy), s4g_buf_free(dx);
    }
}

/* ------------------------------------------------------------------ dwconv7 */

typedef struct {
    int N, H, W, C;
    double *x, *w, *b, *R, *tmp;
} dw_st;

static double dw_J(void *p)
{
    dw_st *s = p;
    s4g_ref_dwconv7(s->N, s->H, s->W, s->C, s->x, s->w, s->b, s->tmp);
    return dot(s->tmp, s->R, (size_t)s->N * s->H * s->W * s->C);
}

static void test_dwconv7(void)
{
    static const int cases[][4] = {{2, 7, 9, 5}, {3, 13, 7, 3}, {2, 9, 13, 33}, {2, 7, 9, 13}};
    uint64_t rng = 4;
    s4g_err err = {0};
    for (size_t ci = 0; ci < G_N_ELEMENTS(cases); ci++)
        for (int accumulate = 0; accumulate < 2; accumulate++) {
            int N = cases[ci][0], H = cases[ci][1], W = cases[ci][2], C = cases[ci][3];
            size_t n = (size_t)N * H * W * C, nw = 49 * (size_t)C;
            float *hx, *hw, *hb, *hR, *px, *pw, *pb;
            s4g_buf *x = tu_rand(ctx, &rng, n, -1, 1, &hx);
            s4g_buf *w = tu_rand(ctx, &rng, nw, -1, 1, &hw);
            s4g_buf *b = tu_rand(ctx, &rng, C, -1, 1, &hb);
            s4g_buf *dy = tu_rand(ctx, &rng, n, -1, 1, &hR);
            s4g_buf *dx = tu_rand(ctx, &rng, n, -1, 1, &px);
            s4g_buf *dw = tu_rand(ctx, &rng, nw, -1, 1, &pw);
            s4g_buf *db = tu_rand(ctx, &rng, C, -1, 1, &pb);
            g_assert_cmpint(s4g_dwconv7_back(ctx, N, H, W, C, s4g_at(x, 0), s4g_at(w, 0),
                                             s4g_at(dy, 0), s4g_at(dx, 0), accumulate,
                                             s4g_at(dw, 0), s4g_at(db, 0), &err),
                            ==, 0);
            dw_st st = {N, H, W, C, tu_dbl(hx, n), tu_dbl(hw, nw), tu_dbl(hb, C), tu_dbl(hR, n),
                        g_new(double, n)};
            /* Every element of db; dx and dw sampled (400 / 300 points) on the larger cases. */
            float *gx = accumulate ? get_minus(dx, n, px) : tu_get(dx, n);
            float *gw = get_minus(dw, nw, pw), *gb = get_minus(db, C, pb);
            fd_check(accumulate ? "dwconv7_back dx (accumulate)" : "dwconv7_back dx", gx, st.x,
                     n, 400, dw_J, &st);
            fd_check("dwconv7_back dw", gw, st.w, nw, 300, dw_J, &st);
            fd_check("dwconv7_back db", gb, st.b, C, C, dw_J, &st);
            g_free(gx), g_free(gw), g_free(gb);
            g_free(st.x), g_free(st.w), g_free(st.b), g_free(st.R), g_free(st.tmp);
            g_free(hx), g_free(hw), g_free(hb), g_free(hR), g_free(px), g_free(pw), g_free(pb);
            tu_free_bufs(x, w, b, dy, dx, dw, db);
        }
}

/* ------------------------------------------------------------------ layernorm */

typedef struct {
    int rows, C;
    double *x, *g, *b, *R, *tmp;
} ln_st;

static double ln_J(void *p)
{
    ln_st *s = p;
    s4g_ref_layernorm(s->rows, s->C, 1e-6, s->x, s->g, s->b, s->tmp, NULL, NULL);
    return dot(s->tmp, s->R, (size_t)s->rows * s->C);
}

static void test_layernorm(void)
{
    /* 133 channels: two whole 64-channel chunks of the parameter gradients, then a cut one */
    static const int cases[][2] = {{7, 3}, {33, 5}, {7, 33}, {129, 33}, {9, 133}};
    uint64_t rng = 5;
    s4g_err err = {0};
    for (size_t ci = 0; ci < G_N_ELEMENTS(cases); ci++) {
        int rows = cases[ci][0], C = cases[ci][1];
        size_t n = (size_t)rows * C;
        float *hx, *hg, *hb, *hR, *junk, *pg, *pb;
        s4g_buf *x = tu_rand(ctx, &rng, n, -2, 2, &hx);
        for (size_t i = 0; i < n; i++) /* an offset, as real activations have */
            hx[i] += 3.0f;
        s4g_buf_upload(x, 0, hx, n, NULL);
        s4g_buf *g = tu_rand(ctx, &rng, C, 0.5, 1.5, &hg), *b = tu_rand(ctx, &rng, C, -1, 1, &hb);
        s4g_buf *dy = tu_rand(ctx, &rng, n, -1, 1, &hR), *dx = tu_rand(ctx, &rng, n, 9, 10, &junk);
        s4g_buf *dg = tu_rand(ctx, &rng, C, -1, 1, &pg), *db = tu_rand(ctx, &rng, C, -1, 1, &pb);
        s4g_buf *y = tu_buf(ctx, n, NULL), *mean = tu_buf(ctx, rows, NULL),
                *rstd = tu_buf(ctx, rows, NULL);
        g_assert_cmpint(s4g_layernorm(ctx, rows, C, 1e-6f, s4g_at(x, 0), s4g_at(g, 0),
                                      s4g_at(b, 0), s4g_at(y, 0), s4g_at(mean, 0),
                                      s4g_at(rstd, 0), &err),
                        ==, 0);
        g_assert_cmpint(s4g_layernorm_back(ctx, rows, C, s4g_at(x, 0), s4g_at(g, 0),
                                           s4g_at(mean, 0), s4g_at(rstd, 0), s4g_at(dy, 0),
                                           s4g_at(dx, 0), s4g_at(dg, 0), s4g_at(db, 0), &err),
                        ==, 0);
        ln_st st = {rows, C, tu_dbl(hx, n), tu_dbl(hg, C), tu_dbl(hb, C), tu_dbl(hR, n),
                    g_new(double, n)};
        double *wx = fd_grad(st.x, n, ln_J, &st);
        double *wg = fd_grad(st.g, C, ln_J, &st);
        double *wb = fd_grad(st.b, C, ln_J, &st);
        float *gx = tu_get(dx, n), *gg = get_minus(dg, C, pg), *gb = get_minus(db, C, pb);
        tu_grad("layernorm_back dx", gx, wx, n, GTOL);
        tu_grad("layernorm_back dgamma", gg, wg, C, GTOL);
        tu_grad("layernorm_back dbeta", gb, wb, C, GTOL);
        g_free(wx), g_free(wg), g_free(wb), g_free(gx), g_free(gg), g_free(gb);
        g_free(st.x), g_free(st.g), g_free(st.b), g_free(st.R), g_free(st.tmp);
        g_free(hx), g_free(hg), g_free(hb), g_free(hR), g_free(junk), g_free(pg), g_free(pb);
        tu_free_bufs(x, g, b, dy, dx, dg, db, y, mean, rstd);
    }
}

/* ------------------------------------------------------------------ scale_residual */

typedef struct {
    int rows, C;
    double *x, *y, *g, *R, *tmp;
} sr_st;

static double sr_J(void *p)
{
    sr_st *s = p;
    s4g_ref_scale_residual(s->rows, s->C, s->x, s->y, s->g, s->tmp);
    return dot(s->tmp, s->R, (size_t)s->rows * s->C);
}

static void test_scale_residual(void)
{
    const int rows = 33, C = 37; /* vectors of every path, then a scalar tail */
    const size_t n = (size_t)rows * C;
    uint64_t rng = 6;
    s4g_err err = {0};
    float *hx, *hy, *hg, *hR, *junk, *pg;
    s4g_buf *x = tu_rand(ctx, &rng, n, -1, 1, &hx), *y = tu_rand(ctx, &rng, n, -1, 1, &hy);
    s4g_buf *g = tu_rand(ctx, &rng, C, -1, 1, &hg), *dout = tu_rand(ctx, &rng, n, -1, 1, &hR);
    s4g_buf *dy = tu_rand(ctx, &rng, n, 5, 6, &junk), *dg = tu_rand(ctx, &rng, C, -1, 1, &pg);
    g_assert_cmpint(s4g_scale_residual_back(ctx, rows, C, s4g_at(y, 0), s4g_at(g, 0),
                                            s4g_at(dout, 0), s4g_at(dy, 0), s4g_at(dg, 0), &err),
                    ==, 0);
    sr_st st = {rows, C, tu_dbl(hx, n), tu_dbl(hy, n), tu_dbl(hg, C), tu_dbl(hR, n),
                g_new(double, n)};
    double *wy = fd_grad(st.y, n, sr_J, &st), *wg = fd_grad(st.g, C, sr_J, &st);
    float *gy = tu_get(dy, n), *gg = get_minus(dg, C, pg);
    tu_grad("scale_residual_back dy", gy, wy, n, GTOL);
    tu_grad("scale_residual_back dgamma", gg, wg, C, GTOL);
    g_free(wy), g_free(wg), g_free(gy), g_free(gg);
    g_free(st.x), g_free(st.y), g_free(st.g), g_free(st.R), g_free(st.tmp);
    g_free(hx), g_free(hy), g_free(hg), g_free(hR), g_free(junk), g_free(pg);
    tu_free_bufs(x, y, g, dout, dy, dg);
}

/* ------------------------------------------------------------------ avgpool */

typedef struct {
    int N, HW, C;
    double *x, *R, *tmp;
} ap_st;

static double ap_J(void *p)
{
    ap_st *s = p;
    s4g_ref_avgpool(s->N, s->HW, s->C, s->x, s->tmp);
    return dot(s->tmp, s->R, (size_t)s->N * s->C);
}

static void test_avgpool(void)
{
    const int N = 3, HW = 63, C = 5;
    const size_t n = (size_t)N * HW * C;
    uint64_t rng = 7;
    s4g_err err = {0};
    float *hx, *hR, *junk;
    s4g_buf *x = tu_rand(ctx, &rng, n, -1, 1, &hx), *dy = tu_rand(ctx, &rng, N * C, -1, 1, &hR);
    s4g_buf *dx = tu_rand(ctx, &rng, n, 7, 8, &junk);
    g_assert_cmpint(s4g_avgpool_back(ctx, N, HW, C, s4g_at(dy, 0), s4g_at(dx, 0), &err), ==, 0);
    ap_st st = {N, HW, C, tu_dbl(hx, n), tu_dbl(hR, N * C), g_new(double, N * C)};
    double *want = fd_grad(st.x, n, ap_J, &st);
    float *got = tu_get(dx, n);
    tu_grad("avgpool_back dx", got, want, n, GTOL);
    g_free(want), g_free(got), g_free(st.x), g_free(st.R), g_free(st.tmp);
    g_free(hx), g_free(hR), g_free(junk);
    s4g_buf_free(x), s4g_buf_free(dy), s4g_buf_free(dx);
}

/* ------------------------------------------------------------------ l2norm */

typedef struct {
    int rows, C;
    double *x, *R, *tmp;
} l2_st;

static double l2_J(void *p)
{
    l2_st *s = p;
    s4g_ref_l2norm(s->rows, s->C, s->x, s->tmp, NULL);
    return dot(s->tmp, s->R, (size_t)s->rows * s->C);
}

static void test_l2norm(void)
{
    static const int cases[][2] = {{7, 33}, {33, 5}};
    uint64_t rng = 8;
    s4g_err err = {0};
    for (size_t ci = 0; ci < G_N_ELEMENTS(cases); ci++) {
        int rows = cases[ci][0], C = cases[ci][1];
        size_t n = (size_t)rows * C;
        float *hx, *hR, *junk;
        s4g_buf *x = tu_rand(ctx, &rng, n, -2, 2, &hx), *dy = tu_rand(ctx, &rng, n, -1, 1, &hR);
        s4g_buf *y = tu_buf(ctx, n, NULL), *nr = tu_buf(ctx, rows, NULL);
        s4g_buf *dx = tu_rand(ctx, &rng, n, 3, 4, &junk);
        g_assert_cmpint(s4g_l2norm(ctx, rows, C, s4g_at(x, 0), s4g_at(y, 0), s4g_at(nr, 0), &err),
                        ==, 0);
        g_assert_cmpint(s4g_l2norm_back(ctx, rows, C, s4g_at(y, 0), s4g_at(nr, 0), s4g_at(dy, 0),
                                        s4g_at(dx, 0), &err),
                        ==, 0);
        l2_st st = {rows, C, tu_dbl(hx, n), tu_dbl(hR, n), g_new(double, n)};
        double *want = fd_grad(st.x, n, l2_J, &st);
        float *got = tu_get(dx, n);
        tu_grad("l2norm_back dx", got, want, n, GTOL);
        g_free(want), g_free(got), g_free(st.x), g_free(st.R), g_free(st.tmp);
        g_free(hx), g_free(hR), g_free(junk);
        s4g_buf_free(x), s4g_buf_free(dy), s4g_buf_free(y), s4g_buf_free(nr), s4g_buf_free(dx);
    }
}

/* ------------------------------------------------------------------ infonce */

typedef struct {
    int B, D;
    double smoothing;
    double *q, *r, ls;
} nce_st;

static double nce_J(void *p)
{
    nce_st *s = p;
    return s4g_ref_infonce(s->B, s->D, s->smoothing, s->q, s->r, s->ls);
}

static void test_infonce(void)
{
    static const int cases[][2] = {{7, 33}, {5, 3}, {33, 7}};
    static const float smooth[] = {0.1f, 0.0f};
    uint64_t rng = 9;
    s4g_err err = {0};
    for (size_t ci = 0; ci < G_N_ELEMENTS(cases); ci++)
        for (size_t si = 0; si < G_N_ELEMENTS(smooth); si++) {
            int B = cases[ci][0], D = cases[ci][1];
            size_t n = (size_t)B * D;
            float *hq, *hr, *junk;
            s4g_buf *q = tu_rand(ctx, &rng, n, -1, 1, &hq), *r = tu_rand(ctx, &rng, n, -1, 1, &hr);
            s4g_l2norm(ctx, B, D, s4g_at(q, 0), s4g_at(q, 0), s4g_none(), &err);
            s4g_l2norm(ctx, B, D, s4g_at(r, 0), s4g_at(r, 0), s4g_none(), &err);
            g_free(hq), g_free(hr);
            hq = tu_get(q, n);
            hr = tu_get(r, n);
            /* make pair 0 a near-positive so the loss is not flat */
            float ls = logf(1.0f / 0.07f), pre = 0.25f;
            s4g_buf *scale = tu_buf(ctx, 1, &ls), *loss = tu_buf(ctx, 1, NULL);
            s4g_buf *dq = tu_rand(ctx, &rng, n, 5, 6, &junk), *dr = tu_buf(ctx, n, junk);
            s4g_buf *ds = tu_buf(ctx, 1, &pre);
            g_assert_cmpint(s4g_infonce(ctx, B, D, smooth[si], s4g_at(q, 0), s4g_at(r, 0),
                                        s4g_at(scale, 0), s4g_at(loss, 0), s4g_at(dq, 0),
                                        s4g_at(dr, 0), s4g_at(ds, 0), &err),
                            ==, 0);
            nce_st st = {B, D, smooth[si], tu_dbl(hq, n), tu_dbl(hr, n), ls};
            double *wq = fd_grad(st.q, n, nce_J, &st), *wr = fd_grad(st.r, n, nce_J, &st);
            double *wl = fd_grad(&st.ls, 1, nce_J, &st);
            float *gq = tu_get(dq, n), *gr = tu_get(dr, n), *gl = get_minus(ds, 1, &pre);
            tu_grad("infonce dq", gq, wq, n, GTOL);
            tu_grad("infonce dr", gr, wr, n, GTOL);
            tu_grad("infonce dlogit_scale", gl, wl, 1, GTOL);
            /* the loss written alongside the gradients equals the reference */
            float *gloss = tu_get(loss, 1);
            double wloss = nce_J(&st);
            tu_close("infonce loss", gloss, &wloss, 1, 1e-5);
            g_free(gloss);
            g_free(wq), g_free(wr), g_free(wl), g_free(gq), g_free(gr), g_free(gl);
            g_free(st.q), g_free(st.r), g_free(hq), g_free(hr), g_free(junk);
            tu_free_bufs(q, r, scale, loss, dq, dr, ds);
        }
}

/* A deliberately wrong gradient must fail tu_grad: the check is not vacuous. */
static void test_check_catches_errors(void)
{
    if (g_test_subprocess()) {
        const size_t n = 33;
        uint64_t rng = 10;
        float *hx, *hR;
        s4g_buf *x = tu_rand(ctx, &rng, n, -2, 2, &hx), *dy = tu_rand(ctx, &rng, n, -1, 1, &hR);
        s4g_buf *dx = tu_buf(ctx, n, NULL);
        s4g_gelu_back(ctx, n, s4g_at(x, 0), s4g_at(dy, 0), s4g_at(dx, 0), NULL);
        float *got = tu_get(dx, n);
        got[17] *= 1.01f; /* a 1% error in one element */
        gelu_st st = {n, tu_dbl(hx, n), tu_dbl(hR, n), g_new(double, n)};
        double *want = fd_grad(st.x, n, gelu_J, &st);
        tu_grad("perturbed gelu_back", got, want, n, GTOL);
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*perturbed gelu_back*");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ctx = tu_ctx(2);
    tu_add_isa("/cpu/grad", "gelu", test_gelu);
    g_test_add_func("/cpu/grad/linear", test_linear);
    g_test_add_func("/cpu/grad/patchify", test_patchify);
    tu_add_isa("/cpu/grad", "dwconv7", test_dwconv7);
    tu_add_isa("/cpu/grad", "layernorm", test_layernorm);
    tu_add_isa("/cpu/grad", "scale-residual", test_scale_residual);
    g_test_add_func("/cpu/grad/avgpool", test_avgpool);
    g_test_add_func("/cpu/grad/l2norm", test_l2norm);
    g_test_add_func("/cpu/grad/infonce", test_infonce);
    g_test_add_func("/cpu/grad/check-catches-errors", test_check_catches_errors);
    int rc = g_test_run();
    s4g_ctx_free(ctx);
    return rc;
}
