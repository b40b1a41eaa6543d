/* s4g-tilegrid.c — MBTiles region → grid of satellite patches (PNG) with centre coordinates. */
#include "s4g-tilegrid.h"
#include "s4g-geo.h"
#include "s4g-image.h"
#include "s4g-test-kill.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#define TILE 256

void s4g_tile_patch_clear(S4gTilePatch *p)
{
    g_clear_pointer(&p->file, g_free);
}

static double px_of_lon(double lon, int z)
{
    return (lon + 180.0) / 360.0 * TILE * (double)(1 << z);
}

static double py_of_lat(double lat, int z)
{
    double r = lat * G_PI / 180.0;
    return (1.0 - log(tan(r) + 1.0 / cos(r)) / G_PI) / 2.0 * TILE * (double)(1 << z);
}

static double lon_of_px(double px, int z)
{
    return px / (TILE * (double)(1 << z)) * 360.0 - 180.0;
}

static double lat_of_py(double py, int z)
{
    double n = G_PI * (1 - 2 * py / (TILE * (double)(1 << z)));
    return 180.0 / G_PI * atan(sinh(n));
}

/* The region's pixel rectangle [x0, x1) × [y0, y1) at zoom z. */
static gboolean region_px(const double *b, const char *what, int z, gint64 *x0, gint64 *y0,
                          gint64 *x1, gint64 *y1, GError **error)
{
    if (!b || !(b[0] < b[2]) || !(b[1] < b[3]) || b[1] < -85.06 || b[3] > 85.06) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                    "%s: no usable bounds (west,south,east,north)", what);
        return FALSE;
    }
    if (z < 0 || z > 24) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID, "zoom %d outside 0..24", z);
        return FALSE;
    }
    *x0 = (gint64)ceil(px_of_lon(b[0], z));
    *x1 = (gint64)floor(px_of_lon(b[2], z));
    *y0 = (gint64)ceil(py_of_lat(b[3], z));
    *y1 = (gint64)floor(py_of_lat(b[1], z));
    return TRUE;
}

/* The tile set's bounds, or an error naming its metadata. */
static gboolean mbtiles_bounds(S4gMbtiles *mb, double b[4], GError **error)
{
    if (!s4g_mbtiles_get_bounds(mb, b)) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                    "%s: metadata has no usable bounds (west,south,east,north)",
                    s4g_mbtiles_get_path(mb));
        return FALSE;
    }
    return TRUE;
}

gboolean s4g_tilegrid_size_bounds(const double bounds[4], const char *what, int z, int pw,
                                  int ph, int stride, int *cols, int *rows, GError **error)
{
    gint64 x0, y0, x1, y1;
    if (!region_px(bounds, what, z, &x0, &y0, &x1, &y1, error)) return FALSE;
    if (pw < 1 || ph < 1 || stride < 1) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "patch %dx%d and stride %d must be positive", pw, ph, stride);
        return FALSE;
    }
    gint64 c = x1 - x0 >= pw ? (x1 - x0 - pw) / stride + 1 : 0;
    gint64 r = y1 - y0 >= ph ? (y1 - y0 - ph) / stride + 1 : 0;
    if (c > G_MAXINT / 1024 || r > G_MAXINT / 1024 || c * r > G_MAXINT) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "%s: %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT " patches at zoom %d is too "
                    "many for one gallery",
                    what, c, r, z);
        return FALSE;
    }
    *cols = (int)c, *rows = (int)r;
    return TRUE;
}

gboolean s4g_tilegrid_read_mbtiles(gpointer mbtiles, int z, gint64 x, gint64 y, S4gImage *out,
                                   GError **error)
{
    S4gMbtiles *mb = mbtiles;
    int w = out->width, h = out->height;
    memset(out->data, 0, (gsize)w * h * 3);
    gint64 n = (gint64)1 << z;
    for (gint64 ty = MAX(y / TILE, 0); ty <= MIN((y + h - 1) / TILE, n - 1); ty++)
        for (gint64 tx = MAX(x / TILE, 0); tx <= MIN((x + w - 1) / TILE, n - 1); tx++) {
            g_autoptr(GBytes) b = s4g_mbtiles_get_tile(mb, z, (int)tx, (int)ty, error);
            if (!b) {
                if (error && *error) return FALSE;
                continue;
            }
            g_autofree char *what = g_strdup_printf("%s: tile %d/%d/%d",
                                                    s4g_mbtiles_get_path(mb), z, (int)tx, (int)ty);
            gsize len;
            const void *data = g_bytes_get_data(b, &len);
            /* the size from the header first: a tile declaring 20000² is never decoded */
            int tw = 0, th = 0;
            if (!s4g_image_buffer_size(data, len, what, &tw, &th, error)) return FALSE;
            if (tw != TILE || th != TILE) {
                g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE, "%s is %dx%d, not 256x256",
                            what, tw, th);
                return FALSE;
            }
            g_autoptr(S4gImage) t = s4g_image_load_buffer(data, len, what, error);
            if (!t) return FALSE;
            if (t->width != TILE || t->height != TILE) {
                g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE, "%s is %dx%d, not 256x256",
                            what, t->width, t->height);
                return FALSE;
            }
            /* the tile's part inside the window */
            gint64 cx0 = MAX(x, tx * TILE), cx1 = MIN(x + w, (tx + 1) * TILE);
            gint64 cy0 = MAX(y, ty * TILE), cy1 = MIN(y + h, (ty + 1) * TILE);
            for (gint64 py = cy0; py < cy1; py++)
                memcpy(out->data + ((gsize)(py - y) * w + (cx0 - x)) * 3,
                       t->data + ((gsize)(py - ty * TILE) * TILE + (cx0 - tx * TILE)) * 3,
                       (gsize)(cx1 - cx0) * 3);
        }
    return TRUE;
}

/* Refuses a gallery whose patches would not fit in the free space of outdir's file system
 * (PNG of pw×ph RGB counted at its raw size, an upper bound for photographic content). */
gboolean s4g_tilegrid_check_disk(const char *what, const char *outdir, gint64 patches, int pw,
                                 int ph, GError **error)
{
    g_autofree char *dir = g_strdup(outdir);
    while (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        char *up = g_path_get_dirname(dir);
        gboolean top = !strcmp(up, dir);
        g_free(dir);
        dir = up;
        if (top) break;
    }
    g_autoptr(GFile) f = g_file_new_for_path(dir);
    g_autoptr(GFileInfo) info = g_file_query_filesystem_info(f, G_FILE_ATTRIBUTE_FILESYSTEM_FREE,
                                                             NULL, NULL);
    if (!info || !g_file_info_has_attribute(info, G_FILE_ATTRIBUTE_FILESYSTEM_FREE)) return TRUE;
    guint64 avail = g_file_info_get_attribute_uint64(info, G_FILE_ATTRIBUTE_FILESYSTEM_FREE);
    guint64 need = (guint64)patches * ((guint64)pw * ph * 3 + 1024);
    if (need > avail) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO,
                    "%s: %" G_GINT64_FORMAT " images of %dx%d need up to %.1f GB but %s has "
                    "%.1f GB free (choose a smaller region, a larger --stride or a lower zoom)",
                    what, patches, pw, ph, need / 1e9, dir, avail / 1e9);
        return FALSE;
    }
    return TRUE;
}

GArray *s4g_tilegrid_cut_bounds(const double bounds[4], const char *what, S4gTileWindowRead read,
                                gpointer source, int z, int pw, int ph, int stride,
                                const char *outdir, GError **error)
{
    int cols, rows;
    gint64 x0, y0, x1, y1;
    if (!s4g_tilegrid_size_bounds(bounds, what, z, pw, ph, stride, &cols, &rows, error) ||
        !region_px(bounds, what, z, &x0, &y0, &x1, &y1, error) || !s4g_image_init(error))
        return NULL;
    if (cols == 0 || rows == 0) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "%s: the region is %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                    " pixels at zoom %d, smaller than a %dx%d patch (zoom in)",
                    what, x1 - x0, y1 - y0, z, pw, ph);
        return NULL;
    }
    if (!s4g_tilegrid_check_disk(what, outdir, (gint64)rows * cols, pw, ph, error)) return NULL;
    if (g_mkdir_with_parents(outdir, 0755) != 0) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "%s: cannot create the folder",
                    outdir);
        return NULL;
    }
    /* windows: bands of `br` patch rows × `bc` patch columns, about 2048 pixels a side */
    int br = MAX(1, (2048 - ph) / stride + 1), bc = MAX(1, (2048 - pw) / stride + 1);
    br = MIN(br, rows), bc = MIN(bc, cols);
    GArray *out = g_array_sized_new(FALSE, TRUE, sizeof(S4gTilePatch), (guint)(rows * cols));
    g_array_set_clear_func(out, (GDestroyNotify)s4g_tile_patch_clear);
    g_array_set_size(out, (guint)(rows * cols));
    g_autoptr(S4gImage) patch = s4g_image_new(pw, ph);
    for (int r0 = 0; r0 < rows; r0 += br) {
        int nr = MIN(br, rows - r0);
        for (int c0 = 0; c0 < cols; c0 += bc) {
            int nc = MIN(bc, cols - c0);
            gint64 wx = x0 + (gint64)c0 * stride, wy = y0 + (gint64)r0 * stride;
            g_autoptr(S4gImage) win = s4g_image_new((nc - 1) * stride + pw, (nr - 1) * stride + ph);
            if (!read(source, z, wx, wy, win, error)) {
                g_array_unref(out);
                return NULL;
            }
            for (int r = r0; r < r0 + nr; r++)
                for (int c = c0; c < c0 + nc; c++) {
                    gint64 px = x0 + (gint64)c * stride, py = y0 + (gint64)r * stride;
                    for (int y = 0; y < ph; y++)
                        memcpy(patch->data + (gsize)y * pw * 3,
                               win->data + ((gsize)(py - wy + y) * win->width + (px - wx)) * 3,
                               (gsize)pw * 3);
                    S4gTilePatch *p = &g_array_index(out, S4gTilePatch, (guint)(r * cols + c));
                    p->row = r, p->col = c;
                    p->file = g_strdup_printf("r%03d-c%03d.png", r, c);
                    p->lon = lon_of_px(px + pw / 2.0, z);
                    p->lat = lat_of_py(py + ph / 2.0, z);
                    g_autofree char *path = g_build_filename(outdir, p->file, NULL);
                    if (!s4g_image_save(patch, path, 0, error)) {
                        g_array_unref(out);
                        return NULL;
                    }
                    s4g_test_kill_at("gallery-patch");
                }
        }
    }
    return out;
}

GArray *s4g_tilegrid_cut(S4gMbtiles *mb, int z, int pw, int ph, int stride, const char *outdir,
                         GError **error)
{
    double b[4];
    if (!mbtiles_bounds(mb, b, error)) return NULL;
    return s4g_tilegrid_cut_bounds(b, s4g_mbtiles_get_path(mb), s4g_tilegrid_read_mbtiles, mb, z,
                                   pw, ph, stride, outdir, error);
}

static gboolean read_imagery(gpointer source, int z, gint64 x, gint64 y, S4gImage *out,
                             GError **error)
{
    return s4g_imagery_read(source, z, x, y, out, error);
}

GArray *s4g_tilegrid_cut_imagery(S4gImagery *im, const double bounds[4], int z, int pw, int ph,
                                 int stride, const char *outdir, GError **error)
{
    return s4g_tilegrid_cut_bounds(bounds, s4g_imagery_get_source(im), read_imagery, im, z, pw,
                                   ph, stride, outdir, error);
}
