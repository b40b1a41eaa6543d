/* s4g-imagery.h — any GDAL raster source as Web-Mercator imagery: a GeoTIFF / COG / JPEG 2000 /
 * VRT file, a folder of them (one mosaic, an in-memory VRT), an XYZ/TMS URL template
 * (http://host/{z}/{x}/{y}.png), a WMTS/WMS/TMS service (GDAL's "WMTS:…" syntax or its XML
 * description) or an MBTiles file.  Pixels are read as windows of the global Web-Mercator pixel
 * grid of a zoom level (256·2^z pixels around the world, rows from the north), through a warped
 * VRT (cubic) that GDAL evaluates block by block from the source's best overview, so memory
 * stays bounded whatever the region's size.  Network reads time out (GDAL_HTTP_TIMEOUT, set
 * through GDAL's configuration in code, and the same seconds as the WMS driver's <Timeout> of
 * XYZ templates and hand-written GDAL XML, and as the stall limit GDAL_HTTP_LOW_SPEED_TIME
 * for WMTS; a user's own settings win); a failed read is an error naming the source.  A tile
 * an XYZ server does not have (404) under a window read is an error naming the tile's URL. */
#pragma once

#include "s4g-image.h"

G_BEGIN_DECLS

typedef struct _S4gImagery S4gImagery;

/* Seconds a single HTTP request to a tile server may take (connect + transfer). */
#define S4G_IMAGERY_HTTP_TIMEOUT_S 20

/* Whether this build reads imagery through GDAL (meson feature `gdal`). */
gboolean s4g_imagery_available(void);

/* Parses "west,south,east,north" (degrees; west < east, south < north, within ±180 and
 * ±85.0511, Web Mercator's limit). */
gboolean s4g_imagery_parse_bounds(const char *text, double bounds[4]);

/* Opens `src`.  `zoom` is the level URL templates are fetched at (their tiles are the
 * source's full resolution).  Errors name `src`: not found, not a raster, no georeferencing,
 * no or unknown coordinate reference system, a folder whose files disagree on it. */
S4gImagery *s4g_imagery_open(const char *src, int zoom, GError **error);
void s4g_imagery_free(S4gImagery *im);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(S4gImagery, s4g_imagery_free)

const char *s4g_imagery_get_source(S4gImagery *im);

/* The source's extent as west, south, east, north (degrees, clamped to ±85.0511°): the
 * bounding box of its footprint in Web Mercator (for an MBTiles file, its `bounds` row
 * when present).  FALSE with error when it cannot be computed. */
gboolean s4g_imagery_get_bounds(S4gImagery *im, double bounds[4], GError **error);

/* The zoom whose pixels are closest to the source's own resolution (at its centre), 0..24. */
int s4g_imagery_get_native_zoom(S4gImagery *im);

/* Encodes a tile as "png" or "jpg" (quality 90) for an MBTiles pyramid. */
GBytes *s4g_imagery_encode(const S4gImage *tile, const char *format, GError **error);

/* Reads the w×h window whose top-left pixel is (x, y) on zoom z's global grid into `out`
 * (w×h RGB; grey is expanded, a palette is applied, alpha is dropped, areas the source does
 * not cover are black).  Errors name the source and the window. */
gboolean s4g_imagery_read(S4gImagery *im, int z, gint64 x, gint64 y, S4gImage *out,
                          GError **error);
/* The same, with each pixel's coverage in `alpha` (w×h bytes): 0 outside the source's
 * extent, its alpha band where it has one, else 255.  `out` then holds the colour
 * premultiplied by it (flattened onto black). */
gboolean s4g_imagery_read_alpha(S4gImagery *im, int z, gint64 x, gint64 y, S4gImage *out,
                                guint8 *alpha, GError **error);

G_END_DECLS
