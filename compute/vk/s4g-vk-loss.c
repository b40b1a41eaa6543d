/* s4g-vk-loss.c — Vulkan symmetric InfoNCE with label smoothing and learnable logit scale.
 * B <= a few hundred, so five small kernels over a B*B scratch are plenty: logits, row and
 * column log-sum-exp + losses, the logit gradient G (with per-row dscale partials), a
 * single-invocation in-order finish (loss, dscale +=), and dq = s G R, dr = s G^T Q. */
#include "s4g-vk-netops.h"

#include <stdint.h>

static const uint32_t spv_logits[] =
#include "infonce_logits.spv.h"
    ;
static const uint32_t spv_stats[] =
#include "infonce_stats.spv.h"
    ;
static const uint32_t spv_grad_logits[] =
#include "infonce_grad_logits.spv.h"
    ;
static const uint32_t spv_finish[] =
#include "infonce_finish.spv.h"
    ;
static const uint32_t spv_grad_vec[] =
#include "infonce_grad_vec.spv.h"
    ;

typedef struct {
    uint32_t oq, or_, ols, oloss, odq, odr, odscale, os, B, D, flags;
    float smoothing;
} nce_push;

#define NCE_KERNEL(var, nm, spv)                                                               \
    static const s4g_vk_kernel var = {nm, spv, sizeof spv, 8, sizeof(nce_push)}
NCE_KERNEL(k_logits, "infonce_logits", spv_logits);
NCE_KERNEL(k_stats, "infonce_stats", spv_stats);
NCE_KERNEL(k_grad_logits, "infonce_grad_logits", spv_grad_logits);
NCE_KERNEL(k_finish, "infonce_finish", spv_finish);
NCE_KERNEL(k_grad_vec, "infonce_grad_vec", spv_grad_vec);

int s4g_vk_infonce(s4g_ctx *ctx, int B, int D, float smoothing, s4g_t q, s4g_t r,
                   s4g_t logit_scale, s4g_t loss, s4g_t dq, s4g_t dr, s4g_t dscale, s4g_err *err)
{
    size_t bb = (size_t)B * B, bd = (size_t)B * D;
    if (s4g_vk_check_u32("infonce", 2 * bb + 5 * (size_t)B, err) ||
        s4g_vk_check_u32("infonce", q.off + bd, err) || s4g_vk_check_u32("infonce", r.off + bd, err) ||
        (dq.buf && s4g_vk_check_u32("infonce", dq.off + bd, err)) ||
        (dr.buf && s4g_vk_check_u32("infonce", dr.off + bd, err)) ||
        s4g_vk_check_u32("infonce", 2 * bd, err))
        return -1;
    s4g_buf *scratch = s4g_buf_new(ctx, 2 * bb + 5 * (size_t)B, err);
    if (!scratch) {
        s4g_err_prefix(err, "infonce scratch for B = %d", B);
        return -1;
    }
    nce_push p = {(uint32_t)q.off, (uint32_t)r.off, (uint32_t)logit_scale.off,
                  (uint32_t)loss.off, (uint32_t)dq.off, (uint32_t)dr.off, (uint32_t)dscale.off,
                  0, (uint32_t)B, (uint32_t)D,
                  (dq.buf ? 1u : 0u) | (dr.buf ? 2u : 0u) | (dscale.buf ? 4u : 0u), smoothing};
    s4g_buf *b[8] = {q.buf, r.buf, logit_scale.buf, loss.buf, s4g_vk_or(dq, scratch),
                     s4g_vk_or(dr, scratch), s4g_vk_or(dscale, scratch), scratch};
    int rc = s4g_vk_run(ctx, &k_logits, b, &p, bb, 64, err);
    if (rc == 0)
        rc = s4g_vk_run(ctx, &k_stats, b, &p, 2 * (size_t)B, 64, err);
    if (rc == 0)
        rc = s4g_vk_run(ctx, &k_grad_logits, b, &p, (size_t)B, 64, err);
    if (rc == 0)
        rc = s4g_vk_run(ctx, &k_finish, b, &p, 1, 1, err);
    if (rc == 0 && (dq.buf || dr.buf))
        rc = s4g_vk_run(ctx, &k_grad_vec, b, &p, 2 * bd, 64, err);
    s4g_buf_free(scratch); /* deferred by the backend until the batch has run */
    return rc;
}
