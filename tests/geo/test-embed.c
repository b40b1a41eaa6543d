/* test-embed.c — the embeddings cache (app/method/s4g-embed.h) across chunk boundaries: with
 * chunks of a few images (s4g_embed_cached_chunked; 5 images at encode batch 2 = chunks of 4)
 * the stored embeddings equal, byte for byte, those of each view encoded in one call (one
 * chunk); an image that fails in the second chunk leaves exactly the first chunk stored, and
 * a rerun encodes only the rest and ends with the same embeddings. */
#include "s4g-embed.h"
#include "s4g-store-embeddings.h"
#include "train-fixture.h"

#include <glib/gstdio.h>
#include <string.h>

typedef struct {
    guint calls, done, total;
    gboolean monotonic;
} Progress;

static void on_progress(guint done, guint total, gpointer user_data)
{
    Progress *p = user_data;
    if (p->calls && total == p->total && done < p->done) p->monotonic = FALSE;
    p->calls++, p->done = done, p->total = total;
}

static void test_embed_chunks(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *tmp = NULL;
    gint64 dsid = 0;
    g_autoptr(S4gStore) store =
        tf_world(S4G_SYNTH_CVUSA, S4G_DATASET_CVUSA, 3, 11, 0.5, "w", &tmp, &dsid);
    S4gTrainOptions o = tf_train_options(dsid, "e", 128, 1, 4, 8);
    s4g_ctx *ctx = NULL;
    S4gModelSpec spec;
    gint64 model_id = 0;
    s4g_convnext *m = tf_train_open(store, &o, &ctx, &spec, &model_id);
    S4gStoreDataset ds = {0};
    g_assert_true(s4g_store_dataset_get(store, dsid, &ds, &error));
    g_autoptr(GArray) images = s4g_store_images_list(store, dsid, NULL, NULL, &error);
    g_assert_no_error(error);
    const int batch = 2, dim = m->cfg.dims[3];

    /* the reference: each view's images encoded in one call, as one chunk encodes them */
    g_autoptr(GHashTable) ref = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
    g_autoptr(GArray) grounds = g_array_new(FALSE, FALSE, sizeof(guint));
    for (int sat = 0; sat < 2; sat++) {
        g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GArray) at = g_array_new(FALSE, FALSE, sizeof(guint));
        for (guint i = 0; i < images->len; i++) {
            const S4gStoreImage *im = &g_array_index(images, S4gStoreImage, i);
            if ((g_strcmp0(im->view, "satellite") == 0) != sat) continue;
            g_ptr_array_add(paths, g_build_filename(ds.root, im->path, NULL));
            g_array_append_val(at, i);
            if (!sat) g_array_append_val(grounds, i);
        }
        g_assert_cmpuint(at->len, >=, 9); /* three chunks of 4: full, full, partial */
        g_autofree float *v =
            s4g_encode_images(m, (char *const *)paths->pdata, paths->len,
                              sat ? spec.satellite : spec.ground, batch, NULL, NULL, &error);
        g_assert_no_error(error);
        for (guint k = 0; k < at->len; k++)
            g_hash_table_insert(ref, &g_array_index(images, S4gStoreImage,
                                                    g_array_index(at, guint, k)).id,
                                g_memdup2(v + (gsize)k * dim, sizeof(float) * dim));
    }

    /* the ground pass's 6th image (in its second chunk) cannot be read */
    const S4gStoreImage *bad = &g_array_index(images, S4gStoreImage, g_array_index(grounds, guint, 5));
    g_autofree char *bad_path = g_build_filename(ds.root, bad->path, NULL);
    g_autofree char *away = g_strconcat(bad_path, ".away", NULL);
    g_assert_cmpint(g_rename(bad_path, away), ==, 0);
    guint encoded = 99;
    g_assert_false(s4g_embed_cached_chunked(store, m, model_id, &spec, ds.root, images, batch, 5,
                                            NULL, NULL, &encoded, &error));
    g_assert_nonnull(error);
    g_test_message("second chunk failed: %s", error->message);
    g_autofree char *bad_name = g_path_get_basename(bad->path);
    g_assert_nonnull(strstr(error->message, bad_name));
    g_clear_error(&error);
    g_assert_cmpuint(encoded, ==, 4); /* 5 rounded down to two batches of 2 */
    {
        g_autoptr(GHashTable) have = s4g_store_embedding_ids(store, model_id, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(g_hash_table_size(have), ==, 4);
        for (guint k = 0; k < 4; k++)
            g_assert_true(g_hash_table_contains(
                have, &g_array_index(images, S4gStoreImage, g_array_index(grounds, guint, k)).id));
    }

    /* the rerun encodes only what is missing, in chunks, and ends with the reference */
    g_assert_cmpint(g_rename(away, bad_path), ==, 0);
    Progress p = {.monotonic = TRUE};
    g_assert_true(s4g_embed_cached_chunked(store, m, model_id, &spec, ds.root, images, batch, 5,
                                           on_progress, &p, &encoded, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(encoded, ==, images->len - 4);
    g_assert_true(p.monotonic);
    g_assert_cmpuint(p.done, ==, p.total); /* the last pass reported whole, not per chunk */
    g_assert_cmpuint(p.total, ==, images->len - grounds->len);
    for (guint i = 0; i < images->len; i++) {
        gint64 id = g_array_index(images, S4gStoreImage, i).id;
        int d = 0;
        g_autofree float *got = s4g_store_embedding_get(store, model_id, id, &d, &error);
        g_assert_no_error(error);
        g_assert_cmpint(d, ==, dim);
        g_assert_cmpmem(got, sizeof(float) * dim, g_hash_table_lookup(ref, &id),
                        sizeof(float) * dim);
    }
    /* everything cached: nothing encoded again */
    g_assert_true(s4g_embed_cached_chunked(store, m, model_id, &spec, ds.root, images, batch, 5,
                                           NULL, NULL, &encoded, &error));
    g_assert_cmpuint(encoded, ==, 0);

    s4g_store_dataset_clear(&ds);
    s4g_convnext_free(m);
    s4g_ctx_free(ctx);
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", tmp);
    g_assert_true(g_spawn_command_line_sync(rm, NULL, NULL, NULL, NULL));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/geo/embed-chunks", test_embed_chunks);
    return g_test_run();
}
