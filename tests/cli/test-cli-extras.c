/* test-cli-extras.c — s4g embed, mine and export as subprocesses on one tiny synthetic CVUSA
 * world (40 places, atto at 32x96 (H×W) / 32x32, one epoch): the embeddings cache (a second embed
 * encodes nothing), a GPS mining run of N×K rows ordered by distance, a DSS mining run whose
 * negatives never include the anchor's positive, the .npy shape and a GeoJSON that parses
 * with one feature per predicted photo, and a gallery cut from the world's MBTiles (grid
 * count from its bounds) that predict --gallery searches (k candidates inside the region). */
#include "s4g-store.h"
#include "s4g-store-private.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../compute/s4g-test-files.h"

static const char *s4g_path;

static gint64 json_int(const char *json, const char *member)
{
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(GError) error = NULL;
    g_assert_true(json_parser_load_from_data(p, json, -1, &error));
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    g_assert_true(json_object_has_member(o, member));
    return json_object_get_int_member(o, member);
}

static double json_double(const char *json, const char *member)
{
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(GError) error = NULL;
    g_assert_true(json_parser_load_from_data(p, json, -1, &error));
    JsonObject *o = json_node_get_object(json_parser_get_root(p));
    g_assert_true(json_object_has_member(o, member));
    return json_object_get_double_member(o, member);
}

/* --warmup 0.3 with 32 training pairs, batch 8: ceil(32/8) = 4 scheduled steps, W = 1.2 (not
 * rounded to 1).  lr of scheduler step k (the step reported as k+1): k = 0: 0; k = 1 < W:
 * 1e-3 · 1/1.2; then 1e-3 · 0.5 (1 + cos(pi (k − 1.2) / 2.8)): k = 2: 8.117449009e-4,
 * k = 3: 2.830581304e-4.  W rounded to 1 would give 1e-3 at k = 1. */
static void check_fractional_warmup(const char *out)
{
    const double want[] = {0.0, 1e-3 / 1.2, 8.117449009293667e-04, 2.8305813044122096e-04};
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    guint steps = 0;
    gboolean started = FALSE;
    for (guint i = 0; lines[i]; i++) {
        if (strstr(lines[i], "\"event\": \"start\"")) {
            g_assert_cmpfloat_with_epsilon(json_double(lines[i], "warmup_steps"), 1.2, 1e-12);
            g_assert_cmpint(json_int(lines[i], "total_steps"), ==, 4);
            started = TRUE;
        }
        if (!strstr(lines[i], "\"event\": \"step\"")) continue;
        gint64 step = json_int(lines[i], "step");
        g_assert_cmpint(step, >=, 1);
        g_assert_cmpint(step, <=, 4);
        double lr = json_double(lines[i], "lr");
        g_assert_cmpfloat_with_epsilon(lr, want[step - 1], 1e-12);
        steps++;
    }
    g_assert_true(started);
    g_assert_cmpuint(steps, >=, 3); /* 3 or 4 full batches after the custom shuffle */
}

static gint64 scalar(S4gStore *st, const char *sql)
{
    g_autoptr(sqlite3_stmt) s = s4g_store_prepare(st, sql, NULL);
    g_assert_nonnull(s);
    g_assert_cmpint(sqlite3_step(s), ==, SQLITE_ROW);
    return sqlite3_column_int64(s, 0);
}

static void test_extras(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *tmp = g_dir_make_tmp("s4g-extras-XXXXXX", &error);
    g_autofree char *world = g_build_filename(tmp, "w", NULL);
    g_autofree char *proj = g_build_filename(tmp, "p", NULL);
    const char *s4g = s4g_path;
    const char *synth[] = {s4g, "synth", "--layout", "cvusa", "--out", world, "-n", "40",
                           "--image-scale", "0.5", "-j", "2", NULL};
    g_free(tf_run_ok(synth));
    const char *imp[] = {s4g, "import", "--project", proj, "--kind", "cvusa", "--name", "w",
                         world, NULL};
    g_free(tf_run_ok(imp));
    const char *train[] = {s4g, "train", "--project", proj, "--dataset", "w", "--model", "m",
                           "--ground-size", "32x96", "--satellite-size", "32x32", "--epochs",
                           "1", "--batch", "8", "--warmup", "0.3", "--backend", "cpu",
                           "--threads", "2", "--json", NULL};
    g_autofree char *tout = tf_run_ok(train);
    check_fractional_warmup(tout);

    /* embed: everything the first time, nothing the second */
    const char *embed[] = {s4g, "embed", "-p", proj, "-d", "w", "-m", "m", "--split", "train",
                           "--backend", "cpu", "--json", NULL};
    g_autofree char *e1 = tf_run_ok(embed);
    g_autofree char *e2 = tf_run_ok(embed);
    gint64 n_train = json_int(e1, "images");
    g_assert_cmpint(n_train, ==, 64); /* 32 train places × (ground + satellite) */
    g_assert_cmpint(json_int(e1, "encoded"), ==, 64);
    g_assert_cmpint(json_int(e2, "encoded"), ==, 0);
    g_assert_cmpint(json_int(e2, "cached"), ==, 64);

    /* mine --gps: N×K rows, each anchor's ranks by nondecreasing distance */
    const char *gps[] = {s4g, "mine", "-p", proj, "-d", "w", "--gps", "--k", "5", "--json", NULL};
    g_autofree char *g1 = tf_run_ok(gps);
    gint64 gps_run = json_int(g1, "mining_run");
    g_assert_cmpint(json_int(g1, "anchors"), ==, 32);
    g_assert_cmpint(json_int(g1, "hard_negatives"), ==, 32 * 5);
    /* mine --dss with the trained model */
    const char *dss[] = {s4g, "mine", "-p", proj, "-d", "w", "--dss", "-m", "m", "--k", "6",
                         "--backend", "cpu", "--json", NULL};
    g_autofree char *d1 = tf_run_ok(dss);
    gint64 dss_run = json_int(d1, "mining_run");
    g_assert_cmpint(json_int(d1, "hard_negatives"), ==, 32 * 6);

    g_autoptr(S4gStore) st = s4g_store_open(proj, FALSE, &error);
    g_assert_no_error(error);
    /* --ground-size 32x96 is H×W: the stored spec (arrays width first, "size_order": "wh")
     * says 96 wide, 32 high, in the model row and in the run config --resume reads */
    g_assert_cmpint(scalar(st, "SELECT count(*) FROM models WHERE name = 'm' AND architecture "
                               "LIKE '%\"ground\": [96, 32]%\"size_order\": \"wh\"%'"), ==, 1);
    g_assert_cmpint(scalar(st, "SELECT count(*) FROM runs WHERE config "
                               "LIKE '%\"ground\": [96, 32]%'"), ==, 1);
    /* the run config keeps the warm-up exact: 0.3 epochs, W = 4 × 0.3 */
    g_assert_cmpint(scalar(st, "SELECT count(*) FROM runs WHERE json_extract(config, "
                               "'$.warmup_epochs') = 0.3 AND abs(json_extract(config, "
                               "'$.warmup_steps') - 1.2) < 1e-12 AND json_extract(config, "
                               "'$.steps_per_epoch') = 4"), ==, 1);
    g_autofree char *q1 = g_strdup_printf(
        "SELECT count(*) FROM hard_negatives WHERE mining_run = %" G_GINT64_FORMAT, gps_run);
    g_assert_cmpint(scalar(st, q1), ==, 160);
    g_autofree char *q2 = g_strdup_printf(
        "SELECT count(*) FROM hard_negatives a JOIN hard_negatives b ON a.mining_run = "
        "b.mining_run AND a.anchor = b.anchor AND b.rank = a.rank + 1 WHERE a.mining_run = "
        "%" G_GINT64_FORMAT " AND b.score < a.score",
        gps_run);
    g_assert_cmpint(scalar(st, q2), ==, 0);
    g_autofree char *q3 = g_strdup_printf(
        "SELECT count(*) FROM hard_negatives WHERE mining_run = %" G_GINT64_FORMAT
        " AND (anchor = negative OR score <= 0)",
        gps_run);
    g_assert_cmpint(scalar(st, q3), ==, 0);
    /* DSS anchors are grounds; none of their negatives is their positive satellite */
    g_autofree char *q4 = g_strdup_printf(
        "SELECT count(*) FROM hard_negatives h JOIN pairs p ON p.ground = h.anchor AND "
        "p.satellite = h.negative WHERE h.mining_run = %" G_GINT64_FORMAT,
        dss_run);
    g_assert_cmpint(scalar(st, q4), ==, 0);
    g_autofree char *q5 = g_strdup_printf(
        "SELECT count(DISTINCT h.anchor) FROM hard_negatives h JOIN images i ON i.id = h.anchor "
        "WHERE i.view = 'ground' AND h.mining_run = %" G_GINT64_FORMAT,
        dss_run);
    g_assert_cmpint(scalar(st, q5), ==, 32);
    g_autofree char *q6 = g_strdup_printf(
        "SELECT count(*) FROM hard_negatives a JOIN hard_negatives b ON a.mining_run = "
        "b.mining_run AND a.anchor = b.anchor AND b.rank = a.rank + 1 WHERE a.mining_run = "
        "%" G_GINT64_FORMAT " AND b.score > a.score + 1e-6",
        dss_run);
    g_assert_cmpint(scalar(st, q6), ==, 0);

    /* export --embeddings: a (32, 320) '<f4' array (atto's last stage is 320 wide) */
    g_autofree char *npy = g_build_filename(tmp, "e.npy", NULL);
    const char *exp1[] = {s4g, "export", "-p", proj, "-m", "m", "-d", "w", "--split", "train",
                          "--view", "satellite", "--embeddings", npy, "--backend", "cpu",
                          "--json", NULL};
    g_autofree char *x1 = tf_run_ok(exp1);
    g_assert_cmpint(json_int(x1, "encoded"), ==, 0); /* all cached by embed */
    g_autofree char *buf = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(npy, &buf, &len, NULL));
    g_assert_nonnull(strstr(buf + 10, "'shape': (32, 320)"));
    g_assert_nonnull(strstr(buf + 10, "'<f4'"));
    guint16 hlen;
    memcpy(&hlen, buf + 8, 2);
    g_assert_cmpuint(len, ==, 10u + hlen + 32u * 320u * 4u);
    g_autofree char *side = g_build_filename(tmp, "e.csv", NULL);
    g_autofree char *stext = NULL;
    g_assert_true(g_file_get_contents(side, &stext, NULL, NULL));
    g_auto(GStrv) lines = g_strsplit(stext, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 1 + 32 + 1);
    g_assert_true(g_str_has_prefix(lines[1], "0,"));

    /* predictions of 3 validation photos → GeoJSON with 3 point features */
    g_autoptr(GPtrArray) pred = g_ptr_array_new_with_free_func(NULL);
    const char *pre[] = {s4g, "predict", "-p", proj, "-d", "w", "-m", "m", "--backend", "cpu"};
    for (guint i = 0; i < G_N_ELEMENTS(pre); i++) g_ptr_array_add(pred, (gpointer)pre[i]);
    g_autofree char *p1 = g_build_filename(world, "streetview", "panos", "0000001.jpg", NULL);
    g_autofree char *p2 = g_build_filename(world, "streetview", "panos", "0000002.jpg", NULL);
    g_autofree char *p3 = g_build_filename(world, "streetview", "panos", "0000003.jpg", NULL);
    g_ptr_array_add(pred, p1), g_ptr_array_add(pred, p2), g_ptr_array_add(pred, p3);
    g_ptr_array_add(pred, NULL);
    g_free(tf_run_ok((const char *const *)pred->pdata));
    g_autofree char *gj = g_build_filename(tmp, "o.geojson", NULL);
    const char *exp2[] = {s4g, "export", "-p", proj, "-m", "m", "--predictions", gj, "--json",
                          NULL};
    g_autofree char *x2 = tf_run_ok(exp2);
    g_assert_cmpint(json_int(x2, "predictions"), ==, 3);
    g_autoptr(JsonParser) jp = json_parser_new();
    g_assert_true(json_parser_load_from_file(jp, gj, &error));
    g_assert_no_error(error);
    JsonObject *fc = json_node_get_object(json_parser_get_root(jp));
    g_assert_cmpstr(json_object_get_string_member(fc, "type"), ==, "FeatureCollection");
    JsonArray *feats = json_object_get_array_member(fc, "features");
    g_assert_cmpuint(json_array_get_length(feats), ==, 3);
    JsonObject *f0 = json_array_get_object_element(feats, 0);
    JsonObject *props = json_object_get_object_member(f0, "properties");
    g_assert_true(json_object_has_member(props, "error_m"));
    g_assert_true(json_object_has_member(props, "confidence"));
    JsonArray *c = json_object_get_array_member(json_object_get_object_member(f0, "geometry"),
                                                "coordinates");
    double lon = json_array_get_double_element(c, 0), lat = json_array_get_double_element(c, 1);
    /* the synthetic world lies around Munich (48.1°N, 11.6°E) */
    g_assert_cmpfloat(fabs(lat - 48.1), <, 0.5);
    g_assert_cmpfloat(fabs(lon - 11.6), <, 0.5);

    /* gallery: the region's z17 pixel rectangle cut into 32x32 patches every 48 px */
    g_autofree char *mbt = g_build_filename(world, "tiles", "region.mbtiles", NULL);
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open_v2(mbt, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    sqlite3_stmt *bs = NULL;
    g_assert_cmpint(sqlite3_prepare_v2(db, "SELECT value FROM metadata WHERE name = 'bounds'",
                                       -1, &bs, NULL), ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_step(bs), ==, SQLITE_ROW);
    double b[4];
    g_assert_cmpint(sscanf((const char *)sqlite3_column_text(bs, 0), "%lf,%lf,%lf,%lf", &b[0],
                           &b[1], &b[2], &b[3]), ==, 4);
    sqlite3_finalize(bs);
    sqlite3_close(db);
    double scale = 256.0 * (1 << 17);
    double xw = (b[0] + 180) / 360 * scale, xe = (b[2] + 180) / 360 * scale;
    double yn = (1 - log(tan(b[3] * G_PI / 180) + 1 / cos(b[3] * G_PI / 180)) / G_PI) / 2 * scale;
    double ys = (1 - log(tan(b[1] * G_PI / 180) + 1 / cos(b[1] * G_PI / 180)) / G_PI) / 2 * scale;
    int cols = (int)((floor(xe) - ceil(xw) - 32) / 48) + 1;
    int rows = (int)((floor(ys) - ceil(yn) - 32) / 48) + 1;
    g_assert_cmpint(cols, >, 3);
    g_assert_cmpint(rows, >, 3);
    const char *gal[] = {s4g, "gallery", "-p", proj, "--tiles", mbt, "--zoom", "17", "--stride",
                         "48", "-m", "m", "--name", "g", "--backend", "cpu", "--json", NULL};
    g_autofree char *go = tf_run_ok(gal);
    g_assert_cmpint(json_int(go, "cols"), ==, cols);
    g_assert_cmpint(json_int(go, "rows"), ==, rows);
    g_assert_cmpint(json_int(go, "patches"), ==, rows * cols);
    g_assert_cmpint(json_int(go, "encoded"), ==, rows * cols);
    g_autofree char *png = g_build_filename(proj, "galleries", "g", "r000-c000.png", NULL);
    g_assert_true(g_file_test(png, G_FILE_TEST_IS_REGULAR));
    /* predict over it: k candidates, every one inside the region */
    const char *pg[] = {s4g, "predict", "-p", proj, "--gallery", "g", "-m", "m", "-k", "4",
                        "--backend", "cpu", "--json", p1, NULL};
    g_autofree char *po = tf_run_ok(pg);
    g_autoptr(JsonParser) pp = json_parser_new();
    g_assert_true(json_parser_load_from_data(pp, po, -1, &error));
    JsonObject *pr = json_node_get_object(json_parser_get_root(pp));
    JsonArray *topk = json_object_get_array_member(pr, "top");
    g_assert_cmpuint(json_array_get_length(topk), ==, 4);
    for (guint i = 0; i < 4; i++) {
        JsonObject *t = json_array_get_object_element(topk, i);
        double tl = json_object_get_double_member(t, "lat"), tn = json_object_get_double_member(t, "lon");
        g_assert_cmpfloat(tl, >, b[1]);
        g_assert_cmpfloat(tl, <, b[3]);
        g_assert_cmpfloat(tn, >, b[0]);
        g_assert_cmpfloat(tn, <, b[2]);
    }
    double elat = json_object_get_double_member(pr, "lat");
    g_assert_cmpfloat(elat, >, b[1]);
    g_assert_cmpfloat(elat, <, b[3]);
    /* the photo is a ground image of dataset w, not of the gallery: its truth is still known,
     * so the error is reported — the haversine distance from the estimate to its stored place */
    {
        g_autofree char *dbp = g_build_filename(proj, "project.s4g", NULL);
        sqlite3 *pdb = NULL;
        sqlite3_stmt *st = NULL;
        g_assert_cmpint(sqlite3_open_v2(dbp, &pdb, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
        g_assert_cmpint(sqlite3_prepare_v2(pdb,
                                           "SELECT lat, lon FROM images WHERE view = 'ground' "
                                           "AND path LIKE '%/0000001.jpg'",
                                           -1, &st, NULL),
                        ==, SQLITE_OK);
        g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
        double tl = sqlite3_column_double(st, 0) * G_PI / 180,
               tn = sqlite3_column_double(st, 1) * G_PI / 180;
        sqlite3_finalize(st);
        sqlite3_close(pdb);
        double el = elat * G_PI / 180, en = json_object_get_double_member(pr, "lon") * G_PI / 180;
        double h = pow(sin((tl - el) / 2), 2) + cos(tl) * cos(el) * pow(sin((tn - en) / 2), 2);
        double want = 2 * 6371008.8 * asin(sqrt(h));
        g_assert_true(json_object_has_member(pr, "error_m"));
        g_assert_cmpfloat_with_epsilon(json_object_get_double_member(pr, "error_m"), want, 0.06);
    }
    /* --footprint 60: patches span 60 m of ground, i.e. 60 / (Web-Mercator metres per pixel at
     * z17 and the region's centre latitude) map pixels, each, whatever the model input */
    double mpp = 156543.03392804097 * cos((b[1] + b[3]) / 2 * G_PI / 180) / (1 << 17);
    int fside = (int)lround(60.0 / mpp);
    const char *gf[] = {s4g, "gallery", "-p", proj, "--tiles", mbt, "--zoom", "17",
                        "--footprint", "60", "-m", "m", "--name", "g60", "--backend", "cpu",
                        "--json", NULL};
    g_autofree char *gfo = tf_run_ok(gf);
    g_autofree char *want_patch = g_strdup_printf("\"patch\": [%d, %d]", fside, fside);
    g_assert_nonnull(strstr(gfo, want_patch));
    g_assert_cmpint(json_int(gfo, "cols"), ==, (int)((floor(xe) - ceil(xw) - fside) / fside) + 1);

    /* --stride 1 at zoom 19: the count and size are stated first, and beyond the budget it is
     * refused (nothing written) unless --force */
    {
        double s19 = 256.0 * (1 << 19);
        double xw19 = (b[0] + 180) / 360 * s19, xe19 = (b[2] + 180) / 360 * s19;
        double yn19 =
            (1 - log(tan(b[3] * G_PI / 180) + 1 / cos(b[3] * G_PI / 180)) / G_PI) / 2 * s19;
        double ys19 =
            (1 - log(tan(b[1] * G_PI / 180) + 1 / cos(b[1] * G_PI / 180)) / G_PI) / 2 * s19;
        gint64 n = (gint64)(floor(xe19) - ceil(xw19) - 32 + 1) *
                   (gint64)(floor(ys19) - ceil(yn19) - 32 + 1);
        g_assert_cmpint(n, >, 50000);
        g_autofree char *want = g_strdup_printf("= %" G_GINT64_FORMAT " patches of 32x32 px", n);
        const char *big[] = {s4g, "gallery", "-p", proj, "--tiles", mbt, "--zoom", "19",
                             "--stride", "1", "-m", "m", "--name", "s1", "--backend", "cpu",
                             NULL};
        tf_run_fails(big, want);
        tf_run_fails(big, "exceed the budget");
        g_autofree char *s1 = g_build_filename(proj, "galleries", "s1", NULL);
        g_assert_false(g_file_test(s1, G_FILE_TEST_EXISTS));
    }

    /* a name that is an existing non-gallery dataset is refused */
    const char *clash[] = {s4g, "gallery", "-p", proj, "--tiles", mbt, "--zoom", "17", "-m", "m",
                           "--name", "w", "--backend", "cpu", NULL};
    tf_run_fails(clash, "not a gallery");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    s4g_path = tf_s4g_argument(argc, argv);
    g_test_add_func("/cli/embed-mine-export", test_extras);
    return g_test_run();
}
