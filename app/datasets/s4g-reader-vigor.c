/* s4g-reader-vigor.c — VIGOR (reference §6.3), both modes:
 *   same-area: train = same_area_balanced_train.txt, test = same_area_balanced_test.txt of
 *              Chicago, NewYork, SanFrancisco, Seattle;
 *   cross-area: train = pano_label_balanced.txt of NewYork + Seattle, test = the same file of
 *              Chicago + SanFrancisco.
 * Label lines: 13 whitespace-separated tokens "pano pos dx dy semi1 dx dy semi2 dx dy semi3 dx
 * dy"; each (dx, dy) is stored as given, the pixel offset of the panorama location from that
 * tile's centre.  Satellite index = row in the concatenated satellite_list.txt of the mode's
 * cities (it is the satellite's identity; a panorama's identity is its positive's index).
 * Train references are the satellites that are the positive of some train panorama (semi-
 * positive pairs are kept when their tile is among them); test references are all satellites
 * of the mode's cities.  GPS: ground/{city}/{panoid},{lat},{lon},.jpg and
 * satellite/{city}/satellite_{lat}_{lon}.png (or the official release's {city}/panorama/ and
 * {city}/satellite/ folders).  Cities whose splits/{city} folder is absent
 * are left out (a mode none of whose cities exists is skipped). */
#include "s4g-dataset.h"
#include "s4g-file.h"

#include <math.h>
#include <string.h>

typedef struct {
    const char *split;
    const char *label_file;
    const char *cities[4];
    gboolean all_references;
} Mode;

static const Mode modes[] = {
    {"same-train", "same_area_balanced_train.txt", {"Chicago", "NewYork", "SanFrancisco", "Seattle"}, FALSE},
    {"same-test", "same_area_balanced_test.txt", {"Chicago", "NewYork", "SanFrancisco", "Seattle"}, TRUE},
    {"cross-train", "pano_label_balanced.txt", {"NewYork", "Seattle"}, FALSE},
    {"cross-test", "pano_label_balanced.txt", {"Chicago", "SanFrancisco"}, TRUE},
};

typedef struct {
    char *city;
    char *name;
    double lat, lon;
} Sat;

static void sat_clear(gpointer p)
{
    Sat *s = p;
    g_free(s->city);
    g_free(s->name);
}

/* NaN, ±Inf and out-of-range coordinates are rejected (g_ascii_strtod parses "nan", "inf"). */
static gboolean latlon_ok(double lat, double lon)
{
    return isfinite(lat) && isfinite(lon) && fabs(lat) <= 90 && fabs(lon) <= 180;
}

/* "satellite_41.8_-87.6.png" → lat, lon */
static gboolean sat_gps(const char *name, double *lat, double *lon)
{
    if (!g_str_has_prefix(name, "satellite_"))
        return FALSE;
    g_autofree char *t = g_strdup(name + strlen("satellite_"));
    char *dot = g_strrstr(t, ".");
    if (dot)
        *dot = '\0';
    g_auto(GStrv) p = g_strsplit(t, "_", -1);
    if (g_strv_length(p) != 2)
        return FALSE;
    char *e1, *e2;
    *lat = g_ascii_strtod(p[0], &e1);
    *lon = g_ascii_strtod(p[1], &e2);
    return *p[0] && *p[1] && !*e1 && !*e2 && latlon_ok(*lat, *lon);
}

/* "{panoid},{lat},{lon},.jpg" → lat, lon */
static gboolean pano_gps(const char *name, double *lat, double *lon)
{
    g_auto(GStrv) p = g_strsplit(name, ",", -1);
    if (g_strv_length(p) < 3)
        return FALSE;
    char *e1, *e2;
    *lat = g_ascii_strtod(p[1], &e1);
    *lon = g_ascii_strtod(p[2], &e2);
    return *p[1] && *p[2] && !*e1 && !*e2 && latlon_ok(*lat, *lon);
}

/* Sample4Geo's layout (ground/{city}, satellite/{city}) or, when that folder is absent, the
 * official release's ({city}/panorama, {city}/satellite). */
static char *image_dir(S4gDataset *ds, const char *city, gboolean ground)
{
    char *s4g = g_strdup_printf("%s/%s", ground ? "ground" : "satellite", city);
    g_autofree char *full = g_build_filename(ds->root, s4g, NULL);
    if (g_file_test(full, G_FILE_TEST_IS_DIR))
        return s4g;
    char *official = g_strdup_printf("%s/%s", city, ground ? "panorama" : "satellite");
    g_autofree char *ofull = g_build_filename(ds->root, official, NULL);
    if (g_file_test(ofull, G_FILE_TEST_IS_DIR)) {
        g_free(s4g);
        return official;
    }
    g_free(official);
    return s4g; /* neither: errors will name the Sample4Geo path */
}

static gboolean read_mode(S4gDataset *ds, const Mode *m, GError **error)
{
    g_autoptr(GArray) sats = g_array_new(FALSE, TRUE, sizeof(Sat));
    g_array_set_clear_func(sats, sat_clear);
    g_autoptr(GHashTable) sat_index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    const char *cities[4];
    int nc = 0;
    for (int c = 0; c < 4 && m->cities[c]; c++) {
        g_autofree char *dir = g_build_filename(ds->root, "splits", m->cities[c], NULL);
        if (g_file_test(dir, G_FILE_TEST_IS_DIR))
            cities[nc++] = m->cities[c];
    }
    if (!nc)
        return TRUE;
    for (int c = 0; c < nc; c++) {
        g_autofree char *rel = g_strdup_printf("splits/%s/satellite_list.txt", cities[c]);
        g_auto(GStrv) lines = s4g_dataset_read_lines(ds->root, rel, error);
        if (!lines)
            return g_prefix_error(error, "vigor: "), FALSE;
        for (guint ln = 0; lines[ln]; ln++) {
            char *name = g_strstrip(lines[ln]);
            if (!*name)
                continue;
            Sat s = {g_strdup(cities[c]), g_strdup(name), NAN, NAN};
            if (!sat_gps(name, &s.lat, &s.lon)) {
                sat_clear(&s);
                g_autofree char *shown = s4g_file_clip(name);
                g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                            "vigor: %s:%u: “%s” is not satellite_{lat}_{lon}.png with lat in "
                            "±90, lon in ±180",
                            rel, ln + 1, shown);
                return FALSE;
            }
            g_array_append_val(sats, s);
            g_hash_table_insert(sat_index, g_strdup_printf("%s/%s", cities[c], name),
                                GUINT_TO_POINTER(sats->len));
        }
    }
    /* Test references: every satellite of the mode's cities. */
    g_autofree gint64 *sat_img = g_new(gint64, sats->len ? sats->len : 1);
    for (guint i = 0; i < sats->len; i++)
        sat_img[i] = -1;
    if (m->all_references)
        for (guint i = 0; i < sats->len; i++) {
            Sat *s = &g_array_index(sats, Sat, i);
            g_autofree char *dir = image_dir(ds, s->city, FALSE);
            g_autofree char *p = g_strdup_printf("%s/%s", dir, s->name);
            g_autofree char *w = g_strdup_printf("splits/%s/satellite_list.txt", s->city);
            sat_img[i] = s4g_dataset_add_image(ds, S4G_VIEW_SATELLITE, p, m->split, i, s->lat,
                                               s->lon, w, error);
            if (sat_img[i] == -2)
                return FALSE;
        }
    /* Panoramas; train references are added as positives are met. */
    typedef struct {
        guint ground;
        guint sat[4];
        double d[8];
    } Row;
    g_autoptr(GArray) rows = g_array_new(FALSE, FALSE, sizeof(Row));
    for (int c = 0; c < nc; c++) {
        g_autofree char *rel = g_strdup_printf("splits/%s/%s", cities[c], m->label_file);
        g_auto(GStrv) lines = s4g_dataset_read_lines(ds->root, rel, error);
        if (!lines)
            return g_prefix_error(error, "vigor: "), FALSE;
        for (guint ln = 0; lines[ln]; ln++) {
            g_auto(GStrv) tok = g_strsplit_set(g_strstrip(lines[ln]), " \t", -1);
            /* collapse runs of separators */
            GPtrArray *t = g_ptr_array_new();
            for (char **p = tok; *p; p++)
                if (**p)
                    g_ptr_array_add(t, *p);
            guint nt = t->len;
            g_autofree gpointer *tv = g_ptr_array_free(t, FALSE);
            if (nt == 0)
                continue;
            if (nt != 13) {
                g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                            "vigor: %s:%u: expected 13 fields, got %u", rel, ln + 1, nt);
                return FALSE;
            }
            const char **f = (const char **)tv;
            Row r;
            guint si[4];
            for (int k = 0; k < 4; k++) {
                g_autofree char *key = g_strdup_printf("%s/%s", cities[c], f[1 + 3 * k]);
                guint v = GPOINTER_TO_UINT(g_hash_table_lookup(sat_index, key));
                if (!v) {
                    g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                                "vigor: %s:%u: field %d: satellite “%s” is not in "
                                "splits/%s/satellite_list.txt",
                                rel, ln + 1, 2 + 3 * k, f[1 + 3 * k], cities[c]);
                    return FALSE;
                }
                si[k] = v - 1;
                for (int j = 0; j < 2; j++) {
                    g_autofree char *fn = g_strdup_printf("field %d (offset)", 3 + 3 * k + j);
                    if (!s4g_dataset_parse_double(f[2 + 3 * k + j], rel, ln + 1, fn,
                                                  &r.d[2 * k + j], error))
                        return g_prefix_error(error, "vigor: "), FALSE;
                }
            }
            double lat = NAN, lon = NAN;
            if (!pano_gps(f[0], &lat, &lon)) {
                g_autofree char *shown = s4g_file_clip(f[0]);
                g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                            "vigor: %s:%u: field 1: “%s” is not {panoid},{lat},{lon},.jpg with "
                            "lat in ±90, lon in ±180",
                            rel, ln + 1, shown);
                return FALSE;
            }
            g_autofree char *where = g_strdup_printf("%s:%u", rel, ln + 1);
            g_autofree char *gdir = image_dir(ds, cities[c], TRUE);
            g_autofree char *gp = g_strdup_printf("%s/%s", gdir, f[0]);
            gint64 g = s4g_dataset_add_image(ds, S4G_VIEW_GROUND, gp, m->split, si[0], lat, lon,
                                             where, error);
            if (g == -2)
                return FALSE;
            if (!m->all_references && sat_img[si[0]] < 0) {
                Sat *s = &g_array_index(sats, Sat, si[0]);
                g_autofree char *sdir = image_dir(ds, s->city, FALSE);
                g_autofree char *sp = g_strdup_printf("%s/%s", sdir, s->name);
                g_autofree char *w = g_strdup_printf("%s: field 2", where);
                sat_img[si[0]] = s4g_dataset_add_image(ds, S4G_VIEW_SATELLITE, sp, m->split,
                                                       si[0], s->lat, s->lon, w, error);
                if (sat_img[si[0]] == -2)
                    return FALSE;
            }
            if (g < 0) {
                ds->skipped_pairs++;
                continue;
            }
            r.ground = (guint)g;
            memcpy(r.sat, si, sizeof si);
            g_array_append_val(rows, r);
        }
    }
    for (guint i = 0; i < rows->len; i++) {
        Row *r = &g_array_index(rows, Row, i);
        for (int k = 0; k < 4; k++) {
            if (sat_img[r->sat[k]] < 0) {
                if (k == 0)
                    ds->skipped_pairs++;
                continue;
            }
            s4g_dataset_add_pair(ds, r->ground, (guint)sat_img[r->sat[k]],
                                 k ? S4G_RELATION_SEMI_POSITIVE : S4G_RELATION_POSITIVE,
                                 m->split, r->d[2 * k], r->d[2 * k + 1]);
        }
    }
    return TRUE;
}

gboolean s4g_reader_vigor(S4gDataset *ds, GError **error)
{
    g_autofree char *splits = g_build_filename(ds->root, "splits", NULL);
    gboolean any = FALSE;
    for (int c = 0; c < 4; c++) {
        g_autofree char *d = g_build_filename(splits, modes[0].cities[c], NULL);
        any |= g_file_test(d, G_FILE_TEST_IS_DIR);
    }
    if (!any) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO,
                    "vigor: %s: no city folder (Chicago, NewYork, SanFrancisco, Seattle)",
                    splits);
        return FALSE;
    }
    for (guint i = 0; i < G_N_ELEMENTS(modes); i++)
        if (!read_mode(ds, &modes[i], error))
            return FALSE;
    return TRUE;
}
