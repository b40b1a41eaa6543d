/* s4g-loss-model.c — the series of a training chart (see the header). */
#include "s4g-loss-model.h"

#include <glib/gi18n.h>
#include <math.h>

typedef struct {
    double step, epoch, loss, lr, logit_scale, pairs_per_s;
} Point;

typedef struct {
    double step, epoch, r1, r5, r10;
} Eval;

struct _S4gLossModel {
    GObject parent_instance;
    GArray *points; /* Point */
    GArray *evals;  /* Eval, by step */
    guint n_stored; /* points[0..n_stored) came from the store */
    guint lines_fed;
    gboolean has_recall;
    double r1, r5, r10;
    double x0, x1, y0, y1; /* the data range, kept with the points */
};

G_DEFINE_FINAL_TYPE(S4gLossModel, s4g_loss_model, G_TYPE_OBJECT)

enum { SIGNAL_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

static void data_range(S4gLossModel *self, double *x0, double *x1, double *y0, double *y1)
{
    *x0 = *y0 = INFINITY;
    *x1 = *y1 = -INFINITY;
    for (guint i = 0; i < self->points->len; i++) {
        Point *p = &g_array_index(self->points, Point, i);
        *x0 = MIN(*x0, p->step);
        *x1 = MAX(*x1, p->step);
        *y0 = MIN(*y0, p->loss);
        *y1 = MAX(*y1, p->loss);
    }
    if (*x1 <= *x0) *x1 = *x0 + 1;
    if (*y1 <= *y0) {
        *y0 -= 0.5;
        *y1 += 0.5;
    }
    double pad = 0.05 * (*y1 - *y0);
    *y0 -= pad;
    *y1 += pad;
}

static void changed(S4gLossModel *self)
{
    data_range(self, &self->x0, &self->x1, &self->y0, &self->y1);
    g_signal_emit(self, signals[SIGNAL_CHANGED], 0);
}

gboolean s4g_loss_model_add_event(S4gLossModel *self, const S4gTrainEvent *ev)
{
    g_return_val_if_fail(S4G_IS_LOSS_MODEL(self) && ev, FALSE);
    if (ev->kind == S4G_TRAIN_EVENT_STEP) {
        s4g_loss_model_add_point(self, (double)ev->step, ev->epoch_progress, ev->loss, ev->lr,
                                 ev->logit_scale, ev->pairs_per_s);
        return TRUE;
    }
    if (ev->kind == S4G_TRAIN_EVENT_EVAL) {
        s4g_loss_model_add_eval(self, NAN, ev->epoch ? (double)ev->epoch : NAN, ev->metrics.r1,
                                ev->metrics.r5, ev->metrics.r10);
        return TRUE;
    }
    return FALSE;
}

gboolean s4g_loss_model_feed_line(S4gLossModel *self, const char *line, GError **error)
{
    g_return_val_if_fail(S4G_IS_LOSS_MODEL(self), FALSE);
    g_autoptr(GError) local = NULL;
    g_autoptr(S4gTrainEvent) ev = s4g_train_event_parse(line, ++self->lines_fed, &local);
    if (!ev) {
        /* a newer trainer's event kind is not a malformed line */
        if (g_error_matches(local, S4G_TRAIN_EVENTS_ERROR, S4G_TRAIN_EVENTS_ERROR_UNKNOWN))
            return TRUE;
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (ev->kind == S4G_TRAIN_EVENT_ERROR) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                    ev->what ? ev->what : _("training failed"));
        return FALSE;
    }
    s4g_loss_model_add_event(self, ev);
    return TRUE;
}

void s4g_loss_model_add_point(S4gLossModel *self, double step, double epoch, double loss, double lr,
                              double logit_scale, double pairs_per_s)
{
    g_return_if_fail(S4G_IS_LOSS_MODEL(self));
    /* keep steps increasing: a repeated step starts over from there */
    guint keep = self->points->len;
    while (keep > 0 && g_array_index(self->points, Point, keep - 1).step >= step)
        keep--;
    g_array_set_size(self->points, keep);
    self->n_stored = MIN(self->n_stored, keep);
    Point p = {step, epoch, loss, lr, logit_scale, pairs_per_s};
    g_array_append_val(self->points, p);
    changed(self);
}

void s4g_loss_model_add_eval(S4gLossModel *self, double step, double epoch, double r1, double r5,
                             double r10)
{
    g_return_if_fail(S4G_IS_LOSS_MODEL(self));
    if (isnan(step))
        step =
            self->points->len ? g_array_index(self->points, Point, self->points->len - 1).step : 0;
    Eval e = {step, epoch, r1, r5, r10};
    guint at = self->evals->len;
    while (at > 0 && g_array_index(self->evals, Eval, at - 1).step > step)
        at--;
    g_array_insert_val(self->evals, at, e);
    /* the read-out shows the latest evaluation */
    Eval *last = &g_array_index(self->evals, Eval, self->evals->len - 1);
    self->has_recall = TRUE;
    self->r1 = last->r1;
    self->r5 = last->r5;
    self->r10 = last->r10;
    changed(self);
}

guint s4g_loss_model_get_n_evals(S4gLossModel *self)
{
    return self->evals->len;
}

gboolean s4g_loss_model_get_eval(S4gLossModel *self, guint i, double *step, double *r1)
{
    if (i >= self->evals->len) return FALSE;
    Eval *e = &g_array_index(self->evals, Eval, i);
    *step = e->step;
    *r1 = e->r1;
    return TRUE;
}

void s4g_loss_model_set_n_stored(S4gLossModel *self, guint n)
{
    self->n_stored = MIN(n, self->points->len);
    changed(self);
}

guint s4g_loss_model_get_n_stored(S4gLossModel *self)
{
    return self->n_stored;
}

void s4g_loss_model_clear(S4gLossModel *self)
{
    g_array_set_size(self->points, 0);
    g_array_set_size(self->evals, 0);
    self->n_stored = 0;
    self->lines_fed = 0;
    self->has_recall = FALSE;
    changed(self);
}

guint s4g_loss_model_get_n_points(S4gLossModel *self)
{
    return self->points->len;
}

gboolean s4g_loss_model_get_point(S4gLossModel *self, guint i, double *step, double *loss)
{
    if (i >= self->points->len) return FALSE;
    Point *p = &g_array_index(self->points, Point, i);
    *step = p->step;
    *loss = p->loss;
    return TRUE;
}

gboolean s4g_loss_model_get_recall(S4gLossModel *self, double *r1, double *r5, double *r10)
{
    if (!self->has_recall) return FALSE;
    *r1 = self->r1;
    *r5 = self->r5;
    *r10 = self->r10;
    return TRUE;
}

char *s4g_loss_model_describe(S4gLossModel *self, guint i)
{
    g_return_val_if_fail(i < self->points->len, NULL);
    Point *p = &g_array_index(self->points, Point, i);
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, _("step %.0f · loss %.4f"), p->step, p->loss);
    if (isfinite(p->epoch)) g_string_append_printf(s, _(" · epoch %.2f"), p->epoch);
    if (isfinite(p->lr)) g_string_append_printf(s, _(" · lr %.2e"), p->lr);
    if (isfinite(p->logit_scale)) g_string_append_printf(s, _(" · scale %.2f"), p->logit_scale);
    if (isfinite(p->pairs_per_s)) g_string_append_printf(s, _(" · %.1f pairs/s"), p->pairs_per_s);
    for (guint e = 0; e < self->evals->len; e++) {
        Eval *ev = &g_array_index(self->evals, Eval, e);
        if (ev->step == p->step) g_string_append_printf(s, _(" · R@1 %.1f%%"), ev->r1);
    }
    return g_string_free(s, FALSE);
}

gboolean s4g_loss_model_get_range(S4gLossModel *self, double *x0, double *x1, double *y0,
                                  double *y1)
{
    g_return_val_if_fail(S4G_IS_LOSS_MODEL(self), FALSE);
    *x0 = self->x0;
    *x1 = self->x1;
    *y0 = self->y0;
    *y1 = self->y1;
    return self->points->len > 0;
}

static double unit_x(S4gLossModel *self, double step)
{
    return (step - self->x0) / (self->x1 - self->x0);
}

gboolean s4g_loss_model_get_point_xy(S4gLossModel *self, guint i, double *x, double *y)
{
    g_return_val_if_fail(S4G_IS_LOSS_MODEL(self), FALSE);
    if (i >= self->points->len) return FALSE;
    Point *p = &g_array_index(self->points, Point, i);
    *x = unit_x(self, p->step);
    *y = (p->loss - self->y0) / (self->y1 - self->y0);
    return TRUE;
}

gboolean s4g_loss_model_get_eval_xy(S4gLossModel *self, guint i, double *x, double *y)
{
    g_return_val_if_fail(S4G_IS_LOSS_MODEL(self), FALSE);
    if (i >= self->evals->len) return FALSE;
    Eval *e = &g_array_index(self->evals, Eval, i);
    *x = unit_x(self, e->step);
    *y = CLAMP(e->r1, 0, 100) / 100.0;
    return TRUE;
}

int s4g_loss_model_nearest(S4gLossModel *self, double x)
{
    g_return_val_if_fail(S4G_IS_LOSS_MODEL(self), -1);
    if (self->points->len == 0) return -1;
    double step = self->x0 + x * (self->x1 - self->x0);
    int best = 0;
    for (guint i = 1; i < self->points->len; i++)
        if (fabs(g_array_index(self->points, Point, i).step - step) <
            fabs(g_array_index(self->points, Point, best).step - step))
            best = (int)i;
    return best;
}

static void finalize(GObject *object)
{
    S4gLossModel *self = S4G_LOSS_MODEL(object);
    g_array_unref(self->points);
    g_array_unref(self->evals);
    G_OBJECT_CLASS(s4g_loss_model_parent_class)->finalize(object);
}

static void s4g_loss_model_class_init(S4gLossModelClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = finalize;
    signals[SIGNAL_CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void s4g_loss_model_init(S4gLossModel *self)
{
    self->points = g_array_new(FALSE, FALSE, sizeof(Point));
    self->evals = g_array_new(FALSE, FALSE, sizeof(Eval));
    data_range(self, &self->x0, &self->x1, &self->y0, &self->y1);
}

S4gLossModel *s4g_loss_model_new(void)
{
    return g_object_new(S4G_TYPE_LOSS_MODEL, NULL);
}
