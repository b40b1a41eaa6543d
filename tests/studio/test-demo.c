/* test-demo.c — "Open Demo Project" end to end: the window runs the real `s4g synth` and
 * `s4g import` (built alongside), opens the result, shows its photos over the synthetic
 * region's MBTiles, and the screenshot goes to the build folder. */
#include "s4g-config.h"

#include "s4g-mbtiles-source.h"
#include "s4g-test-fixture.h"
#include "s4g-window.h"

#include <adwaita.h>

static void test_demo(void)
{
    /* Start without a demo, so the window has to create it. */
    g_autofree char *want = g_build_filename(g_get_user_data_dir(), "s4g-studio", "demo", NULL);
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", want);
    g_assert_true(g_spawn_command_line_sync(rm, NULL, NULL, NULL, NULL));
    g_assert_false(g_file_test(want, G_FILE_TEST_EXISTS));
    AdwApplication *app = g_object_new(ADW_TYPE_APPLICATION, "application-id",
                                       S4G_APP_ID ".DemoTest", "flags", G_APPLICATION_NON_UNIQUE,
                                       "resource-base-path", "/org/sample4geo/Studio", NULL);
    g_assert_true(g_application_register(G_APPLICATION(app), NULL, NULL));
    S4gWindow *win = s4g_window_new(GTK_APPLICATION(app));
    gtk_window_set_default_size(GTK_WINDOW(win), 1280, 800);
    gtk_window_present(GTK_WINDOW(win));
    gtk_widget_activate_action(GTK_WIDGET(win), "win.open-demo", NULL);
    gint64 deadline = g_get_monotonic_time() + 100 * G_USEC_PER_SEC;
    while (!s4g_window_get_project(win) && g_get_monotonic_time() < deadline)
        g_main_context_iteration(NULL, TRUE);
    g_assert_nonnull(s4g_window_get_project(win));
    g_assert_cmpstr(s4g_project_get_dir(s4g_window_get_project(win)), ==, want);
    /* 48 locations: one ground photo each, each with a map marker */
    g_assert_cmpuint(s4g_window_count_visible_photos(win), ==, 48);
    g_assert_cmpuint(s4g_window_count_photo_markers(win), ==, 48);
    ShumateMapSource *src = shumate_simple_map_get_map_source(s4g_window_get_map(win));
    g_assert_true(S4G_IS_MBTILES_SOURCE(src));
    g_assert_cmpuint(shumate_map_source_get_max_zoom_level(src), ==, 17);
    s4g_window_select_photo(win, 5);
    gint64 settle = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < settle)
        g_main_context_iteration(NULL, FALSE);
    fix_screenshot(GTK_WIDGET(win), "studio-demo.png");
    gtk_window_destroy(GTK_WINDOW(win));
    g_object_unref(app);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    fix_init(argv[0]);
    gtk_init();
    adw_init();
    g_test_add_func("/studio/demo/open", test_demo);
    return g_test_run();
}
