/* s4g-search-impl.h — private: the gallery record, the top-k merge and the search entries
 * of the backend table.  s4g-search.c keeps the storage and checks the arguments; each
 * backend implements the entries (cpu/s4g-cpu-search.c, vk/s4g-vk-search.c). */
#ifndef S4G_SEARCH_IMPL_H
#define S4G_SEARCH_IMPL_H

#include "s4g-backend.h"
#include "s4g-search.h"

typedef struct s4g_gchunk {
    size_t base; /* global index of its first row */
    size_t cap;  /* rows it can hold */
    size_t used; /* rows filled */
    void *host;  /* CPU backend: float rows, or uint16 halves when fp16 */
    s4g_buf *buf; /* Vulkan backend: rows packed as 32-bit words, `stride` words per row */
} s4g_gchunk;

struct s4g_gallery {
    s4g_ctx *ctx;
    int dim;
    int fp16;
    size_t stride; /* Vulkan: 32-bit words per row (dim, or ceil(dim/2) when fp16) */
    size_t n;
    size_t chunk_rows;
    size_t query_block; /* max queries per scoring pass; 0 = default (S4G_SEARCH_QUERY_BLOCK) */
    s4g_gchunk *chunks;
    size_t nchunks, chunks_cap;
};

/* Best-k list of one query: a min-heap on (score, then higher index = worse). */
typedef struct s4g_topk {
    int k, n;
    float *s;
    int64_t *i;
} s4g_topk;

static inline int s4g_topk_worse(float sa, int64_t ia, float sb, int64_t ib)
{
    return sa < sb || (sa == sb && ia > ib);
}

void s4g_topk_push(s4g_topk *t, float s, int64_t i);
/* Writes the list best first into idx/score[k], padding with -1 / -INFINITY. */
void s4g_topk_finish(s4g_topk *t, int64_t *idx, float *score);

/* Gallery rows scored per block by the CPU scan (a multiple of the Vulkan kernel's slice):
 * shard boundaries fall on multiples of it (s4g_gallery_shard). */
#define S4G_SEARCH_BLOCK_ROWS 2048

/* Rows per chunk when the backend has no tighter bound (S4G_SEARCH_CHUNK_ROWS overrides). */
#define S4G_SEARCH_DEFAULT_CHUNK_ROWS ((size_t)1 << 20)

/* A backend's half of the search: the `search` entry of its s4g_backend_ops.  Arguments
 * are checked by s4g-search.c before any entry runs (queries present, gallery not empty,
 * k in range, ref[] inside the gallery, counts[] zeroed). */
typedef struct s4g_search_ops {
    /* Most rows one chunk of g may hold; 0 when not even one row fits. */
    size_t (*chunk_limit)(const s4g_gallery *g);
    /* Storage for c->cap rows (c->host or c->buf). */
    int (*chunk_alloc)(s4g_gallery *g, s4g_gchunk *c, s4g_err *err);
    void (*chunk_free)(s4g_gchunk *c);
    /* Stores n rows of g->dim floats as rows row0.. of c (converted to halves when fp16). */
    int (*upload)(s4g_gallery *g, s4g_gchunk *c, size_t row0, size_t n, const float *vecs,
                  s4g_err *err);
    /* Pushes every row's score into lists[0..nq) (s4g_topk_push). */
    int (*topk)(s4g_gallery *g, size_t nq, const float *q, int k, s4g_topk *lists,
                s4g_err *err);
    /* Adds to counts[i] the rows scoring strictly above thresh[i]. */
    int (*count_above)(s4g_gallery *g, size_t nq, const float *q, const float *thresh,
                       uint32_t *counts, s4g_err *err);
    /* score[i] = q_i . row ref[i], with the arithmetic count_above uses near its threshold. */
    int (*score)(s4g_gallery *g, size_t nq, const float *q, const int64_t *ref, float *score,
                 s4g_err *err);
} s4g_search_ops;

#endif
