/* s4g-tilegrid.h — cutting a region's MBTiles imagery into reference patches on a grid, the
 * gallery `s4g predict --gallery` searches when a photo has no dataset pair.  At zoom z the
 * region's bounds cover a Web-Mercator pixel rectangle; patches of the model's satellite
 * input size (pw×ph native pixels, so a patch shows what a training satellite image shows
 * at that zoom) are taken every `stride` pixels, only those wholly inside the bounds, rows
 * north to south, columns west to east.  Missing tiles read as black. */
#pragma once

#include "s4g-mbtiles.h"

G_BEGIN_DECLS

typedef struct {
    char *file;      /* the patch PNG, in outdir */
    double lat, lon; /* the patch centre */
    int row, col;
} S4gTilePatch;

void s4g_tile_patch_clear(S4gTilePatch *p);

/* Number of patch columns and rows the grid has (0 when the bounds are smaller than a
 * patch).  FALSE with error when the tile set has no usable bounds. */
gboolean s4g_tilegrid_size(S4gMbtiles *mb, int z, int pw, int ph, int stride, int *cols,
                           int *rows, GError **error);

/* Writes every patch of the grid as outdir/r<row>-c<col>.png; returns a GArray of
 * S4gTilePatch (with clear func) in row-major order. */
GArray *s4g_tilegrid_cut(S4gMbtiles *mb, int z, int pw, int ph, int stride, const char *outdir,
                         GError **error);

G_END_DECLS
