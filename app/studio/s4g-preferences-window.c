/* s4g-preferences-window.c — preferences window (see the header). */
#include "s4g-config.h"

#include "s4g-preferences-window.h"
#include "s4g-settings.h"

struct _S4gPreferencesWindow {
    AdwPreferencesWindow parent_instance;
    AdwComboRow *tile_source_row;
    AdwEntryRow *xyz_row, *model_row;
    GtkSpinButton *k_spin;
    GSettings *settings;
};

G_DEFINE_FINAL_TYPE(S4gPreferencesWindow, s4g_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

/* The combo row's position ↔ the schema's choice strings. */
static gboolean source_get(GValue *value, GVariant *variant, gpointer data)
{
    g_value_set_uint(value, g_strcmp0(g_variant_get_string(variant, NULL), "xyz") == 0 ? 1 : 0);
    return TRUE;
}

static GVariant *source_set(const GValue *value, const GVariantType *type, gpointer data)
{
    return g_variant_new_string(g_value_get_uint(value) == 1 ? "xyz" : "mbtiles");
}

static void dispose(GObject *o)
{
    g_clear_object(&S4G_PREFERENCES_WINDOW(o)->settings);
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
}

S4gPreferencesWindow *s4g_preferences_window_new(GtkWindow *parent)
{
    return g_object_new(S4G_TYPE_PREFERENCES_WINDOW, "transient-for", parent, NULL);
}
