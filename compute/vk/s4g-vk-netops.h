/* s4g-vk-netops.h — Vulkan implementations of the network ops (vk-ops family), with the
 * exact signatures of the s4g_backend_ops entries they fill (see s4g-backend.h).
 * Files: s4g-vk-conv.c (patchify, dwconv7), s4g-vk-norm.c (layernorm, scale_residual,
 * avgpool, l2norm), s4g-vk-loss.c (infonce). */
#ifndef S4G_VK_NETOPS_H
#define S4G_VK_NETOPS_H

#include "s4g-vk.h"

/* Shared by the wrappers: absent tensors are bound as `fallback` (never touched: the
 * shader gets a flag) and every offset/size must fit the shaders' 32-bit indices. */
static inline s4g_buf *s4g_vk_or(s4g_t t, s4g_buf *fallback)
{
    return t.buf ? t.buf : fallback;
}
int s4g_vk_check_u32(const char *op, size_t n, s4g_err *err);
/* One group per item (row kernels), split over x/y like s4g_vk_grid_1d. */
int s4g_vk_run(s4g_ctx *ctx, const s4g_vk_kernel *k, s4g_buf *const *bufs, const void *push,
               size_t items, uint32_t local, s4g_err *err);

/* out[0..ncols) += in-order sum over nblk blocks of part[blk*stride + col0 + j] (pass 2 of
 * the deterministic parameter-gradient reductions; part is read from offset 0). */
int s4g_vk_reduce_rows(s4g_ctx *ctx, s4g_buf *part, uint32_t stride, uint32_t col0,
                       uint32_t ncols, uint32_t nblk, s4g_t out, s4g_err *err);

int s4g_vk_patchify(s4g_ctx *, int N, int H, int W, int C, int k, s4g_t x, s4g_t y, s4g_err *);
int s4g_vk_patchify_back(s4g_ctx *, int N, int H, int W, int C, int k, s4g_t dy, s4g_t dx,
                         s4g_err *);
int s4g_vk_dwconv7(s4g_ctx *, int N, int H, int W, int C, s4g_t x, s4g_t w, s4g_t b, s4g_t y,
                   s4g_err *);
int s4g_vk_dwconv7_back(s4g_ctx *, int N, int H, int W, int C, s4g_t x, s4g_t w, s4g_t dy,
                        s4g_t dx, int accumulate, s4g_t dw, s4g_t db, s4g_err *);
int s4g_vk_layernorm(s4g_ctx *, int rows, int C, float eps, s4g_t x, s4g_t gamma, s4g_t beta,
                     s4g_t y, s4g_t mean, s4g_t rstd, s4g_err *);
int s4g_vk_layernorm_back(s4g_ctx *, int rows, int C, s4g_t x, s4g_t gamma, s4g_t mean,
                          s4g_t rstd, s4g_t dy, s4g_t dx, s4g_t dgamma, s4g_t dbeta, s4g_err *);
int s4g_vk_scale_residual(s4g_ctx *, int rows, int C, s4g_t x, s4g_t y, s4g_t gamma, s4g_t out,
                          s4g_err *);
int s4g_vk_scale_residual_back(s4g_ctx *, int rows, int C, s4g_t y, s4g_t gamma, s4g_t dout,
                               s4g_t dy, s4g_t dgamma, s4g_err *);
int s4g_vk_avgpool(s4g_ctx *, int N, int HW, int C, s4g_t x, s4g_t y, s4g_err *);
int s4g_vk_avgpool_back(s4g_ctx *, int N, int HW, int C, s4g_t dy, s4g_t dx, s4g_err *);
int s4g_vk_l2norm(s4g_ctx *, int rows, int C, s4g_t x, s4g_t y, s4g_t norms, s4g_err *);
int s4g_vk_l2norm_back(s4g_ctx *, int rows, int C, s4g_t y, s4g_t norms, s4g_t dy, s4g_t dx,
                       s4g_err *);
int s4g_vk_infonce(s4g_ctx *, int B, int D, float smoothing, s4g_t q, s4g_t r,
                   s4g_t logit_scale, s4g_t loss, s4g_t dq, s4g_t dr, s4g_t dscale, s4g_err *);

/* Fills the entries above into a table (for vk-core's s4g_vk_ops). */
#define S4G_VK_NETOPS_ENTRIES                                                                  \
    .patchify = s4g_vk_patchify, .patchify_back = s4g_vk_patchify_back,                        \
    .dwconv7 = s4g_vk_dwconv7, .dwconv7_back = s4g_vk_dwconv7_back,                            \
    .layernorm = s4g_vk_layernorm, .layernorm_back = s4g_vk_layernorm_back,                    \
    .scale_residual = s4g_vk_scale_residual, .scale_residual_back = s4g_vk_scale_residual_back, \
    .avgpool = s4g_vk_avgpool, .avgpool_back = s4g_vk_avgpool_back, .l2norm = s4g_vk_l2norm,   \
    .l2norm_back = s4g_vk_l2norm_back, .infonce = s4g_vk_infonce

#endif
