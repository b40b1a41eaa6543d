/* cmd-import.c — s4g import: read a benchmark layout (or a folder/CSV of photos) and record
 * it in the project database in one transaction; print counts per split and view. */
#include "s4g-cli.h"
#include "s4g-dataset.h"
#include "s4g-store-datasets.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    gboolean tty;
    gint64 last_us;
    S4gProgress *store;
} Progress;

/* Reading probes every image header; the total is not known up front, so show a count. */
static void on_read(guint n, gpointer data)
{
    Progress *p = data;
    gint64 now = g_get_monotonic_time();
    if (!p->tty || now - p->last_us < 100000)
        return;
    p->last_us = now;
    fprintf(stderr, "\r\033[KReading: %u images", n);
    fflush(stderr);
}

static void on_store(guint done, guint total, gpointer data)
{
    Progress *p = data;
    if (!p->tty)
        return;
    if (!p->store) {
        fprintf(stderr, "\r\033[K");
        p->store = s4g_progress_new("Storing", total, TRUE);
    }
    s4g_progress_update(p->store, done, NULL);
}

int s4g_cmd_import(int argc, char **argv)
{
    g_autofree char *kind_name = NULL, *name = NULL;
    gboolean skip_missing = FALSE, outside = FALSE, replace = FALSE;
    GOptionEntry entries[] = {
        {"kind", 'k', 0, G_OPTION_ARG_STRING, &kind_name,
         "Layout of ROOT: cvusa, cvact, vigor, university or photos (a folder of JPEG/PNG with "
         "EXIF GPS, or a CSV path,lat,lon)",
         "KIND"},
        {"name", 'n', 0, G_OPTION_ARG_STRING, &name,
         "Dataset name in the project (default: the kind; importing under an existing name "
         "adds to it without duplicating rows)",
         "N"},
        {"skip-missing", 0, 0, G_OPTION_ARG_NONE, &skip_missing,
         "Count and report images listed but absent instead of failing", NULL},
        {"replace", 0, 0, G_OPTION_ARG_NONE, &replace,
         "If NAME is already a dataset of another kind or root, delete it and what refers to its "
         "images (pairs, embeddings, mined negatives, predictions, annotations) first",
         NULL},
        {"allow-outside-root", 0, 0, G_OPTION_ARG_NONE, &outside,
         "Accept image paths that are absolute or lead outside ROOT (by “..” or a symlink)",
         NULL},
        {NULL},
    };
    g_auto(S4gCliOptions) o = {.shared = S4G_CLI_PROJECT | S4G_CLI_JSON,
                               .project_help = "Project folder (created with its database if absent)",
                               .json_help = "Print the result as one JSON object"};
    if (!s4g_cli_parse_opts("import", "ROOT",
                            "record a dataset (CVUSA, CVACT, VIGOR, University-1652 or photos) in a "
                            "project",
                            entries, &o, &argc, &argv))
        return 2;
    const char *project = o.project;
    gboolean json = o.json;
    if (argc != 2 || !project || !kind_name) {
        fprintf(stderr, "s4g import: need --project DIR, --kind KIND and one ROOT\n"
                        "(try s4g import --help)\n");
        return 2;
    }
    S4gDatasetKind kind;
    if (!s4g_dataset_kind_parse(kind_name, &kind)) {
        fprintf(stderr, "s4g import: --kind: unknown kind “%s” (cvusa, cvact, vigor, "
                        "university, photos)\n",
                kind_name);
        return 2;
    }
    if (!name)
        name = g_strdup(kind_name);
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gDataset) ds = s4g_dataset_new(kind, argv[1], skip_missing);
    ds->allow_outside_root = outside;
    ds->replace = replace;
    Progress prog = {.tty = !json && isatty(STDERR_FILENO)};
    ds->on_read = on_read;
    ds->on_store = on_store;
    ds->progress_data = &prog;
    gboolean read_ok = s4g_dataset_read(ds, &error);
    if (prog.tty)
        fprintf(stderr, "\r\033[K");
    if (!read_ok)
        return s4g_cli_fail("import", error);
    g_autoptr(S4gStore) store = s4g_store_open(project, TRUE, &error);
    if (!store)
        return s4g_cli_fail("import", error);
    gint64 id = 0;
    guint new_images = 0, new_pairs = 0;
    gboolean stored = s4g_dataset_store(ds, store, name, &id, &new_images, &new_pairs, &error);
    s4g_progress_finish(prog.store);
    if (!stored)
        return s4g_cli_fail("import", error);
    g_autoptr(GArray) ic = s4g_store_dataset_image_counts(store, id, &error);
    g_autoptr(GArray) pc = ic ? s4g_store_dataset_pair_counts(store, id, &error) : NULL;
    if (!pc)
        return s4g_cli_fail("import", error);

    if (json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        s4g_json_add_int(b, "dataset", id);
        s4g_json_add_string(b, "name", name);
        s4g_json_add_string(b, "kind", kind_name);
        s4g_json_add_int(b, "new_images", new_images);
        s4g_json_add_int(b, "new_pairs", new_pairs);
        s4g_json_add_int(b, "missing", ds->missing);
        s4g_json_add_int(b, "skipped_pairs", ds->skipped_pairs);
        s4g_json_add_int(b, "skipped_files", ds->skipped_files);
        /* per split: images by view, pairs by relation */
        GArray *counts[2] = {ic, pc};
        const char *member[2] = {"images", "pairs"}, *what[2] = {"view", "relation"};
        for (int t = 0; t < 2; t++) {
            s4g_json_begin_array(b, member[t]);
            for (guint i = 0; i < counts[t]->len; i++) {
                S4gStoreCount *c = &g_array_index(counts[t], S4gStoreCount, i);
                json_builder_begin_object(b);
                s4g_json_add_string(b, "split", c->split);
                s4g_json_add_string(b, what[t], c->what);
                s4g_json_add_int(b, "count", c->count);
                json_builder_end_object(b);
            }
            json_builder_end_array(b);
        }
        json_builder_end_object(b);
        s4g_json_print(b, stdout);
        return 0;
    }
    printf("Dataset “%s” (%s, id %" G_GINT64_FORMAT ") in %s\n", name, kind_name, id, project);
    printf("  %-12s %-10s %10s\n", "split", "view", "images");
    for (guint i = 0; i < ic->len; i++) {
        S4gStoreCount *c = &g_array_index(ic, S4gStoreCount, i);
        printf("  %-12s %-10s %10" G_GINT64_FORMAT "\n", c->split, c->what, c->count);
    }
    printf("  %-12s %-14s %6s\n", "split", "relation", "pairs");
    for (guint i = 0; i < pc->len; i++) {
        S4gStoreCount *c = &g_array_index(pc, S4gStoreCount, i);
        printf("  %-12s %-14s %6" G_GINT64_FORMAT "\n", c->split, c->what, c->count);
    }
    printf("New rows: %u images, %u pairs.\n", new_images, new_pairs);
    if (ds->skipped_files)
        printf("Non-image files skipped: %u\n", ds->skipped_files);
    if (ds->missing) {
        printf("Missing images skipped: %u (pairs dropped: %u), e.g.:\n", ds->missing,
               ds->skipped_pairs);
        for (guint i = 0; i < ds->missing_paths->len; i++)
            printf("  %s\n", (char *)ds->missing_paths->pdata[i]);
    }
    return 0;
}
