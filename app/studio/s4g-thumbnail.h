/* s4g-thumbnail.h — decode an image file into a small GdkTexture with libvips, in a worker
 * thread, so scrolling a grid of thousands of photos never blocks the main loop. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Synchronous form (worker threads, tests).  `size` bounds the longer side in pixels. */
GdkTexture *s4g_thumbnail_load(const char *path, int size, GError **error);
void s4g_thumbnail_load_async(const char *path, int size, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
GdkTexture *s4g_thumbnail_load_finish(GAsyncResult *result, GError **error);

G_END_DECLS
