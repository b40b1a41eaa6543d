/* s4g-evaluate.h — evaluating retrieval on a split (sample4geo-reference.md §7): both sides
 * encoded with the model (s4g-model.h), then per query the positive's score and the strict
 * rank count through the engine's gallery search (never a Q×R matrix), recall
 * R@1/5/10/1% and, when the split has semi-positives (VIGOR), the hit rate. */
#pragma once

#include "s4g-metrics.h"
#include "s4g-model.h"
#include "s4g-split.h"
#include "s4g-comm.h"

G_BEGIN_DECLS

/* Recall (and hit rate) of a split from embeddings already computed. */
gboolean s4g_evaluate_embeddings(s4g_ctx *ctx, const S4gSplit *split, const float *query_emb,
                                 const float *ref_emb, int dim, S4gRetrievalMetrics *out,
                                 GError **error);

/* Encodes both sides of the split and evaluates; the embeddings are returned when the
 * pointers are non-NULL (g_free). */
gboolean s4g_evaluate_split(s4g_convnext *m, const S4gModelSpec *spec, const S4gSplit *split,
                            int batch, S4gEncodeProgress progress, gpointer user_data,
                            S4gRetrievalMetrics *out, float **query_emb, float **ref_emb,
                            GError **error);

/* Data parallel (comm of size > 1, every process calling with the same arguments): the
 * results of one process on every process.
 *
 * s4g_encode_images_shared: each process encodes a contiguous run of whole encode batches
 * and the slices are all-gathered, so every process holds the one-process embeddings bit for
 * bit (each image shares its encode batch with the same images).  Progress is reported only
 * without a group.
 *
 * s4g_evaluate_split_shared: the queries are encoded that way; the references are sharded
 * (s4g_gallery_shard, aligned to the encode batch): each process encodes and holds only its
 * shard, ranks the queries against it, and the strict rank counts are summed over the
 * shards (s4g_gallery_count_above_shared), the positives' and semi-positives' scores come from
 * their holders — the same metrics as one process.  University-1652 (AP over the whole
 * ranked gallery per query) gathers the shards' embeddings and ranks on every process. */
float *s4g_encode_images_shared(s4g_convnext *m, char *const *paths, guint n, S4gSize size,
                                int batch, const s4g_comm *comm, S4gEncodeProgress progress,
                                gpointer user_data, GError **error);
gboolean s4g_evaluate_split_shared(s4g_convnext *m, const S4gModelSpec *spec,
                                   const S4gSplit *split, int batch, const s4g_comm *comm,
                                   S4gEncodeProgress progress, gpointer user_data,
                                   S4gRetrievalMetrics *out, GError **error);

G_END_DECLS
