/* s4g-imagery-source.c — GDAL imagery as a map source (see the header). */
#include "s4g-imagery-source.h"

#include "s4g-imagery.h"
#include "s4g-tile-fill.h"

#include <math.h>
#include <string.h>

/* tiles kept (256²·3 bytes each: about 25 MB) */
#define CACHE_TILES 128

struct _S4gImagerySource {
    ShumateMapSource parent_instance;
    GMutex lock; /* guards imagery (one GDAL read at a time) and the cache */
    S4gImagery *imagery;
    char *src;
    double bounds[4];
    GHashTable *cache; /* "z/x/y" → GdkTexture */
    GQueue order;      /* keys, most recent first */
};

G_DEFINE_FINAL_TYPE(S4gImagerySource, s4g_imagery_source, SHUMATE_TYPE_MAP_SOURCE)

static double lon_of(double tx, guint z)
{
    return tx / ldexp(1.0, (int)z) * 360.0 - 180.0;
}

static double lat_of(double ty, guint z)
{
    return atan(sinh(G_PI * (1 - 2 * ty / ldexp(1.0, (int)z)))) * 180.0 / G_PI;
}

GdkTexture *s4g_imagery_source_render_tile(S4gImagerySource *self, guint z, guint x, guint y,
                                           GError **error)
{
    g_return_val_if_fail(S4G_IS_IMAGERY_SOURCE(self), NULL);
    if (z > 24 || x >= (1u << z) || y >= (1u << z)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "%s: tile %u/%u/%u is outside the tile grid", self->src, z, x, y);
        return NULL;
    }
    /* outside the footprint: nothing to read */
    if (lon_of(x + 1, z) <= self->bounds[0] || lon_of(x, z) >= self->bounds[2] ||
        lat_of(y, z) <= self->bounds[1] || lat_of(y + 1, z) >= self->bounds[3]) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s: tile %u/%u/%u is outside it",
                    self->src, z, x, y);
        return NULL;
    }
    g_autofree char *key = g_strdup_printf("%u/%u/%u", z, x, y);
    g_mutex_lock(&self->lock);
    GdkTexture *hit = g_hash_table_lookup(self->cache, key);
    if (hit) {
        GList *l = g_queue_find_custom(&self->order, key, (GCompareFunc)g_strcmp0);
        g_queue_unlink(&self->order, l);
        g_queue_push_head_link(&self->order, l);
        g_object_ref(hit);
        g_mutex_unlock(&self->lock);
        return hit;
    }
    g_autoptr(S4gImage) px = s4g_image_new(256, 256);
    g_autofree guint8 *alpha = g_malloc(256 * 256);
    GError *local = NULL;
    gboolean ok = s4g_imagery_read_alpha(self->imagery, (int)z, (gint64)x * 256,
                                         (gint64)y * 256, px, alpha, &local);
    GdkTexture *t = NULL;
    if (ok) {
        /* premultiplied RGBA: what the source does not cover (outside its extent, its alpha)
         * is transparent, so the map's background shows around the imagery */
        guint8 *rgba = g_malloc(256 * 256 * 4);
        for (int i = 0; i < 256 * 256; i++) {
            rgba[i * 4] = px->data[i * 3], rgba[i * 4 + 1] = px->data[i * 3 + 1];
            rgba[i * 4 + 2] = px->data[i * 3 + 2], rgba[i * 4 + 3] = alpha[i];
        }
        GBytes *b = g_bytes_new_take(rgba, 256 * 256 * 4);
        t = gdk_memory_texture_new(256, 256, GDK_MEMORY_R8G8B8A8_PREMULTIPLIED, b, 256 * 4);
        g_bytes_unref(b);
        g_hash_table_insert(self->cache, g_strdup(key), g_object_ref(t));
        g_queue_push_head(&self->order, g_strdup(key));
        while (self->order.length > CACHE_TILES) {
            char *old = g_queue_pop_tail(&self->order);
            g_hash_table_remove(self->cache, old);
            g_free(old);
        }
    }
    g_mutex_unlock(&self->lock);
    if (!ok) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "tile %u/%u/%u: %s", z, x, y,
                    local->message);
        g_error_free(local);
    }
    return t;
}

static GdkTexture *render(ShumateMapSource *source, guint z, guint x, guint y, GError **error)
{
    return s4g_imagery_source_render_tile(S4G_IMAGERY_SOURCE(source), z, x, y, error);
}

static void fill_tile_async(ShumateMapSource *source, ShumateTile *tile, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
    s4g_tile_fill_async(source, tile, cancellable, render, callback, user_data);
}

static void finalize(GObject *object)
{
    S4gImagerySource *self = S4G_IMAGERY_SOURCE(object);
    g_clear_pointer(&self->imagery, s4g_imagery_free);
    g_clear_pointer(&self->cache, g_hash_table_unref);
    g_queue_clear_full(&self->order, g_free);
    g_mutex_clear(&self->lock);
    g_free(self->src);
    G_OBJECT_CLASS(s4g_imagery_source_parent_class)->finalize(object);
}

static void s4g_imagery_source_class_init(S4gImagerySourceClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = finalize;
    SHUMATE_MAP_SOURCE_CLASS(klass)->fill_tile_async = fill_tile_async;
    SHUMATE_MAP_SOURCE_CLASS(klass)->fill_tile_finish = s4g_tile_fill_finish;
}

static void s4g_imagery_source_init(S4gImagerySource *self)
{
    g_mutex_init(&self->lock);
    self->cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);
    g_queue_init(&self->order);
}

S4gImagerySource *s4g_imagery_source_new(const char *src, GError **error)
{
    g_return_val_if_fail(src != NULL, NULL);
    /* URL templates are fetched at their zoom 18 tiles */
    g_autoptr(S4gImagery) im = s4g_imagery_open(src, 18, error);
    double b[4];
    if (!im || !s4g_imagery_get_bounds(im, b, error)) return NULL;
    int native = s4g_imagery_get_native_zoom(im);
    g_autofree char *base = g_path_get_basename(src);
    /* the id keys libshumate's tile cache, so it must differ per source */
    g_autofree char *id = g_strdup_printf("s4g-imagery:%s", src);
    S4gImagerySource *self = g_object_new(
        S4G_TYPE_IMAGERY_SOURCE, "id", id, "name", base, "license", "", "min-zoom-level", 0u,
        "max-zoom-level", (guint)MIN(native + 2, 22), "tile-size", 256u, "projection",
        SHUMATE_MAP_PROJECTION_MERCATOR, NULL);
    self->imagery = g_steal_pointer(&im);
    self->src = g_strdup(src);
    memcpy(self->bounds, b, sizeof b);
    return self;
}

void s4g_imagery_source_get_bounds(S4gImagerySource *self, double bounds[4])
{
    g_return_if_fail(S4G_IS_IMAGERY_SOURCE(self));
    memcpy(bounds, self->bounds, sizeof self->bounds);
}
