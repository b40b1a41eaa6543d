/* s4g-search.c — gallery storage, the top-k lists and the backend-independent checks of
 * s4g-search.h.  Storage, conversion and scoring are the backend's `search` entries
 * (s4g-search-impl.h): cpu/s4g-cpu-search.c and vk/s4g-vk-search.c. */
#include "s4g-search-impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MIN_CHUNK_ROWS = 1024 };

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

static const s4g_search_ops *search_ops(const s4g_gallery *g)
{
    return g->ctx->ops->search;
}

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
    if (g->chunk_rows == 0) {
        free(g);
        s4g_fail(err, S4G_E_UNSUPPORTED,
                 "gallery: a row of %d dims does not fit one device binding", dim);
        return NULL;
    }
    return g;
}

void s4g_gallery_set_chunk_rows(s4g_gallery *g, size_t rows)
{
    size_t lim = search_ops(g)->chunk_limit(g);
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
    for (size_t c = 0; c < g->nchunks; c++)
        search_ops(g)->chunk_free(&g->chunks[c]);
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
    if (search_ops(g)->chunk_alloc(g, &c, err))
        return NULL;
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
        if (search_ops(g)->upload(g, c, c->used, m, vecs + done * dim, err))
            return -1;
        c->used += m;
        g->n += m;
        done += m;
    }
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
    rc = search_ops(g)->topk(g, nq, q, k, lists, err);
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
    return search_ops(g)->count_above(g, nq, q, thresh, counts, err);
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
    return nq ? search_ops(g)->score(g, nq, q, ref, score, err) : 0;
}

/* ------------------------------------------------------------ sharded search */

static size_t gcd_z(size_t a, size_t b)
{
    while (b) {
        size_t t = a % b;
        a = b, b = t;
    }
    return a;
}

void s4g_gallery_shard(const s4g_gallery *g, size_t n, size_t align, int rank, int size,
                       size_t *lo, size_t *cnt)
{
    /* the rows one scan block covers: chunks start new blocks, so with chunks smaller than a
     * block (or not a multiple of one) the chunk is the unit */
    size_t block = g->chunk_rows < S4G_SEARCH_BLOCK_ROWS || g->chunk_rows % S4G_SEARCH_BLOCK_ROWS
                       ? g->chunk_rows
                       : S4G_SEARCH_BLOCK_ROWS;
    if (align < 1)
        align = 1;
    size_t unit = block / gcd_z(block, align) * align;
    size_t units = (n + unit - 1) / unit;
    if (size < 1)
        size = 1;
    size_t qu = units / (size_t)size, ru = units % (size_t)size, r = (size_t)rank;
    size_t ulo = r * qu + (r < ru ? r : ru), un = qu + (r < ru);
    size_t a = ulo * unit, b = (ulo + un) * unit;
    *lo = a < n ? a : n;
    *cnt = (b < n ? b : n) - *lo;
}

static int need_bytes(const s4g_comm *comm, const char *op, s4g_err *err)
{
    if (!comm->allgather_bytes)
        return s4g_fail(err, S4G_E_UNSUPPORTED, "%s: the communicator has no allgather_bytes",
                        op);
    return 0;
}

int s4g_gallery_topk_shared(s4g_gallery *g, const s4g_comm *comm, int64_t base, size_t nq,
                            const float *q, int k, int64_t *idx, float *score, s4g_err *err)
{
    if (!comm || comm->size <= 1)
        return s4g_gallery_topk(g, nq, q, k, idx, score, err);
    if (k < 1 || k > S4G_SEARCH_MAX_K)
        return s4g_fail(err, S4G_E_INVALID, "gallery top-k: k = %d outside 1..%d", k,
                        S4G_SEARCH_MAX_K);
    if (need_bytes(comm, "sharded top-k", err))
        return -1;
    if (nq == 0)
        return 0;
    if (nq && (!q || !idx))
        return s4g_fail(err, S4G_E_INVALID, "sharded top-k: no queries or output array");
    /* one record per candidate: the local best k of every query (score, global index);
     * an empty shard sends padding (-1, -INFINITY), never a candidate */
    typedef struct {
        int64_t i;
        float s;
        uint32_t pad;
    } cand;
    size_t nk = nq * (size_t)k, P = (size_t)comm->size;
    cand *mine = calloc(nk, sizeof *mine), *all = calloc(nk * P, sizeof *all);
    int64_t *li = malloc(nk * sizeof *li);
    float *ls = malloc(nk * sizeof *ls);
    s4g_topk *lists = calloc(nq, sizeof *lists);
    float *hs = malloc(nk * sizeof *hs);
    int64_t *hi = malloc(nk * sizeof *hi);
    int rc = -1;
    if (!mine || !all || !li || !ls || !lists || !hs || !hi) {
        s4g_fail(err, S4G_E_NOMEM, "sharded top-k: out of memory for %zu lists", nq);
        goto out;
    }
    if (g->n) {
        if (s4g_gallery_topk(g, nq, q, k, li, ls, err))
            goto out;
    } else {
        for (size_t j = 0; j < nk; j++)
            li[j] = -1, ls[j] = -INFINITY;
    }
    for (size_t j = 0; j < nk; j++)
        mine[j] = (cand){li[j] < 0 ? -1 : li[j] + base, ls[j], 0};
    if (comm->allgather_bytes(comm->user, mine, nk * sizeof *mine, all, err))
        goto out;
    for (size_t i = 0; i < nq; i++) {
        lists[i] = (s4g_topk){.k = k, .s = hs + i * (size_t)k, .i = hi + i * (size_t)k};
        for (size_t p = 0; p < P; p++)
            for (int j = 0; j < k; j++) {
                const cand *c = &all[p * nk + i * (size_t)k + (size_t)j];
                if (c->i >= 0)
                    s4g_topk_push(&lists[i], c->s, c->i);
            }
        s4g_topk_finish(&lists[i], idx + i * (size_t)k, score ? score + i * (size_t)k : NULL);
    }
    rc = 0;
out:
    free(mine);
    free(all);
    free(li);
    free(ls);
    free(lists);
    free(hs);
    free(hi);
    return rc;
}

int s4g_gallery_count_above_shared(s4g_gallery *g, const s4g_comm *comm, size_t nq,
                                   const float *q, const float *thresh, uint32_t *counts,
                                   s4g_err *err)
{
    if (!comm || comm->size <= 1)
        return s4g_gallery_count_above(g, nq, q, thresh, counts, err);
    if (need_bytes(comm, "sharded count", err))
        return -1;
    if (nq == 0)
        return 0;
    if (!counts)
        return s4g_fail(err, S4G_E_INVALID, "sharded count: no output array");
    size_t P = (size_t)comm->size;
    uint32_t *all = malloc(nq * P * sizeof *all);
    if (!all)
        return s4g_fail(err, S4G_E_NOMEM, "sharded count: out of memory");
    if (g->n) {
        if (s4g_gallery_count_above(g, nq, q, thresh, counts, err)) {
            free(all);
            return -1;
        }
    } else {
        memset(counts, 0, nq * sizeof *counts);
    }
    if (comm->allgather_bytes(comm->user, counts, nq * sizeof *counts, all, err)) {
        free(all);
        return -1;
    }
    for (size_t i = 0; i < nq; i++) {
        uint64_t sum = 0;
        for (size_t p = 0; p < P; p++)
            sum += all[p * nq + i];
        counts[i] = sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
    }
    free(all);
    return 0;
}

int s4g_gallery_score_shared(s4g_gallery *g, const s4g_comm *comm, int64_t base, size_t total,
                             size_t nq, const float *q, const int64_t *ref, float *score,
                             s4g_err *err)
{
    if (!comm || comm->size <= 1)
        return s4g_gallery_score(g, nq, q, ref, score, err);
    if (nq && (!q || !ref || !score))
        return s4g_fail(err, S4G_E_INVALID, "sharded score: no queries, references or output");
    for (size_t i = 0; i < nq; i++) {
        if (ref[i] < 0 || (uint64_t)ref[i] >= total)
            return s4g_fail(err, S4G_E_INVALID,
                            "gallery score: query %zu refers to row %lld of a gallery of %zu", i,
                            (long long)ref[i], total);
        score[i] = 0.0f;
        /* the holder scores; the others add 0, which leaves the sum exact */
        int64_t r = ref[i] - base;
        if (r >= 0 && (uint64_t)r < g->n && s4g_gallery_score(g, 1, q + i * (size_t)g->dim, &r,
                                                               &score[i], err))
            return -1;
    }
    return nq ? comm->allreduce_sum(comm->user, score, nq, err) : 0;
}
