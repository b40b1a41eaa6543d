/* s4g-photo-layer.h — every photo location of the current filter as a dot on the map, drawn
 * by ONE widget (a ShumateLayer) instead of one ShumateMarker widget per photo, so 100,000
 * photos cost one texture per frame rather than 100,000 widgets.  The selected photo is
 * highlighted, flagged photos use another colour; colours come from CSS (see style.css).
 * Clicks are hit-tested against the dots (nearest within a few pixels).  For assistive
 * technology the layer is one image named "N photo locations"; the photos themselves stay
 * reachable one by one through the grid. */
#pragma once

#include <shumate/shumate.h>

#include "s4g-photo.h"

G_BEGIN_DECLS

#define S4G_TYPE_PHOTO_LAYER (s4g_photo_layer_get_type())
G_DECLARE_FINAL_TYPE(S4gPhotoLayer, s4g_photo_layer, S4G, PHOTO_LAYER, ShumateLayer)

S4gPhotoLayer *s4g_photo_layer_new(ShumateViewport *viewport);
/* The photos to show (items S4gPhoto, e.g. the filtered + sorted grid model); NULL for none.
 * Follows the model's items-changed: a filter change redraws the dots. */
void s4g_photo_layer_set_model(S4gPhotoLayer *self, GListModel *photos);
/* Highlights `photo` (NULL: none). */
void s4g_photo_layer_set_selected(S4gPhotoLayer *self, S4gPhoto *photo);
/* Redraw after something a dot shows changed outside the model (a photo's flag). */
void s4g_photo_layer_invalidate(S4gPhotoLayer *self);

/* Photos of the model that have a location, i.e. dots in the layer (drawn or culled). */
guint s4g_photo_layer_get_n_dots(S4gPhotoLayer *self);
/* The photo whose dot is nearest to (x, y) in the layer's coordinates, within the hit radius;
 * NULL if none.  `position` (optional) receives its position in the model. */
S4gPhoto *s4g_photo_layer_pick(S4gPhotoLayer *self, double x, double y, guint *position);
/* Position in the model of the dot of photo `id`; FALSE if it has no dot. */
gboolean s4g_photo_layer_find(S4gPhotoLayer *self, gint64 id, guint *position);
/* Dots inside the view at the last snapshot (the rest were culled). */
guint s4g_photo_layer_get_n_drawn(S4gPhotoLayer *self);

G_END_DECLS
