/* s4g-search-impl.h — private: the gallery record and the top-k merge shared by the CPU
 * path (s4g-search.c) and the Vulkan path (vk/s4g-vk-search.c). */
#ifndef S4G_SEARCH_IMPL_H
#define S4G_SEARCH_IMPL_H

#include "s4g-backend.h"
#include "s4g-search.h"

typedef struct s4g_gchunk {
    size_t base; /* global index of its first row */
    size_t cap;  /* rows it can hold */
    size_t used; /* rows filled */
    void *host;  /* CPU: float rows, or uint16 halves when fp16 */
    s4g_buf *buf; /* Vulkan: rows packed as 32-bit words, `stride` words per row */
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

uint16_t s4g_half_from_float(float f);
float s4g_half_to_float(uint16_t h);

/* Vulkan halves (vk/s4g-vk-search.c): chunk storage and the fused search kernels. */
int s4g_vk_gallery_upload(s4g_gallery *g, s4g_gchunk *c, size_t row0, size_t n,
                          const float *vecs, s4g_err *err);
int s4g_vk_gallery_topk(s4g_gallery *g, size_t nq, const float *q, int k, s4g_topk *lists,
                        s4g_err *err);
int s4g_vk_gallery_count_above(s4g_gallery *g, size_t nq, const float *q, const float *thresh,
                               uint32_t *counts, s4g_err *err);
int s4g_vk_gallery_score(s4g_gallery *g, size_t nq, const float *q, const int64_t *ref,
                         float *score, s4g_err *err);

#endif
