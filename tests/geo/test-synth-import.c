/* test-synth-import.c — readers against tiny synthetic worlds from `s4g synth` (the same
 * layouts as the benchmarks): every image the generator wrote is imported, with its
 * coordinates, and a second import adds nothing.  Layouts the generator cannot write yet are
 * reported as skipped. */
#include "fixtures.h"
#include "s4g-dataset.h"
#include "s4g-store-datasets.h"
#include "s4g-synth.h"

#include <math.h>

static void run_layout(gconstpointer data)
{
    const char *name = data;
    S4gSynthOptions o;
    s4g_synth_options_init(&o);
    g_autoptr(GError) e = NULL;
    g_assert_true(s4g_synth_layout_parse(name, &o.layout, &e));
    g_autofree char *dir = fx_tmpdir(), *proj = fx_tmpdir();
    o.out_dir = dir;
    o.seed = 7;
    o.locations = 16;
    o.image_scale = 0.5;
    o.threads = 2;
    S4gSynthSummary sum = {0};
    if (!s4g_synth_run(&o, &sum, &e)) {
        if (strstr(e->message, "not written yet")) {
            g_test_skip(e->message);
            fx_rmtree(dir);
            fx_rmtree(proj);
            return;
        }
        g_error("synth %s: %s", name, e->message);
    }
    S4gDatasetKind kind;
    g_assert_true(s4g_dataset_kind_parse(name, &kind));
    g_autoptr(S4gDataset) ds = s4g_dataset_new(kind, dir, FALSE);
    g_assert_true(s4g_dataset_read(ds, &e));
    g_assert_no_error(e);
    g_autoptr(GHashTable) gpaths = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) spaths = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < ds->images->len; i++) {
        S4gDatasetImage *im = s4g_dataset_image(ds, i);
        GHashTable *t = im->view == S4G_VIEW_SATELLITE ? spaths : gpaths;
        g_hash_table_add(t, im->path);
        if (kind != S4G_DATASET_UNIVERSITY && kind != S4G_DATASET_CVACT &&
            im->view == S4G_VIEW_GROUND) {
            /* near the origin */
            g_assert_false(isnan(im->lat));
            g_assert_cmpfloat(fabs(im->lat - 48.137), <, 0.05);
            g_assert_cmpfloat(fabs(im->lon - 11.575), <, 0.05);
        }
    }
    /* distinct files: the generator's counts (a file may sit in several splits) */
    if (kind == S4G_DATASET_UNIVERSITY)
        g_assert_cmpuint(g_hash_table_size(gpaths), ==, (guint)sum.drone_images);
    else
        g_assert_cmpuint(g_hash_table_size(gpaths), ==, (guint)sum.ground_images);
    g_assert_cmpuint(g_hash_table_size(spaths), ==, (guint)sum.satellite_images);
    g_assert_cmpuint(ds->pairs->len, >=, g_hash_table_size(gpaths));
    g_autoptr(S4gStore) store = s4g_store_open(proj, TRUE, &e);
    guint ni, np, ni2, np2;
    g_assert_true(s4g_dataset_store(ds, store, name, NULL, &ni, &np, &e));
    g_assert_cmpuint(ni, ==, ds->images->len);
    g_assert_cmpuint(np, ==, ds->pairs->len);
    g_assert_true(s4g_dataset_store(ds, store, name, NULL, &ni2, &np2, &e));
    g_assert_cmpuint(ni2 + np2, ==, 0);
    g_test_message("%s: %u images, %u pairs (%d ground, %d satellite, %d drone files)", name,
                   ds->images->len, ds->pairs->len, sum.ground_images, sum.satellite_images,
                   sum.drone_images);
    fx_rmtree(dir);
    fx_rmtree(proj);
}

int main(int argc, char **argv)
{
    fx_init(&argc, &argv);
    g_test_add_data_func("/synth-import/cvusa", "cvusa", run_layout);
    g_test_add_data_func("/synth-import/cvact", "cvact", run_layout);
    g_test_add_data_func("/synth-import/vigor", "vigor", run_layout);
    g_test_add_data_func("/synth-import/university", "university", run_layout);
    return g_test_run();
}
