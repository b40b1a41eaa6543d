/* s4g-cli.h — what every s4g command shares: the command table, option parsing
 * conventions, terminal progress bars. */
#pragma once

#include <glib.h>

typedef struct {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} S4gCommand;

/* Parses argv with `entries` (GOptionContext, help on --help); on error prints
 * "s4g NAME: message" and returns FALSE. `params` is the usage tail ("ROOT", "IMAGE…"). */
gboolean s4g_cli_parse(const char *name, const char *params, const char *description,
                       GOptionEntry *entries, int *argc, char ***argv);
/* Prints "s4g NAME: message" for error and returns 1. */
int s4g_cli_fail(const char *name, GError *error);

/* A progress bar on stderr when it is a terminal (silent otherwise, or with --json). */
typedef struct S4gProgress S4gProgress;
S4gProgress *s4g_progress_new(const char *label, gint64 total, gboolean enabled);
/* `extra` is shown after the counts (e.g. "loss 3.21 lr 1e-3"); may be NULL. */
void s4g_progress_update(S4gProgress *p, gint64 done, const char *extra);
void s4g_progress_finish(S4gProgress *p);
