/* test-synth-import.c — readers against tiny synthetic worlds from `s4g synth` (the same
 * layouts as the benchmarks): every image the generator wrote is imported, with its
 * coordinates, and a second import adds nothing.  Layouts the generator cannot write yet are
 * reported as skipped. */
#include "fixtures.h"
#include "s4g-dataset.h"
#include "s4g-store-datasets.h"
#include "s4g-synth.h"

#include <math.h>

static guint count_images(const char *root, const char *rel)
{
    g_autofree char *dir = g_build_filename(root, rel, NULL);
    GDir *d = g_dir_open(dir, 0, NULL);
    g_assert_nonnull(d);
    guint n = 0;
    const char *name;
    while ((name = g_dir_read_name(d))) {
        g_autofree char *r = *rel ? g_strdup_printf("%s/%s", rel, name) : g_strdup(name);
        g_autofree char *full = g_build_filename(root, r, NULL);
        if (g_file_test(full, G_FILE_TEST_IS_DIR)) {
            if (strcmp(r, "tiles") && strcmp(name, "annotations")) /* CVUSA annotations: unused */
                n += count_images(root, r);
        } else if (g_str_has_suffix(name, ".jpg") || g_str_has_suffix(name, ".png") ||
                   g_str_has_suffix(name, ".jpeg")) {
            n++;
        }
    }
    g_dir_close(d);
    return n;
}

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
    o.locations = 8;
    o.image_scale = 0.25;
    o.threads = 2;
    S4gSynthSummary sum = {0};
    if (!s4g_synth_run(&o, &sum, &e))
        g_error("synth %s: %s", name, e->message);
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
        if (kind == S4G_DATASET_CVUSA || kind == S4G_DATASET_VIGOR) {
            g_assert_false(isnan(im->lat));
            g_assert_false(isnan(im->lon));
        }
        if (kind == S4G_DATASET_CVUSA) { /* near the origin (VIGOR uses its four cities) */
            g_assert_cmpfloat(fabs(im->lat - 48.137), <, 0.05);
            g_assert_cmpfloat(fabs(im->lon - 11.575), <, 0.05);
        }
        if (kind == S4G_DATASET_CVACT && !strcmp(im->split, "train"))
            g_assert_false(isnan(im->x)); /* UTM from ACT_data.mat */
    }
    /* VIGOR: each positive tile lies within ~100 m of its panorama */
    for (guint i = 0; kind == S4G_DATASET_VIGOR && i < ds->pairs->len; i++) {
        S4gDatasetPair *p = &g_array_index(ds->pairs, S4gDatasetPair, i);
        S4gDatasetImage *g = s4g_dataset_image(ds, p->ground), *s = s4g_dataset_image(ds, p->satellite);
        double d = s4g_geo_haversine_m(g->lat, g->lon, s->lat, s->lon);
        g_assert_cmpfloat(d, <, p->relation == S4G_RELATION_POSITIVE ? 100 : 200);
        g_assert_false(isnan(p->dx));
    }
    /* every image file the generator wrote (outside the map tiles) is imported */
    guint on_disk = count_images(dir, "");
    g_assert_cmpuint(g_hash_table_size(gpaths) + g_hash_table_size(spaths), ==, on_disk);
    g_assert_cmpuint(g_hash_table_size(spaths), >=, (guint)MIN(sum.satellite_images, 1));
    if (kind != S4G_DATASET_UNIVERSITY) /* its S2D gallery has distractor drones */
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
