/* s4g-vk-search.c — Vulkan half of s4g-search: gallery chunks as device buffers and the
 * fused score + partial top-k / count / score kernel (shaders/search.comp).
 *
 * Per chunk and query block, invocation (query, slice of SLICE rows) writes its own best k
 * (or its strict count); the host merges slices and chunks into the per-query lists, so the
 * only device output is nq_block x slices x k pairs, never a score matrix. */
#include "../s4g-half.h"
#include "../s4g-search-impl.h"
#include "s4g-vk-netops.h"

#include <stdlib.h>
#include <string.h>

static const uint32_t spv_search[] =
#include "search.spv.h"
    ;

typedef struct {
    uint32_t og, oq, oaux, oout, nrows, dim, stride, nq, slice_len, nslices, k, fp16, mode;
} search_push;

static const s4g_vk_kernel k_search = {"search", spv_search, sizeof spv_search, 4,
                                       sizeof(search_push)};

enum {
    SLICE = 512,
    OUT_FLOATS = 1 << 22, /* 16 MiB of partial results per dispatch */
    /* at most 8192 slices of SLICE rows per chunk keep one query's partial top-256 lists
     * (2 words each) within OUT_FLOATS */
    CHUNK_ROWS = 1 << 22,
};

static size_t vk_chunk_limit(const s4g_gallery *g)
{
    size_t maxf = g->ctx->max_buffer_floats;
    size_t lim = maxf ? maxf / g->stride : S4G_SEARCH_DEFAULT_CHUNK_ROWS;
    return lim < CHUNK_ROWS ? lim : CHUNK_ROWS;
}

static int vk_chunk_alloc(s4g_gallery *g, s4g_gchunk *c, s4g_err *err)
{
    c->buf = s4g_buf_new(g->ctx, c->cap * g->stride, err);
    if (!c->buf) {
        s4g_err_prefix(err, "gallery: chunk of %zu rows", c->cap);
        return -1;
    }
    return 0;
}

static void vk_chunk_free(s4g_gchunk *c)
{
    s4g_buf_free(c->buf);
}

static int vk_upload(s4g_gallery *g, s4g_gchunk *c, size_t row0, size_t n,
                     const float *vecs, s4g_err *err)
{
    if (!g->fp16)
        return s4g_buf_upload(c->buf, row0 * g->stride, vecs, n * g->stride, err);
    /* two halves per 32-bit word, low half first (unpackHalf2x16's .x) */
    size_t dim = (size_t)g->dim, words = n * g->stride;
    uint32_t *packed = calloc(words, sizeof *packed);
    if (!packed)
        return s4g_fail(err, S4G_E_NOMEM, "gallery: out of memory packing %zu rows", n);
    for (size_t r = 0; r < n; r++)
        for (size_t d = 0; d < dim; d++)
            packed[r * g->stride + d / 2] |= (uint32_t)s4g_half_from_float(vecs[r * dim + d])
                                             << (16 * (d & 1));
    int rc = s4g_buf_upload(c->buf, row0 * g->stride, (const float *)packed, words, err);
    free(packed);
    return rc;
}

/* Query block size so that the partial results fit OUT_FLOATS. */
static size_t query_block(const s4g_gallery *g, size_t per_query, size_t nq)
{
    size_t qb = OUT_FLOATS / (per_query ? per_query : 1);
    if (g->query_block && g->query_block < qb)
        qb = g->query_block;
    if (qb < 1)
        qb = 1;
    return qb < nq ? qb : nq;
}

typedef struct vk_job {
    s4g_buf *qbuf, *aux, *out;
    size_t qb_max, out_len;
} vk_job;

static int job_open(s4g_gallery *g, size_t qb, size_t out_len, vk_job *j, s4g_err *err)
{
    memset(j, 0, sizeof *j);
    j->qb_max = qb;
    j->out_len = out_len;
    j->qbuf = s4g_buf_new(g->ctx, qb * (size_t)g->dim, err);
    j->aux = j->qbuf ? s4g_buf_new(g->ctx, qb, err) : NULL;
    j->out = j->aux ? s4g_buf_new(g->ctx, out_len, err) : NULL;
    if (!j->out) {
        s4g_err_prefix(err, "gallery search buffers");
        s4g_buf_free(j->qbuf);
        s4g_buf_free(j->aux);
        return -1;
    }
    return 0;
}

static void job_close(vk_job *j)
{
    s4g_buf_free(j->qbuf);
    s4g_buf_free(j->aux);
    s4g_buf_free(j->out);
}

static int dispatch(s4g_gallery *g, s4g_gchunk *c, vk_job *j, size_t qn, uint32_t nslices,
                    uint32_t k, uint32_t mode, s4g_err *err)
{
    search_push p = {0, 0, 0, 0, (uint32_t)c->used, (uint32_t)g->dim, (uint32_t)g->stride,
                     (uint32_t)qn, SLICE, nslices, k, (uint32_t)g->fp16, mode};
    /* private list size: a few fixed capacities, so few pipeline variants get built */
    uint32_t kmax = k <= 16 ? 16 : k <= 64 ? 64 : 256;
    s4g_buf *b[4] = {c->buf, j->qbuf, j->aux, j->out};
    uint32_t grid[3];
    s4g_vk_grid_1d((size_t)qn * nslices, 64, grid);
    return s4g_vk_dispatch(g->ctx, &k_search, b, &p, &kmax, 1, grid[0], grid[1], grid[2], err);
}

static uint32_t max_slices(const s4g_gallery *g)
{
    size_t m = 0;
    for (size_t c = 0; c < g->nchunks; c++)
        if ((g->chunks[c].used + SLICE - 1) / SLICE > m)
            m = (g->chunks[c].used + SLICE - 1) / SLICE;
    return (uint32_t)m;
}

static int vk_topk(s4g_gallery *g, size_t nq, const float *q, int k, s4g_topk *lists,
                   s4g_err *err)
{
    uint32_t ms = max_slices(g);
    size_t per = (size_t)ms * 2 * (size_t)k, qb = query_block(g, per, nq);
    vk_job j;
    if (job_open(g, qb, qb * per, &j, err))
        return -1;
    uint32_t *out = malloc(qb * per * sizeof *out);
    int rc = out ? 0 : s4g_fail(err, S4G_E_NOMEM, "gallery top-k: out of memory");
    for (size_t q0 = 0; rc == 0 && q0 < nq; q0 += qb) {
        size_t qn = nq - q0 < qb ? nq - q0 : qb;
        rc = s4g_buf_upload(j.qbuf, 0, q + q0 * g->dim, qn * (size_t)g->dim, err);
        for (size_t ci = 0; rc == 0 && ci < g->nchunks; ci++) {
            s4g_gchunk *c = &g->chunks[ci];
            uint32_t ns = (uint32_t)((c->used + SLICE - 1) / SLICE);
            rc = dispatch(g, c, &j, qn, ns, (uint32_t)k, 0, err);
            if (rc == 0)
                rc = s4g_buf_download(j.out, 0, (float *)out, qn * ns * 2 * (size_t)k, err);
            for (size_t i = 0; rc == 0 && i < qn; i++)
                for (size_t m = 0; m < (size_t)ns * (size_t)k; m++) {
                    uint32_t sb = out[(i * ns * (size_t)k + m) * 2];
                    uint32_t id = out[(i * ns * (size_t)k + m) * 2 + 1];
                    if (id == 0xffffffffu)
                        continue;
                    float s;
                    memcpy(&s, &sb, sizeof s);
                    s4g_topk_push(&lists[q0 + i], s, (int64_t)(c->base + id));
                }
        }
    }
    free(out);
    job_close(&j);
    return rc;
}

static int vk_count_above(s4g_gallery *g, size_t nq, const float *q, const float *thresh,
                          uint32_t *counts, s4g_err *err)
{
    uint32_t ms = max_slices(g);
    size_t qb = query_block(g, ms, nq);
    vk_job j;
    if (job_open(g, qb, qb * ms, &j, err))
        return -1;
    uint32_t *out = malloc(qb * ms * sizeof *out);
    int rc = out ? 0 : s4g_fail(err, S4G_E_NOMEM, "gallery count: out of memory");
    for (size_t q0 = 0; rc == 0 && q0 < nq; q0 += qb) {
        size_t qn = nq - q0 < qb ? nq - q0 : qb;
        rc = s4g_buf_upload(j.qbuf, 0, q + q0 * g->dim, qn * (size_t)g->dim, err);
        if (rc == 0)
            rc = s4g_buf_upload(j.aux, 0, thresh + q0, qn, err);
        for (size_t ci = 0; rc == 0 && ci < g->nchunks; ci++) {
            s4g_gchunk *c = &g->chunks[ci];
            uint32_t ns = (uint32_t)((c->used + SLICE - 1) / SLICE);
            rc = dispatch(g, c, &j, qn, ns, 1, 1, err);
            if (rc == 0)
                rc = s4g_buf_download(j.out, 0, (float *)out, qn * ns, err);
            for (size_t i = 0; rc == 0 && i < qn; i++)
                for (uint32_t s = 0; s < ns; s++)
                    counts[q0 + i] += out[i * ns + s];
        }
    }
    free(out);
    job_close(&j);
    return rc;
}

static int vk_score(s4g_gallery *g, size_t nq, const float *q, const int64_t *ref,
                    float *score, s4g_err *err)
{
    size_t qb = query_block(g, 1, nq);
    vk_job j;
    if (job_open(g, qb, qb, &j, err))
        return -1;
    uint32_t *loc = malloc(qb * sizeof *loc), *out = malloc(qb * sizeof *out);
    int rc = loc && out ? 0 : s4g_fail(err, S4G_E_NOMEM, "gallery score: out of memory");
    for (size_t q0 = 0; rc == 0 && q0 < nq; q0 += qb) {
        size_t qn = nq - q0 < qb ? nq - q0 : qb;
        rc = s4g_buf_upload(j.qbuf, 0, q + q0 * g->dim, qn * (size_t)g->dim, err);
        for (size_t ci = 0; rc == 0 && ci < g->nchunks; ci++) {
            s4g_gchunk *c = &g->chunks[ci];
            int any = 0;
            for (size_t i = 0; i < qn; i++) {
                int64_t r = ref[q0 + i] - (int64_t)c->base;
                loc[i] = r >= 0 && (size_t)r < c->used ? (uint32_t)r : 0xffffffffu;
                any |= loc[i] != 0xffffffffu;
            }
            if (!any)
                continue;
            rc = s4g_buf_upload(j.aux, 0, (const float *)loc, qn, err);
            if (rc == 0)
                rc = dispatch(g, c, &j, qn, 1, 1, 2, err);
            if (rc == 0)
                rc = s4g_buf_download(j.out, 0, (float *)out, qn, err);
            for (size_t i = 0; rc == 0 && i < qn; i++)
                if (loc[i] != 0xffffffffu)
                    memcpy(&score[q0 + i], &out[i], sizeof(float));
        }
    }
    free(loc);
    free(out);
    job_close(&j);
    return rc;
}

const s4g_search_ops s4g_vk_search_ops = {
    .chunk_limit = vk_chunk_limit,
    .chunk_alloc = vk_chunk_alloc,
    .chunk_free = vk_chunk_free,
    .upload = vk_upload,
    .topk = vk_topk,
    .count_above = vk_count_above,
    .score = vk_score,
};
