/* s4g-settings.c — see s4g-settings.h.  The build tree's schema directory is compiled in
 * (S4G_BUILD_SCHEMA_DIR) and used only when the default source has no such schema, so an
 * installed Studio never reads from a build folder. */
#include "s4g-config.h"

#include "s4g-settings.h"

static GSettingsSchema *lookup_build_tree_schema(void)
{
    GSettingsSchemaSource *parent = g_settings_schema_source_get_default();
    g_autoptr(GError) error = NULL;
    g_autoptr(GSettingsSchemaSource) source =
        g_settings_schema_source_new_from_directory(S4G_BUILD_SCHEMA_DIR, parent, FALSE, &error);
    if (!source) {
        g_warning("settings schema %s is not installed and the build tree's %s cannot be read: %s",
                  S4G_APP_ID, S4G_BUILD_SCHEMA_DIR, error->message);
        return NULL;
    }
    return g_settings_schema_source_lookup(source, S4G_APP_ID, TRUE);
}

GSettings *s4g_settings_new(void)
{
    GSettingsSchemaSource *source = g_settings_schema_source_get_default();
    g_autoptr(GSettingsSchema) schema =
        source ? g_settings_schema_source_lookup(source, S4G_APP_ID, TRUE) : NULL;
    if (!schema)
        schema = lookup_build_tree_schema();
    if (!schema)
        g_error("settings schema %s is installed nowhere (nor compiled in %s): reinstall "
                "s4g-studio or rebuild it",
                S4G_APP_ID, S4G_BUILD_SCHEMA_DIR);
    return g_settings_new_full(schema, NULL, NULL);
}
