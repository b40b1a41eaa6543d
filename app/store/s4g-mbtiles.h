/* s4g-mbtiles.h — MBTiles 1.3 tile sets (SQLite): writing a raster pyramid and reading tiles
 * for the Studio's map source and the gallery command.  The API takes XYZ ("slippy") tile
 * rows; the file stores TMS rows (tile_row = 2^z − 1 − y), as the specification requires.
 * Files carry PRAGMA application_id 0x4d504258 ("MPBX"). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define S4G_MBTILES_APPLICATION_ID 0x4d504258

typedef struct _S4gMbtiles S4gMbtiles;

/* Creates (replacing any file at `path`) an empty tile set with the metadata and tiles
 * tables; tiles go in one transaction until s4g_mbtiles_finish(). */
S4gMbtiles *s4g_mbtiles_create(const char *path, GError **error);
gboolean s4g_mbtiles_set_metadata(S4gMbtiles *mb, const char *name, const char *value, GError **error);
gboolean s4g_mbtiles_put_tile(S4gMbtiles *mb, int z, int x, int y_xyz, const void *data, gsize len,
                              GError **error);
/* Commits a tile set made by s4g_mbtiles_create (it stays open for reading). */
gboolean s4g_mbtiles_finish(S4gMbtiles *mb, GError **error);

/* Opens an existing tile set read-only; it must have the metadata and tiles tables. */
S4gMbtiles *s4g_mbtiles_open(const char *path, GError **error);
/* The tile's bytes, or NULL with no error when the set has no such tile.  Thread-safe. */
GBytes *s4g_mbtiles_get_tile(S4gMbtiles *mb, int z, int x, int y_xyz, GError **error);
/* A metadata value (newly allocated) or NULL when absent. */
char *s4g_mbtiles_get_metadata(S4gMbtiles *mb, const char *name);
/* bounds[4] = west, south, east, north; FALSE when the row is absent or malformed. */
gboolean s4g_mbtiles_get_bounds(S4gMbtiles *mb, double bounds[4]);
/* -1 when the row is absent or not a number. */
int s4g_mbtiles_get_min_zoom(S4gMbtiles *mb);
int s4g_mbtiles_get_max_zoom(S4gMbtiles *mb);
/* The `format` row ("png", "jpg", …), or NULL; owned by the tile set. */
const char *s4g_mbtiles_get_format(S4gMbtiles *mb);
const char *s4g_mbtiles_get_path(S4gMbtiles *mb);
void s4g_mbtiles_close(S4gMbtiles *mb);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(S4gMbtiles, s4g_mbtiles_close)

G_END_DECLS
