/* s4g-metrics.c — recall from rank counts, VIGOR hit rate, University-1652 AP/CMC. */
#include "s4g-metrics.h"

#include <math.h>
#include <stdlib.h>

void s4g_recall_init(S4gRecallAcc *acc, guint64 n_refs)
{
    *acc = (S4gRecallAcc){.refs = n_refs};
}

void s4g_recall_add(S4gRecallAcc *acc, guint64 rank)
{
    const guint64 ks[4] = {1, 5, 10, acc->refs / 100};
    for (int i = 0; i < 4; i++)
        acc->hits[i] += rank < ks[i];
    acc->queries++;
}

void s4g_recall_add_vigor(S4gRecallAcc *acc, guint64 rank, float positive_score,
                          const float *semi_scores, guint n_semi)
{
    s4g_recall_add(acc, rank);
    guint64 semi_above = 0;
    for (guint i = 0; i < n_semi; i++)
        semi_above += semi_scores[i] > positive_score;
    acc->vigor_hits += rank - MIN(semi_above, rank) < 1;
    acc->vigor_queries++;
}

static double pct(guint64 a, guint64 b)
{
    return b ? 100.0 * (double)a / (double)b : 0.0;
}

void s4g_recall_finish(const S4gRecallAcc *acc, S4gRetrievalMetrics *out)
{
    out->r1 = pct(acc->hits[0], acc->queries);
    out->r5 = pct(acc->hits[1], acc->queries);
    out->r10 = pct(acc->hits[2], acc->queries);
    out->r1pct = pct(acc->hits[3], acc->queries);
    out->hit_rate = acc->vigor_queries ? pct(acc->vigor_hits, acc->vigor_queries) : NAN;
    out->ap = NAN;
    out->queries = acc->queries;
    out->refs = acc->refs;
}

void s4g_ap_init(S4gApAcc *acc, guint64 gallery_size)
{
    *acc = (S4gApAcc){.gallery = gallery_size};
    /* numpy round(0.01*G): round half to even (nearbyint in the default rounding mode). */
    acc->cmc_index_1pct = (guint)nearbyint(0.01 * (double)gallery_size);
}

typedef struct {
    double score;
    guint32 idx;
} Scored;

static int scored_cmp(const void *a, const void *b)
{
    const Scored *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

double s4g_ap_add(S4gApAcc *acc, const double *scores, const gint32 *labels, gint32 query_label)
{
    acc->queries++;
    /* Positions of the good items in the junk-free order = the number of non-junk items
     * ranked before each of them; sorting the good items alone and counting the others
     * above each is O(G·n_good) without a full sort of the gallery. */
    g_autoptr(GArray) good = g_array_new(FALSE, FALSE, sizeof(Scored));
    for (guint64 g = 0; g < acc->gallery; g++)
        if (labels[g] == query_label && labels[g] != -1)
            g_array_append_val(good, ((Scored){scores[g], (guint32)g}));
    guint n = good->len;
    if (n == 0) return 0.0;
    qsort(good->data, n, sizeof(Scored), scored_cmp);
    g_autofree guint64 *rows = g_new0(guint64, n);
    for (guint64 g = 0; g < acc->gallery; g++) {
        if (labels[g] == -1 || labels[g] == query_label) continue;
        Scored s = {scores[g], (guint32)g};
        /* good items this one precedes: a suffix of the sorted good list */
        guint lo = 0, hi = n;
        while (lo < hi) {
            guint mid = (lo + hi) / 2;
            if (scored_cmp(&s, &g_array_index(good, Scored, mid)) < 0)
                hi = mid;
            else
                lo = mid + 1;
        }
        if (lo < n) rows[lo]++;
    }
    /* rows[i] now counts the bad items between good i-1 and good i; prefix-sum them. */
    guint64 bad_before = 0;
    double ap = 0;
    for (guint i = 0; i < n; i++) {
        bad_before += rows[i];
        guint64 r = bad_before + i; /* 0-based position of good i */
        rows[i] = r;
        double p = (double)(i + 1) / (double)(r + 1);
        double old_p = r == 0 ? 1.0 : (double)i / (double)r;
        ap += (1.0 / n) * (old_p + p) / 2.0;
    }
    const guint64 ks[4] = {0, 4, 9, acc->cmc_index_1pct};
    for (int i = 0; i < 4; i++)
        acc->cmc_hits[i] += rows[0] <= ks[i];
    acc->ap_sum += ap;
    return ap;
}

void s4g_ap_finish(const S4gApAcc *acc, S4gRetrievalMetrics *out)
{
    out->r1 = pct(acc->cmc_hits[0], acc->queries);
    out->r5 = pct(acc->cmc_hits[1], acc->queries);
    out->r10 = pct(acc->cmc_hits[2], acc->queries);
    out->r1pct = pct(acc->cmc_hits[3], acc->queries);
    out->ap = acc->queries ? 100.0 * acc->ap_sum / (double)acc->queries : 0.0;
    out->hit_rate = NAN;
    out->queries = acc->queries;
    out->refs = acc->gallery;
}

double s4g_metrics_chance_r1(guint64 n_refs)
{
    return n_refs ? 100.0 / (double)n_refs : 0.0;
}
