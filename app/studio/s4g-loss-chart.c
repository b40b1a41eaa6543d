/* s4g-loss-chart.c — live loss chart (see the header). */
#define G_LOG_DOMAIN "s4g-studio"
#include "s4g-loss-chart.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <math.h>

typedef struct {
    double step, epoch, loss, lr, logit_scale, pairs_per_s;
} Point;

typedef struct {
    double step, epoch, r1, r5, r10;
} Eval;

struct _S4gLossChart {
    GtkWidget parent_instance;
    GArray *points; /* Point */
    GArray *evals;  /* Eval, by step */
    guint n_stored; /* points[0..n_stored) came from the store */
    guint lines_fed;
    gboolean has_recall;
    double r1, r5, r10;
    int hover; /* index of the hovered point or -1 */
    guint redraw_source;
};

G_DEFINE_FINAL_TYPE(S4gLossChart, s4g_loss_chart, GTK_TYPE_WIDGET)

#define PAD_L 56.0
/* right padding: room for the R@1 axis once there are evaluations */
#define PAD_R (self->evals->len ? 44.0 : 12.0)
#define PAD_T 12.0
#define PAD_B 28.0

static gboolean redraw_idle(gpointer data)
{
    S4gLossChart *self = data;
    self->redraw_source = 0;
    gtk_widget_queue_draw(GTK_WIDGET(self));
    return G_SOURCE_REMOVE;
}

/* Coalesce redraws: a fast trainer may print many lines per frame (Sysprof does the same). */
static void schedule_redraw(S4gLossChart *self)
{
    if (!self->redraw_source)
        self->redraw_source = g_idle_add_full(G_PRIORITY_LOW, redraw_idle, self, NULL);
}

static gboolean member_double(JsonObject *o, const char *name, double *out)
{
    JsonNode *n = json_object_get_member(o, name);
    if (!n || !JSON_NODE_HOLDS_VALUE(n)) return FALSE;
    GType t = json_node_get_value_type(n);
    if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64) return FALSE;
    *out = json_node_get_double(n);
    return TRUE;
}

gboolean s4g_loss_chart_feed_line(S4gLossChart *self, const char *line, GError **error)
{
    g_return_val_if_fail(S4G_IS_LOSS_CHART(self), FALSE);
    guint lineno = ++self->lines_fed;
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, line, -1, error)) {
        g_prefix_error(error, "training output line %u: ", lineno);
        return FALSE;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                    "training output line %u: expected a JSON object", lineno);
        return FALSE;
    }
    JsonObject *o = json_node_get_object(root);
    /* `s4g train --json` tags each object with "event"; only step and eval carry data for the
     * chart, an error event is reported, the rest (start, mined, checkpoint, end) pass. */
    const char *event = json_object_get_string_member_with_default(o, "event", NULL);
    if (event && g_strcmp0(event, "error") == 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                    json_object_get_string_member_with_default(o, "message", _("training failed")));
        return FALSE;
    }
    if (event && g_strcmp0(event, "step") != 0 && g_strcmp0(event, "eval") != 0) return TRUE;
    double r1;
    if (member_double(o, "r1", &r1)) {
        double r5 = NAN, r10 = NAN, epoch = NAN;
        member_double(o, "r5", &r5);
        member_double(o, "r10", &r10);
        member_double(o, "epoch", &epoch);
        s4g_loss_chart_add_eval(self, NAN, epoch, r1, r5, r10);
        return TRUE;
    }
    Point p = {.epoch = NAN, .lr = NAN, .logit_scale = NAN, .pairs_per_s = NAN};
    if (!member_double(o, "step", &p.step)) {
        g_set_error(error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                    "training output line %u: field “step” missing or not a number", lineno);
        return FALSE;
    }
    if (!member_double(o, "loss", &p.loss) || !isfinite(p.loss)) {
        g_set_error(error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                    "training output line %u: field “loss” missing or not a finite number", lineno);
        return FALSE;
    }
    member_double(o, "epoch", &p.epoch);
    member_double(o, "lr", &p.lr);
    member_double(o, "logit_scale", &p.logit_scale);
    member_double(o, "pairs_per_s", &p.pairs_per_s);
    s4g_loss_chart_add_point(self, p.step, p.epoch, p.loss, p.lr, p.logit_scale, p.pairs_per_s);
    return TRUE;
}

void s4g_loss_chart_add_point(S4gLossChart *self, double step, double epoch, double loss,
                              double lr, double logit_scale, double pairs_per_s)
{
    g_return_if_fail(S4G_IS_LOSS_CHART(self));
    /* keep steps increasing: a repeated step starts over from there */
    guint keep = self->points->len;
    while (keep > 0 && g_array_index(self->points, Point, keep - 1).step >= step)
        keep--;
    g_array_set_size(self->points, keep);
    self->n_stored = MIN(self->n_stored, keep);
    Point p = {step, epoch, loss, lr, logit_scale, pairs_per_s};
    g_array_append_val(self->points, p);
    if (self->hover >= (int)self->points->len) self->hover = -1;
    schedule_redraw(self);
}

void s4g_loss_chart_add_eval(S4gLossChart *self, double step, double epoch, double r1, double r5,
                             double r10)
{
    g_return_if_fail(S4G_IS_LOSS_CHART(self));
    if (isnan(step))
        step = self->points->len
                   ? g_array_index(self->points, Point, self->points->len - 1).step
                   : 0;
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
    schedule_redraw(self);
}

guint s4g_loss_chart_get_n_evals(S4gLossChart *self)
{
    return self->evals->len;
}

gboolean s4g_loss_chart_get_eval(S4gLossChart *self, guint i, double *step, double *r1)
{
    if (i >= self->evals->len) return FALSE;
    Eval *e = &g_array_index(self->evals, Eval, i);
    *step = e->step;
    *r1 = e->r1;
    return TRUE;
}

void s4g_loss_chart_set_n_stored(S4gLossChart *self, guint n)
{
    self->n_stored = MIN(n, self->points->len);
    schedule_redraw(self);
}

guint s4g_loss_chart_get_n_stored(S4gLossChart *self)
{
    return self->n_stored;
}

void s4g_loss_chart_clear(S4gLossChart *self)
{
    g_array_set_size(self->points, 0);
    g_array_set_size(self->evals, 0);
    self->n_stored = 0;
    self->lines_fed = 0;
    self->has_recall = FALSE;
    self->hover = -1;
    schedule_redraw(self);
}

guint s4g_loss_chart_get_n_points(S4gLossChart *self)
{
    return self->points->len;
}

gboolean s4g_loss_chart_get_point(S4gLossChart *self, guint i, double *step, double *loss)
{
    if (i >= self->points->len) return FALSE;
    Point *p = &g_array_index(self->points, Point, i);
    *step = p->step;
    *loss = p->loss;
    return TRUE;
}

gboolean s4g_loss_chart_get_recall(S4gLossChart *self, double *r1, double *r5, double *r10)
{
    if (!self->has_recall) return FALSE;
    *r1 = self->r1;
    *r5 = self->r5;
    *r10 = self->r10;
    return TRUE;
}

static void data_range(S4gLossChart *self, double *x0, double *x1, double *y0, double *y1)
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

int s4g_loss_chart_nearest(S4gLossChart *self, double x)
{
    if (self->points->len == 0) return -1;
    double x0, x1, y0, y1;
    data_range(self, &x0, &x1, &y0, &y1);
    double w = gtk_widget_get_width(GTK_WIDGET(self)) - PAD_L - PAD_R;
    double step = x0 + (x - PAD_L) / MAX(w, 1.0) * (x1 - x0);
    int best = 0;
    for (guint i = 1; i < self->points->len; i++)
        if (fabs(g_array_index(self->points, Point, i).step - step) <
            fabs(g_array_index(self->points, Point, best).step - step))
            best = (int)i;
    return best;
}

char *s4g_loss_chart_describe(S4gLossChart *self, guint i)
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

static void snapshot(GtkWidget *widget, GtkSnapshot *snap)
{
    S4gLossChart *self = S4G_LOSS_CHART(widget);
    double w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
    if (w < PAD_L + PAD_R + 10 || h < PAD_T + PAD_B + 10) return;
    GdkRGBA fg;
    gtk_style_context_get_color(gtk_widget_get_style_context(widget), &fg);
    cairo_t *cr = gtk_snapshot_append_cairo(snap, &GRAPHENE_RECT_INIT(0, 0, (float)w, (float)h));
    double pw = w - PAD_L - PAD_R, ph = h - PAD_T - PAD_B;

    cairo_set_line_width(cr, 1);
    cairo_set_source_rgba(cr, fg.red, fg.green, fg.blue, 0.15);
    for (int g = 0; g <= 4; g++) {
        double y = PAD_T + ph * g / 4.0;
        cairo_move_to(cr, PAD_L, y + 0.5);
        cairo_line_to(cr, PAD_L + pw, y + 0.5);
    }
    cairo_stroke(cr);
    cairo_set_source_rgba(cr, fg.red, fg.green, fg.blue, 0.8);
    cairo_select_font_face(cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, 11);

    if (self->points->len == 0) {
        cairo_move_to(cr, PAD_L + 8, PAD_T + ph / 2);
        cairo_show_text(cr, _("Waiting for training output…"));
        cairo_destroy(cr);
        return;
    }
    double x0, x1, y0, y1;
    data_range(self, &x0, &x1, &y0, &y1);
    for (int g = 0; g <= 4; g++) {
        char buf[32];
        g_snprintf(buf, sizeof buf, "%.3g", y1 - (y1 - y0) * g / 4.0);
        cairo_move_to(cr, 4, PAD_T + ph * g / 4.0 + 4);
        cairo_show_text(cr, buf);
    }
    char buf[64];
    g_snprintf(buf, sizeof buf, _("step %.0f"), x0);
    cairo_move_to(cr, PAD_L, h - 8);
    cairo_show_text(cr, buf);
    g_snprintf(buf, sizeof buf, _("step %.0f"), x1);
    cairo_text_extents_t ext;
    cairo_text_extents(cr, buf, &ext);
    cairo_move_to(cr, PAD_L + pw - ext.width, h - 8);
    cairo_show_text(cr, buf);

#define PX(s) (PAD_L + ((s)-x0) / (x1 - x0) * pw)
#define PY(l) (PAD_T + (1 - ((l)-y0) / (y1 - y0)) * ph)
    cairo_set_source_rgb(cr, 0.21, 0.52, 0.89); /* GNOME blue 3 */
    cairo_set_line_width(cr, 2);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    for (guint i = 0; i < self->points->len; i++) {
        Point *p = &g_array_index(self->points, Point, i);
        if (i == 0)
            cairo_move_to(cr, PX(p->step), PY(p->loss));
        else
            cairo_line_to(cr, PX(p->step), PY(p->loss));
    }
    cairo_stroke(cr);

    /* where a resumed run's live points start */
    if (self->n_stored > 0 && self->n_stored < self->points->len) {
        double xs = PX(g_array_index(self->points, Point, self->n_stored - 1).step);
        const double dash[] = {4, 3};
        cairo_set_dash(cr, dash, 2, 0);
        cairo_set_line_width(cr, 1);
        cairo_set_source_rgba(cr, fg.red, fg.green, fg.blue, 0.5);
        cairo_move_to(cr, round(xs) + 0.5, PAD_T);
        cairo_line_to(cr, round(xs) + 0.5, PAD_T + ph);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        cairo_move_to(cr, xs + 4, PAD_T + ph - 6);
        cairo_show_text(cr, _("resumed"));
    }

    /* R@1 at evaluations on the right axis, 0–100 % */
    if (self->evals->len > 0) {
        cairo_set_source_rgba(cr, fg.red, fg.green, fg.blue, 0.8);
        for (int g = 0; g <= 4; g += 2) {
            g_snprintf(buf, sizeof buf, "%d%%", 100 - 25 * g);
            cairo_move_to(cr, PAD_L + pw + 4, PAD_T + ph * g / 4.0 + 4);
            cairo_show_text(cr, buf);
        }
        cairo_set_source_rgb(cr, 0.90, 0.38, 0.0); /* GNOME orange 5 */
        cairo_set_line_width(cr, 1.5);
#define RY(r) (PAD_T + (1 - CLAMP((r), 0, 100) / 100.0) * ph)
        for (guint i = 0; i < self->evals->len; i++) {
            Eval *e = &g_array_index(self->evals, Eval, i);
            if (i == 0)
                cairo_move_to(cr, PX(e->step), RY(e->r1));
            else
                cairo_line_to(cr, PX(e->step), RY(e->r1));
        }
        cairo_stroke(cr);
        for (guint i = 0; i < self->evals->len; i++) {
            Eval *e = &g_array_index(self->evals, Eval, i);
            cairo_arc(cr, PX(e->step), RY(e->r1), 3.5, 0, 2 * G_PI);
            cairo_fill(cr);
        }
#undef RY
        cairo_move_to(cr, PAD_L + pw + 4, PAD_T + ph + 16);
        cairo_show_text(cr, _("R@1"));
    }

    if (self->hover >= 0 && (guint)self->hover < self->points->len) {
        Point *p = &g_array_index(self->points, Point, self->hover);
        cairo_set_source_rgb(cr, 0.21, 0.52, 0.89);
        cairo_rectangle(cr, PX(p->step) - 4, PY(p->loss) - 4, 8, 8);
        cairo_fill(cr);
        g_autofree char *text = s4g_loss_chart_describe(self, (guint)self->hover);
        cairo_set_source_rgba(cr, fg.red, fg.green, fg.blue, 0.9);
        cairo_move_to(cr, PAD_L + 6, PAD_T + 14);
        cairo_show_text(cr, text);
    }
    if (self->has_recall) {
        g_snprintf(buf, sizeof buf, _("R@1 %.1f%%  R@5 %.1f%%  R@10 %.1f%%"), self->r1, self->r5,
                   self->r10);
        cairo_text_extents(cr, buf, &ext);
        cairo_set_source_rgba(cr, fg.red, fg.green, fg.blue, 0.9);
        cairo_move_to(cr, PAD_L + pw - ext.width - 4, PAD_T + 30);
        cairo_show_text(cr, buf);
    }
#undef PX
#undef PY
    cairo_destroy(cr);
}

static void on_motion(GtkEventControllerMotion *c, double x, double y, S4gLossChart *self)
{
    int n = s4g_loss_chart_nearest(self, x);
    if (n != self->hover) {
        self->hover = n;
        gtk_widget_queue_draw(GTK_WIDGET(self));
        if (n >= 0) {
            g_autofree char *text = s4g_loss_chart_describe(self, (guint)n);
            gtk_widget_set_tooltip_text(GTK_WIDGET(self), text);
        }
    }
}

static void on_leave(GtkEventControllerMotion *c, S4gLossChart *self)
{
    self->hover = -1;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void measure(GtkWidget *w, GtkOrientation o, int for_size, int *min, int *nat, int *minb,
                    int *natb)
{
    *min = o == GTK_ORIENTATION_HORIZONTAL ? 240 : 160;
    *nat = o == GTK_ORIENTATION_HORIZONTAL ? 480 : 240;
}

static void dispose(GObject *object)
{
    S4gLossChart *self = S4G_LOSS_CHART(object);
    g_clear_handle_id(&self->redraw_source, g_source_remove);
    G_OBJECT_CLASS(s4g_loss_chart_parent_class)->dispose(object);
}

static void finalize(GObject *object)
{
    g_array_unref(S4G_LOSS_CHART(object)->points);
    g_array_unref(S4G_LOSS_CHART(object)->evals);
    G_OBJECT_CLASS(s4g_loss_chart_parent_class)->finalize(object);
}

static void s4g_loss_chart_class_init(S4gLossChartClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = dispose;
    G_OBJECT_CLASS(klass)->finalize = finalize;
    GTK_WIDGET_CLASS(klass)->snapshot = snapshot;
    GTK_WIDGET_CLASS(klass)->measure = measure;
    gtk_widget_class_set_css_name(GTK_WIDGET_CLASS(klass), "losschart");
    gtk_widget_class_set_accessible_role(GTK_WIDGET_CLASS(klass), GTK_ACCESSIBLE_ROLE_IMG);
}

static void s4g_loss_chart_init(S4gLossChart *self)
{
    self->points = g_array_new(FALSE, FALSE, sizeof(Point));
    self->evals = g_array_new(FALSE, FALSE, sizeof(Eval));
    self->hover = -1;
    GtkEventController *motion = gtk_event_controller_motion_new();
    g_signal_connect(motion, "motion", G_CALLBACK(on_motion), self);
    g_signal_connect(motion, "leave", G_CALLBACK(on_leave), self);
    gtk_widget_add_controller(GTK_WIDGET(self), motion);
    gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   _("Training loss chart"), -1);
}

GtkWidget *s4g_loss_chart_new(void)
{
    return g_object_new(S4G_TYPE_LOSS_CHART, NULL);
}
