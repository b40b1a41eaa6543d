/* s4g-cli.h — what every s4g command shares: the command table, option parsing
 * conventions, compute contexts from --backend/--device, JSON strings, terminal progress bars. */
#pragma once

#include "s4g-compute.h"

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
/* Image sizes on the command line are H×W everywhere (height first, as tensors are laid out:
 * a panorama 128 wide and 32 high is 32x128).  Parses `text` ("32x128", "32X128" or
 * "32×128", each 1..16384) into *h and *w; otherwise prints
 * "s4g NAME: --FLAG: expected H×W like 128x512, got “text”" and returns FALSE (exit 2). */
gboolean s4g_cli_size(const char *name, const char *flag, const char *text, int *h, int *w);

/* The options every command that runs a model on images shares (embed, export, gallery, mine),
 * last in their --help in this order: --batch N, --backend B, --device DEV, --json. */
typedef struct {
    int batch;       /* images per encode batch; 32 */
    char *backend;   /* NULL = auto */
    char *device;    /* NULL = the engine's default */
    gboolean json;
} S4gCliRunOptions;
#define S4G_CLI_RUN_OPTIONS_INIT {.batch = 32}
void s4g_cli_run_options_clear(S4gCliRunOptions *o);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(S4gCliRunOptions, s4g_cli_run_options_clear)

/* s4g_cli_parse with `entries` (the command's own, {NULL}-terminated) followed by the shared
 * run options into *run; on success --device is applied (s4g_cli_use_device). */
gboolean s4g_cli_parse_run(const char *name, const char *params, const char *description,
                           const GOptionEntry *entries, S4gCliRunOptions *run, int *argc,
                           char ***argv);

/* Prints "s4g NAME: message" for error and returns 1. */
int s4g_cli_fail(const char *name, GError *error);

/* --backend: "cpu" | "vulkan" | "auto" (or NULL, the default) -> *kind.  Anything else prints
 * "s4g NAME: unknown backend …" and returns FALSE (the command exits 2). */
gboolean s4g_cli_backend(const char *name, const char *backend, s4g_backend_kind *kind);
/* The compute context for --backend/--device (device: Vulkan index or name, NULL for the
 * default); NULL with err set when it cannot be made. */
s4g_ctx *s4g_cli_make_ctx(s4g_backend_kind kind, const char *device, s4g_err *err);

/* --device DEV for commands that create their compute context deep inside the method layer:
 * exported as S4G_DEVICE (which the engine reads when no device is named) for this process
 * and the commands it runs.  NULL leaves the environment alone. */
void s4g_cli_use_device(const char *device);

/* s as a JSON string literal, quotes included: appended to out, or newly allocated (g_free). */
void s4g_cli_json_append(GString *out, const char *s);
char *s4g_cli_json_str(const char *s);

/* The CPU backend's start-up choices (s4g_cpu_info_get): CPU features, vector path of the
 * non-GEMM kernels and OpenBLAS kernel set, each with why — as a JSON object appended to
 * out, or as indented lines on stdout (`s4g info`, `s4g bench`). */
void s4g_cli_cpu_info_json(GString *out);
void s4g_cli_cpu_info_text(void);

/* A progress bar on stderr when it is a terminal (silent otherwise, or with --json). */
typedef struct S4gProgress S4gProgress;
S4gProgress *s4g_progress_new(const char *label, gint64 total, gboolean enabled);
/* `extra` is shown after the counts (e.g. "loss 3.21 lr 1e-3"); may be NULL. */
void s4g_progress_update(S4gProgress *p, gint64 done, const char *extra);
void s4g_progress_finish(S4gProgress *p);
/* An image-encoding progress callback (S4gEncodeProgress: done, total, user data) that
 * updates the S4gProgress passed as its user data. */
void s4g_progress_encode_cb(guint done, guint total, gpointer bar);
