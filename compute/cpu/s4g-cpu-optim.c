/* s4g-cpu-optim.c — AdamW exactly as torch.optim.AdamW (single-tensor path, amsgrad off):
 * the scalar factors are formed in double (Python floats in torch), the per-element
 * arithmetic in float, in torch's order. */
#include "s4g-cpu.h"

#include <math.h>

int s4g_cpu_adamw(s4g_ctx *ctx, size_t n, s4g_t p, s4g_t g, s4g_t m, s4g_t v,
                  const s4g_adamw_hp *hp, s4g_err *err)
{
    float *restrict pp = s4g_cpu_ptr(p), *restrict pm = s4g_cpu_ptr(m),
                    *restrict pv = s4g_cpu_ptr(v);
    const float *restrict pg = s4g_cpu_ptr(g);
    const double lr = hp->lr, b1 = hp->beta1, b2 = hp->beta2;
    const float decay = (float)(1.0 - lr * (double)hp->weight_decay);
    const float fb1 = (float)b1, fb2 = (float)b2;
    const float omb1 = (float)(1.0 - b1), omb2 = (float)(1.0 - b2);
    const double bc1 = 1.0 - pow(b1, hp->step), bc2 = 1.0 - pow(b2, hp->step);
    const float step_size = (float)(lr / bc1);
    const float bc2_sqrt = (float)sqrt(bc2);
    const float eps = hp->eps;
    const long nn = (long)n;
    const int nt = ctx->threads;
    (void)nt;
    S4G_OMP(omp parallel for num_threads(nt) schedule(static) if (nn >= S4G_CPU_PAR_MIN))
    for (long i = 0; i < nn; i++) {
        float gi = pg[i];
        float pi = pp[i] * decay;
        float mi = fb1 * pm[i] + omb1 * gi;
        float vi = fb2 * pv[i] + omb2 * gi * gi;
        float denom = sqrtf(vi) / bc2_sqrt + eps;
        pp[i] = pi - step_size * (mi / denom);
        pm[i] = mi;
        pv[i] = vi;
    }
    return 0;
}
