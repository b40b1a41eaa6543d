/* s4g-mine.c — GPS/DSS neighbour tables of a split and their mining-run records. */
#include "s4g-mine.h"
#include "s4g-json-out.h"
#include "s4g-dss.h"
#include "s4g-store-runs.h"

#include <math.h>
#include <string.h>

S4gNeighbours *s4g_mine_gps(const S4gSplit *t, guint k, S4gGpsMetric metric, GError **error)
{
    gboolean euclid = metric == S4G_GPS_EUCLIDEAN;
    g_autofree guint8 *is_pos = g_new0(guint8, MAX(t->n_refs, 1));
    g_autofree double *qlat = g_new(double, MAX(t->n_refs, 1));
    g_autofree double *qlon = g_new(double, MAX(t->n_refs, 1));
    for (guint q = 0; q < t->n_queries; q++) {
        is_pos[t->query_pos[q]] = 1;
        qlat[t->query_pos[q]] = t->query_lat[q];
        qlon[t->query_pos[q]] = t->query_lon[q];
    }
    /* CVUSA's dictionary uses the ground coordinates of all.csv; the others the satellite's */
    gboolean ground = !g_strcmp0(t->kind, "cvusa") && !euclid;
    g_autofree guint32 *sub = g_new(guint32, MAX(t->n_refs, 1)); /* subset → ref index */
    g_autofree double *coords = g_new(double, 2 * (gsize)MAX(t->n_refs, 1));
    guint n = 0;
    for (guint i = 0; i < t->n_refs; i++) {
        if (!is_pos[i]) continue;
        coords[2 * n] = euclid ? t->ref_x[i] : ground ? qlat[i] : t->ref_lat[i];
        coords[2 * n + 1] = euclid ? t->ref_y[i] : ground ? qlon[i] : t->ref_lon[i];
        if (!isfinite(coords[2 * n]) || !isfinite(coords[2 * n + 1])) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                        "GPS sampling: satellite %s has no %s (use --no-gps)", t->ref_paths[i],
                        euclid ? "projected x/y" : "latitude/longitude");
            return NULL;
        }
        sub[n++] = i;
    }
    g_autoptr(S4gNeighbours) nb = s4g_gps_neighbours(coords, n, k, metric, 0, error);
    if (!nb) return NULL;
    S4gNeighbours *table = s4g_neighbours_new(t->n_refs, k);
    for (guint a = 0; a < n; a++) {
        guint row = sub[a];
        table->count[row] = nb->count[a];
        for (guint j = 0; j < nb->count[a]; j++) {
            table->ids[(gsize)row * k + j] = (gint32)sub[nb->ids[(gsize)a * k + j]];
            table->values[(gsize)row * k + j] = nb->values[(gsize)a * k + j];
        }
    }
    return table;
}

S4gNeighbours *s4g_mine_dss(s4g_ctx *ctx, const S4gSplit *t, const float *q, const float *g,
                            int dim, guint k, guint32 **row_ground, GError **error)
{
    /* VIGOR-like splits (a satellite with several grounds) use K+2, like the reference */
    g_autofree guint *per_sat = g_new0(guint, MAX(t->n_refs, 1));
    gboolean multi = FALSE;
    for (guint i = 0; i < t->n_queries; i++)
        multi |= ++per_sat[t->query_pos[i]] > 1;
    S4gNeighbours *nb = s4g_dss_neighbours(ctx, q, t->n_queries, g, t->n_refs, dim, t->query_pos,
                                           k, multi ? 2 : 1, error);
    if (!nb) return NULL;
    guint32 *rg = g_new0(guint32, MAX(t->n_refs, 1));
    for (guint i = 0; i < t->n_queries; i++)
        rg[t->query_pos[i]] = i; /* the last ground of a satellite owns its row */
    *row_ground = rg;
    return nb;
}

gint64 s4g_mine_store(S4gStore *store, const S4gSplit *t, const S4gNeighbours *nb,
                      const char *kind, const char *metric, gint64 model, gint64 run,
                      gint64 dataset, gint64 epoch, const guint32 *row_ground, GError **error)
{
    g_autofree gint64 *anchors = g_new(gint64, MAX(nb->n, 1));
    g_autofree gint64 *negs = g_new(gint64, MAX((gsize)nb->n * nb->k, 1));
    g_autofree float *scores = g_new(float, MAX((gsize)nb->n * nb->k, 1));
    g_autofree guint *counts = g_new(guint, MAX(nb->n, 1));
    gsize n = 0;
    for (guint i = 0; i < nb->n; i++) {
        if (nb->count[i] == 0) continue;
        anchors[n] = row_ground ? t->query_ids[row_ground[i]] : t->ref_ids[i];
        counts[n] = nb->count[i];
        for (guint j = 0; j < nb->count[i]; j++)
            negs[n * nb->k + j] = t->ref_ids[nb->ids[(gsize)i * nb->k + j]];
        memcpy(scores + n * nb->k, nb->values + (gsize)i * nb->k, nb->k * sizeof(float));
        n++;
    }
    g_autoptr(JsonBuilder) pb = json_builder_new();
    json_builder_begin_object(pb);
    s4g_json_add_int(pb, "k", nb->k);
    s4g_json_add_string(pb, "metric", metric);
    json_builder_end_object(pb);
    g_autofree char *params = s4g_json_to_string(pb);
    return s4g_store_mining_add(store, kind, model, run, dataset, epoch, params, n, anchors,
                                nb->k, counts, negs, scores, error);
}
