/* s4g-reader-photos.c — ground photos of one's own, to locate or to evaluate on:
 *   ROOT a folder: every .jpg/.jpeg/.png file below it (name order, recursively); lat/lon from
 *        the EXIF GPS tags (libexif) when present, unknown otherwise;
 *   ROOT a .csv file: lines "path,lat,lon" (an optional header line starting with "path"),
 *        paths relative to the CSV's folder; empty lat and lon mean unknown.
 * Everything goes to split "query", view "ground", identity −1. */
#include "s4g-dataset.h"
#include "s4g-file.h"

#include <errno.h>
#include <libexif/exif-data.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Degrees from an EXIF GPS coordinate (3 rationals) and its N/S/E/W reference. */
static gboolean exif_coord(ExifContent *gps, ExifTag tag, ExifTag ref_tag, ExifByteOrder order,
                           double *out)
{
    ExifEntry *e = exif_content_get_entry(gps, tag);
    ExifEntry *r = exif_content_get_entry(gps, ref_tag);
    if (!e || e->format != EXIF_FORMAT_RATIONAL || e->components < 3 || !e->data ||
        e->size < 3 * 8)
        return FALSE;
    double v = 0, scale = 1;
    for (int i = 0; i < 3; i++) {
        ExifRational q = exif_get_rational(e->data + i * 8, order);
        if (!q.denominator)
            return FALSE;
        v += (double)q.numerator / q.denominator / scale;
        scale *= 60;
    }
    if (r && r->data && r->size >= 1 && (r->data[0] == 'S' || r->data[0] == 'W'))
        v = -v;
    *out = v;
    return TRUE;
}

/* EXIF sits in a JPEG's APP1 segment (at most 64 KB) near the start of the file. */
#define EXIF_HEAD_BYTES (256 * 1024)

gboolean s4g_photos_exif_gps(const char *path, double *lat, double *lon)
{
    g_autofree guint8 *head = g_malloc(EXIF_HEAD_BYTES);
    gsize n = s4g_file_read_head(path, head, EXIF_HEAD_BYTES);
    return s4g_photos_exif_gps_data(head, n, lat, lon);
}

gboolean s4g_photos_exif_gps_data(const guint8 *data, gsize len, double *lat, double *lon)
{
    if (len < 4 || len > G_MAXUINT)
        return FALSE;
    ExifData *ed = exif_data_new_from_data(data, (unsigned int)len);
    if (!ed)
        return FALSE;
    ExifByteOrder order = exif_data_get_byte_order(ed);
    ExifContent *gps = ed->ifd[EXIF_IFD_GPS];
    gboolean ok = gps &&
                  exif_coord(gps, (ExifTag)EXIF_TAG_GPS_LATITUDE,
                             (ExifTag)EXIF_TAG_GPS_LATITUDE_REF, order, lat) &&
                  exif_coord(gps, (ExifTag)EXIF_TAG_GPS_LONGITUDE,
                             (ExifTag)EXIF_TAG_GPS_LONGITUDE_REF, order, lon) &&
                  isfinite(*lat) && isfinite(*lon) && fabs(*lat) <= 90 && fabs(*lon) <= 180;
    exif_data_unref(ed);
    return ok;
}

static gboolean is_photo_name(const char *name)
{
    g_autofree char *l = g_ascii_strdown(name, -1);
    return g_str_has_suffix(l, ".jpg") || g_str_has_suffix(l, ".jpeg") ||
           g_str_has_suffix(l, ".png");
}

static int cmp_strp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* `seen` holds the folders (device:inode) on the walk so far: a symlink back to one of them
 * (a loop) or a second link to a folder already walked is skipped, so every file is read
 * once. */
static gboolean walk(S4gDataset *ds, const char *rel, GHashTable *seen, GError **error)
{
    g_autofree char *dir = g_build_filename(ds->root, rel, NULL);
    struct stat st;
    if (stat(dir, &st) == 0) {
        char *key = g_strdup_printf("%ju:%ju", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino);
        if (!g_hash_table_add(seen, key))
            return TRUE; /* already walked (a loop or a second link) */
    }
    g_autoptr(GError) e = NULL;
    GDir *d = g_dir_open(dir, 0, &e);
    if (!d) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "photos: %s: %s", dir, e->message);
        return FALSE;
    }
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *n;
    while ((n = g_dir_read_name(d)))
        if (n[0] != '.')
            g_ptr_array_add(names, g_strdup(n));
    g_dir_close(d);
    g_ptr_array_sort(names, cmp_strp);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *r = *rel ? g_strdup_printf("%s/%s", rel, (char *)names->pdata[i])
                                  : g_strdup(names->pdata[i]);
        g_autofree char *full = g_build_filename(ds->root, r, NULL);
        if (g_file_test(full, G_FILE_TEST_IS_DIR)) {
            if (!walk(ds, r, seen, error))
                return FALSE;
            continue;
        }
        if (!is_photo_name(r))
            continue;
        double lat = NAN, lon = NAN;
        if (!s4g_photos_exif_gps(full, &lat, &lon))
            lat = lon = NAN;
        if (s4g_dataset_add_image(ds, S4G_VIEW_GROUND, r, "query", -1, lat, lon, NULL, error) ==
            -2)
            return FALSE;
    }
    return TRUE;
}

static gboolean read_csv(S4gDataset *ds, const char *rel, GError **error)
{
    g_auto(GStrv) lines = s4g_dataset_read_lines(ds->root, rel, error);
    if (!lines)
        return g_prefix_error(error, "photos: "), FALSE;
    for (guint ln = 0; lines[ln]; ln++) {
        if (!*g_strstrip(lines[ln]))
            continue;
        if (ln == 0 && g_str_has_prefix(lines[ln], "path"))
            continue;
        g_auto(GStrv) col = g_strsplit(lines[ln], ",", -1);
        guint nc = g_strv_length(col);
        if (nc != 3) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                        "photos: %s:%u: expected 3 columns (path,lat,lon), got %u", rel, ln + 1,
                        nc);
            return FALSE;
        }
        g_strstrip(col[0]);
        g_strstrip(col[1]);
        g_strstrip(col[2]);
        double lat = NAN, lon = NAN;
        if (*col[1] || *col[2]) {
            if (!s4g_dataset_parse_double(col[1], rel, ln + 1, "lat", &lat, error) ||
                !s4g_dataset_parse_double(col[2], rel, ln + 1, "lon", &lon, error))
                return g_prefix_error(error, "photos: "), FALSE;
            if (fabs(lat) > 90 || fabs(lon) > 180) {
                g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                            "photos: %s:%u: lat/lon %g,%g out of range", rel, ln + 1, lat, lon);
                return FALSE;
            }
        }
        g_autofree char *where = g_strdup_printf("%s:%u: column 1", rel, ln + 1);
        if (s4g_dataset_add_image(ds, S4G_VIEW_GROUND, col[0], "query", -1, lat, lon, where,
                                  error) == -2)
            return FALSE;
    }
    return TRUE;
}

gboolean s4g_reader_photos(S4gDataset *ds, GError **error)
{
    if (g_file_test(ds->root, G_FILE_TEST_IS_DIR)) {
        g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        return walk(ds, "", seen, error);
    }
    /* A CSV: paths are relative to its folder, which becomes the dataset root. */
    g_autofree char *base = g_path_get_basename(ds->root);
    char *dir = g_path_get_dirname(ds->root);
    g_free(ds->root);
    ds->root = dir;
    return read_csv(ds, base, error);
}
