/* s4g-widgets.h — small widget helpers shared by the main window and the hard-negative view:
 * thumbnails decoded into a GtkPicture off the main thread, numbered map markers, emptying a
 * flow box. */
#pragma once

#include <gtk/gtk.h>
#include <shumate/shumate.h>

G_BEGIN_DECLS

/* Clears `picture`, then decodes `path` (NULL: leave it empty) to at most `size` px in a worker
 * and shows it; a failed decode becomes the picture's tooltip, a cancelled one is dropped. */
void s4g_picture_load(GtkPicture *picture, const char *path, int size, GCancellable *cancellable);

/* A map marker showing `text` (CSS classes "s4g-marker" and `css`), named `accessible` for
 * assistive technologies and as its tooltip. */
ShumateMarker *s4g_label_marker(double lat, double lon, const char *text, const char *css,
                                const char *accessible);

void s4g_flow_box_clear(GtkFlowBox *flow);

G_END_DECLS
