/* s4g-cpu-conv.c — patch extraction (stem / downsample convs become patchify + GEMM) and the
 * depthwise 7x7 convolution of the ConvNeXt block, forward and backward, NHWC.
 *
 * dwconv7 is a direct kernel: for one output row (n, h) it adds up to 7x7 shifted input
 * rows times per-channel weights, with the innermost loop over contiguous channels.  No
 * im2col: that would need 49x the activation memory. */
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

/* Output row (n, h) of y += x rows shifted by the kernel; `flip` selects the transposed
 * convolution (used for dx: dx[h,w] = sum dy[h-kh+3, w-kw+3] w[kh,kw]).  Away from the
 * left/right border all 7 taps of a kernel row are summed per channel before the single
 * load/store of the output, which keeps the loop compute-bound rather than store-bound. */
S4G_CLONES
static void dw_row(int H, int W, int C, const float *restrict src_img, const float *restrict wt,
                   int h, float *restrict out, int flip)
{
    for (int kh = 0; kh < 7; kh++) {
        int sh = flip ? h - kh + 3 : h + kh - 3;
        if (sh < 0 || sh >= H)
            continue;
        const float *srow = src_img + (size_t)sh * W * C;
        const float *wr = wt + (size_t)kh * 7 * C;
        for (int w = 0; w < W; w++) {
            float *restrict o = out + (size_t)w * C;
            if (w >= 3 && w + 3 < W) {
                /* tap kw reads source column w + (flip ? 3 - kw : kw - 3) */
                const float *restrict s0 = srow + (size_t)(flip ? w + 3 : w - 3) * C;
                const float *restrict s1 = srow + (size_t)(flip ? w + 2 : w - 2) * C;
                const float *restrict s2 = srow + (size_t)(flip ? w + 1 : w - 1) * C;
                const float *restrict s3 = srow + (size_t)w * C;
                const float *restrict s4 = srow + (size_t)(flip ? w - 1 : w + 1) * C;
                const float *restrict s5 = srow + (size_t)(flip ? w - 2 : w + 2) * C;
                const float *restrict s6 = srow + (size_t)(flip ? w - 3 : w + 3) * C;
                const float *restrict w0 = wr, *restrict w1 = wr + C, *restrict w2 = wr + 2 * C,
                                  *restrict w3 = wr + 3 * C, *restrict w4 = wr + 4 * C,
                                  *restrict w5 = wr + 5 * C, *restrict w6 = wr + 6 * C;
                for (int c = 0; c < C; c++)
                    o[c] += s0[c] * w0[c] + s1[c] * w1[c] + s2[c] * w2[c] + s3[c] * w3[c] +
                            s4[c] * w4[c] + s5[c] * w5[c] + s6[c] * w6[c];
                continue;
            }
            for (int kw = 0; kw < 7; kw++) {
                int sw = w + (flip ? 3 - kw : kw - 3);
                if (sw < 0 || sw >= W)
                    continue;
                const float *restrict sp = srow + (size_t)sw * C;
                const float *restrict wk = wr + (size_t)kw * C;
                for (int c = 0; c < C; c++)
                    o[c] += sp[c] * wk[c];
            }
        }
    }
}

typedef struct {
    int N, H, W, C, accumulate;
    const float *src, *w, *b;
    float *dst;
    float *dw, *db; /* backward: parameter gradients */
} dw_job;

static void dwconv7_task(void *arg, long lo, long hi)
{
    const dw_job *j = arg;
    const int H = j->H, W = j->W, C = j->C;
    const size_t img = (size_t)H * W * C, rowlen = (size_t)W * C;
    for (long nh = lo; nh < hi; nh++) {
        int n = (int)(nh / H), h = (int)(nh % H);
        float *out = j->dst + (size_t)nh * rowlen;
        for (int ww = 0; ww < W; ww++)
            for (int c = 0; c < C; c++)
                out[(size_t)ww * C + c] = j->b ? j->b[c] : 0.0f;
        dw_row(H, W, C, j->src + (size_t)n * img, j->w, h, out, 0);
    }
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

typedef float v8f __attribute__((vector_size(32), aligned(4)));

S4G_CLONES
static void dw_param_grads(int N, int H, int W, int C, const float *px, const float *pdy,
                           float *pdw, float *pdb, int c0, int cw)
{
    double acc[49 * DW_CH];
    double accb[DW_CH];
    memset(acc, 0, sizeof acc);
    memset(accb, 0, sizeof accb);
    const size_t img = (size_t)H * W * C;
    for (int n = 0; n < N; n++) {
        for (int h = 0; h < H; h++) {
            const float *dyrow = pdy + n * img + (size_t)h * W * C + c0;
            if (pdb)
                for (int ww = 0; ww < W; ww++)
                    for (int c = 0; c < cw; c++)
                        accb[c] += dyrow[(size_t)ww * C + c];
            if (!pdw)
                continue;
            for (int kh = 0; kh < 7; kh++) {
                int sh = h + kh - 3;
                if (sh < 0 || sh >= H)
                    continue;
                const float *xrow = px + n * img + (size_t)sh * W * C + c0;
                for (int kw = 0; kw < 7; kw++) {
                    int d = kw - 3;
                    int w0 = d < 0 ? -d : 0, w1 = d > 0 ? W - d : W;
                    double *restrict a = acc + (kh * 7 + kw) * DW_CH;
                    /* 8 channels at a time in one vector register across the row */
                    int c = 0;
                    if (cw == DW_CH) { /* full chunk: 4 independent accumulators */
                        v8f p0 = {0}, p1 = {0}, p2 = {0}, p3 = {0};
                        for (int ww = w0; ww < w1; ww++) {
                            const float *gp = dyrow + (size_t)ww * C;
                            const float *sp = xrow + (size_t)(ww + d) * C;
                            v8f g0, g1, g2, g3, s0, s1, s2, s3;
                            __builtin_memcpy(&g0, gp, sizeof g0);
                            __builtin_memcpy(&g1, gp + 8, sizeof g1);
                            __builtin_memcpy(&g2, gp + 16, sizeof g2);
                            __builtin_memcpy(&g3, gp + 24, sizeof g3);
                            __builtin_memcpy(&s0, sp, sizeof s0);
                            __builtin_memcpy(&s1, sp + 8, sizeof s1);
                            __builtin_memcpy(&s2, sp + 16, sizeof s2);
                            __builtin_memcpy(&s3, sp + 24, sizeof s3);
                            p0 += g0 * s0;
                            p1 += g1 * s1;
                            p2 += g2 * s2;
                            p3 += g3 * s3;
                        }
                        for (int i = 0; i < 8; i++) {
                            a[i] += p0[i];
                            a[8 + i] += p1[i];
                            a[16 + i] += p2[i];
                            a[24 + i] += p3[i];
                        }
                        c = DW_CH;
                    }
                    for (; c + 8 <= cw; c += 8) {
                        v8f part = {0};
                        for (int ww = w0; ww < w1; ww++) {
                            v8f g, sv;
                            __builtin_memcpy(&g, dyrow + (size_t)ww * C + c, sizeof g);
                            __builtin_memcpy(&sv, xrow + (size_t)(ww + d) * C + c, sizeof sv);
                            part += g * sv;
                        }
                        for (int i = 0; i < 8; i++)
                            a[c + i] += part[i];
                    }
                    for (; c < cw; c++) {
                        float part = 0;
                        for (int ww = w0; ww < w1; ww++)
                            part += dyrow[(size_t)ww * C + c] * xrow[(size_t)(ww + d) * C + c];
                        a[c] += part;
                    }
                }
            }
        }
    }
    if (pdw)
        for (int k = 0; k < 49; k++)
            for (int c = 0; c < cw; c++)
                pdw[(size_t)k * C + c0 + c] += (float)acc[k * DW_CH + c];
    if (pdb)
        for (int c = 0; c < cw; c++)
            pdb[c0 + c] += (float)accb[c];
}

static void dwconv7_dx_task(void *arg, long lo, long hi)
{
    const dw_job *j = arg;
    const int H = j->H, W = j->W, C = j->C;
    const size_t img = (size_t)H * W * C, rowlen = (size_t)W * C;
    for (long nh = lo; nh < hi; nh++) {
        int n = (int)(nh / H), h = (int)(nh % H);
        float *out = j->dst + (size_t)nh * rowlen;
        if (!j->accumulate)
            memset(out, 0, rowlen * sizeof(float));
        dw_row(H, W, C, j->b + (size_t)n * img, j->w, h, out, 1); /* b holds dy here */
    }
}

static void dwconv7_dw_task(void *arg, long lo, long hi)
{
    const dw_job *j = arg;
    for (long ch = lo; ch < hi; ch++) {
        int c0 = (int)ch * DW_CH, cw = j->C - c0 < DW_CH ? j->C - c0 : DW_CH;
        dw_param_grads(j->N, j->H, j->W, j->C, j->src, j->b, j->dw, j->db, c0, cw);
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
