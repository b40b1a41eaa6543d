/* s4g-window-prediction.h — the main window's prediction panel as the widget tests drive it:
 * the search space, on-demand prediction and Predict all (both in-process, on the predictor
 * of app/method/s4g-predict.h in a GTask thread), what the panel shows, the map legend and
 * the recall-by-distance plot. */
#pragma once

#include "s4g-window.h"

G_BEGIN_DECLS

/* The search spaces offered (gallery names "<dataset>/<split or *>"; NULL-ended, borrowed)
 * and the chosen one (NULL before a project is open). */
const char *const *s4g_window_get_search_spaces(S4gWindow *self);
const char *s4g_window_get_search_space(S4gWindow *self);
gboolean s4g_window_set_search_space(S4gWindow *self, const char *gallery);
/* Whether a prediction job (on demand or Predict all) runs or waits. */
gboolean s4g_window_is_predicting(S4gWindow *self);
/* Starts Predict all over the photos of the current filter (as its button does). */
gboolean s4g_window_predict_all(S4gWindow *self);
/* Cancels the prediction jobs (as the Cancel button of Predict all does). */
void s4g_window_cancel_prediction(S4gWindow *self);
/* Predict all's progress: photos done of total (0 of 0 when none runs). */
void s4g_window_get_predict_progress(S4gWindow *self, guint *done, guint *total);
/* The selected photo's estimate as the panel shows it: FALSE when it shows none. */
gboolean s4g_window_get_shown_estimate(S4gWindow *self, double *lat, double *lon,
                                       double *confidence, double *error_m);
/* The recall plot (an S4gRecallPlot) and the map legend. */
GtkWidget *s4g_window_get_recall_plot(S4gWindow *self);
GtkWidget *s4g_window_get_map_legend(S4gWindow *self);
/* Map layers from the bottom up: their names (“photos”, “error”, “candidates”, …, “truth”). */
char *s4g_window_describe_layers(S4gWindow *self);

/* The search box: text that parses as "lat, lon" (degrees, comma or space between) moves the
 * map there and returns TRUE; other text shows only the photos whose file name contains it
 * (case-insensitive); empty text shows all again. */
gboolean s4g_window_search(S4gWindow *self, const char *text);
gboolean s4g_parse_lat_lon(const char *text, double *lat, double *lon);

/* The embedding view (an S4gEmbeddingView) in its expander: opening it loads the model's
 * cached embeddings in a thread (photos predicted in-process are cached too). */
GtkWidget *s4g_window_get_embedding_view(S4gWindow *self);
void s4g_window_show_embeddings(S4gWindow *self, gboolean show);
gboolean s4g_window_is_loading_embeddings(S4gWindow *self);

G_END_DECLS
