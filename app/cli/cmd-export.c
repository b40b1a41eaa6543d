/* cmd-export.c — s4g export: a dataset's embeddings by a project model as an N×D float32
 * .npy with a sidecar .csv (row, image id, view, split, path) in row order, or a model's
 * stored predictions as CSV (RFC 4180), GeoJSON (a FeatureCollection of estimate points with
 * image, rank-1 reference, score, confidence and error_m, null when the image's location is
 * unknown) or KML (s4g-kml.h: estimate, truth and top-k placemarks per image). */
#include "s4g-cli-model.h"
#include "s4g-csv.h"
#include "s4g-embed.h"
#include "s4g-geo.h"
#include "s4g-json-out.h"
#include "s4g-kml.h"
#include "s4g-locate.h"
#include "s4g-npy.h"
#include "s4g-store-runs.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int export_embeddings(const S4gCliOptions *o, const char *dataset, const char *split,
                             const char *view, const char *out)
{
    S4gCliModel cm;
    g_autoptr(GArray) images = NULL;
    if (!s4g_cli_model_open("export", o, dataset, o->model, &cm) ||
        !(images = s4g_cli_model_images("export", &cm, split, view))) {
        s4g_cli_model_close(&cm);
        return 1;
    }
    g_autoptr(GError) error = NULL;
    guint encoded = 0;
    gboolean ok = s4g_cli_model_embed(&cm, NULL, images, o->batch, o->json, &encoded, &error);
    int dim = cm.m->cfg.dims[3];
    g_autofree float *mat = g_new(float, (gsize)images->len * dim);
    S4gCsvWriter csv;
    s4g_csv_writer_init(&csv);
    s4g_csv_write_header(&csv, "row,image,view,split,path");
    for (guint i = 0; ok && i < images->len; i++) {
        const S4gStoreImage *im = &g_array_index(images, S4gStoreImage, i);
        int d = 0;
        g_autofree float *v = s4g_store_embedding_get(cm.store, cm.model_id, im->id, &d, &error);
        if (!v) ok = FALSE;
        else if (d != dim) {
            g_set_error(&error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                        "embedding of image %" G_GINT64_FORMAT " has %d values, the model %d",
                        im->id, d, dim);
            ok = FALSE;
        } else {
            memcpy(mat + (gsize)i * dim, v, dim * sizeof(float));
            g_autofree char *abs = g_build_filename(cm.ds.root, im->path, NULL);
            s4g_csv_write_int(&csv, i);
            s4g_csv_write_int(&csv, im->id);
            s4g_csv_write(&csv, im->view);
            s4g_csv_write(&csv, im->split);
            s4g_csv_write(&csv, abs);
            s4g_csv_end_row(&csv);
        }
    }
    s4g_cli_model_close(&cm);
    if (!ok) {
        s4g_csv_writer_clear(&csv);
        return s4g_cli_fail("export", error);
    }
    s4g_err err = {0};
    int64_t shape[2] = {images->len, dim};
    if (s4g_npy_write(out, 2, shape, mat, &err)) {
        fprintf(stderr, "s4g export: %s: %s\n", out, err.msg);
        s4g_csv_writer_clear(&csv);
        return 1;
    }
    g_autofree char *stem = g_str_has_suffix(out, ".npy") ? g_strndup(out, strlen(out) - 4)
                                                          : g_strdup(out);
    g_autofree char *side = g_strconcat(stem, ".csv", NULL);
    gboolean saved = s4g_csv_writer_save(&csv, side, &error);
    s4g_csv_writer_clear(&csv);
    if (!saved) return s4g_cli_fail("export", error);
    if (o->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        s4g_json_add_string(b, "npy", out);
        s4g_json_add_string(b, "csv", side);
        s4g_json_add_int(b, "rows", images->len);
        s4g_json_add_int(b, "dim", dim);
        s4g_json_add_int(b, "encoded", encoded);
        json_builder_end_object(b);
        s4g_json_print(b, stdout);
    } else
        printf("%s: %u × %d float32 (%u newly encoded); ids in %s\n", out, images->len, dim,
               encoded, side);
    return 0;
}

typedef struct {
    gint64 image;
    char *path, *gallery, *ref_path;
    double lat, lon, conf, err_m, score, true_lat, true_lon;
    guint first, n; /* its rows (the top-k, best first) in the export */
} Estimate;

static void estimate_clear(gpointer p)
{
    Estimate *e = p;
    g_free(e->path), g_free(e->gallery), g_free(e->ref_path);
}

/* Closes the group of rows of one (image, gallery) collected so far into an estimate. */
static void close_group(GArray *out, Estimate *cur, GArray *sc, GArray *la, GArray *lo,
                        double tlat, double tlon, double radius)
{
    if (sc->len == 0) return;
    s4g_locate_estimate((double *)sc->data, (double *)la->data, (double *)lo->data, (int)sc->len,
                        radius, &cur->lat, &cur->lon, &cur->conf);
    cur->score = g_array_index(sc, double, 0);
    cur->n = sc->len;
    cur->true_lat = tlat, cur->true_lon = tlon;
    cur->err_m = isfinite(tlat) && isfinite(cur->lat)
                     ? s4g_geo_haversine_m(cur->lat, cur->lon, tlat, tlon)
                     : NAN;
    g_array_append_val(out, *cur);
    memset(cur, 0, sizeof *cur);
    g_array_set_size(sc, 0), g_array_set_size(la, 0), g_array_set_size(lo, 0);
}

static int export_predictions(const S4gCliOptions *o, double radius, const char *out)
{
    S4gCliModel cm;
    if (!s4g_cli_model_open("export", o, NULL, NULL, &cm)) {
        s4g_cli_model_close(&cm);
        return 1;
    }
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gModelRow) mrow = s4g_store_model_get(cm.store, 0, o->model, &error);
    if (!mrow) {
        s4g_cli_model_close(&cm);
        return s4g_cli_fail("export", error);
    }
    g_autoptr(GArray) rows = s4g_store_predictions_export(cm.store, mrow->id, &error);
    if (!rows) {
        s4g_cli_model_close(&cm);
        return s4g_cli_fail("export", error);
    }
    g_autoptr(GArray) est = g_array_new(FALSE, TRUE, sizeof(Estimate));
    g_array_set_clear_func(est, estimate_clear);
    g_autoptr(GArray) sc = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GArray) la = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(GArray) lo = g_array_new(FALSE, FALSE, sizeof(double));
    Estimate cur = {0};
    double tlat = NAN, tlon = NAN;
    for (guint r = 0; r < rows->len; r++) {
        const S4gPredictionExport *row = &g_array_index(rows, S4gPredictionExport, r);
        if (sc->len && (row->image != cur.image || g_strcmp0(row->gallery, cur.gallery)))
            close_group(est, &cur, sc, la, lo, tlat, tlon, radius);
        if (sc->len == 0) {
            cur.image = row->image;
            cur.gallery = g_strdup(row->gallery);
            cur.path = g_strdup(row->file);
            cur.ref_path = g_strdup(row->reference_file);
            cur.first = r;
            tlat = row->true_lat, tlon = row->true_lon;
        }
        g_array_append_val(sc, row->score);
        g_array_append_val(la, row->lat);
        g_array_append_val(lo, row->lon);
    }
    close_group(est, &cur, sc, la, lo, tlat, tlon, radius);
    estimate_clear(&cur);
    s4g_cli_model_close(&cm);
    gboolean kml = g_str_has_suffix(out, ".kml"),
             geojson = g_str_has_suffix(out, ".geojson") || g_str_has_suffix(out, ".json");
    g_autoptr(GString) s = g_string_new(NULL);
    S4gCsvWriter csv;
    s4g_csv_writer_init(&csv);
    g_autoptr(JsonBuilder) gj = json_builder_new();
    if (kml)
        s4g_kml_begin(s, "s4g export");
    else if (geojson)
        s4g_geojson_begin_collection(gj);
    else
        s4g_csv_write_header(&csv, "image,gallery,lat,lon,confidence,error_m,reference,score");
    guint features = 0;
    for (guint i = 0; i < est->len; i++) {
        Estimate *e = &g_array_index(est, Estimate, i);
        if (kml) {
            g_autofree S4gKmlCandidate *top = g_new(S4gKmlCandidate, e->n);
            for (guint j = 0; j < e->n; j++) {
                const S4gPredictionExport *row =
                    &g_array_index(rows, S4gPredictionExport, e->first + j);
                top[j] = (S4gKmlCandidate){row->reference_file, row->score, row->lat, row->lon};
            }
            S4gKmlPrediction kp = {e->path,  e->gallery,  e->lat,      e->lon, e->conf,
                                   e->err_m, e->true_lat, e->true_lon, e->n,   top};
            s4g_kml_add(s, &kp);
            features++;
        } else if (geojson) {
            if (!isfinite(e->lat)) continue; /* no point to draw */
            s4g_geojson_begin_point(gj, e->lon, e->lat);
            s4g_json_add_string(gj, "image", e->path);
            s4g_json_add_string(gj, "gallery", e->gallery);
            s4g_json_add_string(gj, "reference", e->ref_path);
            s4g_json_add_double(gj, "score", e->score);
            s4g_json_add_double(gj, "confidence", e->conf);
            s4g_json_add_double(gj, "error_m", e->err_m);
            s4g_geojson_end_feature(gj);
            features++;
        } else {
            s4g_csv_write(&csv, e->path);
            s4g_csv_write(&csv, e->gallery);
            s4g_csv_write_double(&csv, "%.7f", e->lat);
            s4g_csv_write_double(&csv, "%.7f", e->lon);
            s4g_csv_write_double(&csv, "%.4f", e->conf);
            s4g_csv_write_double(&csv, "%.1f", e->err_m);
            s4g_csv_write(&csv, e->ref_path);
            s4g_csv_write_double(&csv, "%.5f", e->score);
            s4g_csv_end_row(&csv);
            features++;
        }
    }
    if (kml) {
        s4g_kml_end(s);
    } else if (geojson) {
        s4g_geojson_end_collection(gj);
        g_autofree char *doc = s4g_json_to_string(gj);
        g_string_append_printf(s, "%s\n", doc);
    } else {
        g_string_append_len(s, csv.text->str, (gssize)csv.text->len);
    }
    s4g_csv_writer_clear(&csv);
    if (!g_file_set_contents(out, s->str, (gssize)s->len, &error))
        return s4g_cli_fail("export", error);
    if (o->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        s4g_json_add_string(b, "file", out);
        s4g_json_add_int(b, "predictions", est->len);
        s4g_json_add_int(b, "written", features);
        json_builder_end_object(b);
        s4g_json_print(b, stdout);
    } else
        printf("%s: %u of %u predicted images\n", out, features, est->len);
    return 0;
}

int s4g_cmd_export(int argc, char **argv)
{
    g_autofree char *dataset = NULL, *split = NULL, *view = NULL, *emb = NULL, *pred = NULL;
    double radius = 50.0;
    GOptionEntry entries[] = {
        {"embeddings", 0, 0, G_OPTION_ARG_FILENAME, &emb,
         "Write the dataset's embeddings as N×D float32 .npy (+ sidecar .csv of ids)", "OUT.npy"},
        {"predictions", 0, 0, G_OPTION_ARG_FILENAME, &pred,
         "Write the model's stored predictions as CSV, GeoJSON or KML (by extension)",
         "OUT.csv|OUT.geojson|OUT.kml"},
        {"dataset", 'd', 0, G_OPTION_ARG_STRING, &dataset, "Dataset name (embeddings)", "NAME"},
        {"split", 's', 0, G_OPTION_ARG_STRING, &split, "Only this split (embeddings)", "S"},
        {"view", 0, 0, G_OPTION_ARG_STRING, &view, "Only this view (embeddings)", "V"},
        {"refine-radius", 0, 0, G_OPTION_ARG_DOUBLE, &radius,
         "Metres around the best match averaged into the estimate (50, as predict)", "M"},
        {NULL},
    };
    g_auto(S4gCliOptions) ro = S4G_CLI_MODEL_OPTIONS_INIT;
    if (!s4g_cli_parse_opts("export", "", "export embeddings (.npy) or predictions (.csv, .geojson, .kml)",
                           entries, &ro, &argc, &argv))
        return 2;
    if (!ro.project || !ro.model || !emb == !pred || (emb && !dataset)) {
        fprintf(stderr, "s4g export: need --project DIR --model M and either --embeddings "
                        "OUT.npy --dataset NAME or --predictions OUT.csv|OUT.geojson|OUT.kml\n");
        return 2;
    }
    if (emb)
        return export_embeddings(&ro, dataset, split, view, emb);
    return export_predictions(&ro, radius, pred);
}
