/* s4g-cli.h — what every s4g command shares: the command table, option parsing
 * conventions, compute contexts from --backend/--device, terminal progress bars; --json output
 * is built with s4g-json-out.h. */
#pragma once

#include "s4g-comm.h"
#include "s4g-compute.h"
#include "s4g-defaults.h"
#include "s4g-json-out.h"

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
 * "32×128", each 1..16384) into *size; otherwise prints
 * "s4g NAME: --FLAG: expected H×W like 128x512, got “text”" and returns FALSE (exit 2). */
gboolean s4g_cli_size(const char *name, const char *flag, const char *text, S4gSize *size);

/* The option group several commands share, one table (s4g-cli.c) from which each command
 * takes the entries named by its `shared` flags: --project and --model come first in its
 * --help, then the command's own entries, then --batch, --backend, --device, --threads and
 * --json in this order.  Every command with --backend parses it here: cpu, vulkan or auto,
 * anything else is an error naming the flag and the valid values. */
typedef enum {
    S4G_CLI_PROJECT = 1 << 0, /* --project/-p DIR */
    S4G_CLI_MODEL = 1 << 1,   /* --model/-m MODEL */
    S4G_CLI_BATCH = 1 << 2,   /* --batch/-b N */
    S4G_CLI_BACKEND = 1 << 3, /* --backend B and --device DEV */
    S4G_CLI_THREADS = 1 << 4, /* --threads N (CPU backend) */
    S4G_CLI_JSON = 1 << 5,    /* --json */
} S4gCliShared;

typedef struct {
    /* set before parsing: the entries to add, defaults, help texts that differ from the
     * table's (NULL: the table's) */
    S4gCliShared shared;
    int batch; /* default shown in --help when batch_help is NULL */
    const char *project_help, *model_help, *batch_help, *json_help;
    /* parsed */
    char *project, *model;
    char *backend_name;
    s4g_backend_kind backend; /* --backend, checked */
    char *device;             /* --device, else S4G_DEVICE (read only here), else NULL */
    int threads;
    gboolean json;
} S4gCliOptions;
/* embed, export, gallery and mine: project, model, batch, backend/device, json */
#define S4G_CLI_MODEL_OPTIONS_INIT                                                               \
    {.shared = S4G_CLI_PROJECT | S4G_CLI_MODEL | S4G_CLI_BATCH | S4G_CLI_BACKEND | S4G_CLI_JSON,  \
     .batch = s4g_defaults.encode_batch}
void s4g_cli_options_clear(S4gCliOptions *o);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(S4gCliOptions, s4g_cli_options_clear)

/* s4g_cli_parse with the shared entries of o->shared around `entries` (the command's own,
 * {NULL}-terminated); then --backend is checked and --device resolved (s4g_cli_device). */
gboolean s4g_cli_parse_opts(const char *name, const char *params, const char *description,
                            const GOptionEntry *entries, S4gCliOptions *o, int *argc,
                            char ***argv);

/* The compute device the user asked for: `flag` (--device) when given, else the S4G_DEVICE
 * environment variable, else NULL (the engine picks).  The one place the program reads it;
 * `*from` (may be NULL) gets "--device", "S4G_DEVICE" or NULL.  Returns a new string. */
char *s4g_cli_device(const char *flag, const char **from);

/* The s4g_ctx_opts of the parsed options (backend, device, threads). */
s4g_ctx_opts s4g_cli_ctx_opts(const S4gCliOptions *o);

/* Prints "s4g NAME: message" for error and returns 1. */
int s4g_cli_fail(const char *name, GError *error);

/* --backend: "cpu" | "vulkan" | "auto" (or NULL, the default) -> *kind.  Anything else prints
 * "s4g NAME: --backend: expected cpu, vulkan or auto, got “…”" and returns FALSE (exit 2). */
gboolean s4g_cli_backend(const char *name, const char *backend, s4g_backend_kind *kind);
/* The compute context of the parsed options; prints "s4g NAME: compute device: …" and
 * returns NULL when it cannot be made. */
s4g_ctx *s4g_cli_make_ctx(const char *name, const S4gCliOptions *o);

/* The CPU backend's start-up choices (s4g_cpu_info_get): CPU features, vector path of the
 * non-GEMM kernels and OpenBLAS kernel set, each with why — as a JSON object member `key` of
 * the object b is building, or as indented lines on stdout (`s4g info`, `s4g bench`). */
void s4g_cli_cpu_info_json(JsonBuilder *b, const char *key);
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

/* Under an MPI launcher (when built with MPI; app/mpi): starts MPI and sets *comm to the job's
 * group; otherwise *comm is one process ({.size = 1}).  FALSE (message printed) when MPI
 * does not start. */
gboolean s4g_cli_mpi_begin(const char *name, s4g_comm *comm);
/* Ends MPI after s4g_cli_mpi_begin.  A failure (ok FALSE) in a group of several processes
 * prints "s4g NAME (rank r of n): message" and ends the whole job (MPI_Abort, exit status 1):
 * the other processes may be waiting in a collective. */
void s4g_cli_mpi_end(const char *name, const s4g_comm *comm, gboolean ok, const GError *error);
