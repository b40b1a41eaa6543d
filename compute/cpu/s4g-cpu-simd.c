/* s4g-cpu-simd.c — the hot non-GEMM loops of the CPU backend, compiled once per vector path:
 * compute/cpu/meson.build builds this file with S4G_SIMD_NAME=baseline (no -m flags: SSE2),
 * avx2 (-mavx2 -mfma) and avx512 (-mavx512f -mavx512bw -mavx512vl -mavx512dq), and each
 * build defines the kernel table s4g_cpu_kernels_<name>; s4g-cpu-isa.c picks one at program
 * start.  GCC vector extensions keep one text for every width: VW floats per register
 * (16 = one zmm, 8 = one ymm, 4 = one xmm). */
#include "s4g-cpu.h"

#include <immintrin.h>
#include <math.h>
#include <string.h>

#ifndef S4G_SIMD_NAME
#error "compile with -DS4G_SIMD_NAME=baseline|avx2|avx512"
#endif
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

#if defined(__AVX512F__)
#define VW 16
#define DW_TILE 8 /* output pixels per dwconv tile: 8 accumulators + 7 weights of 32 zmm */
#elif defined(__AVX2__)
#define VW 8
#define DW_TILE 4 /* 16 ymm registers */
#else
#define VW 4
#define DW_TILE 4
#endif

typedef float vf __attribute__((vector_size(VW * 4), aligned(4)));
typedef int vi __attribute__((vector_size(VW * 4), aligned(4)));
/* narrower vectors for the channel tails (C = 40, 80, ... are not multiples of 16) */
typedef float vf8 __attribute__((vector_size(32), aligned(4)));
typedef float vf4 __attribute__((vector_size(16), aligned(4)));

#define LD(T, p) ({ T v_; __builtin_memcpy(&v_, (p), sizeof v_); v_; })
#define ST(p, v) ({ __typeof__(v) s_ = (v); __builtin_memcpy((p), &s_, sizeof s_); })

static inline vf sel(vi m, vf a, vf b)
{
    return (vf)(((vi)a & m) | ((vi)b & ~m));
}

static inline vf vclamp(vf x, float lo, float hi)
{
    x = sel(x < lo, (vf){0} + lo, x);
    return sel(x > hi, (vf){0} + hi, x);
}

/* erf as a rational function of x^2 on [-4, 4] (the approximation of Eigen and XLA; erf
 * is +-1 in fp32 beyond 4); absolute error below 4e-7, bounded in test-cpu-ops. */
static inline vf v_erf(vf x)
{
    x = vclamp(x, -4.0f, 4.0f);
    vf x2 = x * x;
    vf p = x2 * -2.72614225801306e-10f + 2.77068142495902e-08f;
    p = x2 * p + -2.10102402082508e-06f;
    p = x2 * p + -5.69250639462346e-05f;
    p = x2 * p + -7.34990630326855e-04f;
    p = x2 * p + -2.95459980854025e-03f;
    p = x2 * p + -1.60960333262415e-02f;
    vf q = x2 * -1.45660718464996e-05f + -2.13374055278905e-04f;
    q = x2 * q + -1.68282697438203e-03f;
    q = x2 * q + -7.37332916720468e-03f;
    q = x2 * q + -1.42647390514189e-02f;
    return x * p / q;
}

/* exp: Cody-Waite reduction by ln 2 and Cephes' degree-5 polynomial (relative error
 * ~2e-7); arguments below -87 give ~1e-38 instead of 0. */
static inline vf v_exp(vf x)
{
    x = vclamp(x, -87.0f, 88.0f);
    const float shifter = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    vf n = (x * 1.44269504088896341f + shifter) - shifter;
    vf r = x - n * 0.693359375f - n * -2.12194440e-4f;
    vf p = r * 1.9875691500e-4f + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    vf y = p * r * r + r + 1.0f;
    vi e = (__builtin_convertvector(n, vi) + 127) << 23;
    return y * (vf)e;
}

static inline vf v_gelu(vf x)
{
    return 0.5f * x * (1.0f + v_erf(x * 0.70710678118654752440f));
}

static inline vf v_gelu_back(vf x, vf dy)
{
    vf cdf = 0.5f * (1.0f + v_erf(x * 0.70710678118654752440f));
    vf pdf = 0.39894228040143267794f * v_exp(-0.5f * x * x);
    return dy * (cdf + x * pdf);
}

/* Whole vectors, then the tail through a zero-padded vector. */
static void gelu(const float *x, float *y, long n)
{
    long i = 0;
    for (; i + VW <= n; i += VW)
        ST(y + i, v_gelu(LD(vf, x + i)));
    if (i < n) {
        float t[VW] = {0};
        memcpy(t, x + i, (size_t)(n - i) * sizeof(float));
        ST(t, v_gelu(LD(vf, t)));
        memcpy(y + i, t, (size_t)(n - i) * sizeof(float));
    }
}

static void gelu_back(const float *x, const float *dy, float *dx, long n)
{
    long i = 0;
    for (; i + VW <= n; i += VW)
        ST(dx + i, v_gelu_back(LD(vf, x + i), LD(vf, dy + i)));
    if (i < n) {
        float t[VW] = {0}, g[VW] = {0};
        memcpy(t, x + i, (size_t)(n - i) * sizeof(float));
        memcpy(g, dy + i, (size_t)(n - i) * sizeof(float));
        ST(t, v_gelu_back(LD(vf, t), LD(vf, g)));
        memcpy(dx + i, t, (size_t)(n - i) * sizeof(float));
    }
}

/* ---------------------------------------------------------------- depthwise 7x7, NHWC
 *
 * Register blocking over channels: one vector holds L consecutive channels; a tile of
 * DW_TILE output pixels of one row keeps its accumulators in registers over all 49 taps,
 * loading each source pixel once per kernel row (it feeds up to 7 outputs) and the 7
 * weights of that kernel row once.  Source pixels outside the image read as zero.  Tap
 * (kh, kw) reads source (h + kh - 3, w + kw - 3); the transposed conv (dx) is the same with
 * the kernel rotated by 180 degrees: weight 48 - (kh * 7 + kw). */
#define DW_TILE_FN(NAME, VT, L)                                                                \
    static void NAME(int H, int W, int C, const float *src, const float *wt, const float *bias, \
                     int h, float *orow, int c, int flip, int accumulate)                      \
    {                                                                                          \
        const size_t rowlen = (size_t)W * C;                                                   \
        for (int w0 = 0; w0 < W; w0 += DW_TILE) {                                              \
            const int tw = W - w0 < DW_TILE ? W - w0 : DW_TILE;                                \
            VT a[DW_TILE];                                                                     \
            VT init = {0};                                                                     \
            if (!accumulate && bias)                                                           \
                init = LD(VT, bias + c);                                                       \
            _Pragma("GCC unroll 16") for (int t = 0; t < DW_TILE; t++) a[t] =                  \
                accumulate && t < tw ? LD(VT, orow + (size_t)(w0 + t) * C + c) : init;         \
            for (int kh = 0; kh < 7; kh++) {                                                   \
                const int sh = h + kh - 3;                                                     \
                if (sh < 0 || sh >= H)                                                         \
                    continue;                                                                  \
                const float *srow = src + (size_t)sh * rowlen + c;                             \
                VT wv[7];                                                                      \
                _Pragma("GCC unroll 7") for (int kw = 0; kw < 7; kw++)                         \
                    wv[kw] = LD(VT, wt + (size_t)(flip ? 48 - (kh * 7 + kw) : kh * 7 + kw) * C \
                                        + c);                                                  \
                _Pragma("GCC unroll 16") for (int t = 0; t < DW_TILE + 6; t++)                 \
                {                                                                              \
                    const int sc = w0 + t - 3;                                                 \
                    VT s = {0};                                                                \
                    if (sc >= 0 && sc < W)                                                     \
                        s = LD(VT, srow + (size_t)sc * C);                                     \
                    _Pragma("GCC unroll 7") for (int kw = 0; kw < 7; kw++)                     \
                    {                                                                          \
                        const int o = t - kw;                                                  \
                        if (o >= 0 && o < DW_TILE)                                             \
                            a[o] += s * wv[kw];                                                \
                    }                                                                          \
                }                                                                              \
            }                                                                                  \
            for (int t = 0; t < tw; t++)                                                       \
                ST(orow + (size_t)(w0 + t) * C + c, a[t]);                                     \
        }                                                                                      \
    }

DW_TILE_FN(dw_tile_v, vf, VW)
#if VW > 8
DW_TILE_FN(dw_tile_8, vf8, 8)
#endif
#if VW > 4
DW_TILE_FN(dw_tile_4, vf4, 4)
#endif
typedef float vf1 __attribute__((vector_size(4), aligned(4)));
DW_TILE_FN(dw_tile_1, vf1, 1)

static void dw_rows(int H, int W, int C, const float *src, const float *wt, const float *bias,
                    int h0, int h1, float *out, int flip, int accumulate)
{
    const size_t rowlen = (size_t)W * C;
    for (int h = h0; h < h1; h++) {
        float *orow = out + (size_t)h * rowlen;
        int c = 0;
        for (; c + VW <= C; c += VW)
            dw_tile_v(H, W, C, src, wt, bias, h, orow, c, flip, accumulate);
#if VW > 8
        for (; c + 8 <= C; c += 8)
            dw_tile_8(H, W, C, src, wt, bias, h, orow, c, flip, accumulate);
#endif
#if VW > 4
        for (; c + 4 <= C; c += 4)
            dw_tile_4(H, W, C, src, wt, bias, h, orow, c, flip, accumulate);
#endif
        for (; c < C; c++)
            dw_tile_1(H, W, C, src, wt, bias, h, orow, c, flip, accumulate);
    }
}

/* dw[kh][kw][c] = sum over pixels of dy[h][w][c] * x[h + kh - 3][w + kw - 3][c]: per image
 * row and kernel row, the 7 taps of kw share each dy load and accumulate in 7 vectors; each
 * row's partial sums go into double accumulators in a fixed order (deterministic for any
 * thread count: the caller splits work by channel chunk only). */
enum { DW_CH = 32 };

#define DW_GRAD_FN(NAME, VT, L)                                                                \
    static void NAME(int W, int C, const float *xrow, const float *dyrow, double *acc, int cc) \
    {                                                                                          \
        VT p[7] = {{0}};                                                                       \
        for (int ww = 0; ww < W; ww++) {                                                       \
            const VT g = LD(VT, dyrow + (size_t)ww * C + cc);                                  \
            if (ww >= 3 && ww + 3 < W) {                                                       \
                _Pragma("GCC unroll 7") for (int kw = 0; kw < 7; kw++) p[kw] +=                \
                    g * LD(VT, xrow + (size_t)(ww + kw - 3) * C + cc);                         \
            } else {                                                                           \
                for (int kw = 0; kw < 7; kw++) {                                               \
                    int sc = ww + kw - 3;                                                      \
                    if (sc >= 0 && sc < W)                                                     \
                        p[kw] += g * LD(VT, xrow + (size_t)sc * C + cc);                       \
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
        for (int kw = 0; kw < 7; kw++)                                                         \
            for (int i = 0; i < L; i++)                                                        \
                acc[kw * DW_CH + cc + i] += p[kw][i];                                          \
    }

DW_GRAD_FN(dw_grad_v, vf, VW)
#if VW > 4
DW_GRAD_FN(dw_grad_4, vf4, 4)
#endif
DW_GRAD_FN(dw_grad_1, vf1, 1)

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
                double *a = acc + kh * 7 * DW_CH;
                int cc = 0;
                for (; cc + VW <= cw; cc += VW)
                    dw_grad_v(W, C, xrow, dyrow, a, cc);
#if VW > 4
                for (; cc + 4 <= cw; cc += 4)
                    dw_grad_4(W, C, xrow, dyrow, a, cc);
#endif
                for (; cc < cw; cc++)
                    dw_grad_1(W, C, xrow, dyrow, a, cc);
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

/* ---------------------------------------------------------------- LayerNorm */

/* One pass for the statistics: sums of (x - K) and (x - K)^2 with K = x[0], so the
 * variance does not cancel when |mean| >> std (the reason PyTorch uses two passes). */
static void layernorm_row(int C, float eps, const float *x, const float *gamma,
                          const float *beta, float *y, float *mean, float *rstd)
{
    const float K = x[0];
    vf s1 = {0}, s2 = {0}, t1 = {0}, t2 = {0};
    int c = 0;
    for (; c + 2 * VW <= C; c += 2 * VW) {
        vf d = LD(vf, x + c) - K, e = LD(vf, x + c + VW) - K;
        s1 += d;
        s2 += d * d;
        t1 += e;
        t2 += e * e;
    }
    s1 += t1;
    s2 += t2;
    float a1 = 0, a2 = 0;
    for (int i = 0; i < VW; i++) {
        a1 += s1[i];
        a2 += s2[i];
    }
    for (; c < C; c++) {
        float d = x[c] - K;
        a1 += d;
        a2 += d * d;
    }
    const float m1 = a1 / C;
    float var = a2 / C - m1 * m1;
    var = var > 0 ? var : 0;
    const float mu = K + m1, rs = 1.0f / sqrtf(var + eps);
    c = 0;
    for (; c + VW <= C; c += VW)
        ST(y + c, (LD(vf, x + c) - mu) * rs * LD(vf, gamma + c) + LD(vf, beta + c));
    for (; c < C; c++)
        y[c] = (x[c] - mu) * rs * gamma[c] + beta[c];
    if (mean)
        *mean = mu;
    if (rstd)
        *rstd = rs;
}

/* ---------------------------------------------------------------- column sums, AdamW */

/* acc[c] += x[i][j0 + c] for rows i = 0 .. M-1 in order, c < w <= 64, in double: each
 * element is added exactly as the scalar loop would, so every path gives the same bits.
 * Half-width float vectors widen to one double vector each. */
typedef float vfh __attribute__((vector_size(VW * 2), aligned(4)));
typedef double vd __attribute__((vector_size(VW * 4), aligned(8)));
enum { CS_MAXW = 64, CS_VD = VW / 2, CS_NV = CS_MAXW / CS_VD };
#if VW == 16 /* one vcvtps2pd (GCC splits the generic conversion in two) */
#define WIDEN(p) ((vd)_mm512_cvtps_pd(LD(__m256, p)))
#elif VW == 8
#define WIDEN(p) ((vd)_mm256_cvtps_pd(LD(__m128, p)))
#else
#define WIDEN(p) __builtin_convertvector(LD(vfh, p), vd)
#endif

static void colsum_cols(int M, int N, const float *x, int j0, int w, double *acc)
{
    if (w == CS_MAXW) { /* the accumulators of a whole chunk stay in registers */
        vd a[CS_NV];
        _Pragma("GCC unroll 32") for (int v = 0; v < CS_NV; v++) a[v] = LD(vd, acc + v * CS_VD);
        for (int i = 0; i < M; i++) {
            const float *row = x + (size_t)i * N + j0;
            _Pragma("GCC unroll 32") for (int v = 0; v < CS_NV; v++) a[v] += WIDEN(row + v * CS_VD);
        }
        _Pragma("GCC unroll 32") for (int v = 0; v < CS_NV; v++) ST(acc + v * CS_VD, a[v]);
        return;
    }
    const int wv = w / CS_VD * CS_VD;
    for (int i = 0; i < M; i++) {
        const float *row = x + (size_t)i * N + j0;
        int c = 0;
        for (; c < wv; c += CS_VD)
            ST(acc + c, LD(vd, acc + c) + WIDEN(row + c));
        for (; c < w; c++)
            acc[c] += row[c];
    }
}

/* The parameter gradients of LayerNorm and the layer scale, same scheme as colsum_cols:
 * axy[c] += dy * xh and ay[c] += dy over rows in order, xh = (x - mean[i]) * rstd[i] in
 * float (x itself when mean is NULL).  A float product is exact in double, so a fused
 * multiply-add gives the scalar loop's bits. */
static inline void dot_row(const float *dy, const float *x, float mu, float rs, int affine,
                           int c, double *axy, double *ay)
{
    vf d = LD(vf, dy + c), xh = LD(vf, x + c);
    if (affine)
        xh = (xh - mu) * rs;
    float t[2 * VW];
    ST(t, d);
    ST(t + VW, xh);
    ST(axy + c, LD(vd, axy + c) + WIDEN(t) * WIDEN(t + VW));
    ST(axy + c + CS_VD, LD(vd, axy + c + CS_VD) + WIDEN(t + CS_VD) * WIDEN(t + VW + CS_VD));
    if (ay) {
        ST(ay + c, LD(vd, ay + c) + WIDEN(t));
        ST(ay + c + CS_VD, LD(vd, ay + c + CS_VD) + WIDEN(t + CS_VD));
    }
}

static void dot_cols(int M, int N, const float *dy, const float *x, const float *mean,
                     const float *rstd, int j0, int w, double *axy, double *ay)
{
    const int wv = w / VW * VW;
    for (int i = 0; i < M; i++) {
        const float *d = dy + (size_t)i * N + j0, *xr = x + (size_t)i * N + j0;
        const float mu = mean ? mean[i] : 0.0f, rs = mean ? rstd[i] : 1.0f;
        int c = 0;
        for (; c < wv; c += VW)
            dot_row(d, xr, mu, rs, mean != NULL, c, axy, ay);
        for (; c < w; c++) {
            float xh = mean ? (xr[c] - mu) * rs : xr[c];
            axy[c] += (double)d[c] * xh;
            if (ay)
                ay[c] += d[c];
        }
    }
}

#if VW == 16
#define VSQRT(x) ((vf)_mm512_sqrt_ps((__m512)(x)))
#elif VW == 8
#define VSQRT(x) ((vf)_mm256_sqrt_ps((__m256)(x)))
#else
#define VSQRT(x) ((vf)_mm_sqrt_ps((__m128)(x)))
#endif

/* One AdamW element in torch's order (s4g-cpu-optim.c forms the factors); sqrt and the
 * divisions are correctly rounded on every path, the AVX paths may fuse a multiply-add. */
#define ADAMW_STEP(T, SQRT, pi0, gi, mi0, vi0, pout, mout, vout)                               \
    do {                                                                                       \
        T pi_ = (pi0) * f->decay;                                                              \
        T mi_ = f->b1 * (mi0) + f->omb1 * (gi);                                                \
        T vi_ = f->b2 * (vi0) + f->omb2 * (gi) * (gi);                                         \
        T den_ = SQRT(vi_) / f->bc2_sqrt + f->eps;                                             \
        pout = pi_ - f->step_size * (mi_ / den_);                                              \
        mout = mi_;                                                                            \
        vout = vi_;                                                                            \
    } while (0)

static void adamw(const s4g_cpu_adamw_f *f, float *p, const float *g, float *m, float *v,
                  long n)
{
    long i = 0;
    for (; i + VW <= n; i += VW) {
        vf pn, mn, vn;
        ADAMW_STEP(vf, VSQRT, LD(vf, p + i), LD(vf, g + i), LD(vf, m + i), LD(vf, v + i), pn,
                   mn, vn);
        ST(p + i, pn);
        ST(m + i, mn);
        ST(v + i, vn);
    }
    for (; i < n; i++)
        ADAMW_STEP(float, sqrtf, p[i], g[i], m[i], v[i], p[i], m[i], v[i]);
}

/* ---------------------------------------------------------------- fp16 gallery rows */

#if defined(__F16C__)
#include <immintrin.h>

static void half_to_float(const uint16_t *h, float *out, long n)
{
    long i = 0;
#if defined(__AVX512F__)
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(out + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(h + i))));
#endif
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i))));
    if (i < n) {
        uint16_t t[8] = {0};
        float f[8];
        memcpy(t, h + i, (size_t)(n - i) * sizeof *t);
        _mm256_storeu_ps(f, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)t)));
        memcpy(out + i, f, (size_t)(n - i) * sizeof *f);
    }
}
#define HALF_TO_FLOAT half_to_float

/* VW gallery values from float or half storage, widened in the register. */
static inline vf load_row(const void *g, int fp16, size_t i)
{
    if (!fp16)
        return LD(vf, (const float *)g + i);
#if VW == 16
    return (vf)_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)g + i)));
#else
    return (vf)_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)g + i)));
#endif
}

/* tile[i * ldt + r - g0] = q_i . g_r for gallery rows [g0, g1): each row is read once and
 * meets up to 8 queries held in accumulators (the queries stay in L1), halves are widened
 * inside the dot product: the gallery is streamed at memory speed, with no float copy. */
static void scores(const float *q, int nq, const void *g, int fp16, int dim, long g0, long g1,
                   float *tile, long ldt)
{
    const int dv = dim / VW * VW;
    for (long r = g0; r < g1; r++) {
        const size_t row = (size_t)r * dim;
        for (int i0 = 0; i0 < nq; i0 += 8) {
            const int qn = nq - i0 < 8 ? nq - i0 : 8;
            vf acc[8] = {{0}};
            for (int d = 0; d < dv; d += VW) {
                const vf gv = load_row(g, fp16, row + d);
                _Pragma("GCC unroll 8") for (int i = 0; i < 8; i++) if (i < qn) acc[i] +=
                    LD(vf, q + (size_t)(i0 + i) * dim + d) * gv;
            }
            for (int i = 0; i < qn; i++) {
                float sum = 0;
                for (int l = 0; l < VW; l++)
                    sum += acc[i][l];
                const float *qi = q + (size_t)(i0 + i) * dim;
                for (int d = dv; d < dim; d++)
                    sum += qi[d] * (fp16 ? _cvtsh_ss(((const uint16_t *)g)[row + d])
                                         : ((const float *)g)[row + d]);
                tile[(size_t)(i0 + i) * ldt + (r - g0)] = sum;
            }
        }
    }
}
#define SCORES scores
#else
#define HALF_TO_FLOAT NULL
#define SCORES NULL
#endif

const s4g_cpu_kernels CAT(s4g_cpu_kernels_, S4G_SIMD_NAME) = {
    .gelu = gelu,
    .gelu_back = gelu_back,
    .dw_rows = dw_rows,
    .dw_param_grads = dw_param_grads,
    .layernorm_row = layernorm_row,
    .colsum_cols = colsum_cols,
    .dot_cols = dot_cols,
    .adamw = adamw,
    .half_to_float = HALF_TO_FLOAT,
    .scores = SCORES,
};
