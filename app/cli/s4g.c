/* s4g.c — the s4g program: dispatches to one command per file (cmd-*.c). */
#include "s4g-config.h"
#include "s4g-cli.h"
#include "s4g-test-kill.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

/* One line per command; each is defined in cmd-<name>.c. */
#define S4G_COMMANDS(X) \
    X(demo, "synthesise a small world, import, train briefly, evaluate and predict") \
    X(synth, "write a synthetic cross-view dataset (cvusa, cvact, vigor, university layouts)") \
    X(import, "record a dataset (CVUSA, CVACT, VIGOR, University-1652, photos) in a project") \
    X(train, "train or resume a Sample4Geo model (InfoNCE, GPS/DSS hard negatives)") \
    X(eval, "evaluate a model on a split: R@1/5/10/1%, VIGOR hit rate") \
    X(model, "import outside weights as a model, list, describe and export models (.pth, .safetensors)") \
    X(embed, "encode a dataset's images into the project's embeddings cache") \
    X(mine, "mine GPS neighbours or DSS hard negatives of a training split") \
    X(predict, "locate ground photos by retrieval over a dataset's satellite tiles") \
    X(gallery, "cut imagery (MBTiles or any GDAL source) into an embedded reference gallery") \
    X(tiles, "write an offline MBTiles pyramid from any GDAL imagery source") \
    X(export, "export embeddings (.npy + .csv) or predictions (.csv, .geojson, .kml)") \
    X(encode, "encode a .npy batch of images into ConvNeXt feature vectors") \
    X(bench, "measure inference, training-step and search throughput") \
    X(info, "list compute devices, the chosen one and its features, and the CPU backend")

#define DECLARE(n, s) int s4g_cmd_##n(int argc, char **argv);
S4G_COMMANDS(DECLARE)
#define ENTRY(n, s) {#n, s, s4g_cmd_##n},
static const S4gCommand commands[] = {S4G_COMMANDS(ENTRY)};

static void usage(FILE *out)
{
    fprintf(out, "Usage: s4g COMMAND [OPTIONS…]\n\n"
                 "Sample4Geo Studio %s — cross-view geo-localisation (Sample4Geo, ICCV 2023):\n"
                 "train, evaluate and use ConvNeXt ground↔satellite retrieval models.\n\n"
                 "Commands:\n",
            S4G_VERSION);
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun “s4g COMMAND --help” for a command's options.\n");
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    setlocale(LC_NUMERIC, "C"); /* JSON and CSV output use "." whatever the locale */
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("s4g %s\n", S4G_VERSION);
        return 0;
    }
    /* TEST ONLY (s4g-test-kill.h); train reads its own points in cmd-train.c */
    if (strcmp(argv[1], "train")) {
        g_autoptr(GError) error = NULL;
        if (!s4g_test_kill_arm(g_getenv("S4G_TEST_KILL_AT"), &error)) {
            fprintf(stderr, "s4g: %s\n", error->message);
            return 2;
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "s4g: unknown command “%s”\n\n", argv[1]);
    usage(stderr);
    return 2;
}
