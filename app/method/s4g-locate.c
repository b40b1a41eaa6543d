/* s4g-locate.c — softmax-refined location estimate from top-k matches. */
#include "s4g-locate.h"
#include "s4g-geo.h"

#include <math.h>
#include <stdlib.h>

/* Softmax weights of the top-k relative to the best (exp(0) = 1 for it). */
static double weight(const double *scores, int i)
{
    return exp((scores[i] - scores[0]) / 0.07);
}

static gboolean near(const double *lat, const double *lon, int a, int i, double radius)
{
    return isfinite(lat[i]) && isfinite(lon[i]) && isfinite(lat[a]) && isfinite(lon[a]) &&
           s4g_geo_haversine_m(lat[a], lon[a], lat[i], lon[i]) <= radius;
}

/* The weighted mean of the top-k centres within radius of match a. */
static void estimate_around(const double *scores, const double *lat, const double *lon, int k,
                            int a, double radius, double *out_lat, double *out_lon,
                            double *confidence)
{
    double wsum = 0, la = 0, lo = 0, all = 0;
    for (int i = 0; i < k; i++) {
        double w = weight(scores, i);
        all += w;
        if (near(lat, lon, a, i, radius)) {
            la += w * lat[i];
            lo += w * lon[i];
            wsum += w;
        }
    }
    *confidence = k > 0 ? 1.0 / all : NAN; /* the best's weight is exp(0) = 1 */
    *out_lat = wsum > 0 ? la / wsum : NAN;
    *out_lon = wsum > 0 ? lo / wsum : NAN;
}

void s4g_locate_estimate(const double *scores, const double *lat, const double *lon, int k,
                         double radius, double *out_lat, double *out_lon, double *confidence)
{
    estimate_around(scores, lat, lon, k, 0, radius, out_lat, out_lon, confidence);
}

int s4g_locate_densest(const double *scores, const double *lat, const double *lon, int k,
                       double radius)
{
    int best = 0;
    double best_mass = -1;
    for (int a = 0; a < k; a++) {
        if (!isfinite(lat[a]) || !isfinite(lon[a])) continue;
        double mass = 0;
        for (int i = 0; i < k; i++)
            if (near(lat, lon, a, i, radius)) mass += weight(scores, i);
        if (mass > best_mass * (1 + 1e-12)) { /* ties: the better-ranked anchor */
            best_mass = mass;
            best = a;
        }
    }
    return best;
}

void s4g_locate_estimate_densest(const double *scores, const double *lat, const double *lon,
                                 int k, double radius, double *out_lat, double *out_lon,
                                 double *confidence)
{
    int a = s4g_locate_densest(scores, lat, lon, k, radius);
    estimate_around(scores, lat, lon, k, a, radius, out_lat, out_lon, confidence);
}

const double S4G_LOCATE_WITHIN_M[S4G_LOCATE_N_WITHIN] = {25.0, 50.0, 100.0};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n) (sorted in place), NAN for n = 0. */
static double median_inplace(double *v, gsize n)
{
    if (!n) return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void s4g_locate_stats(const double *err_m, int n, S4gLocateStats *out)
{
    *out = (S4gLocateStats){.n = n, .median_m = NAN, .mean_m = NAN};
    if (n <= 0) return;
    g_autofree double *v = g_new(double, n);
    gsize m = 0;
    double sum = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(err_m[i])) {
            v[m++] = err_m[i];
            sum += err_m[i];
            for (int t = 0; t < S4G_LOCATE_N_WITHIN; t++)
                out->within[t] += err_m[i] <= S4G_LOCATE_WITHIN_M[t];
        }
    for (int t = 0; t < S4G_LOCATE_N_WITHIN; t++)
        out->within[t] /= n;
    out->mean_m = m ? sum / m : NAN;
    out->median_m = median_inplace(v, m);
}

void s4g_locate_chance(const double *lat, const double *lon, int n, const double *glat,
                       const double *glon, int m, S4gLocateStats *out)
{
    *out = (S4gLocateStats){.n = n, .median_m = NAN, .mean_m = NAN};
    if (n <= 0 || m <= 0) return;
    gsize total = (gsize)n * (gsize)m;
    g_autofree double *d = g_new(double, total);
    double sum = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++) {
            double e = s4g_geo_haversine_m(lat[i], lon[i], glat[j], glon[j]);
            d[(gsize)i * m + j] = e;
            sum += e;
            for (int t = 0; t < S4G_LOCATE_N_WITHIN; t++)
                out->within[t] += e <= S4G_LOCATE_WITHIN_M[t];
        }
    for (int t = 0; t < S4G_LOCATE_N_WITHIN; t++)
        out->within[t] /= (double)total;
    out->mean_m = sum / (double)total;
    out->median_m = median_inplace(d, total);
}
