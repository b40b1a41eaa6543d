/* cmd-predict.c — s4g predict: locate ground photos by retrieval over a dataset's satellite
 * tiles or a gallery (architecture.md §5 "Predict").  The work is the predictor's
 * (app/method/s4g-predict.h: cached gallery embeddings, top-k, the refined estimate and its
 * confidence, the truth and the stored predictions); this command parses the options and
 * writes the results as text, JSON lines, CSV and GeoJSON. */
#include "cmd-predict.h"
#include "s4g-cli.h"
#include "s4g-model.h"
#include "s4g-search.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* The CSV row, GeoJSON feature and stdout lines (JSON or text) of one located photo. */
static void print_prediction(const S4gPrediction *r, gboolean json, FILE *out, S4gPredictOutput *o)
{
    const S4gPredictorHit *best = &r->top[0];
    double err_m = r->error_m;
    g_autofree char *ep = g_strescape(r->photo, NULL), *et = g_strescape(best->path, NULL);
    g_autofree char *e_csv = isnan(err_m) ? g_strdup("") : g_strdup_printf("%.1f", err_m);
    g_autofree char *e_json =
        isnan(err_m) ? g_strdup("") : g_strdup_printf(", \"error_m\": %.1f", err_m);
    g_string_append_printf(o->csv, "\"%s\",%.7f,%.7f,%.4f,%s,\"%s\",%.5f\n", ep, r->lat, r->lon,
                           r->confidence, e_csv, et, best->score);
    if (isfinite(r->lat))
        g_string_append_printf(
            o->geojson,
            "%s{\"type\": \"Feature\", \"geometry\": {\"type\": \"Point\", "
            "\"coordinates\": [%.7f, %.7f]}, \"properties\": {\"image\": \"%s\", "
            "\"confidence\": %.4f, \"tile\": \"%s\", \"score\": %.5f%s}}",
            o->n_features++ ? ",\n" : "", r->lon, r->lat, ep, r->confidence, et, best->score,
            e_json);
    if (!out) return;
    if (json) {
        fprintf(out, "{\"image\": \"%s\", \"lat\": %.7f, \"lon\": %.7f, \"confidence\": %.4f", ep,
                r->lat, r->lon, r->confidence);
        if (!isnan(err_m)) fprintf(out, ", \"error_m\": %.1f", err_m);
        fprintf(out, ", \"top\": [");
        for (guint i = 0; i < r->k; i++) {
            g_autofree char *tp = g_strescape(r->top[i].path, NULL);
            fprintf(out, "%s{\"tile\": \"%s\", \"score\": %.5f, \"lat\": %.7f, \"lon\": %.7f}",
                    i ? ", " : "", tp, r->top[i].score, r->top[i].lat, r->top[i].lon);
        }
        fprintf(out, "]}\n");
    } else {
        fprintf(out, "%s\n  estimate %.6f, %.6f  (confidence %.2f)", r->photo, r->lat, r->lon,
                r->confidence);
        if (!isnan(err_m)) fprintf(out, "  error %.0f m", err_m);
        fprintf(out, "\n");
        for (guint i = 0; i < r->k; i++)
            fprintf(out, "  %2u  %.4f  %s  (%.6f, %.6f)\n", i + 1, r->top[i].score, r->top[i].path,
                    r->top[i].lat, r->top[i].lon);
    }
}

void s4g_predict_output_init(S4gPredictOutput *o)
{
    o->csv = g_string_new("image,lat,lon,confidence,error_m,tile,score\n");
    o->geojson = g_string_new("{\"type\": \"FeatureCollection\", \"features\": [\n");
    o->n_features = 0;
}

void s4g_predict_output_clear(S4gPredictOutput *o)
{
    if (o->csv) g_string_free(g_steal_pointer(&o->csv), TRUE);
    if (o->geojson) g_string_free(g_steal_pointer(&o->geojson), TRUE);
}

gboolean s4g_predict_output_save(S4gPredictOutput *o, const char *csv_path,
                                 const char *geojson_path, GError **error)
{
    if (csv_path && !g_file_set_contents(csv_path, o->csv->str, (gssize)o->csv->len, error))
        return FALSE;
    g_autofree char *geo = g_strconcat(o->geojson->str, "\n]}\n", NULL);
    return !geojson_path || g_file_set_contents(geojson_path, geo, -1, error);
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
    g_autofree char *dataset = NULL, *split = NULL, *csv_path = NULL, *geojson_path = NULL,
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
         "Also write image,lat,lon,confidence,error_m,tile,score rows to FILE", "FILE"},
        {"geojson", 0, 0, G_OPTION_ARG_FILENAME, &geojson_path,
         "Also write the estimates as a GeoJSON FeatureCollection of points to FILE", "FILE"},
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
    if (!m ||
        !s4g_predictor_set_model(pred, ctx, m, model_id, &spec, &po, NULL, NULL, NULL, &error) ||
        !s4g_predict_photos(pred, dataset, (const char *const *)argv + 1, (guint)argc - 1, json,
                            stdout, &out, NULL, &error) ||
        !s4g_predict_output_save(&out, csv_path, geojson_path, &error))
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
