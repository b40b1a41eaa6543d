/* s4g-vk-conv.c — Vulkan patchify and depthwise 7x7 convolution (forward and backward).
 * dw/db are reduced in two deterministic passes (per-block partial sums, then an in-order
 * sum over blocks) instead of float atomics, so gradients are bit-reproducible. */
#include "s4g-vk-netops.h"

#include <stdint.h>

static const uint32_t spv_patchify[] =
#include "patchify.spv.h"
    ;
static const uint32_t spv_patchify_back[] =
#include "patchify_back.spv.h"
    ;
static const uint32_t spv_dwconv7[] =
#include "dwconv7.spv.h"
    ;
static const uint32_t spv_dwconv7_back_dx[] =
#include "dwconv7_back_dx.spv.h"
    ;
static const uint32_t spv_dwconv7_back_dw[] =
#include "dwconv7_back_dw.spv.h"
    ;
static const uint32_t spv_reduce_rows[] =
#include "reduce_rows.spv.h"
    ;

typedef struct { uint32_t o_in, o_out, N, H, W, C, k, total; } patch_push;
typedef struct { uint32_t ox, ow, ob, oy, N, H, W, C, has_b, total; } dw_push;
typedef struct { uint32_t ody, ow, odx, N, H, W, C, accumulate, total; } dwdx_push;
typedef struct { uint32_t ox, ody, opart, N, H, W, C, rows_per_blk, nblk; } dwdw_push;
typedef struct { uint32_t opart, oout, stride, col0, ncols, nblk; } reduce_push;

static const s4g_vk_kernel k_patchify = {"patchify", spv_patchify, sizeof spv_patchify, 2,
                                         sizeof(patch_push)};
static const s4g_vk_kernel k_patchify_back = {"patchify_back", spv_patchify_back,
                                              sizeof spv_patchify_back, 2, sizeof(patch_push)};
static const s4g_vk_kernel k_dwconv7 = {"dwconv7", spv_dwconv7, sizeof spv_dwconv7, 4,
                                        sizeof(dw_push)};
static const s4g_vk_kernel k_dwconv7_back_dx = {"dwconv7_back_dx", spv_dwconv7_back_dx,
                                                sizeof spv_dwconv7_back_dx, 3, sizeof(dwdx_push)};
static const s4g_vk_kernel k_dwconv7_back_dw = {"dwconv7_back_dw", spv_dwconv7_back_dw,
                                                sizeof spv_dwconv7_back_dw, 3, sizeof(dwdw_push)};
const s4g_vk_kernel s4g_vk_k_reduce_rows = {"reduce_rows", spv_reduce_rows,
                                            sizeof spv_reduce_rows, 2, sizeof(reduce_push)};

int s4g_vk_check_u32(const char *op, size_t n, s4g_err *err)
{
    if (n > UINT32_MAX)
        return s4g_fail(err, S4G_E_UNSUPPORTED,
                        "%s: %zu elements exceed the shaders' 32-bit indexing", op, n);
    return 0;
}

int s4g_vk_run(s4g_ctx *ctx, const s4g_vk_kernel *k, s4g_buf *const *bufs, const void *push,
               size_t items, uint32_t local, s4g_err *err)
{
    uint32_t g[3];
    s4g_vk_grid_1d(items, local, g);
    return s4g_vk_dispatch(ctx, k, bufs, push, NULL, 0, g[0], g[1], g[2], err);
}

/* out[0..ncols) += sum over nblk blocks of part[blk*stride + col0 + j] */
int s4g_vk_reduce_rows(s4g_ctx *ctx, s4g_buf *part, uint32_t stride, uint32_t col0,
                       uint32_t ncols, uint32_t nblk, s4g_t out, s4g_err *err)
{
    reduce_push p = {0, (uint32_t)out.off, stride, col0, ncols, nblk};
    s4g_buf *b[2] = {part, out.buf};
    return s4g_vk_run(ctx, &s4g_vk_k_reduce_rows, b, &p, ncols, 64, err);
}

static int patch_common(s4g_ctx *ctx, const s4g_vk_kernel *k, int N, int H, int W, int C,
                        int kk, s4g_t in, s4g_t out, size_t total, s4g_err *err)
{
    if (s4g_vk_check_u32(k->name, in.off + total, err) ||
        s4g_vk_check_u32(k->name, out.off + total, err))
        return -1;
    patch_push p = {(uint32_t)in.off, (uint32_t)out.off, (uint32_t)N, (uint32_t)H, (uint32_t)W,
                    (uint32_t)C, (uint32_t)kk, (uint32_t)total};
    s4g_buf *b[2] = {in.buf, out.buf};
    return s4g_vk_run(ctx, k, b, &p, total, 64, err);
}

int s4g_vk_patchify(s4g_ctx *ctx, int N, int H, int W, int C, int k, s4g_t x, s4g_t y,
                    s4g_err *err)
{
    size_t total = (size_t)N * (size_t)(H / k) * (size_t)(W / k) * (size_t)k * (size_t)k * (size_t)C;
    if (s4g_vk_check_u32("patchify", x.off + (size_t)N * H * W * C, err))
        return -1;
    return patch_common(ctx, &k_patchify, N, H, W, C, k, x, y, total, err);
}

int s4g_vk_patchify_back(s4g_ctx *ctx, int N, int H, int W, int C, int k, s4g_t dy, s4g_t dx,
                         s4g_err *err)
{
    size_t total = (size_t)N * H * W * C;
    if (s4g_vk_check_u32("patchify_back", dy.off + total, err))
        return -1;
    return patch_common(ctx, &k_patchify_back, N, H, W, C, k, dy, dx, total, err);
}

int s4g_vk_dwconv7(s4g_ctx *ctx, int N, int H, int W, int C, s4g_t x, s4g_t w, s4g_t b, s4g_t y,
                   s4g_err *err)
{
    size_t total = (size_t)N * H * W * C;
    if (s4g_vk_check_u32("dwconv7", x.off + total, err) ||
        s4g_vk_check_u32("dwconv7", y.off + total, err))
        return -1;
    dw_push p = {(uint32_t)x.off, (uint32_t)w.off, (uint32_t)b.off, (uint32_t)y.off,
                 (uint32_t)N, (uint32_t)H, (uint32_t)W, (uint32_t)C, b.buf != NULL,
                 (uint32_t)total};
    s4g_buf *bufs[4] = {x.buf, w.buf, s4g_vk_or(b, w.buf), y.buf};
    return s4g_vk_run(ctx, &k_dwconv7, bufs, &p, total, 64, err);
}

int s4g_vk_dwconv7_back(s4g_ctx *ctx, int N, int H, int W, int C, s4g_t x, s4g_t w, s4g_t dy,
                        s4g_t dx, int accumulate, s4g_t dw, s4g_t db, s4g_err *err)
{
    size_t total = (size_t)N * H * W * C;
    if (s4g_vk_check_u32("dwconv7_back", x.off + total, err) ||
        s4g_vk_check_u32("dwconv7_back", dy.off + total, err) ||
        s4g_vk_check_u32("dwconv7_back", dx.off + total, err))
        return -1;
    if (dx.buf) {
        dwdx_push p = {(uint32_t)dy.off, (uint32_t)w.off, (uint32_t)dx.off, (uint32_t)N,
                       (uint32_t)H, (uint32_t)W, (uint32_t)C, accumulate != 0, (uint32_t)total};
        s4g_buf *b[3] = {dy.buf, w.buf, dx.buf};
        if (s4g_vk_run(ctx, &k_dwconv7_back_dx, b, &p, total, 64, err))
            return -1;
    }
    if (!dw.buf && !db.buf)
        return 0;
    /* Pass 1: ~64 blocks of image rows (n,h), each giving 50*C partial sums (49 taps + db). */
    size_t rows = (size_t)N * H;
    size_t rpb = (rows + 63) / 64, nblk = (rows + rpb - 1) / rpb, per = 50 * (size_t)C;
    s4g_buf *part = s4g_buf_new(ctx, nblk * per, err);
    if (!part)
        return -1;
    dwdw_push p = {(uint32_t)x.off, (uint32_t)dy.off, 0, (uint32_t)N, (uint32_t)H, (uint32_t)W,
                   (uint32_t)C, (uint32_t)rpb, (uint32_t)nblk};
    s4g_buf *b[3] = {x.buf, dy.buf, part};
    int rc = s4g_vk_run(ctx, &k_dwconv7_back_dw, b, &p, nblk * per, 64, err);
    /* Pass 2: in-order sums over blocks, accumulated into the parameter gradients. */
    if (rc == 0 && dw.buf)
        rc = s4g_vk_reduce_rows(ctx, part, (uint32_t)per, 0, 49u * (uint32_t)C, (uint32_t)nblk,
                                dw, err);
    if (rc == 0 && db.buf)
        rc = s4g_vk_reduce_rows(ctx, part, (uint32_t)per, 49u * (uint32_t)C, (uint32_t)C,
                                (uint32_t)nblk, db, err);
    s4g_buf_free(part); /* released after the batch that uses it completes */
    return rc;
}
