/* s4g-metrics.h — retrieval metrics exactly as sample4geo-reference.md §7, computed
 * streaming per query (never a Q×R matrix):
 *
 * - §7.2 Recall@1/5/10/1% for CVUSA, CVACT, VIGOR: a query's rank is the number of
 *   references scoring STRICTLY above its positive (ties count in the positive's favour);
 *   hit@K = rank < K, with K = R//100 for R@1% (integer floor: below 100 references R@1% is
 *   always 0, as in the reference code).
 * - §7.2 VIGOR hit rate: a hit when every reference above the positive is one of the query's
 *   semi-positives.
 * - §7.3 University-1652 AP and CMC (Market-1501 protocol) with junk (label −1) removed;
 *   equal scores are ordered by lower gallery index (numpy's argsort order is unspecified).
 *
 * The engine's search (s4g_gallery_score + s4g_gallery_count_above) yields the per-query
 * inputs of the recall accumulator; U1652 takes one score row per query. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    double r1, r5, r10, r1pct; /* percent */
    double hit_rate;           /* percent; NaN when not a VIGOR evaluation */
    double ap;                 /* percent; NaN except University-1652 */
    guint64 queries, refs;
} S4gRetrievalMetrics;

typedef struct {
    guint64 refs, queries;
    guint64 hits[4]; /* K = 1, 5, 10, refs/100 */
    guint64 vigor_hits, vigor_queries;
} S4gRecallAcc;

void s4g_recall_init(S4gRecallAcc *acc, guint64 n_refs);
/* rank = #references with score > the positive's score. */
void s4g_recall_add(S4gRecallAcc *acc, guint64 rank);
/* VIGOR hit-rate term: rank as above, and the scores of the query's semi-positives
 * (they are subtracted from rank when above the positive). */
void s4g_recall_add_vigor(S4gRecallAcc *acc, guint64 rank, float positive_score,
                          const float *semi_scores, guint n_semi);
void s4g_recall_finish(const S4gRecallAcc *acc, S4gRetrievalMetrics *out);

/* §7.3 accumulator: CMC hits at K = 1, 5, 10 and round(0.01·G) (round half to even, as
 * Python's round), and the AP sum. */
typedef struct {
    guint64 gallery, queries;
    guint64 cmc_hits[4];
    double ap_sum;
    guint cmc_index_1pct;
} S4gApAcc;

void s4g_ap_init(S4gApAcc *acc, guint64 gallery_size);
/* One query: scores[g] for every gallery item, labels[g] (−1 = junk), its label.  Returns
 * this query's AP in [0,1] (0 when it has no good item, which the protocol also counts).
 * Scores are doubles: a float32 dot product summed in sequence is off by more than the gaps
 * between near-duplicate gallery images and makes ties the reference's fp32 GEMM does not
 * have, which moved AP in the 3rd-4th digit. */
double s4g_ap_add(S4gApAcc *acc, const double *scores, const gint32 *labels, gint32 query_label);
void s4g_ap_finish(const S4gApAcc *acc, S4gRetrievalMetrics *out);

/* Chance level of R@1 with R references and one positive each: 100/R percent. */
double s4g_metrics_chance_r1(guint64 n_refs);

G_END_DECLS
