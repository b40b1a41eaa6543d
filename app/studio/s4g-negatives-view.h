/* s4g-negatives-view.h — the hard-negative inspector: choose a mining run, browse its anchors,
 * and for the selected anchor see the ground photo, its true tile and the ranked hard
 * negatives as a grid (rank and similarity or distance) and as numbered map markers.
 * "Compare with" puts a second run's negatives for the same anchor (the same pair: GPS runs
 * mine per tile, DSS runs per ground photo) in a second column and a second marker layer,
 * marks the negatives both runs chose and counts them. */
#pragma once

#include <gtk/gtk.h>
#include <shumate/shumate.h>

#include "s4g-project.h"

G_BEGIN_DECLS

#define S4G_TYPE_NEGATIVES_VIEW (s4g_negatives_view_get_type())
G_DECLARE_FINAL_TYPE(S4gNegativesView, s4g_negatives_view, S4G, NEGATIVES_VIEW, GtkBox)

/* Column 0 is the mining run, column 1 the "Compare with" run. */
#define S4G_NEGATIVES_MAIN 0
#define S4G_NEGATIVES_COMPARE 1

/* The map the negatives are drawn on and one marker layer per column (the window owns the
 * layers' place among its overlays; the view fills them). */
void s4g_negatives_view_set_map(S4gNegativesView *self, ShumateSimpleMap *map,
                                ShumateMarkerLayer *main_layer, ShumateMarkerLayer *compare_layer);
/* Shows `project`'s mining runs (NULL: none); nothing is selected afterwards. */
void s4g_negatives_view_set_project(S4gNegativesView *self, S4gProject *project);

/* Selects the run at `run_pos` of the run list and its anchor at `anchor_pos`; FALSE when
 * either is out of range. */
gboolean s4g_negatives_view_select(S4gNegativesView *self, guint run_pos, guint anchor_pos);
/* "Compare with" the run at `run_pos` of the run list, or nothing (GTK_INVALID_LIST_POSITION). */
gboolean s4g_negatives_view_set_compare(S4gNegativesView *self, guint run_pos);

/* What a column shows now (for tests and the window's accessors). */
guint s4g_negatives_view_count_tiles(S4gNegativesView *self, guint column);
guint s4g_negatives_view_count_shared(S4gNegativesView *self, guint column);
guint s4g_negatives_view_count_markers(S4gNegativesView *self, guint column);
/* The tile of `column` at `index`, or NULL (for tests: CSS classes, accessible texts). */
GtkWidget *s4g_negatives_view_get_tile(S4gNegativesView *self, guint column, guint index);
/* The column's notice ("not an anchor of …", errors) or "" when it shows negatives. */
const char *s4g_negatives_view_get_message(S4gNegativesView *self, guint column);
/* The "N of K in both runs" line, or "" when nothing is compared. */
const char *s4g_negatives_view_get_summary(S4gNegativesView *self);
/* The selected anchor's image id, 0 if none. */
gint64 s4g_negatives_view_get_anchor(S4gNegativesView *self);
/* The anchor list as shown (after the search entry's filter): its length and row labels. */
guint s4g_negatives_view_count_shown_anchors(S4gNegativesView *self);
const char *s4g_negatives_view_get_anchor_label(S4gNegativesView *self, guint shown_pos);
/* Types `text` into the anchor search entry. */
void s4g_negatives_view_search_anchors(S4gNegativesView *self, const char *text);

G_END_DECLS
