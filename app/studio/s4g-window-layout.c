/* s4g-window-layout.c — the adaptive layout of the project page and its keyboard panes.
 *
 * The page's three panes — the photo grid (with the hard-negatives view), the map and the
 * side panel — sit in an AdwLeaflet (libadwaita 1.2): side by side while their minimum widths
 * fit (800×600 included, nothing cut off), one at a time below that (down to 360 px), with a
 * switcher bar at the bottom to change panes; enlarging unfolds it again.  The .ui file keeps
 * the panes in two GtkPaneds (so templates stay simple); they move into the leaflet here.
 *
 * Keyboard: F6 / Shift+F6 cycle the panes (showing the pane when folded), the photo grid is
 * one Tab stop (the arrows move inside it; Tab leaves it for the map), and Enter on a photo
 * opens its details. */
#include "s4g-config.h"

#include "s4g-window-private.h"

#include <glib/gi18n.h>

static const struct {
    const char *name, *title;
} panes[S4G_N_PANES] = {
    {"photos", N_("Photos")},
    {"map", N_("Map")},
    {"details", N_("Details")},
};

static void on_visible_pane(S4gWindow *self)
{
    const char *name = adw_leaflet_get_visible_child_name(self->leaflet);
    for (guint i = 0; i < S4G_N_PANES; i++)
        gtk_toggle_button_set_active(self->pane_buttons[i], !g_strcmp0(name, panes[i].name));
}

static void on_pane_button(GtkToggleButton *b, S4gWindow *self)
{
    if (!gtk_toggle_button_get_active(b)) return;
    for (guint i = 0; i < S4G_N_PANES; i++)
        if (b == self->pane_buttons[i])
            adw_leaflet_set_visible_child_name(self->leaflet, panes[i].name);
}

/* The pane that holds the keyboard focus, or 0. */
static guint focused_pane(S4gWindow *self)
{
    GtkWidget *focus = gtk_root_get_focus(GTK_ROOT(self));
    for (guint i = 0; focus && i < S4G_N_PANES; i++)
        if (focus == self->panes[i] || gtk_widget_is_ancestor(focus, self->panes[i])) return i;
    return 0;
}

/* Shows pane i (when folded) and puts the focus into it: the grid itself, the map itself, the
 * side panel's first control. */
static void focus_pane(S4gWindow *self, guint i)
{
    adw_leaflet_set_visible_child_name(self->leaflet, panes[i].name);
    if (i == 0 && gtk_widget_get_mapped(GTK_WIDGET(self->photo_grid)))
        gtk_widget_grab_focus(GTK_WIDGET(self->photo_grid));
    else if (i == 1)
        gtk_widget_grab_focus(GTK_WIDGET(self->map));
    else
        gtk_widget_child_focus(self->panes[i], GTK_DIR_TAB_FORWARD);
}

static void cycle_panes(GtkWidget *w, const char *a, GVariant *p)
{
    S4gWindow *self = S4G_WINDOW(w);
    if (!gtk_widget_get_mapped(GTK_WIDGET(self->leaflet))) return;
    int step = g_variant_get_int32(p);
    guint next = (focused_pane(self) + S4G_N_PANES + step) % S4G_N_PANES;
    focus_pane(self, next);
}

/* Tab and Shift+Tab leave the grid at once instead of walking its cells. */
static gboolean on_grid_key(GtkEventControllerKey *c, guint key, guint code, GdkModifierType mods,
                            gpointer data)
{
    S4gWindow *self = data;
    if (key == GDK_KEY_Tab || key == GDK_KEY_KP_Tab) {
        focus_pane(self, 1);
        return TRUE;
    }
    if (key == GDK_KEY_ISO_Left_Tab) {
        gtk_widget_grab_focus(GTK_WIDGET(self->max_error_spin)); /* the last filter */
        return TRUE;
    }
    return FALSE;
}

/* Enter (or a double click) on a photo: its details. */
static void on_grid_activate(GtkGridView *grid, guint position, S4gWindow *self)
{
    gtk_single_selection_set_selected(self->selection, position);
    focus_pane(self, 2);
}

/* The first widget below `w` that is a `type` and, if action is not NULL, has that action. */
static GtkWidget *find_widget(GtkWidget *w, GType type, const char *action)
{
    if (G_TYPE_CHECK_INSTANCE_TYPE(w, type) &&
        (!action || (GTK_IS_ACTIONABLE(w) && !g_strcmp0(gtk_actionable_get_action_name(
                                                           GTK_ACTIONABLE(w)),
                                                       action))))
        return w;
    for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c)) {
        GtkWidget *found = find_widget(c, type, action);
        if (found) return found;
    }
    return NULL;
}

/* An AdwSqueezer that shows `buttons` when there is room, else nothing. */
static GtkWidget *squeezer_of(GtkWidget **buttons, guint n)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    for (guint i = 0; i < n; i++)
        gtk_box_append(GTK_BOX(box), buttons[i]);
    GtkWidget *squeezer = adw_squeezer_new();
    adw_squeezer_set_transition_type(ADW_SQUEEZER(squeezer), ADW_SQUEEZER_TRANSITION_TYPE_NONE);
    adw_squeezer_add(ADW_SQUEEZER(squeezer), box);
    adw_squeezer_add(ADW_SQUEEZER(squeezer), gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0));
    return squeezer;
}

/* The header bar fits in 360 px: Open, Undo and Redo sit in AdwSqueezers that leave them
 * out when there is no room (they stay in the main menu and on Ctrl+O, Ctrl+Z and
 * Shift+Ctrl+Z, in the Note field too). */
static void squeeze_header(S4gWindow *self)
{
    AdwHeaderBar *header =
        ADW_HEADER_BAR(find_widget(GTK_WIDGET(self), ADW_TYPE_HEADER_BAR, NULL));
    if (!header) return;
    const char *actions[] = {"win.open", "win.undo", "win.redo"};
    GtkWidget *b[G_N_ELEMENTS(actions)];
    for (guint i = 0; i < G_N_ELEMENTS(actions); i++)
        if (!(b[i] = find_widget(GTK_WIDGET(header), GTK_TYPE_BUTTON, actions[i]))) return;
    GtkWidget *model = GTK_WIDGET(self->model_dropdown);
    g_object_ref(model);
    adw_header_bar_remove(header, model);
    for (guint i = 0; i < G_N_ELEMENTS(actions); i++) {
        g_object_ref(b[i]);
        adw_header_bar_remove(header, b[i]);
    }
    adw_header_bar_pack_start(header, squeezer_of(b, 1));
    adw_header_bar_pack_start(header, model);
    adw_header_bar_pack_end(header, squeezer_of(b + 1, 2));
    g_object_unref(model);
    for (guint i = 0; i < G_N_ELEMENTS(actions); i++)
        g_object_unref(b[i]);
}

void _s4g_window_layout_init(S4gWindow *self)
{
    GtkWidget *grid = gtk_paned_get_start_child(self->outer_paned);
    GtkWidget *map = gtk_paned_get_start_child(self->inner_paned);
    GtkWidget *panel = gtk_paned_get_end_child(self->inner_paned);
    GtkWidget *children[S4G_N_PANES] = {g_object_ref(grid), g_object_ref(map), g_object_ref(panel)};
    gtk_paned_set_start_child(self->outer_paned, NULL);
    gtk_paned_set_start_child(self->inner_paned, NULL);
    gtk_paned_set_end_child(self->inner_paned, NULL);

    self->leaflet = ADW_LEAFLET(adw_leaflet_new());
    adw_leaflet_set_fold_threshold_policy(self->leaflet, ADW_FOLD_THRESHOLD_POLICY_MINIMUM);
    adw_leaflet_set_transition_type(self->leaflet, ADW_LEAFLET_TRANSITION_TYPE_SLIDE);
    /* folding at once: while a fold animates the panes keep their side-by-side widths */
    adw_leaflet_set_mode_transition_duration(self->leaflet, 0);
    adw_leaflet_set_can_navigate_back(self->leaflet, TRUE);
    adw_leaflet_set_can_navigate_forward(self->leaflet, TRUE);
    gtk_widget_set_vexpand(GTK_WIDGET(self->leaflet), TRUE);
    /* the grid and the panel keep their old widths when there is room; the map takes the rest */
    const int max_width[S4G_N_PANES] = {420, 0, 340};
    for (guint i = 0; i < S4G_N_PANES; i++) {
        GtkWidget *child = children[i];
        if (max_width[i]) {
            GtkWidget *clamp = adw_clamp_new();
            adw_clamp_set_maximum_size(ADW_CLAMP(clamp), max_width[i]);
            adw_clamp_set_tightening_threshold(ADW_CLAMP(clamp), max_width[i]);
            adw_clamp_set_child(ADW_CLAMP(clamp), child);
            gtk_widget_set_hexpand(clamp, FALSE);
            child = clamp;
        }
        self->panes[i] = child;
        AdwLeafletPage *page = adw_leaflet_append(self->leaflet, child);
        adw_leaflet_page_set_name(page, panes[i].name);
        g_object_unref(children[i]);
    }
    gtk_widget_set_hexpand(map, TRUE);
    gtk_widget_set_size_request(map, 200, 200);
    gtk_widget_add_css_class(self->panes[2], "view");

    /* folded: a bar to change panes */
    GtkWidget *bar = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 0);
    gtk_widget_add_css_class(bar, "linked");
    gtk_widget_set_halign(bar, GTK_ALIGN_CENTER);
    gtk_widget_set_margin_top(bar, 4);
    gtk_widget_set_margin_bottom(bar, 4);
    for (guint i = 0; i < S4G_N_PANES; i++) {
        GtkWidget *b = gtk_toggle_button_new_with_label(_(panes[i].title));
        if (i) gtk_toggle_button_set_group(GTK_TOGGLE_BUTTON(b), self->pane_buttons[0]);
        /* Translators: the accessible name of a pane button of the narrow layout */
        g_autofree char *name = g_strdup_printf(_("Show the %s pane"), _(panes[i].title));
        gtk_accessible_update_property(GTK_ACCESSIBLE(b), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
        self->pane_buttons[i] = GTK_TOGGLE_BUTTON(b);
        g_signal_connect(b, "toggled", G_CALLBACK(on_pane_button), self);
        gtk_box_append(GTK_BOX(bar), b);
    }
    g_object_bind_property(self->leaflet, "folded", bar, "visible", G_BINDING_SYNC_CREATE);
    squeeze_header(self);
    g_signal_connect_swapped(self->leaflet, "notify::visible-child-name",
                             G_CALLBACK(on_visible_pane), self);
    on_visible_pane(self);

    GtkWidget *page = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
    gtk_box_append(GTK_BOX(page), GTK_WIDGET(self->leaflet));
    gtk_box_append(GTK_BOX(page), bar);
    gtk_accessible_update_property(GTK_ACCESSIBLE(bar), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Panes"),
                                   -1);
    /* the page named "project" now holds the leaflet instead of the paneds */
    const char *visible = gtk_stack_get_visible_child_name(self->main_stack);
    g_autofree char *keep = g_strdup(visible);
    gtk_stack_remove(self->main_stack, GTK_WIDGET(self->outer_paned));
    gtk_stack_add_named(self->main_stack, page, "project");
    if (keep) gtk_stack_set_visible_child_name(self->main_stack, keep);
    self->outer_paned = self->inner_paned = NULL; /* gone with the stack page */

    GtkEventController *keys = gtk_event_controller_key_new();
    gtk_event_controller_set_propagation_phase(keys, GTK_PHASE_CAPTURE);
    g_signal_connect(keys, "key-pressed", G_CALLBACK(on_grid_key), self);
    gtk_widget_add_controller(GTK_WIDGET(self->photo_grid), keys);
    g_signal_connect(self->photo_grid, "activate", G_CALLBACK(on_grid_activate), self);
}

void _s4g_window_class_layout_init(GtkWidgetClass *wc)
{
    gtk_widget_class_install_action(wc, "win.cycle-panes", "i", cycle_panes);
    gtk_widget_class_add_binding_action(wc, GDK_KEY_F6, 0, "win.cycle-panes", "i", 1);
    gtk_widget_class_add_binding_action(wc, GDK_KEY_F6, GDK_SHIFT_MASK, "win.cycle-panes", "i",
                                        -1);
}

gboolean s4g_window_is_folded(S4gWindow *self)
{
    return adw_leaflet_get_folded(self->leaflet);
}

const char *s4g_window_get_visible_pane(S4gWindow *self)
{
    return adw_leaflet_get_visible_child_name(self->leaflet);
}

GtkWidget *s4g_window_get_pane(S4gWindow *self, guint i)
{
    return i < S4G_N_PANES ? self->panes[i] : NULL;
}
