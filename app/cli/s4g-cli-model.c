/* s4g-cli-model.c — project + dataset + model opening for embed, mine and export. */
#include "s4g-cli-model.h"
#include "s4g-embed.h"

#include <stdio.h>

gboolean s4g_cli_model_open(const char *cmd, const S4gCliOptions *o, const char *dataset,
                            const char *model, S4gCliModel *out)
{
    memset(out, 0, sizeof *out);
    g_autoptr(GError) error = NULL;
    out->store = s4g_store_open(o->project, FALSE, &error);
    if (!out->store) return s4g_cli_fail(cmd, error), FALSE;
    if (dataset && !s4g_store_dataset_find(out->store, dataset, &out->ds, &error))
        return s4g_cli_fail(cmd, error), FALSE;
    if (!model) return TRUE;
    out->ctx = s4g_cli_make_ctx(cmd, o);
    if (!out->ctx) return FALSE;
    out->spec = s4g_model_spec_default();
    out->m = s4g_model_open(out->store, model, out->ctx, &out->spec, &out->model_id, &error);
    if (!out->m) return s4g_cli_fail(cmd, error), FALSE;
    if (!out->model_id) {
        fprintf(stderr,
                "s4g %s: %s: not a model of this project (embeddings and mining runs refer to "
                "a models row; import the weights by training or name one from `s4g info`)\n",
                cmd, model);
        return FALSE;
    }
    return TRUE;
}

void s4g_cli_model_close(S4gCliModel *cm)
{
    if (cm->m) s4g_convnext_free(cm->m);
    if (cm->ctx) s4g_ctx_free(cm->ctx);
    s4g_store_dataset_clear(&cm->ds);
    if (cm->store) s4g_store_close(cm->store);
    memset(cm, 0, sizeof *cm);
}

GArray *s4g_cli_model_images(const char *cmd, S4gCliModel *cm, const char *split,
                             const char *view)
{
    g_autoptr(GError) error = NULL;
    GArray *im = s4g_store_images_list(cm->store, cm->ds.id, split, view, &error);
    if (!im) {
        s4g_cli_fail(cmd, error);
        return NULL;
    }
    if (im->len == 0) {
        fprintf(stderr, "s4g %s: dataset %s has no images%s%s%s%s\n", cmd, cm->ds.name,
                split ? " in split " : "", split ? split : "", view ? " of view " : "",
                view ? view : "");
        g_array_unref(im);
        return NULL;
    }
    return im;
}

gboolean s4g_cli_model_embed(S4gCliModel *cm, const char *root, GArray *images, int batch,
                             gboolean quiet, guint *encoded, GError **error)
{
    S4gProgress *bar = s4g_progress_new("embed", images->len, !quiet);
    gboolean ok = s4g_embed_cached(cm->store, cm->m, cm->model_id, &cm->spec,
                                   root ? root : cm->ds.root, images, batch,
                                   s4g_progress_encode_cb, bar, encoded, error);
    s4g_progress_finish(bar);
    return ok;
}
