/* s4g-locate.h — a location estimate from a photo's top-k gallery matches (architecture.md
 * §5 "Predict"): the best tile's centre refined by the softmax-weighted mean (temperature
 * 0.07, Sample4Geo's initial logit scale) of those top-k centres within `radius` metres of
 * it, so distant runners-up do not drag the estimate between places; the confidence is the
 * best tile's softmax weight among the top-k.  Used by `s4g predict` and, from the stored
 * predictions, `s4g export --predictions`. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* scores[k] best first; lat/lon[k] of the matches (NAN = unknown).  out_lat and out_lon get
 * NAN when no match within the radius has a location. */
void s4g_locate_estimate(const double *scores, const double *lat, const double *lon, int k,
                         double radius, double *out_lat, double *out_lon, double *confidence);

/* Not in the reference: the top-k match whose neighbourhood (the top-k centres within
 * `radius` metres of it) carries the most softmax weight, ties to the better rank.  On a
 * dense gallery the true place is usually backed by several overlapping patches while a
 * look-alike elsewhere stands alone, so this anchor is more often the right place than the
 * single best match.  The estimate is then the weighted mean around that anchor (as
 * s4g_locate_estimate around the best); the confidence is still the best match's weight. */
int s4g_locate_densest(const double *scores, const double *lat, const double *lon, int k,
                       double radius);
void s4g_locate_estimate_densest(const double *scores, const double *lat, const double *lon,
                                 int k, double radius, double *out_lat, double *out_lon,
                                 double *confidence);

/* Localisation error over a set of photos: median and mean metres and the shares within 25,
 * 50 and 100 m (the thresholds S4G_LOCATE_WITHIN_M).  Non-finite errors (no estimate) count
 * as misses and are left out of the median and mean. */
#define S4G_LOCATE_N_WITHIN 3
extern const double S4G_LOCATE_WITHIN_M[S4G_LOCATE_N_WITHIN];

typedef struct {
    int n;           /* photos */
    double median_m; /* NAN when no photo has an estimate */
    double mean_m;
    double within[S4G_LOCATE_N_WITHIN]; /* fractions in [0, 1] */
} S4gLocateStats;

void s4g_locate_stats(const double *err_m, int n, S4gLocateStats *out);

/* The same statistics for chance: the estimate is a uniformly random gallery location, for
 * each photo every one of the m gallery centres with equal weight (the median is that of all
 * n·m photo–centre distances). */
void s4g_locate_chance(const double *lat, const double *lon, int n, const double *glat,
                       const double *glon, int m, S4gLocateStats *out);

G_END_DECLS
