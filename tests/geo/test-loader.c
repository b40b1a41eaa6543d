/* test-loader.c — the threaded loader delivers every batch in order, equals the serial
 * pipeline, is independent of the thread count, and handles a corrupt image per its flag. */
#include "fixtures.h"
#include "s4g-loader.h"

#define NP 10

static char *root;
static char *gp[NP], *sp[NP];

static void setup_files(void)
{
    root = fx_tmpdir();
    for (int i = 0; i < NP; i++) {
        g_autofree char *g = g_strdup_printf("g%02d.png", i), *s = g_strdup_printf("s%02d.jpg", i);
        fx_image(root, g, 45, 11, i);
        fx_image(root, s, 21, 21, 50 + i);
        gp[i] = g_build_filename(root, g, NULL);
        sp[i] = g_build_filename(root, s, NULL);
    }
}

static S4gLoaderOptions opts(gboolean augment, int threads)
{
    S4gLoaderOptions o = {
        .ground = {.h = 7, .w = 32}, .satellite = {.h = 13, .w = 13},
        .batch_size = 3, .augment = augment, .mode = S4G_AUGMENT_PANORAMA,
        .ground_is_panorama = TRUE, .seed = 42, .threads = threads, .prefetch = 2,
    };
    return o;
}

static void test_all_batches(void)
{
    S4gLoaderOptions o = opts(FALSE, 2);
    g_autoptr(S4gLoader) l = s4g_loader_new(&o, (const char *const *)gp, (const char *const *)sp, NP);
    g_assert_cmpuint(s4g_loader_n_batches(l), ==, 4);
    g_autoptr(GError) e = NULL;
    guint seen = 0;
    float want_g[32 * 7 * 3], want_s[13 * 13 * 3];
    for (guint b = 0; b < 4; b++) {
        g_autoptr(S4gBatch) batch = s4g_loader_next(l, &e);
        g_assert_no_error(e);
        g_assert_nonnull(batch);
        g_assert_cmpuint(batch->index, ==, b);
        g_assert_cmpuint(batch->n, ==, b < 3 ? 3 : 1);
        for (guint i = 0; i < batch->n; i++) {
            guint p = batch->pairs[i];
            g_assert_cmpuint(p, ==, b * 3 + i);
            g_assert_true(s4g_image_load_tensor(gp[p], (S4gSize){.h = 7, .w = 32}, FALSE, want_g, &e));
            g_assert_true(s4g_image_load_tensor(sp[p], (S4gSize){.h = 13, .w = 13}, FALSE, want_s, &e));
            g_assert_cmpmem(batch->ground + i * 32 * 7 * 3, sizeof want_g, want_g, sizeof want_g);
            g_assert_cmpmem(batch->satellite + i * 13 * 13 * 3, sizeof want_s, want_s,
                            sizeof want_s);
            seen++;
        }
    }
    g_assert_cmpuint(seen, ==, NP);
    g_assert_null(s4g_loader_next(l, &e));
    g_assert_no_error(e);
}

/* Augmented batches are the same bytes whatever the number of threads. */
static void test_threads_same_bytes(void)
{
    GByteArray *out[2];
    int threads[2] = {1, 3};
    for (int t = 0; t < 2; t++) {
        S4gLoaderOptions o = opts(TRUE, threads[t]);
        o.nchw = TRUE;
        g_autoptr(S4gLoader) l =
            s4g_loader_new(&o, (const char *const *)gp, (const char *const *)sp, NP);
        out[t] = g_byte_array_new();
        S4gBatch *b;
        g_autoptr(GError) e = NULL;
        while ((b = s4g_loader_next(l, &e))) {
            g_byte_array_append(out[t], (guint8 *)b->ground, b->n * 32 * 7 * 3 * sizeof(float));
            g_byte_array_append(out[t], (guint8 *)b->satellite, b->n * 13 * 13 * 3 * sizeof(float));
            s4g_batch_free(b);
        }
        g_assert_no_error(e);
    }
    g_assert_cmpuint(out[0]->len, ==, NP * (32 * 7 + 13 * 13) * 3 * sizeof(float));
    g_assert_cmpmem(out[0]->data, out[0]->len, out[1]->data, out[1]->len);
    g_byte_array_unref(out[0]);
    g_byte_array_unref(out[1]);
}

static void test_corrupt(void)
{
    /* pair 4's satellite becomes garbage */
    g_autofree char *keep = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(sp[4], &keep, &len, NULL));
    g_assert_true(g_file_set_contents(sp[4], keep, (gssize)len / 3, NULL));
    {
        S4gLoaderOptions o = opts(FALSE, 2);
        g_autoptr(S4gLoader) l =
            s4g_loader_new(&o, (const char *const *)gp, (const char *const *)sp, NP);
        g_autoptr(GError) e = NULL;
        g_autoptr(S4gBatch) b0 = s4g_loader_next(l, &e);
        g_assert_nonnull(b0);
        g_autoptr(S4gBatch) b1 = s4g_loader_next(l, &e);
        g_assert_null(b1);
        fx_assert_error_mentions(e, "s04.jpg", NULL);
        g_test_message("without skip: %s", e->message);
    }
    {
        S4gLoaderOptions o = opts(TRUE, 2);
        o.skip_corrupt = TRUE;
        g_autoptr(S4gLoader) l =
            s4g_loader_new(&o, (const char *const *)gp, (const char *const *)sp, NP);
        g_autoptr(GError) e = NULL;
        guint total = 0, nb = 0;
        S4gBatch *b;
        while ((b = s4g_loader_next(l, &e))) {
            if (b->index == 1) {
                g_assert_cmpuint(b->n, ==, 2);
                g_assert_cmpuint(b->skipped, ==, 1);
                g_assert_cmpuint(b->pairs[0], ==, 3);
                g_assert_cmpuint(b->pairs[1], ==, 5);
            }
            total += b->n;
            nb++;
            s4g_batch_free(b);
        }
        g_assert_no_error(e);
        g_assert_cmpuint(nb, ==, 4);
        g_assert_cmpuint(total, ==, NP - 1);
        g_assert_cmpuint(s4g_loader_skipped(l), ==, 1);
        g_assert_nonnull(strstr(s4g_loader_first_skip(l), "s04.jpg"));
    }
    g_assert_true(g_file_set_contents(sp[4], keep, (gssize)len, NULL));
}

/* With a slow consumer the workers stay ahead: after the first batch, next() never waits. */
static void test_prefetch_ahead(void)
{
    S4gLoaderOptions o = opts(FALSE, 2);
    o.batch_size = 2;
    o.prefetch = 5;
    g_autoptr(S4gLoader) l = s4g_loader_new(&o, (const char *const *)gp, (const char *const *)sp, NP);
    g_autoptr(GError) e = NULL;
    S4gBatch *b = s4g_loader_next(l, &e);
    g_assert_nonnull(b);
    s4g_batch_free(b);
    /* "compute" long enough for every remaining batch (tiny images) to be decoded */
    g_usleep(1500 * 1000);
    double before = s4g_loader_wait_seconds(l);
    guint n = 1;
    while ((b = s4g_loader_next(l, &e))) {
        s4g_batch_free(b);
        n++;
    }
    g_assert_no_error(e);
    g_assert_cmpuint(n, ==, 5);
    g_test_message("waited %.4f s before, %.4f s after the pause", before,
                   s4g_loader_wait_seconds(l) - before);
    g_assert_cmpfloat(s4g_loader_wait_seconds(l) - before, ==, 0.0);
}

/* Freeing a loader halfway stops its workers cleanly. */
static void test_early_free(void)
{
    S4gLoaderOptions o = opts(TRUE, 2);
    S4gLoader *l = s4g_loader_new(&o, (const char *const *)gp, (const char *const *)sp, NP);
    g_autoptr(GError) e = NULL;
    S4gBatch *b = s4g_loader_next(l, &e);
    g_assert_nonnull(b);
    s4g_batch_free(b);
    s4g_loader_free(l);
}

int main(int argc, char **argv)
{
    fx_init(&argc, &argv);
    setup_files();
    g_test_add_func("/loader/all-batches", test_all_batches);
    g_test_add_func("/loader/threads-same-bytes", test_threads_same_bytes);
    g_test_add_func("/loader/corrupt", test_corrupt);
    g_test_add_func("/loader/prefetch-ahead", test_prefetch_ahead);
    g_test_add_func("/loader/early-free", test_early_free);
    int rc = g_test_run();
    fx_rmtree(root);
    for (int i = 0; i < NP; i++)
        g_free(gp[i]), g_free(sp[i]);
    g_free(root);
    return rc;
}
