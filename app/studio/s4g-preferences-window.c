/* s4g-preferences-window.c — preferences window (see the header). */
#include "s4g-config.h"

#include "s4g-preferences-window.h"
#include "s4g-settings.h"

#include <glib/gi18n.h>

struct _S4gPreferencesWindow {
    AdwPreferencesWindow parent_instance;
    AdwComboRow *tile_source_row;
    AdwEntryRow *xyz_row, *model_row;
    AdwActionRow *imagery_row;
    GtkButton *imagery_button;
    GtkFileChooserNative *chooser;
    GtkSpinButton *k_spin;
    GSettings *settings;
};

G_DEFINE_FINAL_TYPE(S4gPreferencesWindow, s4g_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

/* The combo row's position ↔ the schema's choice strings. */
static const char *const sources[] = {"mbtiles", "xyz", "imagery"};

static gboolean source_get(GValue *value, GVariant *variant, gpointer data)
{
    const char *s = g_variant_get_string(variant, NULL);
    guint pos = 0;
    for (guint i = 0; i < G_N_ELEMENTS(sources); i++)
        if (!g_strcmp0(s, sources[i])) pos = i;
    g_value_set_uint(value, pos);
    return TRUE;
}

static GVariant *source_set(const GValue *value, const GVariantType *type, gpointer data)
{
    guint pos = g_value_get_uint(value);
    return g_variant_new_string(sources[pos < G_N_ELEMENTS(sources) ? pos : 0]);
}

static void show_imagery(S4gPreferencesWindow *self)
{
    g_autofree char *src = g_settings_get_string(self->settings, "imagery-source");
    adw_action_row_set_subtitle(self->imagery_row, *src ? src : _("None chosen"));
}

static void imagery_chosen(GtkNativeDialog *d, int response, gpointer data)
{
    S4gPreferencesWindow *self = data;
    if (response == GTK_RESPONSE_ACCEPT) {
        g_autoptr(GFile) f = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(d));
        g_autofree char *path = f ? g_file_get_path(f) : NULL;
        if (path) {
            g_settings_set_string(self->settings, "imagery-source", path);
            g_settings_set_string(self->settings, "tile-source", "imagery");
        }
    }
    g_clear_object(&self->chooser);
}

static void choose_imagery(S4gPreferencesWindow *self)
{
    if (self->chooser) return;
    self->chooser = gtk_file_chooser_native_new(_("Imagery for the Map"), GTK_WINDOW(self),
                                                GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"),
                                                _("_Cancel"));
    GtkFileFilter *f = gtk_file_filter_new();
    gtk_file_filter_set_name(f, _("Georeferenced imagery (GeoTIFF, JPEG 2000, VRT, GDAL XML)"));
    const char *patterns[] = {"*.tif", "*.tiff", "*.TIF", "*.TIFF", "*.jp2", "*.vrt", "*.xml"};
    for (guint i = 0; i < G_N_ELEMENTS(patterns); i++) gtk_file_filter_add_pattern(f, patterns[i]);
    gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(self->chooser), f);
    g_object_unref(f);
    g_signal_connect(self->chooser, "response", G_CALLBACK(imagery_chosen), self);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->chooser));
}

static void dispose(GObject *o)
{
    S4gPreferencesWindow *self = S4G_PREFERENCES_WINDOW(o);
    if (self->chooser) gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
    g_clear_object(&self->chooser);
    if (self->settings) g_signal_handlers_disconnect_by_data(self->settings, self);
    g_clear_object(&self->settings);
    gtk_widget_dispose_template(GTK_WIDGET(o), S4G_TYPE_PREFERENCES_WINDOW);
    G_OBJECT_CLASS(s4g_preferences_window_parent_class)->dispose(o);
}

static void s4g_preferences_window_class_init(S4gPreferencesWindowClass *klass)
{
    GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
    G_OBJECT_CLASS(klass)->dispose = dispose;
    gtk_widget_class_set_template_from_resource(wc,
                                                "/org/sample4geo/Studio/s4g-preferences-window.ui");
    gtk_widget_class_bind_template_child(wc, S4gPreferencesWindow, tile_source_row);
    gtk_widget_class_bind_template_child(wc, S4gPreferencesWindow, xyz_row);
    gtk_widget_class_bind_template_child(wc, S4gPreferencesWindow, model_row);
    gtk_widget_class_bind_template_child(wc, S4gPreferencesWindow, imagery_row);
    gtk_widget_class_bind_template_child(wc, S4gPreferencesWindow, imagery_button);
    gtk_widget_class_bind_template_child(wc, S4gPreferencesWindow, k_spin);
}

static void s4g_preferences_window_init(S4gPreferencesWindow *self)
{
    gtk_widget_init_template(GTK_WIDGET(self));
    self->settings = s4g_settings_new();
    g_settings_bind_with_mapping(self->settings, "tile-source", self->tile_source_row, "selected",
                                 G_SETTINGS_BIND_DEFAULT, source_get, source_set, NULL, NULL);
    g_settings_bind(self->settings, "xyz-url", self->xyz_row, "text", G_SETTINGS_BIND_DEFAULT);
    g_settings_bind(self->settings, "default-model", self->model_row, "text",
                    G_SETTINGS_BIND_DEFAULT);
    g_settings_bind(self->settings, "top-k", self->k_spin, "value", G_SETTINGS_BIND_DEFAULT);
    show_imagery(self);
    g_signal_connect_swapped(self->settings, "changed::imagery-source", G_CALLBACK(show_imagery),
                             self);
    g_signal_connect_swapped(self->imagery_button, "clicked", G_CALLBACK(choose_imagery), self);
}

S4gPreferencesWindow *s4g_preferences_window_new(GtkWindow *parent)
{
    return g_object_new(S4G_TYPE_PREFERENCES_WINDOW, "transient-for", parent, NULL);
}
