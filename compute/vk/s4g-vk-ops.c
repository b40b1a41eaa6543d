/* s4g-vk-ops.c — the Vulkan op table and the host wrappers of the basic kernels
 * (element-wise, GEMM, colsum, AdamW).  Arguments were range-checked by s4g-ops.c.
 * Wrappers of further kernels live in their own files and are listed in the table here. */
#include "s4g-vk-internal.h"
#include "s4g-vk-netops.h"

#include <math.h>

static const uint32_t spv_fill[] =
#include "fill.spv.h"
    ;
static const uint32_t spv_copy[] =
#include "copy.spv.h"
    ;
static const uint32_t spv_add[] =
#include "add.spv.h"
    ;
static const uint32_t spv_axpy[] =
#include "axpy.spv.h"
    ;
static const uint32_t spv_scale[] =
#include "scale.spv.h"
    ;
static const uint32_t spv_clamp[] =
#include "clamp.spv.h"
    ;
static const uint32_t spv_gelu[] =
#include "gelu.spv.h"
    ;
static const uint32_t spv_gelu_back[] =
#include "gelu_back.spv.h"
    ;
static const uint32_t spv_adamw[] =
#include "adamw.spv.h"
    ;
static const uint32_t spv_colsum[] =
#include "colsum.spv.h"
    ;
static const uint32_t spv_gemm[] =
#include "gemm.spv.h"
    ;

#define LOCAL 128 /* local_size_x of the 1-D shaders */

typedef struct { uint32_t n, ox; float value; } pc_fill;
typedef struct { uint32_t n, os, od; } pc_copy;
typedef struct { uint32_t n, oa, ob, oo; } pc_add;
typedef struct { uint32_t n, ox, oy; float alpha; } pc_axpy;
typedef struct { uint32_t n, ox; float alpha; } pc_scale;
typedef struct { uint32_t n, ox; float lo, hi; } pc_clamp;
typedef struct { uint32_t n, ox, oy; } pc_gelu;
typedef struct { uint32_t n, ox, ody, odx; } pc_gelu_back;
typedef struct {
    uint32_t n, op, og, om, ov;
    float decay, beta1, beta2, omb1, omb2, eps, step_size, bc2_sqrt;
} pc_adamw;
typedef struct { uint32_t M, N, ox, oo; float beta; } pc_colsum;
typedef struct {
    uint32_t M, N, K, oa, ob, oc, obias, has_bias, row0;
    float alpha, beta;
} pc_gemm;

#define K_(var_, nbuf_, pc_) \
    static const s4g_vk_kernel k_##var_ = {#var_, spv_##var_, sizeof spv_##var_, nbuf_, sizeof(pc_)}
K_(fill, 1, pc_fill);
K_(copy, 2, pc_copy);
K_(add, 3, pc_add);
K_(axpy, 2, pc_axpy);
K_(scale, 1, pc_scale);
K_(clamp, 1, pc_clamp);
K_(gelu, 2, pc_gelu);
K_(gelu_back, 3, pc_gelu_back);
K_(adamw, 4, pc_adamw);
K_(colsum, 2, pc_colsum);
K_(gemm, 4, pc_gemm);

#define U(x) ((uint32_t)(x))

static int run_1d(s4g_ctx *ctx, const s4g_vk_kernel *k, s4g_buf *const *bufs, const void *pc,
                  size_t n, s4g_err *err)
{
    uint32_t g[3];
    s4g_vk_grid_1d(n, LOCAL, g);
    return s4g_vk_dispatch(ctx, k, bufs, pc, NULL, 0, g[0], g[1], g[2], err);
}

static int vk_fill(s4g_ctx *ctx, size_t n, s4g_t x, float v, s4g_err *err)
{
    pc_fill pc = {U(n), U(x.off), v};
    s4g_buf *b[] = {x.buf};
    return run_1d(ctx, &k_fill, b, &pc, n, err);
}

static int vk_copy(s4g_ctx *ctx, size_t n, s4g_t src, s4g_t dst, s4g_err *err)
{
    pc_copy pc = {U(n), U(src.off), U(dst.off)};
    s4g_buf *b[] = {src.buf, dst.buf};
    return run_1d(ctx, &k_copy, b, &pc, n, err);
}

static int vk_add(s4g_ctx *ctx, size_t n, s4g_t a, s4g_t bb, s4g_t out, s4g_err *err)
{
    pc_add pc = {U(n), U(a.off), U(bb.off), U(out.off)};
    s4g_buf *b[] = {a.buf, bb.buf, out.buf};
    return run_1d(ctx, &k_add, b, &pc, n, err);
}

static int vk_axpy(s4g_ctx *ctx, size_t n, float alpha, s4g_t x, s4g_t y, s4g_err *err)
{
    pc_axpy pc = {U(n), U(x.off), U(y.off), alpha};
    s4g_buf *b[] = {x.buf, y.buf};
    return run_1d(ctx, &k_axpy, b, &pc, n, err);
}

static int vk_scale(s4g_ctx *ctx, size_t n, float alpha, s4g_t x, s4g_err *err)
{
    pc_scale pc = {U(n), U(x.off), alpha};
    s4g_buf *b[] = {x.buf};
    return run_1d(ctx, &k_scale, b, &pc, n, err);
}

static int vk_clamp(s4g_ctx *ctx, size_t n, s4g_t x, float lo, float hi, s4g_err *err)
{
    pc_clamp pc = {U(n), U(x.off), lo, hi};
    s4g_buf *b[] = {x.buf};
    return run_1d(ctx, &k_clamp, b, &pc, n, err);
}

static int vk_gelu(s4g_ctx *ctx, size_t n, s4g_t x, s4g_t y, s4g_err *err)
{
    pc_gelu pc = {U(n), U(x.off), U(y.off)};
    s4g_buf *b[] = {x.buf, y.buf};
    return run_1d(ctx, &k_gelu, b, &pc, n, err);
}

static int vk_gelu_back(s4g_ctx *ctx, size_t n, s4g_t x, s4g_t dy, s4g_t dx, s4g_err *err)
{
    pc_gelu_back pc = {U(n), U(x.off), U(dy.off), U(dx.off)};
    s4g_buf *b[] = {x.buf, dy.buf, dx.buf};
    return run_1d(ctx, &k_gelu_back, b, &pc, n, err);
}

static int vk_adamw(s4g_ctx *ctx, size_t n, s4g_t p, s4g_t g, s4g_t m, s4g_t v,
                    const s4g_adamw_hp *hp, s4g_err *err)
{
    if (hp->step < 1)
        return s4g_fail(err, S4G_E_INVALID, "adamw: step %d (must be >= 1)", hp->step);
    double bc1 = 1.0 - pow((double)hp->beta1, hp->step);
    double bc2 = 1.0 - pow((double)hp->beta2, hp->step);
    pc_adamw pc = {U(n),
                   U(p.off),
                   U(g.off),
                   U(m.off),
                   U(v.off),
                   (float)(1.0 - (double)hp->lr * hp->weight_decay),
                   hp->beta1,
                   hp->beta2,
                   (float)(1.0 - (double)hp->beta1),
                   (float)(1.0 - (double)hp->beta2),
                   hp->eps,
                   (float)(hp->lr / bc1),
                   (float)sqrt(bc2)};
    s4g_buf *b[] = {p.buf, g.buf, m.buf, v.buf};
    return run_1d(ctx, &k_adamw, b, &pc, n, err);
}

static int vk_colsum(s4g_ctx *ctx, int M, int N, s4g_t x, float beta, s4g_t out, s4g_err *err)
{
    pc_colsum pc = {U(M), U(N), U(x.off), U(out.off), beta};
    s4g_buf *b[] = {x.buf, out.buf};
    return run_1d(ctx, &k_colsum, b, &pc, (size_t)N, err);
}

/* GEMM variants: only the scalar register-blocked kernel today.  A cooperative-matrix
 * kernel (GL_NV_cooperative_matrix, device flag coopmat_nv) would be picked here. */
#define GEMM_TILE 32
static int vk_gemm(s4g_ctx *ctx, int ta, int tb, int M, int N, int K, float alpha, s4g_t A,
                   s4g_t B, float beta, s4g_t C, s4g_t bias, s4g_err *err)
{
    const s4g_vk_device_info *d = s4g_vk_ctx_device(ctx);
    uint32_t gx = (uint32_t)((N + GEMM_TILE - 1) / GEMM_TILE);
    if (gx > d->max_workgroup_count[0])
        return s4g_fail(err, S4G_E_UNSUPPORTED, "gemm: N = %d needs %u workgroups (limit %u)", N,
                        gx, d->max_workgroup_count[0]);
    uint32_t spec[2] = {ta ? 1u : 0u, tb ? 1u : 0u};
    s4g_buf *b[] = {A.buf, B.buf, C.buf, bias.buf ? bias.buf : C.buf};
    /* Rows beyond the workgroup-count limit go to further dispatches (row0). */
    uint64_t rows_per = (uint64_t)d->max_workgroup_count[1] * GEMM_TILE;
    for (uint64_t row0 = 0; row0 < (uint64_t)M; row0 += rows_per) {
        uint64_t rows = (uint64_t)M - row0 < rows_per ? (uint64_t)M - row0 : rows_per;
        pc_gemm pc = {U(M),      U(N),          U(K),         U(A.off),     U(B.off),
                      U(C.off),  U(bias.off),   bias.buf != NULL, U(row0), alpha,
                      beta};
        uint32_t gy = (uint32_t)((rows + GEMM_TILE - 1) / GEMM_TILE);
        if (s4g_vk_dispatch(ctx, &k_gemm, b, &pc, spec, 2, gx, gy, 1, err))
            return -1;
    }
    return 0;
}

static void vk_free(s4g_ctx *ctx)
{
    s4g_vk_ctx_free_impl(ctx);
}

const s4g_backend_ops s4g_vk_ops = {
    .name = "vulkan",
    .ctx_free = vk_free,
    .sync = s4g_vk_sync,
    .buf_alloc = s4g_vk_buf_alloc,
    .buf_release = s4g_vk_buf_release,
    .upload = s4g_vk_upload,
    .download = s4g_vk_download,
    .fill = vk_fill,
    .copy = vk_copy,
    .add = vk_add,
    .axpy = vk_axpy,
    .scale = vk_scale,
    .clamp = vk_clamp,
    .gelu = vk_gelu,
    .gelu_back = vk_gelu_back,
    .gemm = vk_gemm,
    .colsum = vk_colsum,
    .adamw = vk_adamw,
    .search = &s4g_vk_search_ops,
    S4G_VK_NETOPS_ENTRIES, /* vk-ops family: s4g-vk-conv.c, s4g-vk-norm.c, s4g-vk-loss.c */
};
