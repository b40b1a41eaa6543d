/* s4g-cpu-conv.c — patch extraction (stem / downsample convs become patchify + GEMM) and the
 * depthwise 7x7 convolution of the ConvNeXt block, forward and backward, NHWC.
 *
 * dwconv7 is a direct kernel (s4g-cpu-simd.c): tiles of output pixels keep per-channel
 * accumulators in vector registers over all 49 taps.  No im2col: that would need 49x the
 * activation memory. */
#include "s4g-cpu.h"

#include <string.h>

typedef struct {
    int N, H, W, C, k;
    const float *src;
    float *dst;
} patch_job;

static void patchify_task(void *arg, long lo, long hi)
{
    const patch_job *j = arg;
    const int H = j->H, W = j->W, C = j->C, k = j->k, Ho = H / k, Wo = W / k;
    const size_t seg = (size_t)k * C; /* one kernel row of a patch: k pixels x C channels */
    for (long nh = lo; nh < hi; nh++) {
        int n = (int)(nh / Ho), oh = (int)(nh % Ho);
        for (int ow = 0; ow < Wo; ow++) {
            float *dst = j->dst + ((size_t)nh * Wo + ow) * k * seg;
            for (int kh = 0; kh < k; kh++) {
                const float *src =
                    j->src + (((size_t)n * H + (size_t)oh * k + kh) * W + (size_t)ow * k) * C;
                memcpy(dst + kh * seg, src, seg * sizeof(float));
            }
        }
    }
}

int s4g_cpu_patchify(s4g_ctx *ctx, int N, int H, int W, int C, int k, s4g_t x, s4g_t y,
                     s4g_err *err)
{
    patch_job j = {N, H, W, C, k, s4g_cpu_ptr(x), s4g_cpu_ptr(y)};
    s4g_cpu_parallel(ctx, (long)N * (H / k), (double)N * H * W * C, patchify_task, &j);
    return 0;
}

/* Patches do not overlap, so the backward is the inverse copy; pixels the floor dropped
 * (right columns, bottom rows) receive no gradient.  One task row = one input row. */
static void patchify_back_task(void *arg, long lo, long hi)
{
    const patch_job *j = arg;
    const int H = j->H, W = j->W, C = j->C, k = j->k, Ho = H / k, Wo = W / k;
    const size_t seg = (size_t)k * C, rowlen = (size_t)W * C;
    for (long nh = lo; nh < hi; nh++) {
        int n = (int)(nh / H), h = (int)(nh % H);
        float *row = j->dst + (size_t)nh * rowlen;
        int oh = h / k, kh = h % k;
        if (oh >= Ho) {
            memset(row, 0, rowlen * sizeof(float));
            continue;
        }
        for (int ow = 0; ow < Wo; ow++) {
            const float *src = j->src + (((size_t)n * Ho + oh) * Wo + ow) * k * seg + kh * seg;
            memcpy(row + (size_t)ow * seg, src, seg * sizeof(float));
        }
        size_t used = (size_t)Wo * seg;
        memset(row + used, 0, (rowlen - used) * sizeof(float));
    }
}

int s4g_cpu_patchify_back(s4g_ctx *ctx, int N, int H, int W, int C, int k, s4g_t dy, s4g_t dx,
                          s4g_err *err)
{
    patch_job j = {N, H, W, C, k, s4g_cpu_ptr(dy), s4g_cpu_ptr(dx)};
    s4g_cpu_parallel(ctx, (long)N * H, (double)N * H * W * C, patchify_back_task, &j);
    return 0;
}

typedef struct {
    int N, H, W, C, accumulate;
    const float *src, *w, *b;
    float *dst;
    float *dw, *db; /* backward: parameter gradients */
} dw_job;

/* The loops are in s4g-cpu-simd.c (register-blocked over channels, one version per vector
 * path); a task is a range of output rows, cut where the image changes. */
static void dw_rows_task(const dw_job *j, const float *src, const float *bias, int flip,
                         int accumulate, long lo, long hi)
{
    const int H = j->H;
    const size_t img = (size_t)H * j->W * j->C;
    for (long nh = lo; nh < hi;) {
        int n = (int)(nh / H), h0 = (int)(nh % H);
        int h1 = hi - nh < H - h0 ? h0 + (int)(hi - nh) : H;
        s4g_cpu_k->dw_rows(H, j->W, j->C, src + (size_t)n * img, j->w, bias, h0, h1,
                           j->dst + (size_t)n * img, flip, accumulate);
        nh += h1 - h0;
    }
}

static void dwconv7_task(void *arg, long lo, long hi)
{
    const dw_job *j = arg;
    dw_rows_task(j, j->src, j->b, 0, 0, lo, hi);
}

int s4g_cpu_dwconv7(s4g_ctx *ctx, int N, int H, int W, int C, s4g_t x, s4g_t w, s4g_t b, s4g_t y,
                    s4g_err *err)
{
    dw_job j = {N, H, W, C, 0, s4g_cpu_ptr(x), s4g_cpu_ptr(w), s4g_cpu_ptr(b), s4g_cpu_ptr(y)};
    s4g_cpu_parallel(ctx, (long)N * H, 49.0 * N * H * W * C, dwconv7_task, &j);
    return 0;
}

/* dw, db are reductions over every pixel: each thread owns a fixed chunk of channels and
 * sums all pixels in order (double accumulators), so the result is deterministic. */
enum { DW_CH = 32 };

static void dwconv7_dx_task(void *arg, long lo, long hi)
{
    const dw_job *j = arg;
    dw_rows_task(j, j->b, NULL, 1, j->accumulate, lo, hi); /* b holds dy here */
}

static void dwconv7_dw_task(void *arg, long lo, long hi)
{
    const dw_job *j = arg;
    for (long ch = lo; ch < hi; ch++) {
        int c0 = (int)ch * DW_CH, cw = j->C - c0 < DW_CH ? j->C - c0 : DW_CH;
        s4g_cpu_k->dw_param_grads(j->N, j->H, j->W, j->C, j->src, j->b, j->dw, j->db, c0, cw);
    }
}

int s4g_cpu_dwconv7_back(s4g_ctx *ctx, int N, int H, int W, int C, s4g_t x, s4g_t w, s4g_t dy,
                         s4g_t dx, int accumulate, s4g_t dw, s4g_t db, s4g_err *err)
{
    /* src = x, b = dy, dst = dx */
    dw_job j = {N,
                H,
                W,
                C,
                accumulate,
                s4g_cpu_ptr(x),
                s4g_cpu_ptr(w),
                s4g_cpu_ptr(dy),
                s4g_cpu_ptr(dx),
                s4g_cpu_ptr(dw),
                s4g_cpu_ptr(db)};
    const double work = 49.0 * N * H * W * C;
    if (j.dst)
        s4g_cpu_parallel(ctx, (long)N * H, work, dwconv7_dx_task, &j);
    if (j.dw || j.db)
        s4g_cpu_parallel(ctx, (C + DW_CH - 1) / DW_CH, work, dwconv7_dw_task, &j);
    return 0;
}
