/* s4g-window-demo.c — "Open Demo Project": made once by `s4g demo`, then opened. */
#define G_LOG_DOMAIN "s4g-studio"
#include "s4g-config.h"

#include "s4g-window-private.h"

#include <glib/gi18n.h>

/* The demo is made once, on first use, by `s4g demo`: it synthesises a small CVUSA-layout
 * world (with tiles/region.mbtiles), imports it, trains an atto model briefly (recording
 * its GPS/DSS mining runs), evaluates it and predicts three held-out photos — so the demo
 * shows every part of the Studio on real results.  The project is DIR/project. */
static void demo_done(S4gWindow *self, gboolean ok, const char *message, gpointer data)
{
    const char *dir = data;
    if (!ok) {
        g_autofree char *msg = g_strdup_printf(_("Creating the demo project failed: %s"), message);
        _s4g_window_toast(self, msg);
        /* a half-made demo would be reopened as if complete next time */
        g_autoptr(GFile) db = g_file_new_build_filename(dir, "project", "project.s4g", NULL);
        g_file_delete(db, NULL, NULL);
        return;
    }
    g_autofree char *project = g_build_filename(dir, "project", NULL);
    g_autoptr(GError) error = NULL;
    if (!s4g_window_open_project(self, project, &error)) _s4g_window_toast(self, error->message);
}

void _s4g_window_open_demo(GtkWidget *w, const char *a, GVariant *p)
{
    S4gWindow *self = S4G_WINDOW(w);
    g_autofree char *dir = g_build_filename(g_get_user_data_dir(), "s4g-studio", "demo", NULL);
    g_autofree char *project = g_build_filename(dir, "project", NULL);
    g_autofree char *db = g_build_filename(project, "project.s4g", NULL);
    g_autoptr(GError) error = NULL;
    if (g_file_test(db, G_FILE_TEST_EXISTS)) {
        if (!s4g_window_open_project(self, project, &error))
            _s4g_window_toast(self, error->message);
        return;
    }
    g_autofree char *s4g = s4g_runner_find_s4g();
    if (!s4g) {
        _s4g_window_toast(self,
                          _("The s4g program is not installed; cannot create the demo project"));
        return;
    }
    /* Sizes: S4G_DEMO_ARGS (space-separated extra flags, e.g. for tests) may shrink it. */
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_strv_builder_add_many(b, s4g, "demo", "--project", dir, NULL);
    const char *extra = g_getenv("S4G_DEMO_ARGS");
    if (extra && *extra) {
        g_auto(GStrv) words = g_strsplit_set(extra, " ", -1);
        for (guint i = 0; words[i]; i++)
            if (*words[i]) g_strv_builder_add(b, words[i]);
    }
    g_auto(GStrv) argv = g_strv_builder_end(b);
    g_mkdir_with_parents(dir, 0755);
    _s4g_window_task_start(self, _("Creating the demo project"), (const char *const *)argv,
                           demo_done, g_steal_pointer(&dir), g_free);
}
