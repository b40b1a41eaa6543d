/* s4g-window.c — main window (see the header). */
#include "s4g-config.h"

#include "s4g-window-private.h"
#include "s4g-settings.h"

#include "s4g-geo.h"
#include "s4g-imagery-source.h"
#include "s4g-mbtiles-source.h"
#include "s4g-photo-layer.h"
#include "s4g-store-annotations.h"
#include "s4g-thumbnail.h"
#include "s4g-widgets.h"
#include "s4g-train-window.h"

#include <glib/gi18n.h>
#include <math.h>

G_DEFINE_FINAL_TYPE(S4gWindow, s4g_window, ADW_TYPE_APPLICATION_WINDOW)

void _s4g_window_toast(S4gWindow *self, const char *message)
{
    adw_toast_overlay_add_toast(self->toasts, adw_toast_new(message));
    g_object_set_data_full(G_OBJECT(self), "s4g-last-toast", g_strdup(message), g_free);
}

const char *s4g_window_get_last_toast(S4gWindow *self)
{
    return g_object_get_data(G_OBJECT(self), "s4g-last-toast");
}

/* ---- markers ------------------------------------------------------------------------- */

static guint count_markers(ShumateMarkerLayer *layer, const char *key)
{
    g_autoptr(GList) markers = shumate_marker_layer_get_markers(layer);
    guint n = 0;
    for (GList *l = markers; l; l = l->next)
        if (!key || g_object_get_data(l->data, key)) n++;
    return n;
}

/* Linked views: choosing a photo's dot on the map selects it in the grid (the layer's
 * dots are in the grid model's order, so the dot knows its grid position). */
static void select_and_reveal(S4gWindow *self, guint position)
{
    gtk_single_selection_set_selected(self->selection, position);
    /* and the grid scrolls to it */
    gtk_widget_activate_action(GTK_WIDGET(self->photo_grid), "list.scroll-to-item", "u", position);
}

static gboolean choose_photo_at(S4gWindow *self, double x, double y)
{
    guint position;
    if (!s4g_photo_layer_pick(self->photo_layer, x, y, &position)) return FALSE;
    select_and_reveal(self, position);
    return TRUE;
}

/* Each view owns its map layers: predictions on Photos, negatives on Hard Negatives. */
static void on_view_changed(S4gWindow *self)
{
    gboolean negatives =
        g_strcmp0(gtk_stack_get_visible_child_name(self->view_stack), "negatives") == 0;
    gtk_widget_set_visible(GTK_WIDGET(self->candidate_layer), !negatives);
    gtk_widget_set_visible(GTK_WIDGET(self->error_path), !negatives);
    gtk_widget_set_visible(GTK_WIDGET(self->negative_layer), negatives);
    gtk_widget_set_visible(GTK_WIDGET(self->compare_layer), negatives);
    _s4g_window_prediction_view_changed(self, negatives);
}

/* ---- filtering ----------------------------------------------------------------------- */

static const char *dropdown_choice(GtkDropDown *d)
{
    /* Position 0 is "All …". */
    guint pos = gtk_drop_down_get_selected(d);
    if (pos == 0 || pos == GTK_INVALID_LIST_POSITION) return NULL;
    GtkStringObject *o = gtk_drop_down_get_selected_item(d);
    return o ? gtk_string_object_get_string(o) : NULL;
}

static gboolean filter_photo(gpointer item, gpointer data)
{
    S4gWindow *self = data;
    S4gPhoto *p = item;
    const char *ds = dropdown_choice(self->dataset_dropdown);
    const char *split = dropdown_choice(self->split_dropdown);
    if (ds && g_strcmp0(ds, s4g_photo_get_dataset(p)) != 0) return FALSE;
    if (split && g_strcmp0(split, s4g_photo_get_split(p)) != 0) return FALSE;
    if (gtk_toggle_button_get_active(self->flagged_toggle) && !s4g_photo_get_flagged(p))
        return FALSE;
    if (!_s4g_window_search_matches(self, p)) return FALSE;
    double lo = gtk_spin_button_get_value(self->min_error_spin); /* metres, as the errors */
    double hi = gtk_spin_button_get_value(self->max_error_spin);
    double e = s4g_photo_get_error(p);
    if (isnan(e)) return lo <= 0; /* without a prediction a photo only passes an open range */
    return e >= lo && e <= hi;
}

static int sort_photo(gconstpointer a, gconstpointer b, gpointer data)
{
    S4gWindow *self = data;
    S4gPhoto *pa = (S4gPhoto *)a, *pb = (S4gPhoto *)b;
    if (gtk_toggle_button_get_active(self->sort_toggle)) {
        double ea = s4g_photo_get_error(pa), eb = s4g_photo_get_error(pb);
        if (isnan(ea) != isnan(eb)) return isnan(ea) ? 1 : -1;
        if (!isnan(ea) && ea != eb) return ea > eb ? -1 : 1;
    }
    gint64 ia = s4g_photo_get_id(pa), ib = s4g_photo_get_id(pb);
    return ia < ib ? -1 : ia > ib;
}

static void update_count(S4gWindow *self)
{
    guint shown = g_list_model_get_n_items(G_LIST_MODEL(self->sorted));
    guint all = self->project ? g_list_model_get_n_items(s4g_project_get_photos(self->project)) : 0;
    g_autofree char *text = g_strdup_printf(_("%u of %u photos"), shown, all);
    gtk_label_set_label(self->count_label, text);
}

void _s4g_window_refilter(S4gWindow *self)
{
    gtk_filter_changed(GTK_FILTER(self->filter), GTK_FILTER_CHANGE_DIFFERENT);
    gtk_sorter_changed(GTK_SORTER(self->sorter), GTK_SORTER_CHANGE_DIFFERENT);
    update_count(self);
}

static void on_filter_changed(S4gWindow *self)
{
    if (self->project) _s4g_window_refilter(self);
}

/* ---- photo grid cells ---------------------------------------------------------------- */

static void on_thumb_notify(S4gPhoto *p, GParamSpec *ps, GtkPicture *picture)
{
    gtk_picture_set_paintable(picture, GDK_PAINTABLE(s4g_photo_get_thumbnail(p)));
}

static void label_cell(S4gPhoto *p, GtkWidget *box)
{
    GtkWidget *label = gtk_widget_get_last_child(box);
    g_autofree char *base = g_path_get_basename(s4g_photo_get_path(p));
    double e = s4g_photo_get_error(p);
    g_autofree char *text = isnan(e)     ? g_strdup(base)
                            : e >= 10000 ? g_strdup_printf(_("%s · %.0f km"), base, e / 1000)
                                         : g_strdup_printf(_("%s · %.0f m"), base, e);
    gtk_label_set_label(GTK_LABEL(label), text);
    gtk_accessible_update_property(GTK_ACCESSIBLE(box), GTK_ACCESSIBLE_PROPERTY_LABEL, text, -1);
}

/* a photo predicted meanwhile gets its error in the label at once */
static void on_error_notify(S4gPhoto *p, GParamSpec *ps, GtkWidget *box)
{
    label_cell(p, box);
}

/* The orange outline of a flagged photo follows its flag (an undo elsewhere changes it). */
static void on_flag_notify(S4gPhoto *p, GParamSpec *ps, GtkWidget *box)
{
    if (s4g_photo_get_flagged(p))
        gtk_widget_add_css_class(box, "s4g-flagged");
    else
        gtk_widget_remove_css_class(box, "s4g-flagged");
}

static void cell_setup(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
    GtkWidget *picture = gtk_picture_new();
    gtk_widget_set_size_request(picture, 112, 84);
    gtk_picture_set_can_shrink(GTK_PICTURE(picture), TRUE);
    GtkWidget *label = gtk_label_new(NULL);
    gtk_label_set_ellipsize(GTK_LABEL(label), PANGO_ELLIPSIZE_MIDDLE);
    gtk_widget_add_css_class(label, "caption");
    gtk_box_append(GTK_BOX(box), picture);
    gtk_box_append(GTK_BOX(box), label);
    gtk_list_item_set_child(item, box);
}

static void cell_bind(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    S4gPhoto *p = gtk_list_item_get_item(item);
    GtkWidget *box = gtk_list_item_get_child(item);
    GtkWidget *picture = gtk_widget_get_first_child(box);
    label_cell(p, box);
    g_signal_connect_object(p, "notify::error", G_CALLBACK(on_error_notify), box, 0);
    on_flag_notify(p, NULL, box);
    g_signal_connect_object(p, "notify::flagged", G_CALLBACK(on_flag_notify), box, 0);
    gtk_picture_set_paintable(GTK_PICTURE(picture), GDK_PAINTABLE(s4g_photo_get_thumbnail(p)));
    g_signal_connect_object(p, "notify::thumbnail", G_CALLBACK(on_thumb_notify), picture, 0);
    /* Lazy: only cells that are actually bound ever decode their image. */
    s4g_photo_ensure_thumbnail(p);
}

static void cell_unbind(GtkSignalListItemFactory *f, GtkListItem *item, gpointer data)
{
    S4gPhoto *p = gtk_list_item_get_item(item);
    GtkWidget *picture = gtk_widget_get_first_child(gtk_list_item_get_child(item));
    g_signal_handlers_disconnect_by_func(p, on_thumb_notify, picture);
    g_signal_handlers_disconnect_by_func(p, on_error_notify, gtk_list_item_get_child(item));
    g_signal_handlers_disconnect_by_func(p, on_flag_notify, gtk_list_item_get_child(item));
    /* Rows scrolled past quickly never finish decoding: drop their work. */
    s4g_photo_cancel_thumbnail(p);
}

static void show_photo(S4gWindow *self, S4gPhoto *p)
{
    g_cancellable_cancel(self->loads);
    g_set_object(&self->loads, g_cancellable_new());
    self->current = p;
    s4g_photo_layer_set_selected(self->photo_layer, p);
    if (!p) {
        gtk_label_set_label(self->photo_label, _("Select a photo"));
        gtk_picture_set_paintable(self->photo_picture, NULL);
        _s4g_window_show_prediction(self);
        _s4g_window_show_annotations(self);
        return;
    }
    g_autofree char *base = g_path_get_basename(s4g_photo_get_path(p));
    g_autofree char *text =
        isnan(s4g_photo_get_lat(p))
            ? g_strdup_printf(_("%s\n%s / %s · no location"), base, s4g_photo_get_dataset(p),
                              s4g_photo_get_split(p))
            : g_strdup_printf("%s\n%s / %s · %.5f, %.5f", base, s4g_photo_get_dataset(p),
                              s4g_photo_get_split(p), s4g_photo_get_lat(p), s4g_photo_get_lon(p));
    gtk_label_set_label(self->photo_label, text);
    s4g_picture_load(self->photo_picture, s4g_photo_get_path(p), 320, self->loads);
    _s4g_window_show_prediction(self);
    _s4g_window_show_annotations(self);
}

static void on_selection_changed(S4gWindow *self)
{
    show_photo(self, gtk_single_selection_get_selected_item(self->selection));
}

static void on_model_changed(S4gWindow *self)
{
    if (!self->project) return;
    _s4g_window_prediction_reset(self); /* the model's search spaces and errors */
    _s4g_window_refilter(self);
    /* Cell labels show the error: rebind the visible cells. */
    gtk_grid_view_set_model(self->photo_grid, NULL);
    gtk_grid_view_set_model(self->photo_grid, GTK_SELECTION_MODEL(self->selection));
    _s4g_window_show_prediction(self);
}

/* Sets the selected photo's location (undoable) and leaves location mode: one click, one
 * location; a later click selects again. */
static void set_location_and_leave_mode(S4gWindow *self, double lat, double lon)
{
    g_autoptr(GError) error = NULL;
    if (!s4g_window_set_photo_location(self, lat, lon, &error)) {
        _s4g_window_toast(self, error->message);
        return;
    }
    gtk_toggle_button_set_active(self->set_location_toggle, FALSE);
    _s4g_window_toast(self, _("Location set"));
}

gboolean s4g_window_set_location_at_centre(S4gWindow *self)
{
    ShumateViewport *vp = shumate_simple_map_get_viewport(self->map);
    if (!self->current || !shumate_viewport_get_reference_map_source(vp)) return FALSE;
    set_location_and_leave_mode(self, shumate_location_get_latitude(SHUMATE_LOCATION(vp)),
                                shumate_location_get_longitude(SHUMATE_LOCATION(vp)));
    return TRUE;
}

gboolean s4g_window_get_location_mode(S4gWindow *self)
{
    return gtk_toggle_button_get_active(self->set_location_toggle);
}

static void on_map_press(GtkGestureClick *g, int n, double x, double y, gpointer data)
{
    S4gWindow *self = data;
    self->press_x = x;
    self->press_y = y;
}

static void on_map_click(GtkGestureClick *g, int n, double x, double y, gpointer data)
{
    S4gWindow *self = data;
    /* Only single clicks: double clicks zoom, and a drag (pan) also ends in a release, so the
     * pointer must not have moved. */
    if (n != 1 || fabs(x - self->press_x) > 4 || fabs(y - self->press_y) > 4) return;
    if (!gtk_toggle_button_get_active(self->set_location_toggle)) {
        /* Outside location mode a click on the map itself (not on its buttons or markers)
         * chooses the photo dot under the pointer. */
        GtkWidget *map = GTK_WIDGET(self->map);
        GtkWidget *hit = gtk_widget_pick(map, x, y, GTK_PICK_DEFAULT);
        if (!hit || SHUMATE_IS_LAYER(hit) || SHUMATE_IS_MAP(hit) || hit == map) {
            graphene_point_t in_layer;
            if (gtk_widget_compute_point(map, GTK_WIDGET(self->photo_layer),
                                         &GRAPHENE_POINT_INIT(x, y), &in_layer))
                choose_photo_at(self, in_layer.x, in_layer.y);
        }
        return;
    }
    if (!self->current) return;
    ShumateViewport *vp = shumate_simple_map_get_viewport(self->map);
    if (!shumate_viewport_get_reference_map_source(vp)) return;
    double lat, lon;
    shumate_viewport_widget_coords_to_location(vp, GTK_WIDGET(self->map), x, y, &lat, &lon);
    set_location_and_leave_mode(self, lat, lon);
}

/* The map's keys in location mode: the arrows move the map under the crosshair at its
 * centre (Shift: a smaller step), Enter or Space sets the location there. */
static gboolean on_map_key(GtkEventControllerKey *c, guint key, guint code, GdkModifierType mods,
                           gpointer data)
{
    S4gWindow *self = data;
    if (!gtk_toggle_button_get_active(self->set_location_toggle)) return FALSE;
    ShumateViewport *vp = shumate_simple_map_get_viewport(self->map);
    if (!shumate_viewport_get_reference_map_source(vp)) return FALSE;
    GtkWidget *map = GTK_WIDGET(self->map);
    double w = gtk_widget_get_width(map), h = gtk_widget_get_height(map);
    double step = (mods & GDK_SHIFT_MASK) ? 8 : MAX(16, MIN(w, h) / 8);
    double dx = 0, dy = 0;
    switch (key) {
    case GDK_KEY_Left: case GDK_KEY_KP_Left: dx = -step; break;
    case GDK_KEY_Right: case GDK_KEY_KP_Right: dx = step; break;
    case GDK_KEY_Up: case GDK_KEY_KP_Up: dy = -step; break;
    case GDK_KEY_Down: case GDK_KEY_KP_Down: dy = step; break;
    case GDK_KEY_Return: case GDK_KEY_KP_Enter: case GDK_KEY_ISO_Enter: case GDK_KEY_space:
        s4g_window_set_location_at_centre(self);
        return TRUE;
    case GDK_KEY_Escape:
        gtk_toggle_button_set_active(self->set_location_toggle, FALSE);
        return TRUE;
    default:
        return FALSE;
    }
    double lat, lon;
    shumate_map_stop_go_to(shumate_simple_map_get_map(self->map));
    shumate_viewport_widget_coords_to_location(vp, map, w / 2 + dx, h / 2 + dy, &lat, &lon);
    shumate_location_set_location(SHUMATE_LOCATION(vp), lat, lon);
    return TRUE;
}

/* Location mode on: a crosshair marks the map's centre and the map takes the keyboard, so
 * the arrows and Enter can set the location without a mouse; off after each location set. */
static void on_location_mode_toggled(S4gWindow *self)
{
    gboolean on = gtk_toggle_button_get_active(self->set_location_toggle);
    gtk_widget_set_visible(self->crosshair, on);
    /* the map stays where the user puts it (no fly to a selection under way) */
    if (on) shumate_map_stop_go_to(shumate_simple_map_get_map(self->map));
    if (on) gtk_widget_grab_focus(GTK_WIDGET(self->map));
}

static void on_map_motion(GtkEventControllerMotion *c, double x, double y, gpointer data)
{
    S4gWindow *self = data;
    ShumateViewport *vp = shumate_simple_map_get_viewport(self->map);
    if (!shumate_viewport_get_reference_map_source(vp)) return;
    double lat, lon;
    shumate_viewport_widget_coords_to_location(vp, GTK_WIDGET(self->map), x, y, &lat, &lon);
    g_autofree char *text = g_strdup_printf("%.5f, %.5f", lat, lon);
    gtk_label_set_label(self->cursor_label, text);
    gtk_widget_set_visible(GTK_WIDGET(self->cursor_label), TRUE);
}

/* ---- opening projects ---------------------------------------------------------------- */

static void open_recent(GtkButton *b, S4gWindow *self)
{
    g_autoptr(GError) error = NULL;
    if (!s4g_window_open_project(self, g_object_get_data(G_OBJECT(b), "s4g-dir"), &error))
        _s4g_window_toast(self, error->message);
}

static void fill_recent(S4gWindow *self)
{
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(GTK_WIDGET(self->recent_list))))
        gtk_list_box_remove(self->recent_list, child);
    g_auto(GStrv) recent = g_settings_get_strv(self->settings, "recent-projects");
    for (guint i = 0; recent[i]; i++) {
        GtkWidget *b = gtk_button_new_with_label(recent[i]);
        gtk_widget_add_css_class(b, "flat");
        g_object_set_data_full(G_OBJECT(b), "s4g-dir", g_strdup(recent[i]), g_free);
        g_autofree char *acc = g_strdup_printf(_("Open recent project %s"), recent[i]);
        gtk_accessible_update_property(GTK_ACCESSIBLE(b), GTK_ACCESSIBLE_PROPERTY_LABEL, acc, -1);
        g_signal_connect(b, "clicked", G_CALLBACK(open_recent), self);
        gtk_list_box_append(self->recent_list, b);
    }
    gtk_widget_set_visible(GTK_WIDGET(self->recent_list), recent[0] != NULL);
}

static void remember(S4gWindow *self, const char *dir)
{
    g_auto(GStrv) old = g_settings_get_strv(self->settings, "recent-projects");
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_strv_builder_add(b, dir);
    for (guint i = 0, n = 1; old[i] && n < 10; i++)
        if (g_strcmp0(old[i], dir) != 0) {
            g_strv_builder_add(b, old[i]);
            n++;
        }
    g_auto(GStrv) now = g_strv_builder_end(b);
    g_settings_set_strv(self->settings, "recent-projects", (const char *const *)now);
}

static GtkStringList *with_all(const char *all, GStrv items)
{
    GtkStringList *l = gtk_string_list_new(NULL);
    gtk_string_list_append(l, all);
    for (guint i = 0; items[i]; i++)
        gtk_string_list_append(l, items[i]);
    return l;
}

/* The zoom that fits a west..east span into the map's width, within the source's range. */
static double fit_zoom(S4gWindow *self, ShumateMapSource *s, const double b[4])
{
    /* 256·2^z px span 360°; before the first allocation assume the default pane width */
    int width = gtk_widget_get_width(GTK_WIDGET(self->map));
    double fit = log2((width > 0 ? width : 560) * 360.0 / (256.0 * (b[2] - b[0])));
    return CLAMP(floor(fit), shumate_map_source_get_min_zoom_level(s),
                 shumate_map_source_get_max_zoom_level(s));
}

static void set_base_layer(S4gWindow *self)
{
    g_autofree char *kind = g_settings_get_string(self->settings, "tile-source");
    g_autofree char *mbtiles = s4g_project_find_mbtiles(self->project);
    g_autofree char *imagery = self->imagery ? g_strdup(self->imagery)
                               : !g_strcmp0(kind, "imagery")
                                   ? g_settings_get_string(self->settings, "imagery-source")
                                   : NULL;
    ShumateMapSource *source = NULL;
    double lat = 0, lon = 0, zoom = 2;
    gboolean centred = FALSE;
    if (imagery && *imagery) {
        /* a GeoTIFF (or any GDAL raster) rendered to map tiles on demand */
        g_autoptr(GError) error = NULL;
        S4gImagerySource *s = s4g_imagery_source_new(imagery, &error);
        if (s) {
            double b[4];
            s4g_imagery_source_get_bounds(s, b);
            lon = (b[0] + b[2]) / 2, lat = (b[1] + b[3]) / 2;
            zoom = fit_zoom(self, SHUMATE_MAP_SOURCE(s), b);
            centred = TRUE;
            source = SHUMATE_MAP_SOURCE(s);
        } else {
            _s4g_window_toast(self, error->message);
        }
    }
    if (!source && g_strcmp0(kind, "xyz") != 0 && mbtiles) {
        g_autoptr(GError) error = NULL;
        S4gMbtilesSource *s = s4g_mbtiles_source_new(mbtiles, &error);
        if (s) {
            centred = s4g_mbtiles_source_get_center(s, &lat, &lon, &zoom);
            double b[4];
            if (s4g_mbtiles_source_get_bounds(s, b) && b[2] > b[0])
                zoom = fit_zoom(self, SHUMATE_MAP_SOURCE(s), b);
            source = SHUMATE_MAP_SOURCE(s);
        } else {
            _s4g_window_toast(self, error->message);
        }
    }
    if (!source) {
        g_autofree char *url = g_settings_get_string(self->settings, "xyz-url");
        source = SHUMATE_MAP_SOURCE(
            shumate_raster_renderer_new_full_from_url("s4g-xyz", _("Online tiles"), "", "", 0, 19,
                                                      256, SHUMATE_MAP_PROJECTION_MERCATOR, url));
    }
    shumate_simple_map_set_map_source(self->map, source);
    g_object_unref(source);
    /* libshumate 1.0 adds the new base layer on top of every layer: lift the overlays. */
    ShumateMap *map = shumate_simple_map_get_map(self->map);
    ShumateLayer *overlays[] = {SHUMATE_LAYER(self->photo_layer), SHUMATE_LAYER(self->error_path),
                                SHUMATE_LAYER(self->candidate_layer),
                                SHUMATE_LAYER(self->negative_layer),
                                SHUMATE_LAYER(self->compare_layer)};
    for (guint i = 0; i < G_N_ELEMENTS(overlays); i++) {
        g_object_ref(overlays[i]);
        shumate_map_remove_layer(map, overlays[i]);
        shumate_map_add_layer(map, overlays[i]);
        g_object_unref(overlays[i]);
    }
    _s4g_window_prediction_raise_layers(self);
    ShumateViewport *vp = shumate_simple_map_get_viewport(self->map);
    if (centred) {
        shumate_viewport_set_zoom_level(vp, zoom);
        shumate_location_set_location(SHUMATE_LOCATION(vp), lat, lon);
    }
}

static void on_tile_settings_changed(S4gWindow *self)
{
    if (self->project) set_base_layer(self);
}

void s4g_window_set_base_imagery(S4gWindow *self, const char *src)
{
    g_return_if_fail(S4G_IS_WINDOW(self));
    g_free(self->imagery);
    self->imagery = src && *src ? g_strdup(src) : NULL;
    on_tile_settings_changed(self);
}

/* ---- a project another process is writing ---------------------------------------------
 * Opening migrates and sweeps, which needs the write lock; an import or a training run in
 * another process may hold it for minutes.  The main thread waits at most OPEN_WAIT_MS, then
 * says so in a toast that stays and waits in a worker thread (short bounded tries, so closing
 * the window stops it); when the lock is free the project opens. */
#define OPEN_WAIT_MS 300

static void busy_wait_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel)
{
    const char *dir = data;
    while (!g_cancellable_is_cancelled(cancel)) {
        g_autoptr(GError) error = NULL;
        S4gStore *store = s4g_store_open_within(dir, TRUE, 500, &error);
        if (store) {
            s4g_store_close(store);
            g_task_return_boolean(task, TRUE);
            return;
        }
        if (!g_error_matches(error, S4G_STORE_ERROR, S4G_STORE_ERROR_BUSY)) {
            g_task_return_error(task, g_steal_pointer(&error));
            return;
        }
    }
    g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
}

static void busy_wait_done(GObject *source, GAsyncResult *res, gpointer data)
{
    S4gWindow *self = S4G_WINDOW(source);
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_strdup(g_task_get_task_data(G_TASK(res)));
    gboolean free_now = g_task_propagate_boolean(G_TASK(res), &error);
    if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
        g_strcmp0(dir, self->busy_dir))
        return; /* another project was asked for meanwhile */
    g_clear_pointer(&self->busy_dir, g_free);
    g_clear_object(&self->busy_wait);
    if (self->busy_toast) adw_toast_dismiss(self->busy_toast);
    g_clear_object(&self->busy_toast);
    if (!free_now || !s4g_window_open_project(self, dir, &error))
        _s4g_window_toast(self, error->message);
}

static void stop_busy_wait(S4gWindow *self)
{
    if (self->busy_wait) g_cancellable_cancel(self->busy_wait);
    g_clear_object(&self->busy_wait);
    g_clear_pointer(&self->busy_dir, g_free);
    if (self->busy_toast) adw_toast_dismiss(self->busy_toast);
    g_clear_object(&self->busy_toast);
}

static void open_when_free(S4gWindow *self, const char *dir)
{
    stop_busy_wait(self);
    self->busy_dir = g_strdup(dir);
    self->busy_wait = g_cancellable_new();
    g_autofree char *base = g_path_get_basename(dir);
    g_autofree char *msg = g_strdup_printf(
        _("The project “%s” is busy: another s4g process is writing it; retrying…"), base);
    self->busy_toast = g_object_ref_sink(adw_toast_new(msg));
    adw_toast_set_timeout(self->busy_toast, 0); /* until the project opens */
    adw_toast_overlay_add_toast(self->toasts, g_object_ref(self->busy_toast));
    g_object_set_data_full(G_OBJECT(self), "s4g-last-toast", g_strdup(msg), g_free);
    GTask *task = g_task_new(self, self->busy_wait, busy_wait_done, NULL);
    g_task_set_task_data(task, g_strdup(dir), g_free);
    g_task_run_in_thread(task, busy_wait_thread);
    g_object_unref(task);
}

gboolean s4g_window_open_project(S4gWindow *self, const char *dir, GError **error)
{
    g_return_val_if_fail(S4G_IS_WINDOW(self), FALSE);
    g_autoptr(GError) local = NULL;
    S4gProject *project = s4g_project_open(dir, TRUE, OPEN_WAIT_MS, &local);
    if (!project && g_error_matches(local, S4G_STORE_ERROR, S4G_STORE_ERROR_BUSY)) {
        open_when_free(self, dir);
        return TRUE;
    }
    if (!project) {
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    stop_busy_wait(self);
    g_set_object(&self->project, project);
    g_object_unref(project);
    if (self->predicted) g_hash_table_remove_all(self->predicted); /* ids are per project */
    g_ptr_array_set_size(self->undo, 0);
    g_ptr_array_set_size(self->redo, 0);
    _s4g_window_update_undo_actions(self);

    g_autofree char *base = g_path_get_basename(dir);
    adw_window_title_set_title(self->title, base);
    adw_window_title_set_subtitle(self->title, dir);

    g_auto(GStrv) datasets = s4g_project_list_datasets(project);
    g_auto(GStrv) splits = s4g_project_list_splits(project);
    GtkStringList *dl = with_all(_("All datasets"), datasets);
    GtkStringList *sl = with_all(_("All splits"), splits);
    gtk_drop_down_set_model(self->dataset_dropdown, G_LIST_MODEL(dl));
    gtk_drop_down_set_model(self->split_dropdown, G_LIST_MODEL(sl));
    g_object_unref(dl);
    g_object_unref(sl);

    /* Pick the default model from the preferences when the project has it. */
    GtkStringList *models = s4g_project_get_models(project);
    g_signal_handlers_block_by_func(self->model_dropdown, on_model_changed, self);
    gtk_drop_down_set_model(self->model_dropdown, G_LIST_MODEL(models));
    g_autofree char *want = g_settings_get_string(self->settings, "default-model");
    for (guint i = 0; i < g_list_model_get_n_items(G_LIST_MODEL(models)); i++)
        if (g_strcmp0(gtk_string_list_get_string(models, i), want) == 0)
            gtk_drop_down_set_selected(self->model_dropdown, i);
    g_signal_handlers_unblock_by_func(self->model_dropdown, on_model_changed, self);

    _s4g_window_prediction_reset(self); /* search spaces, errors of the chosen one */

    gtk_filter_list_model_set_model(self->filtered, s4g_project_get_photos(project));
    gtk_single_selection_set_selected(self->selection, GTK_INVALID_LIST_POSITION);

    s4g_negatives_view_set_project(self->negatives_view, project);

    set_base_layer(self);
    _s4g_window_refilter(self);
    show_photo(self, NULL);
    remember(self, dir);
    gtk_stack_set_visible_child_name(self->main_stack, "project");
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.train", TRUE);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.export-csv", TRUE);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.export-geojson", TRUE);
    return TRUE;
}

/* libshumate's own zoom buttons are icon-only and unnamed: name them for screen readers. */
static void name_map_buttons(GtkWidget *w)
{
    for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c)) {
        if (GTK_IS_BUTTON(c) && !gtk_button_get_label(GTK_BUTTON(c))) {
            const char *icon = gtk_button_get_icon_name(GTK_BUTTON(c));
            GtkWidget *child = gtk_button_get_child(GTK_BUTTON(c));
            if (!icon && GTK_IS_IMAGE(child)) icon = gtk_image_get_icon_name(GTK_IMAGE(child));
            const char *name = g_strcmp0(icon, "zoom-in-symbolic") == 0    ? _("Zoom in")
                               : g_strcmp0(icon, "zoom-out-symbolic") == 0 ? _("Zoom out")
                                                                           : NULL;
            if (name) {
                gtk_accessible_update_property(GTK_ACCESSIBLE(c), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                               name, -1);
                gtk_widget_set_tooltip_text(c, name);
            }
        }
        name_map_buttons(c);
    }
}

/* ---- life cycle ---------------------------------------------------------------------- */

static void dispose(GObject *o)
{
    S4gWindow *self = S4G_WINDOW(o);
    if (self->task) {
        /* the task keeps its own reference to the window; stop the process, detach */
        s4g_runner_kill(self->task->runner);
        self->task = NULL;
    }
    if (self->loads) g_cancellable_cancel(self->loads);
    g_clear_object(&self->loads);
    stop_busy_wait(self);
    _s4g_window_prediction_dispose(self);
    gtk_widget_dispose_template(GTK_WIDGET(self), S4G_TYPE_WINDOW);
    g_clear_object(&self->selection);
    g_clear_object(&self->project);
    g_clear_object(&self->settings);
    g_clear_pointer(&self->imagery, g_free);
    g_clear_pointer(&self->predicted, g_hash_table_unref);
    g_clear_pointer(&self->undo, g_ptr_array_unref);
    g_clear_pointer(&self->redo, g_ptr_array_unref);
    G_OBJECT_CLASS(s4g_window_parent_class)->dispose(o);
}

static void s4g_window_class_init(S4gWindowClass *klass)
{
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = dispose;
    g_type_ensure(SHUMATE_TYPE_SIMPLE_MAP);
    g_type_ensure(S4G_TYPE_NEGATIVES_VIEW);
    gtk_widget_class_set_template_from_resource(wc, "/org/sample4geo/Studio/s4g-window.ui");
#define BIND(n) gtk_widget_class_bind_template_child(wc, S4gWindow, n)
    BIND(toasts);
    BIND(title);
    BIND(model_dropdown);
    BIND(main_stack);
    BIND(recent_list);
    BIND(view_stack);
    BIND(dataset_dropdown);
    BIND(split_dropdown);
    BIND(flagged_toggle);
    BIND(sort_toggle);
    BIND(set_location_toggle);
    BIND(min_error_spin);
    BIND(max_error_spin);
    BIND(count_label);
    BIND(cursor_label);
    BIND(photo_label);
    BIND(error_label);
    BIND(annotation_label);
    BIND(photo_grid);
    BIND(negatives_view);
    BIND(photo_picture);
    BIND(candidates_flow);
    BIND(map);
    BIND(side_panel);
    BIND(note_entry);
    BIND(task_bar);
    BIND(task_spinner);
    BIND(task_progress);
    BIND(outer_paned);
    BIND(inner_paned);
    BIND(task_label);
#undef BIND
    _s4g_window_class_actions_init(wc);
    _s4g_window_class_layout_init(wc);
}

static void s4g_window_init(S4gWindow *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    self->settings = s4g_settings_new();
    self->undo = g_ptr_array_new_with_free_func((GDestroyNotify)_s4g_window_edit_free);
    self->redo = g_ptr_array_new_with_free_func((GDestroyNotify)_s4g_window_edit_free);
    self->error_m = NAN;

    self->filter = gtk_custom_filter_new(filter_photo, self, NULL);
    self->sorter = gtk_custom_sorter_new(sort_photo, self, NULL);
    self->filtered = gtk_filter_list_model_new(NULL, GTK_FILTER(self->filter));
    self->sorted = gtk_sort_list_model_new(G_LIST_MODEL(self->filtered), GTK_SORTER(self->sorter));
    self->selection = gtk_single_selection_new(G_LIST_MODEL(self->sorted));
    gtk_single_selection_set_autoselect(self->selection, FALSE);
    gtk_single_selection_set_can_unselect(self->selection, TRUE);
    g_signal_connect_swapped(self->selection, "notify::selected-item",
                             G_CALLBACK(on_selection_changed), self);

    GtkListItemFactory *factory = gtk_signal_list_item_factory_new();
    g_signal_connect(factory, "setup", G_CALLBACK(cell_setup), self);
    g_signal_connect(factory, "bind", G_CALLBACK(cell_bind), self);
    g_signal_connect(factory, "unbind", G_CALLBACK(cell_unbind), self);
    gtk_grid_view_set_factory(self->photo_grid, factory);
    g_object_unref(factory);
    gtk_grid_view_set_model(self->photo_grid, GTK_SELECTION_MODEL(self->selection));

    g_signal_connect_swapped(self->dataset_dropdown, "notify::selected",
                             G_CALLBACK(on_filter_changed), self);
    g_signal_connect_swapped(self->split_dropdown, "notify::selected",
                             G_CALLBACK(on_filter_changed), self);
    g_signal_connect_swapped(self->flagged_toggle, "toggled", G_CALLBACK(on_filter_changed), self);
    g_signal_connect_swapped(self->sort_toggle, "toggled", G_CALLBACK(on_filter_changed), self);
    g_signal_connect_swapped(self->min_error_spin, "value-changed", G_CALLBACK(on_filter_changed),
                             self);
    g_signal_connect_swapped(self->max_error_spin, "value-changed", G_CALLBACK(on_filter_changed),
                             self);
    g_signal_connect_swapped(self->model_dropdown, "notify::selected", G_CALLBACK(on_model_changed),
                             self);

    ShumateViewport *vp = shumate_simple_map_get_viewport(self->map);
    self->photo_layer = s4g_photo_layer_new(vp);
    s4g_photo_layer_set_model(self->photo_layer, G_LIST_MODEL(self->sorted));
    self->error_path = shumate_path_layer_new(vp);
    GdkRGBA red = {0.88, 0.11, 0.14, 1};
    shumate_path_layer_set_stroke_color(self->error_path, &red);
    shumate_path_layer_set_stroke_width(self->error_path, 3);
    self->candidate_layer = shumate_marker_layer_new(vp);
    self->negative_layer = shumate_marker_layer_new(vp);
    /* Overlay layers stay above the base layer when the map source changes. */
    shumate_simple_map_add_overlay_layer(self->map, SHUMATE_LAYER(self->photo_layer));
    shumate_simple_map_add_overlay_layer(self->map, SHUMATE_LAYER(self->error_path));
    shumate_simple_map_add_overlay_layer(self->map, SHUMATE_LAYER(self->candidate_layer));
    shumate_simple_map_add_overlay_layer(self->map, SHUMATE_LAYER(self->negative_layer));
    self->compare_layer = shumate_marker_layer_new(vp);
    shumate_simple_map_add_overlay_layer(self->map, SHUMATE_LAYER(self->compare_layer));
    s4g_negatives_view_set_map(self->negatives_view, self->map, self->negative_layer,
                               self->compare_layer);
    _s4g_window_prediction_init(self); /* its panel, estimate and truth layers, legend */

    GtkGesture *click = gtk_gesture_click_new();
    g_signal_connect(click, "pressed", G_CALLBACK(on_map_press), self);
    g_signal_connect(click, "released", G_CALLBACK(on_map_click), self);
    /* Capture phase: see the click before ShumateMap's own pan/zoom gestures take it. */
    gtk_event_controller_set_propagation_phase(GTK_EVENT_CONTROLLER(click), GTK_PHASE_CAPTURE);
    gtk_widget_add_controller(GTK_WIDGET(self->map), GTK_EVENT_CONTROLLER(click));
    GtkEventController *motion = gtk_event_controller_motion_new();
    g_signal_connect(motion, "motion", G_CALLBACK(on_map_motion), self);
    gtk_widget_add_controller(GTK_WIDGET(self->map), motion);
    /* the map takes the keyboard focus (F6, location mode) */
    gtk_widget_set_focusable(GTK_WIDGET(self->map), TRUE);
    GtkEventController *keys = gtk_event_controller_key_new();
    gtk_event_controller_set_propagation_phase(keys, GTK_PHASE_CAPTURE);
    g_signal_connect(keys, "key-pressed", G_CALLBACK(on_map_key), self);
    gtk_widget_add_controller(GTK_WIDGET(self->map), keys);
    /* the crosshair: over the map's centre, never in the way of the pointer */
    self->crosshair = gtk_image_new_from_icon_name("list-add-symbolic");
    gtk_image_set_pixel_size(GTK_IMAGE(self->crosshair), 32);
    gtk_widget_set_halign(self->crosshair, GTK_ALIGN_CENTER);
    gtk_widget_set_valign(self->crosshair, GTK_ALIGN_CENTER);
    gtk_widget_set_can_target(self->crosshair, FALSE);
    gtk_widget_add_css_class(self->crosshair, "s4g-crosshair");
    gtk_widget_set_visible(self->crosshair, FALSE);
    gtk_accessible_update_property(GTK_ACCESSIBLE(self->crosshair), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   _("Location to set: the map's centre"), -1);
    gtk_overlay_add_overlay(GTK_OVERLAY(gtk_widget_get_parent(GTK_WIDGET(self->map))),
                            self->crosshair);
    g_signal_connect_swapped(self->set_location_toggle, "toggled",
                             G_CALLBACK(on_location_mode_toggled), self);
    _s4g_window_note_undo_init(self);
    _s4g_window_layout_init(self);

    g_signal_connect_swapped(self->settings, "changed::tile-source",
                             G_CALLBACK(on_tile_settings_changed), self);
    g_signal_connect_swapped(self->settings, "changed::xyz-url",
                             G_CALLBACK(on_tile_settings_changed), self);
    g_signal_connect_swapped(self->settings, "changed::imagery-source",
                             G_CALLBACK(on_tile_settings_changed), self);
    g_signal_connect_swapped(self->settings, "changed::top-k",
                             G_CALLBACK(_s4g_window_show_prediction), self);
    name_map_buttons(GTK_WIDGET(self->map));
    g_signal_connect_swapped(self->view_stack, "notify::visible-child-name",
                             G_CALLBACK(on_view_changed), self);
    on_view_changed(self);
    fill_recent(self);
    _s4g_window_update_undo_actions(self);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.train", FALSE);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.export-csv", FALSE);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.export-geojson", FALSE);
}

S4gWindow *s4g_window_new(GtkApplication *app)
{
    return g_object_new(S4G_TYPE_WINDOW, "application", app, NULL);
}

S4gProject *s4g_window_get_project(S4gWindow *self)
{
    return self->project;
}

void s4g_window_select_photo(S4gWindow *self, guint position)
{
    gtk_single_selection_set_selected(self->selection, position);
}

void s4g_window_set_filters(S4gWindow *self, gboolean only_flagged, gboolean sort_by_error,
                            double min_km, double max_km)
{
    gtk_toggle_button_set_active(self->flagged_toggle, only_flagged);
    gtk_toggle_button_set_active(self->sort_toggle, sort_by_error);
    gtk_spin_button_set_value(self->min_error_spin, min_km * 1000); /* the spins are in m */
    gtk_spin_button_set_value(self->max_error_spin, max_km * 1000);
}

S4gPhoto *s4g_window_get_visible_photo(S4gWindow *self, guint position)
{
    g_autoptr(S4gPhoto) p = g_list_model_get_item(G_LIST_MODEL(self->sorted), position);
    return p; /* borrowed: the project's list keeps it */
}

void s4g_window_select_anchor(S4gWindow *self, guint run_pos, guint anchor_pos)
{
    gtk_stack_set_visible_child_name(self->view_stack, "negatives");
    s4g_negatives_view_select(self->negatives_view, run_pos, anchor_pos);
}

void s4g_window_activate_candidate(S4gWindow *self, guint index)
{
    GtkFlowBoxChild *child = gtk_flow_box_get_child_at_index(self->candidates_flow, (int)index);
    if (child) _s4g_window_centre_on_tile(self, gtk_flow_box_child_get_child(child));
}

guint s4g_window_count_candidate_markers(S4gWindow *self)
{
    return count_markers(self->candidate_layer, "s4g-rank");
}

guint s4g_window_count_candidate_thumbnails(S4gWindow *self)
{
    guint n = 0;
    for (GtkWidget *c = gtk_widget_get_first_child(GTK_WIDGET(self->candidates_flow)); c;
         c = gtk_widget_get_next_sibling(c))
        n++;
    return n;
}

guint s4g_window_count_negative_tiles(S4gWindow *self)
{
    return s4g_negatives_view_count_tiles(self->negatives_view, S4G_NEGATIVES_MAIN);
}

guint s4g_window_count_negative_markers(S4gWindow *self)
{
    return s4g_negatives_view_count_markers(self->negatives_view, S4G_NEGATIVES_MAIN);
}

S4gNegativesView *s4g_window_get_negatives_view(S4gWindow *self)
{
    return self->negatives_view;
}

void s4g_window_choose_photo_marker(S4gWindow *self, gint64 image)
{
    guint position;
    if (s4g_photo_layer_find(self->photo_layer, image, &position))
        select_and_reveal(self, position);
}

gboolean s4g_window_candidate_layer_visible(S4gWindow *self)
{
    return gtk_widget_get_visible(GTK_WIDGET(self->candidate_layer));
}

guint s4g_window_count_photo_markers(S4gWindow *self)
{
    return s4g_photo_layer_get_n_dots(self->photo_layer);
}

guint s4g_window_count_visible_photos(S4gWindow *self)
{
    return g_list_model_get_n_items(G_LIST_MODEL(self->sorted));
}

gboolean s4g_window_has_error_line(S4gWindow *self, double *metres)
{
    g_autoptr(GList) nodes = shumate_path_layer_get_nodes(self->error_path);
    *metres = self->error_m;
    return g_list_length(nodes) == 2;
}

ShumateSimpleMap *s4g_window_get_map(S4gWindow *self)
{
    return self->map;
}
ShumateLayer *s4g_window_get_photo_layer(S4gWindow *self)
{
    return SHUMATE_LAYER(self->photo_layer);
}
GtkWidget *s4g_window_get_side_panel(S4gWindow *self)
{
    return self->side_panel;
}
GtkWidget *s4g_window_get_view_stack(S4gWindow *self)
{
    return GTK_WIDGET(self->view_stack);
}
