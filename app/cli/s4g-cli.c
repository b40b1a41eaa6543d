/* s4g-cli.c — shared command-line helpers. */
#include "s4g-cli.h"
#ifdef S4G_HAVE_MPI
#include "s4g-mpi.h"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

gboolean s4g_cli_parse(const char *name, const char *params, const char *description,
                       GOptionEntry *entries, int *argc, char ***argv)
{
    g_autofree char *title = g_strdup_printf("%s%s%s", "", params ? params : "", "");
    g_autoptr(GOptionContext) oc = g_option_context_new(title);
    g_autofree char *summary = g_strdup_printf("s4g %s — %s", name, description);
    g_option_context_set_summary(oc, summary);
    g_option_context_add_main_entries(oc, entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(oc, argc, argv, &error)) {
        fprintf(stderr, "s4g %s: %s\n(try s4g %s --help)\n", name, error->message, name);
        return FALSE;
    }
    return TRUE;
}

static gboolean size_side(const char *s, char **end, int *out)
{
    if (*s < '0' || *s > '9') return FALSE;
    errno = 0;
    long v = strtol(s, end, 10);
    if (errno || v < 1 || v > 16384) return FALSE;
    *out = (int)v;
    return TRUE;
}

gboolean s4g_cli_size(const char *name, const char *flag, const char *text, S4gSize *size)
{
    char *end = NULL;
    int hh = 0, ww = 0;
    gboolean ok = text && size_side(text, &end, &hh);
    if (ok) {
        if (*end == 'x' || *end == 'X')
            end += 1;
        else if (g_str_has_prefix(end, "×"))
            end += strlen("×");
        else
            ok = FALSE;
    }
    ok = ok && size_side(end, &end, &ww) && *end == '\0';
    if (!ok) {
        fprintf(stderr, "s4g %s: --%s: expected H×W like 128x512, got “%s”\n", name, flag,
                text ? text : "");
        return FALSE;
    }
    *size = (S4gSize){.h = hh, .w = ww};
    return TRUE;
}

void s4g_cli_options_clear(S4gCliOptions *o)
{
    g_clear_pointer(&o->project, g_free);
    g_clear_pointer(&o->model, g_free);
    g_clear_pointer(&o->backend_name, g_free);
    g_clear_pointer(&o->device, g_free);
}

/* The shared option table: S4G_CLI_PROJECT and S4G_CLI_MODEL entries go before the command's
 * own, the rest after, in this order. */
static gsize shared_entries(S4gCliOptions *o, gboolean leading, GOptionEntry *out,
                            char *batch_help, gsize batch_help_size)
{
    g_snprintf(batch_help, batch_help_size, "Images per encode batch (%d)", o->batch);
    const struct {
        S4gCliShared flag;
        GOptionEntry entry;
    } table[] = {
        {S4G_CLI_PROJECT,
         {"project", 'p', 0, G_OPTION_ARG_FILENAME, &o->project,
          o->project_help ? o->project_help : "Project folder", "DIR"}},
        {S4G_CLI_MODEL,
         {"model", 'm', 0, G_OPTION_ARG_STRING, &o->model,
          o->model_help ? o->model_help : "Model name in the project", "MODEL"}},
        {S4G_CLI_BATCH,
         {"batch", 'b', 0, G_OPTION_ARG_INT, &o->batch,
          o->batch_help ? o->batch_help : batch_help, "N"}},
        {S4G_CLI_BACKEND,
         {"backend", 0, 0, G_OPTION_ARG_STRING, &o->backend_name, "auto, cpu or vulkan (auto)",
          "B"}},
        {S4G_CLI_BACKEND,
         {"device", 0, 0, G_OPTION_ARG_STRING, &o->device,
          "Vulkan device index or name substring (else S4G_DEVICE)", "DEV"}},
        {S4G_CLI_THREADS,
         {"threads", 0, 0, G_OPTION_ARG_INT, &o->threads, "CPU backend threads (0 = all)", "N"}},
        {S4G_CLI_JSON,
         {"json", 0, 0, G_OPTION_ARG_NONE, &o->json,
          o->json_help ? o->json_help : "Print one JSON object", NULL}},
    };
    gsize n = 0;
    for (gsize i = 0; i < G_N_ELEMENTS(table); i++) {
        gboolean lead = table[i].flag == S4G_CLI_PROJECT || table[i].flag == S4G_CLI_MODEL;
        if ((o->shared & table[i].flag) && lead == leading) out[n++] = table[i].entry;
    }
    return n;
}

gboolean s4g_cli_parse_opts(const char *name, const char *params, const char *description,
                            const GOptionEntry *entries, S4gCliOptions *o, int *argc,
                            char ***argv)
{
    gsize n = 0;
    while (entries[n].long_name)
        n++;
    GOptionEntry lead[8], tail[8];
    char batch_help[64];
    gsize nl = shared_entries(o, TRUE, lead, batch_help, sizeof batch_help);
    gsize nt = shared_entries(o, FALSE, tail, batch_help, sizeof batch_help);
    g_autofree GOptionEntry *all = g_new0(GOptionEntry, nl + n + nt + 1);
    memcpy(all, lead, nl * sizeof(GOptionEntry));
    memcpy(all + nl, entries, n * sizeof(GOptionEntry));
    memcpy(all + nl + n, tail, nt * sizeof(GOptionEntry));
    if (!s4g_cli_parse(name, params, description, all, argc, argv)) return FALSE;
    if (!(o->shared & S4G_CLI_BACKEND)) return TRUE;
    if (!s4g_cli_backend(name, o->backend_name, &o->backend)) return FALSE;
    char *device = s4g_cli_device(o->device, NULL);
    g_free(o->device);
    o->device = device;
    return TRUE;
}

char *s4g_cli_device(const char *flag, const char **from)
{
    const char *env = g_getenv("S4G_DEVICE");
    const char *dev = flag && *flag ? flag : env && *env ? env : NULL;
    if (from) *from = !dev ? NULL : dev == flag ? "--device" : "S4G_DEVICE";
    return g_strdup(dev);
}

s4g_ctx_opts s4g_cli_ctx_opts(const S4gCliOptions *o)
{
    return (s4g_ctx_opts){.backend = o->backend, .device = o->device, .threads = o->threads};
}

int s4g_cli_fail(const char *name, GError *error)
{
    fprintf(stderr, "s4g %s: %s\n", name, error ? error->message : "failed");
    return 1;
}

gboolean s4g_cli_backend(const char *name, const char *backend, s4g_backend_kind *kind)
{
    if (!backend || !strcmp(backend, "auto"))
        *kind = S4G_BACKEND_AUTO;
    else if (!strcmp(backend, "cpu"))
        *kind = S4G_BACKEND_CPU;
    else if (!strcmp(backend, "vulkan"))
        *kind = S4G_BACKEND_VULKAN;
    else {
        fprintf(stderr, "s4g %s: --backend: expected cpu, vulkan or auto, got “%s”\n", name,
                backend);
        return FALSE;
    }
    return TRUE;
}

s4g_ctx *s4g_cli_make_ctx(const char *name, const S4gCliOptions *o)
{
    s4g_ctx_opts co = s4g_cli_ctx_opts(o);
    s4g_err err = {0};
    s4g_ctx *ctx = s4g_ctx_new(&co, &err);
    if (!ctx) fprintf(stderr, "s4g %s: compute device: %s\n", name, err.msg);
    return ctx;
}

void s4g_cli_cpu_info_json(JsonBuilder *b, const char *key)
{
    s4g_cpu_info in;
    s4g_cpu_info_get(&in);
    const char *kv[][2] = {{"features", in.features}, {"vector_path", in.isa},
                           {"vector_path_why", in.isa_why}, {"blas_kernels", in.blas},
                           {"blas_kernels_why", in.blas_why}};
    s4g_json_begin_object(b, key);
    for (size_t i = 0; i < G_N_ELEMENTS(kv); i++) s4g_json_add_string(b, kv[i][0], kv[i][1]);
    json_builder_end_object(b);
}

void s4g_cli_cpu_info_text(void)
{
    s4g_cpu_info in;
    s4g_cpu_info_get(&in);
    printf("  CPU features: %s\n", in.features);
    printf("  vector path: %s — %s\n", in.isa, in.isa_why);
    printf("  BLAS kernels: %s — %s\n", in.blas, in.blas_why);
}

struct S4gProgress {
    char *label;
    gint64 total;
    gboolean enabled;
    gint64 start_us;
    gint64 last_draw_us;
};

S4gProgress *s4g_progress_new(const char *label, gint64 total, gboolean enabled)
{
    S4gProgress *p = g_new0(S4gProgress, 1);
    p->label = g_strdup(label);
    p->total = total;
    p->enabled = enabled && isatty(STDERR_FILENO);
    p->start_us = g_get_monotonic_time();
    return p;
}

void s4g_progress_update(S4gProgress *p, gint64 done, const char *extra)
{
    if (!p || !p->enabled)
        return;
    gint64 now = g_get_monotonic_time();
    if (done < p->total && now - p->last_draw_us < 100000)
        return; /* redraw at most 10 times a second */
    p->last_draw_us = now;
    double frac = p->total > 0 ? (double)done / (double)p->total : 0.0;
    if (frac > 1)
        frac = 1;
    int width = 30, fill = (int)(frac * width + 0.5);
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '-';
    bar[width] = '\0';
    double el = (now - p->start_us) / 1e6;
    double eta = frac > 0 ? el / frac - el : 0;
    fprintf(stderr, "\r\033[K%s [%s] %3.0f%% %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
                    " %02d:%02d elapsed, ETA %02d:%02d%s%s",
            p->label, bar, frac * 100, done, p->total, (int)el / 60, (int)el % 60,
            (int)eta / 60, (int)eta % 60, extra ? "  " : "", extra ? extra : "");
    fflush(stderr);
}

void s4g_progress_encode_cb(guint done, guint total, gpointer bar)
{
    (void)total;
    s4g_progress_update(bar, done, NULL);
}

void s4g_progress_finish(S4gProgress *p)
{
    if (!p)
        return;
    if (p->enabled) {
        p->last_draw_us = 0;
        s4g_progress_update(p, p->total, NULL);
        fputc('\n', stderr);
    }
    g_free(p->label);
    g_free(p);
}

gboolean s4g_cli_mpi_begin(const char *name, s4g_comm *comm)
{
    *comm = (s4g_comm){.size = 1};
#ifdef S4G_HAVE_MPI
    s4g_err err = {0};
    if (s4g_mpi_launched() && s4g_mpi_init(NULL, NULL, comm, &err)) {
        fprintf(stderr, "s4g %s: %s\n", name, err.msg);
        return FALSE;
    }
#else
    (void)name;
#endif
    return TRUE;
}

void s4g_cli_mpi_end(const char *name, const s4g_comm *comm, gboolean ok, const GError *error)
{
#ifdef S4G_HAVE_MPI
    if (!s4g_mpi_launched()) return;
    if (!ok && comm->size > 1) {
        fprintf(stderr, "s4g %s (rank %d of %d): %s\n", name, comm->rank, comm->size,
                error ? error->message : "failed");
        s4g_mpi_abort(1);
    }
    s4g_mpi_finalize();
#else
    (void)name, (void)comm, (void)ok, (void)error;
#endif
}
