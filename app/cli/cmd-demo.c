/* cmd-demo.c — s4g demo: the whole method on a small synthetic world, end to end, by running
 * the real commands in sequence: synth (CVUSA layout) → import → train (GPS then DSS hard
 * negatives) → eval (with the chance level) → predict a few held-out panoramas. */
#include "s4g-cli.h"
#include "s4g-store-runs.h"
#include "s4g-store.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

int s4g_cmd_synth(int argc, char **argv);
int s4g_cmd_import(int argc, char **argv);
int s4g_cmd_train(int argc, char **argv);
int s4g_cmd_eval(int argc, char **argv);
int s4g_cmd_predict(int argc, char **argv);

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
    printf("\n$ s4g %s\n", line);
    fflush(stdout);
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
        char *name = k == 1 ? g_strdup_printf("demo-%d", seed)
                            : g_strdup_printf("demo-%d-%d", seed, k);
        S4gModelRow *row = store ? s4g_store_model_get(store, 0, name, NULL) : NULL;
        if (!row)
            return name;
        s4g_model_row_free(row);
        g_free(name);
    }
}

int s4g_cmd_demo(int argc, char **argv)
{
    g_autofree char *dir = NULL, *backend = NULL;
    int locations = 400, epochs = 30, batch = 32, seed = 1;
    g_autofree char *device_opt = NULL;
    GOptionEntry entries[] = {
        {"project", 'p', 0, G_OPTION_ARG_FILENAME, &dir,
         "Folder for the world and the project (default: a new temporary folder)", "DIR"},
        {"locations", 'n', 0, G_OPTION_ARG_INT, &locations, "Panoramas in the world (400)", "N"},
        {"epochs", 'e', 0, G_OPTION_ARG_INT, &epochs, "Training epochs (30)", "N"},
        {"batch", 'b', 0, G_OPTION_ARG_INT, &batch, "Pairs per step (32)", "B"},
        {"seed", 's', 0, G_OPTION_ARG_INT, &seed, "World and training seed (1)", "N"},
        {"backend", 0, 0, G_OPTION_ARG_STRING, &backend, "auto, cpu or vulkan (auto)", "B"},
        {"device", 0, 0, G_OPTION_ARG_STRING, &device_opt,
         "Vulkan device index or name substring (sets S4G_DEVICE)", "DEV"},
        {NULL},
    };
    if (!s4g_cli_parse("demo", "",
                       "synthesise a small world, import it, train briefly, evaluate and predict",
                       entries, &argc, &argv))
        return 2;
    s4g_cli_use_device(device_opt);
    if (locations < 2 * batch || epochs < 1 || batch < 2) {
        fprintf(stderr, "s4g demo: need --locations ≥ 2·--batch, --epochs ≥ 1, --batch ≥ 2\n");
        return 2;
    }
    g_autoptr(GError) error = NULL;
    if (!dir) {
        dir = g_dir_make_tmp("s4g-demo-XXXXXX", &error);
        if (!dir) return s4g_cli_fail("demo", error);
    }
    g_autofree char *world = g_build_filename(dir, "world", NULL);
    g_autofree char *project = g_build_filename(dir, "project", NULL);
    g_autofree char *n = g_strdup_printf("%d", locations), *e = g_strdup_printf("%d", epochs),
                    *b = g_strdup_printf("%d", batch), *s = g_strdup_printf("%d", seed),
                    *ev = g_strdup_printf("%d", MAX(1, epochs / 3));
    const char *be = backend ? backend : "auto";
    printf("Sample4Geo Studio demo in %s\n", dir);
    if (run(s4g_cmd_synth, "synth", "--layout", "cvusa", "--out", world, "--locations", n, "--seed",
            s, "--image-scale", "0.5", NULL) ||
        run(s4g_cmd_import, "import", "--project", project, "--kind", "cvusa", "--name", "demo",
            world, NULL))
        return 1;
    g_autofree char *model = unused_model_name(project, seed);
    if (run(s4g_cmd_train, "train", "--project", project, "--dataset", "demo", "--model", model,
            "--preset", "atto", "--ground-size", "32x128", "--satellite-size", "64x64", "--epochs",
            e, "--batch", b, "--eval-every", ev, "--seed", s, "--neighbour-select", "8",
            "--neighbour-range", "16", "--backend", be, NULL) ||
        run(s4g_cmd_eval, "eval", "--project", project, "--dataset", "demo", "--split", "val",
            "--model", model, "--backend", be, NULL))
        return 1;
    /* three held-out panoramas: the first lines of the val split file */
    g_autofree char *split_file = g_build_filename(world, "splits", "val-19zl.csv", NULL);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(split_file, &text, NULL, &error)) return s4g_cli_fail("demo", error);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    const char *fixed[] = {"predict", "--project", project, "--dataset", "demo", "--model",
                           model,     "--top",     "3",     "--backend", be};
    g_autoptr(GPtrArray) pargs = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < G_N_ELEMENTS(fixed); i++)
        g_ptr_array_add(pargs, g_strdup(fixed[i]));
    for (guint i = 0, taken = 0; lines[i] && taken < 3; i++) {
        g_auto(GStrv) cols = g_strsplit(lines[i], ",", 3);
        if (!cols[0] || !cols[1]) continue;
        g_ptr_array_add(pargs, g_build_filename(world, g_strstrip(cols[1]), NULL));
        taken++;
    }
    g_autofree char *line = NULL;
    g_ptr_array_add(pargs, NULL);
    line = g_strjoinv(" ", (char **)pargs->pdata);
    printf("\n$ s4g %s\n", line);
    fflush(stdout);
    int pargc = (int)pargs->len - 1;
    g_autofree char **pargv = g_new0(char *, pargc + 1);
    for (int i = 0; i < pargc; i++)
        pargv[i] = pargs->pdata[i];
    if (s4g_cmd_predict(pargc, pargv)) return 1;
    printf("\nDone.  The project is %s; open it in s4g-studio or run s4g eval/predict on it.\n",
           project);
    return 0;
}
