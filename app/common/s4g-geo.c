/* s4g-geo.c — shared bits of the method layer. */
#include "s4g-geo.h"

#include <math.h>

G_DEFINE_QUARK(s4g-geo-error-quark, s4g_geo_error)

double s4g_geo_haversine_m(double lat1, double lon1, double lat2, double lon2)
{
    const double r = 6371008.8, d2r = G_PI / 180.0;
    double p1 = lat1 * d2r, p2 = lat2 * d2r;
    double dp = (lat2 - lat1) * d2r, dl = (lon2 - lon1) * d2r;
    double a = sin(dp / 2) * sin(dp / 2) + cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);
    return 2 * r * asin(fmin(1.0, sqrt(a)));
}
