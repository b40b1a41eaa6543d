/* s4g-cpu-optim.c — AdamW exactly as torch.optim.AdamW (single-tensor path, amsgrad off):
 * the scalar factors are formed in double (Python floats in torch), the per-element
 * arithmetic in float, in torch's order. */
#include "s4g-cpu.h"

#include <math.h>

typedef struct {
    float *p, *m, *v;
    const float *g;
    float decay, b1, b2, omb1, omb2, step_size, bc2_sqrt, eps;
} adamw_job;

static void adamw_task(void *arg, long lo, long hi)
{
    const adamw_job *j = arg;
    float *restrict pp = j->p, *restrict pm = j->m, *restrict pv = j->v;
    const float *restrict pg = j->g;
    for (long i = lo; i < hi; i++) {
        float gi = pg[i];
        float pi = pp[i] * j->decay;
        float mi = j->b1 * pm[i] + j->omb1 * gi;
        float vi = j->b2 * pv[i] + j->omb2 * gi * gi;
        float denom = sqrtf(vi) / j->bc2_sqrt + j->eps;
        pp[i] = pi - j->step_size * (mi / denom);
        pm[i] = mi;
        pv[i] = vi;
    }
}

int s4g_cpu_adamw(s4g_ctx *ctx, size_t n, s4g_t p, s4g_t g, s4g_t m, s4g_t v,
                  const s4g_adamw_hp *hp, s4g_err *err)
{
    const double lr = hp->lr, b1 = hp->beta1, b2 = hp->beta2;
    const double bc1 = 1.0 - pow(b1, hp->step), bc2 = 1.0 - pow(b2, hp->step);
    adamw_job j = {
        .p = s4g_cpu_ptr(p),
        .m = s4g_cpu_ptr(m),
        .v = s4g_cpu_ptr(v),
        .g = s4g_cpu_ptr(g),
        .decay = (float)(1.0 - lr * (double)hp->weight_decay),
        .b1 = (float)b1,
        .b2 = (float)b2,
        .omb1 = (float)(1.0 - b1),
        .omb2 = (float)(1.0 - b2),
        .step_size = (float)(lr / bc1),
        .bc2_sqrt = (float)sqrt(bc2),
        .eps = hp->eps,
    };
    s4g_cpu_parallel(ctx, (long)n, 4.0 * n, adamw_task, &j);
    return 0;
}
