/* s4g-geo.h — the method layer: datasets, synthetic world, images, samplers, training,
 * evaluation, prediction.  Each module has its own header; this one holds shared bits. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define S4G_GEO_ERROR (s4g_geo_error_quark())
GQuark s4g_geo_error_quark(void);

typedef enum {
    S4G_GEO_ERROR_IO,      /* missing/unreadable file */
    S4G_GEO_ERROR_PARSE,   /* malformed content (message names file, line, field) */
    S4G_GEO_ERROR_INVALID, /* bad argument */
    S4G_GEO_ERROR_COMPUTE, /* the engine failed */
    S4G_GEO_ERROR_CANCELLED,
} S4gGeoError;

/* Great-circle distance in metres (haversine on radians, mean Earth radius 6371008.8 m). */
double s4g_geo_haversine_m(double lat1, double lon1, double lat2, double lon2);

G_END_DECLS
