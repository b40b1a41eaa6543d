/* s4g-kml.h — predictions as KML 2.2 (OGC 07-147r2) for Google Earth and GIS tools: one
 * Folder per photo named after it, holding Placemarks for its estimate (with confidence and
 * error), its true location when known and each top-k tile centre (rank, score, tile path),
 * each with a shared style; text is XML-escaped (and made valid UTF-8 without the control
 * characters XML 1.0 forbids), coordinates are lon,lat in the C locale.  Written by
 * s4g predict --kml and s4g export --predictions OUT.kml. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    const char *path; /* the tile's */
    double score, lat, lon;
} S4gKmlCandidate;

typedef struct {
    const char *photo;
    const char *gallery;                   /* may be NULL */
    double lat, lon, confidence, error_m; /* the estimate: no Placemark when lat is NaN */
    double true_lat, true_lon;             /* NaN when unknown: no truth Placemark */
    guint k;
    const S4gKmlCandidate *top; /* best first */
} S4gKmlPrediction;

/* Opens the document (the XML declaration, kml, Document with `title` and the styles). */
void s4g_kml_begin(GString *kml, const char *title);
void s4g_kml_add(GString *kml, const S4gKmlPrediction *p);
void s4g_kml_end(GString *kml);

G_END_DECLS
