/* s4g-cpu-norm.c — row-wise normalisations and the small per-channel ops around them:
 * LayerNorm over channels, layer scale + residual, global average pool, L2 normalise.
 *
 * Row work (y, dx) is split over rows; per-channel parameter gradients (dgamma, dbeta) are
 * reductions over rows, done per fixed channel chunk with double accumulators so that the
 * result does not depend on the thread count. */
#include "s4g-cpu.h"

#include <math.h>
#include <string.h>

enum { CH = 64 }; /* channel chunk of the parameter-gradient reductions */

/* One job record serves every op here; each task reads the fields its op uses. */
typedef struct {
    int rows, C, HW;
    float eps;
    const float *x, *y, *gamma, *beta, *mean, *rstd, *dy;
    float *out, *out_mean, *out_rstd, *dgamma, *dbeta;
} norm_job;

static int nchunks(int C)
{
    return (C + CH - 1) / CH;
}

static void layernorm_task(void *arg, long lo, long hi)
{
    const norm_job *j = arg;
    const int C = j->C;
    for (long r = lo; r < hi; r++)
        s4g_cpu_k->layernorm_row(C, j->eps, j->x + (size_t)r * C, j->gamma, j->beta,
                                 j->out + (size_t)r * C, j->out_mean ? j->out_mean + r : NULL,
                                 j->out_rstd ? j->out_rstd + r : NULL);
}

int s4g_cpu_layernorm(s4g_ctx *ctx, int rows, int C, float eps, s4g_t x, s4g_t gamma, s4g_t beta,
                      s4g_t y, s4g_t mean, s4g_t rstd, s4g_err *err)
{
    norm_job j = {.rows = rows, .C = C, .eps = eps, .x = s4g_cpu_ptr(x),
                  .gamma = s4g_cpu_ptr(gamma), .beta = s4g_cpu_ptr(beta), .out = s4g_cpu_ptr(y),
                  .out_mean = s4g_cpu_ptr(mean), .out_rstd = s4g_cpu_ptr(rstd)};
    s4g_cpu_parallel(ctx, rows, 4.0 * rows * C, layernorm_task, &j);
    return 0;
}

/* dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * gamma */
static void layernorm_dx_task(void *arg, long lo, long hi)
{
    const norm_job *j = arg;
    const int C = j->C;
    const float *pg = j->gamma;
    for (long r = lo; r < hi; r++) {
        const float *restrict xr = j->x + (size_t)r * C, *restrict dyr = j->dy + (size_t)r * C;
        float *restrict dxr = j->out + (size_t)r * C;
        const float mu = j->mean[r], rs = j->rstd[r];
        double sg = 0, sgx = 0;
        for (int c = 0; c < C; c++) {
            float g = dyr[c] * pg[c];
            float xh = (xr[c] - mu) * rs;
            sg += g;
            sgx += (double)g * xh;
        }
        const float mg = (float)(sg / C), mgx = (float)(sgx / C);
        for (int c = 0; c < C; c++) {
            float xh = (xr[c] - mu) * rs;
            dxr[c] = rs * (dyr[c] * pg[c] - mg - xh * mgx);
        }
    }
}

static void layernorm_dparam_task(void *arg, long lo, long hi)
{
    const norm_job *j = arg;
    const int C = j->C;
    for (long ch = lo; ch < hi; ch++) {
        int c0 = (int)ch * CH, w = C - c0 < CH ? C - c0 : CH;
        double ag[CH] = {0}, ab[CH] = {0};
        s4g_cpu_k->dot_cols(j->rows, C, j->dy, j->x, j->mean, j->rstd, c0, w, ag, ab);
        for (int c = 0; c < w; c++) {
            if (j->dgamma)
                j->dgamma[c0 + c] += (float)ag[c];
            if (j->dbeta)
                j->dbeta[c0 + c] += (float)ab[c];
        }
    }
}

int s4g_cpu_layernorm_back(s4g_ctx *ctx, int rows, int C, s4g_t x, s4g_t gamma, s4g_t mean,
                           s4g_t rstd, s4g_t dy, s4g_t dx, s4g_t dgamma, s4g_t dbeta, s4g_err *err)
{
    norm_job j = {.rows = rows, .C = C, .x = s4g_cpu_ptr(x), .gamma = s4g_cpu_ptr(gamma),
                  .mean = s4g_cpu_ptr(mean), .rstd = s4g_cpu_ptr(rstd), .dy = s4g_cpu_ptr(dy),
                  .out = s4g_cpu_ptr(dx), .dgamma = s4g_cpu_ptr(dgamma),
                  .dbeta = s4g_cpu_ptr(dbeta)};
    const double work = 4.0 * rows * C;
    /* parameter gradients first: dx may alias dy (the caller reuses a gradient buffer) */
    if (j.dgamma || j.dbeta)
        s4g_cpu_parallel(ctx, nchunks(C), work, layernorm_dparam_task, &j);
    if (j.out)
        s4g_cpu_parallel(ctx, rows, work, layernorm_dx_task, &j);
    return 0;
}

static void scale_residual_task(void *arg, long lo, long hi)
{
    /* out may alias x (the residual stream is updated in place), so no restrict. */
    const norm_job *j = arg;
    const int C = j->C;
    for (long r = lo; r < hi; r++) {
        size_t o = (size_t)r * C;
        for (int c = 0; c < C; c++)
            j->out[o + c] = j->x[o + c] + j->gamma[c] * j->y[o + c];
    }
}

int s4g_cpu_scale_residual(s4g_ctx *ctx, int rows, int C, s4g_t x, s4g_t y, s4g_t gamma, s4g_t out,
                           s4g_err *err)
{
    norm_job j = {.rows = rows, .C = C, .x = s4g_cpu_ptr(x), .y = s4g_cpu_ptr(y),
                  .gamma = s4g_cpu_ptr(gamma), .out = s4g_cpu_ptr(out)};
    s4g_cpu_parallel(ctx, rows, (double)rows * C, scale_residual_task, &j);
    return 0;
}

static void scale_residual_dgamma_task(void *arg, long lo, long hi)
{
    const norm_job *j = arg;
    const int C = j->C;
    for (long ch = lo; ch < hi; ch++) {
        int c0 = (int)ch * CH, w = C - c0 < CH ? C - c0 : CH;
        double a[CH] = {0};
        s4g_cpu_k->dot_cols(j->rows, C, j->dy, j->y, NULL, NULL, c0, w, a, NULL);
        for (int c = 0; c < w; c++)
            j->dgamma[c0 + c] += (float)a[c];
    }
}

static void scale_residual_dy_task(void *arg, long lo, long hi)
{
    const norm_job *j = arg;
    const int C = j->C;
    for (long r = lo; r < hi; r++) {
        size_t o = (size_t)r * C;
        for (int c = 0; c < C; c++)
            j->out[o + c] = j->gamma[c] * j->dy[o + c];
    }
}

int s4g_cpu_scale_residual_back(s4g_ctx *ctx, int rows, int C, s4g_t y, s4g_t gamma, s4g_t dout,
                                s4g_t dy, s4g_t dgamma, s4g_err *err)
{
    /* here dy is the job's upstream gradient (dout) and out the branch gradient (dy) */
    norm_job j = {.rows = rows, .C = C, .y = s4g_cpu_ptr(y), .gamma = s4g_cpu_ptr(gamma),
                  .dy = s4g_cpu_ptr(dout), .out = s4g_cpu_ptr(dy), .dgamma = s4g_cpu_ptr(dgamma)};
    const double work = 2.0 * rows * C;
    /* dgamma first: dy may alias y (the caller reuses the branch buffer). */
    if (j.dgamma)
        s4g_cpu_parallel(ctx, nchunks(C), work, scale_residual_dgamma_task, &j);
    if (j.out)
        s4g_cpu_parallel(ctx, rows, work, scale_residual_dy_task, &j);
    return 0;
}

/* One task item = (image n, channel chunk). */
static void avgpool_task(void *arg, long lo, long hi)
{
    const norm_job *j = arg;
    const int C = j->C, HW = j->HW, chunks = nchunks(C);
    for (long job = lo; job < hi; job++) {
        int n = (int)(job / chunks), c0 = (int)(job % chunks) * CH;
        int w = C - c0 < CH ? C - c0 : CH;
        double a[CH] = {0};
        for (int p = 0; p < HW; p++) {
            const float *restrict xr = j->x + ((size_t)n * HW + p) * C + c0;
            for (int c = 0; c < w; c++)
                a[c] += xr[c];
        }
        for (int c = 0; c < w; c++)
            j->out[(size_t)n * C + c0 + c] = (float)(a[c] / HW);
    }
}

int s4g_cpu_avgpool(s4g_ctx *ctx, int N, int HW, int C, s4g_t x, s4g_t y, s4g_err *err)
{
    norm_job j = {.rows = N, .C = C, .HW = HW, .x = s4g_cpu_ptr(x), .out = s4g_cpu_ptr(y)};
    s4g_cpu_parallel(ctx, (long)N * nchunks(C), (double)N * HW * C, avgpool_task, &j);
    return 0;
}

static void avgpool_back_task(void *arg, long lo, long hi)
{
    const norm_job *j = arg;
    const int C = j->C, HW = j->HW;
    const float inv = 1.0f / (float)HW;
    for (long np = lo; np < hi; np++) {
        const float *restrict g = j->dy + (size_t)(np / HW) * C;
        float *restrict d = j->out + (size_t)np * C;
        for (int c = 0; c < C; c++)
            d[c] = g[c] * inv;
    }
}

int s4g_cpu_avgpool_back(s4g_ctx *ctx, int N, int HW, int C, s4g_t dy, s4g_t dx, s4g_err *err)
{
    norm_job j = {.rows = N, .C = C, .HW = HW, .dy = s4g_cpu_ptr(dy), .out = s4g_cpu_ptr(dx)};
    s4g_cpu_parallel(ctx, (long)N * HW, (double)N * HW * C, avgpool_back_task, &j);
    return 0;
}

static void l2norm_task(void *arg, long lo, long hi)
{
    const norm_job *j = arg;
    const int C = j->C;
    for (long r = lo; r < hi; r++) {
        const float *xr = j->x + (size_t)r * C;
        float *yr = j->out + (size_t)r * C;
        double s = 0;
        for (int c = 0; c < C; c++)
            s += (double)xr[c] * xr[c];
        float nrm = (float)sqrt(s);
        /* The raw norm is saved; backward applies the same max(.., 1e-12) as F.normalize. */
        float inv = 1.0f / (nrm > 1e-12f ? nrm : 1e-12f);
        for (int c = 0; c < C; c++)
            yr[c] = xr[c] * inv;
        if (j->out_mean)
            j->out_mean[r] = nrm;
    }
}

int s4g_cpu_l2norm(s4g_ctx *ctx, int rows, int C, s4g_t x, s4g_t y, s4g_t norms, s4g_err *err)
{
    /* out_mean carries the norms */
    norm_job j = {.rows = rows, .C = C, .x = s4g_cpu_ptr(x), .out = s4g_cpu_ptr(y),
                  .out_mean = s4g_cpu_ptr(norms)};
    s4g_cpu_parallel(ctx, rows, 2.0 * rows * C, l2norm_task, &j);
    return 0;
}

static void l2norm_back_task(void *arg, long lo, long hi)
{
    /* dx may alias dy: the dot product is taken before the row is written. */
    const norm_job *j = arg;
    const int C = j->C;
    for (long r = lo; r < hi; r++) {
        const float *yr = j->y + (size_t)r * C, *gr = j->dy + (size_t)r * C;
        float *dr = j->out + (size_t)r * C;
        double dot = 0;
        for (int c = 0; c < C; c++)
            dot += (double)yr[c] * gr[c];
        const float d = (float)dot;
        const float nrm = j->mean[r];
        const float inv = 1.0f / (nrm > 1e-12f ? nrm : 1e-12f);
        for (int c = 0; c < C; c++)
            dr[c] = (gr[c] - yr[c] * d) * inv;
    }
}

int s4g_cpu_l2norm_back(s4g_ctx *ctx, int rows, int C, s4g_t y, s4g_t norms, s4g_t dy, s4g_t dx,
                        s4g_err *err)
{
    /* mean carries the norms */
    norm_job j = {.rows = rows, .C = C, .y = s4g_cpu_ptr(y), .mean = s4g_cpu_ptr(norms),
                  .dy = s4g_cpu_ptr(dy), .out = s4g_cpu_ptr(dx)};
    s4g_cpu_parallel(ctx, rows, 3.0 * rows * C, l2norm_back_task, &j);
    return 0;
}
