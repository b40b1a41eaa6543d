/* cmd-gallery.c — s4g gallery: cut a region's imagery (MBTiles, or any GDAL source with
 * --imagery) into reference patches (the model's satellite input footprint at the chosen
 * zoom, on a grid), record them as the satellite images of a gallery dataset (patch PNGs in
 * <project>/galleries/G/, lat/lon = patch centre) and embed them, so `s4g predict --gallery G`
 * can localise photos that have no dataset pair.  Patches are cut into
 * galleries/G.tmp-PID/ and renamed to galleries/G/ inside the transaction that records them,
 * so a failed or killed cut leaves no patches under G's name: the tmp folder (and an orphan G/
 * of a kill between the rename and COMMIT) is removed on the next open (s4g-store-locks.c). */
#include "s4g-cli-model.h"
#include "s4g-tilegrid.h"
#include "s4g-test-kill.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Removes a folder of patches a failed cut left behind (flat: files only). */
static void remove_patches(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    for (const char *n; d && (n = g_dir_read_name(d));) {
        g_autofree char *f = g_build_filename(dir, n, NULL);
        g_unlink(f);
    }
    g_rmdir(dir);
}

/* The grid's members of the gallery's options and --json: zoom, patch [w, h], stride. */
static void add_grid(JsonBuilder *b, int zoom, int pw, int ph, int stride)
{
    s4g_json_add_int(b, "zoom", zoom);
    s4g_json_begin_array(b, "patch");
    s4g_json_add_int(b, NULL, pw);
    s4g_json_add_int(b, NULL, ph);
    json_builder_end_array(b);
    s4g_json_add_int(b, "stride", stride);
}

/* Whether a dataset's options (JSON) mark it as a gallery: {"gallery": true, …}. */
static gboolean options_is_gallery(const char *options)
{
    g_autoptr(JsonNode) root = options ? json_from_string(options, NULL) : NULL;
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) return FALSE;
    JsonNode *g = json_object_get_member(json_node_get_object(root), "gallery");
    return g && json_node_get_value_type(g) == G_TYPE_BOOLEAN && json_node_get_boolean(g);
}

/* Puts the cut folder `work` in place as `root` (an earlier cut of the same gallery moved to
 * `old` first) and fsyncs their parent; on failure puts the earlier cut back. */
static gboolean swap_in(const char *work, const char *root, const char *old, GError **error)
{
    gboolean had = g_file_test(root, G_FILE_TEST_IS_DIR);
    if (had && g_rename(root, old) != 0) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "%s: cannot move aside: %s", root,
                    g_strerror(errno));
        return FALSE;
    }
    if (g_rename(work, root) != 0) {
        int e = errno;
        if (had) g_rename(old, root);
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "%s: cannot rename to %s: %s", work,
                    root, g_strerror(e));
        return FALSE;
    }
    g_autofree char *parent = g_path_get_dirname(root);
    int fd = g_open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0 || fsync(fd) != 0) {
        int e = errno;
        if (fd >= 0) close(fd);
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "%s: cannot sync the folder: %s",
                    parent, g_strerror(e));
        return FALSE;
    }
    close(fd);
    return TRUE;
}

/* Records the patches as the gallery dataset's images (split "gallery", view satellite) and,
 * in the same transaction, renames the cut folder `work` to `root`. */
static gint64 record(S4gStore *store, const char *name, const char *root, const char *work,
                     const char *old, const char *options, GArray *patches, GError **error)
{
    S4gStoreDataset have = {0};
    g_autoptr(GError) nf = NULL;
    if (s4g_store_dataset_find(store, name, &have, &nf)) {
        gboolean gallery = options_is_gallery(have.options);
        s4g_store_dataset_clear(&have);
        if (!gallery) {
            g_set_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_INVALID,
                        "dataset %s exists and is not a gallery; choose another --name", name);
            return 0;
        }
    }
    gint64 id = 0;
    if (!s4g_store_begin(store, error)) return 0;
    /* galleries are derived imagery with no pairs: kind "synthetic", marked in options */
    if (!s4g_store_dataset_upsert(store, name, "synthetic", root, options, &id, error)) goto fail;
    {
        g_autoptr(S4gStoreDatasetWriter) w = s4g_store_dataset_writer_new(store, id, error);
        if (!w) goto fail;
        for (guint i = 0; i < patches->len; i++) {
            const S4gTilePatch *p = &g_array_index(patches, S4gTilePatch, i);
            S4gStoreImage im = {.dataset = id,
                                .view = "satellite",
                                .path = p->file,
                                .split = "gallery",
                                .identity = i,
                                .lat = p->lat,
                                .lon = p->lon,
                                .x = NAN,
                                .y = NAN};
            gint64 iid;
            if (!s4g_store_dataset_writer_image(w, &im, &iid, NULL, error)) goto fail;
        }
    }
    if (!swap_in(work, root, old, error)) goto fail;
    s4g_test_kill_at("gallery-commit");
    if (!s4g_store_commit(store, error)) {
        /* the rows are gone: the folder goes back to where the sweep expects it */
        g_rename(root, work);
        if (g_file_test(old, G_FILE_TEST_IS_DIR)) g_rename(old, root);
        goto fail;
    }
    remove_patches(old);
    return id;
fail:
    s4g_store_rollback(store);
    return 0;
}

/* A small stride over a large region makes hundreds of thousands of PNGs: whatever the
 * source (--tiles or --imagery), the count and an estimate of their size over the region that
 * is cut are stated before anything is written, and beyond either budget the gallery is
 * refused unless --force.  `what` names the source in errors. */
#define GALLERY_MAX_PATCHES 50000
#define GALLERY_MAX_BYTES ((guint64)4 << 30)

static gboolean gallery_within_budget(const double bounds[4], const char *what,
                                      const char *name, int zoom, int pw, int ph, int stride,
                                      gboolean force, GError **error)
{
    int cols = 0, rows = 0;
    if (!s4g_tilegrid_size_bounds(bounds, what, zoom, pw, ph, stride, &cols, &rows, error))
        return FALSE;
    guint64 n = (guint64)cols * (guint64)rows;
    /* PNG of aerial imagery: about half the raw RGB bytes */
    guint64 bytes = n * (guint64)pw * (guint64)ph * 3 / 2;
    g_autofree char *size = g_format_size(bytes);
    fprintf(stderr, "gallery %s: %d×%d = %" G_GUINT64_FORMAT " patches of %dx%d px (stride %d), "
                    "about %s of PNG\n",
            name, rows, cols, n, pw, ph, stride, size);
    if ((n > GALLERY_MAX_PATCHES || bytes > GALLERY_MAX_BYTES) && !force) {
        g_autofree char *max = g_format_size(GALLERY_MAX_BYTES);
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "%s: %" G_GUINT64_FORMAT " patches (about %s) exceed the budget of %d "
                    "patches or %s: use a larger --stride, a smaller region or zoom, or --force",
                    what, n, size, GALLERY_MAX_PATCHES, max);
        return FALSE;
    }
    return TRUE;
}

int s4g_cmd_gallery(int argc, char **argv)
{
    g_autofree char *tiles = NULL, *name = NULL;
    g_autofree char *imagery = NULL, *bounds_text = NULL;
    int zoom = -1, stride = 0;
    double footprint = 0;
    gboolean force = FALSE;
    GOptionEntry entries[] = {
        {"tiles", 't', 0, G_OPTION_ARG_FILENAME, &tiles, "Region imagery (MBTiles)", "FILE"},
        {"imagery", 'i', 0, G_OPTION_ARG_FILENAME, &imagery,
         "Region imagery through GDAL instead of --tiles: a GeoTIFF/COG/JPEG 2000/VRT file, a "
         "folder of them (one mosaic), an XYZ URL (http://host/{z}/{x}/{y}.png), WMTS:URL, "
         "GDAL's XML description of a WMS/TMS service, or an MBTiles file; reprojected to Web "
         "Mercator at --zoom",
         "SRC"},
        {"bounds", 0, 0, G_OPTION_ARG_STRING, &bounds_text,
         "Region to cut, degrees west,south,east,north (default: the imagery's extent; needed "
         "for tile servers, which cover the world)",
         "W,S,E,N"},
        {"zoom", 'z', 0, G_OPTION_ARG_INT, &zoom, "Zoom level whose tiles are cut", "Z"},
        {"stride", 0, 0, G_OPTION_ARG_INT, &stride,
         "Pixels between patch origins (default: the patch width, no overlap)", "S"},
        {"footprint", 0, 0, G_OPTION_ARG_DOUBLE, &footprint,
         "Ground metres a patch spans: the footprint of the satellite images the model was "
         "trained on (80 for s4g synth's default patches); patches are cut at that size and "
         "resized to the model's input (default: one input pixel per map pixel)", "M"},
        {"name", 'n', 0, G_OPTION_ARG_STRING, &name, "Gallery name (default: the file's stem)",
         "G"},
        {"force", 0, 0, G_OPTION_ARG_NONE, &force,
         "Cut the gallery even when it exceeds the patch or disk budget (see the count and "
         "size stated before writing)",
         NULL},
        {NULL},
    };
    g_auto(S4gCliOptions) ro = S4G_CLI_MODEL_OPTIONS_INIT;
    ro.model_help = "Model name in the project (patch size = its satellite input)";
    if (!s4g_cli_parse_opts("gallery", "",
                            "cut imagery (MBTiles, or any GDAL source) into an embedded reference "
                            "gallery",
                            entries, &ro, &argc, &argv))
        return 2;
    if (!ro.project || !tiles == !imagery || !ro.model || zoom < 0 || stride < 0) {
        fprintf(stderr, "s4g gallery: need --project DIR, --tiles FILE or --imagery SRC (one of "
                        "them), --zoom Z and --model M\n");
        return 2;
    }
    double bounds[4];
    if (bounds_text && !s4g_imagery_parse_bounds(bounds_text, bounds)) {
        fprintf(stderr, "s4g gallery: --bounds: expected west,south,east,north in degrees "
                        "(west < east, south < north, within ±180/±85.05), got “%s”\n",
                bounds_text);
        return 2;
    }
    const char *source = tiles ? tiles : imagery;
    if (!name) {
        g_autofree char *base = g_path_get_basename(source);
        char *dot = strrchr(base, '.');
        if (dot) *dot = 0;
        name = g_strdup(base);
    }
    if (!*name || strchr(name, '/') || !strcmp(name, "..") || !strcmp(name, ".")) {
        fprintf(stderr, "s4g gallery: --name must be a plain name, not '%s'\n", name);
        return 2;
    }
    S4gCliModel cm;
    if (!s4g_cli_model_open("gallery", &ro, NULL, ro.model, &cm)) {
        s4g_cli_model_close(&cm);
        return 1;
    }
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gMbtiles) mb = tiles ? s4g_mbtiles_open(tiles, &error) : NULL;
    g_autoptr(S4gImagery) img = imagery ? s4g_imagery_open(imagery, zoom, &error) : NULL;
    gboolean have_bounds = bounds_text != NULL;
    if (!have_bounds && mb) have_bounds = s4g_mbtiles_get_bounds(mb, bounds);
    if (!have_bounds && img) have_bounds = s4g_imagery_get_bounds(img, bounds, &error);
    int pw = cm.spec.satellite.w, ph = cm.spec.satellite.h;
    if ((mb || img) && footprint > 0 && have_bounds) {
        /* Web-Mercator ground resolution at the region's centre latitude */
        double lat = (bounds[1] + bounds[3]) / 2 * G_PI / 180;
        double mpp = 156543.03392804097 * cos(lat) / (double)(1 << MIN(zoom, 30));
        pw = ph = MAX(8, (int)lround(footprint / mpp));
    }
    if (!stride) stride = pw;
    /* the region cut: --bounds, else the source's extent (without one, the cut fails below) */
    if ((mb || img) && have_bounds &&
        !gallery_within_budget(bounds, source, name, zoom, pw, ph, stride, force, &error)) {
        s4g_cli_model_close(&cm);
        return s4g_cli_fail("gallery", error);
    }
    g_autofree char *root = g_build_filename(s4g_store_dir(cm.store), "galleries", name, NULL);
    /* cut under a temporary name (NAME.tmp-PID: the sweep removes it once PID is gone) */
    g_autofree char *work = g_strdup_printf("%s.tmp-%d", root, (int)getpid());
    g_autofree char *old = g_strdup_printf("%s.old.tmp-%d", root, (int)getpid());
    remove_patches(work);
    g_autoptr(GArray) patches = NULL;
    if (mb && !bounds_text)
        patches = s4g_tilegrid_cut(mb, zoom, pw, ph, stride, work, &error);
    else if (mb)
        patches = s4g_tilegrid_cut_bounds(bounds, tiles, s4g_tilegrid_read_mbtiles, mb, zoom, pw,
                                          ph, stride, work, &error);
    else if (img && have_bounds)
        patches = s4g_tilegrid_cut_imagery(img, bounds, zoom, pw, ph, stride, work, &error);
    /* files are recorded by absolute path; URLs and GDAL descriptions as given */
    g_autofree char *abs_src = g_file_test(source, G_FILE_TEST_EXISTS)
                                   ? g_canonicalize_filename(source, NULL)
                                   : g_strdup(source);
    g_autoptr(JsonBuilder) ob = json_builder_new();
    json_builder_begin_object(ob);
    s4g_json_add_bool(ob, "gallery", TRUE);
    s4g_json_add_string(ob, tiles ? "tiles" : "imagery", abs_src);
    add_grid(ob, zoom, pw, ph, stride);
    json_builder_end_object(ob);
    g_autofree char *options = s4g_json_to_string(ob);
    gint64 dsid = patches ? record(cm.store, name, root, work, old, options, patches, &error) : 0;
    remove_patches(work); /* nothing half-written in the project */
    g_autoptr(GArray) images = NULL;
    guint encoded = 0;
    if (dsid) {
        images = s4g_store_images_list(cm.store, dsid, "gallery", "satellite", &error);
        if (images) {
            if (!s4g_cli_model_embed(&cm, root, images, ro.batch, ro.json, &encoded, &error))
                g_clear_pointer(&images, g_array_unref);
        }
    }
    s4g_cli_model_close(&cm);
    if (!images) return s4g_cli_fail("gallery", error);
    const S4gTilePatch *last = &g_array_index(patches, S4gTilePatch, patches->len - 1);
    if (ro.json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        s4g_json_add_string(b, "gallery", name);
        s4g_json_add_int(b, "patches", patches->len);
        s4g_json_add_int(b, "rows", last->row + 1);
        s4g_json_add_int(b, "cols", last->col + 1);
        add_grid(b, zoom, pw, ph, stride);
        s4g_json_add_int(b, "encoded", encoded);
        json_builder_end_object(b);
        s4g_json_print(b, stdout);
    } else
        printf("gallery %s: %d×%d patches of %dx%d px at zoom %d (stride %d) in %s; %u "
               "encoded\n",
               name, last->row + 1, last->col + 1, ph, pw, zoom, stride, root, encoded);
    return 0;
}
