/* s4g-search.h — exact inner-product similarity search over a gallery of embeddings.
 *
 * Used by evaluation (Recall@K needs, per query, the score of its positive and the number
 * of gallery items scoring STRICTLY higher) and by the Studio's retrieval view (top-k).
 * Works on both backends of s4g-compute.h; scores are computed block by block and consumed
 * at once, so a Q x N score matrix is never held in memory.
 *
 * The gallery is stored in chunks (each at most one device binding, maxStorageBufferRange),
 * so galleries of millions of rows stream through several chunks.  With fp16_storage the
 * rows are stored as IEEE half floats (round to nearest even) and products are still
 * accumulated in fp32; queries are always fp32.
 *
 * Ties in top-k: the lower gallery index comes first.  k must be 1..S4G_SEARCH_MAX_K;
 * when k exceeds the gallery size, the missing tail is filled with idx -1 and score -INFINITY
 * (documented truncation, not an error).
 */
#ifndef S4G_SEARCH_H
#define S4G_SEARCH_H

#include "s4g-comm.h"
#include "s4g-compute.h"

#ifdef __cplusplus
extern "C" {
#endif

#define S4G_SEARCH_MAX_K 256

typedef struct s4g_gallery s4g_gallery;

s4g_gallery *s4g_gallery_new(s4g_ctx *ctx, int dim, int fp16_storage, s4g_err *err);
/* Appends n rows of dim floats (row-major). */
int s4g_gallery_add(s4g_gallery *g, size_t n, const float *vecs, s4g_err *err);
size_t s4g_gallery_size(const s4g_gallery *g);
/* Top-k by inner product, best first: idx[nq*k], score[nq*k] (score may be NULL). */
int s4g_gallery_topk(s4g_gallery *g, size_t nq, const float *q, int k, int64_t *idx,
                     float *score, s4g_err *err);
/* counts[i] = number of gallery items whose score with q_i is STRICTLY greater than thresh[i].
 * With thresh from s4g_gallery_score, a row equal to the positive scores bit-identically and
 * is never counted (both backends decide near-ties with the same arithmetic as score). */
int s4g_gallery_count_above(s4g_gallery *g, size_t nq, const float *q, const float *thresh,
                            uint32_t *counts, s4g_err *err);
/* score[i] = score of q_i with gallery row ref[i] (the positive's score for rank counting) */
int s4g_gallery_score(s4g_gallery *g, size_t nq, const float *q, const int64_t *ref,
                      float *score, s4g_err *err);
void s4g_gallery_free(s4g_gallery *g);

/* Rows per storage chunk for rows added after the call (0 restores the default: as many
 * rows as one device binding holds).  Tests use it to force many chunks; the
 * S4G_SEARCH_CHUNK_ROWS environment variable sets the default of new galleries. */
void s4g_gallery_set_chunk_rows(s4g_gallery *g, size_t rows);

/* ------------------------------------------------------------ sharded search
 * Data parallel (s4g-comm.h): every process of the group holds one contiguous shard of one
 * logical gallery, rows [base, base + n) of it, in a gallery of its own.  The calls below
 * take the same queries on every process and return on every process exactly what one
 * process holding the whole gallery returns:
 *  - the shard boundaries come from s4g_gallery_shard, which aligns them to the scan's
 *    blocks of rows (and to the caller's encode batch), so every shard is scanned in the
 *    same blocks with the same calls as the one-process gallery and each row gets a
 *    bit-identical score;
 *  - top-k: each process keeps its shard's best k (global indices), the lists are
 *    all-gathered and merged under the one-process rule (higher score first, the lower
 *    global index first among equal scores), so a tie across a shard boundary resolves as
 *    in one process;
 *  - strict counts are summed over the shards; the score of a global row comes from the
 *    process holding it (the others add an exact 0).
 * With comm NULL or of size 1 they are the plain calls (base ignored). */

/* The shard of process `rank` of `size` of a gallery of n rows: [*lo, *lo + *cnt).  Whole
 * units of rows, where a unit is a multiple of the scan's block of g (g may still be empty)
 * and of `align` (the encode batch, so an image shares its encode batch with the same images
 * as in one process; 1 for none); the first processes take one unit more. */
void s4g_gallery_shard(const s4g_gallery *g, size_t n, size_t align, int rank, int size,
                       size_t *lo, size_t *cnt);
/* Needs comm->allgather_bytes.  idx are global row indices. */
int s4g_gallery_topk_shared(s4g_gallery *g, const s4g_comm *comm, int64_t base, size_t nq,
                            const float *q, int k, int64_t *idx, float *score, s4g_err *err);
/* Needs comm->allgather_bytes.  counts summed over every shard. */
int s4g_gallery_count_above_shared(s4g_gallery *g, const s4g_comm *comm, size_t nq,
                                   const float *q, const float *thresh, uint32_t *counts,
                                   s4g_err *err);
/* ref: global row indices in [0, total); total = rows of the logical gallery. */
int s4g_gallery_score_shared(s4g_gallery *g, const s4g_comm *comm, int64_t base, size_t total,
                             size_t nq, const float *q, const int64_t *ref, float *score,
                             s4g_err *err);

#ifdef __cplusplus
}
#endif
#endif
