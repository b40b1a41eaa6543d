/* s4g-settings.h — the Studio's GSettings, whether the Studio is installed or run from its
 * build tree. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A new reference to the org.sample4geo.Studio settings.  Installed, the schema comes from the
 * system's schema source; run from the build tree (build/app/studio/s4g-studio, the command the
 * demo prints), from the schema the build compiled, so that command needs no environment set
 * by hand.  GSETTINGS_SCHEMA_DIR, when set, still wins through the default source. */
GSettings *s4g_settings_new(void);

G_END_DECLS
