/* cmd-train.c — s4g train: train (or resume) a Sample4Geo model on a dataset of the project.
 * A progress bar on a terminal (loss, lr, pairs/s, ETA), --json one object per line for the
 * Studio and scripts; SIGINT/SIGTERM finish the current step, checkpoint, mark the run
 * stopped and exit 0. */
#include "s4g-cli.h"
#include "s4g-store-datasets.h"
#include "s4g-train.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile gint stop_requested;

/* First signal: finish the step, checkpoint, stop.  A second one: the default action. */
static void on_signal(int sig)
{
    if (g_atomic_int_get(&stop_requested)) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    g_atomic_int_set(&stop_requested, 1);
}

typedef struct {
    gboolean json;
    S4gProgress *bar;
    gint64 last_step;
} Ui;

static void print_metrics_json(const S4gRetrievalMetrics *m)
{
    printf("\"r1\": %.4f, \"r5\": %.4f, \"r10\": %.4f, \"r1pct\": %.4f, \"queries\": "
           "%" G_GUINT64_FORMAT ", \"refs\": %" G_GUINT64_FORMAT,
           m->r1, m->r5, m->r10, m->r1pct, m->queries, m->refs);
    if (!isnan(m->hit_rate)) printf(", \"hit_rate\": %.4f", m->hit_rate);
    if (!isnan(m->ap)) printf(", \"ap\": %.4f", m->ap);
}

static void on_event(const S4gTrainEvent *ev, gpointer user_data)
{
    Ui *ui = user_data;
    switch (ev->kind) {
    case S4G_TRAIN_EVENT_START:
        if (ui->json)
            printf("{\"event\": \"start\", \"run\": %" G_GINT64_FORMAT
                   ", \"model\": %" G_GINT64_FORMAT
                   ", \"device\": \"%s\", \"pairs\": %u, \"references\": %u, \"excluded\": %u, "
                   "\"total_steps\": %" G_GINT64_FORMAT ", \"warmup_steps\": %.17g, "
                   "\"epoch\": %u}\n",
                   ev->run, ev->model, ev->device, ev->n_pairs, ev->n_refs, ev->n_excluded,
                   ev->total_steps, ev->warmup_steps, ev->epoch);
        else
            fprintf(stderr,
                    "run %" G_GINT64_FORMAT
                    " on %s: %u training pairs, %u satellites, %" G_GINT64_FORMAT
                    " steps (warm-up %g), %u pairs excluded by open flags\n",
                    ev->run, ev->device, ev->n_pairs, ev->n_refs, ev->total_steps,
                    ev->warmup_steps, ev->n_excluded);
        if (!ui->bar) ui->bar = s4g_progress_new("train", ev->total_steps, !ui->json);
        break;
    case S4G_TRAIN_EVENT_STEP:
        if (ui->json)
            printf("{\"event\": \"step\", \"step\": %" G_GINT64_FORMAT
                   ", \"epoch\": %.4f, \"loss\": %.6f, "
                   "\"lr\": %.10g, \"logit_scale\": %.5f, \"pairs_per_s\": %.3f, \"eta_s\": %.1f}\n",
                   ev->step, ev->epoch_progress, ev->loss, ev->lr, ev->logit_scale, ev->pairs_per_s,
                   ev->eta_s);
        ui->last_step = ev->step;
        if (ui->bar) {
            g_autofree char *extra = g_strdup_printf("ep %u loss %.4f lr %.2e %.1f pairs/s",
                                                     ev->epoch, ev->loss, ev->lr, ev->pairs_per_s);
            s4g_progress_update(ui->bar, ev->step, extra);
        }
        break;
    case S4G_TRAIN_EVENT_EVAL:
        if (ui->json) {
            printf("{\"event\": \"eval\", \"epoch\": %u, ", ev->epoch);
            print_metrics_json(&ev->metrics);
            printf(", \"chance_r1\": %.4f}\n", ev->chance_r1);
        } else
            fprintf(stderr,
                    "\nepoch %u: R@1 %.2f  R@5 %.2f  R@10 %.2f  R@1%% %.2f%s  (chance R@1 %.2f, "
                    "%" G_GUINT64_FORMAT " queries)\n",
                    ev->epoch, ev->metrics.r1, ev->metrics.r5, ev->metrics.r10, ev->metrics.r1pct,
                    "", ev->chance_r1, ev->metrics.queries);
        break;
    case S4G_TRAIN_EVENT_MINED:
        if (ui->json) {
            printf("{\"event\": \"mined\", \"kind\": \"%s\", \"epoch\": %u", ev->what, ev->epoch);
            if (!isnan(ev->metrics.r1))
                printf(", \"train_r1\": %.4f, \"train_r5\": %.4f", ev->metrics.r1, ev->metrics.r5);
            printf("}\n");
        } else if (!isnan(ev->metrics.r1))
            fprintf(stderr, "DSS neighbours mined after epoch %u (train R@1 %.2f, R@5 %.2f)\n",
                    ev->epoch, ev->metrics.r1, ev->metrics.r5);
        break;
    case S4G_TRAIN_EVENT_CHECKPOINT:
        if (ui->json) {
            g_autofree char *p = g_strescape(ev->what, NULL);
            printf("{\"event\": \"checkpoint\", \"path\": \"%s\"}\n", p);
        }
        break;
    case S4G_TRAIN_EVENT_ENCODE:
        if (ui->json)
            printf("{\"event\": \"encode\", \"what\": \"%s\", \"epoch\": %u, \"done\": "
                   "%" G_GINT64_FORMAT ", \"total\": %" G_GINT64_FORMAT "}\n",
                   ev->what, ev->epoch, ev->step, ev->total_steps);
        if (ui->bar) {
            g_autofree char *extra = g_strdup_printf(
                "%s: encoding %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " images",
                !strcmp(ev->what, "eval") ? "evaluating" : "mining DSS", ev->step, ev->total_steps);
            s4g_progress_update(ui->bar, ui->last_step, extra);
        }
        break;
    case S4G_TRAIN_EVENT_END:
        if (ui->bar) s4g_progress_finish(ui->bar);
        ui->bar = NULL;
        if (ui->json)
            printf("{\"event\": \"end\", \"run\": %" G_GINT64_FORMAT
                   ", \"model\": %" G_GINT64_FORMAT
                   ", \"state\": \"%s\", \"step\": %" G_GINT64_FORMAT "}\n",
                   ev->run, ev->model, ev->what, ev->step);
        else
            fprintf(stderr, "run %" G_GINT64_FORMAT " %s after %" G_GINT64_FORMAT " steps\n",
                    ev->run, ev->what, ev->step);
        break;
    }
    if (ui->json) fflush(stdout);
}

int s4g_cmd_train(int argc, char **argv)
{
    g_autofree char *project = NULL, *dataset = NULL, *train_split = NULL, *eval_split = NULL,
                    *model = NULL, *preset = NULL, *init_weights = NULL, *gsize = NULL, *ssize = NULL, *backend = NULL,
                    *metric = NULL;
    int epochs = 40, batch = 128, eval_every = 4, seed = 42, threads = 0, select = 64, range = 128,
        skip_neighbour = -1, eval_batch = 32, loader_threads = 2;
    double lr = 1e-3, warmup = 1.0;
    gint64 resume = 0;
    gboolean json = FALSE, no_gps = FALSE, no_dss = FALSE, no_augment = FALSE;
    int sat_shift = 0;
    double ground_fov = 0;
    gboolean exclude_flagged = FALSE, include_flagged = FALSE;
    g_autofree char *device_opt = NULL;
    GOptionEntry entries[] = {
        {"project", 'p', 0, G_OPTION_ARG_FILENAME, &project, "Project folder", "DIR"},
        {"dataset", 'd', 0, G_OPTION_ARG_STRING, &dataset, "Dataset name in the project", "NAME"},
        {"train-split", 0, 0, G_OPTION_ARG_STRING, &train_split, "Training split (default train)",
         "S"},
        {"eval-split", 0, 0, G_OPTION_ARG_STRING, &eval_split,
         "Split evaluated for model selection (default val)", "S"},
        {"model", 'm', 0, G_OPTION_ARG_STRING, &model, "Name of the new model (default run-<id>)",
         "NAME"},
        {"preset", 0, 0, G_OPTION_ARG_STRING, &preset,
         "ConvNeXt preset: atto femto pico nano tiny small base (default atto, or the --init weights' shape)", "P"},
        {"arch", 0, 0, G_OPTION_ARG_STRING, &preset, "Same as --preset", "P"},
        {"init", 0, 0, G_OPTION_ARG_FILENAME, &init_weights,
         "Fine-tune from these .safetensors weights (timm or Sample4Geo names; strict: every key must match)", "FILE"},
        {"ground-size", 0, 0, G_OPTION_ARG_STRING, &gsize,
         "Query (ground) input H×W, height first (default 64x384)", "HxW"},
        {"satellite-size", 0, 0, G_OPTION_ARG_STRING, &ssize,
         "Reference (satellite) input H×W, height first (default 128x128)", "HxW"},
        {"epochs", 'e', 0, G_OPTION_ARG_INT, &epochs, "Epochs (40)", "N"},
        {"batch", 'b', 0, G_OPTION_ARG_INT, &batch, "Pairs per step (128)", "B"},
        {"lr", 0, 0, G_OPTION_ARG_DOUBLE, &lr, "Peak learning rate (1e-3)", "LR"},
        {"warmup", 0, 0, G_OPTION_ARG_DOUBLE, &warmup, "Warm-up in epochs, may be fractional: W = steps per epoch × E, not rounded (1)", "E"},
        {"eval-every", 0, 0, G_OPTION_ARG_INT, &eval_every,
         "Evaluate and re-mine DSS every N epochs (4)", "N"},
        {"seed", 0, 0, G_OPTION_ARG_INT, &seed, "Seed of init, batches, augmentation (42)", "N"},
        {"no-gps", 0, 0, G_OPTION_ARG_NONE, &no_gps, "No GPS neighbours before the first DSS",
         NULL},
        {"no-dss", 0, 0, G_OPTION_ARG_NONE, &no_dss, "No dynamic similarity sampling", NULL},
        {"no-augment", 0, 0, G_OPTION_ARG_NONE, &no_augment, "Eval transforms only", NULL},
        {"satellite-shift", 0, 0, G_OPTION_ARG_INT, &sat_shift,
         "Not in the reference: translate each training satellite image by up to PX input "
         "pixels on each axis (edges repeated), for galleries cut on a grid (0)", "PX"},
        {"ground-fov", 0, 0, G_OPTION_ARG_DOUBLE, &ground_fov,
         "Not in the reference: crop each training panorama to a view of DEG degrees at a "
         "random heading (resized to the ground size), for photos with a limited field of "
         "view (0: whole panoramas)", "DEG"},
        {"exclude-flagged", 0, 0, G_OPTION_ARG_NONE, &exclude_flagged,
         "Leave out pairs with an open bad-pair/wrong-location flag (default)", NULL},
        {"include-flagged", 0, 0, G_OPTION_ARG_NONE, &include_flagged,
         "Train on flagged pairs too", NULL},
        {"gps-metric", 0, 0, G_OPTION_ARG_STRING, &metric,
         "haversine (default; euclidean on UTM for CVACT), haversine-degrees (the reference's "
         "quirk) or euclidean",
         "M"},
        {"neighbour-select", 0, 0, G_OPTION_ARG_INT, &select, "Neighbours per anchor (64)", "N"},
        {"neighbour-range", 0, 0, G_OPTION_ARG_INT, &range, "Candidates per anchor (128)", "N"},
        {"skip-neighbour", 0, 0, G_OPTION_ARG_INT, &skip_neighbour,
         "Never add the identity with this dataset id as a neighbour (the CVUSA id-0 quirk: 0); "
         "-1 none (default)",
         "ID"},
        {"eval-batch", 0, 0, G_OPTION_ARG_INT, &eval_batch, "Images per encode batch (32)", "N"},
        {"loader-threads", 0, 0, G_OPTION_ARG_INT, &loader_threads, "Decoding threads (2)", "N"},
        {"backend", 0, 0, G_OPTION_ARG_STRING, &backend, "auto, cpu or vulkan (auto)", "B"},
        {"device", 0, 0, G_OPTION_ARG_STRING, &device_opt,
         "Vulkan device index or name substring (sets S4G_DEVICE)", "DEV"},
        {"threads", 0, 0, G_OPTION_ARG_INT, &threads, "CPU backend threads (0 = all)", "N"},
        {"resume", 0, 0, G_OPTION_ARG_INT64, &resume,
         "Continue a stopped run from its last checkpoint (its stored settings are used)", "RUN"},
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "One JSON object per line on stdout", NULL},
        {NULL},
    };
    if (!s4g_cli_parse("train", "", "train a Sample4Geo model (InfoNCE, GPS/DSS hard negatives)",
                       entries, &argc, &argv))
        return 2;
    s4g_cli_use_device(device_opt);
    if (!project || (!dataset && resume <= 0)) {
        fprintf(stderr, "s4g train: need --project DIR and --dataset NAME (or --resume RUN)\n");
        return 2;
    }
    if (!(ground_fov >= 0 && ground_fov <= 360)) {
        fprintf(stderr, "s4g train: --ground-fov must be degrees in 0..360 (0: whole "
                        "panoramas), not %g\n",
                ground_fov);
        return 2;
    }
    if (sat_shift < 0) {
        fprintf(stderr, "s4g train: --satellite-shift must be ≥ 0, not %d\n", sat_shift);
        return 2;
    }
    S4gTrainOptions o;
    s4g_train_options_init(&o);
    g_autoptr(GError) error = NULL;
    s4g_err err = {0};
    if (!preset && init_weights) {
        if (s4g_convnext_cfg_from_file(init_weights, &o.spec.cfg, &err)) {
            fprintf(stderr, "s4g train: --init: %s\n", err.msg);
            return 1;
        }
    } else if (s4g_convnext_preset(preset ? preset : "atto", &o.spec.cfg, &err)) {
        fprintf(stderr, "s4g train: --preset: %s\n", err.msg);
        return 2;
    }
    o.init_weights = init_weights;
    o.spec.ground_w = 384, o.spec.ground_h = 64, o.spec.sat_w = 128, o.spec.sat_h = 128;
    if ((gsize && !s4g_cli_size("train", "ground-size", gsize, &o.spec.ground_h, &o.spec.ground_w)) ||
        (ssize && !s4g_cli_size("train", "satellite-size", ssize, &o.spec.sat_h, &o.spec.sat_w)))
        return 2;
    if (metric && !s4g_gps_metric_parse(metric, &o.gps_metric, &error))
        return s4g_cli_fail("train", error);
    if (backend) {
        if (!strcmp(backend, "cpu"))
            o.backend = S4G_BACKEND_CPU;
        else if (!strcmp(backend, "vulkan"))
            o.backend = S4G_BACKEND_VULKAN;
        else if (strcmp(backend, "auto")) {
            fprintf(stderr, "s4g train: --backend: auto, cpu or vulkan\n");
            return 2;
        }
    }
    if (!(warmup >= 0 && warmup <= 1e6)) {
        fprintf(stderr, "s4g train: --warmup: expected epochs ≥ 0 (may be fractional), got %g\n",
                warmup);
        return 2;
    }
    if (epochs < 1 || batch < 2 || eval_every < 1 || select < 0 || range < 1 || select > range) {
        fprintf(stderr, "s4g train: need epochs ≥ 1, batch ≥ 2, eval-every ≥ 1, "
                        "0 ≤ neighbour-select ≤ neighbour-range\n");
        return 2;
    }
    o.epochs = (guint)epochs;
    o.batch_size = (guint)batch;
    o.lr = lr;
    o.warmup_epochs = warmup;
    o.eval_every = (guint)eval_every;
    o.seed = (guint64)seed;
    o.gps_sample = !no_gps;
    o.dss_sample = !no_dss;
    o.augment = !no_augment;
    o.satellite_shift = sat_shift;
    o.ground_fov = ground_fov;
    (void)exclude_flagged; /* the default; the flag exists so scripts can say so */
    o.exclude_flagged = !include_flagged;
    o.sampler.neighbour_select = (guint)select;
    o.sampler.neighbour_range = (guint)range;
    o.sampler.skip_neighbour = skip_neighbour;
    o.eval_batch = eval_batch;
    o.loader_threads = loader_threads;
    o.threads = threads;
    o.resume_run = resume;
    o.model_name = model;
    if (train_split) o.train_split = train_split;
    if (eval_split) o.eval_split = eval_split;

    g_autoptr(S4gStore) store = s4g_store_open(project, FALSE, &error);
    if (!store) return s4g_cli_fail("train", error);
    if (dataset) {
        S4gStoreDataset ds = {0};
        if (!s4g_store_dataset_find(store, dataset, &ds, &error))
            return s4g_cli_fail("train", error);
        o.dataset = ds.id;
        /* CVACT's reference dictionary is Euclidean on UTM metres */
        if (!metric && !g_strcmp0(ds.kind, "cvact")) o.gps_metric = S4G_GPS_EUCLIDEAN;
        s4g_store_dataset_clear(&ds);
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    Ui ui = {.json = json};
    gint64 run = 0;
    gboolean ok = s4g_train_run(store, &o, &stop_requested, on_event, &ui, &run, &error);
    if (ui.bar) s4g_progress_finish(ui.bar);
    if (!ok) {
        if (json) {
            g_autofree char *m = g_strescape(error->message, NULL);
            printf("{\"event\": \"error\", \"run\": %" G_GINT64_FORMAT ", \"message\": \"%s\"}\n",
                   run, m);
        }
        return s4g_cli_fail("train", error);
    }
    return 0;
}
