/* s4g-parallel.h — a parallel loop over indices on GThreads, for rendering and other
 * embarrassingly parallel work in the method layer.  Work is pulled from an atomic counter;
 * results stay deterministic as long as item i writes only its own outputs. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Runs fn(i, data) for i in [0, n) on `threads` threads (work pulled from an atomic
 * counter).  The order of calls is unspecified; callers write only to slot i. */
typedef void (*S4gParallelFn)(int i, gpointer data);
/* progress(done, n, progress_data) runs on the calling thread about 10 times a second and
 * once at the end; may be NULL.  threads <= 0 means the number of processors. */
void s4g_parallel_for(int n, int threads, S4gParallelFn fn, gpointer data,
                      void (*progress)(int done, int total, gpointer pdata), gpointer pdata);

G_END_DECLS
