/* s4g-mine.h — hard-negative mining of a training split as training and `s4g mine` both do
 * it (sample4geo-reference.md §4.1): the GPS neighbour table over the split's satellites,
 * the DSS table from ground/satellite embeddings, and recording either as a mining run with
 * its hard_negatives rows (what the Studio's inspector shows).  One implementation, so the
 * table `s4g mine` stores is exactly the one a training run would use. */
#pragma once

#include "s4g-compute.h"
#include "s4g-gps.h"
#include "s4g-split.h"

G_BEGIN_DECLS

/* GPS neighbours among the satellites that are the positive of at least one query (every
 * satellite for CVUSA/CVACT, the reference's unique(df_ground.sat) for VIGOR), laid out as a
 * table over all the split's satellites (rows of other satellites are empty).  Coordinates:
 * CVUSA the ground's (lat, lon), CVACT the UTM x/y with S4G_GPS_EUCLIDEAN, others the
 * satellite's.  values = distances (s4g_gps_distance). */
S4gNeighbours *s4g_mine_gps(const S4gSplit *t, guint k, S4gGpsMetric metric, GError **error);

/* DSS table from the split's L2-normalised ground (q) and satellite (g) embeddings: K + 1
 * (K + 2 when a satellite has several grounds, VIGOR) most similar satellites per ground,
 * its positive removed, stored in the positive's row.  *row_ground (g_free) gets, per
 * satellite row, the ground whose row it is. */
S4gNeighbours *s4g_mine_dss(s4g_ctx *ctx, const S4gSplit *t, const float *q, const float *g,
                            int dim, guint k, guint32 **row_ground, GError **error);

/* Records nb as a mining run of kind "gps" (anchors: satellite image ids, scores metres) or
 * "dss" (anchors: the row's ground image id, row_ground non-NULL; scores similarities).
 * metric goes into the parameters JSON.  model/run 0 = none.  Returns the mining run id or
 * 0. */
gint64 s4g_mine_store(S4gStore *store, const S4gSplit *t, const S4gNeighbours *nb,
                      const char *kind, const char *metric, gint64 model, gint64 run,
                      gint64 dataset, gint64 epoch, const guint32 *row_ground, GError **error);

G_END_DECLS
