/* fuzz-readers.c — libFuzzer targets for the dataset readers' user files, one executable per
 * target (FUZZ_CSV, FUZZ_VIGOR, FUZZ_CVACT, FUZZ_PHOTOS, FUZZ_MBTILES picks it).  Each writes
 * the input into a scratch dataset root made once per process and runs the real reader on it,
 * so the whole path (file checks, line splitting, number parsing, matio, libexif, SQLite) is
 * exercised.  Any crash, sanitizer report, leak, hang or allocation over libFuzzer's
 * -malloc_limit_mb is a bug; an error return is the expected answer to garbage.
 *   CSV      CVUSA splits/val-19zl.csv or split_locations/all.csv (first byte picks)
 *   VIGOR    satellite_list.txt or same_area_balanced_train.txt (first byte picks)
 *   CVACT    ACT_data.mat (v5 walked by s4g_mat_check; v7.3 read by libhdf5 in a forked child)
 *   PHOTOS   the photos CSV (first byte even) or a JPEG/EXIF block (odd) for the GPS tags
 *   MBTILES  an .mbtiles file: open, metadata (format, bounds, zooms), one tile */
#include "s4g-dataset.h"
#include "s4g-image.h"
#include "s4g-mbtiles.h"
#include "fuzz-outcome.h"

#include <glib/gstdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int s4g_fuzz_outcome;

static char *root;

static void put(const char *rel, const void *data, size_t len)
{
    g_autofree char *p = g_build_filename(root, rel, NULL);
    g_autofree char *d = g_path_get_dirname(p);
    g_mkdir_with_parents(d, 0700);
    g_file_set_contents(p, data, (gssize)len, NULL);
}

/* Removes the scratch root at exit (of libFuzzer, or of the replay driver: its children
 * leave with _exit and keep it). */
static void remove_root(void)
{
    const char *argv[] = {"rm", "-rf", root, NULL};
    if (root) g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL,
                           NULL, NULL, NULL);
}

static void setup(void)
{
    if (root)
        return;
    root = g_dir_make_tmp("s4g-fuzz-XXXXXX", NULL);
    if (!root)
        abort();
    atexit(remove_root);
    /* quiet: errors are the expected outcome */
    g_log_set_handler(NULL, G_LOG_LEVEL_MASK, (GLogFunc)g_log_default_handler, NULL);
    g_setenv("G_MESSAGES_DEBUG", "", TRUE);
    s4g_image_init(NULL);
}

/* The files around the one an input replaces, rewritten before every input so that no input
 * sees what an earlier one left. */
static void base_files(void)
{
#if defined(FUZZ_CSV)
    static const char train[] = "bingmap/19/0000001.jpg,streetview/panos/0000001.jpg,a\n";
    static const char all[] = "40.0,-90.0,40.0,-90.0,1\n";
    put("splits/train-19zl.csv", train, sizeof train - 1);
    put("splits/val-19zl.csv", train, sizeof train - 1);
    put("split_locations/all.csv", all, sizeof all - 1);
#elif defined(FUZZ_VIGOR)
    static const char sats[] = "satellite_41.0_-87.0.png\n";
    put("splits/Chicago/satellite_list.txt", sats, sizeof sats - 1);
    put("splits/Chicago/same_area_balanced_train.txt", "", 0);
    put("splits/Chicago/same_area_balanced_test.txt", "", 0);
    put("splits/Chicago/pano_label_balanced.txt", "", 0);
#endif
}

/* Reads the dataset; an error is clear when it names the file written (`file`) or a path in
 * the scratch root. */
G_GNUC_UNUSED static void read_dataset(S4gDatasetKind kind, const char *at, const char *file)
{
    S4gDataset *ds = s4g_dataset_new(kind, at, TRUE);
    GError *e = NULL;
    gboolean ok = s4g_dataset_read(ds, &e);
    const char *names[] = {file, root, NULL};
    s4g_fuzz_note(ok, e ? e->message : NULL, names);
    g_clear_error(&e);
    s4g_dataset_free(ds);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    base_files();
    s4g_fuzz_outcome = S4G_FUZZ_ACCEPTED; /* the empty input: nothing to parse */
#if defined(FUZZ_CSV)
    if (size < 1)
        return 0;
    const char *file = data[0] & 1 ? "split_locations/all.csv" : "splits/val-19zl.csv";
    put(file, data + 1, size - 1);
    read_dataset(S4G_DATASET_CVUSA, root, strrchr(file, '/') + 1);
#elif defined(FUZZ_VIGOR)
    if (size < 1)
        return 0;
    const char *file = data[0] & 1 ? "splits/Chicago/satellite_list.txt"
                                   : "splits/Chicago/same_area_balanced_train.txt";
    put(file, data + 1, size - 1);
    read_dataset(S4G_DATASET_VIGOR, root, strrchr(file, '/') + 1);
#elif defined(FUZZ_CVACT)
    put("ACT_data.mat", data, size);
    read_dataset(S4G_DATASET_CVACT, root, "ACT_data.mat");
#elif defined(FUZZ_PHOTOS)
    if (size < 1)
        return 0;
    if (data[0] & 1) {
        /* exact-size heap copy so ASan sees any read past the end */
        uint8_t *copy = malloc(size - 1 ? size - 1 : 1);
        memcpy(copy, data + 1, size - 1);
        double lat, lon;
        /* no message here: the answer is a location or none (the photo then has none) */
        s4g_fuzz_outcome = s4g_photos_exif_gps_data(copy, size - 1, &lat, &lon)
                               ? S4G_FUZZ_ACCEPTED
                               : S4G_FUZZ_CLEAR_ERROR;
        free(copy);
    } else {
        put("list.csv", data + 1, size - 1);
        g_autofree char *csv = g_build_filename(root, "list.csv", NULL);
        read_dataset(S4G_DATASET_PHOTOS, csv, "list.csv");
    }
#elif defined(FUZZ_MBTILES)
    g_autofree char *p = g_build_filename(root, "t.mbtiles", NULL);
    g_unlink(p);
    put("t.mbtiles", data, size);
    GError *e = NULL;
    S4gMbtiles *mb = s4g_mbtiles_open(p, &e);
    const char *names[] = {"t.mbtiles", NULL};
    s4g_fuzz_note(mb != NULL, e ? e->message : NULL, names);
    g_clear_error(&e);
    if (mb) {
        double b[4];
        s4g_mbtiles_get_bounds(mb, b);
        s4g_mbtiles_get_min_zoom(mb);
        s4g_mbtiles_get_max_zoom(mb);
        g_free(s4g_mbtiles_get_metadata(mb, "name"));
        GBytes *t = s4g_mbtiles_get_tile(mb, 0, 0, 0, &e);
        g_clear_error(&e);
        if (t)
            g_bytes_unref(t);
        s4g_mbtiles_close(mb);
    }
#else
#error "define one FUZZ_* target"
#endif
    return 0;
}
