/* s4g-vk-norm.c — Vulkan LayerNorm, layer scale + residual, average pool and L2 norm.
 * Row statistics use one workgroup per row; parameter gradients (dgamma, dbeta) are
 * deterministic two-pass column reductions (partials per row block, then in-order sums). */
#include "s4g-vk-netops.h"

#include <stdint.h>

static const uint32_t spv_layernorm[] =
#include "layernorm.spv.h"
    ;
static const uint32_t spv_layernorm_back_dx[] =
#include "layernorm_back_dx.spv.h"
    ;
static const uint32_t spv_colred_partial[] =
#include "colred_partial.spv.h"
    ;
static const uint32_t spv_scale_residual[] =
#include "scale_residual.spv.h"
    ;
static const uint32_t spv_avgpool[] =
#include "avgpool.spv.h"
    ;
static const uint32_t spv_l2norm[] =
#include "l2norm.spv.h"
    ;

typedef struct { uint32_t ox, og, ob, oy, omean, orstd, rows, C, flags; float eps; } ln_push;
typedef struct { uint32_t ox, og, omean, orstd, ody, odx, rows, C; } lnb_push;
typedef struct {
    uint32_t oa, ody, omean, orstd, opart, rows, C, rows_per_blk, nblk, mode, stride;
} colred_push;
typedef struct { uint32_t ox, oy, og, oout, C, total, mode; } sr_push;
typedef struct { uint32_t oin, oout, N, HW, C, mode; } pool_push;
typedef struct { uint32_t oa, ody, onorm, oout, rows, C, mode, has_norm; } l2_push;

static const s4g_vk_kernel k_layernorm = {"layernorm", spv_layernorm, sizeof spv_layernorm, 6,
                                          sizeof(ln_push)};
static const s4g_vk_kernel k_layernorm_back_dx = {"layernorm_back_dx", spv_layernorm_back_dx,
                                                  sizeof spv_layernorm_back_dx, 6,
                                                  sizeof(lnb_push)};
static const s4g_vk_kernel k_colred_partial = {"colred_partial", spv_colred_partial,
                                               sizeof spv_colred_partial, 5, sizeof(colred_push)};
static const s4g_vk_kernel k_scale_residual = {"scale_residual", spv_scale_residual,
                                               sizeof spv_scale_residual, 4, sizeof(sr_push)};
static const s4g_vk_kernel k_avgpool = {"avgpool", spv_avgpool, sizeof spv_avgpool, 2,
                                        sizeof(pool_push)};
static const s4g_vk_kernel k_l2norm = {"l2norm", spv_l2norm, sizeof spv_l2norm, 4,
                                       sizeof(l2_push)};


static int rows_ok(const char *op, int rows, int C, s4g_t a, s4g_t b, s4g_err *err)
{
    size_t n = (size_t)rows * (size_t)C;
    if (s4g_vk_check_u32(op, a.off + n, err) || (b.buf && s4g_vk_check_u32(op, b.off + n, err)))
        return -1;
    return 0;
}

int s4g_vk_layernorm(s4g_ctx *ctx, int rows, int C, float eps, s4g_t x, s4g_t gamma, s4g_t beta,
                     s4g_t y, s4g_t mean, s4g_t rstd, s4g_err *err)
{
    if (rows_ok("layernorm", rows, C, x, y, err))
        return -1;
    ln_push p = {(uint32_t)x.off, (uint32_t)gamma.off, (uint32_t)beta.off, (uint32_t)y.off,
                 (uint32_t)mean.off, (uint32_t)rstd.off, (uint32_t)rows, (uint32_t)C,
                 (mean.buf ? 1u : 0u) | (rstd.buf ? 2u : 0u), eps};
    s4g_buf *b[6] = {x.buf, gamma.buf, beta.buf, y.buf, s4g_vk_or(mean, y.buf),
                     s4g_vk_or(rstd, y.buf)};
    return s4g_vk_run(ctx, &k_layernorm, b, &p, (size_t)rows, 1, err);
}

/* Column sums over [rows, C] into per-block partials, then in-order sums into out0 (and
 * out1 for LayerNorm's dbeta).  mode 0: (dy*xhat, dy); mode 1: dout*y. */
static int column_grads(s4g_ctx *ctx, int mode, int rows, int C, s4g_t a, s4g_t dy, s4g_t mean,
                        s4g_t rstd, s4g_t out0, s4g_t out1, s4g_err *err)
{
    size_t rpb = ((size_t)rows + 255) / 256, nblk = ((size_t)rows + rpb - 1) / rpb;
    size_t stride = (mode == 0 ? 2 : 1) * (size_t)C;
    s4g_buf *part = s4g_buf_new(ctx, nblk * stride, err);
    if (!part)
        return -1;
    colred_push p = {(uint32_t)a.off, (uint32_t)dy.off, (uint32_t)mean.off, (uint32_t)rstd.off,
                     0, (uint32_t)rows, (uint32_t)C, (uint32_t)rpb, (uint32_t)nblk,
                     (uint32_t)mode, (uint32_t)stride};
    s4g_buf *b[5] = {a.buf, dy.buf, s4g_vk_or(mean, a.buf), s4g_vk_or(rstd, a.buf), part};
    int rc = s4g_vk_run(ctx, &k_colred_partial, b, &p, nblk * (size_t)C, 64, err);
    if (rc == 0 && out0.buf)
        rc = s4g_vk_reduce_rows(ctx, part, (uint32_t)stride, 0, (uint32_t)C, (uint32_t)nblk,
                                out0, err);
    if (rc == 0 && out1.buf)
        rc = s4g_vk_reduce_rows(ctx, part, (uint32_t)stride, (uint32_t)C, (uint32_t)C,
                                (uint32_t)nblk, out1, err);
    s4g_buf_free(part); /* deferred by the backend until the batch has run */
    return rc;
}

int s4g_vk_layernorm_back(s4g_ctx *ctx, int rows, int C, s4g_t x, s4g_t gamma, s4g_t mean,
                          s4g_t rstd, s4g_t dy, s4g_t dx, s4g_t dgamma, s4g_t dbeta,
                          s4g_err *err)
{
    if (rows_ok("layernorm_back", rows, C, x, dy, err) ||
        (dx.buf && rows_ok("layernorm_back", rows, C, dx, dx, err)))
        return -1;
    if (dx.buf) {
        lnb_push p = {(uint32_t)x.off, (uint32_t)gamma.off, (uint32_t)mean.off,
                      (uint32_t)rstd.off, (uint32_t)dy.off, (uint32_t)dx.off, (uint32_t)rows,
                      (uint32_t)C};
        s4g_buf *b[6] = {x.buf, gamma.buf, mean.buf, rstd.buf, dy.buf, dx.buf};
        if (s4g_vk_run(ctx, &k_layernorm_back_dx, b, &p, (size_t)rows, 1, err))
            return -1;
    }
    if (!dgamma.buf && !dbeta.buf)
        return 0;
    return column_grads(ctx, 0, rows, C, x, dy, mean, rstd, dgamma, dbeta, err);
}

int s4g_vk_scale_residual(s4g_ctx *ctx, int rows, int C, s4g_t x, s4g_t y, s4g_t gamma,
                          s4g_t out, s4g_err *err)
{
    size_t n = (size_t)rows * C;
    if (rows_ok("scale_residual", rows, C, x, y, err) ||
        rows_ok("scale_residual", rows, C, out, out, err))
        return -1;
    sr_push p = {(uint32_t)x.off, (uint32_t)y.off, (uint32_t)gamma.off, (uint32_t)out.off,
                 (uint32_t)C, (uint32_t)n, 0};
    s4g_buf *b[4] = {x.buf, y.buf, gamma.buf, out.buf};
    return s4g_vk_run(ctx, &k_scale_residual, b, &p, n, 64, err);
}

int s4g_vk_scale_residual_back(s4g_ctx *ctx, int rows, int C, s4g_t y, s4g_t gamma, s4g_t dout,
                               s4g_t dy, s4g_t dgamma, s4g_err *err)
{
    size_t n = (size_t)rows * C;
    if (rows_ok("scale_residual_back", rows, C, y, dout, err) ||
        (dy.buf && rows_ok("scale_residual_back", rows, C, dy, dy, err)))
        return -1;
    if (dy.buf) {
        /* mode 1 reads binding 1 as dout: dy = gamma * dout */
        sr_push p = {0, (uint32_t)dout.off, (uint32_t)gamma.off, (uint32_t)dy.off, (uint32_t)C,
                     (uint32_t)n, 1};
        s4g_buf *b[4] = {dout.buf, dout.buf, gamma.buf, dy.buf};
        if (s4g_vk_run(ctx, &k_scale_residual, b, &p, n, 64, err))
            return -1;
    }
    if (!dgamma.buf)
        return 0;
    return column_grads(ctx, 1, rows, C, y, dout, s4g_none(), s4g_none(), dgamma, s4g_none(),
                        err);
}

int s4g_vk_avgpool(s4g_ctx *ctx, int N, int HW, int C, s4g_t x, s4g_t y, s4g_err *err)
{
    if (s4g_vk_check_u32("avgpool", x.off + (size_t)N * HW * C, err))
        return -1;
    pool_push p = {(uint32_t)x.off, (uint32_t)y.off, (uint32_t)N, (uint32_t)HW, (uint32_t)C, 0};
    s4g_buf *b[2] = {x.buf, y.buf};
    return s4g_vk_run(ctx, &k_avgpool, b, &p, (size_t)N * C, 64, err);
}

int s4g_vk_avgpool_back(s4g_ctx *ctx, int N, int HW, int C, s4g_t dy, s4g_t dx, s4g_err *err)
{
    size_t n = (size_t)N * HW * C;
    if (s4g_vk_check_u32("avgpool_back", dx.off + n, err))
        return -1;
    pool_push p = {(uint32_t)dy.off, (uint32_t)dx.off, (uint32_t)N, (uint32_t)HW, (uint32_t)C, 1};
    s4g_buf *b[2] = {dy.buf, dx.buf};
    return s4g_vk_run(ctx, &k_avgpool, b, &p, n, 64, err);
}

int s4g_vk_l2norm(s4g_ctx *ctx, int rows, int C, s4g_t x, s4g_t y, s4g_t norms, s4g_err *err)
{
    if (rows_ok("l2norm", rows, C, x, y, err))
        return -1;
    l2_push p = {(uint32_t)x.off, 0, (uint32_t)norms.off, (uint32_t)y.off, (uint32_t)rows,
                 (uint32_t)C, 0, norms.buf != NULL};
    s4g_buf *b[4] = {x.buf, x.buf, s4g_vk_or(norms, y.buf), y.buf};
    return s4g_vk_run(ctx, &k_l2norm, b, &p, (size_t)rows, 1, err);
}

int s4g_vk_l2norm_back(s4g_ctx *ctx, int rows, int C, s4g_t y, s4g_t norms, s4g_t dy, s4g_t dx,
                       s4g_err *err)
{
    if (rows_ok("l2norm_back", rows, C, y, dy, err) ||
        rows_ok("l2norm_back", rows, C, dx, dx, err))
        return -1;
    l2_push p = {(uint32_t)y.off, (uint32_t)dy.off, (uint32_t)norms.off, (uint32_t)dx.off,
                 (uint32_t)rows, (uint32_t)C, 1, 1};
    s4g_buf *b[4] = {y.buf, dy.buf, norms.buf, dx.buf};
    return s4g_vk_run(ctx, &k_l2norm, b, &p, (size_t)rows, 1, err);
}
