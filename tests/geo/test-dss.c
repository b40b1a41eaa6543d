/* test-dss.c — DSS neighbours through the engine's search against a brute-force ranking:
 * own positive removed, first k kept, VIGOR rows keyed by satellite with the last ground
 * winning. */
#include "s4g-dss.h"
#include "s4g-geo.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    float s;
    gint32 i;
} SI;

static int si_cmp(const void *a, const void *b)
{
    const SI *x = a, *y = b;
    if (x->s != y->s) return x->s > y->s ? -1 : 1;
    return x->i - y->i;
}

static float *unit_rows(guint n, int dim, GRand *r)
{
    float *v = g_new(float, (gsize)n *dim);
    for (guint i = 0; i < n; i++) {
        double s = 0;
        for (int d = 0; d < dim; d++) {
            v[i * dim + d] = (float)g_rand_double_range(r, -1, 1);
            s += v[i * dim + d] * v[i * dim + d];
        }
        for (int d = 0; d < dim; d++)
            v[i * dim + d] /= (float)sqrt(s);
    }
    return v;
}

static void expect_row(const S4gNeighbours *nb, guint key, const float *q, const float *sats,
                       guint n_sats, int dim, guint k, guint extra)
{
    g_autofree SI *all = g_new(SI, n_sats);
    for (guint j = 0; j < n_sats; j++) {
        float s = 0; /* same summation order as a dot product loop; tolerance below */
        for (int d = 0; d < dim; d++)
            s += q[d] * sats[j * dim + d];
        all[j] = (SI){s, (gint32)j};
    }
    qsort(all, n_sats, sizeof(SI), si_cmp);
    guint m = 0;
    const gint32 *row = s4g_neighbours_row(nb, key);
    for (guint j = 0; j < MIN(k + extra, n_sats) && m < k; j++) {
        if (all[j].i == (gint32)key) continue;
        g_assert_cmpint(row[m], ==, all[j].i);
        g_assert_cmpfloat_with_epsilon(nb->values[key * k + m], all[j].s, 1e-5);
        m++;
    }
    g_assert_cmpuint(nb->count[key], ==, m);
}

static void test_dss_cvusa(void)
{
    s4g_ctx_opts o = {.backend = S4G_BACKEND_CPU, .threads = 2};
    s4g_err err = {0};
    s4g_ctx *ctx = s4g_ctx_new(&o, &err);
    g_assert_nonnull(ctx);
    const guint n = 301, k = 33;
    const int dim = 17;
    g_autoptr(GRand) r = g_rand_new_with_seed(8);
    g_autofree float *sats = unit_rows(n, dim, r);
    g_autofree float *ground = g_new(float, n *dim);
    /* grounds near their satellite, so the positive is usually in the top k+1 */
    for (guint i = 0; i < n * dim; i++)
        ground[i] = sats[i] + (float)g_rand_double_range(r, -0.3, 0.3);
    g_autofree guint32 *gs = g_new(guint32, n);
    for (guint i = 0; i < n; i++)
        gs[i] = i;
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gNeighbours) nb =
        s4g_dss_neighbours(ctx, ground, n, sats, n, dim, gs, k, 1, &error);
    g_assert_no_error(error);
    for (guint i = 0; i < n; i++)
        expect_row(nb, i, ground + i * dim, sats, n, dim, k, 1);
    /* a ground that does not find its positive in the top k+1 keeps the first k */
    g_assert_cmpuint(nb->count[0], ==, k);

    g_assert_null(s4g_dss_neighbours(ctx, ground, n, sats, n, dim, gs, 256, 1, &error));
    g_assert_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID);
    s4g_ctx_free(ctx);
}

static void test_dss_vigor(void)
{
    s4g_ctx_opts o = {.backend = S4G_BACKEND_CPU, .threads = 2};
    s4g_err err = {0};
    s4g_ctx *ctx = s4g_ctx_new(&o, &err);
    const guint n_sats = 129, n_ground = 150, k = 7;
    const int dim = 9;
    g_autoptr(GRand) r = g_rand_new_with_seed(9);
    g_autofree float *sats = unit_rows(n_sats, dim, r);
    g_autofree float *ground = unit_rows(n_ground, dim, r);
    g_autofree guint32 *gs = g_new(guint32, n_ground);
    for (guint i = 0; i < n_ground; i++)
        gs[i] = (i * 7) %
                120; /* 7 is coprime to 120: satellites 120..128 have no ground; some have two */
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gNeighbours) nb =
        s4g_dss_neighbours(ctx, ground, n_ground, sats, n_sats, dim, gs, k, 2, &error);
    g_assert_no_error(error);
    for (guint s = 120; s < n_sats; s++)
        g_assert_cmpuint(nb->count[s], ==, 0);
    /* the last ground of each satellite wins */
    g_autofree gint32 *last = g_new(gint32, n_sats);
    for (guint s = 0; s < n_sats; s++)
        last[s] = -1;
    for (guint i = 0; i < n_ground; i++)
        last[gs[i]] = (gint32)i;
    for (guint s = 0; s < 120; s++)
        expect_row(nb, s, ground + last[s] * dim, sats, n_sats, dim, k, 2);
    s4g_ctx_free(ctx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/dss/cvusa", test_dss_cvusa);
    g_test_add_func("/dss/vigor", test_dss_vigor);
    return g_test_run();
}
