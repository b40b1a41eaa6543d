/* s4g-negatives-view.c — hard-negative inspector with run comparison (see the header). */
#include "s4g-config.h"

#include "s4g-negatives-view.h"

#include "s4g-thumbnail.h"
#include "s4g-widgets.h"

#include <glib/gi18n.h>
#include <math.h>

/* One side of the comparison: a run's negatives as a grid and as map markers. */
typedef struct {
    GtkLabel *title, *message;
    GtkFlowBox *flow;
    ShumateMarkerLayer *layer;
} Column;

struct _S4gNegativesView {
    GtkBox parent_instance;

    GtkDropDown *run_dropdown, *compare_dropdown;
    GtkListView *anchor_list;
    GtkSearchEntry *anchor_search;
    GtkStringFilter *anchor_filter; /* the search text over the anchors' file names */
    GtkPicture *anchor_picture, *true_tile_picture;
    GtkLabel *summary_label;
    GtkLabel *title_main, *message_main, *title_compare, *message_compare;
    GtkFlowBox *flow_main, *flow_compare;
    GtkWidget *compare_column;

    Column col[2];
    ShumateSimpleMap *map;
    S4gProject *project;
    GtkStringList *run_names; /* labels, in the order of run_ids */
    GArray *run_ids, *anchor_ids;
    GtkSingleSelection *anchor_selection; /* owned by the list view */
    GCancellable *loads;                  /* thumbnails; cancelled on every new anchor */
};

G_DEFINE_FINAL_TYPE(S4gNegativesView, s4g_negatives_view, GTK_TYPE_BOX)

/* ---- small pieces ----------------------------------------------------------------------- */

static void set_message(Column *c, const char *text)
{
    gtk_label_set_label(c->message, text ? text : "");
    gtk_widget_set_visible(GTK_WIDGET(c->message), text && *text);
}

static const char *run_name(S4gNegativesView *self, guint pos)
{
    return self->run_names && pos < g_list_model_get_n_items(G_LIST_MODEL(self->run_names))
               ? gtk_string_list_get_string(self->run_names, pos)
               : "";
}

/* Position of the "Compare with" run in the run list, or GTK_INVALID_LIST_POSITION for None
 * (the drop-down's first entry). */
static guint compare_pos(S4gNegativesView *self)
{
    guint sel = gtk_drop_down_get_selected(self->compare_dropdown);
    if (sel == 0 || sel == GTK_INVALID_LIST_POSITION || !self->run_ids ||
        sel - 1 >= self->run_ids->len)
        return GTK_INVALID_LIST_POSITION;
    return sel - 1;
}

/* A tile activated by click or keyboard centres the map on that negative. */
static void on_tile_activated(GtkFlowBox *flow, GtkFlowBoxChild *child, gpointer data)
{
    S4gNegativesView *self = data;
    GtkWidget *tile = gtk_flow_box_child_get_child(child);
    double *ll = g_object_get_data(G_OBJECT(tile), "s4g-latlon");
    if (self->map && ll && !isnan(ll[0])) {
        ShumateMap *map = shumate_simple_map_get_map(self->map);
        shumate_map_stop_go_to(map); /* a running fly-to would override the jump */
        shumate_map_center_on(map, ll[0], ll[1]);
    }
}

/* Rank and the run's score: a GPS run stores the distance in metres, a DSS run the
 * similarity the model gave the pair. */
static char *caption_for(const S4gCandidate *c, int rank, gboolean gps)
{
    if (!gps) return g_strdup_printf(_("#%d · %.3f"), rank, c->score);
    if (c->score >= 10000) return g_strdup_printf(_("#%d · %.1f km"), rank, c->score / 1000);
    return g_strdup_printf(_("#%d · %.0f m"), rank, c->score);
}

/* A negative's tile; `also` names the other run when both runs chose this negative. */
static GtkWidget *negative_tile(S4gNegativesView *self, const S4gCandidate *c, const char *caption,
                                const char *also)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
    gtk_widget_add_css_class(box, "s4g-negative-tile");
    GtkWidget *overlay = gtk_overlay_new();
    GtkWidget *picture = gtk_picture_new();
    gtk_widget_set_size_request(picture, 64, 64);
    gtk_picture_set_can_shrink(GTK_PICTURE(picture), TRUE);
    gtk_overlay_set_child(GTK_OVERLAY(overlay), picture);
    gtk_widget_set_halign(overlay, GTK_ALIGN_CENTER); /* the outline hugs the tile */
    GtkWidget *label = gtk_label_new(caption);
    gtk_widget_add_css_class(label, "caption");
    gtk_box_append(GTK_BOX(box), overlay);
    gtk_box_append(GTK_BOX(box), label);
    gtk_accessible_update_property(GTK_ACCESSIBLE(box), GTK_ACCESSIBLE_PROPERTY_LABEL, caption, -1);
    if (also) {
        g_autofree char *desc = g_strdup_printf(_("also in %s"), also);
        GtkWidget *badge = gtk_image_new_from_icon_name("emblem-shared-symbolic");
        gtk_widget_add_css_class(badge, "s4g-shared-badge");
        gtk_widget_set_halign(badge, GTK_ALIGN_END);
        gtk_widget_set_valign(badge, GTK_ALIGN_START);
        gtk_widget_set_tooltip_text(badge, desc);
        gtk_overlay_add_overlay(GTK_OVERLAY(overlay), badge);
        gtk_widget_add_css_class(box, "s4g-shared");
        g_autofree char *tip = g_strdup_printf("%s\n%s", c->path, desc);
        gtk_widget_set_tooltip_text(box, tip);
        /* after the tooltip, which GTK also makes the accessible description */
        gtk_accessible_update_property(GTK_ACCESSIBLE(box), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                       desc, -1);
        g_object_set_data_full(G_OBJECT(box), "s4g-also", g_steal_pointer(&desc), g_free);
    } else {
        gtk_widget_set_tooltip_text(box, c->path);
    }
    double *ll = g_new(double, 2);
    ll[0] = c->lat;
    ll[1] = c->lon;
    g_object_set_data_full(G_OBJECT(box), "s4g-latlon", ll, g_free);
    /* the thumbnail's size is the picture's natural size: 64 keeps two columns of three */
    s4g_picture_load(GTK_PICTURE(picture), c->path, 64, self->loads);
    return box;
}

static GHashTable *id_set(GPtrArray *negs)
{
    GHashTable *set = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    for (guint i = 0; negs && i < negs->len; i++) {
        const S4gCandidate *c = negs->pdata[i];
        g_hash_table_add(set, g_memdup2(&c->image, sizeof c->image));
    }
    return set;
}

/* Fills a column with `negs` in rank order; those also in `other` (may be NULL) are marked
 * as chosen by `other_name` too. */
static void fill_column(S4gNegativesView *self, guint column, GPtrArray *negs, gboolean gps,
                        GHashTable *other, const char *other_name)
{
    Column *c = &self->col[column];
    for (guint i = 0; i < negs->len; i++) {
        const S4gCandidate *n = negs->pdata[i];
        int rank = (int)i + 1; /* shown 1-based (s4g train stores 0-based ranks), in rank order */
        gboolean shared = other && g_hash_table_contains(other, &n->image);
        g_autofree char *caption = caption_for(n, rank, gps);
        gtk_flow_box_append(c->flow, negative_tile(self, n, caption, shared ? other_name : NULL));
        if (!c->layer || isnan(n->lat)) continue;
        g_autofree char *num = g_strdup_printf("%d", rank);
        g_autofree char *acc = column == S4G_NEGATIVES_MAIN
                                   ? g_strdup_printf(_("Hard negative %d"), rank)
                                   : g_strdup_printf(_("Hard negative %d of %s"), rank,
                                                     run_name(self, compare_pos(self)));
        ShumateMarker *m = s4g_label_marker(
            n->lat, n->lon, num,
            column == S4G_NEGATIVES_MAIN ? "s4g-negative" : "s4g-compare-negative", acc);
        if (column != S4G_NEGATIVES_MAIN) {
            /* a square, offset up and right: never hidden under the first run's marker of the
             * same tile, and told apart from it by more than its colour */
            GtkWidget *label = shumate_marker_get_child(m);
            gtk_widget_set_margin_start(label, 26);
            gtk_widget_set_margin_bottom(label, 26);
        }
        g_object_set_data(G_OBJECT(m), "s4g-rank", GINT_TO_POINTER(rank));
        shumate_marker_layer_add_marker(c->layer, m);
    }
}

static gboolean is_gps(S4gNegativesView *self, gint64 run)
{
    g_autofree char *kind = s4g_project_mining_run_kind(self->project, run);
    return g_strcmp0(kind, "gps") == 0;
}

/* ---- showing one anchor ----------------------------------------------------------------- */

static void clear_columns(S4gNegativesView *self)
{
    for (guint i = 0; i < 2; i++) {
        s4g_flow_box_clear(self->col[i].flow);
        if (self->col[i].layer) shumate_marker_layer_remove_all(self->col[i].layer);
        set_message(&self->col[i], NULL);
    }
    gtk_label_set_label(self->summary_label, "");
    gtk_widget_set_visible(GTK_WIDGET(self->summary_label), FALSE);
}

static void update_titles(S4gNegativesView *self)
{
    guint cmp = compare_pos(self);
    gtk_label_set_label(self->title_main,
                        run_name(self, gtk_drop_down_get_selected(self->run_dropdown)));
    gtk_label_set_label(self->title_compare, run_name(self, cmp));
    gtk_widget_set_visible(self->compare_column, cmp != GTK_INVALID_LIST_POSITION);
    gtk_widget_set_visible(GTK_WIDGET(self->title_main), cmp != GTK_INVALID_LIST_POSITION);
}

/* The selected anchor's position in anchor_ids (the list shown may be filtered). */
static guint selected_index(S4gNegativesView *self)
{
    gpointer item =
        self->anchor_selection ? gtk_single_selection_get_selected_item(self->anchor_selection)
                               : NULL;
    return item ? GPOINTER_TO_UINT(g_object_get_data(item, "s4g-index")) - 1
                : GTK_INVALID_LIST_POSITION;
}

static void show_anchor(S4gNegativesView *self)
{
    g_cancellable_cancel(self->loads);
    g_set_object(&self->loads, g_cancellable_new());
    clear_columns(self);
    update_titles(self);
    guint run_pos = gtk_drop_down_get_selected(self->run_dropdown);
    guint pos = selected_index(self);
    if (!self->project || !self->run_ids || run_pos >= self->run_ids->len || !self->anchor_ids ||
        pos >= self->anchor_ids->len) {
        gtk_picture_set_paintable(self->anchor_picture, NULL);
        gtk_picture_set_paintable(self->true_tile_picture, NULL);
        return;
    }
    gint64 run = g_array_index(self->run_ids, gint64, run_pos);
    gint64 anchor = g_array_index(self->anchor_ids, gint64, pos);
    gint64 partner = s4g_project_pair_partner(self->project, anchor);
    /* A DSS anchor is the ground photo, a GPS anchor its satellite tile. */
    S4gPhoto *photo = s4g_project_find_photo(self->project, anchor);
    gint64 ground = photo ? anchor : partner;
    if (!photo && partner) photo = s4g_project_find_photo(self->project, partner);
    s4g_picture_load(self->anchor_picture, photo ? s4g_photo_get_path(photo) : NULL, 160,
                     self->loads);
    g_autoptr(S4gCandidate) truth = ground ? s4g_project_true_tile(self->project, ground) : NULL;
    s4g_picture_load(self->true_tile_picture, truth ? truth->path : NULL, 128, self->loads);
    if (truth && !isnan(truth->lat) && self->col[0].layer)
        shumate_marker_layer_add_marker(
            self->col[0].layer,
            s4g_label_marker(truth->lat, truth->lon, "★", "s4g-truth", _("True tile")));

    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) negs = s4g_project_hard_negatives(self->project, run, anchor, &error);
    if (!negs) {
        set_message(&self->col[0], error->message);
        return;
    }
    guint cmp = compare_pos(self);
    g_autoptr(GPtrArray) other = NULL;
    if (cmp != GTK_INVALID_LIST_POSITION) {
        gint64 crun = g_array_index(self->run_ids, gint64, cmp);
        other = s4g_project_hard_negatives(self->project, crun, anchor, &error);
        if (other && other->len == 0 && partner) {
            g_ptr_array_unref(other);
            other = s4g_project_hard_negatives(self->project, crun, partner, &error);
        }
        if (!other) {
            set_message(&self->col[1], error->message);
        } else if (other->len == 0) {
            g_autofree char *num = g_strdup_printf("%" G_GINT64_FORMAT, anchor);
            g_autofree char *text =
                g_strdup_printf(_("Image %s is not an anchor of %s: no negatives to compare."), num,
                                run_name(self, cmp));
            set_message(&self->col[1], text);
            g_clear_pointer(&other, g_ptr_array_unref);
        }
    }
    g_autoptr(GHashTable) main_set = id_set(negs);
    g_autoptr(GHashTable) other_set = other ? id_set(other) : NULL;
    fill_column(self, S4G_NEGATIVES_MAIN, negs, is_gps(self, run), other_set, run_name(self, cmp));
    if (other) {
        fill_column(self, S4G_NEGATIVES_COMPARE, other,
                    is_gps(self, g_array_index(self->run_ids, gint64, cmp)), main_set,
                    run_name(self, run_pos));
        guint both = 0;
        GHashTableIter it;
        gpointer key;
        g_hash_table_iter_init(&it, main_set);
        while (g_hash_table_iter_next(&it, &key, NULL))
            if (g_hash_table_contains(other_set, key)) both++;
        g_autofree char *summary =
            g_strdup_printf(_("%u of %u in both runs"), both, g_hash_table_size(main_set));
        gtk_label_set_label(self->summary_label, summary);
        gtk_widget_set_visible(GTK_WIDGET(self->summary_label), TRUE);
    }
    if (truth && !isnan(truth->lat) && self->map)
        shumate_map_go_to(shumate_simple_map_get_map(self->map), truth->lat, truth->lon);
}

static void on_run_changed(S4gNegativesView *self)
{
    guint run = gtk_drop_down_get_selected(self->run_dropdown);
    g_clear_pointer(&self->anchor_ids, g_array_unref);
    GtkStringList *names = gtk_string_list_new(NULL);
    g_autoptr(GError) error = NULL;
    if (self->project && self->run_ids && run < self->run_ids->len) {
        self->anchor_ids = s4g_project_mining_anchors(
            self->project, g_array_index(self->run_ids, gint64, run), &error);
        for (guint i = 0; self->anchor_ids && i < self->anchor_ids->len; i++) {
            gint64 id = g_array_index(self->anchor_ids, gint64, i);
            S4gPhoto *p = s4g_project_find_photo(self->project, id);
            if (!p)
                p = s4g_project_find_photo(self->project,
                                           s4g_project_pair_partner(self->project, id));
            g_autofree char *base = p ? g_path_get_basename(s4g_photo_get_path(p)) : NULL;
            g_autofree char *num = g_strdup_printf("%" G_GINT64_FORMAT, id);
            /* a GPS anchor is a satellite tile: named after its ground photo */
            g_autofree char *label =
                !base ? g_strdup_printf(_("Image %s"), num)
                : s4g_photo_get_id(p) == id ? g_strdup(base)
                                            : g_strdup_printf(_("Tile of %s"), base);
            gtk_string_list_append(names, label);
            g_autoptr(GObject) item = g_list_model_get_item(G_LIST_MODEL(names), i);
            g_object_set_data(item, "s4g-index", GUINT_TO_POINTER(i + 1));
        }
    }
    GtkFilterListModel *shown =
        gtk_filter_list_model_new(G_LIST_MODEL(names), g_object_ref(GTK_FILTER(self->anchor_filter)));
    self->anchor_selection = gtk_single_selection_new(G_LIST_MODEL(shown));
    gtk_single_selection_set_autoselect(self->anchor_selection, FALSE);
    gtk_single_selection_set_selected(self->anchor_selection, GTK_INVALID_LIST_POSITION);
    g_signal_connect_swapped(self->anchor_selection, "notify::selected", G_CALLBACK(show_anchor),
                             self);
    gtk_list_view_set_model(self->anchor_list, GTK_SELECTION_MODEL(self->anchor_selection));
    g_object_unref(self->anchor_selection); /* the list view owns it */
    show_anchor(self);
    if (error) set_message(&self->col[0], error->message); /* after show_anchor clears it */
}

static void anchor_setup(GtkSignalListItemFactory *f, GtkListItem *item, gpointer d)
{
    GtkWidget *label = gtk_label_new(NULL);
    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_list_item_set_child(item, label);
}

static void anchor_bind(GtkSignalListItemFactory *f, GtkListItem *item, gpointer d)
{
    gtk_label_set_label(GTK_LABEL(gtk_list_item_get_child(item)),
                        gtk_string_object_get_string(gtk_list_item_get_item(item)));
}

/* ---- GObject ------------------------------------------------------------------------------ */

static void dispose(GObject *o)
{
    S4gNegativesView *self = S4G_NEGATIVES_VIEW(o);
    if (self->loads) g_cancellable_cancel(self->loads);
    g_clear_object(&self->loads);
    if (self->run_dropdown) g_signal_handlers_disconnect_by_data(self->run_dropdown, self);
    if (self->compare_dropdown) g_signal_handlers_disconnect_by_data(self->compare_dropdown, self);
    gtk_widget_dispose_template(GTK_WIDGET(self), S4G_TYPE_NEGATIVES_VIEW);
    for (guint i = 0; i < 2; i++)
        g_clear_object(&self->col[i].layer);
    g_clear_object(&self->anchor_filter);
    g_clear_object(&self->map);
    g_clear_object(&self->project);
    g_clear_object(&self->run_names);
    g_clear_pointer(&self->run_ids, g_array_unref);
    g_clear_pointer(&self->anchor_ids, g_array_unref);
    G_OBJECT_CLASS(s4g_negatives_view_parent_class)->dispose(o);
}

static void s4g_negatives_view_class_init(S4gNegativesViewClass *klass)
{
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = dispose;
    gtk_widget_class_set_template_from_resource(wc, "/org/sample4geo/Studio/s4g-negatives-view.ui");
#define BIND(n) gtk_widget_class_bind_template_child(wc, S4gNegativesView, n)
    BIND(run_dropdown);
    BIND(compare_dropdown);
    BIND(anchor_list);
    BIND(anchor_search);
    BIND(anchor_picture);
    BIND(true_tile_picture);
    BIND(summary_label);
    BIND(title_main);
    BIND(message_main);
    BIND(title_compare);
    BIND(message_compare);
    BIND(flow_main);
    BIND(flow_compare);
    BIND(compare_column);
#undef BIND
}

static void s4g_negatives_view_init(S4gNegativesView *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    self->col[0] = (Column){self->title_main, self->message_main, self->flow_main, NULL};
    self->col[1] = (Column){self->title_compare, self->message_compare, self->flow_compare, NULL};
    for (guint i = 0; i < 2; i++)
        g_signal_connect(self->col[i].flow, "child-activated", G_CALLBACK(on_tile_activated), self);
    self->anchor_filter = gtk_string_filter_new(
        gtk_property_expression_new(GTK_TYPE_STRING_OBJECT, NULL, "string"));
    gtk_string_filter_set_match_mode(self->anchor_filter, GTK_STRING_FILTER_MATCH_MODE_SUBSTRING);
    gtk_string_filter_set_ignore_case(self->anchor_filter, TRUE);
    g_object_bind_property(self->anchor_search, "text", self->anchor_filter, "search",
                           G_BINDING_DEFAULT);
    GtkListItemFactory *af = gtk_signal_list_item_factory_new();
    g_signal_connect(af, "setup", G_CALLBACK(anchor_setup), self);
    g_signal_connect(af, "bind", G_CALLBACK(anchor_bind), self);
    gtk_list_view_set_factory(self->anchor_list, af);
    g_object_unref(af);
    s4g_negatives_view_set_project(self, NULL);
    g_signal_connect_swapped(self->run_dropdown, "notify::selected", G_CALLBACK(on_run_changed),
                             self);
    g_signal_connect_swapped(self->compare_dropdown, "notify::selected", G_CALLBACK(show_anchor),
                             self);
}

/* ---- public --------------------------------------------------------------------------------- */

void s4g_negatives_view_set_map(S4gNegativesView *self, ShumateSimpleMap *map,
                                ShumateMarkerLayer *main_layer, ShumateMarkerLayer *compare_layer)
{
    g_return_if_fail(S4G_IS_NEGATIVES_VIEW(self));
    g_set_object(&self->map, map);
    g_set_object(&self->col[0].layer, main_layer);
    g_set_object(&self->col[1].layer, compare_layer);
}

void s4g_negatives_view_set_project(S4gNegativesView *self, S4gProject *project)
{
    g_return_if_fail(S4G_IS_NEGATIVES_VIEW(self));
    g_set_object(&self->project, project);
    g_clear_pointer(&self->run_ids, g_array_unref);
    g_clear_object(&self->run_names);
    if (project)
        self->run_names = s4g_project_get_mining_runs(project, &self->run_ids);
    else
        self->run_names = gtk_string_list_new(NULL);
    GtkStringList *compare = gtk_string_list_new(NULL);
    gtk_string_list_append(compare, C_("compare with", "None"));
    for (guint i = 0; i < g_list_model_get_n_items(G_LIST_MODEL(self->run_names)); i++)
        gtk_string_list_append(compare, gtk_string_list_get_string(self->run_names, i));
    g_signal_handlers_block_by_func(self->compare_dropdown, show_anchor, self);
    gtk_drop_down_set_model(self->compare_dropdown, G_LIST_MODEL(compare));
    gtk_drop_down_set_selected(self->compare_dropdown, 0);
    g_signal_handlers_unblock_by_func(self->compare_dropdown, show_anchor, self);
    g_object_unref(compare);
    g_signal_handlers_block_by_func(self->run_dropdown, on_run_changed, self);
    gtk_drop_down_set_model(self->run_dropdown, G_LIST_MODEL(self->run_names));
    g_signal_handlers_unblock_by_func(self->run_dropdown, on_run_changed, self);
    on_run_changed(self);
}

gboolean s4g_negatives_view_select(S4gNegativesView *self, guint run_pos, guint anchor_pos)
{
    g_return_val_if_fail(S4G_IS_NEGATIVES_VIEW(self), FALSE);
    gtk_editable_set_text(GTK_EDITABLE(self->anchor_search), ""); /* positions of the full list */
    if (!self->run_ids || run_pos >= self->run_ids->len) return FALSE;
    gtk_drop_down_set_selected(self->run_dropdown, run_pos);
    if (!self->anchor_ids || anchor_pos >= self->anchor_ids->len) return FALSE;
    gtk_single_selection_set_selected(self->anchor_selection, anchor_pos);
    return TRUE;
}

gboolean s4g_negatives_view_set_compare(S4gNegativesView *self, guint run_pos)
{
    g_return_val_if_fail(S4G_IS_NEGATIVES_VIEW(self), FALSE);
    if (run_pos == GTK_INVALID_LIST_POSITION) {
        gtk_drop_down_set_selected(self->compare_dropdown, 0);
        return TRUE;
    }
    if (!self->run_ids || run_pos >= self->run_ids->len) return FALSE;
    gtk_drop_down_set_selected(self->compare_dropdown, run_pos + 1);
    return TRUE;
}

static guint count_children(GtkWidget *w, const char *css)
{
    guint n = 0;
    for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c))
        if (!css ||
            gtk_widget_has_css_class(gtk_flow_box_child_get_child(GTK_FLOW_BOX_CHILD(c)), css))
            n++;
    return n;
}

guint s4g_negatives_view_count_tiles(S4gNegativesView *self, guint column)
{
    g_return_val_if_fail(column < 2, 0);
    return count_children(GTK_WIDGET(self->col[column].flow), NULL);
}

guint s4g_negatives_view_count_shared(S4gNegativesView *self, guint column)
{
    g_return_val_if_fail(column < 2, 0);
    return count_children(GTK_WIDGET(self->col[column].flow), "s4g-shared");
}

guint s4g_negatives_view_count_markers(S4gNegativesView *self, guint column)
{
    g_return_val_if_fail(column < 2, 0);
    if (!self->col[column].layer) return 0;
    g_autoptr(GList) markers = shumate_marker_layer_get_markers(self->col[column].layer);
    guint n = 0;
    for (GList *l = markers; l; l = l->next)
        if (g_object_get_data(l->data, "s4g-rank")) n++;
    return n;
}

GtkWidget *s4g_negatives_view_get_tile(S4gNegativesView *self, guint column, guint index)
{
    g_return_val_if_fail(column < 2, NULL);
    GtkFlowBoxChild *child = gtk_flow_box_get_child_at_index(self->col[column].flow, (int)index);
    return child ? gtk_flow_box_child_get_child(child) : NULL;
}

const char *s4g_negatives_view_get_message(S4gNegativesView *self, guint column)
{
    g_return_val_if_fail(column < 2, "");
    return gtk_label_get_label(self->col[column].message);
}

const char *s4g_negatives_view_get_summary(S4gNegativesView *self)
{
    return gtk_label_get_label(self->summary_label);
}

gint64 s4g_negatives_view_get_anchor(S4gNegativesView *self)
{
    guint pos = selected_index(self);
    if (!self->anchor_ids || pos >= self->anchor_ids->len) return 0;
    return g_array_index(self->anchor_ids, gint64, pos);
}

guint s4g_negatives_view_count_shown_anchors(S4gNegativesView *self)
{
    return self->anchor_selection
               ? g_list_model_get_n_items(G_LIST_MODEL(self->anchor_selection))
               : 0;
}

const char *s4g_negatives_view_get_anchor_label(S4gNegativesView *self, guint shown_pos)
{
    if (shown_pos >= s4g_negatives_view_count_shown_anchors(self)) return NULL;
    g_autoptr(GtkStringObject) item =
        g_list_model_get_item(G_LIST_MODEL(self->anchor_selection), shown_pos);
    return gtk_string_object_get_string(item); /* the string list keeps it */
}

void s4g_negatives_view_search_anchors(S4gNegativesView *self, const char *text)
{
    gtk_editable_set_text(GTK_EDITABLE(self->anchor_search), text);
}
