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

static gboolean search_fail(const S4gSplit *split, s4g_err *err, GError **error)
{
    g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_COMPUTE, "evaluating split %s: %s",
                split->split, err->msg);
    return FALSE;
}

/* Recall of the split's queries against gallery g, which holds reference rows [base, base +
 * size(g)) of this process's shard (the whole gallery without a group). */
static gboolean rank_queries(s4g_gallery *g, const s4g_comm *c, gint64 base,
                             const S4gSplit *split, const float *query_emb, int dim,
                             S4gRetrievalMetrics *out, GError **error)
{
    s4g_err err = {0};
    guint nq = split->n_queries;
    g_autofree gint64 *ref = g_new(gint64, MAX(nq, 1));
    g_autofree float *pos = g_new(float, MAX(nq, 1));
    g_autofree guint32 *counts = g_new(guint32, MAX(nq, 1));
    for (guint i = 0; i < nq; i++)
        ref[i] = split->query_pos[i];
    if (s4g_gallery_score_shared(g, c, base, split->n_refs, nq, query_emb, ref, pos, &err) ||
        s4g_gallery_count_above_shared(g, c, nq, query_emb, pos, counts, &err))
        return search_fail(split, &err, error);
    gboolean vigor = split->semi_start[nq] > 0;
    S4gRecallAcc acc;
    s4g_recall_init(&acc, split->n_refs);
    float semi[16];
    gint64 rr[16];
    g_autofree float *qrep = g_new(float, 16 * (gsize)dim);
    for (guint i = 0; i < nq; i++) {
        if (!vigor) {
            s4g_recall_add(&acc, counts[i]);
            continue;
        }
        guint ns = MIN(split->semi_start[i + 1] - split->semi_start[i], 16u);
        for (guint j = 0; j < ns; j++) {
            rr[j] = split->semi[split->semi_start[i] + j];
            memcpy(qrep + (gsize)j * dim, query_emb + (gsize)i * dim, sizeof(float) * dim);
        }
        /* the same dot product as the search, through it for identical rounding */
        if (s4g_gallery_score_shared(g, c, base, split->n_refs, ns, qrep, rr, semi, &err))
            return search_fail(split, &err, error);
        s4g_recall_add_vigor(&acc, counts[i], pos[i], semi, ns);
    }
    s4g_recall_finish(&acc, out);
    return TRUE;
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
    if (!g || s4g_gallery_add(g, split->n_refs, ref_emb, &err)) {
        s4g_gallery_free(g);
        return search_fail(split, &err, error);
    }
    gboolean ok = rank_queries(g, NULL, 0, split, query_emb, dim, out, error);
    s4g_gallery_free(g);
    return ok;
}

float *s4g_encode_images_shared(s4g_convnext *m, char *const *paths, guint n, S4gSize size,
                                int batch, const s4g_comm *c, S4gEncodeProgress progress,
                                gpointer user_data, GError **error)
{
    if (!c || c->size <= 1)
        return s4g_encode_images(m, paths, n, size, batch, progress, user_data, error);
    guint eb = (guint)MAX(batch, 1), nb = (n + eb - 1) / eb, dim = (guint)m->cfg.dims[3];
    g_autofree gsize *counts = g_new(gsize, c->size);
    guint mine_lo = 0, mine_n = 0;
    for (int i = 0; i < c->size; i++) {
        int blo, bn;
        s4g_comm_share((int)nb, i, c->size, &blo, &bn);
        guint lo = MIN((guint)blo * eb, n), hi = MIN((guint)(blo + bn) * eb, n);
        counts[i] = (gsize)(hi - lo) * dim;
        if (i == c->rank) mine_lo = lo, mine_n = hi - lo;
    }
    g_autofree float *mine =
        mine_n ? s4g_encode_images(m, paths + mine_lo, mine_n, size, (int)eb, NULL, NULL, error)
               : NULL;
    if (mine_n && !mine) return NULL;
    float *all = g_new(float, MAX((gsize)n * dim, 1));
    s4g_err err = {0};
    if (c->allgatherv(c->user, mine, all, counts, &err)) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_COMPUTE, "gathering embeddings: %s",
                    err.msg);
        g_free(all);
        return NULL;
    }
    return all;
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

gboolean s4g_evaluate_split_shared(s4g_convnext *m, const S4gModelSpec *spec,
                                   const S4gSplit *split, int batch, const s4g_comm *c,
                                   S4gEncodeProgress progress, gpointer user_data,
                                   S4gRetrievalMetrics *out, GError **error)
{
    if (!c || c->size <= 1)
        return s4g_evaluate_split(m, spec, split, batch, progress, user_data, out, NULL, NULL,
                                  error);
    int dim = m->cfg.dims[3];
    gboolean sq = split->sat_queries;
    S4gSize rsize = sq ? spec->ground : spec->satellite;
    g_autofree float *q =
        s4g_encode_images_shared(m, split->query_paths, split->n_queries,
                                 sq ? spec->satellite : spec->ground, batch, c, NULL, NULL, error);
    if (!q) return FALSE;
    s4g_err err = {0};
    s4g_gallery *g = s4g_gallery_new(m->ctx, dim, 0, &err);
    if (!g) return search_fail(split, &err, error);
    gsize lo, n;
    s4g_gallery_shard(g, split->n_refs, (gsize)MAX(batch, 1), c->rank, c->size, &lo, &n);
    g_autofree float *r =
        n ? s4g_encode_images(m, split->ref_paths + lo, (guint)n, rsize, batch, NULL, NULL, error)
          : NULL;
    gboolean ok = FALSE;
    if (n && !r) goto out;
    if (!g_strcmp0(split->kind, "university")) {
        /* AP ranks the whole gallery per query: gather the shards */
        g_autofree gsize *counts = g_new(gsize, c->size);
        for (int i = 0; i < c->size; i++) {
            gsize l, k;
            s4g_gallery_shard(g, split->n_refs, (gsize)MAX(batch, 1), i, c->size, &l, &k);
            counts[i] = k * (gsize)dim;
        }
        g_autofree float *all = g_new(float, MAX((gsize)split->n_refs * dim, 1));
        if (c->allgatherv(c->user, r, all, counts, &err)) {
            search_fail(split, &err, error);
            goto out;
        }
        evaluate_university(split, q, all, dim, out);
        ok = TRUE;
        goto out;
    }
    if (s4g_gallery_add(g, n, r, &err)) {
        search_fail(split, &err, error);
        goto out;
    }
    ok = rank_queries(g, c, (gint64)lo, split, q, dim, out, error);
out:
    s4g_gallery_free(g);
    return ok;
}
