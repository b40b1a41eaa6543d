/* s4g-window-prediction.c — the main window's prediction panel: the search space (a dataset's
 * tiles or a gallery), the selected photo's true location, estimate (with its confidence and
 * error, as `s4g predict` reports them), ranked candidates (markers, thumbnails, error line),
 * its annotations, the map legend, the recall-by-distance plot, and prediction in-process:
 * the photo selected when it has no stored prediction, and Predict all over the filter.
 *
 * Prediction runs the predictor of app/method/s4g-predict.h in a GTask thread, one chunk of
 * photos at a time.  The thread owns an Engine (its own store connection, compute context,
 * model and predictor with the gallery built) that is kept between chunks as long as project,
 * model, search space and top-k stay the same, so only the first chunk loads the model and
 * the gallery.  Between chunks the selected photo goes first: clicking a photo while others
 * are predicted gets it predicted next, never left waiting. */
#include "s4g-config.h"

#include "s4g-window-prediction.h"
#include "s4g-window-private.h"

#include "s4g-defaults.h"
#include "s4g-embedding-view.h"
#include "s4g-store-embeddings.h"
#include "s4g-geo.h"
#include "s4g-predict.h"
#include "s4g-recall-plot.h"
#include "s4g-search.h"
#include "s4g-store-annotations.h"
#include "s4g-store-predictions.h"
#include "s4g-widgets.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

/* ---- the engine and its chunks (worker thread) ------------------------------------------ */

typedef struct {
    char *dir, *model_name, *gallery;
    gint64 model;
    int top;
    S4gStore *store;
    s4g_ctx *ctx;
    s4g_convnext *m;
    S4gModelSpec spec;
    S4gPredictor *pred;
} Engine;

static void engine_free(Engine *e)
{
    if (!e) return;
    g_clear_pointer(&e->pred, s4g_predictor_free);
    g_clear_pointer(&e->m, s4g_convnext_free);
    g_clear_pointer(&e->ctx, s4g_ctx_free);
    g_clear_pointer(&e->store, s4g_store_close);
    g_free(e->dir);
    g_free(e->model_name);
    g_free(e->gallery);
    g_free(e);
}

typedef struct {
    Engine *engine; /* in: the last one (may be NULL); out: the one used */
    char *dir, *model_name, *gallery;
    gint64 model;
    int top;
    gboolean all;      /* a chunk of Predict all */
    GPtrArray *paths;  /* char*, the photos' files */
    GArray *images;    /* gint64, their image ids */
    GPtrArray *result; /* S4gPrediction*, in the photos' order */
    gint gallery_done, gallery_total; /* atomics: the gallery's encoding */
} Chunk;

static void chunk_free(Chunk *c)
{
    engine_free(c->engine);
    g_free(c->dir);
    g_free(c->model_name);
    g_free(c->gallery);
    g_ptr_array_unref(c->paths);
    g_array_unref(c->images);
    g_clear_pointer(&c->result, g_ptr_array_unref);
    g_free(c);
}

static gboolean engine_fits(const Engine *e, const Chunk *c)
{
    return e && !g_strcmp0(e->dir, c->dir) && e->model == c->model &&
           !g_strcmp0(e->model_name, c->model_name) && !g_strcmp0(e->gallery, c->gallery) &&
           e->top == c->top;
}

static void on_gallery_progress(const char *stage, guint done, guint total, gpointer data)
{
    Chunk *c = data;
    if (g_strcmp0(stage, "gallery")) return;
    g_atomic_int_set(&c->gallery_total, (gint)total);
    g_atomic_int_set(&c->gallery_done, (gint)done);
}

/* A gallery name "<dataset>/<split or *>" as the predictor's dataset and split. */
static gboolean split_gallery(const char *gallery, char **dataset, char **split)
{
    const char *slash = gallery ? strrchr(gallery, '/') : NULL;
    if (!slash || slash == gallery || !slash[1]) return FALSE;
    *dataset = g_strndup(gallery, slash - gallery);
    *split = strcmp(slash + 1, "*") ? g_strdup(slash + 1) : NULL;
    return TRUE;
}

static Engine *engine_new(Chunk *c, GCancellable *cancellable, GError **error)
{
    g_autofree char *dataset = NULL, *split = NULL;
    if (!split_gallery(c->gallery, &dataset, &split)) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    _("“%s” is not a search space (dataset/split)"), c->gallery);
        return NULL;
    }
    Engine *e = g_new0(Engine, 1);
    e->dir = g_strdup(c->dir);
    e->model_name = g_strdup(c->model_name);
    e->gallery = g_strdup(c->gallery);
    e->model = c->model;
    e->top = c->top;
    s4g_ctx_opts co = {.backend = S4G_BACKEND_AUTO}; /* as s4g predict without options */
    s4g_err err = {0};
    e->spec = s4g_model_spec_default();
    gint64 model_id = 0;
    S4gPredictorOptions po = {.top = c->top,
                              .batch = s4g_defaults.encode_batch,
                              .refine_radius = s4g_defaults.refine_radius_m,
                              .store_located = TRUE};
    if (!(e->store = s4g_store_open(c->dir, FALSE, error)) ||
        !(e->pred = s4g_predictor_new(e->store, dataset, split, error)))
        goto fail;
    if (!(e->ctx = s4g_ctx_new(&co, &err))) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_COMPUTE, _("compute device: %s"),
                    err.msg);
        goto fail;
    }
    if (!(e->m = s4g_model_open(e->store, c->model_name, e->ctx, &e->spec, &model_id, error)) ||
        !s4g_predictor_set_model(e->pred, e->ctx, e->m, model_id, &e->spec, &po, cancellable,
                                 on_gallery_progress, c, error))
        goto fail;
    return e;
fail:
    engine_free(e);
    return NULL;
}

static void chunk_run(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    Chunk *c = data;
    GError *error = NULL;
    if (!engine_fits(c->engine, c)) {
        g_clear_pointer(&c->engine, engine_free);
        c->engine = engine_new(c, cancellable, &error);
        if (!c->engine) {
            g_task_return_error(task, error);
            return;
        }
    }
    c->result = s4g_predictor_locate(c->engine->pred, (const char *const *)c->paths->pdata,
                                     c->paths->len, cancellable, NULL, NULL, &error);
    if (!c->result)
        g_task_return_error(task, error);
    else
        g_task_return_boolean(task, TRUE);
}

/* ---- the panel's state --------------------------------------------------------------------- */

enum { LEGEND_TRUTH, LEGEND_ESTIMATE, LEGEND_CANDIDATE, LEGEND_NEGATIVE, LEGEND_COMPARE, N_LEGEND };

struct _S4gPredictionPanel {
    GtkWidget *box;
    GtkSearchEntry *search;
    char *needle; /* casefolded file-name search, NULL = none */
    GtkDropDown *space_dropdown;
    GPtrArray *spaces; /* char*, gallery names, NULL-ended for the getter */
    GtkLabel *estimate_label;
    GtkWidget *predict_all, *job_box, *cancel;
    GtkProgressBar *progress;
    GtkWidget *recall, *legend, *legend_rows[N_LEGEND];
    GtkExpander *embeddings_expander;
    GtkWidget *embeddings;
    GCancellable *embeddings_load;
    guint emb_gen;       /* the latest load */
    gboolean emb_busy;   /* it has not finished */
    ShumateMarkerLayer *truth_layer, *estimate_layer;

    Engine *engine;     /* between chunks */
    GCancellable *cancellable;
    Chunk *running;     /* borrowed while its task runs */
    gint64 wanted;      /* the selected photo, waiting for its prediction */
    GPtrArray *all;     /* S4gPhoto*, Predict all's photos still to do */
    guint all_done, all_total;
    gint64 all_started;
    char *all_model_gallery; /* "model/gallery" Predict all runs for */
    guint tick;

    gboolean shown;
    double shown_lat, shown_lon, shown_conf, shown_err;
};

static void load_embeddings(S4gWindow *self);

#define CHUNK_PHOTOS 32 /* one encode batch (s4g_defaults.encode_batch) per chunk */

gint64 _s4g_window_current_model(S4gWindow *self)
{
    if (!self->project) return 0;
    return s4g_project_model_id(self->project, gtk_drop_down_get_selected(self->model_dropdown));
}

static const char *current_model_name(S4gWindow *self)
{
    if (!self->project) return NULL;
    guint pos = gtk_drop_down_get_selected(self->model_dropdown);
    return gtk_string_list_get_string(s4g_project_get_models(self->project), pos);
}

const char *s4g_window_get_search_space(S4gWindow *self)
{
    S4gPredictionPanel *p = self->panel;
    if (!p) return NULL; /* disposed */
    guint pos = gtk_drop_down_get_selected(p->space_dropdown);
    return pos < p->spaces->len - 1 ? p->spaces->pdata[pos] : NULL;
}

const char *const *s4g_window_get_search_spaces(S4gWindow *self)
{
    return (const char *const *)self->panel->spaces->pdata;
}

/* "<model>/<gallery>/<image>": what on-demand prediction asked for once. */
static char *demand_key(S4gWindow *self, gint64 image)
{
    return g_strdup_printf("%" G_GINT64_FORMAT "/%s/%" G_GINT64_FORMAT,
                           _s4g_window_current_model(self), s4g_window_get_search_space(self),
                           image);
}

gboolean s4g_window_is_predicting(S4gWindow *self)
{
    return self->panel && (self->panel->running || self->panel->all);
}

void s4g_window_get_predict_progress(S4gWindow *self, guint *done, guint *total)
{
    *done = self->panel->all_done;
    *total = self->panel->all_total;
}

/* ---- errors, recall ------------------------------------------------------------------------ */

static void update_recall(S4gWindow *self)
{
    GListModel *photos = self->project ? s4g_project_get_photos(self->project) : NULL;
    guint n = photos ? g_list_model_get_n_items(photos) : 0;
    g_autofree double *errors = g_new(double, MAX(n, 1));
    for (guint i = 0; i < n; i++) {
        g_autoptr(S4gPhoto) ph = g_list_model_get_item(photos, i);
        errors[i] = s4g_photo_get_error(ph);
    }
    s4g_recall_plot_set_errors(S4G_RECALL_PLOT(self->panel->recall), errors, n);
}

void _s4g_window_load_errors(S4gWindow *self)
{
    if (!self->project || !self->panel) return;
    g_autoptr(GError) error = NULL;
    if (!s4g_project_load_estimates(self->project, _s4g_window_current_model(self),
                                    s4g_window_get_search_space(self),
                                    s4g_defaults.refine_radius_m, &error))
        _s4g_window_toast(self, error->message);
    update_recall(self);
}

/* Errors changed: filter and sort again (sorting by error, the error range). */
static void errors_changed(S4gWindow *self)
{
    _s4g_window_refilter(self);
    update_recall(self);
}

/* ---- candidates, markers ------------------------------------------------------------------ */

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

/* Enter or Space on a focused candidate thumbnail */
static void on_candidate_activated(GtkFlowBox *flow, GtkFlowBoxChild *child, gpointer data)
{
    _s4g_window_centre_on_tile(data, gtk_flow_box_child_get_child(child));
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

/* Web Mercator y in [0, 1] of a latitude, and back. */
static double merc_y(double lat)
{
    double s = sin(CLAMP(lat, -85.05, 85.05) * G_PI / 180);
    return 0.5 - log((1 + s) / (1 - s)) / (4 * G_PI);
}

static double merc_lat(double y)
{
    return 180 / G_PI * atan(sinh(G_PI * (1 - 2 * y)));
}

/* Fits the points (lat/lon pairs) into the map with a margin, in a short animation. */
static void fit_map(S4gWindow *self, const double *pts, guint n)
{
    if (n == 0) return;
    double x0 = 1, x1 = 0, y0 = 1, y1 = 0;
    for (guint i = 0; i < n; i++) {
        double x = (pts[2 * i + 1] + 180) / 360, y = merc_y(pts[2 * i]);
        x0 = MIN(x0, x), x1 = MAX(x1, x), y0 = MIN(y0, y), y1 = MAX(y1, y);
    }
    ShumateMap *map = shumate_simple_map_get_map(self->map);
    ShumateMapSource *src = shumate_simple_map_get_map_source(self->map);
    double zmin = src ? shumate_map_source_get_min_zoom_level(src) : 0;
    double zmax = src ? shumate_map_source_get_max_zoom_level(src) : 19;
    int w = MAX(gtk_widget_get_width(GTK_WIDGET(self->map)), 200);
    int h = MAX(gtk_widget_get_height(GTK_WIDGET(self->map)), 150);
    double tile = src ? shumate_map_source_get_tile_size(src) : 256;
    /* 256·2^z px span the world: the larger extent fills 70 % of the map */
    double zx = x1 > x0 ? log2(0.7 * w / (tile * (x1 - x0))) : zmax;
    double zy = y1 > y0 ? log2(0.7 * h / (tile * (y1 - y0))) : zmax;
    double zoom = CLAMP(floor(MIN(zx, zy)), zmin, zmax);
    shumate_map_stop_go_to(map);
    shumate_map_go_to_full_with_duration(map, merc_lat((y0 + y1) / 2), (x0 + x1) / 2 * 360 - 180,
                                         zoom, 250);
}

static void pump(S4gWindow *self);

static gboolean chunk_has(const Chunk *c, gint64 image)
{
    for (guint i = 0; i < c->images->len; i++)
        if (g_array_index(c->images, gint64, i) == image) return TRUE;
    return FALSE;
}

void _s4g_window_show_prediction(S4gWindow *self)
{
    S4gPredictionPanel *pp = self->panel;
    if (!pp) return; /* disposed */
    s4g_embedding_view_set_selected(S4G_EMBEDDING_VIEW(pp->embeddings),
                                    self->current ? s4g_photo_get_id(self->current) : 0);
    shumate_marker_layer_remove_all(self->candidate_layer);
    shumate_marker_layer_remove_all(pp->truth_layer);
    shumate_marker_layer_remove_all(pp->estimate_layer);
    shumate_path_layer_remove_all(self->error_path);
    s4g_flow_box_clear(self->candidates_flow);
    self->error_m = NAN;
    pp->shown = FALSE;
    gtk_label_set_label(self->error_label, "");
    gtk_label_set_label(pp->estimate_label, "");
    S4gPhoto *p = self->current;
    if (!p) return;
    double tlat = s4g_photo_get_lat(p), tlon = s4g_photo_get_lon(p);
    double alat, alon;
    if (s4g_store_annotation_location(s4g_project_get_store(self->project), s4g_photo_get_id(p),
                                      &alat, &alon)) {
        tlat = alat; /* a reviewer's correction is the truth from now on */
        tlon = alon;
    }
    g_autoptr(GArray) fit = g_array_new(FALSE, FALSE, sizeof(double));
    if (!isnan(tlat)) {
        ShumateMarker *truth = s4g_label_marker(tlat, tlon, "★", "s4g-truth", _("True location"));
        g_object_set_data(G_OBJECT(truth), "s4g-truth", GINT_TO_POINTER(1));
        shumate_marker_layer_add_marker(pp->truth_layer, truth);
        g_array_append_vals(fit, (double[]){tlat, tlon}, 2);
    }
    gint64 model = _s4g_window_current_model(self);
    const char *gallery = s4g_window_get_search_space(self);
    int k = g_settings_get_int(self->settings, "top-k");
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) cands = model && gallery
                                     ? s4g_project_predictions_in(self->project, model,
                                                                  s4g_photo_get_id(p), gallery,
                                                                  S4G_SEARCH_MAX_K, &error)
                                     : NULL;
    if (error) _s4g_window_toast(self, error->message);
    if (!cands || cands->len == 0) {
        /* predicted on demand once per model, space and photo; a failure is not retried */
        g_autofree char *key = demand_key(self, s4g_photo_get_id(p));
        g_autofree char *ds = NULL, *split = NULL;
        gboolean can = model && gallery && split_gallery(gallery, &ds, &split);
        gboolean running = pp->running && chunk_has(pp->running, s4g_photo_get_id(p));
        gboolean asked = running || (can && !g_hash_table_contains(self->predicted, key));
        gtk_label_set_label(self->error_label, asked    ? _("Predicting this photo…")
                                               : !model ? _("No model in this project")
                                               : !gallery
                                                   ? _("No search space in this project")
                                                   : _("No prediction for this photo"));
        pp->wanted = asked && !running ? s4g_photo_get_id(p) : 0;
        if (pp->wanted) pump(self);
        fit_map(self, (double *)fit->data, fit->len / 2);
        return;
    }
    pp->wanted = 0;
    for (guint i = 0; i < cands->len && (int)i < k; i++) {
        S4gCandidate *c = cands->pdata[i];
        int rank = (int)i + 1; /* shown 1-based, whatever base the table uses */
        g_autofree char *num = g_strdup_printf("%d", rank);
        g_autofree char *acc = g_strdup_printf(_("Candidate %d, score %.3f"), rank, c->score);
        if (!isnan(c->lat)) {
            ShumateMarker *m = s4g_label_marker(c->lat, c->lon, num, "s4g-candidate", acc);
            g_object_set_data(G_OBJECT(m), "s4g-rank", GINT_TO_POINTER(rank));
            shumate_marker_layer_add_marker(self->candidate_layer, m);
            g_array_append_vals(fit, (double[]){c->lat, c->lon}, 2);
        }
        g_autofree char *caption = g_strdup_printf(_("#%d · %.3f"), rank, c->score);
        gtk_flow_box_append(self->candidates_flow, candidate_tile(self, c, caption));
    }
    double elat, elon, conf;
    if (s4g_project_estimate(self->project, model, s4g_photo_get_id(p), gallery,
                             s4g_defaults.refine_radius_m, &elat, &elon, &conf) &&
        !isnan(elat)) {
        g_autofree char *acc = g_strdup_printf(_("Estimate, confidence %.2f"), conf);
        shumate_marker_layer_add_marker(pp->estimate_layer,
                                        s4g_label_marker(elat, elon, "", "s4g-estimate", acc));
        g_array_append_vals(fit, (double[]){elat, elon}, 2);
        g_autofree char *text =
            g_strdup_printf(_("Estimate %.6f, %.6f · confidence %.2f"), elat, elon, conf);
        gtk_label_set_label(pp->estimate_label, text);
        pp->shown = TRUE;
        pp->shown_lat = elat, pp->shown_lon = elon, pp->shown_conf = conf, pp->shown_err = NAN;
        if (!isnan(tlat)) {
            ShumateCoordinate *a = shumate_coordinate_new_full(tlat, tlon);
            ShumateCoordinate *b = shumate_coordinate_new_full(elat, elon);
            /* Coordinates are floating; the layer sinks them. */
            shumate_path_layer_add_node(self->error_path, SHUMATE_LOCATION(a));
            shumate_path_layer_add_node(self->error_path, SHUMATE_LOCATION(b));
            self->error_m = pp->shown_err = s4g_geo_haversine_m(tlat, tlon, elat, elon);
            g_autofree char *et = self->error_m >= 10000
                                      ? g_strdup_printf(_("Error %.1f km"), self->error_m / 1000)
                                      : g_strdup_printf(_("Error %.0f m"), self->error_m);
            gtk_label_set_label(self->error_label, et);
        }
    }
    fit_map(self, (double *)fit->data, fit->len / 2);
}

gboolean s4g_window_get_shown_estimate(S4gWindow *self, double *lat, double *lon,
                                       double *confidence, double *error_m)
{
    S4gPredictionPanel *p = self->panel;
    *lat = p->shown_lat, *lon = p->shown_lon, *confidence = p->shown_conf,
    *error_m = p->shown_err;
    return p->shown;
}

/* ---- running chunks ------------------------------------------------------------------------- */

static void show_job(S4gWindow *self)
{
    S4gPredictionPanel *p = self->panel;
    gboolean all = p->all != NULL;
    gtk_widget_set_visible(p->job_box, all || p->running);
    gtk_widget_set_sensitive(p->predict_all, !all && self->project && s4g_window_get_search_space(self));
    g_autofree char *text = NULL;
    Chunk *c = p->running;
    int gd = c ? g_atomic_int_get(&c->gallery_done) : 0;
    int gt = c ? g_atomic_int_get(&c->gallery_total) : 0;
    if (gt > 0 && gd < gt) {
        text = g_strdup_printf(_("Encoding the search space: %d of %d tiles"), gd, gt);
        gtk_progress_bar_set_fraction(p->progress, (double)gd / gt);
    } else if (all) {
        text = g_strdup_printf(
            ngettext("Predicted %u of %u photo", "Predicted %u of %u photos", p->all_total),
            p->all_done, p->all_total);
        gtk_progress_bar_set_fraction(p->progress,
                                      p->all_total ? (double)p->all_done / p->all_total : 0);
    } else {
        text = g_strdup(_("Predicting the selected photo…"));
        gtk_progress_bar_pulse(p->progress);
    }
    gtk_progress_bar_set_text(p->progress, text);
}

/* The progress while a chunk runs (the gallery's encoding is counted in the thread). */
static gboolean on_tick(gpointer data)
{
    S4gWindow *self = data;
    show_job(self);
    if (self->panel->running || self->panel->all) return G_SOURCE_CONTINUE;
    self->panel->tick = 0;
    return G_SOURCE_REMOVE;
}

static void finish_all(S4gWindow *self, const char *message)
{
    S4gPredictionPanel *p = self->panel;
    g_clear_pointer(&p->all, g_ptr_array_unref);
    g_clear_pointer(&p->all_model_gallery, g_free);
    _s4g_window_load_errors(self);
    errors_changed(self);
    load_embeddings(self); /* the photos' embeddings joined the cache */
    if (message) _s4g_window_toast(self, message);
    p->all_done = p->all_total = 0;
}

static void chunk_done(GObject *source, GAsyncResult *res, gpointer data)
{
    S4gWindow *self = S4G_WINDOW(source);
    Chunk *c = data;
    S4gPredictionPanel *p = self->panel;
    g_autoptr(GError) error = NULL;
    gboolean ok = g_task_propagate_boolean(G_TASK(res), &error);
    if (!p) { /* the window went away meanwhile */
        chunk_free(c);
        return;
    }
    p->running = NULL;
    engine_free(p->engine);
    p->engine = g_steal_pointer(&c->engine);
    g_autofree char *mg = g_strdup_printf("%" G_GINT64_FORMAT "/%s", c->model, c->gallery);
    gboolean current = c->model == _s4g_window_current_model(self) &&
                       !g_strcmp0(c->gallery, s4g_window_get_search_space(self)) &&
                       self->project && !g_strcmp0(c->dir, s4g_project_get_dir(self->project));
    gboolean shows = FALSE;
    for (guint i = 0; ok && current && i < c->result->len; i++) {
        S4gPrediction *r = c->result->pdata[i];
        gint64 image = g_array_index(c->images, gint64, i);
        S4gPhoto *ph = s4g_project_find_photo(self->project, image);
        /* the label and dot of an on-demand photo change right away */
        if (ph) s4g_photo_set_error(ph, r->stored ? r->error_m : NAN);
        shows |= self->current && s4g_photo_get_id(self->current) == image;
    }
    if (c->all && p->all && !g_strcmp0(mg, p->all_model_gallery)) p->all_done += c->paths->len;
    if (!ok) {
        if (c->all || !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
            g_autofree char *msg =
                g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                    ? g_strdup(_("Prediction cancelled"))
                    : g_strdup_printf(_("Prediction failed: %s"), error->message);
            if (p->all) finish_all(self, msg);
            else _s4g_window_toast(self, msg);
        }
        for (guint i = 0; i < c->images->len && self->current; i++)
            shows |= s4g_photo_get_id(self->current) == g_array_index(c->images, gint64, i);
    } else if (p->all && p->all->len == 0) {
        double s = (g_get_monotonic_time() - p->all_started) / 1e6;
        g_autofree char *msg = g_strdup_printf(
            ngettext("Predicted %u photo in %.1f s", "Predicted %u photos in %.1f s", p->all_total),
            p->all_total, s);
        g_message("%s", msg); /* the measured time, for the log */
        finish_all(self, msg);
    } else if (!c->all) {
        errors_changed(self);
    }
    chunk_free(c);
    if (shows) _s4g_window_show_prediction(self);
    pump(self);
    show_job(self);
}

static void start_chunk(S4gWindow *self, GPtrArray *photos, gboolean all)
{
    S4gPredictionPanel *p = self->panel;
    Chunk *c = g_new0(Chunk, 1);
    c->engine = g_steal_pointer(&p->engine);
    c->dir = g_strdup(s4g_project_get_dir(self->project));
    c->model_name = g_strdup(current_model_name(self));
    c->gallery = g_strdup(s4g_window_get_search_space(self));
    c->model = _s4g_window_current_model(self);
    c->top = g_settings_get_int(self->settings, "top-k");
    c->all = all;
    c->paths = g_ptr_array_new_with_free_func(g_free);
    c->images = g_array_new(FALSE, FALSE, sizeof(gint64));
    for (guint i = 0; i < photos->len; i++) {
        gint64 id = s4g_photo_get_id(photos->pdata[i]);
        g_ptr_array_add(c->paths, g_strdup(s4g_photo_get_path(photos->pdata[i])));
        g_array_append_val(c->images, id);
    }
    if (!p->cancellable || g_cancellable_is_cancelled(p->cancellable))
        g_set_object(&p->cancellable, g_cancellable_new());
    p->running = c;
    if (!p->tick) p->tick = g_timeout_add(200, on_tick, self);
    GTask *task = g_task_new(self, p->cancellable, chunk_done, c);
    g_task_set_name(task, "s4g-predict");
    g_task_set_task_data(task, c, NULL); /* freed by chunk_done */
    g_task_run_in_thread(task, chunk_run);
    g_object_unref(task);
}

/* The next chunk, if none runs: the selected photo when it waits for its prediction, else the
 * next photos of Predict all. */
static void pump(S4gWindow *self)
{
    S4gPredictionPanel *p = self->panel;
    if (p->running || !self->project || !current_model_name(self) ||
        !s4g_window_get_search_space(self))
        return;
    g_autoptr(GPtrArray) photos = g_ptr_array_new();
    S4gPhoto *cur = self->current;
    if (cur && p->wanted == s4g_photo_get_id(cur)) {
        g_hash_table_add(self->predicted, demand_key(self, p->wanted));
        p->wanted = 0;
        g_ptr_array_add(photos, cur);
        start_chunk(self, photos, FALSE);
    } else if (p->all && p->all->len) {
        guint n = MIN(CHUNK_PHOTOS, p->all->len);
        for (guint i = 0; i < n; i++)
            g_ptr_array_add(photos, p->all->pdata[i]);
        start_chunk(self, photos, TRUE);
        g_ptr_array_remove_range(p->all, 0, n);
    }
    show_job(self);
}

gboolean s4g_window_predict_all(S4gWindow *self)
{
    S4gPredictionPanel *p = self->panel;
    const char *gallery = s4g_window_get_search_space(self);
    if (!self->project || p->all || !current_model_name(self) || !gallery) return FALSE;
    GListModel *shown = gtk_grid_view_get_model(self->photo_grid)
                            ? G_LIST_MODEL(self->sorted)
                            : NULL;
    guint n = shown ? g_list_model_get_n_items(shown) : 0;
    if (n == 0) return FALSE;
    p->all = g_ptr_array_new_with_free_func(g_object_unref);
    for (guint i = 0; i < n; i++)
        g_ptr_array_add(p->all, g_list_model_get_item(shown, i));
    p->all_total = n;
    p->all_done = 0;
    p->all_started = g_get_monotonic_time();
    p->all_model_gallery =
        g_strdup_printf("%" G_GINT64_FORMAT "/%s", _s4g_window_current_model(self), gallery);
    pump(self);
    show_job(self);
    return TRUE;
}

void s4g_window_cancel_prediction(S4gWindow *self)
{
    S4gPredictionPanel *p = self->panel;
    if (p->cancellable) g_cancellable_cancel(p->cancellable);
    if (p->all && !p->running) finish_all(self, _("Prediction cancelled"));
    else if (p->all)
        g_ptr_array_set_size(p->all, 0); /* the running chunk reports the cancellation */
    show_job(self);
}

static void on_predict_all(GtkButton *b, S4gWindow *self)
{
    s4g_window_predict_all(self);
}

static void on_cancel(GtkButton *b, S4gWindow *self)
{
    s4g_window_cancel_prediction(self);
}

/* ---- search spaces ---------------------------------------------------------------------- */

static char *space_label(const char *gallery)
{
    g_autofree char *dataset = NULL, *split = NULL;
    if (!split_gallery(gallery, &dataset, &split))
        return g_strdup(gallery[0] ? gallery : _("Stored predictions"));
    return split ? g_strdup_printf(_("%s (%s)"), dataset, split) : g_strdup(dataset);
}

static void on_space_changed(S4gWindow *self)
{
    if (!self->project) return;
    if (self->panel->all) s4g_window_cancel_prediction(self);
    _s4g_window_load_errors(self);
    errors_changed(self);
    gtk_grid_view_set_model(self->photo_grid, NULL); /* relabel the visible cells */
    gtk_grid_view_set_model(self->photo_grid, GTK_SELECTION_MODEL(self->selection));
    _s4g_window_show_prediction(self);
    show_job(self);
}

gboolean s4g_window_set_search_space(S4gWindow *self, const char *gallery)
{
    S4gPredictionPanel *p = self->panel;
    for (guint i = 0; i + 1 < p->spaces->len; i++)
        if (!g_strcmp0(p->spaces->pdata[i], gallery)) {
            gtk_drop_down_set_selected(p->space_dropdown, i);
            return TRUE;
        }
    return FALSE;
}

/* The spaces of the project for the model: stored galleries (most photos first) and every
 * dataset with satellite images; the one with the most predictions is chosen. */
static void fill_spaces(S4gWindow *self)
{
    S4gPredictionPanel *p = self->panel;
    g_ptr_array_set_size(p->spaces, 0);
    GtkStringList *labels = gtk_string_list_new(NULL);
    if (self->project) {
        g_auto(GStrv) stored = s4g_store_predictions_galleries(
            s4g_project_get_store(self->project), _s4g_window_current_model(self), NULL);
        g_auto(GStrv) sets = s4g_project_list_search_spaces(self->project);
        for (guint i = 0; stored && stored[i]; i++)
            g_ptr_array_add(p->spaces, g_strdup(stored[i]));
        for (guint i = 0; sets[i]; i++) {
            g_autofree char *g = g_strdup_printf("%s/*", sets[i]);
            if (!g_strv_contains((const char *const *)stored ? (const char *const *)stored
                                                             : (const char *const[]){NULL},
                                 g))
                g_ptr_array_add(p->spaces, g_steal_pointer(&g));
        }
        for (guint i = 0; i < p->spaces->len; i++) {
            g_autofree char *l = space_label(p->spaces->pdata[i]);
            gtk_string_list_append(labels, l);
        }
    }
    g_ptr_array_add(p->spaces, NULL);
    g_signal_handlers_block_by_func(p->space_dropdown, on_space_changed, self);
    gtk_drop_down_set_model(p->space_dropdown, G_LIST_MODEL(labels));
    gtk_drop_down_set_selected(p->space_dropdown, p->spaces->len > 1 ? 0 : GTK_INVALID_LIST_POSITION);
    g_signal_handlers_unblock_by_func(p->space_dropdown, on_space_changed, self);
    g_object_unref(labels);
}

/* A project was opened or the model changed: its spaces, errors and recall. */
void _s4g_window_prediction_reset(S4gWindow *self)
{
    S4gPredictionPanel *p = self->panel;
    if (!p) return;
    if (p->cancellable) g_cancellable_cancel(p->cancellable);
    if (p->all) finish_all(self, NULL);
    if (!self->predicted)
        self->predicted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    fill_spaces(self);
    _s4g_window_load_errors(self);
    load_embeddings(self);
    show_job(self);
}

/* ---- legend, layers, views ---------------------------------------------------------------- */

static GtkWidget *legend_row(const char *symbol, const char *css, const char *text)
{
    GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *sym = gtk_label_new(symbol);
    gtk_widget_add_css_class(sym, "s4g-marker");
    gtk_widget_add_css_class(sym, "s4g-legend-symbol");
    gtk_widget_add_css_class(sym, css);
    GtkWidget *label = gtk_label_new(text);
    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_box_append(GTK_BOX(row), sym);
    gtk_box_append(GTK_BOX(row), label);
    return row;
}

static GtkWidget *make_legend(S4gPredictionPanel *p)
{
    GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 2);
    gtk_widget_add_css_class(box, "s4g-legend");
    gtk_widget_add_css_class(box, "osd");
    gtk_widget_set_halign(box, GTK_ALIGN_START);
    gtk_widget_set_valign(box, GTK_ALIGN_START); /* clear of the scale and the license */
    gtk_widget_set_margin_start(box, 8);
    gtk_widget_set_margin_top(box, 8);
    gtk_widget_set_can_target(box, FALSE);
    gtk_accessible_update_property(GTK_ACCESSIBLE(box), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                   _("Map legend"), -1);
    p->legend_rows[LEGEND_TRUTH] = legend_row("★", "s4g-truth", _("True location"));
    p->legend_rows[LEGEND_ESTIMATE] = legend_row("", "s4g-estimate", _("Estimate"));
    p->legend_rows[LEGEND_CANDIDATE] = legend_row("1", "s4g-candidate", _("Candidates by rank"));
    p->legend_rows[LEGEND_NEGATIVE] = legend_row("1", "s4g-negative", _("Hard negatives"));
    p->legend_rows[LEGEND_COMPARE] =
        legend_row("■", "s4g-compare-negative", _("Compared run’s negatives"));
    for (int i = 0; i < N_LEGEND; i++)
        gtk_box_append(GTK_BOX(box), p->legend_rows[i]);
    return box;
}

void _s4g_window_prediction_raise_layers(S4gWindow *self)
{
    if (!self->panel) return;
    ShumateMap *map = shumate_simple_map_get_map(self->map);
    /* the estimate's ring around the candidate it usually sits on, the truth above all */
    ShumateLayer *top[] = {SHUMATE_LAYER(self->panel->estimate_layer),
                           SHUMATE_LAYER(self->candidate_layer),
                           SHUMATE_LAYER(self->panel->truth_layer)};
    for (guint i = 0; i < G_N_ELEMENTS(top); i++) {
        g_object_ref(top[i]);
        shumate_map_remove_layer(map, top[i]);
        shumate_map_add_layer(map, top[i]);
        g_object_unref(top[i]);
    }
}

void _s4g_window_prediction_view_changed(S4gWindow *self, gboolean negatives)
{
    S4gPredictionPanel *p = self->panel;
    if (!p) return;
    gtk_widget_set_visible(GTK_WIDGET(p->truth_layer), !negatives);
    gtk_widget_set_visible(GTK_WIDGET(p->estimate_layer), !negatives);
    /* the Hard Negatives page has its own panel: no photo's prediction beside it */
    GtkWidget *hide[] = {p->box, GTK_WIDGET(self->error_label), GTK_WIDGET(self->candidates_flow),
                         gtk_widget_get_prev_sibling(GTK_WIDGET(self->candidates_flow))};
    for (guint i = 0; i < G_N_ELEMENTS(hide); i++)
        if (hide[i]) gtk_widget_set_visible(hide[i], !negatives);
    gtk_widget_set_visible(p->legend_rows[LEGEND_TRUTH], !negatives);
    gtk_widget_set_visible(p->legend_rows[LEGEND_ESTIMATE], !negatives);
    gtk_widget_set_visible(p->legend_rows[LEGEND_CANDIDATE], !negatives);
    gtk_widget_set_visible(p->legend_rows[LEGEND_NEGATIVE], negatives);
    gtk_widget_set_visible(p->legend_rows[LEGEND_COMPARE], negatives);
}

char *s4g_window_describe_layers(S4gWindow *self)
{
    ShumateMap *map = shumate_simple_map_get_map(self->map);
    GString *s = g_string_new(NULL);
    struct {
        gpointer layer;
        const char *name;
    } known[] = {{self->photo_layer, "photos"},        {self->error_path, "error"},
                 {self->candidate_layer, "candidates"}, {self->negative_layer, "negatives"},
                 {self->compare_layer, "compare"},     {self->panel->estimate_layer, "estimate"},
                 {self->panel->truth_layer, "truth"}};
    for (GtkWidget *c = gtk_widget_get_first_child(GTK_WIDGET(map)); c;
         c = gtk_widget_get_next_sibling(c))
        for (guint i = 0; i < G_N_ELEMENTS(known); i++)
            if ((gpointer)c == known[i].layer)
                g_string_append_printf(s, "%s%s", s->len ? " " : "", known[i].name);
    return g_string_free(s, FALSE);
}

GtkWidget *s4g_window_get_recall_plot(S4gWindow *self)
{
    return self->panel->recall;
}

GtkWidget *s4g_window_get_map_legend(S4gWindow *self)
{
    return self->panel->legend;
}

/* ---- search: a file name or "lat, lon" ---------------------------------------------------- */

gboolean s4g_parse_lat_lon(const char *text, double *lat, double *lon)
{
    if (!text) return FALSE;
    g_auto(GStrv) parts = g_strsplit_set(text, ",; \t", -1);
    guint n = 0;
    double v[2];
    for (guint i = 0; parts[i]; i++) {
        if (!parts[i][0]) continue;
        char *end = NULL;
        if (n == 2) return FALSE;
        v[n] = g_ascii_strtod(parts[i], &end);
        if (end == parts[i] || *end || !isfinite(v[n])) return FALSE;
        n++;
    }
    if (n != 2 || fabs(v[0]) > 90 || fabs(v[1]) > 180) return FALSE;
    *lat = v[0], *lon = v[1];
    return TRUE;
}

gboolean _s4g_window_search_matches(S4gWindow *self, S4gPhoto *photo)
{
    const char *needle = self->panel ? self->panel->needle : NULL;
    if (!needle) return TRUE;
    g_autofree char *base = g_path_get_basename(s4g_photo_get_path(photo));
    g_autofree char *folded = g_utf8_casefold(base, -1);
    return strstr(folded, needle) != NULL;
}

gboolean s4g_window_search(S4gWindow *self, const char *text)
{
    S4gPredictionPanel *p = self->panel;
    double lat, lon;
    g_clear_pointer(&p->needle, g_free);
    gboolean place = s4g_parse_lat_lon(text, &lat, &lon);
    g_autofree char *t = g_strstrip(g_strdup(text ? text : ""));
    if (!place && t[0]) p->needle = g_utf8_casefold(t, -1);
    if (self->project) _s4g_window_refilter(self);
    if (place) { /* coordinates: the map goes there, the grid keeps its filter */
        ShumateMap *map = shumate_simple_map_get_map(self->map);
        ShumateViewport *vp = shumate_simple_map_get_viewport(self->map);
        shumate_map_stop_go_to(map);
        shumate_map_go_to_full_with_duration(map, lat, lon,
                                              MAX(shumate_viewport_get_zoom_level(vp), 15), 250);
    }
    return place;
}

static void on_search(GtkSearchEntry *e, S4gWindow *self)
{
    s4g_window_search(self, gtk_editable_get_text(GTK_EDITABLE(e)));
}

/* ---- the embedding view: the model's cached embeddings on two principal components ------- */

#define EMB_MAX_TILES 3000 /* tiles beyond it are sampled evenly */

typedef struct {
    char *dir;
    gint64 model;
    guint gen;
    GHashTable *photos; /* gint64* set: the project's ground photos */
    guint n;
    gint64 *ids;
    gboolean *ground;
    float *xy;
} EmbLoad;

static void emb_load_free(EmbLoad *l)
{
    g_free(l->dir);
    g_hash_table_unref(l->photos);
    g_free(l->ids);
    g_free(l->ground);
    g_free(l->xy);
    g_free(l);
}

static int cmp_id(gconstpointer a, gconstpointer b)
{
    gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;
    return x < y ? -1 : x > y;
}

static void emb_run(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    EmbLoad *l = data;
    GError *error = NULL;
    g_autoptr(S4gStore) store = s4g_store_open(l->dir, FALSE, &error);
    g_autoptr(GHashTable) have = store ? s4g_store_embedding_ids(store, l->model, &error) : NULL;
    if (!have) {
        g_task_return_error(task, error);
        return;
    }
    g_autoptr(GArray) photos = g_array_new(FALSE, FALSE, sizeof(gint64));
    g_autoptr(GArray) tiles = g_array_new(FALSE, FALSE, sizeof(gint64));
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, have);
    while (g_hash_table_iter_next(&it, &key, NULL))
        g_array_append_val(g_hash_table_contains(l->photos, key) ? photos : tiles,
                           *(gint64 *)key);
    g_array_sort(photos, cmp_id);
    g_array_sort(tiles, cmp_id);
    guint nt = MIN(tiles->len, EMB_MAX_TILES), n = photos->len + nt;
    l->ids = g_new(gint64, MAX(n, 1));
    l->ground = g_new(gboolean, MAX(n, 1));
    for (guint i = 0; i < photos->len; i++)
        l->ids[i] = g_array_index(photos, gint64, i), l->ground[i] = TRUE;
    for (guint i = 0; i < nt; i++) /* evenly over the tiles */
        l->ids[photos->len + i] = g_array_index(tiles, gint64, (gsize)i * tiles->len / nt),
                          l->ground[photos->len + i] = FALSE;
    g_autofree float *x = NULL;
    int dim = 0;
    for (guint i = 0; i < n; i++) {
        if (g_task_return_error_if_cancelled(task)) return;
        int d = 0;
        g_autofree float *v = s4g_store_embedding_get(store, l->model, l->ids[i], &d, &error);
        if (!v) {
            g_task_return_error(task, error);
            return;
        }
        if (!x) x = g_new(float, (gsize)n * (dim = d));
        if (d != dim) {
            g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                    "embeddings: image %" G_GINT64_FORMAT " has %d dimensions, "
                                    "the others %d",
                                    l->ids[i], d, dim);
            return;
        }
        memcpy(x + (gsize)i * dim, v, sizeof(float) * dim);
    }
    l->n = n;
    l->xy = g_new(float, 2 * MAX(n, 1));
    if (n) s4g_pca2(x, n, dim, 40, l->xy);
    g_task_return_boolean(task, TRUE);
}

static void emb_done(GObject *source, GAsyncResult *res, gpointer data)
{
    S4gWindow *self = S4G_WINDOW(source);
    EmbLoad *l = g_task_get_task_data(G_TASK(res));
    g_autoptr(GError) error = NULL;
    if (self->panel && l->gen == self->panel->emb_gen) self->panel->emb_busy = FALSE;
    if (!g_task_propagate_boolean(G_TASK(res), &error)) {
        if (self->panel && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            _s4g_window_toast(self, error->message);
        return;
    }
    if (!self->panel || !self->project) return;
    g_autofree double *err = g_new(double, MAX(l->n, 1));
    for (guint i = 0; i < l->n; i++) {
        S4gPhoto *p = l->ground[i] ? s4g_project_find_photo(self->project, l->ids[i]) : NULL;
        err[i] = p ? s4g_photo_get_error(p) : NAN;
    }
    S4gEmbeddingView *v = S4G_EMBEDDING_VIEW(self->panel->embeddings);
    s4g_embedding_view_set_points(v, l->xy, l->ids, l->ground, err, l->n);
    s4g_embedding_view_set_selected(v, self->current ? s4g_photo_get_id(self->current) : 0);
}

/* (Re)loads the embedding view when it is open. */
static void load_embeddings(S4gWindow *self)
{
    S4gPredictionPanel *p = self->panel;
    if (p->embeddings_load) g_cancellable_cancel(p->embeddings_load);
    g_clear_object(&p->embeddings_load);
    gint64 model = _s4g_window_current_model(self);
    p->emb_busy = FALSE;
    if (!self->project || !model || !gtk_expander_get_expanded(p->embeddings_expander)) return;
    EmbLoad *l = g_new0(EmbLoad, 1);
    l->dir = g_strdup(s4g_project_get_dir(self->project));
    l->model = model;
    l->photos = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    GListModel *photos = s4g_project_get_photos(self->project);
    for (guint i = 0; i < g_list_model_get_n_items(photos); i++) {
        g_autoptr(S4gPhoto) ph = g_list_model_get_item(photos, i);
        g_hash_table_add(l->photos, g_memdup2(&(gint64){s4g_photo_get_id(ph)}, sizeof(gint64)));
    }
    p->embeddings_load = g_cancellable_new();
    l->gen = ++p->emb_gen;
    p->emb_busy = TRUE;
    GTask *task = g_task_new(self, p->embeddings_load, emb_done, NULL);
    g_task_set_task_data(task, l, (GDestroyNotify)emb_load_free);
    g_task_run_in_thread(task, emb_run);
    g_object_unref(task);
}

gboolean s4g_window_is_loading_embeddings(S4gWindow *self)
{
    return self->panel->emb_busy;
}

GtkWidget *s4g_window_get_embedding_view(S4gWindow *self)
{
    return self->panel->embeddings;
}

void s4g_window_show_embeddings(S4gWindow *self, gboolean show)
{
    gtk_expander_set_expanded(self->panel->embeddings_expander, show);
}

static void on_embedding_photo(S4gEmbeddingView *v, gint64 image, S4gWindow *self)
{
    s4g_window_choose_photo_marker(self, image);
}

/* ---- life cycle -------------------------------------------------------------------------- */

static GtkWidget *heading(const char *text)
{
    GtkWidget *l = gtk_label_new(text);
    gtk_label_set_xalign(GTK_LABEL(l), 0);
    gtk_widget_add_css_class(l, "heading");
    return l;
}

static void accessible_label(gpointer w, const char *text)
{
    gtk_accessible_update_property(GTK_ACCESSIBLE(w), GTK_ACCESSIBLE_PROPERTY_LABEL, text, -1);
}

void _s4g_window_prediction_init(S4gWindow *self)
{
    S4gPredictionPanel *p = g_new0(S4gPredictionPanel, 1);
    self->panel = p;
    p->spaces = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(p->spaces, NULL);
    self->predicted = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    /* the panel: search space, estimate, Predict all with its progress, recall plot */
    p->box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
    p->search = GTK_SEARCH_ENTRY(gtk_search_entry_new());
    g_object_set(p->search, "placeholder-text", _("File name or “lat, lon”"), NULL);
    accessible_label(p->search, _("Find a photo by file name or go to coordinates"));
    gtk_widget_set_tooltip_text(GTK_WIDGET(p->search),
                                _("Shows the photos whose file name contains the text; "
                                  "coordinates such as “48.137, 11.575” move the map there"));
    gtk_box_append(GTK_BOX(p->box), GTK_WIDGET(p->search));
    GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    GtkWidget *space_label = gtk_label_new_with_mnemonic(_("_Search in"));
    p->space_dropdown = GTK_DROP_DOWN(gtk_drop_down_new(NULL, NULL));
    gtk_widget_set_hexpand(GTK_WIDGET(p->space_dropdown), TRUE);
    gtk_label_set_mnemonic_widget(GTK_LABEL(space_label), GTK_WIDGET(p->space_dropdown));
    accessible_label(p->space_dropdown, _("Search space for prediction"));
    gtk_widget_set_tooltip_text(GTK_WIDGET(p->space_dropdown),
                                _("The satellite tiles of a dataset, or a gallery, that photos "
                                  "are located in"));
    gtk_box_append(GTK_BOX(row), space_label);
    gtk_box_append(GTK_BOX(row), GTK_WIDGET(p->space_dropdown));
    gtk_box_append(GTK_BOX(p->box), row);
    p->estimate_label = GTK_LABEL(gtk_label_new(NULL));
    gtk_label_set_xalign(p->estimate_label, 0);
    gtk_label_set_wrap(p->estimate_label, TRUE);
    gtk_label_set_selectable(p->estimate_label, TRUE);
    gtk_box_append(GTK_BOX(p->box), GTK_WIDGET(p->estimate_label));
    p->predict_all = gtk_button_new_with_mnemonic(_("_Predict All"));
    gtk_widget_set_tooltip_text(p->predict_all,
                                _("Predict every photo of the filter in the search space"));
    accessible_label(p->predict_all, _("Predict all photos of the filter"));
    gtk_box_append(GTK_BOX(p->box), p->predict_all);
    p->job_box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
    p->progress = GTK_PROGRESS_BAR(gtk_progress_bar_new());
    gtk_progress_bar_set_show_text(p->progress, TRUE);
    gtk_progress_bar_set_ellipsize(p->progress, PANGO_ELLIPSIZE_END);
    gtk_widget_set_hexpand(GTK_WIDGET(p->progress), TRUE);
    gtk_widget_set_valign(GTK_WIDGET(p->progress), GTK_ALIGN_CENTER);
    accessible_label(p->progress, _("Prediction progress"));
    p->cancel = gtk_button_new_with_mnemonic(_("_Cancel"));
    accessible_label(p->cancel, _("Cancel prediction"));
    gtk_box_append(GTK_BOX(p->job_box), GTK_WIDGET(p->progress));
    gtk_box_append(GTK_BOX(p->job_box), p->cancel);
    gtk_widget_set_visible(p->job_box, FALSE);
    gtk_box_append(GTK_BOX(p->box), p->job_box);
    gtk_box_append(GTK_BOX(p->box), heading(_("Recall by distance")));
    p->recall = s4g_recall_plot_new();
    gtk_box_append(GTK_BOX(p->box), p->recall);
    p->embeddings_expander = GTK_EXPANDER(gtk_expander_new_with_mnemonic(_("_Embeddings")));
    gtk_widget_set_tooltip_text(GTK_WIDGET(p->embeddings_expander),
                                _("The model's cached embeddings on their first two principal "
                                  "components: tiles grey, photos coloured by error; click a "
                                  "photo to select it"));
    accessible_label(p->embeddings_expander, _("Embedding view"));
    p->embeddings = s4g_embedding_view_new();
    gtk_expander_set_child(p->embeddings_expander, p->embeddings);
    gtk_box_append(GTK_BOX(p->box), GTK_WIDGET(p->embeddings_expander));
    /* after the photo's name, before its error */
    gtk_box_insert_child_after(GTK_BOX(self->side_panel), p->box, GTK_WIDGET(self->photo_label));

    g_signal_connect_swapped(p->space_dropdown, "notify::selected", G_CALLBACK(on_space_changed),
                             self);
    g_signal_connect(p->predict_all, "clicked", G_CALLBACK(on_predict_all), self);
    g_signal_connect(p->search, "search-changed", G_CALLBACK(on_search), self);
    g_signal_connect_swapped(p->embeddings_expander, "notify::expanded",
                             G_CALLBACK(load_embeddings), self);
    g_signal_connect(p->embeddings, "photo-activated", G_CALLBACK(on_embedding_photo), self);
    g_signal_connect(p->search, "activate", G_CALLBACK(on_search), self);
    g_signal_connect(p->cancel, "clicked", G_CALLBACK(on_cancel), self);
    g_signal_connect(self->candidates_flow, "child-activated", G_CALLBACK(on_candidate_activated),
                     self);

    ShumateViewport *vp = shumate_simple_map_get_viewport(self->map);
    p->estimate_layer = shumate_marker_layer_new(vp);
    p->truth_layer = shumate_marker_layer_new(vp);
    shumate_simple_map_add_overlay_layer(self->map, SHUMATE_LAYER(p->estimate_layer));
    shumate_simple_map_add_overlay_layer(self->map, SHUMATE_LAYER(p->truth_layer));
    _s4g_window_prediction_raise_layers(self);
    p->legend = make_legend(p);
    GtkWidget *overlay = gtk_widget_get_parent(GTK_WIDGET(self->map));
    if (GTK_IS_OVERLAY(overlay)) gtk_overlay_add_overlay(GTK_OVERLAY(overlay), p->legend);
    show_job(self);
}

void _s4g_window_prediction_dispose(S4gWindow *self)
{
    S4gPredictionPanel *p = self->panel;
    if (!p) return;
    self->panel = NULL; /* a chunk finishing later only frees itself */
    if (p->cancellable) g_cancellable_cancel(p->cancellable);
    g_clear_object(&p->cancellable);
    if (p->tick) g_source_remove(p->tick);
    if (p->embeddings_load) g_cancellable_cancel(p->embeddings_load);
    g_clear_object(&p->embeddings_load);
    engine_free(p->engine);
    g_clear_pointer(&p->all, g_ptr_array_unref);
    g_free(p->all_model_gallery);
    g_free(p->needle);
    g_ptr_array_unref(p->spaces);
    g_free(p);
}
