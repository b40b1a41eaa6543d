/* s4g-cpu-loss.c — symmetric InfoNCE with label smoothing (reference §2.1).
 *
 * B is the batch of pairs (≤ a few hundred), so the B x B logits live in a scratch array
 * and everything is computed in double: the loss is a scalar everyone logs and compares.
 *
 *   L = s Q R^T, s = exp(logit_scale)
 *   loss = (CE_ls(L) + CE_ls(L^T)) / 2, targets t_ij = (1-eps)[i==j] + eps/B
 *   G = dloss/dL = ((P_row - T) + (P_col - T)) / (2B)     (P_col: softmax down each column)
 *   dQ = s G R,  dR = s G^T Q,  dlogit_scale = sum_ij G_ij L_ij */
#include "s4g-cpu.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    int B, D;
    double s;
    const float *q, *r;
    double *L;       /* logits; then read by the gradient tasks */
    const double *G; /* dloss/dL */
    float *dq, *dr;
} nce_job;

static void logits_task(void *arg, long lo, long hi)
{
    const nce_job *j = arg;
    const int B = j->B, D = j->D;
    for (long i = lo; i < hi; i++)
        for (int k = 0; k < B; k++) {
            const float *a = j->q + (size_t)i * D, *b = j->r + (size_t)k * D;
            double d = 0;
            for (int e = 0; e < D; e++)
                d += (double)a[e] * b[e];
            j->L[(size_t)i * B + k] = j->s * d;
        }
}

/* dQ = s G R (row i of dq) */
static void dq_task(void *arg, long lo, long hi)
{
    const nce_job *j = arg;
    const int B = j->B, D = j->D;
    for (long i = lo; i < hi; i++)
        for (int e = 0; e < D; e++) {
            double a = 0;
            for (int k = 0; k < B; k++)
                a += j->G[(size_t)i * B + k] * j->r[(size_t)k * D + e];
            j->dq[(size_t)i * D + e] = (float)(j->s * a);
        }
}

/* dR = s G^T Q (row k of dr) */
static void dr_task(void *arg, long lo, long hi)
{
    const nce_job *j = arg;
    const int B = j->B, D = j->D;
    for (long k = lo; k < hi; k++)
        for (int e = 0; e < D; e++) {
            double a = 0;
            for (int i = 0; i < B; i++)
                a += j->G[(size_t)i * B + k] * j->q[(size_t)i * D + e];
            j->dr[(size_t)k * D + e] = (float)(j->s * a);
        }
}

int s4g_cpu_infonce(s4g_ctx *ctx, int B, int D, float smoothing, s4g_t q, s4g_t r,
                    s4g_t logit_scale, s4g_t loss, s4g_t dq, s4g_t dr, s4g_t dscale, s4g_err *err)
{
    const float *pq = s4g_cpu_ptr(q), *pr = s4g_cpu_ptr(r);
    float *pdq = s4g_cpu_ptr(dq), *pdr = s4g_cpu_ptr(dr), *pds = s4g_cpu_ptr(dscale);
    const size_t bb = (size_t)B * B;
    double *L = malloc(3 * bb * sizeof(double));
    if (!L)
        return s4g_fail(err, S4G_E_NOMEM, "infonce: cannot allocate %zu bytes for %dx%d logits",
                        3 * bb * sizeof(double), B, B);
    double *Pr = L + bb, *Pc = Pr + bb;
    const double s = exp((double)s4g_cpu_ptr(logit_scale)[0]);
    const double eps = smoothing, off = eps / B, diag = 1.0 - eps + eps / B;
    nce_job job = {B, D, s, pq, pr, L, NULL, pdq, pdr};
    const double work = (double)B * B * D;
    s4g_cpu_parallel(ctx, B, work, logits_task, &job);

    /* Row softmax (CE over L) and column softmax (CE over L^T); loss_i = lse - sum_j t_j z_j. */
    double lrow = 0, lcol = 0;
    for (int i = 0; i < B; i++) {
        double mr = -INFINITY, mc = -INFINITY;
        for (int j = 0; j < B; j++) {
            mr = fmax(mr, L[(size_t)i * B + j]);
            mc = fmax(mc, L[(size_t)j * B + i]);
        }
        double zr = 0, zc = 0, tr = 0, tc = 0;
        for (int j = 0; j < B; j++) {
            double a = L[(size_t)i * B + j], c = L[(size_t)j * B + i];
            double t = j == i ? diag : off;
            Pr[(size_t)i * B + j] = exp(a - mr);
            Pc[(size_t)j * B + i] = exp(c - mc);
            zr += Pr[(size_t)i * B + j];
            zc += Pc[(size_t)j * B + i];
            tr += t * a;
            tc += t * c;
        }
        lrow += mr + log(zr) - tr;
        lcol += mc + log(zc) - tc;
        for (int j = 0; j < B; j++) {
            Pr[(size_t)i * B + j] /= zr;
            Pc[(size_t)j * B + i] /= zc;
        }
    }
    s4g_cpu_ptr(loss)[0] = (float)(0.5 * (lrow + lcol) / B);

    /* G overwrites Pr. */
    double dls = 0;
    for (int i = 0; i < B; i++)
        for (int j = 0; j < B; j++) {
            size_t o = (size_t)i * B + j;
            double t = j == i ? diag : off;
            double g = (Pr[o] - t + Pc[o] - t) / (2.0 * B);
            Pr[o] = g;
            dls += g * L[o];
        }
    if (pds)
        pds[0] += (float)dls;

    job.G = Pr;
    if (pdq)
        s4g_cpu_parallel(ctx, B, work, dq_task, &job);
    if (pdr)
        s4g_cpu_parallel(ctx, B, work, dr_task, &job);
    free(L);
    return 0;
}
