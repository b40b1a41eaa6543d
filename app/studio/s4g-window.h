/* s4g-window.h — the Studio's main window: empty state with recent projects, photo grid with
 * filters beside the map, the prediction panel, the hard-negative browser and annotation
 * (with undo/redo).  The accessors at the end exist for the widget tests. */
#pragma once

#include <adwaita.h>
#include <shumate/shumate.h>

#include "s4g-negatives-view.h"
#include "s4g-project.h"

G_BEGIN_DECLS

#define S4G_TYPE_WINDOW (s4g_window_get_type())
G_DECLARE_FINAL_TYPE(S4gWindow, s4g_window, S4G, WINDOW, AdwApplicationWindow)

S4gWindow *s4g_window_new(GtkApplication *app);
/* Opens (or creates) the project in `dir`.  When another process holds its write lock the
 * main thread waits at most 0.3 s, then a toast says the project is busy and it opens by itself
 * once the lock is free (TRUE).  FALSE with an error when it cannot be opened. */
gboolean s4g_window_open_project(S4gWindow *self, const char *dir, GError **error);
S4gProject *s4g_window_get_project(S4gWindow *self);
/* Shows `src` (a GeoTIFF or any GDAL raster s4g_imagery_open() accepts) as the map's base
 * layer instead of the settings' choice; NULL returns to the settings. */
void s4g_window_set_base_imagery(S4gWindow *self, const char *src);
/* Selects the photo at `position` of the filtered grid (as a click does). */
void s4g_window_select_photo(S4gWindow *self, guint position);
/* Sets the selected photo's location as a map click in location mode does (undoable). */
gboolean s4g_window_set_photo_location(S4gWindow *self, double lat, double lon, GError **error);
/* Sets the photo filters as the filter bar does. */
void s4g_window_set_filters(S4gWindow *self, gboolean only_flagged, gboolean sort_by_error,
                            double min_km, double max_km);
/* The photo at `position` of the filtered, sorted grid (borrowed), or NULL. */
S4gPhoto *s4g_window_get_visible_photo(S4gWindow *self, guint position);
/* Shows the hard negatives of mining run row `run_pos`, anchor row `anchor_pos`. */
void s4g_window_select_anchor(S4gWindow *self, guint run_pos, guint anchor_pos);

/* Centres the map on candidate thumbnail `index` (as clicking it does). */
void s4g_window_activate_candidate(S4gWindow *self, guint index);

/* Selects the map dot of photo `image` (as clicking it does). */
void s4g_window_choose_photo_marker(S4gWindow *self, gint64 image);

/* For tests: what is on screen. */
guint s4g_window_count_candidate_markers(S4gWindow *self);
guint s4g_window_count_candidate_thumbnails(S4gWindow *self);
guint s4g_window_count_negative_tiles(S4gWindow *self);
guint s4g_window_count_negative_markers(S4gWindow *self);
/* The hard-negative inspector (run comparison and its own accessors). */
S4gNegativesView *s4g_window_get_negatives_view(S4gWindow *self);
guint s4g_window_count_photo_markers(S4gWindow *self);
guint s4g_window_count_visible_photos(S4gWindow *self);
gboolean s4g_window_has_error_line(S4gWindow *self, double *metres);
gboolean s4g_window_candidate_layer_visible(S4gWindow *self);
ShumateSimpleMap *s4g_window_get_map(S4gWindow *self);
/* The layer that draws the photo dots (an S4gPhotoLayer). */
ShumateLayer *s4g_window_get_photo_layer(S4gWindow *self);
/* whether an s4g run (demo, on-demand prediction) is behind the task bar; cancel stops it */
gboolean s4g_window_is_busy(S4gWindow *self);
void s4g_window_cancel_task(S4gWindow *self);
/* Location mode (the "Set location on map" toggle); it ends after each location set. */
gboolean s4g_window_get_location_mode(S4gWindow *self);
/* Sets the selected photo's location to the map's centre (Enter in location mode). */
gboolean s4g_window_set_location_at_centre(S4gWindow *self);
/* The adaptive layout: whether the panes show one at a time, which one ("photos", "map",
 * "details"), and pane i's widget (0..2 in that order). */
gboolean s4g_window_is_folded(S4gWindow *self);
const char *s4g_window_get_visible_pane(S4gWindow *self);
GtkWidget *s4g_window_get_pane(S4gWindow *self, guint i);
/* The text of the last toast shown, or NULL. */
const char *s4g_window_get_last_toast(S4gWindow *self);
/* The task bar's text and its progress (0..1; -1 while it shows none). */
const char *s4g_window_get_task_text(S4gWindow *self);
double s4g_window_get_task_fraction(S4gWindow *self);
GtkWidget *s4g_window_get_side_panel(S4gWindow *self);
GtkWidget *s4g_window_get_view_stack(S4gWindow *self);

G_END_DECLS
