/* s4g-application.h — the AdwApplication org.sample4geo.Studio: opens the project given on
 * the command line (or the empty state), app actions (preferences, about, quit) and their
 * accelerators. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define S4G_TYPE_APPLICATION (s4g_application_get_type())
G_DECLARE_FINAL_TYPE(S4gApplication, s4g_application, S4G, APPLICATION, AdwApplication)

S4gApplication *s4g_application_new(void);

G_END_DECLS
