/* s4g-json-out.h — JSON that parses back: every JSON document the app writes (each command's
 * --json line, the GeoJSON of predict and export, the demo's localisation.json, synth.json)
 * is built with json-glib's JsonBuilder and written by its JsonGenerator, so strings are
 * escaped as JSON requires (quotes, backslashes, control characters; non-ASCII stays UTF-8).
 * The helpers add a member (key set, inside an object) or an element (key NULL, inside an
 * array); a double that is NaN or infinite and a NULL string are written as null, and a
 * string that is not UTF-8 (a file name in another encoding) has its invalid bytes replaced
 * by U+FFFD. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdio.h>

G_BEGIN_DECLS

void s4g_json_add_string(JsonBuilder *b, const char *key, const char *value);
void s4g_json_add_double(JsonBuilder *b, const char *key, double value);
void s4g_json_add_int(JsonBuilder *b, const char *key, gint64 value);
void s4g_json_add_bool(JsonBuilder *b, const char *key, gboolean value);
void s4g_json_add_null(JsonBuilder *b, const char *key);
/* Opens an object or array as a member (key set) or an element (key NULL); closed with
 * json_builder_end_object / json_builder_end_array. */
void s4g_json_begin_object(JsonBuilder *b, const char *key);
void s4g_json_begin_array(JsonBuilder *b, const char *key);

/* GeoJSON (RFC 7946): begin_collection opens {"type": "FeatureCollection", "features": [
 * and end_collection closes it; begin_point opens a Feature with a Point at lon/lat and
 * opens its "properties" object, which end_feature closes with the feature. */
void s4g_geojson_begin_collection(JsonBuilder *b);
void s4g_geojson_end_collection(JsonBuilder *b);
void s4g_geojson_begin_point(JsonBuilder *b, double lon, double lat);
void s4g_geojson_end_feature(JsonBuilder *b);

/* The builder's document on one line (no newline at the end): newly allocated. */
char *s4g_json_to_string(JsonBuilder *b);
/* The same indented by two spaces a level, for files people read, with a newline at the end. */
char *s4g_json_to_pretty_string(JsonBuilder *b);
/* Prints the document as one line and a newline on out, and flushes it. */
void s4g_json_print(JsonBuilder *b, FILE *out);
/* Writes the document, one line and a newline, to path (atomically, g_file_set_contents). */
gboolean s4g_json_save(JsonBuilder *b, const char *path, GError **error);

G_END_DECLS
