/* s4g-gps.h — GPS neighbour tables (sample4geo-reference.md §4.1): for N training identities
 * with coordinates, each one's K (128) nearest other identities, nearest first, self
 * excluded, ties by lower index.  Epochs 1–4 of CVUSA/CVACT/VIGOR training fill their
 * batches from this table (s4g-sampler.h).
 *
 * Streaming: rows are selected one at a time with a bounded heap (threads split the rows),
 * so memory is O(N·K), never N×N; N ≈ 100k is fine. */
#pragma once

#include "s4g-neighbours.h"

G_BEGIN_DECLS

typedef enum {
    /* Great-circle distance, coordinates (lat, lon) in degrees converted to radians. */
    S4G_GPS_HAVERSINE,
    /* The reference code's quirk: degree numbers fed to sklearn's radians haversine, so
     * longitude gets a latitude-dependent wrong weight.  Reproduces its GPS dictionaries
     * bit-for-bit in ranking; this project's default is S4G_GPS_HAVERSINE (a deliberate,
     * documented deviation: it only changes which neighbours epochs 1–4 see). */
    S4G_GPS_HAVERSINE_DEGREES,
    /* Plain Euclidean distance of (x, y), e.g. CVACT's UTM metres. */
    S4G_GPS_EUCLIDEAN,
} S4gGpsMetric;

/* Parses "haversine", "haversine-degrees" (the quirk) or "euclidean". */
gboolean s4g_gps_metric_parse(const char *name, S4gGpsMetric *out, GError **error);
const char *s4g_gps_metric_name(S4gGpsMetric m);

/* The distance the table stores: metres on a sphere of radius 6371008.8 m for both
 * haversine forms (for the quirk: "metres" as that formula computes them), coordinate
 * units for Euclidean.  a/b are (lat, lon) or (x, y). */
double s4g_gps_distance(S4gGpsMetric m, double a0, double a1, double b0, double b1);

/* coords: n pairs (lat, lon) in degrees, or (x, y).  k: neighbours per row (rows hold
 * min(k, n-1)).  threads: 0 = number of processors. */
S4gNeighbours *s4g_gps_neighbours(const double *coords, guint n, guint k, S4gGpsMetric metric,
                                  guint threads, GError **error);

G_END_DECLS
