/* s4g-thumbnail-cache.h — a least-recently-used cache of decoded thumbnails, bounded in bytes,
 * so that scrolling through 100,000 photos keeps at most `budget` bytes of textures alive
 * (the grid's visible cells may still hold the few textures they show).  An evicted
 * thumbnail is simply decoded again (by libvips, in a worker) when its cell is shown again.
 * Main thread only. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define S4G_THUMBNAIL_CACHE_DEFAULT_BUDGET ((gsize)64 << 20)

#define S4G_TYPE_THUMBNAIL_CACHE (s4g_thumbnail_cache_get_type())
G_DECLARE_FINAL_TYPE(S4gThumbnailCache, s4g_thumbnail_cache, S4G, THUMBNAIL_CACHE, GObject)

S4gThumbnailCache *s4g_thumbnail_cache_new(gsize budget);
/* The process-wide cache the photos use; its budget is S4G_THUMBNAIL_CACHE_MIB (MiB) from the
 * environment, else S4G_THUMBNAIL_CACHE_DEFAULT_BUDGET. */
S4gThumbnailCache *s4g_thumbnail_cache_get_default(void);

/* Bytes a texture is charged: width × height × 4 (what it costs as RGBA). */
gsize s4g_thumbnail_cache_texture_bytes(GdkTexture *texture);
/* The texture stored under `key` (borrowed) and marks it most recently used; NULL if absent. */
GdkTexture *s4g_thumbnail_cache_lookup(S4gThumbnailCache *self, gconstpointer key);
gboolean s4g_thumbnail_cache_contains(S4gThumbnailCache *self, gconstpointer key);
/* Stores `texture` under `key` (replacing any), evicting least recently used entries until the
 * total fits the budget.  FALSE (and nothing stored) if the texture alone exceeds the budget. */
gboolean s4g_thumbnail_cache_insert(S4gThumbnailCache *self, gconstpointer key,
                                    GdkTexture *texture);
void s4g_thumbnail_cache_remove(S4gThumbnailCache *self, gconstpointer key);
void s4g_thumbnail_cache_clear(S4gThumbnailCache *self);

gsize s4g_thumbnail_cache_get_bytes(S4gThumbnailCache *self);
gsize s4g_thumbnail_cache_get_budget(S4gThumbnailCache *self);
/* Shrinking the budget evicts at once. */
void s4g_thumbnail_cache_set_budget(S4gThumbnailCache *self, gsize budget);
guint s4g_thumbnail_cache_get_n_entries(S4gThumbnailCache *self);

/* Counters for tests and measurements: textures inserted, entries evicted, and decodes
 * whose result was dropped because their cell scrolled away (reported by the loader). */
void s4g_thumbnail_cache_note_cancelled(S4gThumbnailCache *self);
void s4g_thumbnail_cache_get_stats(S4gThumbnailCache *self, guint64 *inserted, guint64 *evicted,
                                   guint64 *cancelled);

G_END_DECLS
