/* s4g-parallel.c — the parallel index loop (see the header). */
#include "s4g-parallel.h"

typedef struct {
    int n;
    gint next, done;
    S4gParallelFn fn;
    gpointer data;
} ParallelState;

static gpointer parallel_worker(gpointer p)
{
    ParallelState *st = p;
    for (;;) {
        int i = g_atomic_int_add(&st->next, 1);
        if (i >= st->n)
            break;
        st->fn(i, st->data);
        g_atomic_int_inc(&st->done);
    }
    return NULL;
}

void s4g_parallel_for(int n, int threads, S4gParallelFn fn, gpointer data,
                      void (*progress)(int done, int total, gpointer pdata), gpointer pdata)
{
    if (threads <= 0)
        threads = (int)g_get_num_processors();
    threads = CLAMP(threads, 1, MAX(1, n));
    ParallelState st = {.n = n, .fn = fn, .data = data};
    if (threads == 1 && !progress) {
        parallel_worker(&st);
        return;
    }
    g_autofree GThread **th = g_new0(GThread *, threads);
    for (int t = 0; t < threads; t++)
        th[t] = g_thread_new("s4g-worker", parallel_worker, &st);
    if (progress) {
        while (g_atomic_int_get(&st.done) < n) {
            progress(g_atomic_int_get(&st.done), n, pdata);
            g_usleep(100000);
        }
    }
    for (int t = 0; t < threads; t++)
        g_thread_join(th[t]);
    if (progress)
        progress(n, n, pdata);
}
