/* s4g-photo-layer.c — the photo dots (see the header).
 *
 * Why a software raster: the machine this runs on often has no GPU (cairo or llvmpipe GL),
 * where one render node per dot costs microseconds each; blitting a pre-rendered dot sprite
 * into one premultiplied buffer costs ~50 ns per dot and ends up as a single texture node.
 * Positions use the viewport's own Web-Mercator maths (shumate_map_source_get_x/_y of the
 * reference source, rotation around the centre), so a dot sits exactly where
 * shumate_viewport_location_to_widget_coords puts its photo. */
#include "s4g-photo-layer.h"

#include <glib/gi18n.h>
#include <math.h>

#define DOT_RADIUS 4.0      /* logical px */
#define DOT_OUTLINE 1.5     /* white ring around each dot, logical px */
#define SELECTED_RADIUS 7.0 /* the selected photo's marker */
#define HIT_SLOP 4.0        /* a click this far outside a dot still hits it */

enum { STYLE_NORMAL, STYLE_FLAGGED, N_STYLES };

typedef struct {
    int size;        /* device px, square */
    guint32 *pixels; /* premultiplied ARGB (cairo / GDK_MEMORY_DEFAULT) */
    GdkRGBA colour;
} Sprite;

struct _S4gPhotoLayer {
    ShumateLayer parent_instance;
    GListModel *model;
    gulong items_changed_id;
    gboolean dirty; /* the dot arrays no longer match the model */
    /* Dots: photos of the model with a location, in model order. */
    guint n;
    double *mx, *my;  /* Web-Mercator position in [0, 1] */
    guint *pos;       /* position in the model */
    S4gPhoto **photo; /* borrowed: the model holds them; only read while !dirty */
    guint8 *flagged;  /* copy of each photo's flag: no pointer chase per dot per frame */
    gboolean flags_dirty;
    S4gPhoto *selected; /* borrowed, like photo[] */
    guint n_drawn;
    Sprite sprites[N_STYLES];
    int sprite_scale;
};

G_DEFINE_FINAL_TYPE(S4gPhotoLayer, s4g_photo_layer, SHUMATE_TYPE_LAYER)

/* ---- geometry ------------------------------------------------------------------------ */

/* The viewport's transform for one frame: widget = rot(mercator * size - centre + half). */
typedef struct {
    double size, cx, cy, hw, hh, cosr, sinr;
} Frame;

static gboolean frame_get(S4gPhotoLayer *self, Frame *f)
{
    ShumateViewport *vp = shumate_layer_get_viewport(SHUMATE_LAYER(self));
    ShumateMapSource *src = vp ? shumate_viewport_get_reference_map_source(vp) : NULL;
    if (!src) return FALSE;
    double zoom = shumate_viewport_get_zoom_level(vp);
    /* x is linear in longitude: x(180°) is the width of the whole map at this zoom. */
    f->size = shumate_map_source_get_x(src, zoom, 180.0);
    f->cx =
        shumate_map_source_get_x(src, zoom, shumate_location_get_longitude(SHUMATE_LOCATION(vp)));
    f->cy =
        shumate_map_source_get_y(src, zoom, shumate_location_get_latitude(SHUMATE_LOCATION(vp)));
    f->hw = gtk_widget_get_width(GTK_WIDGET(self)) / 2.0;
    f->hh = gtk_widget_get_height(GTK_WIDGET(self)) / 2.0;
    double r = shumate_viewport_get_rotation(vp);
    f->cosr = cos(r);
    f->sinr = sin(r);
    return f->size > 0;
}

static inline void frame_project(const Frame *f, double mx, double my, double *x, double *y)
{
    double dx = mx * f->size - f->cx, dy = my * f->size - f->cy; /* offsets from the centre */
    *x = f->cosr * dx - f->sinr * dy + f->hw;
    *y = f->sinr * dx + f->cosr * dy + f->hh;
}

/* Same clamps and formula as libshumate's Mercator projection, normalised to [0, 1]. */
static void mercator(double lat, double lon, double *mx, double *my)
{
    lon = CLAMP(lon, SHUMATE_MIN_LONGITUDE, SHUMATE_MAX_LONGITUDE);
    lat = CLAMP(lat, SHUMATE_MIN_LATITUDE, SHUMATE_MAX_LATITUDE);
    double s = sin(lat * G_PI / 180.0);
    *mx = (lon + 180.0) / 360.0;
    *my = 0.5 - log((1.0 + s) / (1.0 - s)) / (4.0 * G_PI);
}

/* ---- the dot arrays ------------------------------------------------------------------ */

static void clear_dots(S4gPhotoLayer *self)
{
    g_clear_pointer(&self->mx, g_free);
    g_clear_pointer(&self->my, g_free);
    g_clear_pointer(&self->pos, g_free);
    g_clear_pointer(&self->photo, g_free);
    g_clear_pointer(&self->flagged, g_free);
    self->n = 0;
}

static void update_accessible(S4gPhotoLayer *self)
{
    g_autofree char *label =
        g_strdup_printf(ngettext("%u photo location", "%u photo locations", self->n), self->n);
    gtk_accessible_update_property(
        GTK_ACCESSIBLE(self), GTK_ACCESSIBLE_PROPERTY_LABEL, label,
        GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
        _("Locations of the photos shown in the grid; choose a photo from the grid to select it"),
        -1);
}

/* Rebuilt lazily (at the next draw, count or hit test): a filter change can emit several
 * items-changed in a row and only the last state matters. */
static void ensure_dots(S4gPhotoLayer *self)
{
    if (!self->dirty) return;
    self->dirty = FALSE;
    clear_dots(self);
    guint total = self->model ? g_list_model_get_n_items(self->model) : 0;
    if (total) {
        self->mx = g_new(double, total);
        self->my = g_new(double, total);
        self->pos = g_new(guint, total);
        self->photo = g_new(S4gPhoto *, total);
        self->flagged = g_new(guint8, total);
    }
    self->flags_dirty = TRUE;
    gboolean selected_seen = FALSE;
    for (guint i = 0; i < total; i++) {
        S4gPhoto *p = g_list_model_get_item(self->model, i);
        g_object_unref(p); /* the model keeps it alive while it is an item */
        double lat = s4g_photo_get_lat(p), lon = s4g_photo_get_lon(p);
        if (isnan(lat) || isnan(lon)) continue;
        mercator(lat, lon, &self->mx[self->n], &self->my[self->n]);
        self->pos[self->n] = i;
        self->photo[self->n] = p;
        self->n++;
        if (p == self->selected) selected_seen = TRUE;
    }
    if (!selected_seen) self->selected = NULL; /* filtered away: nothing to highlight */
    update_accessible(self);
}

static void ensure_flags(S4gPhotoLayer *self)
{
    ensure_dots(self);
    if (!self->flags_dirty) return;
    self->flags_dirty = FALSE;
    for (guint i = 0; i < self->n; i++)
        self->flagged[i] = s4g_photo_get_flagged(self->photo[i]);
}

static void on_items_changed(S4gPhotoLayer *self)
{
    self->dirty = TRUE;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

/* ---- drawing ------------------------------------------------------------------------- */

static void sprite_render(Sprite *s, const GdkRGBA *colour, int scale)
{
    g_free(s->pixels);
    s->colour = *colour;
    s->size = (int)ceil(2 * (DOT_RADIUS + DOT_OUTLINE) * scale) + 1;
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, s->size, s->size);
    cairo_t *cr = cairo_create(surf);
    double c = s->size / 2.0;
    cairo_arc(cr, c, c, (DOT_RADIUS + DOT_OUTLINE / 2) * scale, 0, 2 * G_PI);
    gdk_cairo_set_source_rgba(cr, colour);
    cairo_fill_preserve(cr);
    cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
    cairo_set_line_width(cr, DOT_OUTLINE * scale);
    cairo_stroke(cr);
    cairo_destroy(cr);
    cairo_surface_flush(surf);
    int stride = cairo_image_surface_get_stride(surf);
    const guint8 *data = cairo_image_surface_get_data(surf);
    s->pixels = g_new(guint32, (gsize)s->size * s->size);
    for (int y = 0; y < s->size; y++)
        memcpy(s->pixels + (gsize)y * s->size, data + (gsize)y * stride, (gsize)s->size * 4);
    cairo_surface_destroy(surf);
}

static void lookup_colours(S4gPhotoLayer *self, GdkRGBA colours[N_STYLES], GdkRGBA *selected)
{
    G_GNUC_BEGIN_IGNORE_DEPRECATIONS /* the 4.8 way to read CSS colours */
        GtkStyleContext *ctx = gtk_widget_get_style_context(GTK_WIDGET(self));
    gtk_style_context_get_color(ctx, &colours[STYLE_NORMAL]);
    if (!gtk_style_context_lookup_color(ctx, "s4g_photo_flagged_color", &colours[STYLE_FLAGGED]))
        gdk_rgba_parse(&colours[STYLE_FLAGGED], "#e66100");
    if (!gtk_style_context_lookup_color(ctx, "s4g_photo_selected_color", selected))
        gdk_rgba_parse(selected, "#f6d32d");
    G_GNUC_END_IGNORE_DEPRECATIONS
}

/* Porter-Duff OVER of premultiplied ARGB pixels, clipped to the buffer. */
static void blit(guint32 *dst, int w, int h, const Sprite *s, int x0, int y0)
{
    int sx0 = MAX(0, -x0), sy0 = MAX(0, -y0);
    int sx1 = MIN(s->size, w - x0), sy1 = MIN(s->size, h - y0);
    for (int sy = sy0; sy < sy1; sy++) {
        const guint32 *src = s->pixels + (gsize)sy * s->size;
        guint32 *row = dst + (gsize)(y0 + sy) * w + x0;
        for (int sx = sx0; sx < sx1; sx++) {
            guint32 p = src[sx];
            guint32 a = p >> 24;
            if (a == 0) continue;
            if (a == 255) {
                row[sx] = p;
                continue;
            }
            /* two channels per multiply: (d * inv / 255) on 0x00ff00ff lanes */
            guint32 d = row[sx], inv = 255 - a;
            guint32 rb = (d & 0x00ff00ffu) * inv, ag = ((d >> 8) & 0x00ff00ffu) * inv;
            rb = ((rb + ((rb >> 8) & 0x00ff00ffu) + 0x00800080u) >> 8) & 0x00ff00ffu;
            ag = ((ag + ((ag >> 8) & 0x00ff00ffu) + 0x00800080u) >> 8) & 0x00ff00ffu;
            row[sx] = p + (rb | (ag << 8)); /* premultiplied: cannot overflow */
        }
    }
}

static void snapshot(GtkWidget *widget, GtkSnapshot *snap)
{
    S4gPhotoLayer *self = S4G_PHOTO_LAYER(widget);
    ensure_flags(self);
    self->n_drawn = 0;
    Frame f;
    int width = gtk_widget_get_width(widget), height = gtk_widget_get_height(widget);
    if (self->n == 0 || width <= 0 || height <= 0 || !frame_get(self, &f)) return;

    int scale = gtk_widget_get_scale_factor(widget);
    GdkRGBA colours[N_STYLES], sel_colour;
    lookup_colours(self, colours, &sel_colour);
    for (int s = 0; s < N_STYLES; s++)
        if (!self->sprites[s].pixels || scale != self->sprite_scale ||
            !gdk_rgba_equal(&colours[s], &self->sprites[s].colour))
            sprite_render(&self->sprites[s], &colours[s], scale);
    self->sprite_scale = scale;

    int bw = width * scale, bh = height * scale;
    guint32 *buf = g_try_malloc0((gsize)bw * bh * 4);
    if (!buf) return;
    double margin = DOT_RADIUS + DOT_OUTLINE + 1;
    /* Dense views put many dots on the same device pixel: the same sprite at the same place
     * is blitted once (`seen` holds the last style drawn at each pixel). */
    g_autofree guint8 *seen = g_try_malloc0((gsize)bw * bh);
    int bx0 = G_MAXINT, by0 = G_MAXINT, bx1 = G_MININT, by1 = G_MININT; /* dots' box */
    /* Two passes so flagged dots are never buried under ordinary ones. */
    for (int style = 0; style < N_STYLES; style++) {
        const Sprite *sp = &self->sprites[style];
        for (guint i = 0; i < self->n; i++) {
            if ((self->flagged[i] ? STYLE_FLAGGED : STYLE_NORMAL) != style) continue;
            double x, y;
            frame_project(&f, self->mx[i], self->my[i], &x, &y);
            if (x < -margin || y < -margin || x > width + margin || y > height + margin)
                continue; /* culled: outside the view */
            self->n_drawn++;
            long cx = lround(x * scale), cy = lround(y * scale);
            if (seen && cx >= 0 && cy >= 0 && cx < bw && cy < bh) {
                guint8 *mark = &seen[(gsize)cy * bw + cx];
                if (*mark == style + 1) continue;
                *mark = style + 1;
            }
            int x0 = (int)(cx - sp->size / 2), y0 = (int)(cy - sp->size / 2);
            blit(buf, bw, bh, sp, x0, y0);
            bx0 = MIN(bx0, x0);
            by0 = MIN(by0, y0);
            bx1 = MAX(bx1, x0 + sp->size);
            by1 = MAX(by1, y0 + sp->size);
        }
    }
    if (self->n_drawn) {
        /* Only the part holding dots becomes the texture (a view into the buffer, no copy):
         * a cluster of photos costs the renderer a small texture, not a full-view one.
         * The box is aligned to logical pixels so it maps exactly. */
        int lx0 = CLAMP(bx0, 0, bw) / scale, ly0 = CLAMP(by0, 0, bh) / scale;
        int lx1 = MIN((CLAMP(bx1, 0, bw) + scale - 1) / scale, width);
        int ly1 = MIN((CLAMP(by1, 0, bh) + scale - 1) / scale, height);
        if (lx1 > lx0 && ly1 > ly0) {
            gsize stride = (gsize)bw * 4;
            gsize offset = (gsize)ly0 * scale * stride + (gsize)lx0 * scale * 4;
            int tw = (lx1 - lx0) * scale, th = (ly1 - ly0) * scale;
            g_autoptr(GBytes) all = g_bytes_new_take(buf, (gsize)bw * bh * 4);
            g_autoptr(GBytes) part =
                g_bytes_new_from_bytes(all, offset, (gsize)(th - 1) * stride + (gsize)tw * 4);
            g_autoptr(GdkTexture) tex =
                gdk_memory_texture_new(tw, th, GDK_MEMORY_DEFAULT, part, stride);
            gtk_snapshot_append_texture(snap, tex,
                                        &GRAPHENE_RECT_INIT(lx0, ly0, lx1 - lx0, ly1 - ly0));
        } else {
            g_free(buf);
        }
    } else {
        g_free(buf);
    }

    /* The selected photo: a larger vector disc with a white ring, on top of everything. */
    if (self->selected) {
        guint i;
        for (i = 0; i < self->n && self->photo[i] != self->selected; i++)
            ;
        double x, y;
        if (i < self->n) {
            frame_project(&f, self->mx[i], self->my[i], &x, &y);
            float r = SELECTED_RADIUS;
            GskRoundedRect rr;
            gsk_rounded_rect_init_from_rect(&rr, &GRAPHENE_RECT_INIT(x - r, y - r, 2 * r, 2 * r),
                                            r);
            gtk_snapshot_push_rounded_clip(snap, &rr);
            gtk_snapshot_append_color(snap, &sel_colour, &rr.bounds);
            gtk_snapshot_pop(snap);
            GdkRGBA white = {1, 1, 1, 1}, ring[4] = {white, white, white, white};
            float wd[4] = {2, 2, 2, 2};
            gtk_snapshot_append_border(snap, &rr, wd, ring);
        }
    }
}

/* ---- GObject ------------------------------------------------------------------------- */

static void on_viewport_notify(S4gPhotoLayer *self)
{
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void constructed(GObject *o)
{
    G_OBJECT_CLASS(s4g_photo_layer_parent_class)->constructed(o);
    ShumateViewport *vp = shumate_layer_get_viewport(SHUMATE_LAYER(o));
    /* Any viewport change (centre, zoom, rotation, reference source) moves the dots. */
    if (vp)
        g_signal_connect_object(vp, "notify", G_CALLBACK(on_viewport_notify), o, G_CONNECT_SWAPPED);
    update_accessible(S4G_PHOTO_LAYER(o));
}

static void dispose(GObject *o)
{
    s4g_photo_layer_set_model(S4G_PHOTO_LAYER(o), NULL);
    G_OBJECT_CLASS(s4g_photo_layer_parent_class)->dispose(o);
}

static void finalize(GObject *o)
{
    S4gPhotoLayer *self = S4G_PHOTO_LAYER(o);
    clear_dots(self);
    for (int s = 0; s < N_STYLES; s++)
        g_free(self->sprites[s].pixels);
    G_OBJECT_CLASS(s4g_photo_layer_parent_class)->finalize(o);
}

static void s4g_photo_layer_class_init(S4gPhotoLayerClass *klass)
{
    G_OBJECT_CLASS(klass)->constructed = constructed;
    G_OBJECT_CLASS(klass)->dispose = dispose;
    G_OBJECT_CLASS(klass)->finalize = finalize;
    GTK_WIDGET_CLASS(klass)->snapshot = snapshot;
    gtk_widget_class_set_css_name(GTK_WIDGET_CLASS(klass), "s4g-photo-layer");
    gtk_widget_class_set_accessible_role(GTK_WIDGET_CLASS(klass), GTK_ACCESSIBLE_ROLE_IMG);
}

static void s4g_photo_layer_init(S4gPhotoLayer *self)
{
    /* Clicks are hit-tested by the map's own gesture (s4g_photo_layer_pick), so the layer
     * must never swallow the map's pan/zoom input. */
    gtk_widget_set_can_target(GTK_WIDGET(self), FALSE);
}

S4gPhotoLayer *s4g_photo_layer_new(ShumateViewport *viewport)
{
    return g_object_new(S4G_TYPE_PHOTO_LAYER, "viewport", viewport, NULL);
}

void s4g_photo_layer_set_model(S4gPhotoLayer *self, GListModel *photos)
{
    g_return_if_fail(S4G_IS_PHOTO_LAYER(self));
    if (self->model == photos) return;
    if (self->model) {
        g_signal_handler_disconnect(self->model, self->items_changed_id);
        self->items_changed_id = 0;
        g_clear_object(&self->model);
    }
    if (photos) {
        self->model = g_object_ref(photos);
        self->items_changed_id =
            g_signal_connect_swapped(photos, "items-changed", G_CALLBACK(on_items_changed), self);
    }
    self->selected = NULL;
    on_items_changed(self);
}

void s4g_photo_layer_set_selected(S4gPhotoLayer *self, S4gPhoto *photo)
{
    g_return_if_fail(S4G_IS_PHOTO_LAYER(self));
    if (self->selected == photo) return;
    self->selected = photo;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

void s4g_photo_layer_invalidate(S4gPhotoLayer *self)
{
    g_return_if_fail(S4G_IS_PHOTO_LAYER(self));
    self->flags_dirty = TRUE;
    gtk_widget_queue_draw(GTK_WIDGET(self));
}

guint s4g_photo_layer_get_n_dots(S4gPhotoLayer *self)
{
    g_return_val_if_fail(S4G_IS_PHOTO_LAYER(self), 0);
    ensure_dots(self);
    return self->n;
}

guint s4g_photo_layer_get_n_drawn(S4gPhotoLayer *self)
{
    g_return_val_if_fail(S4G_IS_PHOTO_LAYER(self), 0);
    return self->n_drawn;
}

S4gPhoto *s4g_photo_layer_pick(S4gPhotoLayer *self, double x, double y, guint *position)
{
    g_return_val_if_fail(S4G_IS_PHOTO_LAYER(self), NULL);
    ensure_dots(self);
    Frame f;
    if (self->n == 0 || !frame_get(self, &f)) return NULL;
    double best = (DOT_RADIUS + HIT_SLOP) * (DOT_RADIUS + HIT_SLOP);
    gint64 hit = -1;
    for (guint i = 0; i < self->n; i++) {
        double dx, dy;
        frame_project(&f, self->mx[i], self->my[i], &dx, &dy);
        double d2 = (dx - x) * (dx - x) + (dy - y) * (dy - y);
        if (d2 <= best) { /* ties: the later dot, which is drawn on top */
            best = d2;
            hit = i;
        }
    }
    if (hit < 0) return NULL;
    if (position) *position = self->pos[hit];
    return self->photo[hit];
}

gboolean s4g_photo_layer_find(S4gPhotoLayer *self, gint64 id, guint *position)
{
    g_return_val_if_fail(S4G_IS_PHOTO_LAYER(self), FALSE);
    ensure_dots(self);
    for (guint i = 0; i < self->n; i++)
        if (s4g_photo_get_id(self->photo[i]) == id) {
            if (position) *position = self->pos[i];
            return TRUE;
        }
    return FALSE;
}
