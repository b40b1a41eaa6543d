/* cmd-embed.c — s4g embed: encode a dataset's images (a split, a view) with one of the
 * project's models into the embeddings table; images already embedded are skipped. */
#include "s4g-cli-model.h"

#include <stdio.h>

int s4g_cmd_embed(int argc, char **argv)
{
    g_autofree char *dataset = NULL, *split = NULL, *view = NULL;
    GOptionEntry entries[] = {
        {"dataset", 'd', 0, G_OPTION_ARG_STRING, &dataset, "Dataset name in the project", "NAME"},
        {"split", 's', 0, G_OPTION_ARG_STRING, &split, "Only this split (default all)", "S"},
        {"view", 0, 0, G_OPTION_ARG_STRING, &view, "Only ground, satellite or drone images", "V"},
        {NULL},
    };
    g_auto(S4gCliOptions) ro = S4G_CLI_MODEL_OPTIONS_INIT;
    if (!s4g_cli_parse_opts("embed", "", "encode dataset images into the embeddings cache", entries,
                           &ro, &argc, &argv))
        return 2;
    if (!ro.project || !dataset || !ro.model) {
        fprintf(stderr, "s4g embed: need --project DIR, --dataset NAME and --model MODEL\n");
        return 2;
    }
    if (view && g_strcmp0(view, "ground") && g_strcmp0(view, "satellite") &&
        g_strcmp0(view, "drone")) {
        fprintf(stderr, "s4g embed: --view is ground, satellite or drone, not %s\n", view);
        return 2;
    }
    S4gCliModel cm;
    if (!s4g_cli_model_open("embed", &ro, dataset, ro.model, &cm)) {
        s4g_cli_model_close(&cm);
        return 1;
    }
    g_autoptr(GArray) images = s4g_cli_model_images("embed", &cm, split, view);
    if (!images) {
        s4g_cli_model_close(&cm);
        return 1;
    }
    g_autoptr(GError) error = NULL;
    guint encoded = 0;
    gboolean ok = s4g_cli_model_embed(&cm, NULL, images, ro.batch, ro.json, &encoded, &error);
    int dim = cm.m->cfg.dims[3];
    s4g_cli_model_close(&cm);
    if (!ok) return s4g_cli_fail("embed", error);
    if (ro.json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        s4g_json_add_int(b, "images", images->len);
        s4g_json_add_int(b, "encoded", encoded);
        s4g_json_add_int(b, "cached", images->len - encoded);
        s4g_json_add_int(b, "dim", dim);
        json_builder_end_object(b);
        s4g_json_print(b, stdout);
    } else
        printf("%u images: %u encoded, %u already cached (dim %d)\n", images->len, encoded,
               images->len - encoded, dim);
    return 0;
}
