/* s4g-embedding-view.c — 2-D embedding scatter (see the header). */
#include "s4g-embedding-view.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

struct _S4gEmbeddingView {
    GtkWidget parent_instance;
    guint n;
    float *xy;
    gint64 *ids;
    gboolean *ground;
    double *error;
    float x0, x1, y0, y1; /* the points' extent */
    gint64 selected;
};

G_DEFINE_FINAL_TYPE(S4gEmbeddingView, s4g_embedding_view, GTK_TYPE_WIDGET)

enum { PHOTO_ACTIVATED, N_SIGNALS };
static guint signals[N_SIGNALS];
enum { PAD = 8 };

/* One principal direction of the centred rows by power iteration (v: in = start, out = unit),
 * orthogonal to `prev` when given (deflation). */
static void power(const float *x, guint n, int dim, const float *mean, const double *prev,
                  int iters, double *v)
{
    g_autofree double *t = g_new(double, n), *w = g_new(double, dim);
    for (int it = 0; it < iters; it++) {
        for (guint i = 0; i < n; i++) { /* t = (X - mean) v */
            double s = 0;
            for (int d = 0; d < dim; d++)
                s += (x[(gsize)i * dim + d] - mean[d]) * v[d];
            t[i] = s;
        }
        memset(w, 0, sizeof(double) * dim);
        for (guint i = 0; i < n; i++) /* w = (X - mean)ᵀ t */
            for (int d = 0; d < dim; d++)
                w[d] += (x[(gsize)i * dim + d] - mean[d]) * t[i];
        if (prev) { /* stay orthogonal to the first component */
            double dot = 0;
            for (int d = 0; d < dim; d++)
                dot += w[d] * prev[d];
            for (int d = 0; d < dim; d++)
                w[d] -= dot * prev[d];
        }
        double norm = 0;
        for (int d = 0; d < dim; d++)
            norm += w[d] * w[d];
        norm = sqrt(norm);
        if (norm < 1e-20) return; /* no variance left: keep v */
        for (int d = 0; d < dim; d++)
            v[d] = w[d] / norm;
    }
}

void s4g_pca2(const float *x, guint n, int dim, int iters, float *out)
{
    g_autofree float *mean = g_new0(float, dim);
    for (guint i = 0; i < n; i++)
        for (int d = 0; d < dim; d++)
            mean[d] += x[(gsize)i * dim + d] / n;
    g_autofree double *v1 = g_new(double, dim), *v2 = g_new(double, dim);
    for (int d = 0; d < dim; d++) { /* fixed, generic starts: the result is reproducible */
        v1[d] = 1.0 / sqrt(dim) * (1 + 0.01 * (d % 7));
        v2[d] = (d % 2 ? 1.0 : -1.0) / sqrt(dim) * (1 + 0.01 * (d % 5));
    }
    power(x, n, dim, mean, NULL, iters, v1);
    double dot = 0; /* start the second orthogonal to the first */
    for (int d = 0; d < dim; d++)
        dot += v1[d] * v2[d];
    for (int d = 0; d < dim; d++)
        v2[d] -= dot * v1[d];
    power(x, n, dim, mean, v1, iters, v2);
    for (guint i = 0; i < n; i++) {
        double a = 0, b = 0;
        for (int d = 0; d < dim; d++) {
            double c = x[(gsize)i * dim + d] - mean[d];
            a += c * v1[d];
            b += c * v2[d];
        }
        out[2 * i] = (float)a;
        out[2 * i + 1] = (float)b;
    }
}

gboolean s4g_embedding_view_point_position(S4gEmbeddingView *self, guint i, double *x, double *y)
{
    int w = gtk_widget_get_width(GTK_WIDGET(self)), h = gtk_widget_get_height(GTK_WIDGET(self));
    if (i >= self->n || w <= 2 * PAD || h <= 2 * PAD) return FALSE;
    float sx = self->x1 > self->x0 ? self->x1 - self->x0 : 1;
    float sy = self->y1 > self->y0 ? self->y1 - self->y0 : 1;
    *x = PAD + (w - 2 * PAD) * (self->xy[2 * i] - self->x0) / sx;
    *y = h - PAD - (h - 2 * PAD) * (self->xy[2 * i + 1] - self->y0) / sy;
    return TRUE;
}

gint64 s4g_embedding_view_pick(S4gEmbeddingView *self, double x, double y)
{
    gint64 best = 0;
    double bd = 10 * 10;
    for (guint i = 0; i < self->n; i++) {
        double px, py;
        if (!self->ground[i] || !s4g_embedding_view_point_position(self, i, &px, &py)) continue;
        double d = (px - x) * (px - x) + (py - y) * (py - y);
        if (d <= bd) bd = d, best = self->ids[i];
    }
    return best;
}

guint s4g_embedding_view_get_n(S4gEmbeddingView *self, gboolean ground)
{
    guint c = 0;
    for (guint i = 0; i < self->n; i++)
        c += !self->ground[i] == !ground;
    return c;
}

void s4g_embedding_view_set_selected(S4gEmbeddingView *self, gint64 image)
{
    self->selected = image;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void s4g_embedding_view_set_points(S4gEmbeddingView *self, const float *xy, const gint64 *ids,
                                   const gboolean *ground, const double *error, guint n)
{
    g_free(self->xy), g_free(self->ids), g_free(self->ground), g_free(self->error);
    self->n = n;
    self->xy = g_memdup2(xy, sizeof(float) * 2 * MAX(n, 1));
    self->ids = g_memdup2(ids, sizeof(gint64) * MAX(n, 1));
    self->ground = g_memdup2(ground, sizeof(gboolean) * MAX(n, 1));
    self->error = g_memdup2(error, sizeof(double) * MAX(n, 1));
    self->x0 = self->y0 = INFINITY, self->x1 = self->y1 = -INFINITY;
    for (guint i = 0; i < n; i++) {
        self->x0 = MIN(self->x0, xy[2 * i]), self->x1 = MAX(self->x1, xy[2 * i]);
        self->y0 = MIN(self->y0, xy[2 * i + 1]), self->y1 = MAX(self->y1, xy[2 * i + 1]);
    }
    g_autofree char *acc = g_strdup_printf(
        _("Embeddings of the model, first two principal components: %u photos, %u tiles"),
        s4g_embedding_view_get_n(self, TRUE), s4g_embedding_view_get_n(self, FALSE));
    gtk_accessible_update_property(GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL, acc, -1);
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

/* green (0 m) → red (≥ 10 km), log scale; grey without an error */
static void error_colour(double e, double *r, double *g, double *b)
{
    if (isnan(e)) {
        *r = *g = *b = 0.6;
        return;
    }
    double t = CLAMP(log10(MAX(e, 1)) / 4, 0, 1);
    *r = 0.15 + 0.75 * t, *g = 0.65 - 0.5 * t, *b = 0.25 - 0.1 * t;
}

static void snapshot(GtkWidget *w, GtkSnapshot *s)
{
    S4gEmbeddingView *self = S4G_EMBEDDING_VIEW(w);
    int width = gtk_widget_get_width(w), height = gtk_widget_get_height(w);
    cairo_t *cr = gtk_snapshot_append_cairo(s, &GRAPHENE_RECT_INIT(0, 0, width, height));
    for (int pass = 0; pass < 3; pass++) /* tiles, then photos, then the selected photo */
        for (guint i = 0; i < self->n; i++) {
            int layer = !self->ground[i] ? 0 : self->ids[i] == self->selected ? 2 : 1;
            double x, y;
            gboolean sel = layer == 2;
            if (layer != pass || !s4g_embedding_view_point_position(self, i, &x, &y)) continue;
            if (!self->ground[i]) {
                cairo_set_source_rgba(cr, 0.5, 0.5, 0.5, 0.35);
                cairo_rectangle(cr, x - 1, y - 1, 2, 2);
                cairo_fill(cr);
                continue;
            }
            double r, g, b;
            error_colour(self->error[i], &r, &g, &b);
            cairo_arc(cr, x, y, sel ? 6 : 3.5, 0, 2 * G_PI);
            cairo_set_source_rgb(cr, r, g, b);
            cairo_fill_preserve(cr);
            cairo_set_source_rgba(cr, 1, 1, 1, sel ? 1 : 0.8);
            cairo_set_line_width(cr, sel ? 2 : 1);
            cairo_stroke(cr);
        }
    cairo_destroy(cr);
}

static void on_click(GtkGestureClick *g, int n, double x, double y, S4gEmbeddingView *self)
{
    gint64 id = s4g_embedding_view_pick(self, x, y);
    if (id) g_signal_emit(self, signals[PHOTO_ACTIVATED], 0, id);
}

static void measure(GtkWidget *w, GtkOrientation o, int for_size, int *min, int *nat, int *min_b,
                    int *nat_b)
{
    *min = o == GTK_ORIENTATION_HORIZONTAL ? 160 : 160;
    *nat = o == GTK_ORIENTATION_HORIZONTAL ? 240 : 200;
    *min_b = *nat_b = -1;
}

static void finalize(GObject *o)
{
    S4gEmbeddingView *self = S4G_EMBEDDING_VIEW(o);
    g_free(self->xy), g_free(self->ids), g_free(self->ground), g_free(self->error);
    G_OBJECT_CLASS(s4g_embedding_view_parent_class)->finalize(o);
}

static void s4g_embedding_view_class_init(S4gEmbeddingViewClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = finalize;
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    wc->snapshot = snapshot;
    wc->measure = measure;
    gtk_widget_class_set_css_name(wc, "s4g-embedding-view");
    gtk_widget_class_set_accessible_role(wc, GTK_ACCESSIBLE_ROLE_IMG);
    signals[PHOTO_ACTIVATED] = g_signal_new("photo-activated", G_TYPE_FROM_CLASS(klass),
                                            G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
                                            1, G_TYPE_INT64);
}

static void s4g_embedding_view_init(S4gEmbeddingView *self)
{
    GtkGesture *click = gtk_gesture_click_new();
    g_signal_connect(click, "released", G_CALLBACK(on_click), self);
    gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(click));
    s4g_embedding_view_set_points(self, NULL, NULL, NULL, NULL, 0);
}

GtkWidget *s4g_embedding_view_new(void)
{
    return g_object_new(S4G_TYPE_EMBEDDING_VIEW, NULL);
}
