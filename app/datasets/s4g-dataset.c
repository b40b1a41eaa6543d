/* s4g-dataset.c — the in-memory dataset that readers fill, and helpers they share. */
#include "s4g-dataset.h"
#include "s4g-file.h"
#include "s4g-image.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <vips/vips.h>

static const char *const view_names[] = {"ground", "satellite", "drone"};
static const char *const kind_names[] = {"cvusa", "cvact", "vigor", "university", "photos"};

const char *s4g_view_name(S4gView view)
{
    return (guint)view < G_N_ELEMENTS(view_names) ? view_names[view] : "?";
}

gboolean s4g_view_parse(const char *name, S4gView *view)
{
    for (guint i = 0; i < G_N_ELEMENTS(view_names); i++)
        if (name && !strcmp(name, view_names[i])) {
            *view = (S4gView)i;
            return TRUE;
        }
    return FALSE;
}

const char *s4g_relation_name(S4gRelation relation)
{
    return relation == S4G_RELATION_SEMI_POSITIVE ? "semi-positive" : "positive";
}

const char *s4g_dataset_kind_name(S4gDatasetKind kind)
{
    return (guint)kind < G_N_ELEMENTS(kind_names) ? kind_names[kind] : "?";
}

gboolean s4g_dataset_kind_parse(const char *name, S4gDatasetKind *kind)
{
    for (guint i = 0; i < G_N_ELEMENTS(kind_names); i++)
        if (name && !strcmp(name, kind_names[i])) {
            *kind = (S4gDatasetKind)i;
            return TRUE;
        }
    return FALSE;
}

static void image_clear(gpointer p)
{
    S4gDatasetImage *im = p;
    g_free(im->path);
    g_free(im->split);
}

static void pair_clear(gpointer p)
{
    g_free(((S4gDatasetPair *)p)->split);
}

S4gDataset *s4g_dataset_new(S4gDatasetKind kind, const char *root, gboolean skip_missing)
{
    S4gDataset *ds = g_new0(S4gDataset, 1);
    ds->kind = kind;
    ds->root = g_strdup(root);
    ds->skip_missing = skip_missing;
    ds->images = g_array_new(FALSE, TRUE, sizeof(S4gDatasetImage));
    g_array_set_clear_func(ds->images, image_clear);
    ds->pairs = g_array_new(FALSE, TRUE, sizeof(S4gDatasetPair));
    g_array_set_clear_func(ds->pairs, pair_clear);
    ds->missing_paths = g_ptr_array_new_with_free_func(g_free);
    ds->index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return ds;
}

void s4g_dataset_free(S4gDataset *ds)
{
    if (!ds)
        return;
    g_free(ds->root);
    g_array_unref(ds->images);
    g_array_unref(ds->pairs);
    g_ptr_array_unref(ds->missing_paths);
    g_hash_table_unref(ds->index);
    g_free(ds);
}

gboolean s4g_dataset_read(S4gDataset *ds, GError **error)
{
    if (!g_file_test(ds->root, G_FILE_TEST_EXISTS)) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "%s: %s: no such file or folder",
                    s4g_dataset_kind_name(ds->kind), ds->root);
        return FALSE;
    }
    gboolean ok = FALSE;
    switch (ds->kind) {
    case S4G_DATASET_CVUSA: ok = s4g_reader_cvusa(ds, error); break;
    case S4G_DATASET_CVACT: ok = s4g_reader_cvact(ds, error); break;
    case S4G_DATASET_VIGOR: ok = s4g_reader_vigor(ds, error); break;
    case S4G_DATASET_UNIVERSITY: ok = s4g_reader_university(ds, error); break;
    case S4G_DATASET_PHOTOS: ok = s4g_reader_photos(ds, error); break;
    }
    return ok;
}

static char *index_key(S4gView view, const char *split, const char *path)
{
    return g_strdup_printf("%d\t%s\t%s", (int)view, split, path);
}

gint64 s4g_dataset_find_image(S4gDataset *ds, S4gView view, const char *split, const char *path)
{
    g_autofree char *key = index_key(view, split, path);
    gpointer v = g_hash_table_lookup(ds->index, key);
    return v ? (gint64)GPOINTER_TO_SIZE(v) - 1 : -1;
}

/* The first bytes of the formats the pipeline decodes.  Checked before libvips so that a
 * text file is never "decoded" by one of its text loaders (csvload, matrixload). */
static const char *sniff_format(const guint8 *b, gsize n)
{
    if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF)
        return "jpeg";
    if (n >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8))
        return "png";
    if (n >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4))
        return "webp";
    if (n >= 4 && (!memcmp(b, "II*\0", 4) || !memcmp(b, "MM\0*", 4)))
        return "tiff";
    return NULL;
}

gboolean s4g_dataset_probe_image(const char *path, int *width, int *height, GError **error)
{
    /* a FIFO or device must not block the import: regular files only */
    int fd = s4g_file_open_regular(path, NULL, error);
    if (fd < 0)
        return FALSE;
    guint8 head[16];
    ssize_t got = read(fd, head, sizeof head);
    close(fd);
    if (got < 0 || !sniff_format(head, (gsize)got)) {
        g_autofree char *shown = s4g_file_clip(path);
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                    "%s: not an image (expected JPEG, PNG, WebP or TIFF)", shown);
        return FALSE;
    }
    if (!s4g_image_init(error))
        return FALSE;
    /* Only the header is read here: libvips opens lazily. */
    VipsImage *im = vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL, NULL);
    if (!im) {
        g_autofree char *msg = s4g_image_vips_error();
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE, "%s: unreadable image header: %s",
                    path, msg);
        return FALSE;
    }
    if (width)
        *width = vips_image_get_width(im);
    if (height)
        *height = vips_image_get_height(im);
    g_object_unref(im);
    return TRUE;
}

gint64 s4g_dataset_add_image(S4gDataset *ds, S4gView view, const char *path, const char *split,
                             gint64 identity, double lat, double lon, const char *where,
                             GError **error)
{
    gint64 have = s4g_dataset_find_image(ds, view, split, path);
    if (have >= 0)
        return have;
    g_autofree char *full = g_build_filename(ds->root, path, NULL);
    const char *kind = s4g_dataset_kind_name(ds->kind);
    g_autoptr(GError) perr = NULL;
    if (!ds->allow_outside_root && !s4g_file_inside_root(ds->root, path, &perr)) {
        g_set_error(error, S4G_GEO_ERROR, perr->code, "%s: %s%s%s", kind, where ? where : "",
                    where ? ": " : "", perr->message);
        return -2;
    }
    if (isnan(lat) != isnan(lon) || (!isnan(lat) && (fabs(lat) > 90 || fabs(lon) > 180))) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                    "%s: %s%slat/lon %g,%g out of range (±90, ±180)", kind, where ? where : "",
                    where ? ": " : "", lat, lon);
        return -2;
    }
    if (!g_file_test(full, G_FILE_TEST_EXISTS)) {
        g_autofree char *shown = s4g_file_clip(full);
        if (ds->skip_missing) {
            ds->missing++;
            if (ds->missing_paths->len < 20)
                g_ptr_array_add(ds->missing_paths, g_strdup(path));
            return -1;
        }
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO,
                    "%s: %s%s%s: image file not found (use --skip-missing to skip such)", kind,
                    where ? where : "", where ? ": " : "", shown);
        return -2;
    }
    S4gDatasetImage im = {
        .view = view,
        .path = g_strdup(path),
        .split = g_strdup(split),
        .identity = identity,
        .lat = lat,
        .lon = lon,
        .x = NAN,
        .y = NAN,
    };
    if (!s4g_dataset_probe_image(full, &im.width, &im.height, &perr)) {
        g_set_error(error, S4G_GEO_ERROR, perr->code, "%s: %s%s%s", kind, where ? where : "",
                    where ? ": " : "", perr->message);
        image_clear(&im);
        return -2;
    }
    g_array_append_val(ds->images, im);
    guint idx = ds->images->len - 1;
    g_hash_table_insert(ds->index, index_key(view, split, path), GSIZE_TO_POINTER(idx + 1));
    if (ds->on_read)
        ds->on_read(ds->images->len, ds->progress_data);
    return idx;
}

S4gDatasetImage *s4g_dataset_image(S4gDataset *ds, guint index)
{
    g_return_val_if_fail(index < ds->images->len, NULL);
    return &g_array_index(ds->images, S4gDatasetImage, index);
}

void s4g_dataset_add_pair(S4gDataset *ds, guint ground, guint satellite, S4gRelation relation,
                          const char *split, double dx, double dy)
{
    S4gDatasetPair p = {ground, satellite, relation, g_strdup(split), dx, dy};
    g_array_append_val(ds->pairs, p);
}

guint s4g_dataset_count_images(S4gDataset *ds, const char *split, S4gView view)
{
    guint n = 0;
    for (guint i = 0; i < ds->images->len; i++) {
        S4gDatasetImage *im = &g_array_index(ds->images, S4gDatasetImage, i);
        if (im->view == view && (!split || !strcmp(split, im->split)))
            n++;
    }
    return n;
}

guint s4g_dataset_count_pairs(S4gDataset *ds, const char *split, S4gRelation relation)
{
    guint n = 0;
    for (guint i = 0; i < ds->pairs->len; i++) {
        S4gDatasetPair *p = &g_array_index(ds->pairs, S4gDatasetPair, i);
        if (p->relation == relation && (!split || !strcmp(split, p->split)))
            n++;
    }
    return n;
}

/* Split and list files are read whole (bounded: no benchmark's text file comes near it). */
#define MAX_TEXT_BYTES ((gsize)512 << 20)

char **s4g_dataset_read_lines(const char *root, const char *rel, GError **error)
{
    g_autofree char *full = g_build_filename(root, rel, NULL);
    g_autofree char *text = NULL;
    gsize len = 0;
    if (!s4g_file_read_regular(full, MAX_TEXT_BYTES, &text, &len, error))
        return NULL;
    if (memchr(text, '\0', len)) {
        g_autofree char *shown = s4g_file_clip(full);
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                    "%s: binary data in a text file", shown);
        return NULL;
    }
    /* a UTF-8 byte-order mark (spreadsheet exports) is not part of the first field */
    const char *start = len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3) ? text + 3 : text;
    char **lines = g_strsplit(start, "\n", -1);
    for (char **l = lines; *l; l++) {
        gsize n = strlen(*l);
        if (n && (*l)[n - 1] == '\r')
            (*l)[n - 1] = '\0';
    }
    return lines;
}

gboolean s4g_dataset_parse_double(const char *text, const char *rel, guint line,
                                  const char *field, double *out, GError **error)
{
    char *end = NULL;
    g_autofree char *t = g_strstrip(g_strdup(text ? text : ""));
    double v = g_ascii_strtod(t, &end);
    if (!*t || *end || !isfinite(v)) {
        g_autofree char *shown = s4g_file_clip(t);
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE, "%s:%u: %s: “%s” is not a number",
                    rel, line, field, shown);
        return FALSE;
    }
    *out = v;
    return TRUE;
}
