/* test-metrics.c — recall with strict '>' ranks and R//100, VIGOR hit rate with
 * semi-positives, University-1652 AP/CMC on hand-computed examples. */
#include "s4g-evaluate.h"
#include "s4g-metrics.h"

#include <math.h>

/* rank = #refs with score strictly above the positive's, computed here by brute force */
static guint64 brute_rank(const float *row, guint n, guint pos)
{
    guint64 r = 0;
    for (guint j = 0; j < n; j++)
        r += row[j] > row[pos];
    return r;
}

static void test_recall(void)
{
    S4gRecallAcc acc;
    s4g_recall_init(&acc, 250); /* R//100 = 2 */
    const guint64 ranks[] = {0, 0, 1, 2, 4, 5, 9, 10, 100, 3};
    for (guint i = 0; i < G_N_ELEMENTS(ranks); i++)
        s4g_recall_add(&acc, ranks[i]);
    S4gRetrievalMetrics m;
    s4g_recall_finish(&acc, &m);
    /* R@1: ranks < 1 → 2 of 10; R@5: 0,0,1,2,4,3 → 6; R@10: + 5, 9 → 8; R@1% (<2): 3 */
    g_assert_cmpfloat(m.r1, ==, 20.0);
    g_assert_cmpfloat(m.r5, ==, 60.0);
    g_assert_cmpfloat(m.r10, ==, 80.0);
    g_assert_cmpfloat(m.r1pct, ==, 30.0);
    g_assert_true(isnan(m.hit_rate));
    g_assert_cmpuint(m.queries, ==, 10);

    /* below 100 references R//100 = 0: R@1% is 0 whatever the ranks (reference behaviour) */
    s4g_recall_init(&acc, 99);
    s4g_recall_add(&acc, 0);
    s4g_recall_finish(&acc, &m);
    g_assert_cmpfloat(m.r1, ==, 100.0);
    g_assert_cmpfloat(m.r1pct, ==, 0.0);
}

static void test_recall_ties(void)
{
    /* Query 0: the positive (col 0) ties with col 2 → rank 0, a hit at R@1 (strict >).
     * Query 1: col 3 beats the positive (col 1) by a hair → rank 1. */
    const float s[2][5] = {{0.5f, 0.1f, 0.5f, 0.2f, -1.f}, {0.1f, 0.3f, 0.3f, 0.30001f, 0.3f}};
    S4gRecallAcc acc;
    s4g_recall_init(&acc, 5);
    g_assert_cmpuint(brute_rank(s[0], 5, 0), ==, 0);
    g_assert_cmpuint(brute_rank(s[1], 5, 1), ==, 1);
    s4g_recall_add(&acc, brute_rank(s[0], 5, 0));
    s4g_recall_add(&acc, brute_rank(s[1], 5, 1));
    S4gRetrievalMetrics m;
    s4g_recall_finish(&acc, &m);
    g_assert_cmpfloat(m.r1, ==, 50.0);
    g_assert_cmpfloat(m.r5, ==, 100.0);
}

static void test_vigor_hit(void)
{
    S4gRecallAcc acc;
    s4g_recall_init(&acc, 1000);
    /* 1: three semi-positives above the positive and nothing else → R@1 miss, hit */
    const float semi1[] = {0.9f, 0.8f, 0.85f};
    s4g_recall_add_vigor(&acc, 3, 0.7f, semi1, 3);
    /* 2: two semis above and one negative above → miss and no hit */
    const float semi2[] = {0.9f, 0.8f, 0.1f};
    s4g_recall_add_vigor(&acc, 3, 0.7f, semi2, 3);
    /* 3: a semi-positive TIES the positive: not above, rank 0 → R@1 hit and hit */
    const float semi3[] = {0.7f, 0.2f, 0.1f};
    s4g_recall_add_vigor(&acc, 0, 0.7f, semi3, 3);
    /* 4: positive first → both */
    s4g_recall_add_vigor(&acc, 0, 0.9f, semi2, 3);
    S4gRetrievalMetrics m;
    s4g_recall_finish(&acc, &m);
    g_assert_cmpfloat(m.r1, ==, 50.0);
    g_assert_cmpfloat(m.hit_rate, ==, 75.0);
    g_assert_cmpfloat(m.r5, ==, 100.0);
}

static void test_u1652_ap(void)
{
    /* Gallery of 6, query label 1, index 2 is junk.  Junk-free order: 0(2) 1(1) 3(1) 4(3)
     * 5(1) → good at rows 1, 2, 4 of n = 3:
     *   i=0: p = 1/2, old = 0/1      → 0.25
     *   i=1: p = 2/3, old = 1/2      → 0.583333
     *   i=2: p = 3/5, old = 2/4      → 0.55
     *   AP = (0.25 + 0.583333 + 0.55)/3 = 0.461111 */
    const double sc[] = {0.9, 0.8, 0.7, 0.6, 0.5, 0.4};
    const gint32 lab[] = {2, 1, -1, 1, 3, 1};
    S4gApAcc acc;
    s4g_ap_init(&acc, 6);
    double ap = s4g_ap_add(&acc, sc, lab, 1);
    g_assert_cmpfloat_with_epsilon(ap, (0.25 + 7.0 / 12.0 + 0.55) / 3.0, 1e-12);
    /* the same gallery, query label 2: good at row 0 → AP 1 */
    g_assert_cmpfloat_with_epsilon(s4g_ap_add(&acc, sc, lab, 2), 1.0, 1e-12);
    /* ties: equal scores go by lower index, so the good item at index 4 comes after index 3 */
    const double tie[] = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
    double ap3 = s4g_ap_add(&acc, tie, lab, 3); /* order 0 1 3 4 5 → row 3, n = 1 */
    /* p = 1/4, old_p = 0/3 → AP = (0 + 0.25)/2 */
    g_assert_cmpfloat_with_epsilon(ap3, 0.125, 1e-12);
    /* a label absent from the gallery still counts as a query with AP 0 */
    g_assert_cmpfloat(s4g_ap_add(&acc, sc, lab, 7), ==, 0.0);
    S4gRetrievalMetrics m;
    s4g_ap_finish(&acc, &m);
    /* CMC: rows[0] = 1, 0, 3, none → R@1 1/4, R@5 3/4 */
    g_assert_cmpfloat(m.r1, ==, 25.0);
    g_assert_cmpfloat(m.r5, ==, 75.0);
    g_assert_cmpfloat(m.r10, ==, 75.0);
    g_assert_cmpfloat_with_epsilon(m.ap, 100.0 * (ap + 1.0 + ap3) / 4.0, 1e-9);
    /* R@1% index round(0.01·G) = 0 for G = 6 → same as R@1 */
    g_assert_cmpfloat(m.r1pct, ==, 25.0);
    g_assert_true(isnan(m.hit_rate));
    /* round half to even: 250 → 2, 350 → 4 */
    s4g_ap_init(&acc, 250);
    g_assert_cmpuint(acc.cmc_index_1pct, ==, 2);
    s4g_ap_init(&acc, 350);
    g_assert_cmpuint(acc.cmc_index_1pct, ==, 4);
    g_assert_cmpfloat(s4g_metrics_chance_r1(200), ==, 0.5);
}

/* The University-1652 path of s4g_evaluate_embeddings: class 3 is absent from the queries,
 * so its gallery image is junk.
 *   q0 (label 1): junk-free order r2(2) r0(1) r3(1) → rows 1, 2: AP = (0.25 + 0.583333)/2
 *   q1 (label 2): order r3(1) r0(1) r2(2)          → row 2:     AP = (0 + 1/3)/2 */
static void test_university_split(void)
{
    gint64 ql[2] = {1, 2}, rl[4] = {1, 3, 2, 1};
    guint32 qpos[2] = {0, 2}, semi_start[3] = {0, 0, 0};
    S4gSplit sp = {.kind = "university",
                   .split = "d2s",
                   .n_queries = 2,
                   .n_refs = 4,
                   .query_label = ql,
                   .ref_label = rl,
                   .query_pos = qpos,
                   .semi_start = semi_start};
    const float q[4] = {1, 0, 0, 1};
    const float r[8] = {0.6f, 0.8f, 1, 0, 0.8f, 0.6f, 0, 1};
    S4gRetrievalMetrics m;
    g_autoptr(GError) error = NULL;
    g_assert_true(s4g_evaluate_embeddings(NULL, &sp, q, r, 2, &m, &error));
    g_assert_cmpfloat_with_epsilon(m.ap, 100.0 * ((0.25 + 7.0 / 12.0) / 2 + 1.0 / 6.0) / 2, 1e-4);
    g_assert_cmpfloat(m.r1, ==, 0.0);
    g_assert_cmpfloat(m.r5, ==, 100.0);
    g_assert_cmpuint(m.refs, ==, 4);
}

/* University-1652 satellite → drone (S2D) through s4g_evaluate_embeddings: satellite
 * queries, a drone gallery with several good images per query, ties and a distractor class.
 * 2-D embeddings, so q0 = (1,0) scores a drone by its x and q1 = (0,1) by its y:
 *   drones  d0 d1 d2 d3 d4 d5 d6,  classes 1 1 2 3 1 2 2 (3: no query asks for it → junk)
 *   x       .6 .8 .8  1  0 .6 .6
 *   y       .8 .6 .6  0  1 .8 .8
 * q0 (class 1): junk-free order, ties by lower index: d1 d2 d0 d5 d6 d4 → good rows 0, 2, 5
 *   i=0: p 1/1, old 1     → 1
 *   i=1: p 2/3, old 1/2   → 7/12
 *   i=2: p 3/6, old 2/5   → 0.45        AP0 = (1 + 7/12 + 0.45) / 3
 * q1 (class 2): d4 d0 d5 d6 d1 d2 → good rows 2, 3, 5
 *   i=0: p 1/3, old 0/2   → 1/6
 *   i=1: p 2/4, old 1/3   → 5/12
 *   i=2: p 3/6, old 2/5   → 0.45        AP1 = (1/6 + 5/12 + 0.45) / 3
 * CMC: first good at rows 0 and 2 → R@1 50 %, R@5 100 %; the gallery size counts d3. */
static void test_university_s2d(void)
{
    gint64 ql[2] = {1, 2}, rl[7] = {1, 1, 2, 3, 1, 2, 2};
    guint32 qpos[2] = {0, 2}, semi_start[3] = {0, 0, 0};
    S4gSplit sp = {.kind = "university",
                   .split = "s2d",
                   .n_queries = 2,
                   .n_refs = 7,
                   .query_label = ql,
                   .ref_label = rl,
                   .query_pos = qpos,
                   .semi_start = semi_start,
                   .sat_queries = TRUE};
    const float q[4] = {1, 0, 0, 1};
    const float r[14] = {0.6f, 0.8f, 0.8f, 0.6f, 0.8f, 0.6f, 1, 0, 0, 1, 0.6f, 0.8f, 0.6f, 0.8f};
    S4gRetrievalMetrics m;
    g_autoptr(GError) error = NULL;
    g_assert_true(s4g_evaluate_embeddings(NULL, &sp, q, r, 2, &m, &error));
    double ap0 = (1 + 7.0 / 12 + 0.45) / 3, ap1 = (1.0 / 6 + 5.0 / 12 + 0.45) / 3;
    g_assert_cmpfloat_with_epsilon(m.ap, 100.0 * (ap0 + ap1) / 2, 1e-9);
    g_assert_cmpfloat(m.r1, ==, 50.0);
    g_assert_cmpfloat(m.r5, ==, 100.0);
    g_assert_cmpfloat(m.r10, ==, 100.0);
    g_assert_cmpfloat(m.r1pct, ==, 50.0); /* round(0.07) = 0: the top 1 */
    g_assert_cmpuint(m.queries, ==, 2);
    g_assert_cmpuint(m.refs, ==, 7);
    g_assert_true(isnan(m.hit_rate));
    /* the accumulator alone: a query whose good drones all tie with bad ones ahead by index */
    const double tie[5] = {0.5, 0.5, 0.5, 0.5, 0.5};
    const gint32 lab[5] = {4, 1, 4, 1, 1};
    S4gApAcc acc;
    s4g_ap_init(&acc, 5);
    /* order 0 1 2 3 4 → good rows 1, 3, 4 of n = 3:
     *   (0/1 + 1/2)/2 = 0.25, (1/3 + 2/4)/2 = 5/12, (2/4 + 3/5)/2 = 0.55 */
    g_assert_cmpfloat_with_epsilon(s4g_ap_add(&acc, tie, lab, 1), (0.25 + 5.0 / 12 + 0.55) / 3,
                                   1e-12);
}

/* AP against an independent computation (full sort in long double, the formula of §7.3
 * written out) on embeddings with near-duplicate gallery images: each class's good image
 * has a bad twin 1e-6 away, so the order of the pair is decided below float32 resolution
 * (a float32 running sum of 256 products ties or swaps them). */
typedef struct {
    long double s;
    guint idx;
} LdScored;

static int ld_cmp(const void *a, const void *b)
{
    const LdScored *x = a, *y = b;
    if (x->s != y->s) return x->s > y->s ? -1 : 1;
    return x->idx < y->idx ? -1 : 1;
}

static void test_university_ap_near_duplicates(void)
{
    enum { C = 24, D = 256, G = 3 * C };
    g_autoptr(GRand) rng = g_rand_new_with_seed(11);
    g_autofree float *q = g_new(float, C * D), *r = g_new(float, G * D);
    gint64 ql[C], rl[G];
    guint32 qpos[C], semi_start[C + 1] = {0};
    for (int c = 0; c < C; c++) {
        float *g = r + (gsize)c * D, *twin = r + (gsize)(C + c) * D, *other = r + (gsize)(2 * C + c) * D;
        for (int d = 0; d < D; d++) {
            g[d] = (float)g_rand_double_range(rng, -1, 1);
            twin[d] = g[d] + (float)g_rand_double_range(rng, -1e-6, 1e-6);
            other[d] = (float)g_rand_double_range(rng, -1, 1);
            q[c * D + d] = g[d] + (float)g_rand_double_range(rng, -0.3, 0.3);
        }
        ql[c] = c;
        qpos[c] = (guint32)c;
        rl[c] = c;
        rl[C + c] = (c + 1) % C; /* the twin is bad for its look-alike's query */
        rl[2 * C + c] = (c + 5) % C;
    }
    S4gSplit sp = {.kind = "university", .split = "d2s", .n_queries = C, .n_refs = G,
                   .query_label = ql, .ref_label = rl, .query_pos = qpos,
                   .semi_start = semi_start};
    S4gRetrievalMetrics m;
    g_autoptr(GError) error = NULL;
    g_assert_true(s4g_evaluate_embeddings(NULL, &sp, q, r, D, &m, &error));
    long double ap_sum = 0;
    for (int c = 0; c < C; c++) {
        LdScored o[G];
        for (int j = 0; j < G; j++) {
            long double s = 0;
            for (int d = 0; d < D; d++)
                s += (long double)q[c * D + d] * r[(gsize)j * D + d];
            o[j] = (LdScored){s, (guint)j};
        }
        qsort(o, G, sizeof *o, ld_cmp);
        int n = 0, rows[G];
        for (int k = 0; k < G; k++)
            if (rl[o[k].idx] == c) rows[n++] = k;
        long double ap = 0;
        for (int i = 0; i < n; i++) {
            long double p = (long double)(i + 1) / (rows[i] + 1);
            long double old_p = rows[i] == 0 ? 1.0L : (long double)i / rows[i];
            ap += (old_p + p) / 2 / n;
        }
        ap_sum += ap;
    }
    double want = (double)(100 * ap_sum / C);
    g_test_message("AP %.6f, independent %.6f", m.ap, want);
    g_assert_cmpfloat_with_epsilon(m.ap, want, 1e-4);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/metrics/recall", test_recall);
    g_test_add_func("/metrics/recall-ties", test_recall_ties);
    g_test_add_func("/metrics/vigor-hit-rate", test_vigor_hit);
    g_test_add_func("/metrics/u1652-ap", test_u1652_ap);
    g_test_add_func("/metrics/university-split", test_university_split);
    g_test_add_func("/metrics/university-s2d", test_university_s2d);
    g_test_add_func("/metrics/university-ap-near-duplicates", test_university_ap_near_duplicates);
    return g_test_run();
}
