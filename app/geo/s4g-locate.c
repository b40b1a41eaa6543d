/* s4g-locate.c — softmax-refined location estimate from top-k matches. */
#define G_LOG_DOMAIN "s4g-geo"
#include "s4g-locate.h"
#include "s4g-geo.h"

#include <math.h>

void s4g_locate_estimate(const double *scores, const double *lat, const double *lon, int k,
                         double radius, double *out_lat, double *out_lon, double *confidence)
{
    double wsum = 0, la = 0, lo = 0, all = 0;
    for (int i = 0; i < k; i++) {
        double w = exp((scores[i] - scores[0]) / 0.07);
        all += w;
        if (isfinite(lat[i]) && isfinite(lon[i]) && isfinite(lat[0]) && isfinite(lon[0]) &&
            s4g_geo_haversine_m(lat[0], lon[0], lat[i], lon[i]) <= radius) {
            la += w * lat[i];
            lo += w * lon[i];
            wsum += w;
        }
    }
    *confidence = k > 0 ? 1.0 / all : NAN; /* the best's weight is exp(0) = 1 */
    *out_lat = wsum > 0 ? la / wsum : NAN;
    *out_lon = wsum > 0 ? lo / wsum : NAN;
}
