/* s4g-test-util.h — small helpers shared by the compute tests: buffers from host arrays,
 * downloads, and tolerance checks against double references. */
#ifndef S4G_TEST_UTIL_H
#define S4G_TEST_UTIL_H

#include <glib.h>
#include <math.h>
#include <stdlib.h>

#include "s4g-compute.h"
#include "s4g-ref.h"

/* A buffer holding n floats uploaded from src (or zeros when src is NULL). */
static inline s4g_buf *tu_buf(s4g_ctx *ctx, size_t n, const float *src)
{
    s4g_err err = {0};
    s4g_buf *b = s4g_buf_new(ctx, n, &err);
    g_assert_nonnull(b);
    if (src)
        g_assert_cmpint(s4g_buf_upload(b, 0, src, n, &err), ==, 0);
    return b;
}

/* A buffer of n random floats in [lo, hi); the values are also returned in *host (g_free). */
static inline s4g_buf *tu_rand(s4g_ctx *ctx, uint64_t *rng, size_t n, float lo, float hi,
                               float **host)
{
    float *h = g_new(float, n);
    s4g_ref_random(rng, h, n, lo, hi);
    s4g_buf *b = tu_buf(ctx, n, h);
    if (host)
        *host = h;
    else
        g_free(h);
    return b;
}

static inline float *tu_get(s4g_buf *b, size_t n)
{
    s4g_err err = {0};
    float *h = g_new(float, n);
    g_assert_cmpint(s4g_buf_download(b, 0, h, n, &err), ==, 0);
    return h;
}

static inline double *tu_dbl(const float *src, size_t n)
{
    double *d = g_new(double, n);
    s4g_ref_to_double(src, d, n);
    return d;
}

/* Asserts |got - want| <= tol * max(1, |want|) element-wise (relative for large values,
 * absolute for small ones). */
static inline void tu_close(const char *what, const float *got, const double *want, size_t n,
                            double tol)
{
    double worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]) / fmax(1.0, fabs(want[i]));
        if (!(e <= worst)) { /* also catches NaN */
            worst = isnan(e) ? INFINITY : e;
            at = i;
        }
    }
    if (!(worst <= tol))
        g_error("%s: element %zu is %.9g, reference %.9g (error %.3g > %.3g)", what, at,
                (double)got[at], want[at], worst, tol);
}

/* Gradient check: analytic (float) vs numeric (double) gradient.  The max error must be
 * within tol of the largest numeric gradient magnitude: a wrong backward gives errors of
 * the order of the gradient itself, rounding gives ~1e-6 of it. */
static inline void tu_grad(const char *what, const float *got, const double *want, size_t n,
                           double tol)
{
    double scale = 1e-3, worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(want[i]));
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]);
        if (!(e <= worst)) {
            worst = isnan(e) ? INFINITY : e;
            at = i;
        }
    }
    if (!(worst <= tol * scale))
        g_error("%s: gradient element %zu is %.9g, finite difference %.9g (error %.3g > %.3g)",
                what, at, (double)got[at], want[at], worst, tol * scale);
}

static inline s4g_ctx *tu_ctx(int threads)
{
    s4g_err err = {0};
    s4g_ctx_opts o = {.backend = S4G_BACKEND_CPU, .threads = threads};
    s4g_ctx *ctx = s4g_ctx_new(&o, &err);
    if (!ctx)
        g_error("cpu context: %s", err.msg);
    return ctx;
}

#endif
