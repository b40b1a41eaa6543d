/* cmd-mine.c — s4g mine: the GPS neighbour table or the DSS hard negatives of a dataset's
 * training split, stored as a mining run with its hard_negatives rows (the same tables a
 * training run mines, s4g-mine.h). */
#include "s4g-cli-model.h"
#include "s4g-mine.h"
#include "s4g-store-runs.h"

#include <stdio.h>

int s4g_cmd_mine(int argc, char **argv)
{
    g_autofree char *dataset = NULL, *split = NULL, *metric = NULL;
    gboolean gps = FALSE, dss = FALSE, quirk = FALSE;
    int k = 128;
    GOptionEntry entries[] = {
        {"dataset", 'd', 0, G_OPTION_ARG_STRING, &dataset, "Dataset name in the project", "NAME"},
        {"split", 's', 0, G_OPTION_ARG_STRING, &split, "Split to mine (default train)", "S"},
        {"gps", 0, 0, G_OPTION_ARG_NONE, &gps, "GPS neighbour table", NULL},
        {"dss", 0, 0, G_OPTION_ARG_NONE, &dss, "DSS hard negatives (needs --model)", NULL},
        {"k", 'k', 0, G_OPTION_ARG_INT, &k, "Neighbours per anchor (128)", "K"},
        {"gps-metric", 0, 0, G_OPTION_ARG_STRING, &metric,
         "haversine (radians, default), haversine-degrees or euclidean (CVACT UTM; the "
         "default for cvact)",
         "M"},
        {"degrees-quirk", 0, 0, G_OPTION_ARG_NONE, &quirk,
         "Reproduce the reference's degrees fed to haversine (= --gps-metric haversine-degrees)",
         NULL},
        {NULL},
    };
    g_auto(S4gCliOptions) ro = S4G_CLI_MODEL_OPTIONS_INIT;
    ro.model_help = "Model name in the project (DSS)";
    if (!s4g_cli_parse_opts("mine", "", "mine GPS neighbours or DSS hard negatives of a split",
                           entries, &ro, &argc, &argv))
        return 2;
    if (!ro.project || !dataset || gps == dss || (dss && !ro.model) || k < 1 || k > 255) {
        fprintf(stderr, "s4g mine: need --project DIR, --dataset NAME and one of --gps or "
                        "--dss --model M; 1 <= --k <= 255\n");
        return 2;
    }
    g_autoptr(GError) error = NULL;
    S4gGpsMetric gm = S4G_GPS_HAVERSINE;
    if (quirk) gm = S4G_GPS_HAVERSINE_DEGREES;
    if (metric && !s4g_gps_metric_parse(metric, &gm, &error)) return s4g_cli_fail("mine", error);
    S4gCliModel cm;
    if (!s4g_cli_model_open("mine", &ro, dataset, dss ? ro.model : NULL, &cm)) {
        s4g_cli_model_close(&cm);
        return 1;
    }
    if (gps && !metric && !quirk && !g_strcmp0(cm.ds.kind, "cvact")) gm = S4G_GPS_EUCLIDEAN;
    if (!split) split = g_strdup("train");
    g_autoptr(S4gSplit) sp = s4g_split_load(cm.store, cm.ds.id, split, &error);
    gint64 run = 0;
    S4gNeighbours *nb = NULL;
    if (sp && gps) {
        nb = s4g_mine_gps(sp, (guint)k, gm, &error);
        if (nb)
            run = s4g_mine_store(cm.store, sp, nb, "gps", s4g_gps_metric_name(gm), 0, 0,
                                 cm.ds.id, 0, NULL, &error);
    } else if (sp) {
        int dim = cm.m->cfg.dims[3];
        S4gProgress *bar = s4g_progress_new("encode", sp->n_queries, !ro.json);
        g_autofree float *q =
            s4g_encode_images(cm.m, sp->query_paths, sp->n_queries, cm.spec.ground,
                              ro.batch, s4g_progress_encode_cb, bar, &error);
        s4g_progress_finish(bar);
        g_autofree float *g = NULL;
        if (q) {
            bar = s4g_progress_new("encode", sp->n_refs, !ro.json);
            g = s4g_encode_images(cm.m, sp->ref_paths, sp->n_refs, cm.spec.satellite,
                                  ro.batch, s4g_progress_encode_cb, bar, &error);
            s4g_progress_finish(bar);
        }
        g_autofree guint32 *row_ground = NULL;
        if (g) nb = s4g_mine_dss(cm.ctx, sp, q, g, dim, (guint)k, &row_ground, &error);
        if (nb)
            run = s4g_mine_store(cm.store, sp, nb, "dss", "cosine", cm.model_id, 0, cm.ds.id, -1,
                                 row_ground, &error);
    }
    gint64 rows = run ? s4g_store_mining_count(cm.store, run, &error) : -1;
    guint anchors = 0;
    if (nb)
        for (guint i = 0; i < nb->n; i++) anchors += nb->count[i] > 0;
    s4g_neighbours_free(nb);
    s4g_cli_model_close(&cm);
    if (rows < 0) return s4g_cli_fail("mine", error);
    if (ro.json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        s4g_json_add_int(b, "mining_run", run);
        s4g_json_add_string(b, "kind", gps ? "gps" : "dss");
        s4g_json_add_string(b, "metric", gps ? s4g_gps_metric_name(gm) : "cosine");
        s4g_json_add_int(b, "anchors", anchors);
        s4g_json_add_int(b, "k", k);
        s4g_json_add_int(b, "hard_negatives", rows);
        json_builder_end_object(b);
        s4g_json_print(b, stdout);
    } else
        printf("mining run %" G_GINT64_FORMAT " (%s, %s): %u anchors, %" G_GINT64_FORMAT
               " hard negatives\n",
               run, gps ? "gps" : "dss", gps ? s4g_gps_metric_name(gm) : "cosine", anchors, rows);
    return 0;
}
