/* s4g-cpu-search-kernels.c — the CPU backend's search kernels (used by s4g-cpu-search.c), on the
 * thread pool with the vector path's kernels: few queries are scored straight from the
 * gallery rows (halves widened inside the dot products); for many queries fp16 rows are
 * widened to float with F16C/AVX-512 before they meet the queries in SGEMM. */
#include "s4g-cpu.h"

typedef struct {
    const uint16_t *h;
    float *out;
} half_job;

enum { HALF_PIECE = 4096 }; /* halves per task: 8 KiB in, 16 KiB out */

static void half_task(void *arg, long lo, long hi)
{
    const half_job *j = arg;
    s4g_cpu_k->half_to_float(j->h + (size_t)lo * HALF_PIECE, j->out + (size_t)lo * HALF_PIECE,
                             (hi - lo) * (long)HALF_PIECE);
}

int s4g_cpu_half_to_float(s4g_ctx *ctx, const uint16_t *h, float *out, size_t n)
{
    if (!s4g_cpu_k->half_to_float)
        return -1;
    size_t whole = n / HALF_PIECE;
    half_job j = {h, out};
    s4g_cpu_parallel(ctx, (long)whole, (double)n, half_task, &j);
    size_t done = whole * HALF_PIECE;
    if (done < n)
        s4g_cpu_k->half_to_float(h + done, out + done, (long)(n - done));
    return 0;
}

typedef struct {
    const float *q;
    int nq, fp16, dim;
    const void *g;
    float *tile;
    long ng;
} scores_job;

static void scores_task(void *arg, long lo, long hi)
{
    const scores_job *j = arg;
    s4g_cpu_k->scores(j->q, j->nq, j->g, j->fp16, j->dim, lo, hi, j->tile + lo, j->ng);
}

int s4g_cpu_scores(s4g_ctx *ctx, const float *q, int nq, const void *g, int fp16, int dim,
                   long ng, float *tile)
{
    if (!s4g_cpu_k->scores)
        return -1;
    scores_job j = {q, nq, fp16, dim, g, tile, ng};
    s4g_cpu_parallel(ctx, ng, (double)nq * ng * dim, scores_task, &j);
    return 0;
}
