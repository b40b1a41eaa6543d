/* s4g-search.c — gallery storage, the CPU search path and the backend-independent checks.
 *
 * CPU path: queries in blocks of QB rows x gallery blocks of GB rows are scored with one
 * SGEMM (OpenBLAS threads it) into a bounded QB x GB tile, then threads consume the tile
 * row by row (top-k heap or strict count).  Memory stays O(QB * GB) whatever the sizes. */
#include "s4g-search-impl.h"
#include "cpu/s4g-cpu.h" /* the CPU backend's thread pool and vector paths */

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#ifdef S4G_HAVE_OPENBLAS
#include <cblas.h>
#endif

enum { QB = 256, GB = 2048, CPU_CHUNK_ROWS = 1 << 20, VK_CHUNK_ROWS = 1 << 22, MIN_CHUNK_ROWS = 1024 };

/* ------------------------------------------------------------ halves */

uint16_t s4g_half_from_float(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u, mag = x & 0x7fffffffu;
    if (mag >= 0x7f800000u) /* inf / nan */
        return (uint16_t)(sign | 0x7c00u | (mag > 0x7f800000u ? 0x200u : 0));
    if (mag >= 0x477ff000u) /* rounds to >= 65520: overflow to inf */
        return (uint16_t)(sign | 0x7c00u);
    if (mag < 0x38800000u) { /* subnormal half (or zero) */
        if (mag < 0x33000000u)
            return (uint16_t)sign;
        uint32_t e = mag >> 23, m = (mag & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126 - e; /* 14..24 */
        uint32_t h = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1u)))
            h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((mag - 0x38000000u) >> 13), rem = mag & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u)))
        h++;
    return (uint16_t)(sign | h);
}

float s4g_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, x;
    if (e == 0) {
        float f = ldexpf((float)m, -24);
        return sign ? -f : f;
    }
    x = e == 31 ? (sign | 0x7f800000u | (m << 13)) : (sign | ((e + 112) << 23) | (m << 13));
    float f;
    memcpy(&f, &x, 4);
    return f;
}

/* Half -> float for whole gallery blocks: a 256 KiB table beats bit fiddling per element. */
static float half_table[65536];
static pthread_once_t half_once = PTHREAD_ONCE_INIT;

static void half_table_init(void)
{
    for (uint32_t h = 0; h < 65536; h++)
        half_table[h] = s4g_half_to_float((uint16_t)h);
}

/* ------------------------------------------------------------ top-k lists */

static void sift_down(s4g_topk *t, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, w = i;
        if (l < t->n && s4g_topk_worse(t->s[l], t->i[l], t->s[w], t->i[w]))
            w = l;
        if (r < t->n && s4g_topk_worse(t->s[r], t->i[r], t->s[w], t->i[w]))
            w = r;
        if (w == i)
            return;
        float ts = t->s[i];
        int64_t ti = t->i[i];
        t->s[i] = t->s[w], t->i[i] = t->i[w];
        t->s[w] = ts, t->i[w] = ti;
        i = w;
    }
}

void s4g_topk_push(s4g_topk *t, float s, int64_t i)
{
    if (t->n < t->k) {
        int j = t->n++;
        t->s[j] = s, t->i[j] = i;
        while (j > 0) { /* sift up: the worst element sits at the root */
            int p = (j - 1) / 2;
            if (!s4g_topk_worse(t->s[j], t->i[j], t->s[p], t->i[p]))
                break;
            float ts = t->s[j];
            int64_t ti = t->i[j];
            t->s[j] = t->s[p], t->i[j] = t->i[p];
            t->s[p] = ts, t->i[p] = ti;
            j = p;
        }
        return;
    }
    if (!s4g_topk_worse(t->s[0], t->i[0], s, i))
        return;
    t->s[0] = s, t->i[0] = i;
    sift_down(t, 0);
}

void s4g_topk_finish(s4g_topk *t, int64_t *idx, float *score)
{
    int n = t->n;
    /* pop the worst repeatedly: fills from the back, so the front ends up best */
    for (int j = n - 1; j >= 0; j--) {
        idx[j] = t->i[0];
        if (score)
            score[j] = t->s[0];
        t->s[0] = t->s[t->n - 1], t->i[0] = t->i[t->n - 1];
        t->n--;
        sift_down(t, 0);
    }
    for (int j = n; j < t->k; j++) {
        idx[j] = -1;
        if (score)
            score[j] = -INFINITY;
    }
}

/* ------------------------------------------------------------ gallery storage */

s4g_gallery *s4g_gallery_new(s4g_ctx *ctx, int dim, int fp16_storage, s4g_err *err)
{
    if (!ctx) {
        s4g_fail(err, S4G_E_INVALID, "gallery: no compute context");
        return NULL;
    }
    if (dim <= 0) {
        s4g_fail(err, S4G_E_INVALID, "gallery: dimension %d (must be positive)", dim);
        return NULL;
    }
    s4g_gallery *g = calloc(1, sizeof *g);
    if (!g) {
        s4g_fail(err, S4G_E_NOMEM, "gallery: out of memory");
        return NULL;
    }
    g->ctx = ctx;
    g->dim = dim;
    g->fp16 = fp16_storage != 0;
    g->stride = g->fp16 ? (size_t)(dim + 1) / 2 : (size_t)dim;
    const char *env = getenv("S4G_SEARCH_CHUNK_ROWS");
    g->chunk_rows = env ? strtoull(env, NULL, 10) : 0;
    s4g_gallery_set_chunk_rows(g, g->chunk_rows);
    env = getenv("S4G_SEARCH_QUERY_BLOCK"); /* tests: force several query blocks */
    g->query_block = env ? strtoull(env, NULL, 10) : 0;
    if (ctx->kind == S4G_BACKEND_VULKAN && g->chunk_rows == 0) {
        free(g);
        s4g_fail(err, S4G_E_UNSUPPORTED,
                 "gallery: a row of %d dims does not fit one device binding", dim);
        return NULL;
    }
    return g;
}

void s4g_gallery_set_chunk_rows(s4g_gallery *g, size_t rows)
{
    size_t lim = CPU_CHUNK_ROWS;
    if (g->ctx->kind == S4G_BACKEND_VULKAN) {
        lim = g->ctx->max_buffer_floats ? g->ctx->max_buffer_floats / g->stride : CPU_CHUNK_ROWS;
        /* vk/s4g-vk-search.c: at most 8192 slices of 512 rows per chunk keep one query's
         * partial top-256 lists (2 words each) within its 4M-word result buffer */
        if (lim > VK_CHUNK_ROWS)
            lim = VK_CHUNK_ROWS;
    }
    g->chunk_rows = rows && rows < lim ? rows : lim;
}

size_t s4g_gallery_size(const s4g_gallery *g)
{
    return g->n;
}

void s4g_gallery_free(s4g_gallery *g)
{
    if (!g)
        return;
    for (size_t c = 0; c < g->nchunks; c++) {
        free(g->chunks[c].host);
        s4g_buf_free(g->chunks[c].buf);
    }
    free(g->chunks);
    free(g);
}

static s4g_gchunk *new_chunk(s4g_gallery *g, size_t want, s4g_err *err)
{
    if (g->nchunks == g->chunks_cap) {
        size_t nc = g->chunks_cap ? 2 * g->chunks_cap : 8;
        s4g_gchunk *p = realloc(g->chunks, nc * sizeof *p);
        if (!p) {
            s4g_fail(err, S4G_E_NOMEM, "gallery: out of memory");
            return NULL;
        }
        g->chunks = p;
        g->chunks_cap = nc;
    }
    size_t cap = want < MIN_CHUNK_ROWS ? MIN_CHUNK_ROWS : want;
    if (cap > g->chunk_rows)
        cap = g->chunk_rows;
    s4g_gchunk c = {.base = g->n, .cap = cap};
    if (g->ctx->kind == S4G_BACKEND_VULKAN) {
        c.buf = s4g_buf_new(g->ctx, cap * g->stride, err);
        if (!c.buf) {
            s4g_err_prefix(err, "gallery: chunk of %zu rows", cap);
            return NULL;
        }
    } else {
        c.host = malloc(cap * (size_t)g->dim * (g->fp16 ? 2 : 4));
        if (!c.host) {
            s4g_fail(err, S4G_E_NOMEM, "gallery: out of memory for a chunk of %zu rows", cap);
            return NULL;
        }
    }
    g->chunks[g->nchunks] = c;
    return &g->chunks[g->nchunks++];
}

int s4g_gallery_add(s4g_gallery *g, size_t n, const float *vecs, s4g_err *err)
{
    if (n && !vecs)
        return s4g_fail(err, S4G_E_INVALID, "gallery add: no vectors");
    size_t done = 0, dim = (size_t)g->dim;
    while (done < n) {
        s4g_gchunk *c = g->nchunks ? &g->chunks[g->nchunks - 1] : NULL;
        if (!c || c->used == c->cap)
            c = new_chunk(g, n - done, err);
        if (!c)
            return -1;
        size_t m = c->cap - c->used;
        if (m > n - done)
            m = n - done;
        const float *src = vecs + done * dim;
        if (g->ctx->kind == S4G_BACKEND_VULKAN) {
            if (s4g_vk_gallery_upload(g, c, c->used, m, src, err))
                return -1;
        } else if (g->fp16) {
            uint16_t *dst = (uint16_t *)c->host + c->used * dim;
            for (size_t j = 0; j < m * dim; j++)
                dst[j] = s4g_half_from_float(src[j]);
        } else {
            memcpy((float *)c->host + c->used * dim, src, m * dim * sizeof(float));
        }
        c->used += m;
        g->n += m;
        done += m;
    }
    return 0;
}

/* ------------------------------------------------------------ CPU scan */

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

static int cpu_scan(s4g_gallery *g, size_t nq, const float *q, s4g_topk *lists,
                    const float *thresh, uint32_t *counts, s4g_err *err)
{
    size_t dim = (size_t)g->dim;
    if (g->fp16)
        pthread_once(&half_once, half_table_init);
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
                    /* F16C/AVX-512 on the pool where the CPU has it, else the table */
                    if (s4g_cpu_half_to_float(g->ctx, h, conv, rn * dim))
                        for (size_t j = 0; j < rn * dim; j++)
                            conv[j] = half_table[h[j]];
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

/* ------------------------------------------------------------ public search calls */

static int check_queries(const s4g_gallery *g, const char *op, size_t nq, const float *q,
                         s4g_err *err)
{
    if (nq && !q)
        return s4g_fail(err, S4G_E_INVALID, "%s: no query vectors", op);
    if (g->n == 0 && nq)
        return s4g_fail(err, S4G_E_INVALID, "%s: the gallery is empty", op);
    return 0;
}

int s4g_gallery_topk(s4g_gallery *g, size_t nq, const float *q, int k, int64_t *idx,
                     float *score, s4g_err *err)
{
    if (k < 1 || k > S4G_SEARCH_MAX_K)
        return s4g_fail(err, S4G_E_INVALID, "gallery top-k: k = %d outside 1..%d", k,
                        S4G_SEARCH_MAX_K);
    if (check_queries(g, "gallery top-k", nq, q, err))
        return -1;
    if (nq && !idx)
        return s4g_fail(err, S4G_E_INVALID, "gallery top-k: no output array");
    if (nq == 0)
        return 0;
    s4g_topk *lists = calloc(nq, sizeof *lists);
    float *hs = malloc(nq * (size_t)k * sizeof(float));
    int64_t *hi = malloc(nq * (size_t)k * sizeof(int64_t));
    int rc = -1;
    if (!lists || !hs || !hi) {
        s4g_fail(err, S4G_E_NOMEM, "gallery top-k: out of memory for %zu lists", nq);
        goto out;
    }
    for (size_t i = 0; i < nq; i++)
        lists[i] = (s4g_topk){.k = k, .s = hs + i * (size_t)k, .i = hi + i * (size_t)k};
    rc = g->ctx->kind == S4G_BACKEND_VULKAN ? s4g_vk_gallery_topk(g, nq, q, k, lists, err)
                                             : cpu_scan(g, nq, q, lists, NULL, NULL, err);
    if (rc == 0)
        for (size_t i = 0; i < nq; i++)
            s4g_topk_finish(&lists[i], idx + i * (size_t)k, score ? score + i * (size_t)k : NULL);
out:
    free(lists);
    free(hs);
    free(hi);
    return rc;
}

int s4g_gallery_count_above(s4g_gallery *g, size_t nq, const float *q, const float *thresh,
                            uint32_t *counts, s4g_err *err)
{
    if (check_queries(g, "gallery count", nq, q, err))
        return -1;
    if (nq && (!thresh || !counts))
        return s4g_fail(err, S4G_E_INVALID, "gallery count: no thresholds or output array");
    if (nq == 0)
        return 0;
    memset(counts, 0, nq * sizeof *counts);
    if (g->ctx->kind == S4G_BACKEND_VULKAN)
        return s4g_vk_gallery_count_above(g, nq, q, thresh, counts, err);
    return cpu_scan(g, nq, q, NULL, thresh, counts, err);
}

int s4g_gallery_score(s4g_gallery *g, size_t nq, const float *q, const int64_t *ref,
                      float *score, s4g_err *err)
{
    if (check_queries(g, "gallery score", nq, q, err))
        return -1;
    if (nq && (!ref || !score))
        return s4g_fail(err, S4G_E_INVALID, "gallery score: no reference or output array");
    for (size_t i = 0; i < nq; i++)
        if (ref[i] < 0 || (uint64_t)ref[i] >= g->n)
            return s4g_fail(err, S4G_E_INVALID,
                            "gallery score: query %zu refers to row %lld of a gallery of %zu", i,
                            (long long)ref[i], g->n);
    if (g->ctx->kind == S4G_BACKEND_VULKAN)
        return s4g_vk_gallery_score(g, nq, q, ref, score, err);
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
            const uint16_t *h = (const uint16_t *)c->host + r * dim;
            for (size_t d = 0; d < dim; d++)
                row[d] = s4g_half_to_float(h[d]);
            score[i] = dot_det(q + i * dim, row, dim);
        } else {
            score[i] = dot_det(q + i * dim, (const float *)c->host + r * dim, dim);
        }
    }
    free(row);
    return 0;
}
