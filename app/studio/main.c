/* main.c — s4g-studio [PROJECT] */
#include "s4g-config.h"

#include "s4g-application.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <vips/vips.h>

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);
    if (VIPS_INIT(argv[0]) != 0) {
        g_printerr("s4g-studio: cannot initialise libvips: %s\n", vips_error_buffer());
        return 1;
    }
    g_autoptr(S4gApplication) app = s4g_application_new();
    int status = g_application_run(G_APPLICATION(app), argc, argv);
    vips_shutdown();
    return status;
}
