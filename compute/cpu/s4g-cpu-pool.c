/* s4g-cpu-pool.c — the CPU backend's worker threads.
 *
 * A fixed team of ctx->threads - 1 pthreads that BLOCK (condition variable) between ops.
 * OpenMP's default spin-waiting was tried first: on a shared 2-core machine a spinning
 * worker burns its time slice whenever its partner is descheduled, and a training step
 * ran 4-5x slower than with passive waiting, which libgomp only offers through an
 * environment variable read at program start.
 *
 * s4g_cpu_parallel splits [0, n) into contiguous ranges fixed by n and the thread count;
 * the calling thread runs range 0.  A context is used by one thread at a time; a second
 * caller arriving while the team is busy runs its op serially instead of waiting. */
#include "s4g-cpu.h"

#include <pthread.h>
#include <stdlib.h>

struct s4g_cpu_pool {
    int nt; /* team size including the caller */
    pthread_t *th;
    int started;
    pthread_mutex_t lock, dispatch;
    pthread_cond_t go, done;
    unsigned long gen;
    int pending, stop;
    s4g_cpu_task fn;
    void *arg;
    long n;
};

typedef struct {
    s4g_cpu_pool *pool;
    int index;
} worker_arg;

static void run_range(s4g_cpu_pool *p, s4g_cpu_task fn, void *arg, long n, int t)
{
    long lo = n * t / p->nt, hi = n * (t + 1) / p->nt;
    if (hi > lo)
        fn(arg, lo, hi);
}

static void *worker(void *v)
{
    worker_arg wa = *(worker_arg *)v;
    free(v);
    s4g_cpu_pool *p = wa.pool;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->gen == seen && !p->stop)
            pthread_cond_wait(&p->go, &p->lock);
        if (p->stop)
            break;
        seen = p->gen;
        s4g_cpu_task fn = p->fn;
        void *arg = p->arg;
        long n = p->n;
        pthread_mutex_unlock(&p->lock);
        run_range(p, fn, arg, n, wa.index);
        pthread_mutex_lock(&p->lock);
        if (--p->pending == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

s4g_cpu_pool *s4g_cpu_pool_new(int threads)
{
    s4g_cpu_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->nt = threads > 1 ? threads : 1;
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&p->dispatch, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    if (p->nt > 1)
        p->th = calloc((size_t)p->nt - 1, sizeof *p->th);
    for (int i = 1; p->th && i < p->nt; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (!wa)
            break;
        wa->pool = p;
        wa->index = i;
        if (pthread_create(&p->th[i - 1], NULL, worker, wa) != 0) {
            free(wa);
            break;
        }
        p->started++;
    }
    /* Fewer threads than asked (limits, memory): the team is what started. */
    p->nt = p->started + 1;
    return p;
}

void s4g_cpu_pool_free(s4g_cpu_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->started; i++)
        pthread_join(p->th[i], NULL);
    free(p->th);
    pthread_mutex_destroy(&p->lock);
    pthread_mutex_destroy(&p->dispatch);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    free(p);
}

int s4g_cpu_pool_size(const s4g_cpu_pool *p)
{
    return p ? p->nt : 1;
}

void s4g_cpu_parallel(s4g_ctx *ctx, long n, double work, s4g_cpu_task fn, void *arg)
{
    s4g_cpu_pool *p = ctx->impl;
    if (n <= 0)
        return;
    if (!p || p->nt <= 1 || n == 1 || work < S4G_CPU_PAR_MIN ||
        pthread_mutex_trylock(&p->dispatch) != 0) {
        fn(arg, 0, n);
        return;
    }
    pthread_mutex_lock(&p->lock);
    p->fn = fn;
    p->arg = arg;
    p->n = n;
    p->pending = p->nt - 1;
    p->gen++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->lock);
    run_range(p, fn, arg, n, 0);
    pthread_mutex_lock(&p->lock);
    while (p->pending > 0)
        pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
    pthread_mutex_unlock(&p->dispatch);
}
