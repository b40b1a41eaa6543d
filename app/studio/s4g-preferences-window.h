/* s4g-preferences-window.h — preferences (tile source, XYZ template, default model, k),
 * each bound to the app's GSettings. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define S4G_TYPE_PREFERENCES_WINDOW (s4g_preferences_window_get_type())
G_DECLARE_FINAL_TYPE(S4gPreferencesWindow, s4g_preferences_window, S4G, PREFERENCES_WINDOW,
                     AdwPreferencesWindow)

S4gPreferencesWindow *s4g_preferences_window_new(GtkWindow *parent);

G_END_DECLS
