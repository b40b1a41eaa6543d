/* test-locate.c — the location estimate from top-k matches (best anchor and densest anchor)
 * and the localisation statistics with their chance level. */
#include "s4g-geo.h"
#include "s4g-locate.h"

#include <math.h>

/* metres → degrees near 48° N (haversine radius 6371008.8 m) */
#define DLAT(m) ((m) / 111195.08)
#define DLON(m) ((m) / (111195.08 * cos(48.0 * G_PI / 180.0)))

/* A look-alike far away scores best on its own; the true place has three overlapping
 * patches just below it.  The best anchor goes to the look-alike, the densest to the place. */
static void test_densest(void)
{
    const double lat0 = 48.0, lon0 = 11.0;
    double scores[5] = {0.90, 0.89, 0.885, 0.88, 0.70};
    double lat[5] = {lat0 + DLAT(400), lat0, lat0 + DLAT(6), lat0 - DLAT(6), lat0 + DLAT(900)};
    double lon[5] = {lon0, lon0, lon0, lon0 + DLON(6), lon0};
    double la, lo, conf;
    s4g_locate_estimate(scores, lat, lon, 5, 25, &la, &lo, &conf);
    g_assert_cmpfloat(fabs(la - lat[0]), <, 1e-12); /* alone within 25 m: its own centre */
    double w[5], all = 0;
    for (int i = 0; i < 5; i++)
        all += w[i] = exp((scores[i] - scores[0]) / 0.07);
    g_assert_cmpfloat_with_epsilon(conf, 1.0 / all, 1e-12);
    g_assert_cmpint(s4g_locate_densest(scores, lat, lon, 5, 25), ==, 1);
    double dconf;
    s4g_locate_estimate_densest(scores, lat, lon, 5, 25, &la, &lo, &dconf);
    double wl = (w[1] * lat[1] + w[2] * lat[2] + w[3] * lat[3]) / (w[1] + w[2] + w[3]);
    double wo = (w[1] * lon[1] + w[2] * lon[2] + w[3] * lon[3]) / (w[1] + w[2] + w[3]);
    g_assert_cmpfloat_with_epsilon(la, wl, 1e-12);
    g_assert_cmpfloat_with_epsilon(lo, wo, 1e-12);
    g_assert_cmpfloat_with_epsilon(dconf, conf, 1e-15);
    g_assert_cmpfloat(s4g_geo_haversine_m(la, lo, lat0, lon0), <, 3);
    /* a clear winner keeps the best anchor: same estimate either way */
    double s2[5] = {0.99, 0.70, 0.69, 0.68, 0.60};
    g_assert_cmpint(s4g_locate_densest(s2, lat, lon, 5, 25), ==, 0);
    /* ties go to the better rank; unknown locations never anchor */
    double flat[3] = {0.5, 0.5, 0.5}, tl[3] = {NAN, lat0, lat0 + DLAT(500)},
           tn[3] = {NAN, lon0, lon0};
    g_assert_cmpint(s4g_locate_densest(flat, tl, tn, 3, 25), ==, 1);
}

static void test_stats(void)
{
    double err[7] = {10, 30, 60, 120, 25, NAN, 50};
    S4gLocateStats s;
    s4g_locate_stats(err, 7, &s);
    g_assert_cmpint(s.n, ==, 7);
    g_assert_cmpfloat_with_epsilon(s.median_m, 40.0, 1e-12); /* of 10 25 30 50 60 120 */
    g_assert_cmpfloat_with_epsilon(s.mean_m, 295.0 / 6, 1e-12);
    g_assert_cmpfloat_with_epsilon(s.within[0], 2.0 / 7, 1e-12); /* ≤ 25: 10, 25 */
    g_assert_cmpfloat_with_epsilon(s.within[1], 4.0 / 7, 1e-12); /* ≤ 50: + 30, 50 */
    g_assert_cmpfloat_with_epsilon(s.within[2], 5.0 / 7, 1e-12);
    double none[1] = {NAN};
    s4g_locate_stats(none, 1, &s);
    g_assert_true(isnan(s.median_m));
    g_assert_cmpfloat(s.within[2], ==, 0);
}

/* Chance over a 3-patch gallery on a meridian 0, 40 and 200 m north of two photos. */
static void test_chance(void)
{
    const double lat0 = 48.0, lon0 = 11.0;
    double glat[3] = {lat0, lat0 + DLAT(40), lat0 + DLAT(200)}, glon[3] = {lon0, lon0, lon0};
    double plat[2] = {lat0, lat0 + DLAT(40)}, plon[2] = {lon0, lon0};
    S4gLocateStats c;
    s4g_locate_chance(plat, plon, 2, glat, glon, 3, &c);
    /* distances: photo 0 → 0, 40, 200; photo 1 → 40, 0, 160 */
    g_assert_cmpint(c.n, ==, 2);
    g_assert_cmpfloat_with_epsilon(c.mean_m, 440.0 / 6, 0.05);
    g_assert_cmpfloat_with_epsilon(c.median_m, 40.0, 0.01);
    g_assert_cmpfloat_with_epsilon(c.within[0], 2.0 / 6, 1e-12);
    g_assert_cmpfloat_with_epsilon(c.within[1], 4.0 / 6, 1e-12);
    g_assert_cmpfloat_with_epsilon(c.within[2], 4.0 / 6, 1e-12);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/locate/densest", test_densest);
    g_test_add_func("/locate/stats", test_stats);
    g_test_add_func("/locate/chance", test_chance);
    return g_test_run();
}
