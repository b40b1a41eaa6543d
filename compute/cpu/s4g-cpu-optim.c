/* s4g-cpu-optim.c — AdamW exactly as torch.optim.AdamW (single-tensor path, amsgrad off):
 * the scalar factors are formed in double (Python floats in torch), the per-element
 * arithmetic in float, in torch's order. */
#include "s4g-cpu.h"

#include <math.h>

typedef struct {
    float *p, *m, *v;
    const float *g;
    s4g_cpu_adamw_f f;
} adamw_job;

/* the update itself is one loop per vector path (s4g-cpu-simd.c) */
static void adamw_task(void *arg, long lo, long hi)
{
    const adamw_job *j = arg;
    s4g_cpu_k->adamw(&j->f, j->p + lo, j->g + lo, j->m + lo, j->v + lo, hi - lo);
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
        .f = {.decay = (float)(1.0 - lr * (double)hp->weight_decay),
              .b1 = (float)b1,
              .b2 = (float)b2,
              .omb1 = (float)(1.0 - b1),
              .omb2 = (float)(1.0 - b2),
              .step_size = (float)(lr / bc1),
              .bc2_sqrt = (float)sqrt(bc2),
              .eps = hp->eps},
    };
    s4g_cpu_parallel(ctx, (long)n, 4.0 * n, adamw_task, &j);
    return 0;
}
