/* s4g-imagery-source.h — a libshumate map source rendering Web-Mercator tiles on demand from
 * any raster s4g_imagery_open() accepts (a GeoTIFF/COG/JPEG 2000/VRT file, a folder mosaic, a
 * GDAL XML or WMTS description): each 256² tile is a window read of the source warped to the
 * zoom's pixel grid (app/datasets/s4g-imagery.h), in a worker thread, one read at a time (a
 * GDAL dataset is not thread-safe), the last tiles kept in memory.  Tiles outside the
 * source's footprint are "not found" (left empty on the map), pixels outside it in a tile
 * are transparent. */
#pragma once

#include <shumate/shumate.h>

G_BEGIN_DECLS

#define S4G_TYPE_IMAGERY_SOURCE (s4g_imagery_source_get_type())
G_DECLARE_FINAL_TYPE(S4gImagerySource, s4g_imagery_source, S4G, IMAGERY_SOURCE, ShumateMapSource)

/* Opens `src`; zoom range 0 .. the source's native zoom + 2.  Errors name `src`. */
S4gImagerySource *s4g_imagery_source_new(const char *src, GError **error);
/* The pixels of XYZ tile z/x/y (RGBA) as a texture (thread-safe, cached); NULL with
 * G_IO_ERROR_NOT_FOUND outside the footprint, another error naming the source otherwise. */
GdkTexture *s4g_imagery_source_render_tile(S4gImagerySource *self, guint z, guint x, guint y,
                                           GError **error);
/* bounds[4] = west, south, east, north of the footprint (degrees). */
void s4g_imagery_source_get_bounds(S4gImagerySource *self, double bounds[4]);

G_END_DECLS
