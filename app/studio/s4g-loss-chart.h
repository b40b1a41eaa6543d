/* s4g-loss-chart.h — a training-loss chart, live or from the store.  It is fed the JSON lines
 * that `s4g train --json` prints (objects with step, epoch, loss, lr, logit_scale, pairs_per_s;
 * evaluation objects with r1/r5/r10) or a past run's stored metrics and evaluations, draws loss
 * against step and R@1 at evaluations (right axis, 0–100 %) with cairo in snapshot (GTK 4.8
 * has no path API) and shows a read-out of the point nearest the pointer.  A resumed run's
 * live points continue the stored ones; the boundary is marked. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define S4G_TYPE_LOSS_CHART (s4g_loss_chart_get_type())
G_DECLARE_FINAL_TYPE(S4gLossChart, s4g_loss_chart, S4G, LOSS_CHART, GtkWidget)

GtkWidget *s4g_loss_chart_new(void);
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
void s4g_loss_chart_add_point(S4gLossChart *self, double step, double epoch, double loss,
                              double lr, double logit_scale, double pairs_per_s);
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
