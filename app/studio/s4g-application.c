/* s4g-application.c — the application object (see the header). */
#include "s4g-config.h"

#include "s4g-application.h"

#include "s4g-preferences-window.h"
#include "s4g-window.h"

#include <glib/gi18n.h>

struct _S4gApplication {
    AdwApplication parent_instance;
    char *imagery; /* --imagery SRC: the map's base layer in the windows opened */
};

G_DEFINE_FINAL_TYPE(S4gApplication, s4g_application, ADW_TYPE_APPLICATION)

static void activate(GApplication *app)
{
    GtkWindow *win = gtk_application_get_active_window(GTK_APPLICATION(app));
    if (!win) win = GTK_WINDOW(s4g_window_new(GTK_APPLICATION(app)));
    gtk_window_present(win);
}

/* `s4g-studio PROJECT`: each folder opens in its own window. */
static void open(GApplication *app, GFile **files, int n, const char *hint)
{
    for (int i = 0; i < n; i++) {
        S4gWindow *win = s4g_window_new(GTK_APPLICATION(app));
        if (S4G_APPLICATION(app)->imagery)
            s4g_window_set_base_imagery(win, S4G_APPLICATION(app)->imagery);
        g_autofree char *path = g_file_get_path(files[i]);
        g_autoptr(GError) error = NULL;
        if (!path || !s4g_window_open_project(win, path, &error))
            g_printerr("s4g-studio: %s\n", error ? error->message : _("not a local folder"));
        gtk_window_present(GTK_WINDOW(win));
    }
}

static void preferences(GSimpleAction *a, GVariant *p, gpointer app)
{
    GtkWindow *parent = gtk_application_get_active_window(app);
    gtk_window_present(GTK_WINDOW(s4g_preferences_window_new(parent)));
}

static void about(GSimpleAction *a, GVariant *p, gpointer app)
{
    const char *developers[] = {"Sample4Geo Studio contributors", NULL};
    adw_show_about_window(gtk_application_get_active_window(app), "application-name",
                          _("Sample4Geo Studio"), "application-icon", S4G_APP_ID, "version",
                          S4G_VERSION, "developers", developers, "license-type",
                          GTK_LICENSE_GPL_3_0, "comments",
                          _("Cross-view geo-localisation: train, predict, inspect"), NULL);
}

static void quit(GSimpleAction *a, GVariant *p, gpointer app)
{
    g_application_quit(app);
}

static const GActionEntry app_actions[] = {
    {"preferences", preferences, NULL, NULL, NULL, {0}},
    {"about", about, NULL, NULL, NULL, {0}},
    {"quit", quit, NULL, NULL, NULL, {0}},
};

static void startup(GApplication *app)
{
    G_APPLICATION_CLASS(s4g_application_parent_class)->startup(app);
    g_action_map_add_action_entries(G_ACTION_MAP(app), app_actions, G_N_ELEMENTS(app_actions), app);
    gtk_application_set_accels_for_action(GTK_APPLICATION(app), "app.quit",
                                          (const char *[]){"<primary>q", NULL});
    gtk_application_set_accels_for_action(GTK_APPLICATION(app), "app.preferences",
                                          (const char *[]){"<primary>comma", NULL});
}

static int handle_local_options(GApplication *app, GVariantDict *options)
{
    const char *imagery = NULL;
    if (g_variant_dict_lookup(options, "imagery", "^&ay", &imagery) && imagery && *imagery) {
        g_free(S4G_APPLICATION(app)->imagery);
        S4G_APPLICATION(app)->imagery = g_strdup(imagery);
    }
    return -1; /* go on */
}

static void finalize(GObject *o)
{
    g_free(S4G_APPLICATION(o)->imagery);
    G_OBJECT_CLASS(s4g_application_parent_class)->finalize(o);
}

static void s4g_application_class_init(S4gApplicationClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = finalize;
    G_APPLICATION_CLASS(klass)->handle_local_options = handle_local_options;
    G_APPLICATION_CLASS(klass)->activate = activate;
    G_APPLICATION_CLASS(klass)->open = open;
    G_APPLICATION_CLASS(klass)->startup = startup;
}

static void s4g_application_init(S4gApplication *self)
{
    g_application_add_main_option(G_APPLICATION(self), "imagery", 0, G_OPTION_FLAG_NONE,
                                  G_OPTION_ARG_FILENAME,
                                  _("Show this GeoTIFF (or other GDAL raster) as the map's base "
                                    "layer"),
                                  _("FILE"));
}

S4gApplication *s4g_application_new(void)
{
    return g_object_new(S4G_TYPE_APPLICATION, "application-id", S4G_APP_ID, "flags",
                        G_APPLICATION_HANDLES_OPEN, "resource-base-path", "/org/sample4geo/Studio",
                        NULL);
}
