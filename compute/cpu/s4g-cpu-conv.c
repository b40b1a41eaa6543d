/* s4g-cpu-conv.c — patch extraction (stem / downsample convs become patchify + GEMM) and the
 * depthwise 7x7 convolution of the ConvNeXt block, forward and backward, NHWC.
 *
 * dwconv7 is a direct kernel: for one output row (n, h) it adds up to 7x7 shifted input
 * rows times per-channel weights, with the innermost loop over contiguous channels.  No
 * im2col: that would need 49x the activation memory. */
#include "s4g-cpu.h"

#include <string.h>

int s4g_cpu_patchify(s4g_ctx *ctx, int N, int H, int W, int C, int k, s4g_t x, s4g_t y,
                     s4g_err *err)
{
    const float *px = s4g_cpu_ptr(x);
    float *py = s4g_cpu_ptr(y);
    const int Ho = H / k, Wo = W / k;
    const size_t seg = (size_t)k * C; /* one kernel row of a patch: k pixels x C channels */
    const int nt = ctx->threads;
    (void)nt;
    S4G_OMP(omp parallel for num_threads(nt) schedule(static) if ((long)N * H * W * C >= S4G_CPU_PAR_MIN))
    for (int nh = 0; nh < N * Ho; nh++) {
        int n = nh / Ho, oh = nh % Ho;
        for (int ow = 0; ow < Wo; ow++) {
            float *dst = py + ((size_t)nh * Wo + ow) * k * seg;
            for (int kh = 0; kh < k; kh++) {
                const float *src = px + (((size_t)n * H + (size_t)oh * k + kh) * W +
                                         (size_t)ow * k) * C;
                memcpy(dst + kh * seg, src, seg * sizeof(float));
            }
        }
    }
    return 0;
}

int s4g_cpu_patchify_back(s4g_ctx *ctx, int N, int H, int W, int C, int k, s4g_t dy, s4g_t dx,
                          s4g_err *err)
{
    const float *pdy = s4g_cpu_ptr(dy);
    float *pdx = s4g_cpu_ptr(dx);
    const int Ho = H / k, Wo = W / k;
    const size_t seg = (size_t)k * C;
    const size_t rowlen = (size_t)W * C;
    const int nt = ctx->threads;
    (void)nt;
    /* Patches do not overlap, so the backward is the inverse copy; pixels the floor dropped
     * (right columns, bottom rows) receive no gradient. */
    S4G_OMP(omp parallel for num_threads(nt) schedule(static) if ((long)N * H * W * C >= S4G_CPU_PAR_MIN))
    for (int nh = 0; nh < N * H; nh++) {
        int n = nh / H, h = nh % H;
        float *row = pdx + (size_t)nh * rowlen;
        int oh = h / k, kh = h % k;
        if (oh >= Ho) {
            memset(row, 0, rowlen * sizeof(float));
            continue;
        }
        for (int ow = 0; ow < Wo; ow++) {
            const float *src = pdy + (((size_t)n * Ho + oh) * Wo + ow) * k * seg + kh * seg;
            memcpy(row + (size_t)ow * seg, src, seg * sizeof(float));
        }
        size_t used = (size_t)Wo * seg;
        memset(row + used, 0, (rowlen - used) * sizeof(float));
    }
    return 0;
}

/* Output row (n, h) of y += x rows shifted by the kernel; `flip` selects the transposed
 * convolution (used for dx: dx[h,w] = sum dy[h-kh+3, w-kw+3] w[kh,kw]). */
static void dw_row(int H, int W, int C, const float *restrict src_img, const float *restrict wt,
                   int h, float *restrict out, int flip)
{
    for (int kh = 0; kh < 7; kh++) {
        int sh = flip ? h - kh + 3 : h + kh - 3;
        if (sh < 0 || sh >= H)
            continue;
        const float *srow = src_img + (size_t)sh * W * C;
        for (int kw = 0; kw < 7; kw++) {
            int d = flip ? 3 - kw : kw - 3; /* source column = w + d */
            const float *restrict wk = wt + (size_t)(kh * 7 + kw) * C;
            int w0 = d < 0 ? -d : 0, w1 = d > 0 ? W - d : W;
            for (int w = w0; w < w1; w++) {
                const float *restrict s = srow + (size_t)(w + d) * C;
                float *restrict o = out + (size_t)w * C;
                for (int c = 0; c < C; c++)
                    o[c] += s[c] * wk[c];
            }
        }
    }
}

int s4g_cpu_dwconv7(s4g_ctx *ctx, int N, int H, int W, int C, s4g_t x, s4g_t w, s4g_t b, s4g_t y,
                    s4g_err *err)
{
    const float *px = s4g_cpu_ptr(x), *pw = s4g_cpu_ptr(w), *pb = s4g_cpu_ptr(b);
    float *py = s4g_cpu_ptr(y);
    const size_t img = (size_t)H * W * C, rowlen = (size_t)W * C;
    const int nt = ctx->threads;
    (void)nt;
    S4G_OMP(omp parallel for num_threads(nt) schedule(static) if ((long)N * H * W * C >= 4096))
    for (int nh = 0; nh < N * H; nh++) {
        int n = nh / H, h = nh % H;
        float *out = py + (size_t)nh * rowlen;
        for (int ww = 0; ww < W; ww++)
            for (int c = 0; c < C; c++)
                out[(size_t)ww * C + c] = pb ? pb[c] : 0.0f;
        dw_row(H, W, C, px + (size_t)n * img, pw, h, out, 0);
    }
    return 0;
}

/* dw, db are reductions over every pixel: each thread owns a fixed chunk of channels and
 * sums all pixels in order (double accumulators), so the result is deterministic. */
enum { DW_CH = 32 };

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
                    float part[DW_CH] = {0};
                    for (int ww = w0; ww < w1; ww++) {
                        const float *restrict g = dyrow + (size_t)ww * C;
                        const float *restrict s = xrow + (size_t)(ww + d) * C;
                        for (int c = 0; c < cw; c++)
                            part[c] += g[c] * s[c];
                    }
                    for (int c = 0; c < cw; c++)
                        a[c] += part[c];
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

int s4g_cpu_dwconv7_back(s4g_ctx *ctx, int N, int H, int W, int C, s4g_t x, s4g_t w, s4g_t dy,
                         s4g_t dx, int accumulate, s4g_t dw, s4g_t db, s4g_err *err)
{
    const float *px = s4g_cpu_ptr(x), *pw = s4g_cpu_ptr(w), *pdy = s4g_cpu_ptr(dy);
    float *pdx = s4g_cpu_ptr(dx), *pdw = s4g_cpu_ptr(dw), *pdb = s4g_cpu_ptr(db);
    const size_t img = (size_t)H * W * C, rowlen = (size_t)W * C;
    const int nt = ctx->threads;
    (void)nt;
    const int par = (long)N * H * W * C >= 4096;
    if (pdx) {
        S4G_OMP(omp parallel for num_threads(nt) schedule(static) if (par))
        for (int nh = 0; nh < N * H; nh++) {
            int n = nh / H, h = nh % H;
            float *out = pdx + (size_t)nh * rowlen;
            if (!accumulate)
                memset(out, 0, rowlen * sizeof(float));
            dw_row(H, W, C, pdy + (size_t)n * img, pw, h, out, 1);
        }
    }
    if (pdw || pdb) {
        const int chunks = (C + DW_CH - 1) / DW_CH;
        S4G_OMP(omp parallel for num_threads(nt) schedule(static) if (par))
        for (int ch = 0; ch < chunks; ch++) {
            int c0 = ch * DW_CH, cw = C - c0 < DW_CH ? C - c0 : DW_CH;
            dw_param_grads(N, H, W, C, px, pdy, pdw, pdb, c0, cw);
        }
    }
    return 0;
}
