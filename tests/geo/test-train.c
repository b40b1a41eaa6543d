/* test-train.c — a tiny end-to-end training run on a synthetic CVUSA world: the run, model,
 * metrics, evaluation and mining rows it records, its checkpoints, and a stop after step 5
 * followed by --resume ending byte-identical to the uninterrupted run. */
#include "s4g-dataset.h"
#include "s4g-store-private.h"
#include "s4g-store-runs.h"
#include "s4g-synth.h"
#include "s4g-train.h"
#include "train-fixture.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    volatile gint *stop;
    gint64 stop_at;
    guint steps, evals;
    double last_r1, chance;
} Watch;

static void on_event(const S4gTrainEvent *ev, gpointer data)
{
    Watch *w = data;
    if (ev->kind == S4G_TRAIN_EVENT_STEP) {
        w->steps++;
        g_assert_true(ev->loss > 0 && ev->loss < 20);
        if (w->stop && ev->step == w->stop_at) g_atomic_int_set(w->stop, 1);
    } else if (ev->kind == S4G_TRAIN_EVENT_EVAL) {
        w->evals++;
        w->last_r1 = ev->metrics.r1;
        w->chance = ev->chance_r1;
    }
}

static gint64 count(S4gStore *s, const char *sql)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(s, sql, NULL);
    g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
    return sqlite3_column_int64(st, 0);
}

static S4gTrainOptions options(gint64 dataset, const char *name)
{
    return tf_train_options(dataset, name, 96, 2, 8, 16);
}

/* Writes an atto model with timm's init from `seed` to path (the --init file of a test). */
static void write_init(const char *path, guint64 seed)
{
    s4g_err err = {0};
    s4g_ctx_opts co = {.backend = S4G_BACKEND_CPU, .threads = 1};
    s4g_ctx *ctx = s4g_ctx_new(&co, &err);
    g_assert_nonnull(ctx);
    s4g_convnext_cfg cfg;
    g_assert_cmpint(s4g_convnext_preset("atto", &cfg, &err), ==, 0);
    s4g_convnext *m = s4g_convnext_new(ctx, &cfg, seed, &err);
    g_assert_nonnull(m);
    g_assert_cmpint(s4g_convnext_save(m, path, NULL, &err), ==, 0);
    s4g_convnext_free(m);
    s4g_ctx_free(ctx);
}

static void assert_same_file(const char *a, const char *b)
{
    g_autofree char *ca = NULL, *cb = NULL;
    gsize la = 0, lb = 0;
    g_assert_true(g_file_get_contents(a, &ca, &la, NULL));
    g_assert_true(g_file_get_contents(b, &cb, &lb, NULL));
    g_assert_cmpmem(ca, la, cb, lb);
}

/* The options that resume run `run` (its stored config supplies the rest). */
static S4gTrainOptions resume_options(gint64 run)
{
    S4gTrainOptions o;
    s4g_train_options_init(&o);
    o.resume_run = run;
    o.backend = S4G_BACKEND_CPU;
    o.threads = 2;
    o.eval_batch = 16;
    return o;
}

static void test_train_tiny(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *tmp = NULL;
    gint64 dsid = 0;
    g_autoptr(S4gStore) store =
        tf_world(S4G_SYNTH_CVUSA, S4G_DATASET_CVUSA, 3, 40, 0.5, "w", &tmp, &dsid);
    g_autofree char *proj = g_build_filename(tmp, "project", NULL);

    /* A: uninterrupted */
    S4gTrainOptions a = options(dsid, "a");
    Watch wa = {0};
    gint64 run_a = 0;
    g_assert_true(s4g_train_run(store, &a, NULL, on_event, &wa, &run_a, &error));
    g_assert_no_error(error);
    g_autoptr(S4gRunRow) ra = s4g_store_run_get(store, run_a, &error);
    g_assert_cmpint(ra->state, ==, S4G_RUN_DONE);
    guint steps = wa.steps;
    g_assert_cmpuint(steps, >=, 2 * 3); /* 32 pairs / 8: 3 or 4 full batches per epoch */
    g_autofree char *q1 =
        g_strdup_printf("SELECT count(*) FROM metrics WHERE run = %" G_GINT64_FORMAT, run_a);
    g_assert_cmpint(count(store, q1), ==, steps);
    g_assert_cmpuint(wa.evals, ==, 2);
    g_autofree char *q2 =
        g_strdup_printf("SELECT count(*) FROM evaluations WHERE run = %" G_GINT64_FORMAT, run_a);
    g_assert_cmpint(count(store, q2), ==, 2);
    /* GPS before epoch 1, DSS after epoch 1 (the DSS after the last epoch would be unused) */
    g_autofree char *q3 =
        g_strdup_printf("SELECT count(*) FROM mining_runs WHERE run = %" G_GINT64_FORMAT
                        " AND kind IN ('gps','dss')",
                        run_a);
    g_assert_cmpint(count(store, q3), ==, 2);
    g_assert_cmpint(count(store, "SELECT count(*) FROM hard_negatives"), >, 32 * 10);
    g_autoptr(S4gModelRow) ma = s4g_store_model_get(store, 0, "a", &error);
    g_assert_cmpstr(ma->weights, ==, "models/a-best.safetensors");
    g_autofree char *best = g_build_filename(proj, "models", "a-best.safetensors", NULL);
    g_autofree char *last_a = g_build_filename(proj, "models", "a-last.safetensors", NULL);
    g_assert_true(g_file_test(best, G_FILE_TEST_IS_REGULAR));
    g_assert_true(g_file_test(last_a, G_FILE_TEST_IS_REGULAR));
    g_assert_true(wa.chance > 0);
    g_test_message("tiny run: %u steps, val R@1 %.2f %% (chance %.2f %%)", steps, wa.last_r1,
                   wa.chance);

    /* B: the same run stopped after step 5 (epoch 2, DSS neighbours), then resumed */
    S4gTrainOptions b = options(dsid, "b");
    volatile gint stop = 0;
    Watch wb = {.stop = &stop, .stop_at = 5}; /* in epoch 2: after the DSS mining */
    gint64 run_b = 0;
    g_assert_true(s4g_train_run(store, &b, &stop, on_event, &wb, &run_b, &error));
    g_autoptr(S4gRunRow) rb = s4g_store_run_get(store, run_b, &error);
    g_assert_cmpint(rb->state, ==, S4G_RUN_STOPPED);
    g_assert_cmpuint(wb.steps, ==, 5);
    S4gTrainOptions resume = resume_options(run_b);
    Watch wc = {0};
    g_assert_true(s4g_train_run(store, &resume, NULL, on_event, &wc, NULL, &error));
    g_assert_no_error(error);
    g_autoptr(S4gRunRow) rc = s4g_store_run_get(store, run_b, &error);
    g_assert_cmpint(rc->state, ==, S4G_RUN_DONE);
    g_assert_cmpuint(wb.steps + wc.steps, ==, steps);
    g_assert_cmpfloat(wc.last_r1, ==, wa.last_r1);
    /* bit-for-bit: the last checkpoints (weights, moments, step, position) are identical */
    g_autofree char *last_b = g_build_filename(proj, "models", "b-last.safetensors", NULL);
    assert_same_file(last_a, last_b);
    /* a finished run does not resume */
    g_assert_false(s4g_train_run(store, &resume, NULL, NULL, NULL, NULL, &error));
    g_assert_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID);
    g_clear_error(&error);

    /* the device travels in the options to the engine (nothing through the environment):
     * one that no Vulkan driver has fails the run, named */
    S4gTrainOptions d = options(dsid, "d");
    d.backend = S4G_BACKEND_AUTO;
    d.device = "nosuchdevice";
    g_assert_false(s4g_train_run(store, &d, NULL, NULL, NULL, NULL, &error));
    g_assert_nonnull(error);
    if (!strstr(error->message, "\"nosuchdevice\""))
        g_error("expected the device named in: %s", error->message);
}

/* A VIGOR split from the store: each test panorama has its positive and 3 semi-positives;
 * with embeddings that put every query on its positive, R@1 and the hit rate are 100 %, and
 * moving a query onto a semi-positive keeps the hit but loses R@1. */
static void test_vigor_split(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *tmp = NULL;
    gint64 dsid = 0;
    g_autoptr(S4gStore) store =
        tf_world(S4G_SYNTH_VIGOR, S4G_DATASET_VIGOR, 2, 16, 0.25, "v", &tmp, &dsid);
    g_autoptr(S4gSplit) sp = s4g_split_load(store, dsid, "same-test", &error);
    g_assert_no_error(error);
    g_assert_cmpuint(sp->n_queries, >, 0);
    g_assert_cmpuint(sp->semi_start[sp->n_queries], ==, 3 * sp->n_queries);
    for (guint q = 0; q < sp->n_queries; q++)
        for (guint j = sp->semi_start[q]; j < sp->semi_start[q + 1]; j++)
            g_assert_cmpuint(sp->semi[j], !=, sp->query_pos[q]);
    /* one-hot embeddings: reference r = e_r; query q = its positive's */
    guint dim = sp->n_refs;
    g_autofree float *refs = g_new0(float, (gsize)dim * sp->n_refs);
    g_autofree float *qs = g_new0(float, (gsize)dim * sp->n_queries);
    for (guint r = 0; r < sp->n_refs; r++)
        refs[(gsize)r * dim + r] = 1;
    for (guint q = 0; q < sp->n_queries; q++)
        qs[(gsize)q * dim + sp->query_pos[q]] = 1;
    s4g_ctx_opts co = {.backend = S4G_BACKEND_CPU, .threads = 2};
    s4g_err err = {0};
    s4g_ctx *ctx = s4g_ctx_new(&co, &err);
    S4gRetrievalMetrics m;
    g_assert_true(s4g_evaluate_embeddings(ctx, sp, qs, refs, (int)dim, &m, &error));
    g_assert_cmpfloat(m.r1, ==, 100.0);
    g_assert_cmpfloat(m.hit_rate, ==, 100.0);
    /* query 0 now prefers its first semi-positive (0.8) over its positive (0.6) */
    qs[sp->query_pos[0]] = 0.6f;
    qs[sp->semi[sp->semi_start[0]]] = 0.8f;
    g_assert_true(s4g_evaluate_embeddings(ctx, sp, qs, refs, (int)dim, &m, &error));
    g_assert_cmpfloat_with_epsilon(m.r1, 100.0 * (sp->n_queries - 1) / sp->n_queries, 1e-9);
    g_assert_cmpfloat(m.hit_rate, ==, 100.0);
    s4g_ctx_free(ctx);
}

/* The stored model spec: arrays width first; rows written before "size_order" existed read
 * the same; "hw" swaps; anything else is an error naming the key. */
static void test_spec_size_order(void)
{
    S4gModelSpec a = {.ground = {.h = 32, .w = 128}, .satellite = {.h = 48, .w = 64}};
    g_assert_cmpint(s4g_convnext_preset("atto", &a.cfg, NULL), ==, 0);
    g_autofree char *js = s4g_model_spec_to_json(&a);
    g_autoptr(JsonParser) jp = json_parser_new();
    g_assert_true(json_parser_load_from_data(jp, js, -1, NULL));
    JsonObject *jo = json_node_get_object(json_parser_get_root(jp));
    JsonArray *jg = json_object_get_array_member(jo, "ground"),
              *jsat = json_object_get_array_member(jo, "satellite");
    g_assert_cmpint(json_array_get_int_element(jg, 0), ==, 128);
    g_assert_cmpint(json_array_get_int_element(jg, 1), ==, 32);
    g_assert_cmpint(json_array_get_int_element(jsat, 0), ==, 64);
    g_assert_cmpint(json_array_get_int_element(jsat, 1), ==, 48);
    g_assert_cmpstr(json_object_get_string_member(jo, "size_order"), ==, "wh");
    S4gModelSpec b = {0};
    g_autoptr(GError) error = NULL;
    g_assert_true(s4g_model_spec_from_json(js, &b, &error));
    g_assert_cmpint(b.ground.w, ==, 128);
    g_assert_cmpint(b.ground.h, ==, 32);
    g_assert_cmpint(b.satellite.w, ==, 64);
    g_assert_cmpint(b.satellite.h, ==, 48);
    const char *old = "{\"preset\":\"atto\",\"depths\":[2,2,6,2],\"dims\":[40,80,160,320],"
                      "\"ground\":[96,32],\"satellite\":[33,7]}";
    g_assert_true(s4g_model_spec_from_json(old, &b, &error));
    g_assert_cmpint(b.ground.w, ==, 96);
    g_assert_cmpint(b.ground.h, ==, 32);
    g_assert_cmpint(b.satellite.w, ==, 33);
    g_assert_cmpint(b.satellite.h, ==, 7);
    const char *hw = "{\"depths\":[2,2,6,2],\"dims\":[40,80,160,320],\"ground\":[32,96],"
                     "\"satellite\":[7,33],\"size_order\":\"hw\"}";
    g_assert_true(s4g_model_spec_from_json(hw, &b, &error));
    g_assert_cmpint(b.ground.w, ==, 96);
    g_assert_cmpint(b.ground.h, ==, 32);
    g_assert_cmpint(b.satellite.w, ==, 33);
    g_assert_cmpint(b.satellite.h, ==, 7);
    const char *bad = "{\"depths\":[2,2,6,2],\"dims\":[40,80,160,320],\"ground\":[32,96],"
                      "\"satellite\":[7,33],\"size_order\":\"xy\"}";
    g_assert_false(s4g_model_spec_from_json(bad, &b, &error));
    g_assert_nonnull(strstr(error->message, "size_order"));
}

/* A fine-tuning run (--init) restarted from scratch by --resume (no checkpoint yet) starts
 * from the weights its config records, refuses them when they changed or are gone, and ends
 * byte-identical to an uninterrupted run from the same weights. */
static void test_resume_init(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *tmp = NULL;
    gint64 dsid = 0;
    g_autoptr(S4gStore) store =
        tf_world(S4G_SYNTH_CVUSA, S4G_DATASET_CVUSA, 4, 40, 0.5, "w", &tmp, &dsid);
    g_autofree char *proj = g_build_filename(tmp, "project", NULL);
    g_autofree char *init = g_build_filename(tmp, "init.safetensors", NULL);
    write_init(init, 77);

    S4gTrainOptions a = options(dsid, "ref");
    a.init_weights = init;
    g_assert_true(s4g_train_run(store, &a, NULL, NULL, NULL, NULL, &error));
    g_assert_no_error(error);

    S4gTrainOptions b = options(dsid, "fine");
    b.init_weights = init;
    volatile gint stop = 0;
    Watch wb = {.stop = &stop, .stop_at = 1};
    gint64 run = 0;
    g_assert_true(s4g_train_run(store, &b, &stop, on_event, &wb, &run, &error));
    g_autoptr(S4gRunRow) row = s4g_store_run_get(store, run, &error);
    g_assert_cmpint(row->state, ==, S4G_RUN_STOPPED);
    /* the config names the file, its size and checksum */
    g_autoptr(JsonParser) jp = json_parser_new();
    g_assert_true(json_parser_load_from_data(jp, row->config, -1, NULL));
    JsonObject *cfg = json_node_get_object(json_parser_get_root(jp));
    g_autofree char *canon = g_canonicalize_filename(init, NULL);
    g_assert_cmpstr(json_object_get_string_member(cfg, "init_weights"), ==, canon);
    struct stat st;
    g_assert_cmpint(g_stat(init, &st), ==, 0);
    g_assert_cmpint(json_object_get_int_member(cfg, "init_bytes"), ==, st.st_size);
    g_assert_cmpuint(strlen(json_object_get_string_member(cfg, "init_sha256")), ==, 64);
    /* no checkpoint yet: the run starts over when resumed */
    g_autofree char *last = g_build_filename(proj, "models", "fine-last.safetensors", NULL);
    g_assert_cmpint(g_unlink(last), ==, 0);

    S4gTrainOptions resume = resume_options(run);
    /* the file changed since: refused, naming it */
    g_autofree char *saved = g_build_filename(tmp, "init-saved.safetensors", NULL);
    g_assert_cmpint(g_rename(init, saved), ==, 0);
    write_init(init, 78);
    g_assert_false(s4g_train_run(store, &resume, NULL, NULL, NULL, NULL, &error));
    g_assert_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "changed since"));
    g_assert_nonnull(strstr(error->message, canon));
    g_clear_error(&error);
    /* gone: refused, naming it */
    g_assert_cmpint(g_unlink(init), ==, 0);
    g_assert_false(s4g_train_run(store, &resume, NULL, NULL, NULL, NULL, &error));
    g_assert_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO);
    g_assert_nonnull(strstr(error->message, "cannot be read"));
    g_assert_nonnull(strstr(error->message, canon));
    g_clear_error(&error);
    /* back as it was: the run starts over from it and ends as the uninterrupted one */
    g_assert_cmpint(g_rename(saved, init), ==, 0);
    g_assert_true(s4g_train_run(store, &resume, NULL, NULL, NULL, NULL, &error));
    g_assert_no_error(error);
    g_autofree char *ref = g_build_filename(proj, "models", "ref-last.safetensors", NULL);
    assert_same_file(ref, last);
    g_autoptr(S4gRunRow) done = s4g_store_run_get(store, run, &error);
    g_assert_cmpint(done->state, ==, S4G_RUN_DONE);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/train/spec-size-order", test_spec_size_order);
    g_test_add_func("/train/tiny-world", test_train_tiny);
    g_test_add_func("/train/resume-init", test_resume_init);
    g_test_add_func("/train/vigor-split", test_vigor_split);
    return g_test_run();
}
