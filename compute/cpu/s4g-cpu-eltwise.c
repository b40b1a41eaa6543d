/* s4g-cpu-eltwise.c — element-wise ops of the CPU backend.  Each is one flat loop over n
 * floats, split across threads in contiguous slices when n is large. */
#include "s4g-cpu.h"

#include <math.h>
#include <string.h>

/* Loop over [0, n) in parallel when it pays; `body` sees index i. */
#define ELTWISE(ctx, n, body)                                                                  \
    do {                                                                                       \
        const long n_ = (long)(n);                                                             \
        const int nt_ = (ctx)->threads;                                                        \
        (void)nt_;                                                                             \
        S4G_OMP(omp parallel for num_threads(nt_) schedule(static) if (n_ >= S4G_CPU_PAR_MIN)) \
        for (long i = 0; i < n_; i++) {                                                        \
            body;                                                                              \
        }                                                                                      \
    } while (0)

int s4g_cpu_fill(s4g_ctx *ctx, size_t n, s4g_t x, float v, s4g_err *err)
{
    float *restrict px = s4g_cpu_ptr(x);
    ELTWISE(ctx, n, px[i] = v);
    return 0;
}

int s4g_cpu_copy(s4g_ctx *ctx, size_t n, s4g_t src, s4g_t dst, s4g_err *err)
{
    /* memmove: the caller may copy between overlapping ranges of one buffer. */
    memmove(s4g_cpu_ptr(dst), s4g_cpu_ptr(src), n * sizeof(float));
    return 0;
}

int s4g_cpu_add(s4g_ctx *ctx, size_t n, s4g_t a, s4g_t b, s4g_t out, s4g_err *err)
{
    /* out may alias a or b, so no restrict here; element i only reads and writes index i. */
    const float *pa = s4g_cpu_ptr(a), *pb = s4g_cpu_ptr(b);
    float *po = s4g_cpu_ptr(out);
    ELTWISE(ctx, n, po[i] = pa[i] + pb[i]);
    return 0;
}

int s4g_cpu_axpy(s4g_ctx *ctx, size_t n, float alpha, s4g_t x, s4g_t y, s4g_err *err)
{
    const float *px = s4g_cpu_ptr(x);
    float *py = s4g_cpu_ptr(y);
    ELTWISE(ctx, n, py[i] += alpha * px[i]);
    return 0;
}

int s4g_cpu_scale(s4g_ctx *ctx, size_t n, float alpha, s4g_t x, s4g_err *err)
{
    float *restrict px = s4g_cpu_ptr(x);
    ELTWISE(ctx, n, px[i] *= alpha);
    return 0;
}

int s4g_cpu_clamp(s4g_ctx *ctx, size_t n, s4g_t x, float lo, float hi, s4g_err *err)
{
    float *restrict px = s4g_cpu_ptr(x);
    ELTWISE(ctx, n, px[i] = px[i] < lo ? lo : (px[i] > hi ? hi : px[i]));
    return 0;
}

int s4g_cpu_gelu(s4g_ctx *ctx, size_t n, s4g_t x, s4g_t y, s4g_err *err)
{
    const float *px = s4g_cpu_ptr(x);
    float *py = s4g_cpu_ptr(y);
    const float inv_sqrt2 = 0.70710678118654752440f;
    ELTWISE(ctx, n, py[i] = 0.5f * px[i] * (1.0f + erff(px[i] * inv_sqrt2)));
    return 0;
}

int s4g_cpu_gelu_back(s4g_ctx *ctx, size_t n, s4g_t x, s4g_t dy, s4g_t dx, s4g_err *err)
{
    /* d/dx [x Phi(x)] = Phi(x) + x phi(x), Phi the normal CDF, phi its density. */
    const float *px = s4g_cpu_ptr(x), *pdy = s4g_cpu_ptr(dy);
    float *pdx = s4g_cpu_ptr(dx);
    const float inv_sqrt2 = 0.70710678118654752440f;
    const float inv_sqrt2pi = 0.39894228040143267794f;
    ELTWISE(ctx, n, {
        float v = px[i];
        float cdf = 0.5f * (1.0f + erff(v * inv_sqrt2));
        float pdf = inv_sqrt2pi * expf(-0.5f * v * v);
        pdx[i] = pdy[i] * (cdf + v * pdf);
    });
    return 0;
}
