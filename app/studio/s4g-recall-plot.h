/* s4g-recall-plot.h — a recall-by-distance curve as in the cross-view geo-localisation papers:
 * the share of photos whose estimate lies within d metres of the truth, d on a log axis.
 * Drawn with GtkSnapshot (cairo for the curve, Pango for the labels), colours from the
 * style (the accent colour for the curve, the foreground for axes and text). */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define S4G_TYPE_RECALL_PLOT (s4g_recall_plot_get_type())
G_DECLARE_FINAL_TYPE(S4gRecallPlot, s4g_recall_plot, S4G, RECALL_PLOT, GtkWidget)

GtkWidget *s4g_recall_plot_new(void);
/* The errors in metres of the photos with a prediction (NaNs are skipped); copied. */
void s4g_recall_plot_set_errors(S4gRecallPlot *self, const double *errors, guint n);
guint s4g_recall_plot_get_n(S4gRecallPlot *self);
/* Share of the photos within d metres (0 when there are none). */
double s4g_recall_plot_recall_at(S4gRecallPlot *self, double d);
/* The axis range in metres: a power of ten below the smallest error and above the largest. */
void s4g_recall_plot_get_range(S4gRecallPlot *self, double *lo, double *hi);

G_END_DECLS
