/* s4g-loss-chart.h — a live training-loss chart.  It is fed the JSON lines that
 * `s4g train --json` prints (objects with step, epoch, loss, lr, logit_scale, pairs_per_s;
 * evaluation objects with r1/r5/r10), draws loss against step with cairo in snapshot (GTK 4.8
 * has no path API) and shows a read-out of the point nearest the pointer. */
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
/* Index of the data point nearest widget x (as the hover read-out uses), or -1. */
int s4g_loss_chart_nearest(S4gLossChart *self, double x);
/* Text of the read-out for point i ("step 40 · loss 2.31 · lr 1e-4 …"). */
char *s4g_loss_chart_describe(S4gLossChart *self, guint i);

G_END_DECLS
