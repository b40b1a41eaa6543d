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

#define PAR_IF(work) ((long)(work) >= S4G_CPU_PAR_MIN)

int s4g_cpu_layernorm(s4g_ctx *ctx, int rows, int C, float eps, s4g_t x, s4g_t gamma, s4g_t beta,
                      s4g_t y, s4g_t mean, s4g_t rstd, s4g_err *err)
{
    const float *px = s4g_cpu_ptr(x), *pg = s4g_cpu_ptr(gamma), *pb = s4g_cpu_ptr(beta);
    float *py = s4g_cpu_ptr(y), *pm = s4g_cpu_ptr(mean), *pr = s4g_cpu_ptr(rstd);
    const int nt = ctx->threads;
    (void)nt;
    S4G_OMP(omp parallel for num_threads(nt) schedule(static) if (PAR_IF((long)rows * C)))
    for (int r = 0; r < rows; r++) {
        const float *restrict xr = px + (size_t)r * C;
        float *restrict yr = py + (size_t)r * C;
        /* Two passes (mean, then centred variance), as PyTorch: no cancellation when
         * |mean| >> std. */
        double s = 0;
        for (int c = 0; c < C; c++)
            s += xr[c];
        float mu = (float)(s / C);
        double v = 0;
        for (int c = 0; c < C; c++) {
            double d = (double)xr[c] - mu;
            v += d * d;
        }
        float rs = (float)(1.0 / sqrt(v / C + (double)eps));
        for (int c = 0; c < C; c++)
            yr[c] = (xr[c] - mu) * rs * pg[c] + pb[c];
        if (pm)
            pm[r] = mu;
        if (pr)
            pr[r] = rs;
    }
    return 0;
}

int s4g_cpu_layernorm_back(s4g_ctx *ctx, int rows, int C, s4g_t x, s4g_t gamma, s4g_t mean,
                           s4g_t rstd, s4g_t dy, s4g_t dx, s4g_t dgamma, s4g_t dbeta, s4g_err *err)
{
    const float *px = s4g_cpu_ptr(x), *pg = s4g_cpu_ptr(gamma), *pm = s4g_cpu_ptr(mean),
                *pr = s4g_cpu_ptr(rstd), *pdy = s4g_cpu_ptr(dy);
    float *pdx = s4g_cpu_ptr(dx), *pdg = s4g_cpu_ptr(dgamma), *pdb = s4g_cpu_ptr(dbeta);
    const int nt = ctx->threads;
    (void)nt;
    const int par = PAR_IF((long)rows * C);
    if (pdx) {
        /* dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * gamma */
        S4G_OMP(omp parallel for num_threads(nt) schedule(static) if (par))
        for (int r = 0; r < rows; r++) {
            const float *restrict xr = px + (size_t)r * C, *restrict dyr = pdy + (size_t)r * C;
            float *restrict dxr = pdx + (size_t)r * C;
            const float mu = pm[r], rs = pr[r];
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
    if (pdg || pdb) {
        const int chunks = (C + CH - 1) / CH;
        S4G_OMP(omp parallel for num_threads(nt) schedule(static) if (par))
        for (int ch = 0; ch < chunks; ch++) {
            int c0 = ch * CH, w = C - c0 < CH ? C - c0 : CH;
            double ag[CH] = {0}, ab[CH] = {0};
            for (int r = 0; r < rows; r++) {
                const float *restrict xr = px + (size_t)r * C + c0;
                const float *restrict dyr = pdy + (size_t)r * C + c0;
                const float mu = pm[r], rs = pr[r];
                for (int c = 0; c < w; c++) {
                    ag[c] += (double)dyr[c] * ((xr[c] - mu) * rs);
                    ab[c] += dyr[c];
                }
            }
            for (int c = 0; c < w; c++) {
                if (pdg)
                    pdg[c0 + c] += (float)ag[c];
                if (pdb)
                    pdb[c0 + c] += (float)ab[c];
            }
        }
    }
    return 0;
}

int s4g_cpu_scale_residual(s4g_ctx *ctx, int rows, int C, s4g_t x, s4g_t y, s4g_t gamma, s4g_t out,
                           s4g_err *err)
{
    /* out may alias x (the residual stream is updated in place), so no restrict. */
    const float *px = s4g_cpu_ptr(x), *py = s4g_cpu_ptr(y), *pg = s4g_cpu_ptr(gamma);
    float *po = s4g_cpu_ptr(out);
    const int nt = ctx->threads;
    (void)nt;
    S4G_OMP(omp parallel for num_threads(nt) schedule(static) if (PAR_IF((long)rows * C)))
    for (int r = 0; r < rows; r++) {
        size_t o = (size_t)r * C;
        for (int c = 0; c < C; c++)
            po[o + c] = px[o + c] + pg[c] * py[o + c];
    }
    return 0;
}

int s4g_cpu_scale_residual_back(s4g_ctx *ctx, int rows, int C, s4g_t y, s4g_t gamma, s4g_t dout,
                                s4g_t dy, s4g_t dgamma, s4g_err *err)
{
    const float *py = s4g_cpu_ptr(y), *pg = s4g_cpu_ptr(gamma), *pdo = s4g_cpu_ptr(dout);
    float *pdy = s4g_cpu_ptr(dy), *pdg = s4g_cpu_ptr(dgamma);
    const int nt = ctx->threads;
    (void)nt;
    const int par = PAR_IF((long)rows * C);
    /* dgamma first: dy may alias y (the caller reuses the branch buffer). */
    if (pdg) {
        const int chunks = (C + CH - 1) / CH;
        S4G_OMP(omp parallel for num_threads(nt) schedule(static) if (par))
        for (int ch = 0; ch < chunks; ch++) {
            int c0 = ch * CH, w = C - c0 < CH ? C - c0 : CH;
            double a[CH] = {0};
            for (int r = 0; r < rows; r++) {
                const float *restrict d = pdo + (size_t)r * C + c0, *restrict yy = py + (size_t)r * C + c0;
                for (int c = 0; c < w; c++)
                    a[c] += (double)d[c] * yy[c];
            }
            for (int c = 0; c < w; c++)
                pdg[c0 + c] += (float)a[c];
        }
    }
    if (pdy) {
        S4G_OMP(omp parallel for num_threads(nt) schedule(static) if (par))
        for (int r = 0; r < rows; r++) {
            size_t o = (size_t)r * C;
            for (int c = 0; c < C; c++)
                pdy[o + c] = pg[c] * pdo[o + c];
        }
    }
    return 0;
}

int s4g_cpu_avgpool(s4g_ctx *ctx, int N, int HW, int C, s4g_t x, s4g_t y, s4g_err *err)
{
    const float *px = s4g_cpu_ptr(x);
    float *py = s4g_cpu_ptr(y);
    const int chunks = (C + CH - 1) / CH;
    const int nt = ctx->threads;
    (void)nt;
    S4G_OMP(omp parallel for num_threads(nt) schedule(static) if (PAR_IF((long)N * HW * C)))
    for (int job = 0; job < N * chunks; job++) {
        int n = job / chunks, c0 = (job % chunks) * CH, w = C - c0 < CH ? C - c0 : CH;
        double a[CH] = {0};
        for (int p = 0; p < HW; p++) {
            const float *restrict xr = px + ((size_t)n * HW + p) * C + c0;
            for (int c = 0; c < w; c++)
                a[c] += xr[c];
        }
        for (int c = 0; c < w; c++)
            py[(size_t)n * C + c0 + c] = (float)(a[c] / HW);
    }
    return 0;
}

int s4g_cpu_avgpool_back(s4g_ctx *ctx, int N, int HW, int C, s4g_t dy, s4g_t dx, s4g_err *err)
{
    const float *pdy = s4g_cpu_ptr(dy);
    float *pdx = s4g_cpu_ptr(dx);
    const float inv = 1.0f / (float)HW;
    const int nt = ctx->threads;
    (void)nt;
    S4G_OMP(omp parallel for num_threads(nt) schedule(static) if (PAR_IF((long)N * HW * C)))
    for (long np = 0; np < (long)N * HW; np++) {
        const float *restrict g = pdy + (size_t)(np / HW) * C;
        float *restrict d = pdx + (size_t)np * C;
        for (int c = 0; c < C; c++)
            d[c] = g[c] * inv;
    }
    return 0;
}

int s4g_cpu_l2norm(s4g_ctx *ctx, int rows, int C, s4g_t x, s4g_t y, s4g_t norms, s4g_err *err)
{
    const float *px = s4g_cpu_ptr(x);
    float *py = s4g_cpu_ptr(y), *pn = s4g_cpu_ptr(norms);
    const int nt = ctx->threads;
    (void)nt;
    S4G_OMP(omp parallel for num_threads(nt) schedule(static) if (PAR_IF((long)rows * C)))
    for (int r = 0; r < rows; r++) {
        const float *xr = px + (size_t)r * C;
        float *yr = py + (size_t)r * C;
        double s = 0;
        for (int c = 0; c < C; c++)
            s += (double)xr[c] * xr[c];
        float nrm = (float)sqrt(s);
        /* The raw norm is saved; backward applies the same max(.., 1e-12) as F.normalize. */
        float inv = 1.0f / (nrm > 1e-12f ? nrm : 1e-12f);
        for (int c = 0; c < C; c++)
            yr[c] = xr[c] * inv;
        if (pn)
            pn[r] = nrm;
    }
    return 0;
}

int s4g_cpu_l2norm_back(s4g_ctx *ctx, int rows, int C, s4g_t y, s4g_t norms, s4g_t dy, s4g_t dx,
                        s4g_err *err)
{
    const float *py = s4g_cpu_ptr(y), *pn = s4g_cpu_ptr(norms), *pdy = s4g_cpu_ptr(dy);
    float *pdx = s4g_cpu_ptr(dx);
    const int nt = ctx->threads;
    (void)nt;
    S4G_OMP(omp parallel for num_threads(nt) schedule(static) if (PAR_IF((long)rows * C)))
    for (int r = 0; r < rows; r++) {
        const float *yr = py + (size_t)r * C, *gr = pdy + (size_t)r * C;
        float *dr = pdx + (size_t)r * C;
        double dot = 0;
        for (int c = 0; c < C; c++)
            dot += (double)yr[c] * gr[c];
        const float d = (float)dot;
        const float inv = 1.0f / (pn[r] > 1e-12f ? pn[r] : 1e-12f);
        for (int c = 0; c < C; c++)
            dr[c] = (gr[c] - yr[c] * d) * inv;
    }
    return 0;
}
