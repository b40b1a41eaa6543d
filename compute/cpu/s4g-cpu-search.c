/* s4g-cpu-search.c — the CPU backend's half of the gallery search (s4g-search-impl.h).
 *
 * Chunks are host arrays of float rows (or uint16 halves with fp16 storage).  Queries in
 * blocks of QB rows x gallery blocks of GB rows are scored with one SGEMM (OpenBLAS threads
 * it) into a bounded QB x GB tile — or, for a few top-k queries, straight from the stored rows
 * by the vector path (s4g-cpu-search-kernels.c) — then the backend's thread pool consumes the
 * tile row by row (top-k heap or strict count).  Memory stays O(QB * GB) whatever the sizes. */
#include "s4g-cpu.h"
#include "../s4g-half.h"
#include "../s4g-search-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef S4G_HAVE_OPENBLAS
#include <cblas.h>
#endif

enum { QB = 256, GB = S4G_SEARCH_BLOCK_ROWS };

/* ------------------------------------------------------------ storage */

static size_t cpu_chunk_limit(const s4g_gallery *g)
{
    (void)g;
    return S4G_SEARCH_DEFAULT_CHUNK_ROWS;
}

static int cpu_chunk_alloc(s4g_gallery *g, s4g_gchunk *c, s4g_err *err)
{
    c->host = malloc(c->cap * (size_t)g->dim * (g->fp16 ? 2 : 4));
    if (!c->host)
        return s4g_fail(err, S4G_E_NOMEM, "gallery: out of memory for a chunk of %zu rows",
                        c->cap);
    return 0;
}

static void cpu_chunk_free(s4g_gchunk *c)
{
    free(c->host);
}

static int cpu_upload(s4g_gallery *g, s4g_gchunk *c, size_t row0, size_t n, const float *vecs,
                      s4g_err *err)
{
    (void)err;
    size_t dim = (size_t)g->dim;
    if (g->fp16)
        s4g_half_from_float_n(vecs, (uint16_t *)c->host + row0 * dim, n * dim);
    else
        memcpy((float *)c->host + row0 * dim, vecs, n * dim * sizeof(float));
    return 0;
}

/* ------------------------------------------------------------ scoring */

/* The one dot product behind score and the final word of count_above.  Rank counting
 * compares every gallery score with the positive's score STRICTLY, so a gallery row equal
 * to the positive must produce bit-identical arithmetic: a fixed 8-lane summation order,
 * and noinline so every caller runs the same machine code.  count_above scores with SGEMM
 * and re-checks with dot_det only the scores within a rounding bound of the threshold. */
typedef float s4g_v8 __attribute__((vector_size(32)));

__attribute__((noinline)) static float dot_det(const float *a, const float *b, size_t n)
{
    s4g_v8 acc = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t d = 0;
    for (; d + 8 <= n; d += 8) {
        s4g_v8 x, y;
        memcpy(&x, a + d, sizeof x);
        memcpy(&y, b + d, sizeof y);
        acc += x * y;
    }
    float s = 0;
    for (int l = 0; l < 8; l++)
        s += acc[l];
    for (; d < n; d++)
        s += a[d] * b[d];
    return s;
}

typedef struct scan_job {
    const float *q;     /* query block [nq, dim] */
    const float *gb;    /* gallery block [ng, dim] */
    const float *tile;  /* [nq, ng] scores when precomputed by SGEMM, else NULL */
    const float *gnorm; /* [ng] row norms of gb (count mode with a tile) */
    size_t nq, ng, dim;
    int64_t base;       /* global index of gb row 0 */
    s4g_topk *lists;    /* mode top-k */
    const float *thresh; /* mode count */
    uint32_t *counts;
    int nthreads, tid;
} scan_job;

static void *scan_worker(void *arg)
{
    scan_job *j = arg;
    size_t a = j->nq * (size_t)j->tid / (size_t)j->nthreads;
    size_t b = j->nq * (size_t)(j->tid + 1) / (size_t)j->nthreads;
    for (size_t r = a; r < b; r++) {
        const float *qr = j->q + r * j->dim;
        uint32_t cnt = 0;
        /* |sgemm - exact| <= dim * eps * sum|q g| <= dim * eps * |q| |g| (Cauchy-Schwarz);
         * 4x that is a safe margin outside of which the SGEMM score decides alone. */
        double qn = 0;
        if (!j->lists && j->tile) {
            for (size_t d = 0; d < j->dim; d++)
                qn += (double)qr[d] * qr[d];
            qn = sqrt(qn) * 4.0 * (double)j->dim * 1.1920929e-7;
        }
        for (size_t c = 0; c < j->ng; c++) {
            float s;
            if (j->tile) {
                s = j->tile[r * j->ng + c];
            } else {
                s = dot_det(qr, j->gb + c * j->dim, j->dim);
            }
            if (j->lists) {
                s4g_topk_push(&j->lists[r], s, j->base + (int64_t)c);
            } else {
                float t = j->thresh[r];
                if (j->tile && fabs((double)s - t) <= qn * j->gnorm[c] + 1e-30)
                    s = dot_det(qr, j->gb + c * j->dim, j->dim);
                cnt += s > t;
            }
        }
        if (!j->lists)
            j->counts[r] += cnt;
    }
    return NULL;
}

static void scan_task(void *arg, long lo, long hi)
{
    scan_job *jobs = arg;
    for (long t = lo; t < hi; t++)
        scan_worker(&jobs[t]);
}

/* One share of the query rows per thread of the CPU backend's pool (no threads started per
 * tile). */
static void run_scan(s4g_ctx *ctx, scan_job *proto)
{
    int nt = ctx->threads > 0 ? ctx->threads : 1;
    if ((size_t)nt > proto->nq)
        nt = (int)proto->nq;
    if (nt > 64)
        nt = 64;
    scan_job jobs[64];
    for (int t = 0; t < nt; t++) {
        jobs[t] = *proto;
        jobs[t].nthreads = nt;
        jobs[t].tid = t;
    }
    s4g_cpu_parallel(ctx, nt, 1e300, scan_task, jobs);
}

static int scan(s4g_gallery *g, size_t nq, const float *q, s4g_topk *lists,
                    const float *thresh, uint32_t *counts, s4g_err *err)
{
    size_t dim = (size_t)g->dim;
    float *conv = g->fp16 ? malloc(GB * dim * sizeof(float)) : NULL;
#ifdef S4G_HAVE_OPENBLAS
    float *tile = malloc((size_t)QB * GB * sizeof(float));
    float *gnorm = malloc(GB * sizeof(float));
    int tiles_ok = tile && gnorm;
#else
    float *tile = NULL, *gnorm = NULL;
    int tiles_ok = 1;
#endif
    if ((g->fp16 && !conv) || !tiles_ok) {
        free(conv);
        free(tile);
        free(gnorm);
        return s4g_fail(err, S4G_E_NOMEM, "gallery search: out of memory for score tiles");
    }
    size_t qbk = g->query_block && g->query_block < QB ? g->query_block : QB;
    for (size_t q0 = 0; q0 < nq; q0 += qbk) {
        size_t qn = nq - q0 < qbk ? nq - q0 : qbk;
        for (size_t ci = 0; ci < g->nchunks; ci++) {
            s4g_gchunk *c = &g->chunks[ci];
            for (size_t r0 = 0; r0 < c->used; r0 += GB) {
                size_t rn = c->used - r0 < GB ? c->used - r0 : GB;
                const float *gb = NULL;
                /* few queries, top-k: scored straight from the stored rows on the pool (no
                 * widened copy, no SGEMM packing: the scan is bound by reading the gallery) */
                int direct = 0;
#ifdef S4G_HAVE_OPENBLAS
                const void *rows = (const char *)c->host + r0 * dim * (g->fp16 ? 2 : 4);
                direct = lists && qn <= S4G_CPU_SCORES_MAX_Q &&
                         s4g_cpu_scores(g->ctx, q + q0 * dim, (int)qn, rows, g->fp16, (int)dim,
                                        (long)rn, tile) == 0;
#endif
                if (direct) {
                } else if (g->fp16) {
                    const uint16_t *h = (const uint16_t *)c->host + r0 * dim;
                    /* F16C/AVX-512 on the pool where the CPU has it, else the scalar table */
                    if (s4g_cpu_half_to_float(g->ctx, h, conv, rn * dim))
                        s4g_half_to_float_n(h, conv, rn * dim);
                    gb = conv;
                } else {
                    gb = (const float *)c->host + r0 * dim;
                }
#ifdef S4G_HAVE_OPENBLAS
                if (!direct)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)qn, (int)rn,
                                (int)dim, 1.0f, q + q0 * dim, (int)dim, gb, (int)dim, 0.0f, tile,
                                (int)rn);
                if (!lists)
                    for (size_t c2 = 0; c2 < rn; c2++) {
                        double nn = 0;
                        for (size_t d = 0; d < dim; d++)
                            nn += (double)gb[c2 * dim + d] * gb[c2 * dim + d];
                        gnorm[c2] = (float)sqrt(nn);
                    }
#endif
                scan_job job = {
                    .q = q + q0 * dim, .gb = gb, .tile = tile, .gnorm = gnorm, .nq = qn, .ng = rn, .dim = dim,
                    .base = (int64_t)(c->base + r0), .lists = lists ? lists + q0 : NULL,
                    .thresh = thresh ? thresh + q0 : NULL, .counts = counts ? counts + q0 : NULL,
                };
                run_scan(g->ctx, &job);
            }
        }
    }
    free(conv);
    free(tile);
    free(gnorm);
    return 0;
}

static int cpu_topk(s4g_gallery *g, size_t nq, const float *q, int k, s4g_topk *lists,
                    s4g_err *err)
{
    (void)k; /* the lists know their k */
    return scan(g, nq, q, lists, NULL, NULL, err);
}

static int cpu_count_above(s4g_gallery *g, size_t nq, const float *q, const float *thresh,
                           uint32_t *counts, s4g_err *err)
{
    return scan(g, nq, q, NULL, thresh, counts, err);
}

static int cpu_score(s4g_gallery *g, size_t nq, const float *q, const int64_t *ref,
                     float *score, s4g_err *err)
{
    size_t dim = (size_t)g->dim;
    float *row = g->fp16 ? malloc(dim * sizeof(float)) : NULL;
    if (g->fp16 && !row)
        return s4g_fail(err, S4G_E_NOMEM, "gallery score: out of memory");
    for (size_t i = 0; i < nq; i++) {
        size_t lo = 0, hi = g->nchunks; /* chunk holding ref[i]: bases ascend */
        while (hi - lo > 1) {
            size_t mid = (lo + hi) / 2;
            if (g->chunks[mid].base <= (size_t)ref[i])
                lo = mid;
            else
                hi = mid;
        }
        s4g_gchunk *c = &g->chunks[lo];
        size_t r = (size_t)ref[i] - c->base;
        if (g->fp16) {
            s4g_half_to_float_n((const uint16_t *)c->host + r * dim, row, dim);
            score[i] = dot_det(q + i * dim, row, dim);
        } else {
            score[i] = dot_det(q + i * dim, (const float *)c->host + r * dim, dim);
        }
    }
    free(row);
    return 0;
}

const s4g_search_ops s4g_cpu_search_ops = {
    .chunk_limit = cpu_chunk_limit,
    .chunk_alloc = cpu_chunk_alloc,
    .chunk_free = cpu_chunk_free,
    .upload = cpu_upload,
    .topk = cpu_topk,
    .count_above = cpu_count_above,
    .score = cpu_score,
};
