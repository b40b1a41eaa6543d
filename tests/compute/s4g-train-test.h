/* s4g-train-test.h — shared by the trainer equality tests (test-train-scale with a thread
 * group, test-mpi-train under mpirun): a small ConvNeXt, random batches, the one-process vs
 * data-parallel run and the tolerance checks. */
#ifndef S4G_TRAIN_TEST_H
#define S4G_TRAIN_TEST_H

#include "s4g-convnext.h"
#include "s4g-train-step.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#define OK(call)                                                                               \
    do {                                                                                       \
        s4g_err_clear(&err);                                                                   \
        if ((call) != 0)                                                                       \
            g_error("%s failed: %s", #call, err.msg);                                          \
    } while (0)

static const s4g_convnext_cfg kCfg = {{1, 1, 2, 1}, {8, 16, 32, 64}};
enum { HQ = 36, WQ = 68, HR = 32, WR = 32 };

static inline s4g_ctx *new_ctx(s4g_backend_kind kind, int threads)
{
    s4g_ctx_opts o = {.backend = kind, .allow_cpu_device = 1, .threads = threads};
    s4g_err err = {0};
    s4g_ctx *c = s4g_ctx_new(&o, &err);
    if (!c)
        g_error("context: %s", err.msg);
    return c;
}

static inline void fill_random(float *x, size_t n, guint32 seed)
{
    GRand *r = g_rand_new_with_seed(seed);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)g_rand_double_range(r, -1.5, 1.5);
    g_rand_free(r);
}

/* max |a-b| / max |b| over one parameter */
static inline double rel_err(const float *a, const float *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num = fmax(num, fabs((double)a[i] - b[i]));
        den = fmax(den, fabs((double)b[i]));
    }
    return den > 0 ? num / den : num;
}

/* Gradients: every parameter of a (host, PyTorch layout) within tol of b's, relative to the
 * tensor's largest gradient. */
static inline void assert_grads_close(const s4g_convnext *m, const char *what, const float *a,
                               const float *b, double tol)
{
    double worst = 0;
    const char *at = "";
    for (int i = 0; i < m->nparams; i++) {
        const s4g_param_info *p = &m->info[i];
        double e = rel_err(a + p->off, b + p->off, p->n);
        if (!(e <= worst)) {
            worst = isnan(e) ? INFINITY : e;
            at = p->name;
        }
    }
    g_test_message("%s: worst relative difference %.3g (%s)", what, worst, at);
    if (!(worst <= tol))
        g_error("%s: %s differs by %.3g relative (> %.3g)", what, at, worst, tol);
}

/* Weights: |a - b| <= tol * max(1, |b|) element-wise.  Not relative per tensor: AdamW's
 * update g / (|g| + eps) amplifies rounding where |g| is near eps = 1e-8 (layer scale 1e-6
 * makes such gradients), so a bias that moved by 3e-3 from 0 can differ by 1e-3 of its move
 * while the model is the same to 1e-6. */
static inline void assert_weights_close(const s4g_convnext *m, const char *what, const float *a,
                                 const float *b, double tol)
{
    double worst = 0;
    size_t at = 0;
    for (size_t k = 0; k < m->total; k++) {
        double e = fabs((double)a[k] - b[k]) / fmax(1.0, fabs((double)b[k]));
        if (!(e <= worst)) {
            worst = isnan(e) ? INFINITY : e;
            at = k;
        }
    }
    const char *name = "";
    for (int i = 0; i < m->nparams; i++)
        if (at >= m->info[i].off && at < m->info[i].off + m->info[i].n)
            name = m->info[i].name;
    g_test_message("%s: worst difference %.3g (%s)", what, worst, name);
    if (!(worst <= tol))
        g_error("%s: %s is %.9g, expected %.9g (difference %.3g > %.3g)", what, name,
                (double)a[at], (double)b[at], worst, tol);
}

static inline float *host_of(s4g_convnext *m, s4g_buf *buf)
{
    s4g_err err = {0};
    float *h = g_new0(float, m->total);
    OK(s4g_convnext_to_host(m, buf, h, &err));
    return h;
}

typedef struct {
    int B;
    float *q, *r;
} Batch;

static inline Batch batch_new(int B, guint32 seed)
{
    Batch b = {B, g_new(float, (size_t)B * HQ * WQ * 3), g_new(float, (size_t)B * HR * WR * 3)};
    fill_random(b.q, (size_t)B * HQ * WQ * 3, seed);
    fill_random(b.r, (size_t)B * HR * WR * 3, seed + 1000);
    return b;
}

static inline void batch_free(Batch *b)
{
    g_free(b->q);
    g_free(b->r);
}

/* The data-parallel side of the equality tests: process comm->rank of comm->size (comm NULL:
 * one process) trains `steps` steps on global batches of B pairs (seeds 100 + step), with
 * micro-batch M, from a model whose seed depends on the rank (the broadcast must make them
 * equal).  *grads gets the gradients of one batch at the starting weights, losses[steps] the
 * step losses; returns the final weights (host, PyTorch layout). */
static inline float *train_share(const s4g_comm *comm, int M, int B, int steps, float *losses,
                                 float **grads)
{
    s4g_err err = {0};
    int rank = comm ? comm->rank : 0, size = comm ? comm->size : 1;
    s4g_ctx *ctx = new_ctx(S4G_BACKEND_CPU, 1);
    s4g_convnext *m = s4g_convnext_new(ctx, &kCfg, 5 + (uint64_t)rank, &err);
    s4g_train_cfg tc = s4g_train_cfg_default(0, 10);
    tc.micro_batch = M;
    s4g_trainer *t = s4g_trainer_new(m, &tc, &err);
    s4g_trainer_set_comm(t, comm);
    OK(s4g_trainer_broadcast(t, 0, &err));
    for (int s = -1; s < steps; s++) {
        Batch b = batch_new(B, s < 0 ? 999 : 100 + s);
        int lo, n;
        s4g_comm_share(B, rank, size, &lo, &n);
        const float *q = b.q + (size_t)lo * HQ * WQ * 3, *r = b.r + (size_t)lo * HR * WR * 3;
        if (s < 0) { /* the gradients at the common starting point */
            OK(s4g_trainer_grad(t, n, HQ, WQ, q, HR, WR, r, NULL, &err));
            *grads = host_of(m, m->grads);
        } else {
            s4g_train_stats st;
            OK(s4g_trainer_step(t, n, HQ, WQ, q, HR, WR, r, &st, &err));
            losses[s] = st.loss;
        }
        batch_free(&b);
    }
    float *w = host_of(m, m->params);
    s4g_trainer_free(t);
    s4g_convnext_free(m);
    s4g_ctx_free(ctx);
    return w;
}

/* The P-process run (losses lp of one process, weights wp, gradients gp) against the
 * one-process run (l1, w1, g1): losses step by step within 1e-5 relative, weights within
 * 1e-5 (assert_weights_close), gradients within 1e-5 relative per tensor. */
static inline void assert_same_training(int P, int M, int B, int steps, const float *l1,
                                        const float *lp, const float *w1, const float *wp,
                                        const float *g1, const float *gp)
{
    for (int s = 0; s < steps; s++) {
        g_test_message("%d processes, micro-batch %d, batch %d, step %d: loss %.9g vs %.9g", P,
                       M, B, s + 1, lp[s], l1[s]);
        g_assert_cmpfloat(fabs(lp[s] - l1[s]), <=, 1e-5 * fabs(l1[s]));
    }
    s4g_err err = {0};
    s4g_ctx *ctx = new_ctx(S4G_BACKEND_CPU, 1);
    s4g_convnext *shape = s4g_convnext_new(ctx, &kCfg, 5, &err);
    g_autofree char *what = g_strdup_printf("weights, %d processes, micro-batch %d", P, M);
    assert_weights_close(shape, what, wp, w1, 1e-5);
    g_autofree char *gwhat = g_strdup_printf("gradients, %d processes, micro-batch %d", P, M);
    assert_grads_close(shape, gwhat, gp, g1, 1e-5);
    s4g_convnext_free(shape);
    s4g_ctx_free(ctx);
}

#endif
