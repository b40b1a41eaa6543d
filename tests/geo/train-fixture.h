/* train-fixture.h — what the geo training tests (test-train, test-flags) share: a tiny
 * synthetic world written, read and stored into a new project in a fresh temporary folder,
 * and the options of a small atto training run on the CPU. */
#pragma once

#include "s4g-dataset.h"
#include "s4g-synth.h"
#include "s4g-train.h"

/* Synthesises `layout` (seed, locations, image scale; 2 render threads) into TMP/world, reads
 * it as `kind` and stores it as dataset `name` of the new project TMP/project.  *tmp_out gets
 * TMP (g_free), *dsid the dataset's id; the store is returned (s4g_store_close). */
static inline S4gStore *tf_world(S4gSynthLayout layout, S4gDatasetKind kind, guint64 seed,
                                 int locations, double scale, const char *name, char **tmp_out,
                                 gint64 *dsid)
{
    g_autoptr(GError) error = NULL;
    char *tmp = g_dir_make_tmp("s4g-geo-XXXXXX", &error);
    g_assert_no_error(error);
    g_autofree char *w = g_build_filename(tmp, "world", NULL);
    g_autofree char *proj = g_build_filename(tmp, "project", NULL);
    S4gSynthOptions so;
    s4g_synth_options_init(&so);
    so.layout = layout;
    so.out_dir = w;
    so.seed = seed;
    so.locations = locations;
    so.image_scale = scale;
    so.threads = 2;
    S4gSynthSummary sum;
    g_assert_true(s4g_synth_run(&so, &sum, &error));
    g_assert_no_error(error);
    g_autoptr(S4gDataset) ds = s4g_dataset_new(kind, w, FALSE);
    g_assert_true(s4g_dataset_read(ds, &error));
    g_assert_no_error(error);
    S4gStore *store = s4g_store_open(proj, TRUE, &error);
    g_assert_no_error(error);
    g_assert_true(s4g_dataset_store(ds, store, name, dsid, NULL, NULL, &error));
    g_assert_no_error(error);
    *tmp_out = tmp;
    return store;
}

/* A small run: atto, ground 32×ground_w (H×W), satellite 32×32, batch 8, eval every
 * epoch, seed 5, neighbours select/range, eval batch 16, CPU with 2 threads. */
static inline S4gTrainOptions tf_train_options(gint64 dataset, const char *name, int ground_w,
                                               guint epochs, guint select, guint range)
{
    S4gTrainOptions o;
    s4g_train_options_init(&o);
    s4g_err err = {0};
    g_assert_cmpint(s4g_convnext_preset("atto", &o.spec.cfg, &err), ==, 0);
    o.spec.ground = (S4gSize){.h = 32, .w = ground_w};
    o.spec.satellite = (S4gSize){.h = 32, .w = 32};
    o.dataset = dataset;
    o.model_name = name;
    o.epochs = epochs;
    o.batch_size = 8;
    o.eval_every = 1;
    o.seed = 5;
    o.sampler.neighbour_select = select;
    o.sampler.neighbour_range = range;
    o.eval_batch = 16;
    o.backend = S4G_BACKEND_CPU;
    o.threads = 2;
    return o;
}

/* Runs training `o` and opens the model it made on a CPU context of 2 threads: *ctx gets the
 * context (s4g_ctx_free after the model), *spec the model's spec, *model_id its row. */
static inline s4g_convnext *tf_train_open(S4gStore *store, S4gTrainOptions *o, s4g_ctx **ctx,
                                          S4gModelSpec *spec, gint64 *model_id)
{
    g_autoptr(GError) error = NULL;
    g_assert_true(s4g_train_run(store, o, NULL, NULL, NULL, NULL, &error));
    g_assert_no_error(error);
    s4g_ctx_opts co = {.backend = S4G_BACKEND_CPU, .threads = 2};
    s4g_err err = {0};
    *ctx = s4g_ctx_new(&co, &err);
    g_assert_nonnull(*ctx);
    *spec = o->spec;
    s4g_convnext *m = s4g_model_open(store, o->model_name, *ctx, spec, model_id, &error);
    g_assert_no_error(error);
    g_assert_cmpint(*model_id, >, 0);
    return m;
}
