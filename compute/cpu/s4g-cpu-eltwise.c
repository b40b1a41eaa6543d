/* s4g-cpu-eltwise.c — element-wise ops of the CPU backend.  Each is one flat loop over n
 * floats; large n is split across the worker threads in contiguous slices. */
#include "s4g-cpu.h"

#include <string.h>

typedef enum { EW_FILL, EW_ADD, EW_AXPY, EW_SCALE, EW_CLAMP, EW_GELU, EW_GELU_BACK } ew_kind;

typedef struct {
    ew_kind kind;
    const float *a, *b; /* inputs */
    float *out;
    float s, t; /* scalars: fill value, alpha, clamp bounds */
} ew_job;

static void ew_task(void *arg, long lo, long hi)
{
    const ew_job *j = arg;
    /* out may alias a or b (add in place), so no restrict; element i touches only index i. */
    const float *a = j->a, *b = j->b;
    float *o = j->out;
    const float s = j->s, t = j->t;
    switch (j->kind) {
    case EW_FILL:
        for (long i = lo; i < hi; i++)
            o[i] = s;
        break;
    case EW_ADD:
        for (long i = lo; i < hi; i++)
            o[i] = a[i] + b[i];
        break;
    case EW_AXPY:
        for (long i = lo; i < hi; i++)
            o[i] += s * a[i];
        break;
    case EW_SCALE:
        for (long i = lo; i < hi; i++)
            o[i] *= s;
        break;
    case EW_CLAMP:
        for (long i = lo; i < hi; i++)
            o[i] = o[i] < s ? s : (o[i] > t ? t : o[i]);
        break;
    case EW_GELU: /* polynomial erf, one version per vector path (s4g-cpu-simd.c) */
        s4g_cpu_k->gelu(a + lo, o + lo, hi - lo);
        break;
    case EW_GELU_BACK:
        s4g_cpu_k->gelu_back(a + lo, b + lo, o + lo, hi - lo);
        break;
    }
}

static int ew(s4g_ctx *ctx, size_t n, ew_job j)
{
    /* the erf/exp polynomials cost ~8x a plain add: weigh them so mid-sized GELUs are
     * threaded too */
    double work = (double)n * (j.kind >= EW_GELU ? 8 : 1);
    s4g_cpu_parallel(ctx, (long)n, work, ew_task, &j);
    return 0;
}

int s4g_cpu_fill(s4g_ctx *ctx, size_t n, s4g_t x, float v, s4g_err *err)
{
    return ew(ctx, n, (ew_job){.kind = EW_FILL, .out = s4g_cpu_ptr(x), .s = v});
}

typedef struct {
    const float *src;
    float *dst;
} copy_job;

static void copy_task(void *arg, long lo, long hi)
{
    const copy_job *j = arg;
    memcpy(j->dst + lo, j->src + lo, (size_t)(hi - lo) * sizeof(float));
}

int s4g_cpu_copy(s4g_ctx *ctx, size_t n, s4g_t src, s4g_t dst, s4g_err *err)
{
    const float *s = s4g_cpu_ptr(src);
    float *d = s4g_cpu_ptr(dst);
    /* Disjoint ranges are copied in slices by the team; overlapping ones (the caller may
     * shift within one buffer) with one memmove. */
    if (d + n <= s || s + n <= d)
        s4g_cpu_parallel(ctx, (long)n, (double)n, copy_task, &(copy_job){s, d});
    else
        memmove(d, s, n * sizeof(float));
    return 0;
}

int s4g_cpu_add(s4g_ctx *ctx, size_t n, s4g_t a, s4g_t b, s4g_t out, s4g_err *err)
{
    return ew(ctx, n,
              (ew_job){.kind = EW_ADD, .a = s4g_cpu_ptr(a), .b = s4g_cpu_ptr(b),
                       .out = s4g_cpu_ptr(out)});
}

int s4g_cpu_axpy(s4g_ctx *ctx, size_t n, float alpha, s4g_t x, s4g_t y, s4g_err *err)
{
    return ew(ctx, n,
              (ew_job){.kind = EW_AXPY, .a = s4g_cpu_ptr(x), .out = s4g_cpu_ptr(y), .s = alpha});
}

int s4g_cpu_scale(s4g_ctx *ctx, size_t n, float alpha, s4g_t x, s4g_err *err)
{
    return ew(ctx, n, (ew_job){.kind = EW_SCALE, .out = s4g_cpu_ptr(x), .s = alpha});
}

int s4g_cpu_clamp(s4g_ctx *ctx, size_t n, s4g_t x, float lo, float hi, s4g_err *err)
{
    return ew(ctx, n, (ew_job){.kind = EW_CLAMP, .out = s4g_cpu_ptr(x), .s = lo, .t = hi});
}

int s4g_cpu_gelu(s4g_ctx *ctx, size_t n, s4g_t x, s4g_t y, s4g_err *err)
{
    return ew(ctx, n, (ew_job){.kind = EW_GELU, .a = s4g_cpu_ptr(x), .out = s4g_cpu_ptr(y)});
}

int s4g_cpu_gelu_back(s4g_ctx *ctx, size_t n, s4g_t x, s4g_t dy, s4g_t dx, s4g_err *err)
{
    return ew(ctx, n,
              (ew_job){.kind = EW_GELU_BACK, .a = s4g_cpu_ptr(x), .b = s4g_cpu_ptr(dy),
                       .out = s4g_cpu_ptr(dx)});
}
