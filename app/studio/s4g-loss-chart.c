/* s4g-loss-chart.c — the drawing of a training chart (see the header). */
#include "s4g-loss-chart.h"

#include <glib/gi18n.h>
#include <math.h>

struct _S4gLossChart {
    GtkWidget parent_instance;
    S4gLossModel *model;
    int hover; /* index of the hovered point or -1 */
    guint redraw_source;
};

G_DEFINE_FINAL_TYPE(S4gLossChart, s4g_loss_chart, GTK_TYPE_WIDGET)

#define PAD_L 56.0
/* right padding: room for the R@1 axis once there are evaluations */
#define PAD_R (s4g_loss_model_get_n_evals(self->model) ? 44.0 : 12.0)
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
static void on_model_changed(S4gLossChart *self)
{
    if (self->hover >= (int)s4g_loss_model_get_n_points(self->model)) self->hover = -1;
    if (!self->redraw_source)
        self->redraw_source = g_idle_add_full(G_PRIORITY_LOW, redraw_idle, self, NULL);
}

S4gLossModel *s4g_loss_chart_get_model(S4gLossChart *self)
{
    g_return_val_if_fail(S4G_IS_LOSS_CHART(self), NULL);
    return self->model;
}

int s4g_loss_chart_nearest(S4gLossChart *self, double x)
{
    double w = gtk_widget_get_width(GTK_WIDGET(self)) - PAD_L - PAD_R;
    return s4g_loss_model_nearest(self->model, (x - PAD_L) / MAX(w, 1.0));
}

/* ---- drawing ----------------------------------------------------------------------- */

typedef struct {
    GtkWidget *widget;
    cairo_t *cr;
    double pw, ph; /* the plot area, at (PAD_L, PAD_T) */
    GdkRGBA fg, loss, recall;
} Canvas;

/* A colour the style names (libadwaita's palette and accent), else the GNOME palette's. */
static GdkRGBA style_color(GtkWidget *w, const char *name, const char *fallback)
{
    GdkRGBA c;
    if (!gtk_style_context_lookup_color(gtk_widget_get_style_context(w), name, &c))
        gdk_rgba_parse(&c, fallback);
    return c;
}

static void set_color(Canvas *c, const GdkRGBA *rgba, double alpha)
{
    cairo_set_source_rgba(c->cr, rgba->red, rgba->green, rgba->blue, rgba->alpha * alpha);
}

/* Text in the widget's font (a size smaller), left or right of x, on the baseline y. */
static void draw_text(Canvas *c, const char *text, double x, double y, gboolean right)
{
    PangoLayout *layout = gtk_widget_create_pango_layout(c->widget, text);
    PangoAttrList *attrs = pango_attr_list_new();
    pango_attr_list_insert(attrs, pango_attr_scale_new(PANGO_SCALE_SMALL));
    pango_layout_set_attributes(layout, attrs);
    pango_attr_list_unref(attrs);
    int width;
    pango_layout_get_pixel_size(layout, &width, NULL);
    double top = y - pango_layout_get_baseline(layout) / (double)PANGO_SCALE;
    cairo_move_to(c->cr, right ? x - width : x, top);
    pango_cairo_show_layout(c->cr, layout);
    g_object_unref(layout);
}

static double px(Canvas *c, double x)
{
    return PAD_L + x * c->pw;
}

static double py(Canvas *c, double y)
{
    return PAD_T + (1 - y) * c->ph;
}

static void draw_grid(Canvas *c)
{
    cairo_set_line_width(c->cr, 1);
    set_color(c, &c->fg, 0.15);
    for (int g = 0; g <= 4; g++) {
        double y = PAD_T + c->ph * g / 4.0;
        cairo_move_to(c->cr, PAD_L, y + 0.5);
        cairo_line_to(c->cr, PAD_L + c->pw, y + 0.5);
    }
    cairo_stroke(c->cr);
}

static void draw_axes(S4gLossChart *self, Canvas *c, double h)
{
    double x0, x1, y0, y1;
    s4g_loss_model_get_range(self->model, &x0, &x1, &y0, &y1);
    set_color(c, &c->fg, 0.8);
    for (int g = 0; g <= 4; g++) {
        char buf[32];
        g_snprintf(buf, sizeof buf, "%.3g", y1 - (y1 - y0) * g / 4.0);
        draw_text(c, buf, 4, PAD_T + c->ph * g / 4.0 + 4, FALSE);
    }
    char buf[64];
    g_snprintf(buf, sizeof buf, _("step %.0f"), x0);
    draw_text(c, buf, PAD_L, h - 8, FALSE);
    g_snprintf(buf, sizeof buf, _("step %.0f"), x1);
    draw_text(c, buf, PAD_L + c->pw, h - 8, TRUE);
}

/* One series of the model (its points in 0–1) as a line through the plot. */
typedef gboolean (*SeriesXY)(S4gLossModel *model, guint i, double *x, double *y);

static void stroke_series(S4gLossChart *self, Canvas *c, SeriesXY xy)
{
    double x, y;
    for (guint i = 0; xy(self->model, i, &x, &y); i++)
        if (i == 0)
            cairo_move_to(c->cr, px(c, x), py(c, y));
        else
            cairo_line_to(c->cr, px(c, x), py(c, y));
    cairo_stroke(c->cr);
}

static void draw_loss(S4gLossChart *self, Canvas *c)
{
    set_color(c, &c->loss, 1);
    cairo_set_line_width(c->cr, 2);
    cairo_set_line_join(c->cr, CAIRO_LINE_JOIN_ROUND);
    stroke_series(self, c, s4g_loss_model_get_point_xy);
}

/* where a resumed run's live points start */
static void draw_resume_mark(S4gLossChart *self, Canvas *c)
{
    guint stored = s4g_loss_model_get_n_stored(self->model);
    if (stored == 0 || stored >= s4g_loss_model_get_n_points(self->model)) return;
    double x, y;
    s4g_loss_model_get_point_xy(self->model, stored - 1, &x, &y);
    double xs = px(c, x);
    const double dash[] = {4, 3};
    cairo_set_dash(c->cr, dash, 2, 0);
    cairo_set_line_width(c->cr, 1);
    set_color(c, &c->fg, 0.5);
    cairo_move_to(c->cr, round(xs) + 0.5, PAD_T);
    cairo_line_to(c->cr, round(xs) + 0.5, PAD_T + c->ph);
    cairo_stroke(c->cr);
    cairo_set_dash(c->cr, NULL, 0, 0);
    draw_text(c, _("resumed"), xs + 4, PAD_T + c->ph - 6, FALSE);
}

/* R@1 at evaluations on the right axis, 0–100 % */
static void draw_recall(S4gLossChart *self, Canvas *c)
{
    if (s4g_loss_model_get_n_evals(self->model) == 0) return;
    set_color(c, &c->fg, 0.8);
    for (int g = 0; g <= 4; g += 2) {
        char buf[16];
        g_snprintf(buf, sizeof buf, "%d%%", 100 - 25 * g);
        draw_text(c, buf, PAD_L + c->pw + 4, PAD_T + c->ph * g / 4.0 + 4, FALSE);
    }
    set_color(c, &c->recall, 1);
    cairo_set_line_width(c->cr, 1.5);
    stroke_series(self, c, s4g_loss_model_get_eval_xy);
    double x, y;
    for (guint i = 0; s4g_loss_model_get_eval_xy(self->model, i, &x, &y); i++) {
        cairo_arc(c->cr, px(c, x), py(c, y), 3.5, 0, 2 * G_PI);
        cairo_fill(c->cr);
    }
    draw_text(c, _("R@1"), PAD_L + c->pw + 4, PAD_T + c->ph + 16, FALSE);
}

static void draw_readouts(S4gLossChart *self, Canvas *c)
{
    double x, y;
    if (self->hover >= 0 && s4g_loss_model_get_point_xy(self->model, (guint)self->hover, &x, &y)) {
        set_color(c, &c->loss, 1);
        cairo_rectangle(c->cr, px(c, x) - 4, py(c, y) - 4, 8, 8);
        cairo_fill(c->cr);
        g_autofree char *text = s4g_loss_model_describe(self->model, (guint)self->hover);
        set_color(c, &c->fg, 0.9);
        draw_text(c, text, PAD_L + 6, PAD_T + 14, FALSE);
    }
    double r1, r5, r10;
    if (s4g_loss_model_get_recall(self->model, &r1, &r5, &r10)) {
        g_autofree char *text =
            g_strdup_printf(_("R@1 %.1f%%  R@5 %.1f%%  R@10 %.1f%%"), r1, r5, r10);
        set_color(c, &c->fg, 0.9);
        draw_text(c, text, PAD_L + c->pw - 4, PAD_T + 30, TRUE);
    }
}

static void snapshot(GtkWidget *widget, GtkSnapshot *snap)
{
    S4gLossChart *self = S4G_LOSS_CHART(widget);
    double w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
    if (w < PAD_L + PAD_R + 10 || h < PAD_T + PAD_B + 10) return;
    Canvas c = {.widget = widget, .pw = w - PAD_L - PAD_R, .ph = h - PAD_T - PAD_B};
    gtk_style_context_get_color(gtk_widget_get_style_context(widget), &c.fg);
    c.loss = style_color(widget, "accent_color", "#3584e4");
    c.recall = style_color(widget, "orange_4", "#e66100");
    c.cr = gtk_snapshot_append_cairo(snap, &GRAPHENE_RECT_INIT(0, 0, (float)w, (float)h));
    draw_grid(&c);
    if (s4g_loss_model_get_n_points(self->model) == 0) {
        set_color(&c, &c.fg, 0.8);
        draw_text(&c, _("Waiting for training output…"), PAD_L + 8, PAD_T + c.ph / 2, FALSE);
    } else {
        draw_axes(self, &c, h);
        draw_loss(self, &c);
        draw_resume_mark(self, &c);
        draw_recall(self, &c);
        draw_readouts(self, &c);
    }
    cairo_destroy(c.cr);
}

/* ---- pointer ----------------------------------------------------------------------- */

static void on_motion(GtkEventControllerMotion *c, double x, double y, S4gLossChart *self)
{
    int n = s4g_loss_chart_nearest(self, x);
    if (n != self->hover) {
        self->hover = n;
        gtk_widget_queue_draw(GTK_WIDGET(self));
        if (n >= 0) {
            g_autofree char *text = s4g_loss_model_describe(self->model, (guint)n);
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
    if (self->model) g_signal_handlers_disconnect_by_data(self->model, self);
    g_clear_object(&self->model);
    G_OBJECT_CLASS(s4g_loss_chart_parent_class)->dispose(object);
}

static void s4g_loss_chart_class_init(S4gLossChartClass *klass)
{
    G_OBJECT_CLASS(klass)->dispose = dispose;
    GTK_WIDGET_CLASS(klass)->snapshot = snapshot;
    GTK_WIDGET_CLASS(klass)->measure = measure;
    gtk_widget_class_set_css_name(GTK_WIDGET_CLASS(klass), "losschart");
    gtk_widget_class_set_accessible_role(GTK_WIDGET_CLASS(klass), GTK_ACCESSIBLE_ROLE_IMG);
}

static void s4g_loss_chart_init(S4gLossChart *self)
{
    self->model = s4g_loss_model_new();
    g_signal_connect_swapped(self->model, "changed", G_CALLBACK(on_model_changed), self);
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

/* ---- the model's calls on the chart (its users predate the model) ---------------------- */

gboolean s4g_loss_chart_feed_line(S4gLossChart *self, const char *line, GError **error)
{
    return s4g_loss_model_feed_line(self->model, line, error);
}

void s4g_loss_chart_clear(S4gLossChart *self)
{
    s4g_loss_model_clear(self->model);
}

guint s4g_loss_chart_get_n_points(S4gLossChart *self)
{
    return s4g_loss_model_get_n_points(self->model);
}

gboolean s4g_loss_chart_get_point(S4gLossChart *self, guint i, double *step, double *loss)
{
    return s4g_loss_model_get_point(self->model, i, step, loss);
}

gboolean s4g_loss_chart_get_recall(S4gLossChart *self, double *r1, double *r5, double *r10)
{
    return s4g_loss_model_get_recall(self->model, r1, r5, r10);
}

void s4g_loss_chart_add_point(S4gLossChart *self, double step, double epoch, double loss, double lr,
                              double logit_scale, double pairs_per_s)
{
    s4g_loss_model_add_point(self->model, step, epoch, loss, lr, logit_scale, pairs_per_s);
}

void s4g_loss_chart_add_eval(S4gLossChart *self, double step, double epoch, double r1, double r5,
                             double r10)
{
    s4g_loss_model_add_eval(self->model, step, epoch, r1, r5, r10);
}

guint s4g_loss_chart_get_n_evals(S4gLossChart *self)
{
    return s4g_loss_model_get_n_evals(self->model);
}

gboolean s4g_loss_chart_get_eval(S4gLossChart *self, guint i, double *step, double *r1)
{
    return s4g_loss_model_get_eval(self->model, i, step, r1);
}

void s4g_loss_chart_set_n_stored(S4gLossChart *self, guint n)
{
    s4g_loss_model_set_n_stored(self->model, n);
}

guint s4g_loss_chart_get_n_stored(S4gLossChart *self)
{
    return s4g_loss_model_get_n_stored(self->model);
}

char *s4g_loss_chart_describe(S4gLossChart *self, guint i)
{
    return s4g_loss_model_describe(self->model, i);
}
