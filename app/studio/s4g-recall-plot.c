/* s4g-recall-plot.c — recall-by-distance curve (see the header). */
#include "s4g-recall-plot.h"

#include <glib/gi18n.h>
#include <math.h>

struct _S4gRecallPlot {
    GtkWidget parent_instance;
    GArray *errors; /* double, sorted ascending */
};

G_DEFINE_FINAL_TYPE(S4gRecallPlot, s4g_recall_plot, GTK_TYPE_WIDGET)

enum { PAD_L = 34, PAD_R = 8, PAD_T = 8, PAD_B = 20 };

static int cmp_double(gconstpointer a, gconstpointer b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void s4g_recall_plot_get_range(S4gRecallPlot *self, double *lo, double *hi)
{
    guint n = self->errors->len;
    double min = n ? MAX(g_array_index(self->errors, double, 0), 1) : 1;
    double max = n ? MAX(g_array_index(self->errors, double, n - 1), 1) : 1e4;
    *lo = pow(10, floor(log10(min)));
    *hi = pow(10, ceil(log10(max)));
    if (*hi <= *lo * 10) *hi = *lo * 100; /* two decades at least */
}

double s4g_recall_plot_recall_at(S4gRecallPlot *self, double d)
{
    guint n = self->errors->len, lo = 0, hi = n;
    while (lo < hi) { /* count of errors ≤ d */
        guint mid = (lo + hi) / 2;
        if (g_array_index(self->errors, double, mid) <= d)
            lo = mid + 1;
        else
            hi = mid;
    }
    return n ? (double)lo / n : 0;
}

guint s4g_recall_plot_get_n(S4gRecallPlot *self)
{
    return self->errors->len;
}

void s4g_recall_plot_set_errors(S4gRecallPlot *self, const double *errors, guint n)
{
    g_array_set_size(self->errors, 0);
    for (guint i = 0; i < n; i++)
        if (isfinite(errors[i])) g_array_append_val(self->errors, errors[i]);
    g_array_sort(self->errors, cmp_double);
    g_autofree char *acc = NULL;
    if (self->errors->len) {
        acc = g_strdup_printf(_("Recall by distance of %u photos: %.0f %% within 100 m, %.0f %% "
                                "within 1 km"),
                              self->errors->len, 100 * s4g_recall_plot_recall_at(self, 100),
                              100 * s4g_recall_plot_recall_at(self, 1000));
    } else {
        acc = g_strdup(_("Recall by distance: no predictions in this search space"));
    }
    gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL, acc, -1);
    gtk_widget_set_tooltip_text(GTK_WIDGET(self), acc);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

static GdkRGBA style_color(GtkWidget *w, const char *name)
{
    GdkRGBA c;
    GtkStyleContext *sc = gtk_widget_get_style_context(w);
    G_GNUC_BEGIN_IGNORE_DEPRECATIONS
    if (!name || !gtk_style_context_lookup_color(sc, name, &c)) gtk_style_context_get_color(sc, &c);
    G_GNUC_END_IGNORE_DEPRECATIONS
    return c;
}

static void text(GtkWidget *w, GtkSnapshot *s, const char *str, double x, double y, double align)
{
    PangoLayout *layout = gtk_widget_create_pango_layout(w, str);
    PangoAttrList *attrs = pango_attr_list_new();
    pango_attr_list_insert(attrs, pango_attr_scale_new(0.8));
    pango_layout_set_attributes(layout, attrs);
    pango_attr_list_unref(attrs);
    int tw, th;
    pango_layout_get_pixel_size(layout, &tw, &th);
    GdkRGBA fg = style_color(w, NULL);
    fg.alpha *= 0.7;
    gtk_snapshot_save(s);
    gtk_snapshot_translate(s, &GRAPHENE_POINT_INIT(x - tw * align, y - th / 2.0));
    gtk_snapshot_append_layout(s, layout, &fg);
    gtk_snapshot_restore(s);
    g_object_unref(layout);
}

static char *distance_label(double d)
{
    return d >= 1000 ? g_strdup_printf(_("%g km"), d / 1000) : g_strdup_printf(_("%g m"), d);
}

static void snapshot(GtkWidget *w, GtkSnapshot *s)
{
    S4gRecallPlot *self = S4G_RECALL_PLOT(w);
    int width = gtk_widget_get_width(w), height = gtk_widget_get_height(w);
    double pw = width - PAD_L - PAD_R, ph = height - PAD_T - PAD_B;
    if (pw < 10 || ph < 10) return;
    double lo, hi;
    s4g_recall_plot_get_range(self, &lo, &hi);
    double l0 = log10(lo), l1 = log10(hi);
#define PX(d) (PAD_L + pw * (log10(d) - l0) / (l1 - l0))
#define PY(r) (PAD_T + ph * (1 - (r)))
    GdkRGBA fg = style_color(w, NULL), accent = style_color(w, "accent_color");
    cairo_t *cr = gtk_snapshot_append_cairo(s, &GRAPHENE_RECT_INIT(0, 0, width, height));
    cairo_set_line_width(cr, 1);
    cairo_set_source_rgba(cr, fg.red, fg.green, fg.blue, fg.alpha * 0.15);
    for (double d = lo; d <= hi * 1.0001; d *= 10) { /* decades */
        cairo_move_to(cr, round(PX(d)) + 0.5, PAD_T);
        cairo_line_to(cr, round(PX(d)) + 0.5, PAD_T + ph);
    }
    for (int q = 0; q <= 4; q++) {
        cairo_move_to(cr, PAD_L, round(PY(q / 4.0)) + 0.5);
        cairo_line_to(cr, PAD_L + pw, round(PY(q / 4.0)) + 0.5);
    }
    cairo_stroke(cr);
    guint n = self->errors->len;
    if (n) { /* the empirical distribution as a step curve */
        cairo_set_source_rgba(cr, accent.red, accent.green, accent.blue, accent.alpha);
        cairo_set_line_width(cr, 2);
        double y = PY(s4g_recall_plot_recall_at(self, lo));
        cairo_move_to(cr, PX(lo), y);
        for (guint i = 0; i < n; i++) {
            double d = CLAMP(g_array_index(self->errors, double, i), lo, hi);
            cairo_line_to(cr, PX(d), y); /* flat until the next error, then up */
            y = PY(s4g_recall_plot_recall_at(self, d));
            cairo_line_to(cr, PX(d), y);
        }
        cairo_line_to(cr, PX(hi), PY(1));
        cairo_stroke(cr);
    }
    cairo_destroy(cr);
    for (double d = lo; d <= hi * 1.0001; d *= 10) {
        g_autofree char *t = distance_label(d);
        text(w, s, t, PX(d), PAD_T + ph + PAD_B / 2.0 + 1, d == lo ? 0 : d >= hi ? 1 : 0.5);
    }
    text(w, s, "100 %", PAD_L - 3, PY(1) + 4, 1);
    text(w, s, "50 %", PAD_L - 3, PY(0.5), 1);
    text(w, s, "0 %", PAD_L - 3, PY(0) - 4, 1);
    if (!n) text(w, s, _("No predictions"), PAD_L + pw / 2, PAD_T + ph / 2, 0.5);
#undef PX
#undef PY
}

static void measure(GtkWidget *w, GtkOrientation o, int for_size, int *min, int *nat, int *min_b,
                    int *nat_b)
{
    *min = o == GTK_ORIENTATION_HORIZONTAL ? 160 : 110;
    *nat = o == GTK_ORIENTATION_HORIZONTAL ? 240 : 130;
    *min_b = *nat_b = -1;
}

static void finalize(GObject *o)
{
    g_array_unref(S4G_RECALL_PLOT(o)->errors);
    G_OBJECT_CLASS(s4g_recall_plot_parent_class)->finalize(o);
}

static void s4g_recall_plot_class_init(S4gRecallPlotClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = finalize;
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    wc->snapshot = snapshot;
    wc->measure = measure;
    gtk_widget_class_set_css_name(wc, "s4g-recall-plot");
    gtk_widget_class_set_accessible_role(wc, GTK_ACCESSIBLE_ROLE_IMG);
}

static void s4g_recall_plot_init(S4gRecallPlot *self)
{
    self->errors = g_array_new(FALSE, FALSE, sizeof(double));
    s4g_recall_plot_set_errors(self, NULL, 0);
}

GtkWidget *s4g_recall_plot_new(void)
{
    return g_object_new(S4G_TYPE_RECALL_PLOT, NULL);
}
