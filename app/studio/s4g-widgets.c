/* s4g-widgets.c — see s4g-widgets.h. */
#include "s4g-widgets.h"

#include "s4g-thumbnail.h"

static void picture_loaded(GObject *src, GAsyncResult *res, gpointer data)
{
    g_autoptr(GtkPicture) picture = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GdkTexture) t = s4g_thumbnail_load_finish(res, &error);
    (void)src;
    if (!t) {
        if (!g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            gtk_widget_set_tooltip_text(GTK_WIDGET(picture), error->message);
        return;
    }
    gtk_picture_set_paintable(picture, GDK_PAINTABLE(t));
}

void s4g_picture_load(GtkPicture *picture, const char *path, int size, GCancellable *cancellable)
{
    gtk_picture_set_paintable(picture, NULL);
    if (path)
        s4g_thumbnail_load_async(path, size, cancellable, picture_loaded, g_object_ref(picture));
}

ShumateMarker *s4g_label_marker(double lat, double lon, const char *text, const char *css,
                                const char *accessible)
{
    ShumateMarker *m = shumate_marker_new();
    GtkWidget *label = gtk_label_new(text);
    gtk_widget_add_css_class(label, "s4g-marker");
    gtk_widget_add_css_class(label, css);
    shumate_marker_set_child(m, label);
    shumate_location_set_location(SHUMATE_LOCATION(m), lat, lon);
    gtk_accessible_update_property(GTK_ACCESSIBLE(m), GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                   -1);
    gtk_widget_set_tooltip_text(GTK_WIDGET(m), accessible);
    return m;
}

void s4g_flow_box_clear(GtkFlowBox *flow)
{
    GtkWidget *child;
    while ((child = gtk_widget_get_first_child(GTK_WIDGET(flow))))
        gtk_flow_box_remove(flow, child);
}
