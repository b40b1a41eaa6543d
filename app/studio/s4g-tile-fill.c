/* s4g-tile-fill.c — worker-thread tile filling (see the header). */
#include "s4g-tile-fill.h"

typedef struct {
    guint x, y, z;
    S4gTileRender render;
} TileKey;

static void worker(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    const TileKey *k = data;
    if (g_task_return_error_if_cancelled(task)) return;
    GError *error = NULL;
    GdkTexture *t = k->render(SHUMATE_MAP_SOURCE(source), k->z, k->x, k->y, &error);
    if (!t) g_task_return_error(task, error);
    else g_task_return_pointer(task, t, g_object_unref);
}

static void done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GTask) outer = data;
    GError *error = NULL;
    g_autoptr(GdkTexture) texture = g_task_propagate_pointer(G_TASK(res), &error);
    if (!texture) {
        g_task_return_error(outer, error);
        return;
    }
    ShumateTile *tile = g_task_get_task_data(outer);
    shumate_tile_set_paintable(tile, GDK_PAINTABLE(texture));
    shumate_tile_set_fade_in(tile, TRUE);
    shumate_tile_set_state(tile, SHUMATE_STATE_DONE);
    g_task_return_boolean(outer, TRUE);
}

void s4g_tile_fill_async(ShumateMapSource *source, ShumateTile *tile, GCancellable *cancellable,
                         S4gTileRender render, GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *outer = g_task_new(source, cancellable, callback, user_data);
    g_task_set_source_tag(outer, s4g_tile_fill_async);
    g_task_set_task_data(outer, g_object_ref(tile), g_object_unref);
    TileKey *k = g_new(TileKey, 1);
    k->x = shumate_tile_get_x(tile);
    k->y = shumate_tile_get_y(tile);
    k->z = shumate_tile_get_zoom_level(tile);
    k->render = render;
    g_autoptr(GTask) inner = g_task_new(source, cancellable, done, outer);
    g_task_set_task_data(inner, k, g_free);
    g_task_run_in_thread(inner, worker);
}

gboolean s4g_tile_fill_finish(ShumateMapSource *source, GAsyncResult *res, GError **error)
{
    return g_task_propagate_boolean(G_TASK(res), error);
}
