/* s4g-tile-fill.h — fill_tile_async for libshumate map sources whose tiles are made in a worker
 * thread (the MBTiles and the GDAL imagery sources): `render` runs in a GTask thread and
 * returns the tile's texture; the tile is filled on the main thread. */
#pragma once

#include <shumate/shumate.h>

G_BEGIN_DECLS

typedef GdkTexture *(*S4gTileRender)(ShumateMapSource *source, guint z, guint x, guint y,
                                     GError **error);

void s4g_tile_fill_async(ShumateMapSource *source, ShumateTile *tile, GCancellable *cancellable,
                         S4gTileRender render, GAsyncReadyCallback callback, gpointer user_data);
gboolean s4g_tile_fill_finish(ShumateMapSource *source, GAsyncResult *res, GError **error);

G_END_DECLS
