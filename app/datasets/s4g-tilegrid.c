/* s4g-tilegrid.c — MBTiles region → grid of satellite patches (PNG) with centre coordinates. */
#include "s4g-tilegrid.h"
#include "s4g-geo.h"
#include "s4g-image.h"

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
static gboolean region_px(S4gMbtiles *mb, int z, gint64 *x0, gint64 *y0, gint64 *x1, gint64 *y1,
                          GError **error)
{
    double b[4];
    if (!s4g_mbtiles_get_bounds(mb, b) || !(b[0] < b[2]) || !(b[1] < b[3]) || b[1] < -85.06 ||
        b[3] > 85.06) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                    "%s: metadata has no usable bounds (west,south,east,north)",
                    s4g_mbtiles_get_path(mb));
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

gboolean s4g_tilegrid_size(S4gMbtiles *mb, int z, int pw, int ph, int stride, int *cols,
                           int *rows, GError **error)
{
    gint64 x0, y0, x1, y1;
    if (!region_px(mb, z, &x0, &y0, &x1, &y1, error)) return FALSE;
    if (pw < 1 || ph < 1 || stride < 1) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "patch %dx%d and stride %d must be positive", pw, ph, stride);
        return FALSE;
    }
    *cols = x1 - x0 >= pw ? (int)((x1 - x0 - pw) / stride + 1) : 0;
    *rows = y1 - y0 >= ph ? (int)((y1 - y0 - ph) / stride + 1) : 0;
    return TRUE;
}

GArray *s4g_tilegrid_cut(S4gMbtiles *mb, int z, int pw, int ph, int stride, const char *outdir,
                         GError **error)
{
    int cols, rows;
    gint64 x0, y0, x1, y1;
    if (!s4g_tilegrid_size(mb, z, pw, ph, stride, &cols, &rows, error) ||
        !region_px(mb, z, &x0, &y0, &x1, &y1, error) || !s4g_image_init(error))
        return NULL;
    if (cols == 0 || rows == 0) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "%s: the region is %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                    " pixels at zoom %d, smaller than a %dx%d patch (zoom in)",
                    s4g_mbtiles_get_path(mb), x1 - x0, y1 - y0, z, pw, ph);
        return NULL;
    }
    /* the mosaic of the tiles under the grid; regions are small (a city at z17 is a few
     * hundred tiles), so it is held whole */
    gint64 gx1 = x0 + (gint64)(cols - 1) * stride + pw, gy1 = y0 + (gint64)(rows - 1) * stride + ph;
    int tx0 = (int)(x0 / TILE), ty0 = (int)(y0 / TILE);
    int tx1 = (int)((gx1 - 1) / TILE), ty1 = (int)((gy1 - 1) / TILE);
    gint64 mw = (gint64)(tx1 - tx0 + 1) * TILE, mh = (gint64)(ty1 - ty0 + 1) * TILE;
    if (mw * mh > (gint64)1 << 28) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "%s: %d×%d tiles at zoom %d is too large a region for one gallery",
                    s4g_mbtiles_get_path(mb), tx1 - tx0 + 1, ty1 - ty0 + 1, z);
        return NULL;
    }
    g_autoptr(S4gImage) mosaic = s4g_image_new((int)mw, (int)mh);
    for (int ty = ty0; ty <= ty1; ty++)
        for (int tx = tx0; tx <= tx1; tx++) {
            g_autoptr(GBytes) b = s4g_mbtiles_get_tile(mb, z, tx, ty, error);
            if (!b) {
                if (error && *error) return NULL;
                continue;
            }
            g_autofree char *what = g_strdup_printf("%s: tile %d/%d/%d",
                                                    s4g_mbtiles_get_path(mb), z, tx, ty);
            gsize len;
            const void *data = g_bytes_get_data(b, &len);
            /* the size from the header first: a tile declaring 20000² is never decoded */
            int w = 0, h = 0;
            if (!s4g_image_buffer_size(data, len, what, &w, &h, error)) return NULL;
            if (w != TILE || h != TILE) {
                g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE, "%s is %dx%d, not 256x256",
                            what, w, h);
                return NULL;
            }
            g_autoptr(S4gImage) t = s4g_image_load_buffer(data, len, what, error);
            if (!t) return NULL;
            if (t->width != TILE || t->height != TILE) {
                g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE, "%s is %dx%d, not 256x256",
                            what, t->width, t->height);
                return NULL;
            }
            for (int r = 0; r < TILE; r++)
                memcpy(mosaic->data + ((gsize)((ty - ty0) * TILE + r) * mw + (tx - tx0) * TILE) * 3,
                       t->data + (gsize)r * TILE * 3, TILE * 3);
        }
    if (g_mkdir_with_parents(outdir, 0755) != 0) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "%s: cannot create the folder",
                    outdir);
        return NULL;
    }
    GArray *out = g_array_sized_new(FALSE, TRUE, sizeof(S4gTilePatch), (guint)(rows * cols));
    g_array_set_clear_func(out, (GDestroyNotify)s4g_tile_patch_clear);
    g_autoptr(S4gImage) patch = s4g_image_new(pw, ph);
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            gint64 px = x0 + (gint64)c * stride, py = y0 + (gint64)r * stride;
            gint64 ox = px - (gint64)tx0 * TILE, oy = py - (gint64)ty0 * TILE;
            for (int y = 0; y < ph; y++)
                memcpy(patch->data + (gsize)y * pw * 3,
                       mosaic->data + ((gsize)(oy + y) * mw + ox) * 3, (gsize)pw * 3);
            S4gTilePatch p = {.row = r, .col = c};
            p.file = g_strdup_printf("r%03d-c%03d.png", r, c);
            p.lon = lon_of_px(px + pw / 2.0, z);
            p.lat = lat_of_py(py + ph / 2.0, z);
            g_autofree char *path = g_build_filename(outdir, p.file, NULL);
            g_array_append_val(out, p);
            if (!s4g_image_save(patch, path, 0, error)) {
                g_array_unref(out);
                return NULL;
            }
        }
    return out;
}
