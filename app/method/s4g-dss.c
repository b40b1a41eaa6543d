/* s4g-dss.c — DSS mining on the engine's gallery search. */
#include "s4g-dss.h"
#include "s4g-geo.h"
#include "s4g-search.h"

#define QUERY_BLOCK 512

S4gNeighbours *s4g_dss_neighbours(s4g_ctx *ctx, const float *ground, guint n_ground,
                                  const float *sats, guint n_sats, int dim,
                                  const guint32 *ground_sat, guint k, guint extra, GError **error)
{
    guint want = k + extra;
    if (k == 0 || want > S4G_SEARCH_MAX_K || dim <= 0) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "dss: need 1 ≤ k + extra ≤ %d and dim ≥ 1 (k %u, extra %u, dim %d)",
                    S4G_SEARCH_MAX_K, k, extra, dim);
        return NULL;
    }
    for (guint i = 0; i < n_ground; i++) {
        if (ground_sat[i] >= n_sats) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                        "dss: ground %u has positive satellite %u of %u", i, ground_sat[i], n_sats);
            return NULL;
        }
    }
    s4g_err err = {0};
    s4g_gallery *g = s4g_gallery_new(ctx, dim, 0, &err);
    if (!g || s4g_gallery_add(g, n_sats, sats, &err) != 0) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_COMPUTE, "dss: satellite gallery: %s",
                    err.msg);
        s4g_gallery_free(g);
        return NULL;
    }
    S4gNeighbours *nb = s4g_neighbours_new(n_sats, k);
    g_autofree gint64 *idx = g_new(gint64, (gsize)QUERY_BLOCK * want);
    g_autofree float *score = g_new(float, (gsize)QUERY_BLOCK *want);
    for (guint q0 = 0; q0 < n_ground; q0 += QUERY_BLOCK) {
        guint nq = MIN(QUERY_BLOCK, n_ground - q0);
        if (s4g_gallery_topk(g, nq, ground + (gsize)q0 * dim, (int)want, idx, score, &err) != 0) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_COMPUTE, "dss: top-%u search: %s", want,
                        err.msg);
            s4g_gallery_free(g);
            s4g_neighbours_free(nb);
            return NULL;
        }
        for (guint q = 0; q < nq; q++) {
            guint32 pos = ground_sat[q0 + q];
            gint32 *row = nb->ids + (gsize)pos * k;
            float *val = nb->values + (gsize)pos * k;
            guint m = 0;
            for (guint j = 0; j < want && m < k; j++) {
                gint64 s = idx[(gsize)q * want + j];
                if (s < 0 || s == (gint64)pos) continue;
                row[m] = (gint32)s;
                val[m] = score[(gsize)q * want + j];
                m++;
            }
            for (guint j = m; j < k; j++)
                row[j] = -1;
            nb->count[pos] = m;
        }
    }
    s4g_gallery_free(g);
    return nb;
}
