/* cmd-embed.c — s4g embed: encode a dataset's images (a split, a view) with one of the
 * project's models into the embeddings table; images already embedded are skipped. */
#include "s4g-cli-model.h"
#include "s4g-embed.h"

#include <stdio.h>

static void on_progress(guint done, guint total, gpointer user_data)
{
    (void)total;
    s4g_progress_update(user_data, done, NULL);
}

int s4g_cmd_embed(int argc, char **argv)
{
    g_autofree char *project = NULL, *dataset = NULL, *split = NULL, *view = NULL,
                    *model = NULL, *backend = NULL;
    int batch = 32;
    gboolean json = FALSE;
    g_autofree char *device_opt = NULL;
    GOptionEntry entries[] = {
        {"project", 'p', 0, G_OPTION_ARG_FILENAME, &project, "Project folder", "DIR"},
        {"dataset", 'd', 0, G_OPTION_ARG_STRING, &dataset, "Dataset name in the project", "NAME"},
        {"model", 'm', 0, G_OPTION_ARG_STRING, &model, "Model name in the project", "MODEL"},
        {"split", 's', 0, G_OPTION_ARG_STRING, &split, "Only this split (default all)", "S"},
        {"view", 0, 0, G_OPTION_ARG_STRING, &view, "Only ground, satellite or drone images", "V"},
        {"batch", 'b', 0, G_OPTION_ARG_INT, &batch, "Images per encode batch (32)", "N"},
        {"backend", 0, 0, G_OPTION_ARG_STRING, &backend, "auto, cpu or vulkan (auto)", "B"},
        {"device", 0, 0, G_OPTION_ARG_STRING, &device_opt,
         "Vulkan device index or name substring (sets S4G_DEVICE)", "DEV"},
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object", NULL},
        {NULL},
    };
    if (!s4g_cli_parse("embed", "", "encode dataset images into the embeddings cache", entries,
                       &argc, &argv))
        return 2;
    s4g_cli_use_device(device_opt);
    if (!project || !dataset || !model) {
        fprintf(stderr, "s4g embed: need --project DIR, --dataset NAME and --model MODEL\n");
        return 2;
    }
    if (view && g_strcmp0(view, "ground") && g_strcmp0(view, "satellite") &&
        g_strcmp0(view, "drone")) {
        fprintf(stderr, "s4g embed: --view is ground, satellite or drone, not %s\n", view);
        return 2;
    }
    S4gCliModel cm;
    if (!s4g_cli_model_open("embed", project, dataset, model, backend, &cm)) {
        s4g_cli_model_close(&cm);
        return 1;
    }
    g_autoptr(GArray) images = s4g_cli_model_images("embed", &cm, split, view);
    if (!images) {
        s4g_cli_model_close(&cm);
        return 1;
    }
    g_autoptr(GError) error = NULL;
    S4gProgress *bar = s4g_progress_new("embed", images->len, !json);
    guint encoded = 0;
    gboolean ok = s4g_embed_cached(cm.store, cm.m, cm.model_id, &cm.spec, cm.ds.root, images,
                                   batch, on_progress, bar, &encoded, &error);
    s4g_progress_finish(bar);
    int dim = cm.m->cfg.dims[3];
    s4g_cli_model_close(&cm);
    if (!ok) return s4g_cli_fail("embed", error);
    if (json)
        printf("{\"images\": %u, \"encoded\": %u, \"cached\": %u, \"dim\": %d}\n", images->len,
               encoded, images->len - encoded, dim);
    else
        printf("%u images: %u encoded, %u already cached (dim %d)\n", images->len, encoded,
               images->len - encoded, dim);
    return 0;
}
