/* s4g-reader-cvusa.c — CVUSA (reference §6.1): splits/train-19zl.csv and splits/val-19zl.csv,
 * no header, "satellite path,panorama path,annotation path" relative to the root (CSV as
 * RFC 4180 has it, s4g-csv.h).  The
 * identity is int(basename of the satellite path).  GPS, when split_locations/all.csv (or
 * all.csv at the root) exists: row idx−1 belongs to image idx, columns sat_lat, sat_lon,
 * ground_lat, ground_lon[, …]. */
#include "s4g-csv.h"
#include "s4g-dataset.h"

#include <math.h>
#include <string.h>

typedef struct {
    double sat_lat, sat_lon, grd_lat, grd_lon;
} Gps;

/* Reads all.csv if present; returns an empty array when the dataset has none. */
static GArray *read_gps(S4gDataset *ds, GError **error)
{
    GArray *gps = g_array_new(FALSE, TRUE, sizeof(Gps));
    const char *cands[] = {"split_locations/all.csv", "all.csv"};
    const char *rel = NULL;
    for (guint i = 0; i < G_N_ELEMENTS(cands) && !rel; i++) {
        g_autofree char *full = g_build_filename(ds->root, cands[i], NULL);
        if (g_file_test(full, G_FILE_TEST_IS_REGULAR))
            rel = cands[i];
    }
    if (!rel)
        return gps;
    g_autoptr(S4gCsvReader) csv = s4g_dataset_open_csv(ds->root, rel, error);
    if (!csv) {
        g_array_unref(gps);
        return NULL;
    }
    static const char *const names[] = {"sat_lat", "sat_lon", "ground_lat", "ground_lon"};
    g_autoptr(GError) e = NULL;
    char **col;
    while ((col = s4g_csv_reader_next(csv, &e))) {
        guint line = s4g_csv_reader_line(csv), nc = s4g_csv_reader_n_fields(csv);
        if (nc < 4) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                        "cvusa: %s:%u: expected at least 4 columns, got %u", rel, line, nc);
            g_array_unref(gps);
            return NULL;
        }
        double v[4];
        for (int k = 0; k < 4; k++)
            if (!s4g_dataset_parse_double(col[k], rel, line, names[k], &v[k], error)) {
                g_prefix_error(error, "cvusa: ");
                g_array_unref(gps);
                return NULL;
            }
        Gps g = {v[0], v[1], v[2], v[3]};
        g_array_append_val(gps, g);
    }
    if (e) {
        g_propagate_prefixed_error(error, g_steal_pointer(&e), "cvusa: ");
        g_array_unref(gps);
        return NULL;
    }
    return gps;
}

/* "bingmap/19/0000012.jpg" → 12; FALSE if the basename is not an integer. */
static gboolean parse_identity(const char *path, gint64 *out)
{
    g_autofree char *base = g_path_get_basename(path);
    char *dot = strrchr(base, '.');
    if (dot)
        *dot = '\0';
    char *end = NULL;
    gint64 v = g_ascii_strtoll(base, &end, 10);
    if (!*base || *end || v < 0)
        return FALSE;
    *out = v;
    return TRUE;
}

static gboolean read_split(S4gDataset *ds, const char *rel, const char *split, GArray *gps,
                           GError **error)
{
    g_autoptr(S4gCsvReader) csv = s4g_dataset_open_csv(ds->root, rel, error);
    if (!csv) {
        g_prefix_error(error, "cvusa: ");
        return FALSE;
    }
    g_autoptr(GError) e = NULL;
    char **col;
    while ((col = s4g_csv_reader_next(csv, &e))) {
        guint line = s4g_csv_reader_line(csv), nc = s4g_csv_reader_n_fields(csv);
        if (nc != 3) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                        "cvusa: %s:%u: expected 3 columns, got %u", rel, line, nc);
            return FALSE;
        }
        for (int k = 0; k < 2; k++)
            g_strstrip(col[k]);
        gint64 id;
        if (!parse_identity(col[0], &id)) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                        "cvusa: %s:%u: column 1 (satellite path): “%s” does not end in an "
                        "integer image number",
                        rel, line, col[0]);
            return FALSE;
        }
        double slat = NAN, slon = NAN, glat = NAN, glon = NAN;
        if (gps->len) {
            /* all.csv row idx−1 belongs to image idx */
            if (id < 1 || (guint64)id > gps->len) {
                g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                            "cvusa: %s:%u: column 1: image number %" G_GINT64_FORMAT
                            " has no row in all.csv (%u rows)",
                            rel, line, id, gps->len);
                return FALSE;
            }
            Gps *g = &g_array_index(gps, Gps, id - 1);
            slat = g->sat_lat, slon = g->sat_lon, glat = g->grd_lat, glon = g->grd_lon;
        }
        g_autofree char *w1 = g_strdup_printf("%s:%u: column 1 (satellite)", rel, line);
        g_autofree char *w2 = g_strdup_printf("%s:%u: column 2 (panorama)", rel, line);
        gint64 s = s4g_dataset_add_image(ds, S4G_VIEW_SATELLITE, col[0], split, id, slat, slon,
                                         w1, error);
        if (s == -2)
            return FALSE;
        gint64 g = s4g_dataset_add_image(ds, S4G_VIEW_GROUND, col[1], split, id, glat, glon, w2,
                                         error);
        if (g == -2)
            return FALSE;
        if (s < 0 || g < 0) {
            ds->skipped_pairs++;
            continue;
        }
        s4g_dataset_add_pair(ds, (guint)g, (guint)s, S4G_RELATION_POSITIVE, split, NAN, NAN);
    }
    if (e) {
        g_propagate_prefixed_error(error, g_steal_pointer(&e), "cvusa: ");
        return FALSE;
    }
    return TRUE;
}

gboolean s4g_reader_cvusa(S4gDataset *ds, GError **error)
{
    g_autoptr(GArray) gps = read_gps(ds, error);
    if (!gps)
        return FALSE;
    return read_split(ds, "splits/train-19zl.csv", "train", gps, error) &&
           read_split(ds, "splits/val-19zl.csv", "val", gps, error);
}
