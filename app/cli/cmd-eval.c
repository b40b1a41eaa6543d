/* cmd-eval.c — s4g eval: Recall@1/5/10/1% (and the VIGOR hit rate when the split has
 * semi-positives) of a model on a split of a project dataset, streaming through the gallery
 * search; University-1652 AP/CMC in either direction (--direction d2s: drone queries,
 * satellite gallery; s2d: satellite queries, drone gallery); recorded as an evaluation row
 * when the model is one of the project's.  Under mpirun (`mpirun -np N s4g eval ...`) each
 * process encodes and searches one shard of the references and a slice of the queries; the
 * recall is the one-process recall (s4g_evaluate_split_shared) and rank 0 alone records and
 * prints it. */
#include "s4g-cli.h"
#include "s4g-evaluate.h"
#include "s4g-store-datasets.h"
#include "s4g-store-runs.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    S4gProgress *bar;
    gint64 base; /* images of the sides already encoded */
} Ui;

static void on_progress(guint done, guint total, gpointer user_data)
{
    Ui *ui = user_data;
    s4g_progress_update(ui->bar, ui->base + done, NULL);
    if (done == total) ui->base += total;
}

/* University-1652 chance of R@1 under a random ranking: the mean over queries of the share of
 * good items among the ranked (non-junk) gallery; junk = a class no query asks for.  For S2D
 * that is ~n good drone images per query, not 1/R. */
static double university_chance_r1(const S4gSplit *sp)
{
    g_autoptr(GHashTable) qclass = g_hash_table_new(g_int64_hash, g_int64_equal);
    for (guint i = 0; i < sp->n_queries; i++)
        g_hash_table_add(qclass, &sp->query_label[i]);
    g_autoptr(GHashTable) per_class = g_hash_table_new(g_int64_hash, g_int64_equal);
    guint ranked = 0;
    for (guint j = 0; j < sp->n_refs; j++) {
        if (!g_hash_table_contains(qclass, &sp->ref_label[j])) continue;
        ranked++;
        guint c = GPOINTER_TO_UINT(g_hash_table_lookup(per_class, &sp->ref_label[j]));
        g_hash_table_insert(per_class, &sp->ref_label[j], GUINT_TO_POINTER(c + 1));
    }
    double sum = 0;
    for (guint i = 0; i < sp->n_queries && ranked; i++)
        sum += (double)GPOINTER_TO_UINT(g_hash_table_lookup(per_class, &sp->query_label[i])) /
               ranked;
    return sp->n_queries ? 100.0 * sum / sp->n_queries : 0.0;
}

int s4g_cmd_eval(int argc, char **argv)
{
    g_autofree char *dataset = NULL, *split = NULL, *gsize = NULL, *ssize = NULL,
                    *direction = NULL;
    S4gSize gd = s4g_defaults.ground, sd = s4g_defaults.satellite;
    g_autofree char *ghelp = g_strdup_printf(
        "Query input H×W for a weights file, height first (default %dx%d)", gd.h, gd.w);
    g_autofree char *shelp = g_strdup_printf(
        "Reference input H×W for a weights file, height first (default %dx%d)", sd.h, sd.w);
    GOptionEntry entries[] = {
        {"dataset", 'd', 0, G_OPTION_ARG_STRING, &dataset, "Dataset name in the project", "NAME"},
        {"split", 's', 0, G_OPTION_ARG_STRING, &split, "Split to evaluate (default val)", "S"},
        {"ground-size", 0, 0, G_OPTION_ARG_STRING, &gsize, ghelp, "HxW"},
        {"satellite-size", 0, 0, G_OPTION_ARG_STRING, &ssize, shelp, "HxW"},
        {"direction", 0, 0, G_OPTION_ARG_STRING, &direction,
         "University-1652 only: d2s (drone queries, satellite gallery; default) or s2d "
         "(satellite queries, drone gallery); the split defaults to the direction's name",
         "DIR"},
        {NULL},
    };
    g_auto(S4gCliOptions) o = {.shared = S4G_CLI_PROJECT | S4G_CLI_MODEL | S4G_CLI_BATCH |
                                         S4G_CLI_BACKEND | S4G_CLI_THREADS | S4G_CLI_JSON,
                               .batch = s4g_defaults.encode_batch,
                               .model_help = "Model name in the project, or a .safetensors file"};
    if (!s4g_cli_parse_opts("eval", "", "evaluate retrieval (R@1/5/10/1%, VIGOR hit rate) on a split",
                            entries, &o, &argc, &argv))
        return 2;
    const char *project = o.project, *model = o.model;
    gboolean json = o.json;
    if (direction && strcmp(direction, "d2s") && strcmp(direction, "s2d")) {
        fprintf(stderr, "s4g eval: --direction: expected d2s or s2d, got “%s”\n", direction);
        return 2;
    }
    if (!project || !dataset || !model) {
        fprintf(stderr, "s4g eval: need --project DIR, --dataset NAME and --model MODEL\n");
        return 2;
    }
    S4gModelSpec spec = s4g_model_spec_default();
    if ((gsize && !s4g_cli_size("eval", "ground-size", gsize, &spec.ground)) ||
        (ssize && !s4g_cli_size("eval", "satellite-size", ssize, &spec.satellite)))
        return 2;
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gStore) store = s4g_store_open(project, FALSE, &error);
    if (!store) return s4g_cli_fail("eval", error);
    S4gStoreDataset ds = {0};
    if (!s4g_store_dataset_find(store, dataset, &ds, &error)) return s4g_cli_fail("eval", error);
    gint64 dataset_id = ds.id;
    gboolean university = !g_strcmp0(ds.kind, "university");
    if (direction && !university) {
        fprintf(stderr,
                "s4g eval: --direction %s: only University-1652 datasets have a direction "
                "(dataset “%s” is %s)\n",
                direction, dataset, ds.kind);
        s4g_store_dataset_clear(&ds);
        return 2;
    }
    s4g_store_dataset_clear(&ds);
    gboolean s2d = university && !g_strcmp0(direction, "s2d");
    if (!split) split = g_strdup(!university ? "val" : s2d ? "s2d" : "d2s");
    g_autoptr(S4gSplit) sp = s2d ? s4g_split_load_s2d(store, dataset_id, split, &error)
                                 : s4g_split_load(store, dataset_id, split, &error);
    if (!sp) return s4g_cli_fail("eval", error);
    /* the stored row names the direction when the split's name does not already */
    g_autofree char *row_split = s2d && strcmp(split, "s2d") ? g_strdup_printf("%s/s2d", split)
                                                            : g_strdup(split);
    s4g_ctx *ctx = s4g_cli_make_ctx("eval", &o);
    if (!ctx) return 1;
    gint64 model_id = 0;
    s4g_convnext *m = s4g_model_open(store, model, ctx, &spec, &model_id, &error);
    if (!m) {
        s4g_ctx_free(ctx);
        return s4g_cli_fail("eval", error);
    }
    s4g_comm comm;
    if (!s4g_cli_mpi_begin("eval", &comm)) {
        s4g_convnext_free(m);
        s4g_ctx_free(ctx);
        return 1;
    }
    Ui ui = {s4g_progress_new("encode", sp->n_queries + sp->n_refs, !json && comm.size == 1), 0};
    S4gRetrievalMetrics r;
    gint64 t0 = g_get_monotonic_time();
    /* under mpirun each process holds a shard of the references (s4g-evaluate.h) */
    gboolean ok = s4g_evaluate_split_shared(m, &spec, sp, o.batch, &comm, on_progress, &ui, &r,
                                            &error);
    double secs = (g_get_monotonic_time() - t0) / 1e6;
    s4g_progress_finish(ui.bar);
    s4g_convnext_free(m);
    s4g_ctx_free(ctx);
    s4g_cli_mpi_end("eval", &comm, ok, error);
    if (!ok) return s4g_cli_fail("eval", error);
    if (comm.rank != 0) return 0; /* rank 0 records and prints */
    if (model_id) {
        S4gEvaluationRow row = {.model = model_id,
                                .dataset = dataset_id,
                                .split = row_split,
                                .epoch = -1,
                                .r1 = r.r1,
                                .r5 = r.r5,
                                .r10 = r.r10,
                                .r1pct = r.r1pct,
                                .hit_rate = r.hit_rate,
                                .ap = r.ap,
                                .queries = (gint64)r.queries,
                                .refs = (gint64)r.refs};
        if (!s4g_store_evaluation_add(store, &row, &error)) return s4g_cli_fail("eval", error);
    }
    double chance = university ? university_chance_r1(sp) : s4g_metrics_chance_r1(r.refs);
    if (json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        s4g_json_add_string(b, "dataset", dataset);
        s4g_json_add_string(b, "split", split);
        s4g_json_add_int(b, "queries", (gint64)r.queries);
        s4g_json_add_int(b, "refs", (gint64)r.refs);
        s4g_json_add_double(b, "r1", r.r1);
        s4g_json_add_double(b, "r5", r.r5);
        s4g_json_add_double(b, "r10", r.r10);
        s4g_json_add_double(b, "r1pct", r.r1pct);
        s4g_json_add_double(b, "chance_r1", chance);
        s4g_json_add_double(b, "seconds", secs);
        if (comm.size > 1) s4g_json_add_int(b, "processes", comm.size);
        if (university) s4g_json_add_string(b, "direction", s2d ? "s2d" : "d2s");
        if (!isnan(r.hit_rate)) s4g_json_add_double(b, "hit_rate", r.hit_rate);
        if (!isnan(r.ap)) s4g_json_add_double(b, "ap", r.ap);
        json_builder_end_object(b);
        s4g_json_print(b, stdout);
    } else {
        printf("%s / %s%s: %" G_GUINT64_FORMAT " queries, %" G_GUINT64_FORMAT
               " references (%.1f s)\n",
               dataset, split,
               !university ? "" : s2d ? " (satellite → drone)" : " (drone → satellite)",
               r.queries, r.refs, secs);
        printf("  R@1     %7.2f %%   (chance %.2f %%)\n", r.r1, chance);
        printf("  R@5     %7.2f %%\n  R@10    %7.2f %%\n", r.r5, r.r10);
        if (isnan(r.ap))
            printf("  R@1%%    %7.2f %%   (rank < R//100 = %" G_GUINT64_FORMAT ")\n", r.r1pct,
                   r.refs / 100);
        else /* University-1652: within the top round(0.01·G)+1 */
            printf("  R@1%%    %7.2f %%   (top %.0f)\n", r.r1pct, nearbyint(0.01 * r.refs) + 1);
        if (!isnan(r.hit_rate)) printf("  hit rate %6.2f %%\n", r.hit_rate);
        if (!isnan(r.ap)) printf("  AP      %7.2f %%\n", r.ap);
    }
    return 0;
}
