/* test-window-keys.c — the main window with REAL X input (xdotool's XTest under Xvfb) and real
 * window sizes: the adaptive layout at full size, 800×600 and 360 px (screenshots of each),
 * F6 between the panes, the photo grid as one Tab stop, Enter on a photo, setting a location
 * with the keyboard (arrows + Enter; the mode ends after it), Ctrl+Z in the Note field
 * undoing the annotation, undo of a photo that is not selected (outline and toast), the
 * annotation sentences, galleries left out of the dataset filter, and the anchor list's file
 * names and search.  Every wait is on the event it expects, bounded by a generous deadline. */
#include "s4g-config.h"
#include "s4g-store-private.h"

#include "s4g-store-annotations.h"
#include "s4g-store-datasets.h"
#include "s4g-store.h"
#include "s4g-test-fixture.h"
#include "s4g-window.h"

#include <adwaita.h>
#include <gdk/x11/gdkx.h>
#include <string.h>

static AdwApplication *app;

/* Waits (iterating the main loop) until cond(data) holds; at most 10 s. */
static gboolean wait_for(gboolean (*cond)(gpointer), gpointer data)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (!cond(data) && g_get_monotonic_time() < deadline)
        g_main_context_iteration(NULL, FALSE);
    return cond(data);
}

static char *xid_of(S4gWindow *win)
{
    GdkSurface *s = gtk_native_get_surface(GTK_NATIVE(win));
    g_assert_true(GDK_IS_X11_SURFACE(s));
    return g_strdup_printf("%lu", (unsigned long)gdk_x11_surface_get_xid(s));
}

/* Runs xdotool with `args` (the window's id replaces "%W"). */
static void xdo(S4gWindow *win, const char *args)
{
    g_autofree char *xid = xid_of(win);
    g_auto(GStrv) words = g_strsplit(args, " ", -1);
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_strv_builder_add(b, "xdotool");
    for (guint i = 0; words[i]; i++)
        g_strv_builder_add(b, g_str_equal(words[i], "%W") ? xid : words[i]);
    g_auto(GStrv) argv = g_strv_builder_end(b);
    g_autofree char *err = NULL;
    int status = 0;
    g_autoptr(GError) error = NULL;
    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                               NULL, NULL, NULL, &err, &status, &error));
    g_assert_no_error(error);
    if (!g_spawn_check_wait_status(status, NULL)) g_error("xdotool %s: %s", args, err);
}

/* Real keys to the window: X focus on it first (there is no window manager under Xvfb). */
static void keys(S4gWindow *win, const char *keys_)
{
    xdo(win, "windowfocus --sync %W");
    g_autofree char *args = g_strdup_printf("key --delay 30 %s", keys_);
    xdo(win, args);
}

typedef struct {
    S4gWindow *win;
    int w, h;
} Size;

/* The X window is w×h; the widget may be a little smaller (the client-side decoration's
 * resize border, 5 px a side on Xvfb without a window manager). */
static gboolean has_size(gpointer data)
{
    Size *s = data;
    int w = gtk_widget_get_width(GTK_WIDGET(s->win)), h = gtk_widget_get_height(GTK_WIDGET(s->win));
    return w <= s->w && w >= s->w - 12 && h <= s->h && h >= s->h - 12;
}

static void on_after_paint(GdkFrameClock *clock, guint *n)
{
    (*n)++;
}

static gboolean painted_twice(gpointer n)
{
    return *(guint *)n >= 2;
}

/* Waits for two frames laid out and painted (the fold changes what the header bar shows). */
static void wait_frames(S4gWindow *win)
{
    GdkFrameClock *clock = gtk_widget_get_frame_clock(GTK_WIDGET(win));
    guint n = 0;
    gulong id = g_signal_connect(clock, "after-paint", G_CALLBACK(on_after_paint), &n);
    gtk_widget_queue_draw(GTK_WIDGET(win));
    g_assert_true(wait_for(painted_twice, &n));
    g_signal_handler_disconnect(clock, id);
}

/* Resizes the X window as a user (or a window manager) would, and waits for the layout. */
static void resize(S4gWindow *win, int w, int h)
{
    g_autofree char *args = g_strdup_printf("windowsize --sync %%W %d %d", w, h);
    xdo(win, args);
    Size s = {win, w, h};
    if (!wait_for(has_size, &s))
        g_error("window is %d×%d, not %d×%d", gtk_widget_get_width(GTK_WIDGET(win)),
                gtk_widget_get_height(GTK_WIDGET(win)), w, h);
    wait_frames(win);
}

typedef struct {
    S4gWindow *win;
    const char *name;
} Pane;

static gboolean pane_shown(gpointer data)
{
    Pane *p = data;
    return !g_strcmp0(s4g_window_get_visible_pane(p->win), p->name);
}

static gboolean sliding_done(gpointer win)
{
    GtkWidget *l = gtk_widget_get_parent(s4g_window_get_pane(win, 0));
    return !adw_leaflet_get_child_transition_running(ADW_LEAFLET(l));
}

static void assert_pane_shown(S4gWindow *win, const char *name)
{
    Pane p = {win, name};
    if (!wait_for(pane_shown, &p))
        g_error("pane %s shown, not %s", s4g_window_get_visible_pane(win), name);
    g_assert_true(wait_for(sliding_done, win));
    wait_frames(win);
}

static S4gWindow *open_window(const char *dir, int w, int h)
{
    S4gWindow *win = s4g_window_new(GTK_APPLICATION(app));
    gtk_window_set_default_size(GTK_WINDOW(win), w, h);
    g_autoptr(GError) error = NULL;
    g_assert_true(s4g_window_open_project(win, dir, &error));
    g_assert_no_error(error);
    gtk_window_present(GTK_WINDOW(win));
    fix_wait_drawn(GTK_WIDGET(win));
    return win;
}

/* Whether pane i is shown whole: inside the window and at least min_w wide. */
static void assert_pane_whole(S4gWindow *win, guint i, int min_w)
{
    GtkWidget *pane = s4g_window_get_pane(win, i);
    if (ADW_IS_CLAMP(pane)) pane = adw_clamp_get_child(ADW_CLAMP(pane)); /* what is drawn */
    graphene_rect_t r;
    g_assert_true(gtk_widget_compute_bounds(pane, GTK_WIDGET(win), &r));
    int ww = gtk_widget_get_width(GTK_WIDGET(win)), wh = gtk_widget_get_height(GTK_WIDGET(win));
    g_assert_cmpfloat(r.origin.x, >=, -0.5);
    g_assert_cmpfloat(r.origin.x + r.size.width, <=, ww + 0.5);
    g_assert_cmpfloat(r.origin.y + r.size.height, <=, wh + 0.5);
    if (r.size.width < min_w)
        g_error("pane %u: %g px wide at x %g in a window of %d×%d", i, r.size.width, r.origin.x,
                ww, wh);
}

static void test_layout(void)
{
    g_autofree char *dir = fix_make_project();
    S4gWindow *win = open_window(dir, 1280, 800);
    resize(win, 1280, 800);
    g_assert_false(s4g_window_is_folded(win));
    for (guint i = 0; i < 3; i++)
        assert_pane_whole(win, i, 200);
    s4g_window_select_photo(win, 0);
    fix_spin(300);
    fix_screenshot(GTK_WIDGET(win), "layout-full.png");

    resize(win, 800, 600);
    g_assert_false(s4g_window_is_folded(win)); /* all three panes, none cut off */
    assert_pane_whole(win, 0, 120);
    assert_pane_whole(win, 1, 200);
    assert_pane_whole(win, 2, 260);
    fix_screenshot(GTK_WIDGET(win), "layout-800x600.png");

    resize(win, 360, 700);
    g_assert_true(s4g_window_is_folded(win));
    int min_w = 0;
    gtk_widget_measure(GTK_WIDGET(win), GTK_ORIENTATION_HORIZONTAL, -1, &min_w, NULL, NULL, NULL);
    g_assert_cmpint(min_w, <=, 360); /* nothing, the header bar included, is cut off */
    g_assert_cmpstr(s4g_window_get_visible_pane(win), ==, "photos");
    fix_screenshot(GTK_WIDGET(win), "layout-360-photos.png");
    assert_pane_whole(win, 0, 300);
    /* F6 shows the next pane, whole */
    keys(win, "F6");
    assert_pane_shown(win, "map");
    keys(win, "F6");
    assert_pane_shown(win, "details");
    wait_frames(win);
    assert_pane_whole(win, 2, 300);
    fix_screenshot(GTK_WIDGET(win), "layout-360-details.png");

    resize(win, 1280, 800); /* enlarging restores the three panes */
    g_assert_false(s4g_window_is_folded(win));
    for (guint i = 0; i < 3; i++)
        assert_pane_whole(win, i, 200);
    gtk_window_destroy(GTK_WINDOW(win));
}

typedef struct {
    S4gWindow *win;
    guint pane;
} InPane;

static gboolean focus_in_pane(gpointer data)
{
    InPane *p = data;
    GtkWidget *focus = gtk_root_get_focus(GTK_ROOT(p->win));
    GtkWidget *pane = s4g_window_get_pane(p->win, p->pane);
    return focus && (focus == pane || gtk_widget_is_ancestor(focus, pane));
}

static GtkWidget *template_child(S4gWindow *win, const char *name)
{
    GObject *o = gtk_widget_get_template_child(GTK_WIDGET(win), S4G_TYPE_WINDOW, name);
    g_assert_nonnull(o);
    return GTK_WIDGET(o);
}

/* One Tab leaves the grid for the map, F6 goes on to the side panel and back round to the
 * grid, and Enter on a photo selects it and opens its details. */
static void test_panes_keyboard(void)
{
    g_autofree char *dir = fix_make_project();
    S4gWindow *win = open_window(dir, 1280, 800);
    gtk_widget_grab_focus(template_child(win, "photo_grid"));
    InPane in = {win, 0};
    g_assert_true(focus_in_pane(&in));
    keys(win, "Tab");
    in.pane = 1;
    g_assert_true(wait_for(focus_in_pane, &in));
    keys(win, "F6");
    in.pane = 2;
    g_assert_true(wait_for(focus_in_pane, &in));
    keys(win, "F6");
    in.pane = 0;
    g_assert_true(wait_for(focus_in_pane, &in));
    /* the arrows move inside the grid; Enter opens the photo's details */
    keys(win, "Right Return");
    in.pane = 2;
    g_assert_true(wait_for(focus_in_pane, &in));
    g_assert_nonnull(s4g_window_get_visible_photo(win, 1));
    GtkLabel *label = GTK_LABEL(template_child(win, "photo_label"));
    g_autofree char *base =
        g_path_get_basename(s4g_photo_get_path(s4g_window_get_visible_photo(win, 1)));
    g_assert_true(g_str_has_prefix(gtk_label_get_label(label), base));
    gtk_window_destroy(GTK_WINDOW(win));
}

typedef struct {
    const char *dir;
    gint64 image;
    guint want;
} Count;

static gboolean has_count(gpointer data)
{
    Count *c = data;
    return fix_count_annotations(c->dir, c->image) == c->want;
}

typedef struct {
    ShumateViewport *vp;
    double lat0, lon0;
} Moved;

/* Right and Down both moved the map: east and south of where it was. */
static gboolean moved_south_east(gpointer data)
{
    Moved *m = data;
    return shumate_location_get_longitude(SHUMATE_LOCATION(m->vp)) > m->lon0 &&
           shumate_location_get_latitude(SHUMATE_LOCATION(m->vp)) < m->lat0;
}

/* Location mode by keyboard: the arrows move the map under the crosshair, Enter sets the
 * location at the centre and ends the mode (a later click does nothing). */
static void test_location_keyboard(void)
{
    g_autofree char *dir = fix_make_project();
    S4gWindow *win = open_window(dir, 1280, 800);
    s4g_window_select_photo(win, 3); /* image 4 */
    gtk_widget_activate_action(GTK_WIDGET(win), "win.set-location-mode", NULL);
    g_assert_true(s4g_window_get_location_mode(win));
    InPane in = {win, 1};
    g_assert_true(focus_in_pane(&in)); /* the map has the keyboard */
    ShumateViewport *vp = shumate_simple_map_get_viewport(s4g_window_get_map(win));
    double lat0 = shumate_location_get_latitude(SHUMATE_LOCATION(vp)),
           lon0 = shumate_location_get_longitude(SHUMATE_LOCATION(vp));
    keys(win, "Right Down");
    Moved m = {vp, lat0, lon0};
    g_assert_true(wait_for(moved_south_east, &m));
    wait_frames(win);
    fix_screenshot(GTK_WIDGET(win), "location-mode.png"); /* the crosshair at the centre */
    double lat = shumate_location_get_latitude(SHUMATE_LOCATION(vp)),
           lon = shumate_location_get_longitude(SHUMATE_LOCATION(vp));
    g_assert_cmpfloat(lon, >, lon0);
    g_assert_cmpfloat(lat, <, lat0);
    keys(win, "Return");
    Count c = {dir, 4, 1};
    g_assert_true(wait_for(has_count, &c));
    g_assert_false(s4g_window_get_location_mode(win));
    {
        g_autoptr(GError) e = NULL;
        g_autoptr(S4gStore) st = s4g_store_open(dir, FALSE, &e);
        double la, lo;
        g_assert_true(s4g_store_annotation_location(st, 4, &la, &lo));
        g_assert_cmpfloat_with_epsilon(la, lat, 1e-6);
        g_assert_cmpfloat_with_epsilon(lo, lon, 1e-6);
    }
    GtkLabel *notes = GTK_LABEL(template_child(win, "annotation_label"));
    g_assert_true(g_str_has_prefix(gtk_label_get_label(notes), "Location set to "));
    /* the mode is over: Enter on the map sets nothing more */
    gtk_widget_grab_focus(GTK_WIDGET(s4g_window_get_map(win)));
    keys(win, "Return");
    fix_spin(200);
    g_assert_cmpuint(fix_count_annotations(dir, 4), ==, 1);
    gtk_window_destroy(GTK_WINDOW(win));
}

/* The grid cell of photo `p` (its caption starts with the file name), or NULL. */
static GtkWidget *cell_of(S4gWindow *win, S4gPhoto *p)
{
    g_autofree char *base = g_path_get_basename(s4g_photo_get_path(p));
    GtkWidget *grid = template_child(win, "photo_grid");
    for (GtkWidget *c = gtk_widget_get_first_child(grid); c; c = gtk_widget_get_next_sibling(c)) {
        GtkWidget *box = gtk_widget_get_first_child(c);
        if (!GTK_IS_BOX(box)) continue;
        GtkWidget *label = gtk_widget_get_last_child(box);
        if (GTK_IS_LABEL(label) && g_str_has_prefix(gtk_label_get_label(GTK_LABEL(label)), base))
            return box;
    }
    return NULL;
}

/* Ctrl+Z typed in the Note field undoes the annotation; undoing a photo that is not the
 * selected one updates its outline and says what was undone; rows read as sentences. */
static void test_note_undo(void)
{
    g_autofree char *dir = fix_make_project();
    S4gWindow *win = open_window(dir, 1280, 800);
    S4gPhoto *p1 = s4g_window_get_visible_photo(win, 1);
    gint64 id1 = s4g_photo_get_id(p1);
    s4g_window_select_photo(win, 1);
    gtk_widget_activate_action(GTK_WIDGET(win), "win.flag-bad-pair", NULL);
    g_assert_cmpuint(fix_count_annotations(dir, id1), ==, 1);
    GtkLabel *notes = GTK_LABEL(template_child(win, "annotation_label"));
    g_assert_cmpstr(gtk_label_get_label(notes), ==, "Flagged as a bad pair, not resolved yet");
    GtkWidget *entry = template_child(win, "note_entry");
    gtk_widget_grab_focus(entry);
    xdo(win, "windowfocus --sync %W");
    xdo(win, "type --delay 30 blurred");
    Count c = {dir, id1, 0};
    keys(win, "ctrl+z");
    g_assert_true(wait_for(has_count, &c));
    g_assert_false(s4g_photo_get_flagged(p1));
    g_assert_true(g_str_has_prefix(s4g_window_get_last_toast(win), "Undone on "));
    /* with a note, flagged again; then another photo is selected and the flag undone */
    gtk_widget_activate_action(GTK_WIDGET(win), "win.flag-wrong-location", NULL);
    g_assert_true(g_str_has_prefix(gtk_label_get_label(notes),
                                   "Flagged as a wrong location, not resolved yet — “"));
    g_assert_true(s4g_photo_get_flagged(p1));
    GtkWidget *cell = cell_of(win, p1);
    g_assert_nonnull(cell);
    g_assert_true(gtk_widget_has_css_class(cell, "s4g-flagged"));
    s4g_window_select_photo(win, 2);
    gtk_widget_activate_action(GTK_WIDGET(win), "win.undo", NULL);
    g_assert_cmpuint(fix_count_annotations(dir, id1), ==, 0);
    g_assert_false(gtk_widget_has_css_class(cell_of(win, p1), "s4g-flagged"));
    g_autofree char *base = g_path_get_basename(s4g_photo_get_path(p1));
    g_autofree char *want =
        g_strdup_printf("Undone on %s: Flagged as a wrong location, resolved", base);
    g_assert_cmpstr(s4g_window_get_last_toast(win), ==, want);
    gtk_window_destroy(GTK_WINDOW(win));
}

/* A gallery (satellite patches, no photos) is no choice of the dataset filter; the anchor
 * list names files, not ids, and its search entry narrows it. */
static void test_lists(void)
{
    g_autofree char *dir = fix_make_project();
    {
        g_autoptr(GError) e = NULL;
        g_autoptr(S4gStore) st = s4g_store_open(dir, FALSE, &e);
        g_assert_no_error(e);
        gint64 id = 0;
        g_assert_true(s4g_store_dataset_upsert(st, "region", "synthetic", dir, NULL, &id, &e));
        g_assert_no_error(e);
        g_autofree char *sql = g_strdup_printf(
            "INSERT INTO images (dataset, view, path, split, lat, lon) VALUES (%" G_GINT64_FORMAT
            ", 'satellite', 'patch.png', 'gallery', 1, 1)",
            id);
        g_assert_true(s4g_store_exec(st, sql, &e));
        g_assert_no_error(e);
    }
    S4gWindow *win = open_window(dir, 1280, 800);
    GListModel *ds = gtk_drop_down_get_model(GTK_DROP_DOWN(template_child(win, "dataset_dropdown")));
    for (guint i = 0; i < g_list_model_get_n_items(ds); i++)
        g_assert_cmpstr(gtk_string_list_get_string(GTK_STRING_LIST(ds), i), !=, "region");
    g_assert_cmpuint(g_list_model_get_n_items(ds), ==, 2); /* "All datasets" and the fixture's */

    S4gNegativesView *nv = s4g_window_get_negatives_view(win);
    s4g_window_select_anchor(win, 0, 0);
    guint n = s4g_negatives_view_count_shown_anchors(nv);
    g_assert_cmpuint(n, >, 0);
    for (guint i = 0; i < n; i++) {
        const char *label = s4g_negatives_view_get_anchor_label(nv, i);
        g_assert_false(g_str_has_prefix(label, "Image "));
        g_assert_true(g_str_has_suffix(label, ".png"));
    }
    g_autofree char *first = g_strdup(s4g_negatives_view_get_anchor_label(nv, 0));
    g_autofree char *stem = g_strndup(first, strlen(first) - 4);
    s4g_negatives_view_search_anchors(nv, stem);
    g_assert_cmpuint(s4g_negatives_view_count_shown_anchors(nv), >=, 1);
    g_assert_cmpuint(s4g_negatives_view_count_shown_anchors(nv), <, n + (n == 1));
    for (guint i = 0; i < s4g_negatives_view_count_shown_anchors(nv); i++)
        g_assert_nonnull(strstr(s4g_negatives_view_get_anchor_label(nv, i), stem));
    s4g_negatives_view_search_anchors(nv, "no-such-file");
    g_assert_cmpuint(s4g_negatives_view_count_shown_anchors(nv), ==, 0);
    gtk_window_destroy(GTK_WINDOW(win));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    fix_init(argv[0]);
    gtk_init();
    adw_init();
    app = fix_make_app("KeysTest");
    g_test_add_func("/studio/keys/layout", test_layout);
    g_test_add_func("/studio/keys/panes", test_panes_keyboard);
    g_test_add_func("/studio/keys/location", test_location_keyboard);
    g_test_add_func("/studio/keys/note-undo", test_note_undo);
    g_test_add_func("/studio/keys/lists", test_lists);
    int rc = g_test_run();
    g_object_unref(app);
    return rc;
}
