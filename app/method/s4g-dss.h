/* s4g-dss.h — dynamic similarity sampling (sample4geo-reference.md §4.1, "DSS neighbours"):
 * after each evaluation the model embeds the training split, and each training ground's most
 * similar satellites (excluding its own) become the hard negatives of the next epochs'
 * batches, replacing the GPS table.
 *
 * Cross-view: the neighbours of identity k are the satellites most similar to k's GROUND
 * image.  The search is the engine's streaming top-k (s4g-search.h), so the Q×R similarity
 * matrix the reference materialises is never held. */
#pragma once

#include "s4g-neighbours.h"
#include "s4g-compute.h"

G_BEGIN_DECLS

/* ground[n_ground*dim] and sats[n_sats*dim] are L2-normalised embeddings; ground_sat[i] is
 * the positive satellite of ground i.  For each ground, the k + extra best satellites are
 * found (extra 1 for CVUSA/CVACT, 2 for VIGOR), its positive removed, the first k kept; the
 * row is stored under its positive satellite (the table has n_sats rows; with several
 * grounds per satellite, as in VIGOR, the last ground in order wins; satellites without a
 * ground get an empty row).  values = similarities.  k + extra ≤ 256. */
S4gNeighbours *s4g_dss_neighbours(s4g_ctx *ctx, const float *ground, guint n_ground,
                                  const float *sats, guint n_sats, int dim,
                                  const guint32 *ground_sat, guint k, guint extra, GError **error);

G_END_DECLS
