/* s4g-loss-chart.h — the drawing of a training chart, live or from the store: loss against
 * step and R@1 at evaluations (right axis, 0–100 %) from its S4gLossModel, which it observes
 * (redraws coalesced), drawn with cairo in snapshot (GTK 4.8 has no path API), colours from the
 * style (its CSS colour, the accent colour, libadwaita's orange), text through Pango in the
 * widget's font, and a read-out of the point nearest the pointer.  A resumed run's live points
 * continue the stored ones; the boundary is marked.  The data calls below are the model's,
 * kept on the chart for the code that fills it. */
#pragma once

#include "s4g-loss-model.h"

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define S4G_TYPE_LOSS_CHART (s4g_loss_chart_get_type())
G_DECLARE_FINAL_TYPE(S4gLossChart, s4g_loss_chart, S4G, LOSS_CHART, GtkWidget)

GtkWidget *s4g_loss_chart_new(void);
/* The series drawn (owned by the chart). */
S4gLossModel *s4g_loss_chart_get_model(S4gLossChart *self);
/* Parses one line; a step object adds a point, an eval object updates the recall read-out.
 * Returns FALSE with *error (naming the line number and field) for malformed lines. */
gboolean s4g_loss_chart_feed_line(S4gLossChart *self, const char *line, GError **error);
void s4g_loss_chart_clear(S4gLossChart *self);
guint s4g_loss_chart_get_n_points(S4gLossChart *self);
gboolean s4g_loss_chart_get_point(S4gLossChart *self, guint i, double *step, double *loss);
/* Latest evaluation recalls in percent; FALSE before the first eval line. */
gboolean s4g_loss_chart_get_recall(S4gLossChart *self, double *r1, double *r5, double *r10);
/* A point from the store (NaN for unknown fields).  A step at or before the last point
 * replaces the points from that step on (a resumed run repeats no step, but a restarted one
 * might). */
void s4g_loss_chart_add_point(S4gLossChart *self, double step, double epoch, double loss, double lr,
                              double logit_scale, double pairs_per_s);
/* An evaluation after `step` (NaN: after the last point so far) at `epoch`; recalls in %. */
void s4g_loss_chart_add_eval(S4gLossChart *self, double step, double epoch, double r1, double r5,
                             double r10);
guint s4g_loss_chart_get_n_evals(S4gLossChart *self);
gboolean s4g_loss_chart_get_eval(S4gLossChart *self, guint i, double *step, double *r1);
/* The first n points came from the store (drawn before the resume mark); 0 = a live run. */
void s4g_loss_chart_set_n_stored(S4gLossChart *self, guint n);
guint s4g_loss_chart_get_n_stored(S4gLossChart *self);
/* Index of the data point nearest widget x (as the hover read-out uses), or -1. */
int s4g_loss_chart_nearest(S4gLossChart *self, double x);
/* Text of the read-out for point i ("step 40 · loss 2.31 · lr 1e-4 …"). */
char *s4g_loss_chart_describe(S4gLossChart *self, guint i);

G_END_DECLS
