/* cmd-predict.c — s4g predict: locate ground photos by retrieval over a dataset's satellite
 * tiles or a gallery (architecture.md §5 "Predict").  The work is the predictor's
 * (app/method/s4g-predict.h: cached gallery embeddings, top-k, the refined estimate and its
 * confidence, the truth and the stored predictions); this command parses the options and
 * writes the results as text, JSON lines, CSV, GeoJSON and KML.  Under mpirun each process
 * holds one shard of the gallery and the top-k lists are merged (S4gPredictorOptions.comm):
 * the one-process predictions, printed, written and stored by rank 0 alone. */
#include "cmd-predict.h"
#include "s4g-cli.h"
#include "s4g-json-out.h"
#include "s4g-kml.h"
#include "s4g-model.h"
#include "s4g-search.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The prediction as a JSON object: image, estimate, confidence, error and truth (null when
 * unknown) and the top-k tiles. */
static void prediction_json(JsonBuilder *b, const S4gPrediction *r)
{
    json_builder_begin_object(b);
    s4g_json_add_string(b, "image", r->photo);
    s4g_json_add_double(b, "lat", r->lat);
    s4g_json_add_double(b, "lon", r->lon);
    s4g_json_add_double(b, "confidence", r->confidence);
    s4g_json_add_double(b, "error_m", r->error_m);
    s4g_json_add_double(b, "true_lat", r->true_lat);
    s4g_json_add_double(b, "true_lon", r->true_lon);
    s4g_json_begin_array(b, "top");
    for (guint i = 0; i < r->k; i++) {
        json_builder_begin_object(b);
        s4g_json_add_string(b, "tile", r->top[i].path);
        s4g_json_add_double(b, "score", r->top[i].score);
        s4g_json_add_double(b, "lat", r->top[i].lat);
        s4g_json_add_double(b, "lon", r->top[i].lon);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
}

/* The CSV row, GeoJSON feature, KML folder and stdout lines (JSON or text) of one located
 * photo. */
static void print_prediction(const S4gPrediction *r, gboolean json, FILE *out, S4gPredictOutput *o)
{
    const S4gPredictorHit *best = &r->top[0];
    s4g_csv_write(&o->csv, r->photo);
    s4g_csv_write_double(&o->csv, "%.7f", r->lat);
    s4g_csv_write_double(&o->csv, "%.7f", r->lon);
    s4g_csv_write_double(&o->csv, "%.4f", r->confidence);
    s4g_csv_write_double(&o->csv, "%.1f", r->error_m);
    s4g_csv_write(&o->csv, best->path);
    s4g_csv_write_double(&o->csv, "%.5f", best->score);
    s4g_csv_end_row(&o->csv);
    if (isfinite(r->lat)) {
        s4g_geojson_begin_point(o->geojson, r->lon, r->lat);
        s4g_json_add_string(o->geojson, "image", r->photo);
        s4g_json_add_double(o->geojson, "confidence", r->confidence);
        s4g_json_add_string(o->geojson, "tile", best->path);
        s4g_json_add_double(o->geojson, "score", best->score);
        s4g_json_add_double(o->geojson, "error_m", r->error_m);
        s4g_geojson_end_feature(o->geojson);
        o->n_features++;
    }
    g_autofree S4gKmlCandidate *top = g_new(S4gKmlCandidate, r->k);
    for (guint i = 0; i < r->k; i++)
        top[i] = (S4gKmlCandidate){r->top[i].path, r->top[i].score, r->top[i].lat, r->top[i].lon};
    S4gKmlPrediction kp = {.photo = r->photo,
                           .lat = r->lat,
                           .lon = r->lon,
                           .confidence = r->confidence,
                           .error_m = r->error_m,
                           .true_lat = r->true_lat,
                           .true_lon = r->true_lon,
                           .k = r->k,
                           .top = top};
    s4g_kml_add(o->kml, &kp);
    if (!out) return;
    if (json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        prediction_json(b, r);
        s4g_json_print(b, out);
    } else {
        fprintf(out, "%s\n  estimate %.6f, %.6f  (confidence %.2f)", r->photo, r->lat, r->lon,
                r->confidence);
        if (!isnan(r->error_m)) fprintf(out, "  error %.0f m", r->error_m);
        fprintf(out, "\n");
        for (guint i = 0; i < r->k; i++)
            fprintf(out, "  %2u  %.4f  %s  (%.6f, %.6f)\n", i + 1, r->top[i].score, r->top[i].path,
                    r->top[i].lat, r->top[i].lon);
    }
}

void s4g_predict_output_init(S4gPredictOutput *o)
{
    s4g_csv_writer_init(&o->csv);
    s4g_csv_write_header(&o->csv, S4G_PREDICT_CSV_HEADER);
    o->geojson = json_builder_new();
    s4g_geojson_begin_collection(o->geojson);
    o->kml = g_string_new(NULL);
    s4g_kml_begin(o->kml, "s4g predict");
    o->n_features = 0;
}

void s4g_predict_output_clear(S4gPredictOutput *o)
{
    s4g_csv_writer_clear(&o->csv);
    g_clear_object(&o->geojson);
    if (o->kml) g_string_free(g_steal_pointer(&o->kml), TRUE);
}

gboolean s4g_predict_output_save(S4gPredictOutput *o, const char *csv_path,
                                 const char *geojson_path, const char *kml_path, GError **error)
{
    if (csv_path && !s4g_csv_writer_save(&o->csv, csv_path, error)) return FALSE;
    s4g_geojson_end_collection(o->geojson);
    if (geojson_path && !s4g_json_save(o->geojson, geojson_path, error)) return FALSE;
    s4g_kml_end(o->kml);
    return !kml_path || g_file_set_contents(kml_path, o->kml->str, (gssize)o->kml->len, error);
}

gboolean s4g_predict_photos(S4gPredictor *pred, const char *dataset, const char *const *photos,
                            guint n, gboolean json, FILE *out, S4gPredictOutput *o,
                            GPtrArray *results, GError **error)
{
    if (!json)
        fprintf(stderr, "gallery: %u tiles of %s (%s)\n", s4g_predictor_n_tiles(pred), dataset,
                s4g_predictor_cached(pred) ? "cached embeddings" : "encoded");
    for (guint i = 0; i < n; i++) {
        /* one photo at a time: each is written before the next is encoded */
        g_autoptr(GPtrArray) one =
            s4g_predictor_locate(pred, &photos[i], 1, NULL, NULL, NULL, error);
        if (!one) return FALSE;
        print_prediction(one->pdata[0], json, out, o);
        if (out) fflush(out);
        if (results) g_ptr_array_add(results, g_ptr_array_steal_index(one, 0));
    }
    return TRUE;
}

int s4g_cmd_predict(int argc, char **argv)
{
    g_autofree char *dataset = NULL, *split = NULL, *csv_path = NULL, *geojson_path = NULL, *kml_path = NULL,
                    *gsz = NULL, *ssz = NULL, *gallery_name = NULL, *anchor = NULL;
    int top = 5;
    double radius = s4g_defaults.refine_radius_m;
    S4gSize gd = s4g_defaults.ground, sd = s4g_defaults.satellite;
    g_autofree char *ghelp = g_strdup_printf(
        "Photo input H×W for a weights file, height first (default %dx%d)", gd.h, gd.w);
    g_autofree char *shelp = g_strdup_printf(
        "Tile input H×W for a weights file, height first (default %dx%d)", sd.h, sd.w);
    g_autofree char *rhelp = g_strdup_printf(
        "Average the top-k tile centres within this many metres of the best one (%g; 0 = "
        "best tile only)", radius);
    GOptionEntry entries[] = {
        {"dataset", 'd', 0, G_OPTION_ARG_STRING, &dataset,
         "Dataset whose satellite tiles form the gallery", "NAME"},
        {"gallery", 'g', 0, G_OPTION_ARG_STRING, &gallery_name,
         "Search a gallery made by `s4g gallery` instead of a dataset", "G"},
        {"split", 's', 0, G_OPTION_ARG_STRING, &split, "Only this split's tiles (default all)",
         "S"},
        {"top", 'k', 0, G_OPTION_ARG_INT, &top, "Tiles per photo (5)", "K"},
        {"ground-size", 0, 0, G_OPTION_ARG_STRING, &gsz, ghelp, "HxW"},
        {"satellite-size", 0, 0, G_OPTION_ARG_STRING, &ssz, shelp, "HxW"},
        {"refine-radius", 0, 0, G_OPTION_ARG_DOUBLE, &radius, rhelp, "M"},
        {"anchor", 0, 0, G_OPTION_ARG_STRING, &anchor,
         "best: refine around the best tile (the reference's estimate, default); densest (not "
         "in the reference): around the top-k tile whose --refine-radius neighbourhood "
         "carries the most softmax weight, for dense galleries",
         "A"},
        {"csv", 0, 0, G_OPTION_ARG_FILENAME, &csv_path,
         "Also write CSV rows (" S4G_PREDICT_CSV_HEADER ") to FILE", "FILE"},
        {"geojson", 0, 0, G_OPTION_ARG_FILENAME, &geojson_path,
         "Also write the estimates as a GeoJSON FeatureCollection of points to FILE", "FILE"},
        {"kml", 0, 0, G_OPTION_ARG_FILENAME, &kml_path,
         "Also write KML 2.2 to FILE: per photo a folder with the estimate, the truth when "
         "known and the top-k tiles",
         "FILE"},
        {NULL},
    };
    g_auto(S4gCliOptions) o = {.shared = S4G_CLI_PROJECT | S4G_CLI_MODEL | S4G_CLI_BATCH |
                                         S4G_CLI_BACKEND | S4G_CLI_THREADS | S4G_CLI_JSON,
                               .batch = s4g_defaults.encode_batch,
                               .json_help = "One JSON object per photo"};
    if (!s4g_cli_parse_opts("predict", "IMAGE…",
                            "locate ground photos by retrieval over satellite tiles", entries, &o,
                            &argc, &argv))
        return 2;
    const char *project = o.project, *model = o.model;
    int batch = o.batch;
    gboolean json = o.json;
    gboolean densest = !g_strcmp0(anchor, "densest");
    if (anchor && !densest && strcmp(anchor, "best")) {
        fprintf(stderr, "s4g predict: --anchor is best or densest, not '%s'\n", anchor);
        return 2;
    }
    if (gallery_name && dataset) {
        fprintf(stderr, "s4g predict: --gallery and --dataset exclude each other\n");
        return 2;
    }
    if (gallery_name) dataset = g_steal_pointer(&gallery_name); /* a gallery is a dataset */
    if (!project || !dataset || !model || argc < 2 || top < 1 || top > S4G_SEARCH_MAX_K) {
        fprintf(stderr,
                "s4g predict: need --project, --dataset, --model, 1 ≤ --top ≤ %d and at "
                "least one IMAGE\n",
                S4G_SEARCH_MAX_K);
        return 2;
    }
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gStore) store = s4g_store_open(project, FALSE, &error);
    if (!store) return s4g_cli_fail("predict", error);
    g_autoptr(S4gPredictor) pred = s4g_predictor_new(store, dataset, split, &error);
    if (!pred) return s4g_cli_fail("predict", error);
    s4g_ctx *ctx = s4g_cli_make_ctx("predict", &o);
    if (!ctx) return 1;
    S4gModelSpec spec = s4g_model_spec_default();
    if ((gsz && !s4g_cli_size("predict", "ground-size", gsz, &spec.ground)) ||
        (ssz && !s4g_cli_size("predict", "satellite-size", ssz, &spec.satellite))) {
        s4g_ctx_free(ctx);
        return 2;
    }
    gint64 model_id = 0;
    s4g_convnext *m = s4g_model_open(store, model, ctx, &spec, &model_id, &error);
    S4gPredictorOptions po = {
        .top = top, .batch = batch, .refine_radius = radius, .densest = densest};
    int rc = 0;
    S4gPredictOutput out;
    s4g_predict_output_init(&out);
    s4g_comm comm = {.size = 1};
    if (!m) goto fail;
    if (!s4g_cli_mpi_begin("predict", &comm)) {
        rc = 1;
        goto done;
    }
    /* under mpirun each process holds a shard of the gallery; rank 0 prints and stores */
    if (comm.size > 1) po.comm = &comm;
    gboolean lead = comm.rank == 0,
             ok = s4g_predictor_set_model(pred, ctx, m, model_id, &spec, &po, NULL, NULL, NULL,
                                          &error) &&
                  s4g_predict_photos(pred, dataset, (const char *const *)argv + 1,
                                     (guint)argc - 1, json || !lead, lead ? stdout : NULL, &out,
                                     NULL, &error);
    s4g_cli_mpi_end("predict", &comm, ok, error);
    if (!ok || (lead && !s4g_predict_output_save(&out, csv_path, geojson_path, kml_path, &error)))
        goto fail;
    goto done;
fail:
    rc = s4g_cli_fail("predict", error);
done:
    s4g_predict_output_clear(&out);
    g_clear_pointer(&pred, s4g_predictor_free);
    s4g_convnext_free(m);
    s4g_ctx_free(ctx);
    return rc;
}
