/* s4g-thumbnail.c — libvips thumbnails as GdkTextures (see the header). */
#include "s4g-thumbnail.h"

#include "s4g-file.h"
#include "s4g-image.h"

#include <unistd.h>
#include <vips/vips.h>

typedef struct {
    char *path;
    int size;
} Request;

static void request_free(Request *r)
{
    g_free(r->path);
    g_free(r);
}

GdkTexture *s4g_thumbnail_load(const char *path, int size, GError **error)
{
    /* A FIFO must not block and a decompression bomb must not be decoded: regular files
     * whose header is within the pixel budget only.  vips_thumbnail applies the EXIF
     * orientation itself. */
    int fd = s4g_file_open_regular(path, NULL, error);
    if (fd < 0)
        return NULL;
    close(fd);
    VipsImage *header = vips_image_new_from_file(path, NULL);
    if (header) {
        gboolean fits = s4g_image_check_pixels(vips_image_get_width(header),
                                               vips_image_get_height(header), path, error);
        g_object_unref(header);
        if (!fits)
            return NULL;
    }
    VipsImage *thumb = NULL;
    /* vips_thumbnail shrinks on load (JPEG DCT scaling, PNG/WebP subsampling), the cheap path
     * for big panoramas. */
    if (vips_thumbnail(path, &thumb, size, "height", size, NULL) != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: cannot decode image: %s", path,
                    vips_error_buffer());
        vips_error_clear();
        return NULL;
    }
    VipsImage *srgb = NULL, *u8 = NULL;
    int ok = vips_colourspace(thumb, &srgb, VIPS_INTERPRETATION_sRGB, NULL) == 0 &&
             vips_cast_uchar(srgb, &u8, NULL) == 0;
    g_object_unref(thumb);
    if (srgb) g_object_unref(srgb);
    if (!ok || (vips_image_get_bands(u8) != 3 && vips_image_get_bands(u8) != 4)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "%s: cannot convert image to 8-bit sRGB: %s", path, vips_error_buffer());
        vips_error_clear();
        if (u8) g_object_unref(u8);
        return NULL;
    }
    size_t len = 0;
    void *pixels = vips_image_write_to_memory(u8, &len);
    int w = vips_image_get_width(u8), h = vips_image_get_height(u8);
    int bands = vips_image_get_bands(u8);
    g_object_unref(u8);
    if (!pixels) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: %s", path, vips_error_buffer());
        vips_error_clear();
        return NULL;
    }
    g_autoptr(GBytes) bytes = g_bytes_new_with_free_func(pixels, len, g_free, pixels);
    return gdk_memory_texture_new(w, h, bands == 4 ? GDK_MEMORY_R8G8B8A8 : GDK_MEMORY_R8G8B8, bytes,
                                  (gsize)w * (gsize)bands);
}

static void worker(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    Request *r = data;
    if (g_task_return_error_if_cancelled(task)) return;
    GError *error = NULL;
    GdkTexture *t = s4g_thumbnail_load(r->path, r->size, &error);
    if (t)
        g_task_return_pointer(task, t, g_object_unref);
    else
        g_task_return_error(task, error);
}

void s4g_thumbnail_load_async(const char *path, int size, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
    g_task_set_source_tag(task, s4g_thumbnail_load_async);
    Request *r = g_new(Request, 1);
    r->path = g_strdup(path);
    r->size = size;
    g_task_set_task_data(task, r, (GDestroyNotify)request_free);
    g_task_run_in_thread(task, worker);
}

GdkTexture *s4g_thumbnail_load_finish(GAsyncResult *result, GError **error)
{
    return g_task_propagate_pointer(G_TASK(result), error);
}
