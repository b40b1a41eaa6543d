/* s4g-tilegrid.h — cutting a region's MBTiles imagery into reference patches on a grid, the
 * gallery `s4g predict --gallery` searches when a photo has no dataset pair.  At zoom z the
 * region's bounds cover a Web-Mercator pixel rectangle; patches of the model's satellite
 * input size (pw×ph native pixels, so a patch shows what a training satellite image shows
 * at that zoom) are taken every `stride` pixels, only those wholly inside the bounds, rows
 * north to south, columns west to east.  Missing tiles read as black. */
#pragma once

#include "s4g-imagery.h"
#include "s4g-mbtiles.h"

G_BEGIN_DECLS

typedef struct {
    char *file;      /* the patch PNG, in outdir */
    double lat, lon; /* the patch centre */
    int row, col;
} S4gTilePatch;

void s4g_tile_patch_clear(S4gTilePatch *p);

/* Writes every patch of the grid as outdir/r<row>-c<col>.png; returns a GArray of
 * S4gTilePatch (with clear func) in row-major order.  The imagery is read window by window
 * (a band of patch rows, at most about 2048 pixels wide at a time), so memory does not grow
 * with the region; before writing, the patches' size is checked against the free space of
 * outdir's file system. */
GArray *s4g_tilegrid_cut(S4gMbtiles *mb, int z, int pw, int ph, int stride, const char *outdir,
                         GError **error);

/* Reads the out->width × out->height window whose top-left pixel is (x, y) on zoom z's global
 * Web-Mercator grid. */
typedef gboolean (*S4gTileWindowRead)(gpointer source, int z, gint64 x, gint64 y, S4gImage *out,
                                      GError **error);

/* Number of patch columns and rows the grid over region bounds (west, south, east, north)
 * has (0 when the bounds are smaller than a patch); `what` names the source in errors. */
gboolean s4g_tilegrid_size_bounds(const double bounds[4], const char *what, int z, int pw,
                                  int ph, int stride, int *cols, int *rows, GError **error);

/* s4g_tilegrid_cut over `bounds` of any imagery read through `read`. */
GArray *s4g_tilegrid_cut_bounds(const double bounds[4], const char *what, S4gTileWindowRead read,
                                gpointer source, int z, int pw, int ph, int stride,
                                const char *outdir, GError **error);

/* s4g_tilegrid_cut_bounds over GDAL imagery (s4g_imagery_read). */
GArray *s4g_tilegrid_cut_imagery(S4gImagery *im, const double bounds[4], int z, int pw, int ph,
                                 int stride, const char *outdir, GError **error);

/* FALSE with an error naming `what` when `count` images of w×h RGB (counted raw, an upper
 * bound for PNG) would not fit in the free space of the file system holding `dir` (or its
 * nearest existing parent). */
gboolean s4g_tilegrid_check_disk(const char *what, const char *dir, gint64 count, int w, int h,
                                 GError **error);

/* Reads a window of an MBTiles tile set (missing tiles are black): an S4gTileWindowRead. */
gboolean s4g_tilegrid_read_mbtiles(gpointer mbtiles, int z, gint64 x, gint64 y, S4gImage *out,
                                   GError **error);

G_END_DECLS
