/* s4g-reader-university.c — University-1652 (reference §6.4).  Folders of classes:
 *   train/satellite/{class}/ + train/drone/{class}/      → split "train": classes present in
 *       both (sorted); the first satellite file paired with every drone image;
 *   test/query_drone/{class}/ + test/gallery_satellite/{class}/   → split "d2s";
 *   test/query_satellite/{class}/ + test/gallery_drone/{class}/   → split "s2d".
 * Identity = int(class folder name).  Files are taken in name order (the reference uses
 * os.walk's file-system order, which is not reproducible across file systems).  Test pairs
 * link each drone image with the satellite image(s) of its class.  No GPS. */
#include "s4g-dataset.h"
#include "s4g-file.h"

#include <errno.h>

#include <math.h>
#include <string.h>

static int cmp_strp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entries of a folder (only folders or only files). */
static GPtrArray *list_dir(const char *dir, gboolean dirs, GError **error)
{
    g_autoptr(GError) e = NULL;
    GDir *d = g_dir_open(dir, 0, &e);
    if (!d) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "university: %s: %s", dir,
                    e->message);
        return NULL;
    }
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(d))) {
        if (name[0] == '.')
            continue;
        g_autofree char *full = g_build_filename(dir, name, NULL);
        if (g_file_test(full, G_FILE_TEST_IS_DIR) == dirs)
            g_ptr_array_add(out, g_strdup(name));
    }
    g_dir_close(d);
    g_ptr_array_sort(out, cmp_strp);
    return out;
}

/* The extensions of the formats the pipeline decodes (case-insensitive). */
static gboolean is_image_name(const char *name)
{
    static const char *const ext[] = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff"};
    g_autofree char *l = g_ascii_strdown(name, -1);
    for (size_t i = 0; i < G_N_ELEMENTS(ext); i++)
        if (g_str_has_suffix(l, ext[i]))
            return TRUE;
    return FALSE;
}

typedef struct {
    gint64 id;
    GArray *images; /* guint image indexes */
} Class;

/* Adds every image of every class under rel ({class}/files) to the split.  Returns a table
 * class id → GArray of image indexes. */
static GHashTable *read_tree(S4gDataset *ds, const char *rel, S4gView view, const char *split,
                             GHashTable *only, GError **error)
{
    g_autofree char *dir = g_build_filename(ds->root, rel, NULL);
    g_autoptr(GPtrArray) classes = list_dir(dir, TRUE, error);
    if (!classes)
        return NULL;
    GHashTable *out = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                            (GDestroyNotify)g_array_unref);
    for (guint c = 0; c < classes->len; c++) {
        const char *cname = classes->pdata[c];
        char *end = NULL;
        errno = 0;
        gint64 id = g_ascii_strtoll(cname, &end, 10);
        if (!*cname || *end || errno == ERANGE) {
            g_autofree char *shown = s4g_file_clip(cname);
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                        "university: %s/%s: class folder name is not an integer%s", rel, shown,
                        errno == ERANGE ? " (outside the 64-bit range)" : "");
            g_hash_table_unref(out);
            return NULL;
        }
        if (only && !g_hash_table_contains(only, &id))
            continue; /* training keeps the classes present in both views */
        g_autofree char *cdir = g_build_filename(dir, cname, NULL);
        g_autoptr(GPtrArray) files = list_dir(cdir, FALSE, error);
        if (!files) {
            g_hash_table_unref(out);
            return NULL;
        }
        GArray *imgs = g_array_new(FALSE, FALSE, sizeof(guint));
        for (guint f = 0; f < files->len; f++) {
            if (!is_image_name(files->pdata[f])) {
                ds->skipped_files++; /* README.txt, Thumbs.db… in a class folder */
                continue;
            }
            g_autofree char *p = g_strdup_printf("%s/%s/%s", rel, cname,
                                                 (char *)files->pdata[f]);
            gint64 i = s4g_dataset_add_image(ds, view, p, split, id, NAN, NAN, NULL, error);
            if (i == -2) {
                g_array_unref(imgs);
                g_hash_table_unref(out);
                return NULL;
            }
            if (i >= 0) {
                guint u = (guint)i;
                g_array_append_val(imgs, u);
            }
        }
        gint64 *k = g_new(gint64, 1);
        *k = id;
        g_hash_table_insert(out, k, imgs);
    }
    return out;
}

static int cmp_int64p(gconstpointer a, gconstpointer b)
{
    gint64 x = **(gint64 *const *)a, y = **(gint64 *const *)b;
    return x < y ? -1 : x > y;
}

/* Pairs every drone image with the satellite image(s) of its class; `first_only` keeps the
 * first satellite file only (training, as the reference). */
static void pair_up(S4gDataset *ds, GHashTable *drone, GHashTable *sat, const char *split,
                    gboolean first_only)
{
    g_autoptr(GPtrArray) keys = g_ptr_array_new();
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, drone);
    while (g_hash_table_iter_next(&it, &k, NULL))
        g_ptr_array_add(keys, k);
    g_ptr_array_sort(keys, cmp_int64p);
    for (guint i = 0; i < keys->len; i++) {
        GArray *d = g_hash_table_lookup(drone, keys->pdata[i]);
        GArray *s = g_hash_table_lookup(sat, keys->pdata[i]);
        if (!s || !s->len)
            continue;
        guint ns = first_only ? 1 : s->len;
        for (guint a = 0; a < d->len; a++)
            for (guint b = 0; b < ns; b++)
                s4g_dataset_add_pair(ds, g_array_index(d, guint, a), g_array_index(s, guint, b),
                                     S4G_RELATION_POSITIVE, split, NAN, NAN);
    }
}

gboolean s4g_reader_university(S4gDataset *ds, GError **error)
{
    static const struct {
        const char *split, *drone, *sat;
        gboolean first_only, required;
    } parts[] = {
        {"train", "train/drone", "train/satellite", TRUE, FALSE},
        {"d2s", "test/query_drone", "test/gallery_satellite", FALSE, FALSE},
        {"s2d", "test/gallery_drone", "test/query_satellite", FALSE, FALSE},
    };
    gboolean any = FALSE;
    for (guint p = 0; p < G_N_ELEMENTS(parts); p++) {
        g_autofree char *dd = g_build_filename(ds->root, parts[p].drone, NULL);
        g_autofree char *sd = g_build_filename(ds->root, parts[p].sat, NULL);
        gboolean hd = g_file_test(dd, G_FILE_TEST_IS_DIR), hs = g_file_test(sd, G_FILE_TEST_IS_DIR);
        if (!hd && !hs)
            continue;
        if (hd != hs) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO,
                        "university: %s: folder not found (its counterpart %s exists)",
                        hd ? sd : dd, hd ? parts[p].drone : parts[p].sat);
            return FALSE;
        }
        any = TRUE;
        /* satellites first, so training can leave out drone classes without one */
        g_autoptr(GHashTable) sat =
            read_tree(ds, parts[p].sat, S4G_VIEW_SATELLITE, parts[p].split, NULL, error);
        if (!sat)
            return FALSE;
        g_autoptr(GHashTable) drone = read_tree(ds, parts[p].drone, S4G_VIEW_DRONE,
                                                parts[p].split, parts[p].first_only ? sat : NULL,
                                                error);
        if (!drone)
            return FALSE;
        pair_up(ds, drone, sat, parts[p].split, parts[p].first_only);
    }
    if (!any) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO,
                    "university: %s: neither train/{drone,satellite} nor test/… folders found",
                    ds->root);
        return FALSE;
    }
    return TRUE;
}
