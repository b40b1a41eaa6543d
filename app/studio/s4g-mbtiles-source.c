/* s4g-mbtiles-source.c — MBTiles map source (see the header). */
#include "s4g-mbtiles-source.h"

#include "s4g-image.h"
#include "s4g-mbtiles.h"
#include "s4g-tile-fill.h"

struct _S4gMbtilesSource {
    ShumateMapSource parent_instance;
    S4gMbtiles *tiles; /* thread-safe reader (app/store) */
    char *path;
    gboolean has_center;
    double center_lat, center_lon, center_zoom;
};

G_DEFINE_FINAL_TYPE(S4gMbtilesSource, s4g_mbtiles_source, SHUMATE_TYPE_MAP_SOURCE)

GBytes *s4g_mbtiles_source_read_tile(S4gMbtilesSource *self, guint z, guint x, guint y,
                                     GError **error)
{
    g_return_val_if_fail(S4G_IS_MBTILES_SOURCE(self), NULL);
    if (z > 30 || x >= (1u << z) || y >= (1u << z)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "%s: tile %u/%u/%u is outside the tile grid", self->path, z, x, y);
        return NULL;
    }
    GError *local = NULL;
    GBytes *bytes = s4g_mbtiles_get_tile(self->tiles, (int)z, (int)x, (int)y, &local);
    if (!bytes && !local)
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s: no tile %u/%u/%u (TMS row %u)",
                    self->path, z, x, y, (1u << z) - 1 - y);
    else if (!bytes)
        g_propagate_error(error, local);
    return bytes;
}

/* A tile's bytes decoded to a texture (in the fill worker thread). */
static GdkTexture *render(ShumateMapSource *source, guint z, guint x, guint y, GError **error)
{
    S4gMbtilesSource *self = S4G_MBTILES_SOURCE(source);
    g_autoptr(GBytes) bytes = s4g_mbtiles_source_read_tile(self, z, x, y, error);
    if (!bytes) return NULL;
    /* a map tile is 256² or 512²: one declaring more is refused from its header, undecoded */
    int w = 0, h = 0;
    gsize len = 0;
    const void *encoded = g_bytes_get_data(bytes, &len);
    g_autofree char *what = g_strdup_printf("%s: tile %u/%u/%u", self->path, z, x, y);
    GError *size_error = NULL;
    if (!s4g_image_buffer_size(encoded, len, what, &w, &h, &size_error) || w > 1024 || h > 1024) {
        if (!size_error)
            size_error = g_error_new(G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                     "%s: %d×%d pixels, not a map tile", what, w, h);
        g_propagate_error(error, size_error);
        return NULL;
    }
    GdkTexture *texture = gdk_texture_new_from_bytes(bytes, error);
    if (!texture) g_prefix_error(error, "%s: ", what);
    return texture;
}

static void fill_tile_async(ShumateMapSource *source, ShumateTile *tile, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
    s4g_tile_fill_async(source, tile, cancellable, render, callback, user_data);
}

static void finalize(GObject *object)
{
    S4gMbtilesSource *self = S4G_MBTILES_SOURCE(object);
    g_clear_pointer(&self->tiles, s4g_mbtiles_close);
    g_free(self->path);
    G_OBJECT_CLASS(s4g_mbtiles_source_parent_class)->finalize(object);
}

static void s4g_mbtiles_source_class_init(S4gMbtilesSourceClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = finalize;
    SHUMATE_MAP_SOURCE_CLASS(klass)->fill_tile_async = fill_tile_async;
    SHUMATE_MAP_SOURCE_CLASS(klass)->fill_tile_finish = s4g_tile_fill_finish;
}

static void s4g_mbtiles_source_init(S4gMbtilesSource *self) {}

/* Parses "a,b,c[,d]" into doubles; returns how many were read. */
static int parse_doubles(const char *s, double *out, int max)
{
    if (!s) return 0;
    g_auto(GStrv) parts = g_strsplit(s, ",", -1);
    int n = 0;
    for (; parts[n] && n < max; n++) {
        char *end = NULL;
        out[n] = g_ascii_strtod(parts[n], &end);
        if (end == parts[n]) return n;
    }
    return n;
}

S4gMbtilesSource *s4g_mbtiles_source_new(const char *path, GError **error)
{
    g_return_val_if_fail(path != NULL, NULL);
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s: no such MBTiles file", path);
        return NULL;
    }
    S4gMbtiles *tiles = s4g_mbtiles_open(path, error);
    if (!tiles) return NULL;
    g_autofree char *name = s4g_mbtiles_get_metadata(tiles, "name");
    g_autofree char *attribution = s4g_mbtiles_get_metadata(tiles, "attribution");
    g_autofree char *basename = g_path_get_basename(path);
    int minz = s4g_mbtiles_get_min_zoom(tiles), maxz = s4g_mbtiles_get_max_zoom(tiles);
    if (minz < 0) minz = 0;
    if (maxz < minz) maxz = 18;
    /* The id keys libshumate's tile memory cache, so it must differ per file. */
    g_autofree char *id = g_strdup_printf("s4g-mbtiles:%s", path);
    S4gMbtilesSource *self = g_object_new(
        S4G_TYPE_MBTILES_SOURCE, "id", id, "name", name ? name : basename, "license",
        attribution ? attribution : "", "min-zoom-level", (guint)minz, "max-zoom-level",
        (guint)maxz, "tile-size", 256u, "projection", SHUMATE_MAP_PROJECTION_MERCATOR, NULL);
    self->tiles = tiles;
    self->path = g_strdup(path);

    g_autofree char *center = s4g_mbtiles_get_metadata(tiles, "center");
    double v[4];
    int n = parse_doubles(center, v, 3);
    if (n >= 2) {
        self->has_center = TRUE;
        self->center_lon = v[0];
        self->center_lat = v[1];
        self->center_zoom = n == 3 ? v[2] : maxz;
    } else if (s4g_mbtiles_get_bounds(tiles, v)) {
        self->has_center = TRUE;
        self->center_lon = (v[0] + v[2]) / 2;
        self->center_lat = (v[1] + v[3]) / 2;
        self->center_zoom = maxz;
    }
    return self;
}

gboolean s4g_mbtiles_source_get_center(S4gMbtilesSource *self, double *lat, double *lon,
                                       double *zoom)
{
    g_return_val_if_fail(S4G_IS_MBTILES_SOURCE(self), FALSE);
    if (!self->has_center) return FALSE;
    *lat = self->center_lat;
    *lon = self->center_lon;
    *zoom = self->center_zoom;
    return TRUE;
}

gboolean s4g_mbtiles_source_get_bounds(S4gMbtilesSource *self, double bounds[4])
{
    g_return_val_if_fail(S4G_IS_MBTILES_SOURCE(self), FALSE);
    return s4g_mbtiles_get_bounds(self->tiles, bounds);
}
