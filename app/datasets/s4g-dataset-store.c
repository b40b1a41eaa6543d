/* s4g-dataset-store.c — a read dataset into the project database, atomically. */
#include "s4g-dataset.h"
#include "s4g-json-out.h"
#include "s4g-store-datasets.h"
#include "s4g-test-kill.h"

#include <math.h>

gboolean s4g_dataset_store(S4gDataset *ds, S4gStore *store, const char *name,
                           gint64 *dataset_id, guint *new_images, guint *new_pairs,
                           GError **error)
{
    g_autofree char *abs_root = g_canonicalize_filename(ds->root, NULL);
    g_autoptr(JsonBuilder) ob = json_builder_new();
    json_builder_begin_object(ob);
    s4g_json_add_bool(ob, "skip_missing", ds->skip_missing);
    s4g_json_add_int(ob, "missing", ds->missing);
    json_builder_end_object(ob);
    g_autofree char *options = s4g_json_to_string(ob);
    if (!s4g_store_begin(store, error))
        return FALSE;
    gint64 id = 0;
    guint ni = 0, np = 0;
    S4gStoreDatasetWriter *w = NULL;
    g_autofree gint64 *ids = g_new(gint64, ds->images->len ? ds->images->len : 1);
    /* Another kind or root under an existing name would make its earlier rows resolve
     * against the wrong root: refused (the user picks another --name), or with replace the old
     * dataset and everything hanging on its images is deleted first, in this transaction. */
    S4gStoreDataset have = {0};
    g_autoptr(GError) ferr = NULL;
    if (s4g_store_dataset_find(store, name, &have, &ferr)) {
        const char *kind = s4g_dataset_kind_name(ds->kind);
        gboolean same = !g_strcmp0(have.kind, kind) && !g_strcmp0(have.root, abs_root);
        gboolean ok = same || (ds->replace && s4g_store_dataset_delete(store, have.id, error));
        if (!ok && !same && !ds->replace)
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                        "dataset “%s” is already %s at %s; importing %s at %s under the same "
                        "name would mix the two (use another --name, or --replace to delete "
                        "the old one and what refers to its images)",
                        name, have.kind, have.root, kind, abs_root);
        s4g_store_dataset_clear(&have);
        if (!ok)
            goto fail;
    } else if (!g_error_matches(ferr, S4G_STORE_ERROR, S4G_STORE_ERROR_NOT_FOUND)) {
        g_propagate_error(error, g_steal_pointer(&ferr));
        goto fail;
    }
    if (!s4g_store_dataset_upsert(store, name, s4g_dataset_kind_name(ds->kind), abs_root,
                                  options, &id, error))
        goto fail;
    w = s4g_store_dataset_writer_new(store, id, error);
    if (!w)
        goto fail;
    for (guint i = 0; i < ds->images->len; i++) {
        S4gDatasetImage *im = s4g_dataset_image(ds, i);
        S4gStoreImage row = {
            .view = (char *)s4g_view_name(im->view),
            .path = im->path,
            .split = im->split,
            .identity = im->identity,
            .lat = im->lat,
            .lon = im->lon,
            .x = im->x,
            .y = im->y,
            .width = im->width,
            .height = im->height,
        };
        gboolean fresh = FALSE;
        if (!s4g_store_dataset_writer_image(w, &row, &ids[i], &fresh, error))
            goto fail;
        ni += fresh;
        s4g_test_kill_at("import-row");
        if (ds->on_store && (i % 256 == 0))
            ds->on_store(i, ds->images->len + ds->pairs->len, ds->progress_data);
    }
    for (guint i = 0; i < ds->pairs->len; i++) {
        S4gDatasetPair *p = &g_array_index(ds->pairs, S4gDatasetPair, i);
        gboolean fresh = FALSE;
        if (!s4g_store_dataset_writer_pair(w, ids[p->ground], ids[p->satellite],
                                           s4g_relation_name(p->relation), p->split, p->dx,
                                           p->dy, &fresh, error))
            goto fail;
        np += fresh;
        if (ds->on_store && (i % 256 == 0))
            ds->on_store(ds->images->len + i, ds->images->len + ds->pairs->len,
                         ds->progress_data);
    }
    g_clear_pointer(&w, s4g_store_dataset_writer_free);
    s4g_test_kill_at("import-commit");
    if (!s4g_store_commit(store, error))
        goto fail;
    if (dataset_id)
        *dataset_id = id;
    if (new_images)
        *new_images = ni;
    if (new_pairs)
        *new_pairs = np;
    return TRUE;
fail:
    s4g_store_dataset_writer_free(w);
    s4g_store_rollback(store);
    return FALSE;
}
