/* s4g-mbtiles-source.h — a libshumate map source serving a local MBTiles 1.3 file.
 * libshumate 1.0's tile downloader cannot read file:// URLs, so this subclasses
 * ShumateMapSource directly (gtk-notes §1.2, design B): SQLite read and image decode run in a
 * worker thread, the tile is filled on the main thread.  MBTiles rows are TMS, so the XYZ
 * row y is stored as (2^z - 1 - y). */
#pragma once

#include <shumate/shumate.h>

G_BEGIN_DECLS

#define S4G_TYPE_MBTILES_SOURCE (s4g_mbtiles_source_get_type())
G_DECLARE_FINAL_TYPE(S4gMbtilesSource, s4g_mbtiles_source, S4G, MBTILES_SOURCE, ShumateMapSource)

/* Opens `path` read-only and configures zoom range, name and licence from its metadata. */
S4gMbtilesSource *s4g_mbtiles_source_new(const char *path, GError **error);
/* Raw tile bytes for XYZ coordinates (thread-safe); NULL with G_IO_ERROR_NOT_FOUND when the
 * file has no such tile. */
GBytes *s4g_mbtiles_source_read_tile(S4gMbtilesSource *self, guint z, guint x, guint y,
                                     GError **error);
/* Centre from the metadata `center` (lon,lat,zoom) or `bounds`; FALSE if neither. */
gboolean s4g_mbtiles_source_get_center(S4gMbtilesSource *self, double *lat, double *lon,
                                       double *zoom);

/* bounds[4] = west, south, east, north from the metadata; FALSE if absent. */
gboolean s4g_mbtiles_source_get_bounds(S4gMbtilesSource *self, double bounds[4]);

G_END_DECLS
