/* test-photo-layer.c — the photo dots (S4gPhotoLayer) and the bounded thumbnail cache, on the
 * real main window under Xvfb: all 10,004 dots of a 10k project and the < 2 s open time, a
 * click at a dot's pixel (computed through the viewport) selecting that photo, a filtered-out
 * dot neither drawn nor hit, the LRU cache never over budget while scrolling the whole 10k
 * grid and a re-shown row getting its thumbnail back, cancellation of decodes, and the
 * window-open and frame times for 10k and 100k photos (printed, with loose bounds). */
#include "s4g-config.h"

#include "s4g-photo-layer.h"
#include "s4g-test-fixture.h"
#include "s4g-thumbnail-cache.h"
#include "s4g-window.h"

#include <adwaita.h>
#include <math.h>

static AdwApplication *app;

static S4gWindow *open_window(const char *dir, double *secs)
{
    /* CPU seconds of this process (all threads): the machine's other load hardly changes
     * them, unlike wall-clock time */
    double t0 = fix_cpu_seconds();
    S4gWindow *win = s4g_window_new(GTK_APPLICATION(app));
    gtk_window_set_default_size(GTK_WINDOW(win), 1280, 800);
    g_autoptr(GError) error = NULL;
    g_assert_true(s4g_window_open_project(win, dir, &error));
    g_assert_no_error(error);
    gtk_window_present(GTK_WINDOW(win));
    fix_wait_drawn(GTK_WIDGET(s4g_window_get_map(win)));
    if (secs) *secs = fix_cpu_seconds() - t0;
    return win;
}

static S4gPhotoLayer *layer_of(S4gWindow *win)
{
    return S4G_PHOTO_LAYER(s4g_window_get_photo_layer(win));
}

/* The map's capture-phase click gesture (the one a real click on the map goes through). */
static GtkGesture *map_click(S4gWindow *win)
{
    GtkWidget *map = GTK_WIDGET(s4g_window_get_map(win));
    g_autoptr(GListModel) controllers = gtk_widget_observe_controllers(map);
    for (guint i = 0; i < g_list_model_get_n_items(controllers); i++) {
        g_autoptr(GObject) c = g_list_model_get_item(controllers, i);
        if (GTK_IS_GESTURE_CLICK(c) && gtk_event_controller_get_propagation_phase(
                                           GTK_EVENT_CONTROLLER(c)) == GTK_PHASE_CAPTURE)
            return GTK_GESTURE(c);
    }
    g_assert_not_reached();
}

static void click_at(S4gWindow *win, double x, double y)
{
    GtkGesture *click = map_click(win);
    g_signal_emit_by_name(click, "pressed", 1, x, y);
    g_signal_emit_by_name(click, "released", 1, x, y);
}

/* Where photo i of the fixture appears on the map, through the viewport. */
static void photo_pixel(S4gWindow *win, int i, double *x, double *y)
{
    double lat, lon;
    fix_photo_location(i, &lat, &lon);
    ShumateSimpleMap *map = s4g_window_get_map(win);
    shumate_viewport_location_to_widget_coords(shumate_simple_map_get_viewport(map),
                                               GTK_WIDGET(map), lat, lon, x, y);
}

/* The layer as drawn last, downloaded: BGRA premultiplied (GDK_MEMORY_DEFAULT), alpha at +3. */
static guint8 *render_layer(S4gWindow *win, int *w, int *h)
{
    /* selecting a photo animates the map towards it: freeze the view so the drawn dots and
     * the positions computed afterwards refer to the same viewport */
    shumate_map_stop_go_to(shumate_simple_map_get_map(s4g_window_get_map(win)));
    gtk_test_widget_wait_for_draw(GTK_WIDGET(win));
    GtkWidget *layer = GTK_WIDGET(layer_of(win));
    *w = gtk_widget_get_width(layer);
    *h = gtk_widget_get_height(layer);
    g_autoptr(GdkPaintable) p = gtk_widget_paintable_new(layer);
    GtkSnapshot *snap = gtk_snapshot_new();
    gdk_paintable_snapshot(p, snap, *w, *h);
    GskRenderNode *node = gtk_snapshot_free_to_node(snap);
    guint8 *pixels = g_malloc0((gsize)*w * *h * 4);
    if (node) { /* NULL: nothing drawn at all */
        GskRenderer *r = gtk_native_get_renderer(GTK_NATIVE(win));
        g_autoptr(GdkTexture) t =
            gsk_renderer_render_texture(r, node, &GRAPHENE_RECT_INIT(0, 0, *w, *h));
        gdk_texture_download(t, pixels, (gsize)*w * 4);
        gsk_render_node_unref(node);
    }
    return pixels;
}

/* Highest alpha within 2 px of (x, y). */
static guint8 alpha_near(const guint8 *px, int w, int h, double x, double y)
{
    guint8 best = 0;
    for (int dy = -2; dy <= 2; dy++)
        for (int dx = -2; dx <= 2; dx++) {
            int xi = (int)lround(x) + dx, yi = (int)lround(y) + dy;
            if (xi < 0 || yi < 0 || xi >= w || yi >= h) continue;
            best = MAX(best, px[((gsize)yi * w + xi) * 4 + 3]);
        }
    return best;
}

static void test_click_and_filter(void)
{
    g_autofree char *dir = fix_make_project();
    S4gWindow *win = open_window(dir, NULL);
    S4gPhotoLayer *layer = layer_of(win);
    g_assert_cmpuint(s4g_window_count_photo_markers(win), ==, FIX_PHOTOS);
    g_assert_cmpuint(s4g_photo_layer_get_n_dots(layer), ==, FIX_PHOTOS);
    ShumateViewport *vp = shumate_simple_map_get_viewport(s4g_window_get_map(win));
    shumate_map_stop_go_to(shumate_simple_map_get_map(s4g_window_get_map(win)));
    shumate_viewport_set_zoom_level(vp, 1);
    shumate_location_set_location(SHUMATE_LOCATION(vp), 30, 40);

    int w, h;
    g_autofree guint8 *px = render_layer(win, &w, &h);
    g_assert_cmpuint(s4g_photo_layer_get_n_drawn(layer), ==, FIX_PHOTOS);
    for (int i = 0; i < FIX_PHOTOS; i++) {
        double x, y;
        photo_pixel(win, i, &x, &y);
        g_assert_cmpint(alpha_near(px, w, h, x, y), >, 200); /* a dot where the photo is */
    }
    double ex, ey; /* empty map, between photos 0 and 1 and off their line */
    photo_pixel(win, 0, &ex, &ey);
    ex += 16;
    ey -= 40;
    g_assert_cmpint(alpha_near(px, w, h, ex, ey), ==, 0);

    /* a click at a dot's pixel selects that photo, in grid and panel */
    for (int i = FIX_PHOTOS - 1; i >= 0; i--) {
        double x, y;
        photo_pixel(win, i, &x, &y);
        click_at(win, x + 2, y - 2); /* within the dot, not at its exact centre */
        S4gPhoto *sel = s4g_window_get_visible_photo(win, (guint)i);
        g_assert_cmpint(s4g_photo_get_id(sel), ==, 1 + i);
        g_assert_true(s4g_photo_layer_pick(layer, x, y, NULL) == sel);
        double metres;
        g_assert_true(s4g_window_has_error_line(win, &metres)); /* photo i's prediction shown */
    }
    /* selected = photo 1 (image 1); a click on empty map changes nothing */
    click_at(win, ex, ey);
    g_assert_null(s4g_photo_layer_pick(layer, ex, ey, NULL));
    s4g_window_choose_photo_marker(win, 3);
    g_assert_cmpint(s4g_photo_get_id(s4g_window_get_visible_photo(win, 2)), ==, 3);

    /* flag image 3 (selected), then show only flagged photos: one dot, the others are
     * neither drawn nor hit */
    gtk_widget_activate_action(GTK_WIDGET(win), "win.flag-bad-pair", NULL);
    s4g_window_set_filters(win, TRUE, FALSE, 0, 20000);
    g_assert_cmpuint(s4g_window_count_visible_photos(win), ==, 1);
    g_assert_cmpuint(s4g_window_count_photo_markers(win), ==, 1);
    g_free(px);
    px = render_layer(win, &w, &h);
    g_assert_cmpuint(s4g_photo_layer_get_n_drawn(layer), ==, 1);
    for (int i = 0; i < FIX_PHOTOS; i++) {
        double x, y;
        photo_pixel(win, i, &x, &y);
        if (i == 2) {
            g_assert_cmpint(alpha_near(px, w, h, x, y), >, 200);
            g_assert_nonnull(s4g_photo_layer_pick(layer, x, y, NULL));
        } else {
            g_assert_cmpint(alpha_near(px, w, h, x, y), ==, 0);
            g_assert_null(s4g_photo_layer_pick(layer, x, y, NULL));
        }
    }
    /* back to all: the flagged dot has the flag colour (orange: red > blue), others not */
    s4g_window_set_filters(win, FALSE, FALSE, 0, 20000);
    g_assert_cmpuint(s4g_window_count_photo_markers(win), ==, FIX_PHOTOS);
    s4g_window_select_photo(win, 0);
    g_free(px);
    px = render_layer(win, &w, &h);
    double x2, y2, x1, y1;
    photo_pixel(win, 2, &x2, &y2);
    photo_pixel(win, 1, &x1, &y1);
    const guint8 *c2 = px + ((gsize)lround(y2) * w + lround(x2)) * 4;
    const guint8 *c1 = px + ((gsize)lround(y1) * w + lround(x1)) * 4;
    g_assert_cmpint(c2[2], >, c2[0] + 60); /* BGRA: red well above blue */
    g_assert_cmpint(c1[0], >, c1[2]);      /* the accent blue */
    fix_screenshot(GTK_WIDGET(win), "studio-photo-dots.png");

    /* zoom in on photo 0 so the eastern photos leave the view: they are culled, the rest
     * still drawn where the viewport puts them (the layer redraws on viewport changes) */
    /* selecting a photo animates the map towards it: stop that before moving the view */
    shumate_map_stop_go_to(shumate_simple_map_get_map(s4g_window_get_map(win)));
    shumate_viewport_set_max_zoom_level(vp, 3); /* beyond the fixture tiles: dots only */
    shumate_viewport_set_zoom_level(vp, 3);
    shumate_location_set_location(SHUMATE_LOCATION(vp), 10, 10); /* photo 0 in the centre */
    g_free(px);
    px = render_layer(win, &w, &h);
    guint inside = 0;
    for (int i = 0; i < FIX_PHOTOS; i++) {
        double x, y;
        photo_pixel(win, i, &x, &y);
        g_test_message("zoom %.1f, %d×%d: photo %d at %.0f, %.0f",
                       shumate_viewport_get_zoom_level(vp), w, h, i, x, y);
        if (x >= 0 && y >= 0 && x < w && y < h) g_assert_cmpint(alpha_near(px, w, h, x, y), >, 200);
        /* a dot whose edge still shows (radius + ring < 7 px) is drawn, too */
        if (x > -7 && y > -7 && x < w + 7 && y < h + 7) inside++;
    }
    g_assert_cmpuint(inside, >=, 1);
    g_assert_cmpuint(inside, <, FIX_PHOTOS);
    g_assert_cmpuint(s4g_photo_layer_get_n_drawn(layer), ==, inside);
    gtk_window_destroy(GTK_WINDOW(win));
}

/* Frame work of the window (before-paint → after-paint on its frame clock) while the map
 * pans across the dots, averaged; and the layer's own snapshot (raster) time. */
static void measure_frames(S4gWindow *win, int n_photos, double *frame_ms, double *layer_ms)
{
    GdkFrameClock *clock = gtk_widget_get_frame_clock(GTK_WIDGET(win));
    FixFrameTimes ft = {0};
    gulong ids[2];
    fix_frame_times_connect(clock, &ft, ids);
    gulong b = ids[0], a = ids[1];
    ShumateViewport *vp = shumate_simple_map_get_viewport(s4g_window_get_map(win));
    shumate_map_stop_go_to(shumate_simple_map_get_map(s4g_window_get_map(win)));
    shumate_viewport_set_zoom_level(vp, 1);
    const int steps = 20;
    for (int s = 0; s < steps; s++) {
        shumate_location_set_location(SHUMATE_LOCATION(vp), 10.5, 8 + s * 0.4); /* a pan */
        int before = ft.frames;
        gint64 end = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
        while (ft.frames == before && g_get_monotonic_time() < end)
            g_main_context_iteration(NULL, TRUE);
    }
    g_signal_handler_disconnect(clock, b);
    g_signal_handler_disconnect(clock, a);
    g_assert_cmpint(ft.frames, >=, steps / 2);
    *frame_ms = ft.total / 1000.0 / ft.frames;

    /* the layer alone: its snapshot (cull + raster + one texture node) */
    GtkWidget *layer = GTK_WIDGET(layer_of(win));
    double t0 = fix_cpu_seconds();
    for (int s = 0; s < steps; s++) {
        GtkSnapshot *snap = gtk_snapshot_new();
        GTK_WIDGET_GET_CLASS(layer)->snapshot(layer, snap);
        GskRenderNode *node = gtk_snapshot_free_to_node(snap);
        g_assert_nonnull(node);
        gsk_render_node_unref(node);
    }
    *layer_ms = (fix_cpu_seconds() - t0) * 1000.0 / steps;
    g_assert_cmpuint(s4g_photo_layer_get_n_drawn(layer_of(win)), ==,
                     (guint)n_photos); /* at zoom 1 the whole world is in view */
}

static void test_many_dots(void)
{
    g_autofree char *dir = fix_make_project();
    fix_add_many_photos(dir, 10000);
    double secs;
    S4gWindow *win = open_window(dir, &secs);
    g_assert_cmpuint(s4g_window_count_photo_markers(win), ==, 10000 + FIX_PHOTOS);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
    g_assert_cmpfloat(secs, <, 6.0);
#else
    g_assert_cmpfloat(secs, <, 2.0);
#endif
    gtk_test_widget_wait_for_draw(GTK_WIDGET(win));
    ShumateViewport *vp = shumate_simple_map_get_viewport(s4g_window_get_map(win));
    shumate_viewport_set_zoom_level(vp, 1);
    shumate_location_set_location(SHUMATE_LOCATION(vp), 10.5, 15);
    double frame_ms, layer_ms;
    measure_frames(win, 10000 + FIX_PHOTOS, &frame_ms, &layer_ms);
    g_printerr("# 10,004 photos: window shown in %.3f CPU-s; frame %.1f ms; photo layer snapshot "
               "%.2f CPU-ms\n",
               secs, frame_ms, layer_ms);
    g_assert_cmpfloat(layer_ms, <, 100);
    gtk_window_destroy(GTK_WINDOW(win));
}

static void test_100k_dots(void)
{
    g_autofree char *dir = fix_make_project();
    fix_add_many_photos(dir, 100000);
    double secs;
    S4gWindow *win = open_window(dir, &secs);
    g_assert_cmpuint(s4g_window_count_photo_markers(win), ==, 100000 + FIX_PHOTOS);
    gtk_test_widget_wait_for_draw(GTK_WIDGET(win));
    ShumateViewport *vp = shumate_simple_map_get_viewport(s4g_window_get_map(win));
    shumate_viewport_set_zoom_level(vp, 1);
    double frame_ms, layer_ms;
    measure_frames(win, 100000 + FIX_PHOTOS, &frame_ms, &layer_ms);
    g_printerr("# 100,004 photos: window shown in %.3f CPU-s; frame %.1f ms; photo layer snapshot "
               "%.2f CPU-ms\n",
               secs, frame_ms, layer_ms);
    /* loose bounds (2 shared cores, sanitizer builds): smooth means well under these */
    g_assert_cmpfloat(secs, <, 20.0);
    g_assert_cmpfloat(layer_ms, <, 250);
    gtk_window_destroy(GTK_WINDOW(win));
}

static GtkWidget *find_grid(GtkWidget *w)
{
    if (GTK_IS_GRID_VIEW(w)) return w;
    for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c)) {
        GtkWidget *g = find_grid(c);
        if (g) return g;
    }
    return NULL;
}

static void test_cache_unit(void)
{
    g_autoptr(S4gThumbnailCache) c = s4g_thumbnail_cache_new(3 * 10 * 10 * 4 + 7);
    guint8 pixels[10 * 10 * 4] = {0};
    g_autoptr(GBytes) bytes = g_bytes_new(pixels, sizeof pixels);
    GdkTexture *t[5];
    for (int i = 0; i < 5; i++)
        t[i] = gdk_memory_texture_new(10, 10, GDK_MEMORY_R8G8B8A8, bytes, 40);
    int keys[5];
    g_assert_cmpuint(s4g_thumbnail_cache_texture_bytes(t[0]), ==, 400);
    for (int i = 0; i < 3; i++)
        g_assert_true(s4g_thumbnail_cache_insert(c, &keys[i], t[i]));
    g_assert_cmpuint(s4g_thumbnail_cache_get_bytes(c), ==, 1200);
    g_assert_true(s4g_thumbnail_cache_lookup(c, &keys[0]) == t[0]); /* 0 now most recent */
    g_assert_true(s4g_thumbnail_cache_insert(c, &keys[3], t[3]));   /* evicts 1, the LRU */
    g_assert_false(s4g_thumbnail_cache_contains(c, &keys[1]));
    g_assert_true(s4g_thumbnail_cache_contains(c, &keys[0]));
    g_assert_cmpuint(s4g_thumbnail_cache_get_n_entries(c), ==, 3);
    g_assert_cmpuint(s4g_thumbnail_cache_get_bytes(c), ==, 1200);
    g_assert_true(s4g_thumbnail_cache_insert(c, &keys[3], t[4])); /* replace: no growth */
    g_assert_cmpuint(s4g_thumbnail_cache_get_bytes(c), ==, 1200);
    s4g_thumbnail_cache_set_budget(c, 500); /* shrink: keeps only the most recent */
    g_assert_cmpuint(s4g_thumbnail_cache_get_n_entries(c), ==, 1);
    g_assert_true(s4g_thumbnail_cache_lookup(c, &keys[3]) == t[4]);
    guint8 big_pixels[20 * 20 * 4] = {0}; /* 1600 bytes > the 500-byte budget */
    g_autoptr(GBytes) big_bytes = g_bytes_new(big_pixels, sizeof big_pixels);
    g_autoptr(GdkTexture) big = gdk_memory_texture_new(20, 20, GDK_MEMORY_R8G8B8A8, big_bytes, 80);
    g_assert_false(s4g_thumbnail_cache_insert(c, &keys[4], big));
    g_assert_cmpuint(s4g_thumbnail_cache_get_n_entries(c), ==, 1);
    guint64 ins, ev;
    s4g_thumbnail_cache_get_stats(c, &ins, &ev, NULL);
    g_assert_cmpuint(ins, ==, 5);
    g_assert_cmpuint(ev, ==, 3); /* 1, then 2 and 0 on the shrink (the replace is no eviction) */
    s4g_thumbnail_cache_clear(c);
    g_assert_cmpuint(s4g_thumbnail_cache_get_bytes(c), ==, 0);
    for (int i = 0; i < 5; i++)
        g_object_unref(t[i]);
}

static void wait_thumbnail(S4gPhoto *p)
{
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while ((!s4g_photo_get_thumbnail(p) || s4g_photo_is_loading_thumbnail(p)) &&
           g_get_monotonic_time() < end)
        if (!g_main_context_iteration(NULL, FALSE)) g_usleep(1000);
}

static void test_cache_scroll(void)
{
    S4gThumbnailCache *cache = s4g_thumbnail_cache_get_default();
    gsize old_budget = s4g_thumbnail_cache_get_budget(cache);
    g_autofree char *dir = fix_make_project();
    fix_add_many_photos(dir, 10000);
    S4gWindow *win = open_window(dir, NULL);
    GtkWidget *grid = find_grid(GTK_WIDGET(win));
    g_assert_nonnull(grid);
    /* position 1, not 0: the grid keeps the selected item's cell bound while scrolled away */
    S4gPhoto *first = s4g_window_get_visible_photo(win, 1);
    wait_thumbnail(first);
    GdkTexture *t = s4g_photo_get_thumbnail(first);
    g_assert_nonnull(t);
    /* a budget of 200 thumbnails: well above the cells the grid binds, far below 10k */
    gsize budget = 200 * s4g_thumbnail_cache_texture_bytes(t);
    s4g_thumbnail_cache_set_budget(cache, budget);
    guint64 ins0, ev0, can0;
    s4g_thumbnail_cache_get_stats(cache, &ins0, &ev0, &can0);

    GtkAdjustment *adj = gtk_scrollable_get_vadjustment(GTK_SCROLLABLE(grid));
    gsize peak = 0;
    double v = 0;
    int steps = 0;
    gint64 t_scroll = g_get_monotonic_time();
    while (v < gtk_adjustment_get_upper(adj) - gtk_adjustment_get_page_size(adj)) {
        v += gtk_adjustment_get_page_size(adj) * 8; /* skips rows: some cells never bind */
        steps++;
        gtk_adjustment_set_value(adj, v);
        gtk_test_widget_wait_for_draw(grid); /* cells rebound, decodes started/cancelled */
        fix_spin(5);
        peak = MAX(peak, s4g_thumbnail_cache_get_bytes(cache));
        g_assert_cmpuint(s4g_thumbnail_cache_get_bytes(cache), <=, budget);
    }
    fix_spin(500); /* let the last decodes land */
    g_assert_cmpuint(s4g_thumbnail_cache_get_bytes(cache), <=, budget);
    guint64 ins1, ev1, can1;
    s4g_thumbnail_cache_get_stats(cache, &ins1, &ev1, &can1);
    g_printerr("# scrolled 10k grid in %d steps, %.1f s: %" G_GUINT64_FORMAT
               " decoded, %" G_GUINT64_FORMAT " evicted, %" G_GUINT64_FORMAT
               " cancelled; peak %zu of %zu bytes\n",
               steps, (g_get_monotonic_time() - t_scroll) / 1e6, ins1 - ins0, ev1 - ev0,
               can1 - can0, peak, budget);
    g_assert_cmpuint(ins1 - ins0, >, 200); /* it really decoded beyond the budget... */
    g_assert_cmpuint(ev1 - ev0, >, 0);     /* ...and evicted to stay within it */
    g_assert_cmpuint(peak, >, budget / 2);
    /* the first row scrolled away long ago: evicted */
    g_assert_null(s4g_photo_get_thumbnail(first));
    g_assert_false(s4g_photo_is_loading_thumbnail(first));

    /* back to the top: the re-shown row decodes its thumbnail again */
    gtk_adjustment_set_value(adj, 0);
    gtk_test_widget_wait_for_draw(grid);
    wait_thumbnail(first);
    g_assert_nonnull(s4g_photo_get_thumbnail(first));
    guint64 ins2;
    s4g_thumbnail_cache_get_stats(cache, &ins2, NULL, NULL);
    g_assert_cmpuint(ins2, >, ins1);
    g_assert_cmpuint(s4g_thumbnail_cache_get_bytes(cache), <=, budget);

    /* a decode whose cell went away before it finished is dropped, never cached; first let the
     * scroll's own cancelled decodes land, so the count below moves for this one only */
    {
        guint64 prev = G_MAXUINT64, now = 0;
        gint64 quiet_until = 0, give_up = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
        while (g_get_monotonic_time() < give_up) {
            g_main_context_iteration(NULL, FALSE);
            s4g_thumbnail_cache_get_stats(cache, NULL, NULL, &now);
            if (now != prev) prev = now, quiet_until = g_get_monotonic_time() + 500 * 1000;
            else if (g_get_monotonic_time() > quiet_until) break;
        }
    }
    S4gPhoto *far = s4g_window_get_visible_photo(win, 5000);
    g_assert_null(s4g_photo_get_thumbnail(far));
    s4g_photo_ensure_thumbnail(far);
    g_assert_true(s4g_photo_is_loading_thumbnail(far));
    s4g_photo_cancel_thumbnail(far); /* as cell_unbind does */
    guint64 can3;
    s4g_thumbnail_cache_get_stats(cache, NULL, NULL, &can1);
    gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    do {
        g_main_context_iteration(NULL, FALSE);
        s4g_thumbnail_cache_get_stats(cache, NULL, NULL, &can3);
    } while (can3 == can1 && g_get_monotonic_time() < end);
    g_assert_cmpuint(can3, ==, can1 + 1);
    g_assert_null(s4g_photo_get_thumbnail(far));
    g_assert_false(s4g_thumbnail_cache_contains(cache, far));

    gtk_window_destroy(GTK_WINDOW(win));
    s4g_thumbnail_cache_set_budget(cache, old_budget);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    fix_init(argv[0]);
    gtk_init();
    adw_init();
    app = fix_make_app("LayerTest");
    g_test_add_func("/studio/photo-layer/click-and-filter", test_click_and_filter);
    g_test_add_func("/studio/photo-layer/10k", test_many_dots);
    g_test_add_func("/studio/photo-layer/100k", test_100k_dots);
    g_test_add_func("/studio/thumbnail-cache/lru", test_cache_unit);
    g_test_add_func("/studio/thumbnail-cache/scroll-10k", test_cache_scroll);
    return g_test_run();
}
