/* train-fixtures.h — what the training-level tests (test-train, test-flags) share: a tiny
 * synthetic world written, read and stored as one dataset of a fresh project, and small
 * training options on the CPU backend. */
#pragma once

#include "s4g-dataset.h"
#include "s4g-synth.h"
#include "s4g-train.h"

#include <glib.h>

/* Synthesises `locations` places of `layout` (seed, image_scale, 2 threads) into TMP/world,
 * reads it as `kind` and stores it as dataset `name` of the new project TMP/project, TMP a
 * new temporary folder (*tmp_out, g_free).  *dsid gets the dataset id. */
static inline S4gStore *fx_synth_project(S4gSynthLayout layout, S4gDatasetKind kind,
                                         guint64 seed, int locations, double image_scale,
                                         const char *name, char **tmp_out, gint64 *dsid)
{
    g_autoptr(GError) error = NULL;
    char *tmp = g_dir_make_tmp("s4g-train-XXXXXX", &error);
    g_assert_no_error(error);
    g_autofree char *world = g_build_filename(tmp, "world", NULL);
    g_autofree char *proj = g_build_filename(tmp, "project", NULL);
    S4gSynthOptions so;
    s4g_synth_options_init(&so);
    so.layout = layout;
    so.out_dir = world;
    so.seed = seed;
    so.locations = locations;
    so.image_scale = image_scale;
    so.threads = 2;
    S4gSynthSummary sum;
    g_assert_true(s4g_synth_run(&so, &sum, &error));
    g_assert_no_error(error);
    g_autoptr(S4gDataset) ds = s4g_dataset_new(kind, world, FALSE);
    g_assert_true(s4g_dataset_read(ds, &error));
    g_assert_no_error(error);
    S4gStore *store = s4g_store_open(proj, TRUE, &error);
    g_assert_no_error(error);
    g_assert_true(s4g_dataset_store(ds, store, name, dsid, NULL, NULL, &error));
    g_assert_no_error(error);
    *tmp_out = tmp;
    return store;
}

/* Options of a tiny run: ConvNeXt atto with ground input gh×gw and 32×32 satellites, batch 8,
 * evaluation every epoch, seed 5, neighbour select/range as given, CPU with 2 threads. */
static inline S4gTrainOptions fx_train_options(gint64 dataset, const char *name, int gh, int gw,
                                               guint epochs, guint select, guint range)
{
    S4gTrainOptions o;
    s4g_train_options_init(&o);
    s4g_err err = {0};
    g_assert_cmpint(s4g_convnext_preset("atto", &o.spec.cfg, &err), ==, 0);
    o.spec.ground_w = gw, o.spec.ground_h = gh, o.spec.sat_w = 32, o.spec.sat_h = 32;
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
