/* test-predict.c — the predictor (app/method/s4g-predict.h) on a tiny trained project: top-k
 * best first, the estimate and its error, predictions stored for the searched dataset's own
 * images (and, with store_located, for located ground photos of another dataset searched
 * over a gallery), none for a photo the project does not know, gallery embeddings cached for
 * the next predictor, progress by stage, and cancelling before and between photos. */
#include "s4g-predict.h"
#include "s4g-store-runs.h"
#include "train-fixture.h"

#include <math.h>
#include <string.h>

typedef struct {
    guint gallery, photos, last_done, last_total;
} Progress;

static void on_progress(const char *stage, guint done, guint total, gpointer user_data)
{
    Progress *p = user_data;
    if (!g_strcmp0(stage, "gallery")) p->gallery++;
    if (!g_strcmp0(stage, "photos")) p->photos++;
    p->last_done = done, p->last_total = total;
}

/* A dataset "g" (root: the world) holding w's satellite images only: a gallery. */
static void add_gallery(S4gStore *store, gint64 w)
{
    g_autoptr(GError) error = NULL;
    S4gStoreDataset ds = {0};
    g_assert_true(s4g_store_dataset_get(store, w, &ds, &error));
    gint64 g = 0;
    g_assert_true(s4g_store_dataset_upsert(store, "g", "photos", ds.root, "{}", &g, &error));
    g_autoptr(GArray) sats = s4g_store_images_list(store, w, NULL, "satellite", &error);
    g_autoptr(S4gStoreDatasetWriter) wr = s4g_store_dataset_writer_new(store, g, &error);
    for (guint i = 0; i < sats->len; i++) {
        gint64 id = 0;
        S4gStoreImage im = g_array_index(sats, S4gStoreImage, i);
        im.split = "gallery";
        g_assert_true(s4g_store_dataset_writer_image(wr, &im, &id, NULL, &error));
    }
    g_assert_no_error(error);
    s4g_store_dataset_clear(&ds);
}

static void test_predict(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *tmp = NULL;
    gint64 dsid = 0;
    g_autoptr(S4gStore) store =
        tf_world(S4G_SYNTH_CVUSA, S4G_DATASET_CVUSA, 3, 24, 0.5, "w", &tmp, &dsid);
    S4gTrainOptions o = tf_train_options(dsid, "p", 128, 1, 4, 8);
    s4g_ctx *ctx = NULL;
    S4gModelSpec spec;
    gint64 model_id = 0;
    s4g_convnext *m = tf_train_open(store, &o, &ctx, &spec, &model_id);
    add_gallery(store, dsid);

    /* photos: two ground images of w, and a copy of one outside the project */
    S4gStoreDataset ds = {0};
    g_assert_true(s4g_store_dataset_get(store, dsid, &ds, &error));
    g_autoptr(GArray) grounds = s4g_store_images_list(store, dsid, NULL, "ground", &error);
    g_autofree char *p0 =
        g_build_filename(ds.root, g_array_index(grounds, S4gStoreImage, 0).path, NULL);
    g_autofree char *p1 =
        g_build_filename(ds.root, g_array_index(grounds, S4gStoreImage, 1).path, NULL);
    g_autofree char *outside = g_build_filename(tmp, "outside.jpg", NULL);
    {
        g_autofree char *bytes = NULL;
        gsize len = 0;
        g_assert_true(g_file_get_contents(p0, &bytes, &len, &error));
        g_assert_true(g_file_set_contents(outside, bytes, (gssize)len, &error));
    }
    const char *photos[] = {p0, p1, outside};

    S4gPredictorOptions po = {.top = 3, .batch = 8, .refine_radius = 50};
    Progress pr = {0};
    g_autoptr(S4gPredictor) pred = s4g_predictor_new(store, "w", NULL, &error);
    g_assert_no_error(error);
    g_assert_true(s4g_predictor_set_model(pred, ctx, m, model_id, &spec, &po, NULL, on_progress,
                                          &pr, &error));
    g_assert_no_error(error);
    g_assert_false(s4g_predictor_cached(pred)); /* training cached no embeddings */
    g_assert_cmpuint(pr.gallery, >, 0);
    g_assert_cmpstr(s4g_predictor_gallery(pred), ==, "w/*");
    g_autoptr(GPtrArray) res =
        s4g_predictor_locate(pred, photos, 3, NULL, on_progress, &pr, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(res->len, ==, 3);
    g_assert_cmpuint(pr.photos, ==, 3);
    g_assert_cmpuint(pr.last_done, ==, 3);
    g_assert_cmpuint(pr.last_total, ==, 3);
    for (guint i = 0; i < 2; i++) {
        const S4gPrediction *r = res->pdata[i];
        g_assert_cmpstr(r->photo, ==, photos[i]);
        g_assert_cmpint(r->image, ==, g_array_index(grounds, S4gStoreImage, i).id);
        g_assert_true(r->stored);
        g_assert_cmpuint(r->k, ==, 3);
        g_assert_cmpfloat(r->top[0].score, >=, r->top[1].score);
        g_assert_cmpfloat(r->top[1].score, >=, r->top[2].score);
        g_assert_true(isfinite(r->lat) && isfinite(r->error_m) && r->error_m >= 0);
        g_assert_cmpfloat(r->confidence, >, 0);
        g_assert_cmpfloat(r->confidence, <=, 1);
        g_autoptr(GArray) rows =
            s4g_store_predictions_get(store, model_id, r->image, "w/*", &error);
        g_assert_cmpuint(rows->len, ==, 3);
        for (guint k = 0; k < 3; k++)
            g_assert_cmpint(g_array_index(rows, S4gPredictionRow, k).reference, ==,
                            r->top[k].image);
    }
    /* the copy: same tiles as the original, unknown to the project, nothing stored */
    const S4gPrediction *c = res->pdata[2], *r0 = res->pdata[0];
    g_assert_cmpint(c->image, ==, 0);
    g_assert_false(c->stored);
    g_assert_true(isnan(c->error_m));
    g_assert_cmpint(c->top[0].image, ==, r0->top[0].image);
    g_assert_cmpfloat(c->lat, ==, r0->lat);

    /* over the gallery: w's ground photos are located ground photos of another dataset */
    for (int store_located = 0; store_located < 2; store_located++) {
        po.store_located = store_located;
        g_autoptr(S4gPredictor) gp = s4g_predictor_new(store, "g", NULL, &error);
        g_assert_true(
            s4g_predictor_set_model(gp, ctx, m, model_id, &spec, &po, NULL, NULL, NULL, &error));
        /* the gallery's tiles are rows of their own: encoded once, then cached */
        g_assert_cmpint(s4g_predictor_cached(gp), ==, store_located);
        g_autoptr(GPtrArray) gr = s4g_predictor_locate(gp, photos, 1, NULL, NULL, NULL, &error);
        g_assert_no_error(error);
        const S4gPrediction *r = gr->pdata[0];
        g_assert_cmpint(r->image, ==, r0->image);
        g_assert_cmpfloat(r->error_m, >=, 0);
        g_assert_cmpint(r->stored, ==, store_located);
        g_autoptr(GArray) rows =
            s4g_store_predictions_get(store, model_id, r->image, "g/*", &error);
        g_assert_cmpuint(rows->len, ==, store_located ? 3 : 0);
    }

    /* the next predictor over w finds every tile in the cache */
    g_autoptr(S4gPredictor) again = s4g_predictor_new(store, "w", "val", &error);
    g_assert_true(
        s4g_predictor_set_model(again, ctx, m, model_id, &spec, &po, NULL, NULL, NULL, &error));
    g_assert_true(s4g_predictor_cached(again));
    g_assert_cmpstr(s4g_predictor_gallery(again), ==, "w/val");

    /* cancelled: before the gallery, and before the first photo */
    g_autoptr(GCancellable) cancel = g_cancellable_new();
    g_cancellable_cancel(cancel);
    g_autoptr(S4gPredictor) cp = s4g_predictor_new(store, "w", NULL, &error);
    g_assert_false(
        s4g_predictor_set_model(cp, ctx, m, model_id, &spec, &po, cancel, NULL, NULL, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error(&error);
    g_assert_null(s4g_predictor_locate(again, photos, 3, cancel, NULL, NULL, &error));
    g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error(&error);
    /* no model yet; no tiles; a bad top */
    g_assert_null(s4g_predictor_locate(cp, photos, 1, NULL, NULL, NULL, &error));
    g_assert_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_null(s4g_predictor_new(store, "w", "no-such-split", &error));
    g_assert_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "has no satellite images in split no-such-split"));
    g_clear_error(&error);
    po.top = 0;
    g_assert_false(
        s4g_predictor_set_model(cp, ctx, m, model_id, &spec, &po, NULL, NULL, NULL, &error));
    g_assert_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID);

    s4g_store_dataset_clear(&ds);
    /* the predictors' galleries live on ctx: free them first */
    g_clear_pointer(&pred, s4g_predictor_free);
    g_clear_pointer(&again, s4g_predictor_free);
    g_clear_pointer(&cp, s4g_predictor_free);
    s4g_convnext_free(m);
    s4g_ctx_free(ctx);
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", tmp);
    g_assert_true(g_spawn_command_line_sync(rm, NULL, NULL, NULL, NULL));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/geo/predict", test_predict);
    return g_test_run();
}
