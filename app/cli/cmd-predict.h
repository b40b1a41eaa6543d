/* cmd-predict.h — how s4g predict writes what the predictor found, shared with s4g demo
 * (which calls the predictor in-process): text or JSON lines on stdout, and the CSV, GeoJSON
 * and KML files of --csv, --geojson and --kml. */
#pragma once

#include "s4g-csv.h"
#include "s4g-predict.h"

#include <json-glib/json-glib.h>

#include <stdio.h>

G_BEGIN_DECLS

/* The columns of predict's CSV (s4g-csv.h: RFC 4180), one row per photo: its path as given,
 * the estimate, confidence, error in metres (empty when the truth is unknown), best tile and
 * its score. */
#define S4G_PREDICT_CSV_HEADER "image,lat,lon,confidence,error_m,tile,score"

typedef struct {
    S4gCsvWriter csv;
    JsonBuilder *geojson; /* a FeatureCollection of the estimates with a location */
    GString *kml;         /* s4g-kml.h */
    guint n_features;
} S4gPredictOutput;

void s4g_predict_output_init(S4gPredictOutput *o);
void s4g_predict_output_clear(S4gPredictOutput *o);
/* Writes the collected CSV, GeoJSON and KML to the paths that are not NULL (once: the
 * documents are closed). */
gboolean s4g_predict_output_save(S4gPredictOutput *o, const char *csv_path,
                                 const char *geojson_path, const char *kml_path, GError **error);

/* Locates photos[0..n) with pred one at a time, each written to out (NULL: nowhere) as text
 * or a JSON line before the next is encoded, and added to o.  Unless json, first says on
 * stderr how many tiles of `dataset` the gallery holds and whether they came from the cache.
 * results (may be NULL) gets the predictions appended. */
gboolean s4g_predict_photos(S4gPredictor *pred, const char *dataset, const char *const *photos,
                            guint n, gboolean json, FILE *out, S4gPredictOutput *o,
                            GPtrArray *results, GError **error);

G_END_DECLS
