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

G_END_DECLS
