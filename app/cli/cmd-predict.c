/* cmd-predict.c — s4g predict: locate ground photos by retrieval over a dataset's satellite
 * tiles (architecture.md §5 "Predict"): embed the gallery (cached in the embeddings table for
 * project models), embed each photo, take the top-k tiles, estimate the location as the
 * best tile's centre refined by the softmax-weighted mean (temperature 0.07, Sample4Geo's
 * initial logit scale) of those top-k centres that lie within --refine-radius of it (distant
 * runners-up would drag the estimate between places); the best tile's softmax weight among
 * the top-k is the confidence.  When the photo is an image of the dataset with a known
 * location, the error is reported and the predictions are stored; when it is a located ground
 * photo of another dataset of the project (a gallery search), the error is reported. */
#include "s4g-cli.h"
#include "s4g-model.h"
#include "s4g-locate.h"
#include "s4g-search.h"
#include "s4g-store-datasets.h"
#include "s4g-store-runs.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Gallery embeddings: from the cache when every one is there, else encoded and cached. */
static float *gallery_embeddings(S4gStore *store, s4g_convnext *m, const S4gModelSpec *spec,
                                 gint64 model_id, GArray *imgs, const char *root, int batch,
                                 gboolean *cached, GError **error)
{
    int dim = m->cfg.dims[3];
    float *out = g_new(float, MAX((gsize)imgs->len * dim, 1));
    *cached = model_id > 0;
    for (guint i = 0; *cached && i < imgs->len; i++) {
        int d = 0;
        g_autofree float *v = s4g_store_embedding_get(
            store, model_id, g_array_index(imgs, S4gStoreImage, i).id, &d, NULL);
        if (!v || d != dim)
            *cached = FALSE;
        else
            memcpy(out + (gsize)i * dim, v, sizeof(float) * dim);
    }
    if (*cached) return out;
    g_free(out);
    g_autofree char **paths = g_new0(char *, imgs->len + 1);
    g_autofree gint64 *ids = g_new(gint64, MAX(imgs->len, 1));
    for (guint i = 0; i < imgs->len; i++) {
        paths[i] = g_build_filename(root, g_array_index(imgs, S4gStoreImage, i).path, NULL);
        ids[i] = g_array_index(imgs, S4gStoreImage, i).id;
    }
    out =
        s4g_encode_images(m, paths, imgs->len, spec->satellite, batch, NULL, NULL, error);
    for (guint i = 0; i < imgs->len; i++)
        g_free(paths[i]);
    if (out && model_id > 0 &&
        !s4g_store_embeddings_put(store, model_id, imgs->len, ids, dim, out, S4G_EMB_F32, TRUE,
                                  error)) {
        g_free(out);
        return NULL;
    }
    return out;
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
    S4gStoreDataset ds = {0};
    if (!s4g_store_dataset_find(store, dataset, &ds, &error)) return s4g_cli_fail("predict", error);
    g_autofree char *root = g_strdup(ds.root);
    gint64 dsid = ds.id;
    s4g_store_dataset_clear(&ds);
    g_autoptr(GArray) gal = s4g_store_images_list(store, dsid, split, "satellite", &error);
    if (!gal) return s4g_cli_fail("predict", error);
    if (gal->len == 0) {
        fprintf(stderr, "s4g predict: dataset %s has no satellite images%s%s\n", dataset,
                split ? " in split " : "", split ? split : "");
        return 1;
    }
    s4g_err err = {0};
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
    int rc = 0;
    s4g_gallery *g = NULL;
    g_autofree float *gemb = NULL;
    gboolean cached = FALSE;
    g_autoptr(GString) csv = g_string_new(NULL);
    g_autoptr(GString) geo = g_string_new(NULL);
    guint n_features = 0;
    int dim = m ? m->cfg.dims[3] : 0, k = MIN(top, (int)gal->len);
    if (!m) goto fail;
    gemb = gallery_embeddings(store, m, &spec, model_id, gal, root, batch, &cached, &error);
    if (!gemb) goto fail;
    g = s4g_gallery_new(ctx, dim, 0, &err);
    if (!g || s4g_gallery_add(g, gal->len, gemb, &err)) {
        g_set_error(&error, S4G_GEO_ERROR, S4G_GEO_ERROR_COMPUTE, "gallery: %s", err.msg);
        goto fail;
    }
    if (!json)
        fprintf(stderr, "gallery: %u tiles of %s (%s)\n", gal->len, dataset,
                cached ? "cached embeddings" : "encoded");
    for (int a = 1; a < argc; a++) {
        if (a == 1) {
            g_string_append(csv, "image,lat,lon,confidence,error_m,tile,score\n");
            g_string_append(geo, "{\"type\": \"FeatureCollection\", \"features\": [\n");
        }
        const char *photo = argv[a];
        g_autofree float *q = s4g_encode_images(m, (char **)&photo, 1, spec.ground, 1, NULL,
                                                NULL, &error);
        if (!q) goto fail;
        g_autofree gint64 *idx = g_new(gint64, k);
        g_autofree float *sc = g_new(float, k);
        if (s4g_gallery_topk(g, 1, q, k, idx, sc, &err)) {
            g_set_error(&error, S4G_GEO_ERROR, S4G_GEO_ERROR_COMPUTE, "search: %s", err.msg);
            goto fail;
        }
        /* softmax over the top-k at temperature 0.07 (s4g-locate.h) */
        g_autofree double *ds = g_new(double, k), *tl = g_new(double, k), *tn = g_new(double, k);
        for (int i = 0; i < k; i++) {
            S4gStoreImage *im = &g_array_index(gal, S4gStoreImage, idx[i]);
            ds[i] = sc[i], tl[i] = im->lat, tn[i] = im->lon;
        }
        double lat, lon, conf;
        if (densest)
            s4g_locate_estimate_densest(ds, tl, tn, k, radius, &lat, &lon, &conf);
        else
            s4g_locate_estimate(ds, tl, tn, k, radius, &lat, &lon, &conf);
        /* the photo's own row, when it is an image of the dataset */
        g_autofree char *rel =
            g_str_has_prefix(photo, root) ? g_strdup(photo + strlen(root) + 1) : g_strdup(photo);
        gint64 image_id = 0;
        double tlat = NAN, tlon = NAN;
        {
            g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
                store, "SELECT id, lat, lon FROM images WHERE dataset = ? AND path = ? LIMIT 1",
                NULL);
            if (st) {
                sqlite3_bind_int64(st, 1, dsid);
                sqlite3_bind_text(st, 2, rel, -1, SQLITE_TRANSIENT);
                if (sqlite3_step(st) == SQLITE_ROW) {
                    image_id = sqlite3_column_int64(st, 0);
                    if (sqlite3_column_type(st, 1) != SQLITE_NULL) {
                        tlat = sqlite3_column_double(st, 1);
                        tlon = sqlite3_column_double(st, 2);
                    }
                }
            }
        }
        if (!image_id) {
            /* Not an image of the searched dataset (a gallery, say): its truth may still be
             * known as a ground photo of another dataset of the project.  Only the error is
             * reported then; predictions are stored for the searched dataset's own images. */
            g_autofree char *abs = g_canonicalize_filename(photo, NULL);
            g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
                store,
                "SELECT i.lat, i.lon FROM images i JOIN datasets d ON d.id = i.dataset "
                "WHERE i.view = 'ground' AND i.lat IS NOT NULL AND d.root || '/' || i.path = ? "
                "LIMIT 1",
                NULL);
            if (st) {
                sqlite3_bind_text(st, 1, abs, -1, SQLITE_TRANSIENT);
                if (sqlite3_step(st) == SQLITE_ROW) {
                    tlat = sqlite3_column_double(st, 0);
                    tlon = sqlite3_column_double(st, 1);
                }
            }
        }
        double err_m =
            isfinite(tlat) && isfinite(lat) ? s4g_geo_haversine_m(lat, lon, tlat, tlon) : NAN;
        if (image_id && model_id) {
            g_autofree S4gPredictionRow *rows = g_new(S4gPredictionRow, k);
            for (int i = 0; i < k; i++) {
                S4gStoreImage *im = &g_array_index(gal, S4gStoreImage, idx[i]);
                rows[i] = (S4gPredictionRow){im->id, sc[i], im->lat, im->lon};
            }
            g_autofree char *gname = g_strdup_printf("%s/%s", dataset, split ? split : "*");
            if (!s4g_store_predictions_put(store, model_id, image_id, gname, rows, k, &error))
                goto fail;
        }
        {
            S4gStoreImage *best = &g_array_index(gal, S4gStoreImage, idx[0]);
            g_autofree char *ep = g_strescape(photo, NULL), *et = g_strescape(best->path, NULL);
            g_autofree char *e_csv = isnan(err_m) ? g_strdup("") : g_strdup_printf("%.1f", err_m);
            g_autofree char *e_json =
                isnan(err_m) ? g_strdup("") : g_strdup_printf(", \"error_m\": %.1f", err_m);
            g_string_append_printf(csv, "\"%s\",%.7f,%.7f,%.4f,%s,\"%s\",%.5f\n", ep, lat, lon,
                                   conf, e_csv, et, sc[0]);
            if (isfinite(lat))
                g_string_append_printf(
                    geo,
                    "%s{\"type\": \"Feature\", \"geometry\": {\"type\": \"Point\", "
                    "\"coordinates\": [%.7f, %.7f]}, \"properties\": {\"image\": \"%s\", "
                    "\"confidence\": %.4f, \"tile\": \"%s\", \"score\": %.5f%s}}",
                    n_features++ ? ",\n" : "", lon, lat, ep, conf, et, sc[0], e_json);
        }
        if (json) {
            g_autofree char *ep = g_strescape(photo, NULL);
            printf("{\"image\": \"%s\", \"lat\": %.7f, \"lon\": %.7f, \"confidence\": %.4f", ep,
                   lat, lon, conf);
            if (!isnan(err_m)) printf(", \"error_m\": %.1f", err_m);
            printf(", \"top\": [");
            for (int i = 0; i < k; i++) {
                S4gStoreImage *im = &g_array_index(gal, S4gStoreImage, idx[i]);
                g_autofree char *p = g_strescape(im->path, NULL);
                printf("%s{\"tile\": \"%s\", \"score\": %.5f, \"lat\": %.7f, \"lon\": %.7f}",
                       i ? ", " : "", p, sc[i], im->lat, im->lon);
            }
            printf("]}\n");
        } else {
            printf("%s\n  estimate %.6f, %.6f  (confidence %.2f)", photo, lat, lon, conf);
            if (!isnan(err_m)) printf("  error %.0f m", err_m);
            printf("\n");
            for (int i = 0; i < k; i++) {
                S4gStoreImage *im = &g_array_index(gal, S4gStoreImage, idx[i]);
                printf("  %2d  %.4f  %s  (%.6f, %.6f)\n", i + 1, sc[i], im->path, im->lat, im->lon);
            }
        }
    }
    if (csv_path && !g_file_set_contents(csv_path, csv->str, (gssize)csv->len, &error)) goto fail;
    g_string_append(geo, "\n]}\n");
    if (geojson_path && !g_file_set_contents(geojson_path, geo->str, (gssize)geo->len, &error))
        goto fail;
    goto out;
fail:
    rc = s4g_cli_fail("predict", error);
out:
    s4g_gallery_free(g);
    s4g_convnext_free(m);
    s4g_ctx_free(ctx);
    return rc;
}
