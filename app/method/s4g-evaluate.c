/* s4g-evaluate.c — streaming retrieval evaluation. */
#include "s4g-evaluate.h"
#include "s4g-search.h"

#include <math.h>
#include <string.h>

/* University-1652 (§7.3): AP and CMC per query over the whole gallery with the reference's
 * distractor rule: gallery classes absent from the queries are junk (label −1). */
static void evaluate_university(const S4gSplit *split, const float *query_emb, const float *ref_emb,
                                int dim, S4gRetrievalMetrics *out)
{
    g_autoptr(GHashTable) qclasses = g_hash_table_new(g_int64_hash, g_int64_equal);
    for (guint i = 0; i < split->n_queries; i++)
        g_hash_table_add(qclasses, &split->query_label[i]);
    g_autofree gint32 *labels = g_new(gint32, split->n_refs);
    for (guint j = 0; j < split->n_refs; j++)
        labels[j] = g_hash_table_contains(qclasses, &split->ref_label[j])
                        ? (gint32)split->ref_label[j]
                        : -1;
    g_autofree double *row = g_new(double, split->n_refs);
    S4gApAcc acc;
    s4g_ap_init(&acc, split->n_refs);
    for (guint i = 0; i < split->n_queries; i++) {
        const float *q = query_emb + (gsize)i * dim;
        for (guint j = 0; j < split->n_refs; j++) {
            const float *g = ref_emb + (gsize)j * dim;
            double s = 0; /* in double: see s4g_ap_add */
            for (int d = 0; d < dim; d++)
                s += (double)q[d] * g[d];
            row[j] = s;
        }
        s4g_ap_add(&acc, row, labels, (gint32)split->query_label[i]);
    }
    s4g_ap_finish(&acc, out);
}

gboolean s4g_evaluate_embeddings(s4g_ctx *ctx, const S4gSplit *split, const float *query_emb,
                                 const float *ref_emb, int dim, S4gRetrievalMetrics *out,
                                 GError **error)
{
    if (!g_strcmp0(split->kind, "university")) {
        evaluate_university(split, query_emb, ref_emb, dim, out);
        return TRUE;
    }
    s4g_err err = {0};
    s4g_gallery *g = s4g_gallery_new(ctx, dim, 0, &err);
    guint nq = split->n_queries;
    g_autofree gint64 *ref = g_new(gint64, MAX(nq, 1));
    g_autofree float *pos = g_new(float, MAX(nq, 1));
    g_autofree guint32 *counts = g_new(guint32, MAX(nq, 1));
    for (guint i = 0; i < nq; i++)
        ref[i] = split->query_pos[i];
    if (!g || s4g_gallery_add(g, split->n_refs, ref_emb, &err) ||
        s4g_gallery_score(g, nq, query_emb, ref, pos, &err) ||
        s4g_gallery_count_above(g, nq, query_emb, pos, counts, &err)) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_COMPUTE, "evaluating split %s: %s",
                    split->split, err.msg);
        s4g_gallery_free(g);
        return FALSE;
    }
    gboolean vigor = split->semi_start[nq] > 0;
    S4gRecallAcc acc;
    s4g_recall_init(&acc, split->n_refs);
    g_autofree float *semi = g_new(float, 16);
    for (guint i = 0; i < nq; i++) {
        if (!vigor) {
            s4g_recall_add(&acc, counts[i]);
            continue;
        }
        guint ns = MIN(split->semi_start[i + 1] - split->semi_start[i], 16u);
        for (guint j = 0; j < ns; j++) {
            guint32 r = split->semi[split->semi_start[i] + j];
            const float *a = query_emb + (gsize)i * dim;
            /* the same dot product as the search, through it for identical rounding */
            gint64 rr = r;
            if (s4g_gallery_score(g, 1, a, &rr, &semi[j], &err)) {
                g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_COMPUTE, "evaluating split %s: %s",
                            split->split, err.msg);
                s4g_gallery_free(g);
                return FALSE;
            }
        }
        s4g_recall_add_vigor(&acc, counts[i], pos[i], semi, ns);
    }
    s4g_gallery_free(g);
    s4g_recall_finish(&acc, out);
    return TRUE;
}

gboolean s4g_evaluate_split(s4g_convnext *m, const S4gModelSpec *spec, const S4gSplit *split,
                            int batch, S4gEncodeProgress progress, gpointer user_data,
                            S4gRetrievalMetrics *out, float **query_emb, float **ref_emb,
                            GError **error)
{
    int dim = m->cfg.dims[3];
    /* S2D: satellite queries at the satellite input size, drone gallery at the ground one */
    gboolean sq = split->sat_queries;
    g_autofree float *q =
        s4g_encode_images(m, split->query_paths, split->n_queries,
                          sq ? spec->satellite : spec->ground, batch, progress, user_data, error);
    if (!q) return FALSE;
    g_autofree float *r =
        s4g_encode_images(m, split->ref_paths, split->n_refs, sq ? spec->ground : spec->satellite,
                          batch, progress, user_data, error);
    if (!r || !s4g_evaluate_embeddings(m->ctx, split, q, r, dim, out, error)) return FALSE;
    if (query_emb) *query_emb = g_steal_pointer(&q);
    if (ref_emb) *ref_emb = g_steal_pointer(&r);
    return TRUE;
}
