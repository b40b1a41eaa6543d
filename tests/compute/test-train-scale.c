/* test-train-scale.c — exact large batches and data-parallel training in the engine:
 *   - micro-batches (GradCache): loss and every parameter gradient of a batch of B pairs run in
 *     chunks of M equal the whole batch's (<= 1e-5 relative), odd B, M not dividing B; a
 *     full step (clamp + AdamW) gives the same weights;
 *   - the communicator: P threads, each with its own context and model, each passing its
 *     share of the global batch, give the one-process losses step by step and the same final
 *     weights (<= 1e-5), with and without micro-batches.
 * "vulkan" as the last argument (or S4G_TEST_BACKEND=vulkan) runs the micro-batch tests on the
 * Vulkan backend (lavapipe in the suite); the thread group always uses the CPU backend. */
#include "s4g-train-test.h"

#include <pthread.h>

static s4g_backend_kind backend = S4G_BACKEND_CPU;

/* Loss and gradients of one batch with micro-batch M (0: whole batch). */
static float grads_with(s4g_convnext *m, int M, const Batch *b, float **grads)
{
    s4g_err err = {0};
    s4g_train_cfg tc = s4g_train_cfg_default(0, 10);
    tc.micro_batch = M;
    s4g_trainer *t = s4g_trainer_new(m, &tc, &err);
    g_assert_nonnull(t);
    float loss = NAN;
    OK(s4g_trainer_grad(t, b->B, HQ, WQ, b->q, HR, WR, b->r, &loss, &err));
    /* a second call (workspaces reused or rebuilt) gives the same */
    float again = NAN;
    OK(s4g_trainer_grad(t, b->B, HQ, WQ, b->q, HR, WR, b->r, &again, &err));
    g_assert_cmpfloat(loss, ==, again);
    *grads = host_of(m, m->grads);
    s4g_trainer_free(t);
    return loss;
}

static void test_micro_grads(void)
{
    s4g_err err = {0};
    s4g_ctx *ctx = new_ctx(backend, 0);
    g_test_message("backend: %s", s4g_ctx_describe(ctx));
    s4g_convnext *m = s4g_convnext_new(ctx, &kCfg, 42, &err);
    g_assert_nonnull(m);
    Batch b = batch_new(7, 11);
    float *full = NULL;
    float lfull = grads_with(m, 0, &b, &full);
    g_assert_true(isfinite(lfull) && lfull > 0);
    /* 3 and 2 do not divide 7 (chunks 3+3+1, 2+2+2+1), 1 is one pair per chunk; 7 and 9
     * (>= B) are the whole batch */
    const int Ms[] = {3, 2, 1, 7, 9};
    for (size_t i = 0; i < G_N_ELEMENTS(Ms); i++) {
        float *g = NULL;
        float l = grads_with(m, Ms[i], &b, &g);
        g_autofree char *what = g_strdup_printf("micro-batch %d of 7: gradients", Ms[i]);
        g_test_message("micro-batch %d: loss %.9g, whole batch %.9g", Ms[i], l, lfull);
        g_assert_cmpfloat(fabs(l - lfull), <=, 1e-5 * fabs(lfull));
        assert_grads_close(m, what, g, full, 1e-5);
        if (Ms[i] >= 7)
            g_assert_cmpfloat(l, ==, lfull);
        g_free(g);
    }
    /* a wrong backward (gradient of one chunk missing) would fail the check above: make
     * sure the check itself sees a difference of that size */
    float *g = NULL;
    grads_with(m, 0, &(Batch){6, b.q, b.r}, &g);
    gboolean differs = FALSE;
    for (int i = 0; i < m->nparams && !differs; i++)
        differs = rel_err(g + m->info[i].off, full + m->info[i].off, m->info[i].n) > 1e-3;
    g_assert_true(differs);
    g_free(g);
    g_free(full);
    batch_free(&b);
    s4g_convnext_free(m);
    g_assert_cmpint(s4g_ctx_validation_errors(ctx), ==, 0);
    s4g_ctx_free(ctx);
}

/* Three optimisation steps with clamp and AdamW: micro-batches end at the same weights. */
static float *train_steps(s4g_ctx *ctx, int M, int steps, float *losses)
{
    s4g_err err = {0};
    s4g_convnext *m = s4g_convnext_new(ctx, &kCfg, 5, &err);
    s4g_train_cfg tc = s4g_train_cfg_default(0, 10);
    tc.micro_batch = M;
    s4g_trainer *t = s4g_trainer_new(m, &tc, &err);
    for (int s = 0; s < steps; s++) {
        Batch b = batch_new(5, 100 + s);
        s4g_train_stats st;
        OK(s4g_trainer_step(t, b.B, HQ, WQ, b.q, HR, WR, b.r, &st, &err));
        losses[s] = st.loss;
        batch_free(&b);
    }
    float *w = host_of(m, m->params);
    s4g_trainer_free(t);
    s4g_convnext_free(m);
    return w;
}

static void test_micro_steps(void)
{
    s4g_ctx *ctx = new_ctx(backend, 0);
    enum { S = 3 };
    float lf[S], lm[S];
    float *wf = train_steps(ctx, 0, S, lf), *wm = train_steps(ctx, 2, S, lm);
    for (int s = 0; s < S; s++) {
        g_test_message("step %d: loss %.9g (whole) %.9g (micro-batch 2)", s + 1, lf[s], lm[s]);
        g_assert_cmpfloat(fabs(lf[s] - lm[s]), <=, 1e-5 * fabs(lf[s]));
    }
    s4g_err err = {0};
    s4g_convnext *shape = s4g_convnext_new(ctx, &kCfg, 5, &err);
    assert_weights_close(shape, "weights after 3 steps, micro-batch 2 of 5", wm, wf, 1e-5);
    /* the steps did move the weights, so equal weights are not equal initialisations */
    float *w0 = host_of(shape, shape->params);
    g_assert_cmpfloat(rel_err(wf, w0, shape->total), >, 1e-4);
    g_free(w0);
    s4g_convnext_free(shape);
    g_free(wf);
    g_free(wm);
    s4g_ctx_free(ctx);
}

/* ---------------------------------------------------------------- a group of threads */

typedef struct {
    int size;
    pthread_barrier_t bar;
    pthread_mutex_t lock;
    const void *slots[16];
    size_t counts[16];
    gint64 calls;
} Group;

typedef struct {
    Group *g;
    s4g_comm comm;
} Member;

/* Every member publishes its pointer, all read what they need, then all leave. */
static int g_allgatherv(void *user, const float *send, float *recv, const size_t *counts,
                        s4g_err *err)
{
    Member *me = user;
    Group *g = me->g;
    g->slots[me->comm.rank] = send;
    pthread_barrier_wait(&g->bar);
    size_t at = 0;
    for (int i = 0; i < g->size; i++) {
        if (recv + at != g->slots[i])
            memmove(recv + at, g->slots[i], counts[i] * sizeof *recv);
        at += counts[i];
    }
    pthread_barrier_wait(&g->bar);
    return 0;
}

static int g_allgather(void *user, const float *send, size_t n, float *recv, s4g_err *err)
{
    Member *me = user;
    size_t counts[16];
    for (int i = 0; i < me->g->size; i++)
        counts[i] = n;
    return g_allgatherv(user, send, recv, counts, err);
}

/* Sum in rank order on every member (each computes the same sums from the same inputs). */
static int g_allreduce(void *user, float *buf, size_t n, s4g_err *err)
{
    Member *me = user;
    Group *g = me->g;
    float *sum = g_new(float, n);
    g->slots[me->comm.rank] = buf;
    pthread_barrier_wait(&g->bar);
    for (size_t k = 0; k < n; k++) {
        float s = 0;
        for (int i = 0; i < g->size; i++)
            s += ((const float *)g->slots[i])[k];
        sum[k] = s;
    }
    pthread_barrier_wait(&g->bar);
    memcpy(buf, sum, n * sizeof *buf);
    g_free(sum);
    g_atomic_int_inc((gint *)&g->calls);
    return 0;
}

static int g_broadcast(void *user, void *buf, size_t bytes, int root, s4g_err *err)
{
    Member *me = user;
    Group *g = me->g;
    g->slots[me->comm.rank] = buf;
    pthread_barrier_wait(&g->bar);
    if (me->comm.rank != root)
        memcpy(buf, g->slots[root], bytes);
    pthread_barrier_wait(&g->bar);
    return 0;
}

typedef struct {
    Member member;
    int M, steps, B;
    float *losses; /* steps */
    float *weights;
    float *grads; /* of one batch at the starting weights */
} Job;

static gpointer rank_main(gpointer data)
{
    Job *j = data;
    const s4g_comm *comm = j->member.comm.size > 1 ? &j->member.comm : NULL;
    j->weights = train_share(comm, j->M, j->B, j->steps, j->losses, &j->grads);
    return NULL;
}

/* Runs P members; returns rank 0's weights (and *grads its gradients of one more batch),
 * losses in losses[P][steps]. */
static float *run_group(int P, int M, int B, int steps, float *losses, float **grads)
{
    Group g = {.size = P};
    pthread_barrier_init(&g.bar, NULL, (unsigned)P);
    Job jobs[16];
    GThread *th[16];
    for (int i = 0; i < P; i++) {
        jobs[i] = (Job){.M = M, .steps = steps, .B = B, .losses = losses + (size_t)i * steps};
        jobs[i].member = (Member){&g,
                                  {.rank = i,
                                   .size = P,
                                   .user = &jobs[i].member,
                                   .allgather = g_allgather,
                                   .allgatherv = g_allgatherv,
                                   .allreduce_sum = g_allreduce,
                                   .broadcast = g_broadcast}};
    }
    for (int i = 0; i < P; i++)
        th[i] = g_thread_new("rank", rank_main, &jobs[i]);
    for (int i = 0; i < P; i++)
        g_thread_join(th[i]);
    pthread_barrier_destroy(&g.bar);
    if (P > 1)
        g_assert_cmpint(g.calls, ==, (gint64)P * (steps + 1)); /* one reduce per step (+ grad) */
    for (int i = 1; i < P; i++) {
        /* every member holds the same weights */
        g_assert_cmpint(memcmp(jobs[i].weights, jobs[0].weights,
                               s4g_convnext_cfg_count(&kCfg) * sizeof(float)),
                        ==, 0);
        g_free(jobs[i].weights);
        g_free(jobs[i].grads);
    }
    *grads = jobs[0].grads;
    return jobs[0].weights;
}

static void check_group(int P, int M, int B)
{
    enum { S = 3 };
    float l1[S], lp[16 * S];
    float *g1, *gp;
    float *w1 = run_group(1, 0, B, S, l1, &g1), *wp = run_group(P, M, B, S, lp, &gp);
    for (int s = 0; s < S; s++)
        for (int i = 0; i < P; i++)
            g_assert_cmpfloat(lp[(size_t)i * S + s], ==, lp[s]); /* same loss everywhere */
    assert_same_training(P, M, B, S, l1, lp, w1, wp, g1, gp);
    g_free(w1);
    g_free(wp);
    g_free(g1);
    g_free(gp);
}

static void test_group(void)
{
    check_group(2, 0, 6);
    check_group(3, 2, 7); /* uneven shares 3+2+2, chunks of 2 */
}

/* A share of 0 pairs is refused with the numbers. */
static gpointer empty_main(gpointer data)
{
    Job *j = data;
    s4g_err err = {0};
    s4g_ctx *ctx = new_ctx(S4G_BACKEND_CPU, 1);
    s4g_convnext *m = s4g_convnext_new(ctx, &kCfg, 5, &err);
    s4g_train_cfg tc = s4g_train_cfg_default(0, 10);
    s4g_trainer *t = s4g_trainer_new(m, &tc, &err);
    s4g_trainer_set_comm(t, &j->member.comm);
    Batch b = batch_new(3, 1);
    int n = j->member.comm.rank == 1 ? 0 : 3;
    g_assert_cmpint(s4g_trainer_grad(t, n, HQ, WQ, b.q, HR, WR, b.r, NULL, &err), ==, -1);
    g_assert_nonnull(strstr(err.msg, "process 1 of 2 has no pairs (global batch 3)"));
    batch_free(&b);
    s4g_trainer_free(t);
    s4g_convnext_free(m);
    s4g_ctx_free(ctx);
    return NULL;
}

static void test_group_empty_share(void)
{
    Group g = {.size = 2};
    pthread_barrier_init(&g.bar, NULL, 2);
    Job jobs[2];
    GThread *th[2];
    for (int i = 0; i < 2; i++)
        jobs[i].member = (Member){&g,
                                  {.rank = i,
                                   .size = 2,
                                   .user = &jobs[i].member,
                                   .allgather = g_allgather,
                                   .allgatherv = g_allgatherv,
                                   .allreduce_sum = g_allreduce,
                                   .broadcast = g_broadcast}};
    for (int i = 0; i < 2; i++)
        th[i] = g_thread_new("rank", empty_main, &jobs[i]);
    for (int i = 0; i < 2; i++)
        g_thread_join(th[i]);
    pthread_barrier_destroy(&g.bar);
}

static void test_share(void)
{
    int lo, n, total = 0;
    for (int r = 0; r < 3; r++) {
        s4g_comm_share(8, r, 3, &lo, &n);
        g_assert_cmpint(lo, ==, total);
        g_assert_cmpint(n, ==, r < 2 ? 3 : 2);
        total += n;
    }
    g_assert_cmpint(total, ==, 8);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    const char *b = g_getenv("S4G_TEST_BACKEND");
    if ((b && !strcmp(b, "vulkan")) || (argc > 1 && !strcmp(argv[argc - 1], "vulkan")))
        backend = S4G_BACKEND_VULKAN;
    g_test_add_func("/train-scale/micro-batch/gradients", test_micro_grads);
    g_test_add_func("/train-scale/micro-batch/steps", test_micro_steps);
    if (backend == S4G_BACKEND_CPU) {
        g_test_add_func("/train-scale/share", test_share);
        g_test_add_func("/train-scale/group", test_group);
        g_test_add_func("/train-scale/group/empty-share", test_group_empty_share);
    }
    return g_test_run();
}
