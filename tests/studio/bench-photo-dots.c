/* bench-photo-dots.c — frame time of N photo dots on a map: libshumate's ShumateMarkerLayer
 * with one ShumatePoint widget per photo (what the Studio used before, capped at 2,000)
 * against S4gPhotoLayer (one drawn layer).  Not a test: a measurement, run by hand:
 *   meson compile -C build bench-photo-dots
 *   xvfb-run -a -s '-screen 0 1400x900x24' env GSK_RENDERER=cairo \
 *       build/tests/studio/bench-photo-dots markers 2000
 * (modes: markers | layer | none — the bare map, for reference; N photos spread pseudo-randomly,
 * fixed seed).  Prints the setup time (create + first frame) and the mean frame time (before-paint
 * → after-paint of the window's frame clock) over 30 pans of the map. */
#include "s4g-config.h"

#include "s4g-mbtiles-source.h"
#include "s4g-photo-layer.h"
#include "s4g-test-fixture.h"

#include <adwaita.h>
#include <stdlib.h>

static void wait_frame(FixFrameTimes *ft)
{
    int before = ft->frames;
    gint64 end = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    while (ft->frames == before && g_get_monotonic_time() < end)
        if (!g_main_context_iteration(NULL, FALSE)) g_usleep(200);
}

int main(int argc, char **argv)
{
    if (argc != 3 ||
        (strcmp(argv[1], "markers") && strcmp(argv[1], "layer") && strcmp(argv[1], "none"))) {
        g_printerr("usage: %s markers|layer|none N\n", argv[0]);
        return 2;
    }
    gboolean markers = strcmp(argv[1], "markers") == 0;
    int n = atoi(argv[2]);
    fix_init(argv[0]);
    gtk_init();
    adw_init();
    g_autofree char *dir = g_dir_make_tmp("s4g-bench-XXXXXX", NULL);
    g_autofree char *mbt = g_build_filename(dir, "t.mbtiles", NULL);
    fix_write_mbtiles(mbt);
    g_autoptr(GError) error = NULL;
    S4gMbtilesSource *src = s4g_mbtiles_source_new(mbt, &error);
    g_assert_no_error(error);

    GtkWidget *win = gtk_window_new();
    gtk_window_set_default_size(GTK_WINDOW(win), 1000, 800);
    ShumateSimpleMap *map = shumate_simple_map_new();
    shumate_simple_map_set_map_source(map, SHUMATE_MAP_SOURCE(src));
    gtk_window_set_child(GTK_WINDOW(win), GTK_WIDGET(map));
    ShumateViewport *vp = shumate_simple_map_get_viewport(map);
    shumate_viewport_set_zoom_level(vp, 1);
    gtk_window_present(GTK_WINDOW(win));
    while (!gtk_widget_get_mapped(GTK_WIDGET(map)))
        g_main_context_iteration(NULL, TRUE);
    gtk_test_widget_wait_for_draw(win);

    GdkFrameClock *clock = gtk_widget_get_frame_clock(win);
    FixFrameTimes ft = {0};
    gulong ids[2];
    fix_frame_times_connect(clock, &ft, ids);

    GRand *rand = g_rand_new_with_seed(7);
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(GListStore) photos = g_list_store_new(S4G_TYPE_PHOTO);
    if (markers) {
        ShumateMarkerLayer *layer = shumate_marker_layer_new_full(vp, GTK_SELECTION_SINGLE);
        for (int i = 0; i < n; i++) {
            ShumateMarker *dot = SHUMATE_MARKER(shumate_point_new());
            shumate_location_set_location(SHUMATE_LOCATION(dot), g_rand_double_range(rand, -60, 70),
                                          g_rand_double_range(rand, -170, 170));
            shumate_marker_set_selectable(dot, TRUE);
            shumate_marker_layer_add_marker(layer, dot);
        }
        shumate_simple_map_add_overlay_layer(map, SHUMATE_LAYER(layer));
    } else if (strcmp(argv[1], "layer") == 0) {
        for (int i = 0; i < n; i++) {
            g_autofree char *path = g_strdup_printf("p%d.png", i);
            g_autoptr(S4gPhoto) p =
                s4g_photo_new(i + 1, path, "bench", "train", g_rand_double_range(rand, -60, 70),
                              g_rand_double_range(rand, -170, 170));
            g_list_store_append(photos, p);
        }
        S4gPhotoLayer *layer = s4g_photo_layer_new(vp);
        s4g_photo_layer_set_model(layer, G_LIST_MODEL(photos));
        shumate_simple_map_add_overlay_layer(map, SHUMATE_LAYER(layer));
    }
    wait_frame(&ft);
    double setup = (g_get_monotonic_time() - t0) / 1e6;
    ft.total = 0;
    ft.frames = 0;
    const int steps = 30;
    for (int s = 0; s < steps; s++) {
        shumate_location_set_location(SHUMATE_LOCATION(vp), 10, -40 + 3 * s);
        wait_frame(&ft);
    }
    g_print("%s %d: setup + first frame %.3f s; mean frame %.1f ms over %d pans\n", argv[1], n,
            setup, ft.frames ? ft.total / 1000.0 / ft.frames : -1.0, ft.frames);
    g_rand_free(rand);
    gtk_window_destroy(GTK_WINDOW(win));
    return 0;
}
