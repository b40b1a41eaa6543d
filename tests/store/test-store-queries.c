/* test-store-queries.c — the typed queries that replaced SQL outside app/store (issue 11):
 * images and pairs looked up for prediction and browsing, run summaries, a run's evaluation
 * curve, cached embedding ids, a run's latest neighbour table and a mining run's anchors and
 * negatives, and predictions read back as estimates, candidates and export rows.  Every
 * row is written through the typed writers, so the queries are checked against them. */
#include "s4g-store-annotations.h"
#include "s4g-store-datasets.h"
#include "s4g-store-runs.h"

#include <math.h>

typedef struct {
    char *dir;
    S4gStore *store;
    gint64 ds, other, model, run;
    gint64 ground[4], sat[4]; /* ds: ground[i] ↔ sat[i] positive; other: one ground */
    gint64 foreign;
} Fixture;

static gint64 add_image(S4gStoreDatasetWriter *w, const char *view, const char *path,
                        const char *split, double lat, double lon)
{
    g_autoptr(GError) error = NULL;
    S4gStoreImage im = {.view = (char *)view,
                        .path = (char *)path,
                        .split = (char *)split,
                        .identity = -1,
                        .lat = lat,
                        .lon = lon,
                        .x = NAN,
                        .y = NAN};
    gint64 id = 0;
    g_assert_true(s4g_store_dataset_writer_image(w, &im, &id, NULL, &error));
    g_assert_no_error(error);
    return id;
}

static void setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    f->dir = g_dir_make_tmp("s4g-queries-XXXXXX", &error);
    g_assert_no_error(error);
    f->store = s4g_store_open(f->dir, TRUE, &error);
    g_assert_no_error(error);
    g_assert_true(s4g_store_dataset_upsert(f->store, "world", "synthetic", "/data/world", "{}",
                                           &f->ds, &error));
    g_assert_true(s4g_store_dataset_upsert(f->store, "another", "photos", "/data/another", "{}",
                                           &f->other, &error));
    g_assert_true(s4g_store_begin(f->store, &error));
    {
        g_autoptr(S4gStoreDatasetWriter) w = s4g_store_dataset_writer_new(f->store, f->ds, &error);
        g_assert_no_error(error);
        for (int i = 0; i < 4; i++) {
            g_autofree char *g = g_strdup_printf("ground/%d.jpg", i);
            g_autofree char *s = g_strdup_printf("sat/%d.png", i);
            const char *split = i < 2 ? "train" : "val";
            f->ground[i] = add_image(w, "ground", g, split, 48 + i * 0.01, 11);
            f->sat[i] = add_image(w, "satellite", s, split, 48 + i * 0.01, 11.001);
            g_assert_true(s4g_store_dataset_writer_pair(w, f->ground[i], f->sat[i], "positive",
                                                        split, NAN, NAN, NULL, &error));
        }
        /* a semi-positive after the positive: never preferred */
        g_assert_true(s4g_store_dataset_writer_pair(w, f->ground[0], f->sat[1], "semi-positive",
                                                    "train", NAN, NAN, NULL, &error));
    }
    {
        g_autoptr(S4gStoreDatasetWriter) w =
            s4g_store_dataset_writer_new(f->store, f->other, &error);
        f->foreign = add_image(w, "ground", "p.jpg", "test", 47.5, 9.5);
        add_image(w, "ground", "unlocated.jpg", "test", NAN, NAN);
    }
    g_assert_true(s4g_store_commit(f->store, &error));
    f->model =
        s4g_store_model_add(f->store, "m", "{\"preset\": \"atto\"}", "models/m.st", 0, &error);
    g_assert_no_error(error);
    f->run = s4g_store_run_add(f->store, f->model, f->ds, "{}", &error);
    g_assert_no_error(error);
}

static void teardown(Fixture *f, gconstpointer data)
{
    s4g_store_close(f->store);
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", f->dir);
    g_assert_true(g_spawn_command_line_sync(rm, NULL, NULL, NULL, NULL));
    g_free(f->dir);
}

static void test_images(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) splits = s4g_store_dataset_pair_splits(f->store, f->ds, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(g_strv_length(splits), ==, 2);
    g_assert_cmpstr(splits[0], ==, "train");
    g_assert_cmpstr(splits[1], ==, "val");
    g_auto(GStrv) names = s4g_store_dataset_names(f->store, &error);
    g_assert_cmpstr(names[0], ==, "another");
    g_assert_cmpstr(names[1], ==, "world");
    g_assert_null(names[2]);
    g_auto(GStrv) gsplits = s4g_store_ground_splits(f->store, &error);
    g_assert_cmpuint(g_strv_length(gsplits), ==, 3); /* test, train, val */
    g_assert_cmpstr(gsplits[0], ==, "test");

    S4gStoreImage im = {0};
    g_assert_true(s4g_store_image_find(f->store, f->ds, "ground/2.jpg", &im, &error));
    g_assert_cmpint(im.id, ==, f->ground[2]);
    g_assert_cmpfloat_with_epsilon(im.lat, 48.02, 1e-9);
    s4g_store_image_clear(&im);
    g_assert_false(s4g_store_image_find(f->store, f->other, "ground/2.jpg", &im, &error));
    g_assert_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_NOT_FOUND);
    g_clear_error(&error);
    /* by file: only located ground photos */
    g_assert_true(
        s4g_store_image_find_located_ground(f->store, "/data/another/p.jpg", &im, &error));
    g_assert_cmpint(im.id, ==, f->foreign);
    s4g_store_image_clear(&im);
    g_assert_false(
        s4g_store_image_find_located_ground(f->store, "/data/another/unlocated.jpg", &im, NULL));
    g_assert_false(
        s4g_store_image_find_located_ground(f->store, "/data/world/sat/0.png", &im, NULL));

    /* browsing: every ground photo with its file resolved and its open flag */
    g_assert_true(s4g_store_annotation_add(f->store, f->ground[1], S4G_ANNOTATION_BAD_PAIR, FALSE,
                                           NAN, NAN, "", &error) > 0);
    g_autoptr(GArray) photos = s4g_store_photos_list(f->store, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(photos->len, ==, 6);
    S4gStorePhoto *p1 = &g_array_index(photos, S4gStorePhoto, 1);
    g_assert_cmpint(p1->id, ==, f->ground[1]);
    g_assert_cmpstr(p1->file, ==, "/data/world/ground/1.jpg");
    g_assert_cmpstr(p1->dataset, ==, "world");
    g_assert_cmpstr(p1->split, ==, "train");
    g_assert_true(p1->flagged);
    g_assert_false(g_array_index(photos, S4gStorePhoto, 0).flagged);
    g_assert_true(isnan(g_array_index(photos, S4gStorePhoto, 5).lat));

    /* pairs: the positive tile first; the partner either way */
    S4gStoreHit hit = {0};
    g_assert_true(s4g_store_pair_tile(f->store, f->ground[0], &hit, &error));
    g_assert_cmpint(hit.image, ==, f->sat[0]);
    g_assert_cmpstr(hit.file, ==, "/data/world/sat/0.png");
    g_assert_true(isnan(hit.score));
    s4g_store_hit_clear(&hit);
    g_assert_false(s4g_store_pair_tile(f->store, f->foreign, &hit, &error));
    g_assert_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_NOT_FOUND);
    g_clear_error(&error);
    g_assert_cmpint(s4g_store_pair_partner(f->store, f->ground[3], NULL), ==, f->sat[3]);
    g_assert_cmpint(s4g_store_pair_partner(f->store, f->sat[3], NULL), ==, f->ground[3]);
    g_assert_cmpint(s4g_store_pair_partner(f->store, f->foreign, NULL), ==, 0);
}

static void test_runs(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    gint64 bare = s4g_store_run_add(f->store, 0, 0, "{}", &error);
    g_assert_true(s4g_store_run_set_state(f->store, f->run, S4G_RUN_RUNNING, 42, NULL, &error));
    S4gMetricRow rows[3] = {{1, 0.5, 2.0}, {2, 1.0, 1.5}, {3, 1.5, 1.2}};
    g_assert_true(s4g_store_metrics_add(f->store, f->run, rows, 3, &error));
    const double r1s[] = {0.2, NAN, 0.6};
    for (int e = 0; e < 3; e++) {
        S4gEvaluationRow ev = {.model = f->model,
                               .run = f->run,
                               .dataset = f->ds,
                               .split = "val",
                               .epoch = 2 - e,
                               .r1 = r1s[e],
                               .r5 = 0.9,
                               .r10 = NAN,
                               .r1pct = NAN,
                               .hit_rate = NAN,
                               .ap = NAN};
        g_assert_cmpint(s4g_store_evaluation_add(f->store, &ev, &error), >, 0);
    }
    g_autoptr(GArray) sums = s4g_store_run_summaries(f->store, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(sums->len, ==, 2);
    S4gRunSummary *newest = &g_array_index(sums, S4gRunSummary, 0);
    S4gRunSummary *s = &g_array_index(sums, S4gRunSummary, 1);
    g_assert_cmpint(newest->id, ==, bare);
    g_assert_cmpstr(newest->dataset, ==, "");
    g_assert_cmpstr(newest->model, ==, "");
    g_assert_true(isnan(newest->best_r1));
    g_assert_cmpint(s->id, ==, f->run);
    g_assert_cmpstr(s->dataset, ==, "world");
    g_assert_cmpstr(s->model, ==, "m");
    g_assert_cmpstr(s->architecture, ==, "{\"preset\": \"atto\"}");
    g_assert_cmpint(s->state, ==, S4G_RUN_RUNNING);
    g_assert_nonnull(s->started);
    g_assert_cmpfloat_with_epsilon(s->best_r1, 0.6, 1e-12);
    g_assert_cmpuint(s->n_metrics, ==, 3);
    g_assert_cmpuint(s->n_evals, ==, 3);

    /* the curve: only evaluations with R@1, by epoch */
    g_autoptr(GPtrArray) curve = s4g_store_evaluation_list_run(f->store, f->run, &error);
    g_assert_cmpuint(curve->len, ==, 2);
    g_assert_cmpint(((S4gEvaluationRow *)curve->pdata[0])->epoch, ==, 0);
    g_assert_cmpfloat_with_epsilon(((S4gEvaluationRow *)curve->pdata[0])->r1, 0.6, 1e-12);
    g_assert_cmpint(((S4gEvaluationRow *)curve->pdata[1])->epoch, ==, 2);
    g_assert_true(isnan(((S4gEvaluationRow *)curve->pdata[1])->r10));
}

static void test_embeddings_and_mining(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    float vecs[2 * 4] = {1, 0, 0, 0, 0, 1, 0, 0};
    gint64 ids[2] = {f->sat[0], f->sat[2]};
    g_assert_true(
        s4g_store_embeddings_put(f->store, f->model, 2, ids, 4, vecs, S4G_EMB_F32, TRUE, &error));
    g_autoptr(GHashTable) have = s4g_store_embedding_ids(f->store, f->model, &error);
    g_assert_cmpuint(g_hash_table_size(have), ==, 2);
    g_assert_true(g_hash_table_contains(have, &f->sat[2]));
    g_assert_false(g_hash_table_contains(have, &f->sat[1]));

    /* none yet: an empty table */
    g_autoptr(GArray) none = s4g_store_mining_latest_of_run(f->store, f->run, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(none->len, ==, 0);
    /* an older GPS run and a newer DSS run: the newer one is in force */
    gint64 anchors[2] = {f->ground[1], f->ground[0]};
    guint counts[2] = {2, 1};
    gint64 negs_gps[4] = {f->sat[2], f->sat[3], f->sat[1], 0};
    float sc[4] = {10, 20, 30, 0};
    gint64 gps = s4g_store_mining_add(f->store, "gps", 0, f->run, f->ds, 0, "{}", 2, anchors, 2,
                                      counts, negs_gps, sc, &error);
    gint64 negs_dss[4] = {f->sat[3], f->sat[0], f->sat[2], 0};
    float sim[4] = {0.9f, 0.8f, 0.7f, 0};
    gint64 dss = s4g_store_mining_add(f->store, "dss", f->model, f->run, f->ds, 3, "{}", 2, anchors,
                                      2, counts, negs_dss, sim, &error);
    g_assert_no_error(error);
    g_autoptr(GArray) table = s4g_store_mining_latest_of_run(f->store, f->run, &error);
    g_assert_cmpuint(table->len, ==, 3);
    /* by anchor (ground[0] < ground[1]) then rank */
    S4gHardNegative *h = (S4gHardNegative *)table->data;
    g_assert_cmpint(h[0].anchor, ==, f->ground[0]);
    g_assert_cmpint(h[0].negative, ==, f->sat[2]);
    g_assert_cmpint(h[1].anchor, ==, f->ground[1]);
    g_assert_cmpint(h[1].negative, ==, f->sat[3]);
    g_assert_cmpint(h[2].negative, ==, f->sat[0]);

    g_autoptr(GPtrArray) list = s4g_store_mining_list(f->store, &error);
    g_assert_cmpuint(list->len, ==, 2);
    S4gMiningRunRow *r0 = list->pdata[0], *r1 = list->pdata[1];
    g_assert_cmpint(r0->id, ==, gps);
    g_assert_cmpstr(r0->kind, ==, "gps");
    g_assert_cmpstr(r0->model, ==, "");
    g_assert_cmpint(r1->id, ==, dss);
    g_assert_cmpstr(r1->model, ==, "m");
    g_assert_cmpint(r1->epoch, ==, 3);
    g_autofree char *kind = s4g_store_mining_kind(f->store, dss, &error);
    g_assert_cmpstr(kind, ==, "dss");
    g_assert_null(s4g_store_mining_kind(f->store, dss + 100, &error));
    g_assert_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_NOT_FOUND);
    g_clear_error(&error);

    g_autoptr(GArray) an = s4g_store_mining_anchors(f->store, gps, &error);
    g_assert_cmpuint(an->len, ==, 2);
    g_assert_cmpint(g_array_index(an, gint64, 0), ==, f->ground[0]);
    g_autoptr(GArray) hits = s4g_store_mining_negatives(f->store, gps, f->ground[1], &error);
    g_assert_cmpuint(hits->len, ==, 2);
    S4gStoreHit *hh = (S4gStoreHit *)hits->data;
    g_assert_cmpint(hh[0].rank, ==, 0);
    g_assert_cmpint(hh[0].image, ==, f->sat[2]);
    g_assert_cmpstr(hh[0].file, ==, "/data/world/sat/2.png");
    g_assert_cmpfloat(hh[0].score, ==, 10);
    g_assert_cmpfloat(hh[1].score, ==, 20);
}

static void test_predictions(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) error = NULL;
    /* ground[2]: two galleries; the first by name (a) is the one shown */
    S4gPredictionRow a[2] = {{f->sat[2], 0.9, 48.02, 11.001}, {f->sat[3], 0.5, 48.03, 11.001}};
    S4gPredictionRow b[1] = {{f->sat[0], 0.7, 48.0, 11.001}};
    S4gPredictionRow c[2] = {{f->sat[1], 0.4, NAN, NAN}, {f->sat[0], 0.3, 48.0, 11.001}};
    g_assert_true(s4g_store_predictions_put(f->store, f->model, f->ground[2], "a/*", a, 2, &error));
    g_assert_true(s4g_store_predictions_put(f->store, f->model, f->ground[2], "b/*", b, 1, &error));
    g_assert_true(s4g_store_predictions_put(f->store, f->model, f->foreign, "b/*", c, 2, &error));
    g_assert_no_error(error);

    g_autoptr(GArray) best = s4g_store_predictions_best(f->store, f->model, &error);
    g_assert_no_error(error);
    /* ground[2] from gallery a; foreign's rank 0 has no location, so it has no estimate */
    g_assert_cmpuint(best->len, ==, 1);
    S4gPredictionBest *pb = (S4gPredictionBest *)best->data;
    g_assert_cmpint(pb->image, ==, f->ground[2]);
    g_assert_cmpfloat_with_epsilon(pb->lat, 48.02, 1e-12);

    g_autoptr(GArray) hits =
        s4g_store_predictions_hits(f->store, f->model, f->ground[2], 5, &error);
    g_assert_cmpuint(hits->len, ==, 2);
    g_assert_cmpint(g_array_index(hits, S4gStoreHit, 1).image, ==, f->sat[3]);
    g_assert_cmpstr(g_array_index(hits, S4gStoreHit, 1).file, ==, "/data/world/sat/3.png");
    g_autoptr(GArray) one = s4g_store_predictions_hits(f->store, f->model, f->foreign, 1, &error);
    g_assert_cmpuint(one->len, ==, 1);
    /* a row without a location takes its reference's */
    g_assert_cmpfloat_with_epsilon(g_array_index(one, S4gStoreHit, 0).lat, 48.01, 1e-12);

    g_autoptr(GArray) rows = s4g_store_predictions_export(f->store, f->model, &error);
    g_assert_cmpuint(rows->len, ==, 5);
    S4gPredictionExport *e = (S4gPredictionExport *)rows->data;
    /* by image (ground[2] < foreign), gallery, rank */
    g_assert_cmpint(e[0].image, ==, f->ground[2]);
    g_assert_cmpstr(e[0].gallery, ==, "a/*");
    g_assert_cmpstr(e[0].file, ==, "/data/world/ground/2.jpg");
    g_assert_cmpstr(e[0].reference_file, ==, "/data/world/sat/2.png");
    g_assert_cmpfloat_with_epsilon(e[0].true_lat, 48.02, 1e-12);
    g_assert_cmpfloat(e[1].score, ==, 0.5);
    g_assert_cmpstr(e[2].gallery, ==, "b/*");
    g_assert_cmpint(e[3].image, ==, f->foreign);
    g_assert_true(isnan(e[3].lat));
    g_assert_cmpfloat_with_epsilon(e[3].true_lat, 47.5, 1e-12);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/store/queries/images", Fixture, NULL, setup, test_images, teardown);
    g_test_add("/store/queries/runs", Fixture, NULL, setup, test_runs, teardown);
    g_test_add("/store/queries/embeddings-and-mining", Fixture, NULL, setup,
               test_embeddings_and_mining, teardown);
    g_test_add("/store/queries/predictions", Fixture, NULL, setup, test_predictions, teardown);
    return g_test_run();
}
