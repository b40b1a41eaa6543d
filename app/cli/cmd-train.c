/* cmd-train.c — s4g train: train (or resume) a Sample4Geo model on a dataset of the project.
 * A progress bar on a terminal (loss, lr, pairs/s, ETA), --json one object per line for the
 * Studio and scripts; SIGINT/SIGTERM/SIGUSR1 finish the current step, checkpoint, mark the
 * run stopped and exit 0.
 *
 * Under an MPI launcher (`mpirun -np N s4g train ...`, built with the meson feature `mpi`)
 * every process runs the same command: each trains on its share of every global batch
 * (--batch must divide by N), rank 0 alone prints, evaluates and writes the project.
 * --device may list one device per local rank ("0,1,2,3"); a failing rank ends the job.
 * Stopping a job: Open MPI's mpirun forwards SIGUSR1 to every rank at once, so
 * `kill -USR1 <mpirun>` stops every rank after the same step with one checkpoint and mpirun
 * exits 0.  SIGTERM to mpirun is not forwarded as such: mpirun waits
 * odls_base_sigkill_timeout seconds (default 1), sends SIGTERM, waits as long again, then
 * SIGKILL, and exits 1 whatever the ranks did (README, "Stopping a job"). */
#include "s4g-cli.h"
#include "s4g-model.h"
#include "s4g-recipes.h"
#include "s4g-store-datasets.h"
#include "s4g-train-events.h"
#include "s4g-train.h"
#ifdef S4G_HAVE_MPI
#include "s4g-mpi.h"
#endif

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

/* One event as its JSON line (s4g-train-events.h), flushed so a reader sees it at once. */
static void print_json(const S4gTrainEvent *ev)
{
    g_autofree char *line = s4g_train_event_to_json(ev);
    printf("%s\n", line);
    fflush(stdout);
}

static void on_event(const S4gTrainEvent *ev, gpointer user_data)
{
    Ui *ui = user_data;
    if (ui->json) print_json(ev);
    switch (ev->kind) {
    case S4G_TRAIN_EVENT_START:
        if (ev->what)
            fprintf(stderr, "s4g train: --init: %s\n", ev->what);
        if (!ui->json)
            fprintf(stderr,
                    "run %" G_GINT64_FORMAT
                    " on %s: %u training pairs, %u satellites, %" G_GINT64_FORMAT
                    " steps (warm-up %g), %u pairs excluded by open flags\n",
                    ev->run, ev->device, ev->n_pairs, ev->n_refs, ev->total_steps,
                    ev->warmup_steps, ev->n_excluded);
        if (!ui->bar) ui->bar = s4g_progress_new("train", ev->total_steps, !ui->json);
        break;
    case S4G_TRAIN_EVENT_STEP:
        ui->last_step = ev->step;
        if (ui->bar) {
            g_autofree char *extra = g_strdup_printf("ep %u loss %.4f lr %.2e %.1f pairs/s",
                                                     ev->epoch, ev->loss, ev->lr, ev->pairs_per_s);
            s4g_progress_update(ui->bar, ev->step, extra);
        }
        break;
    case S4G_TRAIN_EVENT_EVAL:
        if (!ui->json)
            fprintf(stderr,
                    "\nepoch %u: R@1 %.2f  R@5 %.2f  R@10 %.2f  R@1%% %.2f%s  (chance R@1 %.2f, "
                    "%" G_GUINT64_FORMAT " queries)\n",
                    ev->epoch, ev->metrics.r1, ev->metrics.r5, ev->metrics.r10, ev->metrics.r1pct,
                    "", ev->chance_r1, ev->metrics.queries);
        break;
    case S4G_TRAIN_EVENT_MINED:
        if (!ui->json && !isnan(ev->metrics.r1))
            fprintf(stderr, "DSS neighbours mined after epoch %u (train R@1 %.2f, R@5 %.2f)\n",
                    ev->epoch, ev->metrics.r1, ev->metrics.r5);
        break;
    case S4G_TRAIN_EVENT_CHECKPOINT:
    case S4G_TRAIN_EVENT_ERROR:
        break;
    case S4G_TRAIN_EVENT_ENCODE:
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
        if (!ui->json)
            fprintf(stderr, "run %" G_GINT64_FORMAT " %s after %" G_GINT64_FORMAT " steps\n",
                    ev->run, ev->what, ev->step);
        break;
    }
}

/* --recipe, read before the real parse so that the recipe's values become the defaults of
 * every other flag (an explicit flag still wins) and --help shows them.  FALSE on an unknown
 * name (printed). */
static gboolean recipe_prepass(int argc, char **argv, const S4gRecipe **out)
{
    g_autofree char *name = NULL;
    GOptionEntry e[] = {{"recipe", 0, 0, G_OPTION_ARG_STRING, &name, NULL, NULL}, {NULL}};
    g_autoptr(GOptionContext) oc = g_option_context_new(NULL);
    g_option_context_set_help_enabled(oc, FALSE);
    g_option_context_set_ignore_unknown_options(oc, TRUE);
    g_option_context_add_main_entries(oc, e, NULL);
    g_auto(GStrv) copy = g_new0(char *, argc + 1);
    for (int i = 0; i < argc; i++)
        copy[i] = g_strdup(argv[i]);
    g_option_context_parse_strv(oc, &copy, NULL); /* errors are the real parse's to report */
    *out = s4g_recipe_find(name);
    if (name && !*out) {
        g_autofree char *names = s4g_recipe_names();
        fprintf(stderr, "s4g train: --recipe: expected %s, got “%s”\n", names, name);
        return FALSE;
    }
    return TRUE;
}

/* The summary of --help: what each recipe sets, from the recipes table. */
static char *train_summary(void)
{
    GString *s = g_string_new("train a Sample4Geo model (InfoNCE, GPS/DSS hard negatives)\n\n"
                              "Recipes (--recipe NAME: the paper's settings, sample4geo-reference "
                              "§1.3 and §3; explicit flags override them):");
    for (guint i = 0; i < s4g_n_recipes; i++) {
        g_autofree char *line = s4g_recipe_describe(&s4g_recipes[i]);
        g_string_append_printf(s, "\n  %-12s %s", s4g_recipes[i].name, line);
    }
    g_string_append(s, "\nTo reproduce the paper, start from ImageNet weights: --init "
                       "convnext_base.fb_in22k_ft_in1k_384 (timm .safetensors or .pth)");
    return g_string_free(s, FALSE);
}

int s4g_cmd_train(int argc, char **argv)
{
    const S4gRecipe *recipe = NULL;
    if (!recipe_prepass(argc, argv, &recipe)) return 2;
    const S4gDefaults dd = recipe ? s4g_recipe_defaults(recipe) : s4g_defaults;
    const S4gDefaults *d = &dd;
    g_autofree char *dataset = NULL, *train_split = NULL, *eval_split = NULL, *preset = NULL,
                    *init_weights = NULL, *gsize = NULL, *ssize = NULL, *metric = NULL,
                    *recipe_name = NULL;
    int epochs = (int)d->epochs, eval_every = (int)d->eval_every, seed = (int)d->seed,
        select = (int)d->neighbour_select, range = (int)d->neighbour_range,
        skip_neighbour = recipe ? recipe->skip_neighbour : -1, eval_batch = d->encode_batch,
        loader_threads = d->loader_threads, micro_batch = 0;
    double lr = d->lr, warmup = d->warmup_epochs;
    gint64 resume = 0;
    gboolean no_gps = recipe && !recipe->gps, no_dss = recipe && !recipe->dss, no_augment = FALSE;
    int sat_shift = (int)d->satellite_shift;
    g_autofree char *jpeg_order = NULL;
    double ground_fov = 0;
    gboolean exclude_flagged = FALSE, include_flagged = FALSE;
    g_autofree char *preset_help = g_strdup_printf(
        "ConvNeXt preset: atto femto pico nano tiny small base (default %s, or the --init "
        "weights' shape)", d->preset);
    g_autofree char *ghelp = g_strdup_printf(
        "Query (ground) input H×W, height first (default %dx%d)", d->ground.h, d->ground.w);
    g_autofree char *shelp = g_strdup_printf(
        "Reference (satellite) input H×W, height first (default %dx%d)", d->satellite.h,
        d->satellite.w);
    g_autofree char *epochs_help = g_strdup_printf("Epochs (%u)", d->epochs);
    g_autofree char *batch_help = g_strdup_printf("Pairs per step (%u)", d->batch);
    g_autofree char *lr_help = g_strdup_printf("Peak learning rate (%g)", d->lr);
    g_autofree char *warmup_help = g_strdup_printf(
        "Warm-up in epochs, may be fractional: W = steps per epoch × E, not rounded (%g)",
        d->warmup_epochs);
    g_autofree char *eval_every_help =
        g_strdup_printf("Evaluate and re-mine DSS every N epochs (%u)", d->eval_every);
    g_autofree char *seed_help = g_strdup_printf(
        "Seed of init, batches, augmentation (%" G_GUINT64_FORMAT ")", d->seed);
    g_autofree char *eval_batch_help =
        g_strdup_printf("Images per encode batch (%d)", d->encode_batch);
    g_autofree char *loader_help = g_strdup_printf("Decoding threads (%d)", d->loader_threads);
    g_autofree char *select_help =
        g_strdup_printf("Neighbours per anchor (%u)", d->neighbour_select);
    g_autofree char *range_help =
        g_strdup_printf("Candidates per anchor (%u)", d->neighbour_range);
    g_autofree char *recipe_names = s4g_recipe_names();
    g_autofree char *recipe_help = g_strdup_printf(
        "The paper's settings for a dataset (listed above): %s; other flags override them",
        recipe_names);
    g_autofree char *summary = train_summary();
    GOptionEntry entries[] = {
        {"dataset", 'd', 0, G_OPTION_ARG_STRING, &dataset, "Dataset name in the project", "NAME"},
        {"recipe", 0, 0, G_OPTION_ARG_STRING, &recipe_name, recipe_help, "NAME"},
        {"train-split", 0, 0, G_OPTION_ARG_STRING, &train_split, "Training split (default train)",
         "S"},
        {"eval-split", 0, 0, G_OPTION_ARG_STRING, &eval_split,
         "Split evaluated for model selection (default val)", "S"},
        {"preset", 0, 0, G_OPTION_ARG_STRING, &preset, preset_help, "P"},
        {"arch", 0, 0, G_OPTION_ARG_STRING, &preset, "Same as --preset", "P"},
        {"init", 0, 0, G_OPTION_ARG_FILENAME, &init_weights,
         "Start from these weights (a file, or a model of the project by name): .safetensors "
         "or PyTorch .pth; timm, Sample4Geo, DataParallel or Facebook names; ImageNet heads "
         "dropped (strict: every encoder key must match)", "FILE"},
        {"ground-size", 0, 0, G_OPTION_ARG_STRING, &gsize, ghelp, "HxW"},
        {"satellite-size", 0, 0, G_OPTION_ARG_STRING, &ssize, shelp, "HxW"},
        {"epochs", 'e', 0, G_OPTION_ARG_INT, &epochs, epochs_help, "N"},
        {"micro-batch", 0, 0, G_OPTION_ARG_INT, &micro_batch,
         "Run each step in chunks of M pairs: the same loss and gradients as the whole batch, "
         "activation memory of M pairs (0 = whole batch)", "M"},
        {"lr", 0, 0, G_OPTION_ARG_DOUBLE, &lr, lr_help, "LR"},
        {"warmup", 0, 0, G_OPTION_ARG_DOUBLE, &warmup, warmup_help, "E"},
        {"eval-every", 0, 0, G_OPTION_ARG_INT, &eval_every, eval_every_help, "N"},
        {"seed", 0, 0, G_OPTION_ARG_INT, &seed, seed_help, "N"},
        {"no-gps", 0, 0, G_OPTION_ARG_NONE, &no_gps, "No GPS neighbours before the first DSS",
         NULL},
        {"no-dss", 0, 0, G_OPTION_ARG_NONE, &no_dss, "No dynamic similarity sampling", NULL},
        {"no-augment", 0, 0, G_OPTION_ARG_NONE, &no_augment, "Eval transforms only", NULL},
        {"jpeg-order", 0, 0, G_OPTION_ARG_STRING, &jpeg_order,
         "JPEG augmentation channel order: reference (default; encodes RGB as if it were BGR, as "
         "the original's albumentations + cv2 do) or rgb (true colours)", "ORDER"},
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
        {"neighbour-select", 0, 0, G_OPTION_ARG_INT, &select, select_help, "N"},
        {"neighbour-range", 0, 0, G_OPTION_ARG_INT, &range, range_help, "N"},
        {"skip-neighbour", 0, 0, G_OPTION_ARG_INT, &skip_neighbour,
         "Never add the identity with this dataset id as a neighbour (the CVUSA id-0 quirk: 0); "
         "-1 none (default)",
         "ID"},
        {"eval-batch", 0, 0, G_OPTION_ARG_INT, &eval_batch, eval_batch_help, "N"},
        {"loader-threads", 0, 0, G_OPTION_ARG_INT, &loader_threads, loader_help, "N"},
        {"resume", 0, 0, G_OPTION_ARG_INT64, &resume,
         "Continue a stopped, failed or interrupted run from its last checkpoint, or from the "
         "start when it has none (its stored settings are used, and its --init weights, "
         "checked to be unchanged by size and SHA-256; --init overrides them)",
         "RUN"},
        {NULL},
    };
    g_auto(S4gCliOptions) co = {.shared = S4G_CLI_PROJECT | S4G_CLI_MODEL | S4G_CLI_BATCH |
                                          S4G_CLI_BACKEND | S4G_CLI_THREADS | S4G_CLI_JSON,
                                .batch = (int)d->batch,
                                .model_help = "Name of the new model (default run-<id>)",
                                .batch_help = batch_help,
                                .json_help = "One JSON object per line on stdout"};
    if (!s4g_cli_parse_opts("train", "", summary, entries, &co, &argc, &argv))
        return 2;
    const char *project = co.project;
    gboolean json = co.json;
    int batch = co.batch;
    if (!project || (!dataset && resume <= 0)) {
        fprintf(stderr, "s4g train: need --project DIR and --dataset NAME (or --resume RUN)\n");
        return 2;
    }
    if (micro_batch < 0) {
        fprintf(stderr, "s4g train: --micro-batch must be ≥ 0 (0 = whole batch), not %d\n",
                micro_batch);
        return 2;
    }
    if (!(ground_fov >= 0 && ground_fov <= 360)) {
        fprintf(stderr, "s4g train: --ground-fov must be degrees in 0..360 (0: whole "
                        "panoramas), not %g\n",
                ground_fov);
        return 2;
    }
    S4gJpegOrder jorder = S4G_JPEG_ORDER_REFERENCE;
    if (jpeg_order && !s4g_jpeg_order_parse(jpeg_order, &jorder)) {
        fprintf(stderr, "s4g train: --jpeg-order: expected reference or rgb, got “%s”\n",
                jpeg_order);
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
    g_autoptr(S4gStore) store = s4g_store_open(project, FALSE, &error);
    if (!store) return s4g_cli_fail("train", error);
    if (init_weights) { /* a file, or a model of the project by name */
        char *path = s4g_model_weights_path(store, init_weights, &error);
        if (!path) {
            g_prefix_error(&error, "--init: ");
            return s4g_cli_fail("train", error);
        }
        g_free(init_weights);
        init_weights = path;
    }
    if (recipe) {
        o.recipe = recipe->name;
        o.spec.ground = recipe->ground;
        o.spec.satellite = recipe->satellite;
        o.train_split = recipe->train_split;
        o.eval_split = recipe->eval_split;
    }
    if (!preset && init_weights) {
        if (s4g_convnext_cfg_from_file(init_weights, &o.spec.cfg, &err)) {
            fprintf(stderr, "s4g train: --init: %s\n", err.msg);
            return 1;
        }
    } else if (s4g_convnext_preset(preset ? preset : d->preset, &o.spec.cfg, &err)) {
        fprintf(stderr, "s4g train: --preset: %s\n", err.msg);
        return 2;
    }
    o.init_weights = init_weights;
    if ((gsize && !s4g_cli_size("train", "ground-size", gsize, &o.spec.ground)) ||
        (ssize && !s4g_cli_size("train", "satellite-size", ssize, &o.spec.satellite)))
        return 2;
    if (metric && !s4g_gps_metric_parse(metric, &o.gps_metric, &error))
        return s4g_cli_fail("train", error);
    o.backend = co.backend;
    o.device = co.device;
    o.threads = co.threads;
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
    o.jpeg_order = jorder;
    o.ground_fov = ground_fov;
    (void)exclude_flagged; /* the default; the flag exists so scripts can say so */
    o.exclude_flagged = !include_flagged;
    o.sampler.neighbour_select = (guint)select;
    o.sampler.neighbour_range = (guint)range;
    o.sampler.skip_neighbour = skip_neighbour;
    o.eval_batch = eval_batch;
    o.loader_threads = loader_threads;
    o.resume_run = resume;
    o.model_name = co.model;
    o.micro_batch = micro_batch;
    /* TEST ONLY: the crash-consistency test's kill hook (S4gTestKill); read here and nowhere
     * else */
    if (!s4g_test_kill_parse(g_getenv("S4G_TEST_KILL_AT"), &o.test_kill, &error))
        return s4g_cli_fail("train", error);
    if (train_split) o.train_split = train_split;
    if (eval_split) o.eval_split = eval_split;

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
    sigaction(SIGUSR1, &sa, NULL); /* what mpirun forwards to every rank (header) */
    Ui ui = {.json = json};
    gint64 run = 0;
    s4g_comm comm = {.size = 1};
#ifdef S4G_HAVE_MPI
    gboolean mpi = s4g_mpi_launched();
    if (mpi && s4g_mpi_init(NULL, NULL, &comm, &err)) {
        fprintf(stderr, "s4g train: %s\n", err.msg);
        return 1;
    }
    if (comm.size > 1) o.comm = &comm;
    /* one GPU per rank: a --device list gives local rank i its i-th entry */
    g_auto(GStrv) devices = o.device ? g_strsplit(o.device, ",", -1) : NULL;
    if (mpi && devices && g_strv_length(devices) > 1) {
        int local = s4g_mpi_local_rank();
        if ((guint)local >= g_strv_length(devices)) {
            fprintf(stderr, "s4g train: --device lists %u devices, not one for local rank %d\n",
                    g_strv_length(devices), local);
            s4g_mpi_abort(2);
        }
        o.device = devices[local];
    }
#endif
    gboolean ok = s4g_train_run(store, &o, &stop_requested, comm.rank == 0 ? on_event : NULL,
                                &ui, &run, &error);
    if (ui.bar) s4g_progress_finish(ui.bar);
#ifdef S4G_HAVE_MPI
    if (mpi && !ok && comm.size > 1) {
        /* the others may wait in a collective: end the whole job */
        fprintf(stderr, "s4g train (rank %d of %d): %s\n", comm.rank, comm.size,
                error->message);
        s4g_mpi_abort(1);
    }
    if (mpi) s4g_mpi_finalize();
#endif
    if (!ok) {
        if (json) {
            S4gTrainEvent ev = {.kind = S4G_TRAIN_EVENT_ERROR, .run = run, .what = error->message};
            print_json(&ev);
        }
        return s4g_cli_fail("train", error);
    }
    return 0;
}
