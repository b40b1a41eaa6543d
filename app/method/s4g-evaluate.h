/* s4g-evaluate.h — evaluating retrieval on a split (sample4geo-reference.md §7): both sides
 * encoded with the model (s4g-model.h), then per query the positive's score and the strict
 * rank count through the engine's gallery search (never a Q×R matrix), recall
 * R@1/5/10/1% and, when the split has semi-positives (VIGOR), the hit rate. */
#pragma once

#include "s4g-metrics.h"
#include "s4g-model.h"
#include "s4g-split.h"

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

G_END_DECLS
