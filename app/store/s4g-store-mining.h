/* s4g-store-mining.h — typed access to the mining_runs and hard_negatives tables: a mining run with
 * its hard negatives. */
#pragma once

#include "s4g-store-datasets.h"

G_BEGIN_DECLS

/* A mining run and all its hard negatives in one transaction.  kind "gps" or "dss";
 * anchors[a] (image ids) has counts[a] negatives negatives[a*k + r] (image ids) with
 * scores[a*k + r] (similarity for dss, metres for gps).  model/run 0 = none.  Returns the
 * mining run id or 0. */
gint64 s4g_store_mining_add(S4gStore *store, const char *kind, gint64 model, gint64 run,
                            gint64 dataset, gint64 epoch, const char *parameters, gsize n_anchors,
                            const gint64 *anchors, guint k, const guint *counts,
                            const gint64 *negatives, const float *scores, GError **error);
/* Number of hard negatives of a mining run (-1 on error). */
gint64 s4g_store_mining_count(S4gStore *store, gint64 mining_run, GError **error);

typedef struct {
    gint64 anchor, negative; /* image ids */
} S4gHardNegative;
/* The hard negatives of the newest mining run of a training run, by anchor then rank (GArray
 * of S4gHardNegative; empty when the run has none). */
GArray *s4g_store_mining_latest_of_run(S4gStore *store, gint64 run, GError **error);

typedef struct {
    gint64 id;
    char *kind;
    char *model;  /* its name, "" when none */
    gint64 epoch; /* 0 when none */
    char *created;
} S4gMiningRunRow;
void s4g_mining_run_row_free(S4gMiningRunRow *r);
/* All mining runs, oldest first (GPtrArray of S4gMiningRunRow). */
GPtrArray *s4g_store_mining_list(S4gStore *store, GError **error);
/* The kind ("gps" or "dss") of a mining run; NOT_FOUND when there is none. */
char *s4g_store_mining_kind(S4gStore *store, gint64 mining_run, GError **error);
/* The anchors (image ids) of a mining run, ascending (GArray of gint64). */
GArray *s4g_store_mining_anchors(S4gStore *store, gint64 mining_run, GError **error);
/* An anchor's hard negatives by rank (GArray of S4gStoreHit with clear func). */
GArray *s4g_store_mining_negatives(S4gStore *store, gint64 mining_run, gint64 anchor,
                                   GError **error);

G_END_DECLS
