/* s4g-photo.h — one ground photo as a list item for the Studio's grid: its database row,
 * the rank-1 prediction error of the selected model, its review state, and a thumbnail that
 * is decoded only when a grid cell first shows it. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define S4G_TYPE_PHOTO (s4g_photo_get_type())
G_DECLARE_FINAL_TYPE(S4gPhoto, s4g_photo, S4G, PHOTO, GObject)

S4gPhoto *s4g_photo_new(gint64 id, const char *path, const char *dataset, const char *split,
                        double lat, double lon);
gint64 s4g_photo_get_id(S4gPhoto *self);
const char *s4g_photo_get_path(S4gPhoto *self);
const char *s4g_photo_get_dataset(S4gPhoto *self);
const char *s4g_photo_get_split(S4gPhoto *self);
double s4g_photo_get_lat(S4gPhoto *self);
double s4g_photo_get_lon(S4gPhoto *self);
/* Rank-1 error in metres, NAN when the model has no prediction for it. */
double s4g_photo_get_error(S4gPhoto *self);
void s4g_photo_set_error(S4gPhoto *self, double metres);
gboolean s4g_photo_get_flagged(S4gPhoto *self);
void s4g_photo_set_flagged(S4gPhoto *self, gboolean flagged);
/* The thumbnail from the shared S4gThumbnailCache (borrowed; marks it recently used), or NULL
 * when not decoded yet or evicted since. */
GdkTexture *s4g_photo_get_thumbnail(S4gPhoto *self);
/* Starts decoding the thumbnail in a worker unless it is cached or already being decoded;
 * "notify::thumbnail" when it is in the cache. */
void s4g_photo_ensure_thumbnail(S4gPhoto *self);
/* The photo's cell scrolled away: cancel the decode in flight; its result is dropped. */
void s4g_photo_cancel_thumbnail(S4gPhoto *self);
gboolean s4g_photo_is_loading_thumbnail(S4gPhoto *self);

G_END_DECLS
