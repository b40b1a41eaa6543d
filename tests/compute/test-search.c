/* test-search.c — s4g_gallery (top-k, count_above, score) on the CPU and Vulkan backends
 * against double-precision brute force: random data, exact integer data with many ties
 * (lower index first), several chunks (tiny chunk size forced), odd add() batches,
 * k > gallery size (documented -1 / -inf tail), bad k, fp16 storage within 1e-3. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "s4g-search.h"

static s4g_ctx *ctxs[2];
static const char *names[2] = {"cpu", "vulkan"};
static guint32 rng_state = 777;

static float frand(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)((rng_state >> 8) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

static double dotd(const float *a, const float *b, int d)
{
    double s = 0;
    for (int i = 0; i < d; i++)
        s += (double)a[i] * b[i];
    return s;
}

static s4g_gallery *build(s4g_ctx *ctx, int dim, int fp16, size_t chunk_rows, size_t n,
                          const float *g)
{
    s4g_err err = {0};
    s4g_gallery *gal = s4g_gallery_new(ctx, dim, fp16, &err);
    if (!gal)
        g_error("gallery_new: %s", err.msg);
    s4g_gallery_set_chunk_rows(gal, chunk_rows);
    /* odd batches: chunks fill across add() calls */
    size_t done = 0, step = 1;
    while (done < n) {
        size_t m = MIN(step, n - done);
        if (s4g_gallery_add(gal, m, g + done * (size_t)dim, &err))
            g_error("gallery_add: %s", err.msg);
        done += m;
        step = step * 3 + 1;
    }
    g_assert_cmpuint(s4g_gallery_size(gal), ==, n);
    return gal;
}

static void finish(s4g_ctx *ctx)
{
    s4g_err err = {0};
    g_assert_cmpint(s4g_ctx_sync(ctx, &err), ==, 0);
    g_assert_cmpint(s4g_ctx_validation_errors(ctx), ==, 0);
}

/* Exact case: small-integer vectors make every score exact in any summation order, so the
 * expected list (score desc, index asc) and the counts are known exactly; duplicated rows
 * make many ties. */
static void test_exact_ties(void)
{
    const int dim = 17, k = 9;
    const size_t n = 1201, nq = 13;
    float *g = g_new(float, n * dim), *q = g_new(float, nq * dim);
    for (size_t i = 0; i < n * dim; i++)
        g[i] = (float)((int)(3 * frand()));
    for (int d = 0; d < dim; d++) /* row 3: all 2s, the best any row can score with q >= 0 */
        g[3 * dim + d] = 2;
    for (size_t r = 0; r < n; r += 7) /* every 7th row copies row 3: ties across chunks */
        memcpy(g + r * dim, g + 3 * dim, dim * sizeof(float));
    for (size_t i = 0; i < nq * dim; i++)
        q[i] = (float)((int)(3 * frand()));
    for (size_t i = 0; i < nq; i += 3) /* these queries see 173 rows tied at the top */
        for (int d = 0; d < dim; d++)
            q[i * dim + d] = 1;
    for (int b = 0; b < 2; b++) {
        s4g_gallery *gal = build(ctxs[b], dim, 0, 100, n, g); /* 13 chunks */
        int64_t *idx = g_new(int64_t, nq * k);
        float *sc = g_new(float, nq * k);
        s4g_err err = {0};
        if (s4g_gallery_topk(gal, nq, q, k, idx, sc, &err))
            g_error("%s topk: %s", names[b], err.msg);
        for (size_t i = 0; i < nq; i++) {
            /* brute force: selection of the k best by (score desc, index asc) */
            int64_t prev = -1;
            double prev_s = INFINITY;
            for (int m = 0; m < k; m++) {
                int64_t best = -1;
                double bs = -INFINITY;
                for (size_t r = 0; r < n; r++) {
                    double s = dotd(q + i * dim, g + r * dim, dim);
                    int after = s < prev_s || (s == prev_s && (int64_t)r > prev);
                    if (after && (best < 0 || s > bs))
                        best = (int64_t)r, bs = s;
                }
                if (idx[i * k + m] != best || sc[i * k + m] != (float)bs)
                    g_error("%s: query %zu rank %d: got %lld (%g), want %lld (%g)", names[b], i,
                            m, (long long)idx[i * k + m], sc[i * k + m], (long long)best, bs);
                prev = best, prev_s = bs;
            }
        }
        /* counts with the positive = row 3 (tied with its copies, which must not count) */
        int64_t *ref = g_new(int64_t, nq);
        float *th = g_new(float, nq);
        guint32 *cnt = g_new(guint32, nq);
        for (size_t i = 0; i < nq; i++)
            ref[i] = i % 2 ? 3 : (int64_t)(i * 91 % n);
        g_assert_cmpint(s4g_gallery_score(gal, nq, q, ref, th, &err), ==, 0);
        g_assert_cmpint(s4g_gallery_count_above(gal, nq, q, th, cnt, &err), ==, 0);
        for (size_t i = 0; i < nq; i++) {
            double t = dotd(q + i * dim, g + ref[i] * dim, dim);
            g_assert_cmpfloat(th[i], ==, (float)t);
            guint32 want = 0;
            for (size_t r = 0; r < n; r++)
                want += dotd(q + i * dim, g + r * dim, dim) > t;
            g_assert_cmpuint(cnt[i], ==, want);
        }
        finish(ctxs[b]);
        s4g_gallery_free(gal);
        g_free(idx), g_free(sc), g_free(ref), g_free(th), g_free(cnt);
    }
    g_free(g);
    g_free(q);
}

/* Random floats, fp32 and fp16 storage: every returned score equals the true score of the
 * returned index, the list is sorted, and it matches the brute-force k-th best score. */
static void test_random(void)
{
    const int dim = 33;
    const size_t n = 1500, nq = 33;
    const int ks[] = {1, 10, 129};
    float *g = g_new(float, n * dim), *q = g_new(float, nq * dim);
    for (size_t i = 0; i < n * dim; i++)
        g[i] = frand() / sqrtf(dim);
    for (size_t i = 0; i < nq * dim; i++)
        q[i] = frand() / sqrtf(dim);
    double *all = g_new(double, n);
    for (int b = 0; b < 2; b++)
        for (int fp16 = 0; fp16 < 2; fp16++) {
            double tol = fp16 ? 1e-3 : 1e-5;
            s4g_gallery *gal = build(ctxs[b], dim, fp16, fp16 ? 0 : 700, n, g);
            for (int ki = 0; ki < 3; ki++) {
                int k = ks[ki];
                int64_t *idx = g_new(int64_t, nq * k);
                float *sc = g_new(float, nq * k);
                s4g_err err = {0};
                if (s4g_gallery_topk(gal, nq, q, k, idx, sc, &err))
                    g_error("%s topk: %s", names[b], err.msg);
                for (size_t i = 0; i < nq; i++) {
                    for (size_t r = 0; r < n; r++)
                        all[r] = dotd(q + i * dim, g + r * dim, dim);
                    /* k-th largest true score */
                    double *sorted = g_memdup2(all, n * sizeof(double));
                    for (int m = 0; m < k; m++)
                        for (size_t r = m + 1; r < n; r++)
                            if (sorted[r] > sorted[m]) {
                                double t = sorted[m];
                                sorted[m] = sorted[r], sorted[r] = t;
                            }
                    GHashTable *seen = g_hash_table_new(g_int64_hash, g_int64_equal);
                    for (int m = 0; m < k; m++) {
                        int64_t id = idx[i * k + m];
                        g_assert_true(id >= 0 && (size_t)id < n);
                        g_assert_false(g_hash_table_contains(seen, &idx[i * k + m]));
                        g_hash_table_add(seen, &idx[i * k + m]);
                        g_assert_cmpfloat(fabs(sc[i * k + m] - all[id]), <=, tol);
                        g_assert_cmpfloat(fabs(sc[i * k + m] - sorted[m]), <=, 2 * tol);
                        if (m)
                            g_assert_cmpfloat(sc[i * k + m], <=, sc[i * k + m - 1]);
                    }
                    g_hash_table_destroy(seen);
                    g_free(sorted);
                }
                g_free(idx), g_free(sc);
            }
            /* strict counts against the positive's own score, bracketed by brute force */
            int64_t ref[33];
            float th[33];
            guint32 cnt[33];
            s4g_err err = {0};
            for (size_t i = 0; i < nq; i++)
                ref[i] = (int64_t)((i * 389) % n);
            g_assert_cmpint(s4g_gallery_score(gal, nq, q, ref, th, &err), ==, 0);
            g_assert_cmpint(s4g_gallery_count_above(gal, nq, q, th, cnt, &err), ==, 0);
            for (size_t i = 0; i < nq; i++) {
                double t = dotd(q + i * dim, g + ref[i] * dim, dim);
                g_assert_cmpfloat(fabs(th[i] - t), <=, tol);
                guint32 lo = 0, hi = 0;
                for (size_t r = 0; r < n; r++) {
                    double s = dotd(q + i * dim, g + r * dim, dim);
                    lo += s > t + 2 * tol;
                    hi += s > t - 2 * tol && (size_t)ref[i] != r;
                }
                g_assert_cmpuint(cnt[i], >=, lo);
                g_assert_cmpuint(cnt[i], <=, hi);
            }
            finish(ctxs[b]);
            s4g_gallery_free(gal);
        }
    g_free(all);
    g_free(g);
    g_free(q);
}

static void test_edges(void)
{
    const int dim = 7;
    float g[5 * 7], q[7];
    for (int i = 0; i < 35; i++)
        g[i] = (float)(i % 5);
    for (int i = 0; i < 7; i++)
        q[i] = 1;
    for (int b = 0; b < 2; b++) {
        s4g_err err = {0};
        s4g_gallery *gal = s4g_gallery_new(ctxs[b], dim, 0, &err);
        int64_t idx[8];
        float sc[8];
        /* empty gallery, then k > n truncation */
        g_assert_cmpint(s4g_gallery_topk(gal, 1, q, 3, idx, sc, &err), ==, -1);
        g_assert_nonnull(strstr(err.msg, "empty"));
        g_assert_cmpint(s4g_gallery_add(gal, 5, g, &err), ==, 0);
        g_assert_cmpint(s4g_gallery_topk(gal, 1, q, 8, idx, sc, &err), ==, 0);
        for (int m = 0; m < 5; m++)
            g_assert_cmpint(idx[m], >=, 0);
        for (int m = 5; m < 8; m++) {
            g_assert_cmpint(idx[m], ==, -1);
            g_assert_true(isinf(sc[m]) && sc[m] < 0);
        }
        g_assert_cmpint(s4g_gallery_topk(gal, 1, q, 0, idx, sc, &err), ==, -1);
        g_assert_cmpint(s4g_gallery_topk(gal, 1, q, S4G_SEARCH_MAX_K + 1, idx, sc, &err), ==, -1);
        int64_t bad = 5;
        g_assert_cmpint(s4g_gallery_score(gal, 1, q, &bad, sc, &err), ==, -1);
        g_assert_nonnull(strstr(err.msg, "row 5"));
        finish(ctxs[b]);
        s4g_gallery_free(gal);
        g_assert_null(s4g_gallery_new(ctxs[b], 0, 0, &err));
    }
}

static void test_exact_ties_qblocks(void)
{
    g_setenv("S4G_SEARCH_QUERY_BLOCK", "5", TRUE);
    test_exact_ties();
    g_unsetenv("S4G_SEARCH_QUERY_BLOCK");
}

static void test_random_qblocks(void)
{
    g_setenv("S4G_SEARCH_QUERY_BLOCK", "5", TRUE);
    test_random();
    g_unsetenv("S4G_SEARCH_QUERY_BLOCK");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    s4g_err err = {0};
    s4g_ctx_opts co = {.backend = S4G_BACKEND_CPU, .threads = 2};
    s4g_ctx_opts vo = {.backend = S4G_BACKEND_VULKAN, .allow_cpu_device = 1};
    ctxs[0] = s4g_ctx_new(&co, &err);
    g_assert_nonnull(ctxs[0]);
    ctxs[1] = s4g_ctx_new(&vo, &err);
    if (!ctxs[1])
        g_error("no Vulkan context (lavapipe expected): %s", err.msg);
    g_test_add_func("/search/exact-ties", test_exact_ties);
    g_test_add_func("/search/random-fp32-fp16", test_random);
    g_test_add_func("/search/edges", test_edges);
    /* again with 5-query blocks: several scoring passes on both backends */
    if (!g_getenv("S4G_SEARCH_QUERY_BLOCK")) {
        g_test_add_func("/search/exact-ties-qblocks", test_exact_ties_qblocks);
        g_test_add_func("/search/random-qblocks", test_random_qblocks);
    }
    int rc = g_test_run();
    s4g_ctx_free(ctxs[1]);
    s4g_ctx_free(ctxs[0]);
    return rc;
}
