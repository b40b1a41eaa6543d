/* test-samplers.c — GPS neighbour tables against brute force (all three metrics, the
 * degrees quirk, ties) and the invariants of the three batch builders. */
#include "s4g-geo.h"
#include "s4g-gps.h"
#include "s4g-sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double d;
    gint32 i;
} DI;

static int di_cmp(const void *a, const void *b)
{
    const DI *x = a, *y = b;
    if (x->d != y->d) return x->d < y->d ? -1 : 1;
    return x->i - y->i;
}

static double *random_coords(guint n, guint32 seed, double lat0, double span, gboolean dup)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(seed);
    double *c = g_new(double, 2 * n);
    for (guint i = 0; i < n; i++) {
        c[2 * i] = lat0 + g_rand_double_range(r, 0, span);
        c[2 * i + 1] = -87.6 + g_rand_double_range(r, 0, span);
    }
    if (dup) /* exact duplicates: ties must go to the lower index */
        for (guint i = 5; i < n; i += 7)
            c[2 * i] = c[2 * (i - 3)], c[2 * i + 1] = c[2 * (i - 3) + 1];
    return c;
}

static void check_brute(const double *c, guint n, guint k, S4gGpsMetric m)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gNeighbours) nb = s4g_gps_neighbours(c, n, k, m, 2, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(nb->n, ==, n);
    g_autofree DI *all = g_new(DI, n);
    guint want = MIN(k, n - 1);
    for (guint i = 0; i < n; i++) {
        guint m2 = 0;
        for (guint o = 0; o < n; o++)
            if (o != i)
                all[m2++] = (DI){
                    s4g_gps_distance(m, c[2 * i], c[2 * i + 1], c[2 * o], c[2 * o + 1]), (gint32)o};
        qsort(all, m2, sizeof(DI), di_cmp);
        g_assert_cmpuint(nb->count[i], ==, want);
        const gint32 *row = s4g_neighbours_row(nb, i);
        for (guint r = 0; r < want; r++) {
            g_assert_cmpint(row[r], ==, all[r].i);
            g_assert_cmpint(row[r], !=, (gint32)i);
            g_assert_cmpfloat_with_epsilon(nb->values[i * k + r], all[r].d,
                                           1e-6 * fmax(1.0, all[r].d));
        }
    }
}

static void test_gps_brute(void)
{
    g_autofree double *c = random_coords(257, 7, 41.5, 0.2, TRUE);
    check_brute(c, 257, 33, S4G_GPS_HAVERSINE);
    check_brute(c, 257, 129, S4G_GPS_HAVERSINE_DEGREES);
    g_autofree double *u = random_coords(129, 9, 4000, 900.0, TRUE); /* UTM-like metres */
    check_brute(u, 129, 128, S4G_GPS_EUCLIDEAN);
    /* fewer identities than k: rows hold n-1 */
    check_brute(u, 7, 128, S4G_GPS_EUCLIDEAN);
}

static void test_gps_quirk(void)
{
    /* At latitude 33 the degree numbers read as radians give cos(33 rad)² ≈ 0.0002, so a
     * longitude offset is almost free: A's nearest is B (north) in radians, C (east) in the
     * quirk. */
    const double c[] = {33.0, 0.0, 33.008, 0.0, 33.0, 0.01};
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gNeighbours) r = s4g_gps_neighbours(c, 3, 2, S4G_GPS_HAVERSINE, 1, &error);
    g_assert_no_error(error);
    g_autoptr(S4gNeighbours) q = s4g_gps_neighbours(c, 3, 2, S4G_GPS_HAVERSINE_DEGREES, 1, &error);
    g_assert_no_error(error);
    g_assert_cmpint(s4g_neighbours_row(r, 0)[0], ==, 1);
    g_assert_cmpint(s4g_neighbours_row(q, 0)[0], ==, 2);
    /* 0.008° of latitude ≈ 889.6 m */
    g_assert_cmpfloat_with_epsilon(r->values[0], 889.58, 0.5);
    S4gGpsMetric m;
    g_assert_true(s4g_gps_metric_parse("haversine-degrees", &m, NULL));
    g_assert_cmpint(m, ==, S4G_GPS_HAVERSINE_DEGREES);
    g_assert_false(s4g_gps_metric_parse("manhattan", &m, &error));
    g_assert_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID);
    g_clear_error(&error);
    const double bad[] = {1, 2, NAN, 3};
    g_assert_null(s4g_gps_neighbours(bad, 2, 4, S4G_GPS_HAVERSINE, 1, &error));
    g_assert_nonnull(strstr(error->message, "identity 1"));
}

/* Each batch: no identity twice; each identity at most once per epoch; length % B == 0. */
static void check_unique(GArray *out, guint n, guint B, const guint32 *key, guint nkeys)
{
    g_assert_cmpuint(out->len % B, ==, 0);
    g_autofree guint8 *seen = g_new0(guint8, n);
    g_autofree guint *batch_of = g_new(guint, nkeys);
    for (guint i = 0; i < nkeys; i++)
        batch_of[i] = G_MAXUINT;
    for (guint i = 0; i < out->len; i++) {
        guint32 it = g_array_index(out, guint32, i);
        g_assert_cmpuint(it, <, n);
        g_assert_false(seen[it]);
        seen[it] = 1;
        guint32 k = key ? key[it] : it;
        g_assert_cmpuint(batch_of[k], !=, i / B);
        batch_of[k] = i / B;
    }
}

static void test_sampler_identities(void)
{
    const guint n = 1001, B = 128;
    g_autofree double *c = random_coords(n, 11, 40.0, 0.5, FALSE);
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gNeighbours) nb = s4g_gps_neighbours(c, n, 128, S4G_GPS_HAVERSINE, 2, &error);
    g_assert_no_error(error);
    S4gSamplerParams p = s4g_sampler_params_default();
    /* The CVUSA id-0 quirk, on the first anchor's nearest neighbour (the pool shuffle comes
     * first, so the same seed gives the same first anchor). */
    g_autoptr(GRand) r0 = g_rand_new_with_seed(42);
    g_autoptr(GArray) a0 = s4g_sampler_epoch_identities(n, nb, &p, r0, &error);
    gint32 skip = s4g_neighbours_row(nb, g_array_index(a0, guint32, 0))[0];
    g_assert_cmpint(g_array_index(a0, guint32, 1), ==, skip);
    p.skip_neighbour = skip;
    g_autoptr(GRand) r1 = g_rand_new_with_seed(42);
    g_autoptr(GArray) a = s4g_sampler_epoch_identities(n, nb, &p, r1, &error);
    g_assert_no_error(error);
    check_unique(a, n, B, NULL, n);
    /* only the final partial batch (and a few ids) are left out */
    g_assert_cmpuint(a->len, >=, (n / B - 1) * B);

    /* Each batch opens with an anchor; its 32 nearest not used earlier in the epoch follow it
     * in order (minus the skipped identity), then entries of ranks 33..128 of its row. */
    g_autofree guint8 *used = g_new0(guint8, n);
    gboolean skipped_seen = FALSE;
    for (guint b = 0; b < a->len / B; b++) {
        guint32 anchor = g_array_index(a, guint32, b * B);
        const gint32 *row = s4g_neighbours_row(nb, anchor);
        used[anchor] = 1;
        guint pos = b * B + 1;
        for (guint r = 0; r < 32; r++) {
            if (used[row[r]]) continue;
            if (row[r] == skip) {
                skipped_seen = TRUE;
                continue;
            }
            g_assert_cmpint(g_array_index(a, guint32, pos), ==, row[r]);
            used[row[r]] = 1;
            pos++;
        }
        if (b == 0) {
            /* nothing was used before: exactly 32 entries of ranks 33..128 follow */
            for (guint f = 0; f < 32; f++, pos++) {
                guint32 x = g_array_index(a, guint32, pos);
                gboolean in_range = FALSE;
                for (guint r = 32; r < 128; r++)
                    in_range |= row[r] == (gint32)x;
                g_assert_true(in_range);
            }
        }
        for (guint i = b * B; i < (b + 1) * B; i++)
            used[g_array_index(a, guint32, i)] = 1;
    }
    g_assert_true(skipped_seen); /* the quirk was exercised */

    /* determinism by seed */
    g_autoptr(GRand) r2 = g_rand_new_with_seed(42);
    g_autoptr(GArray) a2 = s4g_sampler_epoch_identities(n, nb, &p, r2, &error);
    g_assert_cmpuint(a2->len, ==, a->len);
    g_assert_cmpmem(a2->data, a2->len * 4, a->data, a->len * 4);
    g_autoptr(GRand) r3 = g_rand_new_with_seed(43);
    g_autoptr(GArray) a3 = s4g_sampler_epoch_identities(n, nb, &p, r3, &error);
    g_assert_true(a3->len != a->len || memcmp(a3->data, a->data, a->len * 4) != 0);

    /* no table: a plain unique shuffle of floor(n/B) batches */
    g_autoptr(GArray) plain = s4g_sampler_epoch_identities(n, NULL, &p, r3, &error);
    g_assert_cmpuint(plain->len, ==, (n / B) * B);
    check_unique(plain, n, B, NULL, n);

    /* odd B, small table */
    p.batch_size = 33;
    p.skip_neighbour = -1;
    g_autoptr(GArray) odd = s4g_sampler_epoch_identities(n, nb, &p, r3, &error);
    check_unique(odd, n, 33, NULL, n);
    g_assert_cmpuint(odd->len, >=, (n / 33 - 1) * 33);

    g_autoptr(S4gNeighbours) wrong = s4g_neighbours_new(5, 4);
    g_assert_null(s4g_sampler_epoch_identities(n, wrong, &p, r3, &error));
    g_assert_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID);
}

static void test_sampler_vigor(void)
{
    const guint n_sats = 401, B = 64;
    g_autofree double *c = random_coords(n_sats, 5, 47.6, 0.3, FALSE);
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gNeighbours) nb = s4g_gps_neighbours(c, n_sats, 128, S4G_GPS_HAVERSINE, 2, &error);
    /* satellites with 0, 1 or 2 panoramas */
    g_autoptr(GArray) ps = g_array_new(FALSE, FALSE, sizeof(guint32));
    for (guint32 s = 0; s < n_sats; s++)
        for (guint j = 0; j < s % 3; j++)
            g_array_append_val(ps, s);
    const guint32 *pair_sat = (const guint32 *)ps->data;
    S4gSamplerParams p = s4g_sampler_params_default();
    p.batch_size = B;
    g_autoptr(GRand) r = g_rand_new_with_seed(1);
    g_autoptr(GArray) a = s4g_sampler_epoch_vigor(ps->len, pair_sat, n_sats, nb, &p, r, &error);
    g_assert_no_error(error);
    check_unique(a, ps->len, B, pair_sat, n_sats);
    g_assert_cmpuint(a->len, >=, ps->len / 2);

    /* The first batch: the anchor's 32 nearest satellites that have panoramas come next, in
     * order, one pair each. */
    guint32 anchor_sat = pair_sat[g_array_index(a, guint32, 0)];
    const gint32 *row = s4g_neighbours_row(nb, anchor_sat);
    guint pos = 1;
    for (guint rk = 0; rk < 32; rk++) {
        if (row[rk] % 3 == 0) continue;
        g_assert_cmpuint(pair_sat[g_array_index(a, guint32, pos)], ==, (guint32)row[rk]);
        pos++;
    }
    g_autoptr(GRand) r2 = g_rand_new_with_seed(1);
    g_autoptr(GArray) b = s4g_sampler_epoch_vigor(ps->len, pair_sat, n_sats, nb, &p, r2, &error);
    g_assert_cmpmem(b->data, b->len * 4, a->data, a->len * 4);
    g_autoptr(GArray) plain =
        s4g_sampler_epoch_vigor(ps->len, pair_sat, n_sats, NULL, &p, r2, &error);
    check_unique(plain, ps->len, B, pair_sat, n_sats);
}

/* A satellite with two panoramas anchors twice in an epoch; the second time its candidates
 * come from its row without the neighbours it already used (vigor.py: sim[sat].remove(n)).
 * Only satellite 0 has a neighbour row (1..M in order), every other satellite one panorama,
 * B = 2, select 2 of range 2: the candidates are exactly the first two satellites left in the
 * row, so whenever satellite 0 anchors at the head of a batch the next item is the first of
 * them whose pair is unused, and the row then loses it. */
static void test_sampler_vigor_repeat_anchor(void)
{
    const guint M = 40, n_sats = M + 1;
    g_autoptr(S4gNeighbours) nb = s4g_neighbours_new(n_sats, M);
    nb->count[0] = M;
    for (guint i = 0; i < M; i++)
        nb->ids[i] = (gint32)(i + 1);
    g_autoptr(GArray) ps = g_array_new(FALSE, FALSE, sizeof(guint32));
    guint32 zero = 0;
    g_array_append_val(ps, zero);
    g_array_append_val(ps, zero);
    for (guint32 s = 1; s < n_sats; s++)
        g_array_append_val(ps, s);
    const guint32 *pair_sat = (const guint32 *)ps->data;
    S4gSamplerParams p = s4g_sampler_params_default();
    p.batch_size = 2;
    p.neighbour_select = 2;
    p.neighbour_range = 2;
    guint shifted = 0;
    for (guint32 seed = 1; seed <= 200; seed++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(GRand) r = g_rand_new_with_seed(seed);
        g_autoptr(GArray) a = s4g_sampler_epoch_vigor(ps->len, pair_sat, n_sats, nb, &p, r, &error);
        g_assert_no_error(error);
        check_unique(a, ps->len, 2, pair_sat, n_sats);
        guint32 row[64];
        guint rlen = M, anchored = 0;
        for (guint i = 0; i < M; i++)
            row[i] = i + 1;
        g_autofree guint8 *used = g_new0(guint8, n_sats);
        for (guint i = 0; i < a->len; i++) {
            guint32 sat = pair_sat[g_array_index(a, guint32, i)];
            used[sat] = 1;
            if (sat != 0 || i % 2 != 0) continue;
            anchored++;
            guint32 next = pair_sat[g_array_index(a, guint32, i + 1)];
            for (guint k = 0; k < MIN(rlen, 2); k++) {
                if (used[row[k]]) continue;
                g_assert_cmpuint(next, ==, row[k]);
                if (anchored == 2 && next > 2) shifted++; /* beyond the original window */
                memmove(row + k, row + k + 1, (rlen - k - 1) * sizeof *row);
                rlen--;
                break;
            }
        }
    }
    g_test_message("second anchorings past the original window: %u of 200 epochs", shifted);
    g_assert_cmpuint(shifted, >=, 5); /* 10 with these seeds */
}

static void test_sampler_classes(void)
{
    /* 37 classes with 1..13 items each: uniqueness per batch is by class */
    g_autoptr(GArray) cls = g_array_new(FALSE, FALSE, sizeof(guint32));
    for (guint32 k = 0; k < 37; k++)
        for (guint j = 0; j < 1 + (k * 7) % 13; j++)
            g_array_append_val(cls, k);
    S4gSamplerParams p = s4g_sampler_params_default();
    p.batch_size = 16;
    p.break_limit = 512;
    g_autoptr(GError) error = NULL;
    g_autoptr(GRand) r = g_rand_new_with_seed(3);
    const guint32 *ic = (const guint32 *)cls->data;
    g_autoptr(GArray) a = s4g_sampler_epoch_classes(cls->len, ic, 37, &p, r, &error);
    g_assert_no_error(error);
    check_unique(a, cls->len, 16, ic, 37);
    g_assert_cmpuint(a->len, >=, cls->len / 2);
    g_assert_cmpuint(a->len, <=, cls->len);
    /* one class with all items: at most 0 full batches of 16 (needs 16 classes) */
    g_autofree guint32 *one = g_new0(guint32, 50);
    g_autoptr(GArray) none = s4g_sampler_epoch_classes(50, one, 1, &p, r, &error);
    g_assert_cmpuint(none->len, ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/gps/brute-force", test_gps_brute);
    g_test_add_func("/gps/degrees-quirk", test_gps_quirk);
    g_test_add_func("/sampler/identities", test_sampler_identities);
    g_test_add_func("/sampler/vigor", test_sampler_vigor);
    g_test_add_func("/sampler/vigor-repeat-anchor", test_sampler_vigor_repeat_anchor);
    g_test_add_func("/sampler/classes", test_sampler_classes);
    return g_test_run();
}
