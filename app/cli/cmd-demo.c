/* cmd-demo.c — s4g demo: the whole method on a small synthetic world, end to end, by running
 * the real commands in sequence: synth (CVUSA layout) → import → train (GPS then DSS hard
 * negatives) → eval (with the chance level) → gallery (the world's MBTiles map cut into
 * patches and embedded) → predict (the predictor in-process, as s4g predict runs it) every
 * held-out panorama over that gallery, storing its predictions, with each
 * photo's error in metres, the median/mean error and the shares within 25/50/100 m against
 * what a random gallery patch would give. */
#include "cmd-predict.h"
#include "s4g-demo-events.h"
#include "s4g-cli.h"
#include "s4g-convnext.h"
#include "s4g-csv.h"
#include "s4g-geo.h"
#include "s4g-locate.h"
#include "s4g-mbtiles.h"
#include "s4g-store-datasets.h"
#include "s4g-store-runs.h"
#include "s4g-store.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int s4g_cmd_synth(int argc, char **argv);
int s4g_cmd_import(int argc, char **argv);
int s4g_cmd_train(int argc, char **argv);
int s4g_cmd_eval(int argc, char **argv);
int s4g_cmd_gallery(int argc, char **argv);

/* The model the demo trains (--preset, --epochs): the README's figures say what it reaches
 * and in how long. */
#define DEMO_PRESET "atto"
#define DEMO_EPOCHS 120

/* --json: the progress events go here (the real stdout); NULL without --json. */
static FILE *events;

/* Runs one command with a NULL-terminated argument list, echoing it. */
static int run(int (*cmd)(int, char **), const char *first, ...)
{
    g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *))
        g_ptr_array_add(args, g_strdup(a));
    va_end(ap);
    g_ptr_array_add(args, NULL);
    g_autofree char *line = g_strjoinv(" ", (char **)args->pdata);
    /* with --json the echo goes with the steps' output, to stderr */
    fprintf(events ? stderr : stdout, "\n$ s4g %s\n", line);
    fflush(events ? stderr : stdout);
    /* GOptionContext rewrites argv in place: give it a copy it may own */
    int argc = (int)args->len - 1;
    char **argv = g_new0(char *, argc + 1);
    for (int i = 0; i < argc; i++)
        argv[i] = args->pdata[i];
    int rc = cmd(argc, argv);
    g_free(argv);
    fflush(stdout);
    return rc;
}

/* "demo-SEED", or "demo-SEED-K" with the first free K when the demo runs again in the same
 * folder, so re-running never collides with an earlier model. */
static char *unused_model_name(const char *project, int seed)
{
    g_autoptr(S4gStore) store = s4g_store_open(project, FALSE, NULL);
    for (int k = 1;; k++) {
        char *name =
            k == 1 ? g_strdup_printf("demo-%d", seed) : g_strdup_printf("demo-%d-%d", seed, k);
        S4gModelRow *row = store ? s4g_store_model_get(store, 0, name, NULL) : NULL;
        if (!row) return name;
        s4g_model_row_free(row);
        g_free(name);
    }
}

/* The val split's panoramas (absolute paths) and their true lat/lon pairs. */
static gboolean held_out(const char *world, GPtrArray *photos, GArray *truth, GError **error)
{
    g_autofree char *split_file = g_build_filename(world, "splits", "val-19zl.csv", NULL);
    g_autofree char *loc_file = g_build_filename(world, "split_locations", "all.csv", NULL);
    /* all.csv: record id-1 = sat_lat,sat_lon,… */
    g_autoptr(GArray) locs = g_array_new(FALSE, FALSE, sizeof(double));
    g_autoptr(S4gCsvReader) lr = s4g_csv_reader_open(loc_file, NULL, error);
    if (!lr) return FALSE;
    char **f;
    g_autoptr(GError) e = NULL;
    while ((f = s4g_csv_reader_next(lr, &e))) {
        double ll[2] = {NAN, NAN};
        for (int k = 0; k < 2 && f[0] && f[k]; k++) ll[k] = g_ascii_strtod(f[k], NULL);
        g_array_append_vals(locs, ll, 2);
    }
    if (e) return g_propagate_error(error, g_steal_pointer(&e)), FALSE;
    g_autoptr(S4gCsvReader) sr = s4g_csv_reader_open(split_file, NULL, error);
    if (!sr) return FALSE;
    guint n_rows = locs->len / 2;
    char **cols;
    while ((cols = s4g_csv_reader_next(sr, &e))) {
        if (!cols[0] || !cols[1]) continue;
        g_autofree char *base = g_path_get_basename(g_strstrip(cols[1]));
        guint64 id = g_ascii_strtoull(base, NULL, 10);
        double ll[2] = {NAN, NAN};
        if (id >= 1 && id <= n_rows) memcpy(ll, &g_array_index(locs, double, 2 * (id - 1)), sizeof ll);
        if (!isfinite(ll[0]) || !isfinite(ll[1])) {
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                        "%s:%u: no location row for %s in %s", split_file,
                        s4g_csv_reader_line(sr), cols[1], loc_file);
            return FALSE;
        }
        g_ptr_array_add(photos, g_build_filename(world, cols[1], NULL));
        g_array_append_vals(truth, ll, 2);
    }
    if (e) return g_propagate_error(error, g_steal_pointer(&e)), FALSE;
    if (!photos->len) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: no held-out photos", split_file);
        return FALSE;
    }
    return TRUE;
}

/* What s4g predict needs, opened once for both searches of the demo. */
typedef struct {
    S4gStore *store;
    s4g_ctx *ctx;
    s4g_convnext *m;
    gint64 model_id;
    S4gModelSpec spec;
} Predicting;

static void predicting_close(Predicting *pr)
{
    s4g_convnext_free(pr->m);
    s4g_ctx_free(pr->ctx);
    g_clear_pointer(&pr->store, s4g_store_close);
}

static gboolean predicting_open(Predicting *pr, const char *project, const char *model,
                                const S4gCliOptions *o, GError **error)
{
    s4g_ctx_opts co = s4g_cli_ctx_opts(o);
    s4g_err err = {0};
    pr->spec = s4g_model_spec_default();
    if (!(pr->store = s4g_store_open(project, FALSE, error))) return FALSE;
    if (!(pr->ctx = s4g_ctx_new(&co, &err))) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_COMPUTE, "compute device: %s", err.msg);
        return FALSE;
    }
    pr->m = s4g_model_open(pr->store, model, pr->ctx, &pr->spec, &pr->model_id, error);
    return pr->m != NULL;
}

/* s4g predict --top 3 in-process over a dataset (which = "--dataset") or gallery ("--gallery")
 * for the first n photos: shown in full as the command shows them, or with csv set, quietly,
 * writing the estimates to csv, storing the predictions of every photo the project knows
 * (the held-out photos: the Studio opens with their errors) and appending them to results. */
static int predict(Predicting *pr, const char *project, const char *model, const char *be,
                   const char *which, const char *name, GPtrArray *photos, guint n, const char *csv,
                   GPtrArray *results)
{
    if (csv)
        printf("\n$ s4g predict --project %s %s %s --model %s --csv %s "
               "<the %u held-out photos>\n",
               project, which, name, model, csv, n);
    else {
        g_autoptr(GString) line = g_string_new(NULL);
        g_string_printf(line, "predict --project %s %s %s --model %s --top 3 --backend %s", project,
                        which, name, model, be);
        for (guint i = 0; i < n; i++)
            g_string_append_printf(line, " %s", (const char *)photos->pdata[i]);
        printf("\n$ s4g %s\n", line->str);
    }
    fflush(stdout);
    g_autoptr(GError) error = NULL;
    S4gPredictorOptions po = {
        .top = 3, .batch = 32, .refine_radius = 50.0, .store_located = csv != NULL};
    S4gPredictOutput o;
    s4g_predict_output_init(&o);
    g_autoptr(S4gPredictor) pred = s4g_predictor_new(pr->store, name, NULL, &error);
    gboolean ok = pred &&
                  s4g_predictor_set_model(pred, pr->ctx, pr->m, pr->model_id, &pr->spec, &po, NULL,
                                          NULL, NULL, &error) &&
                  s4g_predict_photos(pred, name, (const char *const *)photos->pdata, n, FALSE,
                                     csv ? NULL : stdout, &o, results, &error) &&
                  s4g_predict_output_save(&o, csv, NULL, NULL, &error);
    s4g_predict_output_clear(&o);
    return ok ? 0 : s4g_cli_fail("predict", error);
}

static void print_stats(const char *what, const S4gLocateStats *s)
{
    printf("  %-26s %7.0f m %7.0f m", what, s->median_m, s->mean_m);
    for (int t = 0; t < S4G_LOCATE_N_WITHIN; t++)
        printf("  %5.1f %%", 100 * s->within[t]);
    printf("\n");
}

/* v as s4g predict writes it (%.7f): the errors are those of the estimates in its CSV. */
static double as_written(double v)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    return g_ascii_strtod(g_ascii_formatd(buf, sizeof buf, "%.7f", v), NULL);
}

/* Each held-out photo's error (results: the gallery predictions, in the photos' order), the
 * summary and chance: a random gallery patch centre as the estimate.  localisation.json goes
 * next to csv. */
static gboolean report(S4gStore *store, GPtrArray *photos, GArray *truth, GPtrArray *results,
                       const char *csv, GError **error)
{
    guint n = photos->len;
    g_autofree double *err = g_new(double, n);
    const double *tr = (const double *)truth->data;
    printf("\nHeld-out photos located on the gallery (error in metres):\n");
    for (guint i = 0; i < n; i++) {
        const S4gPrediction *r = results->pdata[i];
        double lat = as_written(r->lat), lon = as_written(r->lon);
        err[i] = isfinite(lat) && isfinite(lon)
                     ? s4g_geo_haversine_m(lat, lon, tr[2 * i], tr[2 * i + 1])
                     : NAN;
        g_autofree char *base = g_path_get_basename(photos->pdata[i]);
        char *dot = strrchr(base, '.');
        if (dot) *dot = 0;
        printf("  %s %5.0f%s", base, err[i], i % 6 == 5 || i + 1 == n ? "\n" : "  ");
    }
    S4gStoreDataset ds = {0};
    if (!s4g_store_dataset_find(store, "region", &ds, error)) return FALSE;
    gint64 dsid = ds.id;
    s4g_store_dataset_clear(&ds);
    g_autoptr(GArray) gal = s4g_store_images_list(store, dsid, "gallery", "satellite", error);
    if (!gal) return FALSE;
    g_autofree double *glat = g_new(double, MAX(gal->len, 1)),
                      *glon = g_new(double, MAX(gal->len, 1));
    g_autofree double *plat = g_new(double, n), *plon = g_new(double, n);
    for (guint j = 0; j < gal->len; j++) {
        glat[j] = g_array_index(gal, S4gStoreImage, j).lat;
        glon[j] = g_array_index(gal, S4gStoreImage, j).lon;
    }
    for (guint i = 0; i < n; i++)
        plat[i] = tr[2 * i], plon[i] = tr[2 * i + 1];
    S4gLocateStats got, chance;
    s4g_locate_stats(err, (int)n, &got);
    s4g_locate_chance(plat, plon, (int)n, glat, glon, (int)gal->len, &chance);
    printf("\nLocalisation of %u held-out photos over %u gallery patches:\n", n, gal->len);
    printf("  %-26s %9s %9s    ≤25 m    ≤50 m   ≤100 m\n", "", "median", "mean");
    print_stats("s4g predict", &got);
    print_stats("chance (a random patch)", &chance);
    /* the same numbers for scripts and tests */
    g_autoptr(JsonBuilder) js = json_builder_new();
    json_builder_begin_object(js);
    s4g_json_add_int(js, "photos", n);
    s4g_json_add_int(js, "patches", gal->len);
    const S4gLocateStats *both[2] = {&got, &chance};
    for (int b = 0; b < 2; b++) {
        const S4gLocateStats *st = both[b];
        s4g_json_begin_object(js, b ? "chance" : "predict");
        s4g_json_add_double(js, "median_m", st->median_m);
        s4g_json_add_double(js, "mean_m", st->mean_m);
        for (int t = 0; t < S4G_LOCATE_N_WITHIN; t++) {
            g_autofree char *key = g_strdup_printf("within_%.0f_m", S4G_LOCATE_WITHIN_M[t]);
            s4g_json_add_double(js, key, st->within[t]);
        }
        json_builder_end_object(js);
    }
    s4g_json_begin_array(js, "errors_m"); /* null: a photo without an estimate */
    for (guint i = 0; i < n; i++)
        s4g_json_add_double(js, NULL, err[i]);
    json_builder_end_array(js);
    json_builder_end_object(js);
    g_autofree char *dir = g_path_get_dirname(csv);
    g_autofree char *jp = g_build_filename(dir, "localisation.json", NULL);
    if (!s4g_json_save(js, jp, error)) return FALSE;
    printf("  (also in %s)\n", jp);
    return TRUE;
}

/* A word as a shell reads it: as it is when it holds only safe characters, else quoted. */
static char *shell_word(const char *w)
{
    for (const char *c = w; *c; c++)
        if (!g_ascii_isalnum(*c) && !strchr("_./-+,:@%=", *c)) return g_shell_quote(w);
    return *w ? g_strdup(w) : g_shell_quote(w);
}

/* The command that opens the Studio, as it can be typed in the current folder: the
 * s4g-studio built beside this s4g (build/app/studio next to build/app/cli, or the same
 * bindir), relative when it lies below the current folder; else the one on PATH. */
static char *studio_command(void)
{
    g_autofree char *self_exe = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *cwd = g_get_current_dir();
    if (self_exe) {
        g_autofree char *dir = g_path_get_dirname(self_exe);
        g_autofree char *parent = g_path_get_dirname(dir);
        char *candidates[] = {g_build_filename(parent, "studio", "s4g-studio", NULL),
                              g_build_filename(dir, "s4g-studio", NULL)};
        char *found = NULL;
        for (guint i = 0; i < G_N_ELEMENTS(candidates); i++) {
            if (!found && g_file_test(candidates[i], G_FILE_TEST_IS_EXECUTABLE))
                found = g_steal_pointer(&candidates[i]);
            g_free(candidates[i]);
        }
        if (found) {
            g_autofree char *prefix = g_strconcat(cwd, G_DIR_SEPARATOR_S, NULL);
            if (g_str_has_prefix(found, prefix)) {
                g_autofree char *rel = g_strdup(found + strlen(prefix));
                g_free(found);
                return shell_word(rel);
            }
            g_autofree char *abs = found;
            return shell_word(abs);
        }
    }
    return g_strdup("s4g-studio");
}

/* Announces step `name` (one of S4G_DEMO_STEPS) as a JSON event with --json. */
static void step(const char *name)
{
    if (!events) return;
    int i = 0;
    while (i < S4G_DEMO_N_STEPS && strcmp(S4G_DEMO_STEPS[i], name)) i++;
    g_assert(i < S4G_DEMO_N_STEPS);
    S4gDemoEvent ev = {.kind = S4G_DEMO_EVENT_STEP,
                       .step = i + 1,
                       .steps = S4G_DEMO_N_STEPS,
                       .name = (char *)name};
    g_autofree char *line = s4g_demo_event_to_json(&ev);
    fprintf(events, "%s\n", line);
    fflush(events);
}

/* Deletes `path` and everything below it (symbolic links are removed, never followed). */
static gboolean remove_tree(const char *path, GError **error)
{
    if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
        g_autoptr(GDir) d = g_dir_open(path, 0, error);
        if (!d) return FALSE;
        for (const char *name; (name = g_dir_read_name(d));) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            if (!remove_tree(child, error)) return FALSE;
        }
    }
    if (g_remove(path) != 0) {
        int e = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "%s: %s", path,
                    g_strerror(e));
        return FALSE;
    }
    return TRUE;
}

static int demo_run(const char *dir, gboolean atomic, int locations, int epochs, int seed,
                    int gstride, int shift, const char *preset, const S4gCliOptions *op);

int s4g_cmd_demo(int argc, char **argv)
{
    g_autofree char *dir = NULL, *preset = NULL;
    int locations = 400, epochs = DEMO_EPOCHS, seed = 1, gstride = 8, shift = 4;
    gboolean atomic = FALSE;
    GOptionEntry entries[] = {
        {"dir", 'd', 0, G_OPTION_ARG_FILENAME, &dir, "The same as --project", "DIR"},
        {"locations", 'n', 0, G_OPTION_ARG_INT, &locations, "Panoramas in the world (400)", "N"},
        {"epochs", 'e', 0, G_OPTION_ARG_INT, &epochs, "Training epochs (" G_STRINGIFY(DEMO_EPOCHS) ")", "N"},
        {"seed", 's', 0, G_OPTION_ARG_INT, &seed, "World and training seed (1)", "N"},
        {"preset", 0, 0, G_OPTION_ARG_STRING, &preset,
         "ConvNeXt preset of the model (" DEMO_PRESET "; s4g train --preset)", "NAME"},
        {"satellite-shift", 0, 0, G_OPTION_ARG_INT, &shift,
         "Training translation of the satellite images, pixels (4; s4g train "
         "--satellite-shift): the gallery's patches are not centred on the photos",
         "PX"},
        {"gallery-stride", 0, 0, G_OPTION_ARG_INT, &gstride,
         "Map pixels between the gallery's patches (8)", "PX"},
        {"atomic", 0, 0, G_OPTION_ARG_NONE, &atomic,
         "Build the project in DIR/project.partial and move it to DIR/project only when every "
         "step succeeded, so DIR/project is never half made (it must not exist yet)",
         NULL},
        {NULL},
    };
    /* the demo's own small defaults: a world of 400 panoramas trains in minutes */
    g_auto(S4gCliOptions) o = {
        .shared = S4G_CLI_PROJECT | S4G_CLI_BATCH | S4G_CLI_BACKEND | S4G_CLI_JSON,
        .batch = 32,
        .json_help = "Progress as one JSON object per step on stdout (the steps' own output "
                     "goes to stderr)",
        .project_help = "Folder for the world and the project (default: a new temporary folder)",
        .batch_help = "Pairs per step (32)"};
    if (!s4g_cli_parse_opts("demo", "",
                            "synthesise a small world, import it, train briefly, evaluate, build the gallery "
                            "from its map and locate the held-out photos on it",
                            entries, &o, &argc, &argv))
        return 2;
    if (o.project && !dir) dir = g_strdup(o.project);
    int batch = o.batch;
    if (locations < 2 * batch || epochs < 1 || batch < 2 || gstride < 1 || shift < 0) {
        fprintf(stderr, "s4g demo: need --locations ≥ 2·--batch, --epochs ≥ 1, --batch ≥ 2, "
                        "--gallery-stride ≥ 1, --satellite-shift ≥ 0\n");
        return 2;
    }
    g_autoptr(GError) error = NULL;
    if (!dir) {
        dir = g_dir_make_tmp("s4g-demo-XXXXXX", &error);
        if (!dir) return s4g_cli_fail("demo", error);
    }
    int saved_stdout = -1;
    if (o.json) {
        /* the events own the real stdout; whatever the steps print goes to stderr */
        fflush(stdout);
        saved_stdout = dup(STDOUT_FILENO);
        int ev_fd = dup(STDOUT_FILENO);
        if (saved_stdout < 0 || ev_fd < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0 ||
            !(events = fdopen(ev_fd, "w"))) {
            perror("s4g demo: --json");
            return 1;
        }
    }
    s4g_convnext_cfg cfg;
    s4g_err err = {0};
    if (!preset) preset = g_strdup(DEMO_PRESET);
    if (s4g_convnext_preset(preset, &cfg, &err)) {
        fprintf(stderr, "s4g demo: --preset: %s\n", err.msg);
        return 2;
    }
    int rc = demo_run(dir, atomic, locations, epochs, seed, gstride, shift, preset, &o);
    if (events) {
        fflush(stdout);
        dup2(saved_stdout, STDOUT_FILENO);
        close(saved_stdout);
        g_clear_pointer(&events, fclose);
    }
    return rc;
}

static int demo_run(const char *dir, gboolean atomic, int locations, int epochs, int seed,
                    int gstride, int shift, const char *preset, const S4gCliOptions *op)
{
    const S4gCliOptions o = *op;
    int batch = o.batch;
    g_autoptr(GError) error = NULL;
    g_autofree char *world = g_build_filename(dir, "world", NULL);
    g_autofree char *final = g_build_filename(dir, "project", NULL);
    g_autofree char *project =
        atomic ? g_build_filename(dir, "project.partial", NULL) : g_strdup(final);
    if (atomic) {
        g_autofree char *db = g_build_filename(final, "project.s4g", NULL);
        if (g_file_test(db, G_FILE_TEST_EXISTS)) {
            fprintf(stderr, "s4g demo: --atomic: %s exists already\n", db);
            return 1;
        }
        /* what an earlier, interrupted run left: a staging folder, or a project folder
         * without its database (older demos deleted it after a failure) */
        const char *stale[] = {project, final};
        for (guint i = 0; i < G_N_ELEMENTS(stale); i++)
            if (g_file_test(stale[i], G_FILE_TEST_EXISTS) && !remove_tree(stale[i], &error))
                return s4g_cli_fail("demo", error);
    }
    g_autofree char *n = g_strdup_printf("%d", locations), *e = g_strdup_printf("%d", epochs),
                    *b = g_strdup_printf("%d", batch), *s = g_strdup_printf("%d", seed),
                    *ev = g_strdup_printf("%d", MAX(1, epochs / 3)),
                    *sh = g_strdup_printf("%d", shift);
    const char *be = o.backend_name ? o.backend_name : "auto";
    /* --device (or S4G_DEVICE) reaches every step as its --device; the pair goes last in each
     * NULL-terminated list, so without a device the list ends before it */
    const char *dev = o.device, *devflag = dev ? "--device" : NULL;
    printf("Sample4Geo Studio demo in %s\n", dir);
    step("synth");
    if (run(s4g_cmd_synth, "synth", "--layout", "cvusa", "--out", world, "--locations", n, "--seed",
            s, "--image-scale", "0.5", NULL) ||
        (step("import"), 0) ||
        run(s4g_cmd_import, "import", "--project", project, "--kind", "cvusa", "--name", "demo",
            world, NULL))
        return 1;
    g_autofree char *model = unused_model_name(project, seed);
    step("train");
    /* with --json the trainer's own events (`s4g train --json`) join the demo's, so the
     * longest step shows its progress; the --device pair, if any, follows --json */
    const char *x1 = events ? "--json" : devflag, *x2 = events ? devflag : dev,
               *x3 = events ? dev : NULL;
    if (events) {
        fflush(stdout);
        fflush(events);
        dup2(fileno(events), STDOUT_FILENO);
    }
    int train_rc = run(s4g_cmd_train, "train", "--project", project, "--dataset", "demo",
                       "--model", model, "--preset", preset, "--ground-size", "32x128",
                       "--satellite-size", "64x64", "--epochs", e, "--batch", b, "--eval-every",
                       ev, "--seed", s, "--neighbour-select", "8", "--neighbour-range", "16",
                       "--satellite-shift", sh, "--backend", be, x1, x2, x3, NULL);
    if (events) {
        fflush(stdout);
        dup2(STDERR_FILENO, STDOUT_FILENO);
    }
    if (train_rc ||
        (step("eval"), 0) ||
        run(s4g_cmd_eval, "eval", "--project", project, "--dataset", "demo", "--split", "val",
            "--model", model, "--backend", be, devflag, dev, NULL))
        return 1;
    /* the held-out panoramas (the val split, ids in CVUSA's 1-based numbering) and their true
     * locations (split_locations/all.csv: row id-1 = sat_lat,sat_lon,ground_lat,ground_lon) */
    g_autoptr(GPtrArray) photos = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GArray) truth = g_array_new(FALSE, FALSE, sizeof(double));
    if (!held_out(world, photos, truth, &error)) return s4g_cli_fail("demo", error);
    /* the first three in full over the dataset's own tiles (their predictions are stored:
     * the Studio shows them on the demo project) */
    Predicting pr = {0};
    step("predict");
    if (!predicting_open(&pr, project, model, &o, &error)) {
        predicting_close(&pr);
        return s4g_cli_fail("predict", error);
    }
    int rc = predict(&pr, project, model, be, "--dataset", "demo", photos, MIN(3u, photos->len),
                     NULL, NULL);
    predicting_close(&pr); /* s4g gallery opens the project next */
    if (rc) return 1;
    /* the gallery: the region's MBTiles at its finest zoom cut into patches of the satellite
     * footprint (80 m in s4g synth's CVUSA layout) every --gallery-stride pixels */
    g_autofree char *tiles = g_build_filename(world, "tiles", "region.mbtiles", NULL);
    int zoom = -1;
    {
        g_autoptr(S4gMbtiles) mb = s4g_mbtiles_open(tiles, &error);
        if (!mb) return s4g_cli_fail("demo", error);
        zoom = s4g_mbtiles_get_max_zoom(mb);
    }
    g_autofree char *zs = g_strdup_printf("%d", zoom), *ss = g_strdup_printf("%d", gstride);
    step("gallery");
    if (run(s4g_cmd_gallery, "gallery", "--project", project, "--tiles", tiles, "--zoom", zs,
            "--stride", ss, "--footprint", "80", "--model", model, "--name", "region",
            "--backend", be, devflag, dev, NULL))
        return 1;
    /* every held-out photo located on the gallery, quietly (the estimates go to a CSV) */
    g_autofree char *csv = g_build_filename(dir, "held-out.csv", NULL);
    g_autoptr(GPtrArray) results =
        g_ptr_array_new_with_free_func((GDestroyNotify)s4g_prediction_free);
    step("locate");
    if (!predicting_open(&pr, project, model, &o, &error)) {
        predicting_close(&pr);
        return s4g_cli_fail("predict", error);
    }
    rc = predict(&pr, project, model, be, "--gallery", "region", photos, photos->len, csv, results);
    if (!rc && !report(pr.store, photos, truth, results, csv, &error))
        rc = s4g_cli_fail("demo", error);
    predicting_close(&pr);
    if (rc) return 1;
    if (atomic && g_rename(project, final) != 0) {
        int e = errno;
        fprintf(stderr, "s4g demo: moving %s to %s: %s\n", project, final, g_strerror(e));
        return 1;
    }
    if (events) {
        S4gDemoEvent ev = {.kind = S4G_DEMO_EVENT_DONE, .project = final};
        g_autofree char *line = s4g_demo_event_to_json(&ev);
        fprintf(events, "%s\n", line);
        fflush(events);
    }
    g_autofree char *studio = studio_command();
    g_autofree char *quoted = shell_word(final);
    printf("\nDone.  The project is %s.  Open it in the Studio with\n  %s %s\n"
           "or run s4g eval/predict on it.\n",
           final, studio, quoted);
    return 0;
}
