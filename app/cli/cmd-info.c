/* cmd-info.c — s4g info: compute devices and backends. */
#include "s4g-cli.h"
#include "s4g-compute.h"

#include <stdio.h>

int s4g_cmd_info(int argc, char **argv)
{
    gboolean json = FALSE;
    GOptionEntry entries[] = {
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL},
        {NULL},
    };
    if (!s4g_cli_parse("info", NULL, "compute devices and backends", entries, &argc, &argv))
        return 2;
    s4g_ctx_opts o = {.backend = S4G_BACKEND_CPU};
    s4g_err err = {0};
    s4g_ctx *cpu = s4g_ctx_new(&o, &err);
    if (!cpu) {
        fprintf(stderr, "s4g info: %s\n", err.msg);
        return 1;
    }
    if (json)
        printf("{\"cpu\": \"%s\"}\n", s4g_ctx_describe(cpu));
    else
        printf("CPU backend: %s\n", s4g_ctx_describe(cpu));
    s4g_ctx_free(cpu);
    return 0;
}
