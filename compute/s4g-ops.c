/* s4g-ops.c — the public ops: check every shape and every range a kernel will touch, then
 * hand the call to the context's backend.  Kernels may therefore trust their arguments. */
#include "s4g-backend.h"

#include <stdint.h>

/* Each tensor argument must lie inside its buffer and belong to this context. */
static int need(s4g_ctx *ctx, const char *op, const char *arg, s4g_t t, size_t n, s4g_err *err)
{
    if (!t.buf)
        return s4g_fail(err, S4G_E_INVALID, "%s: tensor '%s' is missing", op, arg);
    if (t.buf->ctx != ctx)
        return s4g_fail(err, S4G_E_INVALID, "%s: tensor '%s' belongs to another context", op, arg);
    if (t.off > t.buf->n || n > t.buf->n - t.off)
        return s4g_fail(err, S4G_E_INVALID,
                        "%s: tensor '%s' needs [%zu, %zu) but its buffer holds %zu floats", op,
                        arg, t.off, t.off + n, t.buf->n);
    return 0;
}

/* Optional tensors: absent is fine, present must be in range. */
static int maybe(s4g_ctx *ctx, const char *op, const char *arg, s4g_t t, size_t n, s4g_err *err)
{
    return t.buf ? need(ctx, op, arg, t, n, err) : 0;
}

static int dims_ok(const char *op, s4g_err *err, int count, ...)
{
    __builtin_va_list ap;
    __builtin_va_start(ap, count);
    for (int i = 0; i < count; i++) {
        int d = __builtin_va_arg(ap, int);
        if (d <= 0) {
            __builtin_va_end(ap);
            return s4g_fail(err, S4G_E_INVALID, "%s: dimension %d is %d (must be positive)", op,
                            i, d);
        }
    }
    __builtin_va_end(ap);
    return 0;
}

#define CALL(op_, ...)                                                                         \
    (ctx->ops->op_ ? ctx->ops->op_(ctx, __VA_ARGS__)                                           \
                   : s4g_fail(err, S4G_E_UNSUPPORTED, "the %s backend has no op " #op_,         \
                              ctx->ops->name))

#define Z(n) ((size_t)(n))

int s4g_fill(s4g_ctx *ctx, size_t n, s4g_t x, float value, s4g_err *err)
{
    if (need(ctx, "fill", "x", x, n, err))
        return -1;
    return n ? CALL(fill, n, x, value, err) : 0;
}

int s4g_copy(s4g_ctx *ctx, size_t n, s4g_t src, s4g_t dst, s4g_err *err)
{
    if (need(ctx, "copy", "src", src, n, err) || need(ctx, "copy", "dst", dst, n, err))
        return -1;
    return n ? CALL(copy, n, src, dst, err) : 0;
}

int s4g_add(s4g_ctx *ctx, size_t n, s4g_t a, s4g_t b, s4g_t out, s4g_err *err)
{
    if (need(ctx, "add", "a", a, n, err) || need(ctx, "add", "b", b, n, err) ||
        need(ctx, "add", "out", out, n, err))
        return -1;
    return n ? CALL(add, n, a, b, out, err) : 0;
}

int s4g_axpy(s4g_ctx *ctx, size_t n, float alpha, s4g_t x, s4g_t y, s4g_err *err)
{
    if (need(ctx, "axpy", "x", x, n, err) || need(ctx, "axpy", "y", y, n, err))
        return -1;
    return n ? CALL(axpy, n, alpha, x, y, err) : 0;
}

int s4g_scale(s4g_ctx *ctx, size_t n, float alpha, s4g_t x, s4g_err *err)
{
    if (need(ctx, "scale", "x", x, n, err))
        return -1;
    return n ? CALL(scale, n, alpha, x, err) : 0;
}

int s4g_clamp(s4g_ctx *ctx, size_t n, s4g_t x, float lo, float hi, s4g_err *err)
{
    if (need(ctx, "clamp", "x", x, n, err))
        return -1;
    if (!(lo <= hi))
        return s4g_fail(err, S4G_E_INVALID, "clamp: lo %g > hi %g", lo, hi);
    return n ? CALL(clamp, n, x, lo, hi, err) : 0;
}

int s4g_gelu(s4g_ctx *ctx, size_t n, s4g_t x, s4g_t y, s4g_err *err)
{
    if (need(ctx, "gelu", "x", x, n, err) || need(ctx, "gelu", "y", y, n, err))
        return -1;
    return n ? CALL(gelu, n, x, y, err) : 0;
}

int s4g_gelu_back(s4g_ctx *ctx, size_t n, s4g_t x, s4g_t dy, s4g_t dx, s4g_err *err)
{
    if (need(ctx, "gelu_back", "x", x, n, err) || need(ctx, "gelu_back", "dy", dy, n, err) ||
        need(ctx, "gelu_back", "dx", dx, n, err))
        return -1;
    return n ? CALL(gelu_back, n, x, dy, dx, err) : 0;
}

int s4g_gemm(s4g_ctx *ctx, int ta, int tb, int M, int N, int K, float alpha, s4g_t A, s4g_t B,
             float beta, s4g_t C, s4g_t bias, s4g_err *err)
{
    if (dims_ok("gemm", err, 3, M, N, K) || need(ctx, "gemm", "A", A, Z(M) * Z(K), err) ||
        need(ctx, "gemm", "B", B, Z(K) * Z(N), err) ||
        need(ctx, "gemm", "C", C, Z(M) * Z(N), err) || maybe(ctx, "gemm", "bias", bias, Z(N), err))
        return -1;
    return CALL(gemm, ta != 0, tb != 0, M, N, K, alpha, A, B, beta, C, bias, err);
}

/* A, B and the [M,N] results checked as s4g_gemm does, plus the extra [M,N] tensors */
static int gemm_args(s4g_ctx *ctx, const char *op, int M, int N, int K, s4g_t A, s4g_t B,
                     s4g_t C, s4g_t bias, s4g_t X, const char *xname, s4g_t Y, const char *yname,
                     s4g_err *err)
{
    return dims_ok(op, err, 3, M, N, K) || need(ctx, op, "A", A, Z(M) * Z(K), err) ||
           need(ctx, op, "B", B, Z(K) * Z(N), err) || need(ctx, op, "C", C, Z(M) * Z(N), err) ||
           maybe(ctx, op, "bias", bias, Z(N), err) ||
           need(ctx, op, xname, X, Z(M) * Z(N), err) ||
           need(ctx, op, yname, Y, Z(M) * Z(N), err);
}

int s4g_gemm_gelu(s4g_ctx *ctx, int ta, int tb, int M, int N, int K, float alpha, s4g_t A,
                  s4g_t B, s4g_t bias, s4g_t H, s4g_t G, s4g_err *err)
{
    if (gemm_args(ctx, "gemm_gelu", M, N, K, A, B, H, bias, H, "H", G, "G", err))
        return -1;
    if (ctx->ops->gemm_gelu)
        return ctx->ops->gemm_gelu(ctx, ta != 0, tb != 0, M, N, K, alpha, A, B, bias, H, G, err);
    return s4g_gemm(ctx, ta, tb, M, N, K, alpha, A, B, 0.0f, H, bias, err) ||
                   s4g_gelu(ctx, Z(M) * Z(N), H, G, err)
               ? -1
               : 0;
}

int s4g_gemm_gelu_back(s4g_ctx *ctx, int ta, int tb, int M, int N, int K, float alpha, s4g_t A,
                       s4g_t B, s4g_t H, s4g_t T, s4g_t DH, s4g_err *err)
{
    if (gemm_args(ctx, "gemm_gelu_back", M, N, K, A, B, T, s4g_none(), H, "H", DH, "DH", err))
        return -1;
    if (ctx->ops->gemm_gelu_back)
        return ctx->ops->gemm_gelu_back(ctx, ta != 0, tb != 0, M, N, K, alpha, A, B, H, T, DH,
                                        err);
    return s4g_gemm(ctx, ta, tb, M, N, K, alpha, A, B, 0.0f, T, s4g_none(), err) ||
                   s4g_gelu_back(ctx, Z(M) * Z(N), H, T, DH, err)
               ? -1
               : 0;
}

int s4g_colsum(s4g_ctx *ctx, int M, int N, s4g_t x, float beta, s4g_t out, s4g_err *err)
{
    if (dims_ok("colsum", err, 2, M, N) || need(ctx, "colsum", "x", x, Z(M) * Z(N), err) ||
        need(ctx, "colsum", "out", out, Z(N), err))
        return -1;
    return CALL(colsum, M, N, x, beta, out, err);
}

static int patch_dims(const char *op, int N, int H, int W, int C, int k, s4g_err *err)
{
    if (dims_ok(op, err, 5, N, H, W, C, k))
        return -1;
    if (H < k || W < k)
        return s4g_fail(err, S4G_E_INVALID, "%s: input %dx%d smaller than the %dx%d patch", op,
                        H, W, k, k);
    return 0;
}

int s4g_patchify(s4g_ctx *ctx, int N, int H, int W, int C, int k, s4g_t x, s4g_t y, s4g_err *err)
{
    if (patch_dims("patchify", N, H, W, C, k, err))
        return -1;
    size_t rows = Z(N) * Z(H / k) * Z(W / k);
    if (need(ctx, "patchify", "x", x, Z(N) * Z(H) * Z(W) * Z(C), err) ||
        need(ctx, "patchify", "y", y, rows * Z(k) * Z(k) * Z(C), err))
        return -1;
    return CALL(patchify, N, H, W, C, k, x, y, err);
}

int s4g_patchify_back(s4g_ctx *ctx, int N, int H, int W, int C, int k, s4g_t dy, s4g_t dx,
                      s4g_err *err)
{
    if (patch_dims("patchify_back", N, H, W, C, k, err))
        return -1;
    size_t rows = Z(N) * Z(H / k) * Z(W / k);
    if (need(ctx, "patchify_back", "dy", dy, rows * Z(k) * Z(k) * Z(C), err) ||
        need(ctx, "patchify_back", "dx", dx, Z(N) * Z(H) * Z(W) * Z(C), err))
        return -1;
    return CALL(patchify_back, N, H, W, C, k, dy, dx, err);
}

int s4g_dwconv7(s4g_ctx *ctx, int N, int H, int W, int C, s4g_t x, s4g_t w, s4g_t b, s4g_t y,
                s4g_err *err)
{
    size_t n = Z(N) * Z(H) * Z(W) * Z(C);
    if (dims_ok("dwconv7", err, 4, N, H, W, C) || need(ctx, "dwconv7", "x", x, n, err) ||
        need(ctx, "dwconv7", "w", w, 49 * Z(C), err) || maybe(ctx, "dwconv7", "b", b, Z(C), err) ||
        need(ctx, "dwconv7", "y", y, n, err))
        return -1;
    return CALL(dwconv7, N, H, W, C, x, w, b, y, err);
}

int s4g_dwconv7_back(s4g_ctx *ctx, int N, int H, int W, int C, s4g_t x, s4g_t w, s4g_t dy,
                     s4g_t dx, int accumulate, s4g_t dw, s4g_t db, s4g_err *err)
{
    size_t n = Z(N) * Z(H) * Z(W) * Z(C);
    const char *op = "dwconv7_back";
    if (dims_ok(op, err, 4, N, H, W, C) || need(ctx, op, "x", x, n, err) ||
        need(ctx, op, "w", w, 49 * Z(C), err) || need(ctx, op, "dy", dy, n, err) ||
        maybe(ctx, op, "dx", dx, n, err) || maybe(ctx, op, "dw", dw, 49 * Z(C), err) ||
        maybe(ctx, op, "db", db, Z(C), err))
        return -1;
    return CALL(dwconv7_back, N, H, W, C, x, w, dy, dx, accumulate != 0, dw, db, err);
}

int s4g_layernorm(s4g_ctx *ctx, int rows, int C, float eps, s4g_t x, s4g_t gamma, s4g_t beta,
                  s4g_t y, s4g_t mean, s4g_t rstd, s4g_err *err)
{
    size_t n = Z(rows) * Z(C);
    const char *op = "layernorm";
    if (dims_ok(op, err, 2, rows, C) || need(ctx, op, "x", x, n, err) ||
        need(ctx, op, "gamma", gamma, Z(C), err) || need(ctx, op, "beta", beta, Z(C), err) ||
        need(ctx, op, "y", y, n, err) || maybe(ctx, op, "mean", mean, Z(rows), err) ||
        maybe(ctx, op, "rstd", rstd, Z(rows), err))
        return -1;
    return CALL(layernorm, rows, C, eps, x, gamma, beta, y, mean, rstd, err);
}

int s4g_layernorm_back(s4g_ctx *ctx, int rows, int C, s4g_t x, s4g_t gamma, s4g_t mean,
                       s4g_t rstd, s4g_t dy, s4g_t dx, s4g_t dgamma, s4g_t dbeta, s4g_err *err)
{
    size_t n = Z(rows) * Z(C);
    const char *op = "layernorm_back";
    if (dims_ok(op, err, 2, rows, C) || need(ctx, op, "x", x, n, err) ||
        need(ctx, op, "gamma", gamma, Z(C), err) || need(ctx, op, "mean", mean, Z(rows), err) ||
        need(ctx, op, "rstd", rstd, Z(rows), err) || need(ctx, op, "dy", dy, n, err) ||
        maybe(ctx, op, "dx", dx, n, err) || maybe(ctx, op, "dgamma", dgamma, Z(C), err) ||
        maybe(ctx, op, "dbeta", dbeta, Z(C), err))
        return -1;
    return CALL(layernorm_back, rows, C, x, gamma, mean, rstd, dy, dx, dgamma, dbeta, err);
}

int s4g_scale_residual(s4g_ctx *ctx, int rows, int C, s4g_t x, s4g_t y, s4g_t gamma, s4g_t out,
                       s4g_err *err)
{
    size_t n = Z(rows) * Z(C);
    const char *op = "scale_residual";
    if (dims_ok(op, err, 2, rows, C) || need(ctx, op, "x", x, n, err) ||
        need(ctx, op, "y", y, n, err) || need(ctx, op, "gamma", gamma, Z(C), err) ||
        need(ctx, op, "out", out, n, err))
        return -1;
    return CALL(scale_residual, rows, C, x, y, gamma, out, err);
}

int s4g_scale_residual_back(s4g_ctx *ctx, int rows, int C, s4g_t y, s4g_t gamma, s4g_t dout,
                            s4g_t dy, s4g_t dgamma, s4g_err *err)
{
    size_t n = Z(rows) * Z(C);
    const char *op = "scale_residual_back";
    if (dims_ok(op, err, 2, rows, C) || need(ctx, op, "y", y, n, err) ||
        need(ctx, op, "gamma", gamma, Z(C), err) || need(ctx, op, "dout", dout, n, err) ||
        maybe(ctx, op, "dy", dy, n, err) || maybe(ctx, op, "dgamma", dgamma, Z(C), err))
        return -1;
    return CALL(scale_residual_back, rows, C, y, gamma, dout, dy, dgamma, err);
}

int s4g_avgpool(s4g_ctx *ctx, int N, int HW, int C, s4g_t x, s4g_t y, s4g_err *err)
{
    if (dims_ok("avgpool", err, 3, N, HW, C) ||
        need(ctx, "avgpool", "x", x, Z(N) * Z(HW) * Z(C), err) ||
        need(ctx, "avgpool", "y", y, Z(N) * Z(C), err))
        return -1;
    return CALL(avgpool, N, HW, C, x, y, err);
}

int s4g_avgpool_back(s4g_ctx *ctx, int N, int HW, int C, s4g_t dy, s4g_t dx, s4g_err *err)
{
    if (dims_ok("avgpool_back", err, 3, N, HW, C) ||
        need(ctx, "avgpool_back", "dy", dy, Z(N) * Z(C), err) ||
        need(ctx, "avgpool_back", "dx", dx, Z(N) * Z(HW) * Z(C), err))
        return -1;
    return CALL(avgpool_back, N, HW, C, dy, dx, err);
}

int s4g_l2norm(s4g_ctx *ctx, int rows, int C, s4g_t x, s4g_t y, s4g_t norms, s4g_err *err)
{
    size_t n = Z(rows) * Z(C);
    if (dims_ok("l2norm", err, 2, rows, C) || need(ctx, "l2norm", "x", x, n, err) ||
        need(ctx, "l2norm", "y", y, n, err) || maybe(ctx, "l2norm", "norms", norms, Z(rows), err))
        return -1;
    return CALL(l2norm, rows, C, x, y, norms, err);
}

int s4g_l2norm_back(s4g_ctx *ctx, int rows, int C, s4g_t y, s4g_t norms, s4g_t dy, s4g_t dx,
                    s4g_err *err)
{
    size_t n = Z(rows) * Z(C);
    const char *op = "l2norm_back";
    if (dims_ok(op, err, 2, rows, C) || need(ctx, op, "y", y, n, err) ||
        need(ctx, op, "norms", norms, Z(rows), err) || need(ctx, op, "dy", dy, n, err) ||
        need(ctx, op, "dx", dx, n, err))
        return -1;
    return CALL(l2norm_back, rows, C, y, norms, dy, dx, err);
}

int s4g_infonce(s4g_ctx *ctx, int B, int D, float smoothing, s4g_t q, s4g_t r, s4g_t logit_scale,
                s4g_t loss, s4g_t dq, s4g_t dr, s4g_t dscale, s4g_err *err)
{
    size_t n = Z(B) * Z(D);
    const char *op = "infonce";
    if (dims_ok(op, err, 2, B, D) || need(ctx, op, "q", q, n, err) ||
        need(ctx, op, "r", r, n, err) || need(ctx, op, "logit_scale", logit_scale, 1, err) ||
        need(ctx, op, "loss", loss, 1, err) || maybe(ctx, op, "dq", dq, n, err) ||
        maybe(ctx, op, "dr", dr, n, err) || maybe(ctx, op, "dscale", dscale, 1, err))
        return -1;
    if (!(smoothing >= 0.0f && smoothing < 1.0f))
        return s4g_fail(err, S4G_E_INVALID, "infonce: label smoothing %g outside [0, 1)",
                        smoothing);
    return CALL(infonce, B, D, smoothing, q, r, logit_scale, loss, dq, dr, dscale, err);
}

int s4g_adamw(s4g_ctx *ctx, size_t n, s4g_t p, s4g_t g, s4g_t m, s4g_t v, const s4g_adamw_hp *hp,
              s4g_err *err)
{
    if (need(ctx, "adamw", "p", p, n, err) || need(ctx, "adamw", "g", g, n, err) ||
        need(ctx, "adamw", "m", m, n, err) || need(ctx, "adamw", "v", v, n, err))
        return -1;
    if (!hp || hp->step < 1)
        return s4g_fail(err, S4G_E_INVALID, "adamw: step must be >= 1");
    return n ? CALL(adamw, n, p, g, m, v, hp, err) : 0;
}
