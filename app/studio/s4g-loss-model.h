/* s4g-loss-model.h — the series a training chart shows, without any drawing: loss per step
 * (with epoch, lr, logit scale and pairs/s for the read-out) and R@1/R@5/R@10 at
 * evaluations, fed from `s4g train --json` events (s4g-train-events.h) or from a past run's
 * stored metrics.  It keeps steps increasing, places each evaluation after its step, marks
 * how many points came from the store (a resumed run's live points continue them), and
 * gives every point in 0–1 coordinates of the data range so a view only scales.  "changed"
 * is emitted after every change; S4gLossChart observes it (Sysprof's series/layer split). */
#pragma once

#include "s4g-train-events.h"

#include <glib-object.h>

G_BEGIN_DECLS

#define S4G_TYPE_LOSS_MODEL (s4g_loss_model_get_type())
G_DECLARE_FINAL_TYPE(S4gLossModel, s4g_loss_model, S4G, LOSS_MODEL, GObject)

S4gLossModel *s4g_loss_model_new(void);
/* Adds a step or eval event; other kinds change nothing.  FALSE for events it ignores. */
gboolean s4g_loss_model_add_event(S4gLossModel *self, const S4gTrainEvent *ev);
/* Parses one line (numbered from 1 since the last clear) and adds it.  FALSE with *error
 * (naming the line and field) for a malformed line, and for an error event (its message). */
gboolean s4g_loss_model_feed_line(S4gLossModel *self, const char *line, GError **error);
void s4g_loss_model_clear(S4gLossModel *self);
/* A point (NaN for unknown fields).  A step at or before the last point replaces the points
 * from that step on (a resumed run repeats no step, but a restarted one might). */
void s4g_loss_model_add_point(S4gLossModel *self, double step, double epoch, double loss, double lr,
                              double logit_scale, double pairs_per_s);
/* An evaluation after `step` (NaN: after the last point so far) at `epoch`; recalls in %. */
void s4g_loss_model_add_eval(S4gLossModel *self, double step, double epoch, double r1, double r5,
                             double r10);
guint s4g_loss_model_get_n_points(S4gLossModel *self);
gboolean s4g_loss_model_get_point(S4gLossModel *self, guint i, double *step, double *loss);
guint s4g_loss_model_get_n_evals(S4gLossModel *self);
gboolean s4g_loss_model_get_eval(S4gLossModel *self, guint i, double *step, double *r1);
/* Latest evaluation recalls in percent; FALSE before the first evaluation. */
gboolean s4g_loss_model_get_recall(S4gLossModel *self, double *r1, double *r5, double *r10);
/* The first n points came from the store; 0 = a live run. */
void s4g_loss_model_set_n_stored(S4gLossModel *self, guint n);
guint s4g_loss_model_get_n_stored(S4gLossModel *self);
/* Text of the read-out for point i ("step 40 · loss 2.31 · lr 1e-4 …"). */
char *s4g_loss_model_describe(S4gLossModel *self, guint i);

/* The data range: steps [x0, x1], loss [y0, y1] with 5 % margins; FALSE without points. */
gboolean s4g_loss_model_get_range(S4gLossModel *self, double *x0, double *x1, double *y0,
                                  double *y1);
/* Point i in 0–1 of the range (y up); evaluation i the same in x, R@1/100 in y. */
gboolean s4g_loss_model_get_point_xy(S4gLossModel *self, guint i, double *x, double *y);
gboolean s4g_loss_model_get_eval_xy(S4gLossModel *self, guint i, double *x, double *y);
/* The point nearest to x in 0–1 of the range, or -1 without points. */
int s4g_loss_model_nearest(S4gLossModel *self, double x);

G_END_DECLS
