/* s4g-window-prediction.c — the main window's prediction panel: the selected photo's true
 * location, its ranked candidates (markers, thumbnails, error line), its annotations, and
 * on-demand prediction of photos without stored predictions. */
#define G_LOG_DOMAIN "s4g-studio"
#include "s4g-config.h"

#include "s4g-window-private.h"

#include "s4g-geo.h"
#include "s4g-store-annotations.h"
#include "s4g-widgets.h"

#include <glib/gi18n.h>
#include <math.h>

gint64 _s4g_window_current_model(S4gWindow *self)
{
    if (!self->project) return 0;
    return s4g_project_model_id(self->project, gtk_drop_down_get_selected(self->model_dropdown));
}

void _s4g_window_centre_on_tile(S4gWindow *self, GtkWidget *tile)
{
    double *ll = g_object_get_data(G_OBJECT(tile), "s4g-latlon");
    if (ll && !isnan(ll[0])) {
        ShumateMap *map = shumate_simple_map_get_map(self->map);
        shumate_map_stop_go_to(map); /* a running fly-to would override the jump */
        shumate_map_center_on(map, ll[0], ll[1]);
    }
}

static void on_candidate_clicked(GtkGestureClick *g, int n, double x, double y, gpointer data)
{
    _s4g_window_centre_on_tile(data, gtk_event_controller_get_widget(GTK_EVENT_CONTROLLER(g)));
}

static GtkWidget *candidate_tile(S4gWindow *self, const S4gCandidate *c, const char *caption)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
    GtkWidget *picture = gtk_picture_new();
    gtk_widget_set_size_request(picture, 72, 72);
    gtk_picture_set_can_shrink(GTK_PICTURE(picture), TRUE);
    GtkWidget *label = gtk_label_new(caption);
    gtk_widget_add_css_class(label, "caption");
    gtk_box_append(GTK_BOX(box), picture);
    gtk_box_append(GTK_BOX(box), label);
    gtk_accessible_update_property(GTK_ACCESSIBLE(box), GTK_ACCESSIBLE_PROPERTY_LABEL, caption, -1);
    gtk_widget_set_tooltip_text(box, c->path);
    double *ll = g_new(double, 2);
    ll[0] = c->lat;
    ll[1] = c->lon;
    g_object_set_data_full(G_OBJECT(box), "s4g-latlon", ll, g_free);
    GtkGesture *click = gtk_gesture_click_new();
    g_signal_connect(click, "released", G_CALLBACK(on_candidate_clicked), self);
    gtk_widget_add_controller(box, GTK_EVENT_CONTROLLER(click));
    s4g_picture_load(GTK_PICTURE(picture), c->path, 96, self->loads);
    return box;
}

void _s4g_window_show_annotations(S4gWindow *self)
{
    if (!self->current) {
        gtk_label_set_label(self->annotation_label, "");
        return;
    }
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) list = s4g_store_annotations_for_image(
        s4g_project_get_store(self->project), s4g_photo_get_id(self->current), &error);
    if (!list) {
        gtk_label_set_label(self->annotation_label, error->message);
        return;
    }
    g_autoptr(GString) s = g_string_new(NULL);
    gboolean open = FALSE;
    for (guint i = 0; i < list->len; i++) {
        S4gAnnotation *a = list->pdata[i];
        open |= a->open;
        g_autofree char *row = _s4g_window_describe_annotation(a->flag, a->open, a->has_location,
                                                               a->lat, a->lon, a->note);
        g_string_append_printf(s, "%s%s", s->len ? "\n" : "", row);
    }
    gtk_label_set_label(self->annotation_label, s->str);
    s4g_photo_set_flagged(self->current, open);
    s4g_photo_layer_invalidate(self->photo_layer); /* the dot changes colour */
}

static gboolean predict_on_demand(S4gWindow *self, gint64 model, S4gPhoto *p, int k);

void _s4g_window_show_prediction(S4gWindow *self)
{
    shumate_marker_layer_remove_all(self->candidate_layer);
    shumate_path_layer_remove_all(self->error_path);
    s4g_flow_box_clear(self->candidates_flow);
    self->error_m = NAN;
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.cancel-task", FALSE);
    gtk_label_set_label(self->error_label, "");
    S4gPhoto *p = self->current;
    if (!p) return;
    double tlat = s4g_photo_get_lat(p), tlon = s4g_photo_get_lon(p);
    double alat, alon;
    if (s4g_store_annotation_location(s4g_project_get_store(self->project), s4g_photo_get_id(p),
                                      &alat, &alon)) {
        tlat = alat; /* a reviewer's correction is the truth from now on */
        tlon = alon;
    }
    ShumateMarker *truth = NULL;
    if (!isnan(tlat)) {
        truth = s4g_label_marker(tlat, tlon, "●", "s4g-truth", _("True location"));
        g_object_set_data(G_OBJECT(truth), "s4g-truth", GINT_TO_POINTER(1));
        shumate_marker_layer_add_marker(self->candidate_layer, truth);
    }
    gint64 model = _s4g_window_current_model(self);
    int k = g_settings_get_int(self->settings, "top-k");
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) cands =
        model ? s4g_project_predictions(self->project, model, s4g_photo_get_id(p), k, &error)
              : NULL;
    if (error) _s4g_window_toast(self, error->message);
    if (!cands || cands->len == 0) {
        gboolean asked = model && predict_on_demand(self, model, p, k);
        gtk_label_set_label(self->error_label, asked   ? _("Predicting this photo…")
                                               : model ? _("No prediction for this photo")
                                                       : _("No model in this project"));
        if (truth) shumate_map_go_to(shumate_simple_map_get_map(self->map), tlat, tlon);
        return;
    }
    for (guint i = 0; i < cands->len; i++) {
        S4gCandidate *c = cands->pdata[i];
        int rank = (int)i + 1; /* shown 1-based, whatever base the table uses */
        g_autofree char *num = g_strdup_printf("%d", rank);
        g_autofree char *acc = g_strdup_printf(_("Candidate %d, score %.3f"), rank, c->score);
        if (!isnan(c->lat)) {
            ShumateMarker *m = s4g_label_marker(c->lat, c->lon, num, "s4g-candidate", acc);
            g_object_set_data(G_OBJECT(m), "s4g-rank", GINT_TO_POINTER(rank));
            shumate_marker_layer_add_marker(self->candidate_layer, m);
        }
        g_autofree char *caption = g_strdup_printf(_("#%d · %.3f"), rank, c->score);
        gtk_flow_box_append(self->candidates_flow, candidate_tile(self, c, caption));
    }
    S4gCandidate *best = cands->pdata[0];
    if (truth && !isnan(best->lat)) {
        ShumateCoordinate *a = shumate_coordinate_new_full(tlat, tlon);
        ShumateCoordinate *b = shumate_coordinate_new_full(best->lat, best->lon);
        /* Coordinates are floating; the layer sinks them. */
        shumate_path_layer_add_node(self->error_path, SHUMATE_LOCATION(a));
        shumate_path_layer_add_node(self->error_path, SHUMATE_LOCATION(b));
        self->error_m = s4g_geo_haversine_m(tlat, tlon, best->lat, best->lon);
        g_autofree char *text = self->error_m >= 10000
                                    ? g_strdup_printf(_("Error %.1f km"), self->error_m / 1000)
                                    : g_strdup_printf(_("Error %.0f m"), self->error_m);
        gtk_label_set_label(self->error_label, text);
    }
    if (truth) shumate_map_go_to(shumate_simple_map_get_map(self->map), tlat, tlon);
}

/* On-demand prediction: a photo without stored predictions for the selected model is
 * predicted by `s4g predict`, which stores its rows in the project (the photo is an image
 * of its dataset); the panel then rereads them from the store.  Each (model, photo) is
 * asked once per window, so a failing prediction is not retried on every redraw. */
typedef struct {
    gint64 model, image;
} PredictJob;

static void predict_done(S4gWindow *self, gboolean ok, const char *message, gpointer data)
{
    PredictJob *job = data;
    if (!ok) {
        g_autofree char *msg = g_strdup_printf(_("Prediction failed: %s"), message);
        _s4g_window_toast(self, msg);
        return;
    }
    if (self->current && s4g_photo_get_id(self->current) == job->image &&
        _s4g_window_current_model(self) == job->model)
        _s4g_window_show_prediction(self);
}

static gboolean predict_on_demand(S4gWindow *self, gint64 model, S4gPhoto *p, int k)
{
    g_autofree char *key =
        g_strdup_printf("%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT, model, s4g_photo_get_id(p));
    if (!self->predicted)
        self->predicted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    if (g_hash_table_contains(self->predicted, key) || self->task) return FALSE;
    g_autofree char *s4g = s4g_runner_find_s4g();
    if (!s4g) return FALSE;
    guint pos = gtk_drop_down_get_selected(self->model_dropdown);
    const char *name = gtk_string_list_get_string(s4g_project_get_models(self->project), pos);
    if (!name) return FALSE;
    g_hash_table_add(self->predicted, g_steal_pointer(&key));
    g_autofree char *top = g_strdup_printf("%d", k);
    const char *argv[] = {s4g,
                          "predict",
                          "--project",
                          s4g_project_get_dir(self->project),
                          "--dataset",
                          s4g_photo_get_dataset(p),
                          "--model",
                          name,
                          "--top",
                          top,
                          s4g_photo_get_path(p),
                          NULL};
    PredictJob *job = g_new(PredictJob, 1);
    *job = (PredictJob){model, s4g_photo_get_id(p)};
    g_autofree char *base = g_path_get_basename(s4g_photo_get_path(p));
    g_autofree char *what = g_strdup_printf(_("Predicting %s with %s"), base, name);
    return _s4g_window_task_start(self, what, argv, predict_done, job, g_free);
}
