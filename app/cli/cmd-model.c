/* cmd-model.c — s4g model: models as project objects.
 *   import FILE   registers outside weights (any format/layout compute/s4g-weights.h reads;
 *                 the architecture from the tensors' shapes; input sizes from flags or the
 *                 defaults table): converted to models/NAME.safetensors (timm names,
 *                 written atomically), the source path and its SHA-256 recorded.  Every
 *                 command taking --model (and the Studio's model list) then sees it.
 *   list          every model: architecture, parameters, input sizes, origin.
 *   info NAME     one model: architecture, parameters, weights, source + SHA-256, input
 *                 sizes, best R@1 of its training runs.
 *   export NAME   the weights as safetensors (timm names + logit_scale) or as a PyTorch .pth
 *                 in Sample4Geo's TimmModel names, which the original's
 *                 model.load_state_dict(torch.load(F), strict=True) accepts.
 * --json output is written with json-glib (s4g-json-out.h). */
#include "s4g-checksum.h"
#include "s4g-cli.h"
#include "s4g-model.h"
#include "s4g-store-evaluations.h"
#include "s4g-store-models.h"
#include "s4g-weights.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static int fail_msg(const char *cmd, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static int fail_msg(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *m = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "s4g %s: %s\n", cmd, m);
    return 1;
}

static void member_size(JsonBuilder *b, const char *key, S4gSize s) /* [H, W] as the CLI says */
{
    json_builder_set_member_name(b, key);
    json_builder_begin_array(b);
    json_builder_add_int_value(b, s.h);
    json_builder_add_int_value(b, s.w);
    json_builder_end_array(b);
}

static char *arch_name(const s4g_convnext_cfg *c)
{
    const char *p = s4g_convnext_preset_name(c);
    if (p) return g_strdup_printf("ConvNeXt-%s", p);
    return g_strdup_printf("ConvNeXt depths %d,%d,%d,%d dims %d,%d,%d,%d", c->depths[0],
                           c->depths[1], c->depths[2], c->depths[3], c->dims[0], c->dims[1],
                           c->dims[2], c->dims[3]);
}

static void member_arch(JsonBuilder *b, const s4g_convnext_cfg *c)
{
    const char *p = s4g_convnext_preset_name(c);
    s4g_json_add_string(b, "preset", p ? p : "custom");
    const char *keys[] = {"depths", "dims"};
    const int *vals[] = {c->depths, c->dims};
    for (int k = 0; k < 2; k++) {
        json_builder_set_member_name(b, keys[k]);
        json_builder_begin_array(b);
        for (int i = 0; i < 4; i++)
            json_builder_add_int_value(b, vals[k][i]);
        json_builder_end_array(b);
    }
    s4g_json_add_int(b, "parameters", (gint64)s4g_convnext_cfg_count(c));
}

/* SHA-256 of a file's bytes, hex. */
/* A model name is also a file name in models/: letters, digits, '.', '_', '-'. */
static gboolean valid_name(const char *n)
{
    if (!n || !*n || *n == '.' || strlen(n) > 200) return FALSE;
    for (const char *p = n; *p; p++)
        if (!g_ascii_isalnum(*p) && !strchr("._-", *p)) return FALSE;
    return TRUE;
}

static s4g_ctx *cpu_ctx(const char *cmd)
{
    s4g_ctx_opts co = {.backend = S4G_BACKEND_CPU};
    s4g_err err = {0};
    s4g_ctx *ctx = s4g_ctx_new(&co, &err);
    if (!ctx) fail_msg(cmd, "compute context: %s", err.msg);
    return ctx;
}

/* ---------------------------------------------------------------- import */

static int model_import(int argc, char **argv)
{
    const char *cmd = "model import";
    const S4gDefaults *d = &s4g_defaults;
    g_autofree char *name = NULL, *gsize = NULL, *ssize = NULL;
    g_autofree char *ghelp = g_strdup_printf(
        "Query (ground) input H×W the model is used at (default %dx%d)", d->ground.h,
        d->ground.w);
    g_autofree char *shelp = g_strdup_printf(
        "Reference (satellite) input H×W (default %dx%d)", d->satellite.h, d->satellite.w);
    GOptionEntry entries[] = {
        {"name", 'n', 0, G_OPTION_ARG_STRING, &name,
         "Name of the model in the project (letters, digits, . _ -)", "NAME"},
        {"ground-size", 0, 0, G_OPTION_ARG_STRING, &gsize, ghelp, "HxW"},
        {"satellite-size", 0, 0, G_OPTION_ARG_STRING, &ssize, shelp, "HxW"},
        {NULL},
    };
    g_auto(S4gCliOptions) co = {.shared = S4G_CLI_PROJECT | S4G_CLI_JSON,
                                .project_help = "Project folder (created when absent)"};
    if (!s4g_cli_parse_opts(cmd, "FILE",
                            "register outside weights (.safetensors or PyTorch .pth; timm, "
                            "Sample4Geo, DataParallel or Facebook names) as a model of the project",
                            entries, &co, &argc, &argv))
        return 2;
    if (argc != 2 || !co.project || !name) {
        fprintf(stderr, "s4g %s: need FILE, --project DIR and --name NAME\n", cmd);
        return 2;
    }
    if (!valid_name(name)) {
        fprintf(stderr, "s4g %s: --name: “%s” is not a model name (letters, digits, . _ -; not "
                        "starting with .)\n", cmd, name);
        return 2;
    }
    S4gModelSpec spec = s4g_model_spec_default();
    if ((gsize && !s4g_cli_size(cmd, "ground-size", gsize, &spec.ground)) ||
        (ssize && !s4g_cli_size(cmd, "satellite-size", ssize, &spec.satellite)))
        return 2;
    const char *file = argv[1];
    if (!g_file_test(file, G_FILE_TEST_IS_REGULAR))
        return fail_msg(cmd, "%s: no such file", file);
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gStore) store = s4g_store_open(co.project, TRUE, &error);
    if (!store) return s4g_cli_fail(cmd, error);
    g_autoptr(GError) lookup = NULL;
    g_autoptr(S4gModelRow) clash = s4g_store_model_get(store, 0, name, &lookup);
    if (clash)
        return fail_msg(cmd, "%s: a model named “%s” exists already (s4g model info %s)",
                        co.project, name, name);
    g_autofree char *rel = g_strdup_printf("models/%s.safetensors", name);
    g_autofree char *dst = g_build_filename(co.project, rel, NULL);
    if (g_file_test(dst, G_FILE_TEST_EXISTS))
        return fail_msg(cmd, "%s exists already and belongs to no model: move it away first",
                        dst);

    s4g_err err = {0};
    if (s4g_convnext_cfg_from_file(file, &spec.cfg, &err)) return fail_msg(cmd, "%s", err.msg);
    g_autofree char *sha = s4g_file_sha256(file, NULL, &error);
    if (!sha) return s4g_cli_fail(cmd, error);
    s4g_ctx *ctx = cpu_ctx(cmd);
    if (!ctx) return 1;
    char report[768] = "";
    /* inference only (no gradient buffer): the import peaks near twice the weights */
    s4g_convnext *m = s4g_convnext_open(ctx, &spec.cfg, file, report, sizeof report, &err);
    g_autofree char *source = g_canonicalize_filename(file, NULL);
    g_autofree char *arch = s4g_model_spec_to_json(&spec);
    /* the row goes in only once the weights are in place; a failed row removes them */
    gboolean ok = m && !s4g_convnext_save(m, dst, NULL, &err);
    gint64 id = 0;
    if (!ok)
        error = g_error_new(S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "%s", err.msg);
    else if (s4g_store_begin(store, &error)) {
        id = s4g_store_model_add(store, name, arch, rel, 0, &error);
        if (!id || !s4g_store_model_set_source(store, id, source, sha, &error) ||
            !s4g_store_commit(store, &error)) {
            s4g_store_rollback(store);
            id = 0;
        }
    }
    if (ok && !id) g_unlink(dst);
    size_t params = m ? s4g_convnext_count(m) : 0;
    s4g_convnext_free(m);
    s4g_ctx_free(ctx);
    if (!id) return s4g_cli_fail(cmd, error);
    g_autofree char *an = arch_name(&spec.cfg);
    fprintf(stderr, "%s\n", report);
    if (co.json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        s4g_json_add_int(b, "model", id);
        s4g_json_add_string(b, "name", name);
        member_arch(b, &spec.cfg);
        member_size(b, "ground", spec.ground);
        member_size(b, "satellite", spec.satellite);
        s4g_json_add_string(b, "weights", rel);
        s4g_json_add_string(b, "source", source);
        s4g_json_add_string(b, "sha256", sha);
        s4g_json_add_string(b, "report", report);
        json_builder_end_object(b);
        s4g_json_print(b, stdout);
    } else
        printf("imported %s: %s, %zu parameters, ground %dx%d, satellite %dx%d, from %s\n", name,
               an, params, spec.ground.h, spec.ground.w, spec.satellite.h, spec.satellite.w,
               source);
    return 0;
}

/* ---------------------------------------------------------------- list and info */

typedef struct {
    S4gModelRow *row;
    S4gModelSpec spec;
} ModelView;

/* The best R@1 of the model's own training runs (evaluations with a run), or NULL. */
static S4gEvaluationRow *best_eval(GPtrArray *evals)
{
    S4gEvaluationRow *best = NULL;
    for (guint i = 0; evals && i < evals->len; i++) {
        S4gEvaluationRow *e = evals->pdata[i];
        if (e->run > 0 && !isnan(e->r1) && (!best || e->r1 > best->r1)) best = e;
    }
    return best;
}

static void model_json(JsonBuilder *b, const S4gModelRow *r, const S4gModelSpec *s,
                       const char *weights_sha, const S4gEvaluationRow *best)
{
    json_builder_begin_object(b);
    s4g_json_add_int(b, "id", r->id);
    s4g_json_add_string(b, "name", r->name);
    member_arch(b, &s->cfg);
    member_size(b, "ground", s->ground);
    member_size(b, "satellite", s->satellite);
    s4g_json_add_string(b, "weights", r->weights);
    s4g_json_add_string(b, "origin", r->source ? "imported" : "trained");
    s4g_json_add_string(b, "source", r->source);
    s4g_json_add_string(b, "sha256", r->sha256);
    if (weights_sha) s4g_json_add_string(b, "weights_sha256", weights_sha);
    json_builder_set_member_name(b, "parent");
    if (r->parent > 0)
        json_builder_add_int_value(b, r->parent);
    else
        json_builder_add_null_value(b);
    s4g_json_add_string(b, "created", r->created);
    if (best) {
        json_builder_set_member_name(b, "best");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "r1");
        json_builder_add_double_value(b, best->r1);
        s4g_json_add_int(b, "run", best->run);
        s4g_json_add_string(b, "split", best->split);
        json_builder_set_member_name(b, "epoch");
        if (best->epoch >= 0)
            json_builder_add_int_value(b, best->epoch);
        else
            json_builder_add_null_value(b);
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
}

static gboolean spec_of(const char *cmd, const S4gModelRow *r, S4gModelSpec *s)
{
    g_autoptr(GError) error = NULL;
    *s = s4g_model_spec_default();
    if (s4g_model_spec_from_json(r->architecture, s, &error)) return TRUE;
    fprintf(stderr, "s4g %s: model “%s”: %s\n", cmd, r->name, error->message);
    return FALSE;
}

/* Parses a subcommand's options (--project, --json and `entries`), wants `params` as its
 * positional arguments ("" or "NAME") and opens the project: 0 with *store set, else the
 * exit status (the message printed). */
static int parse_and_open(const char *cmd, const char *params, const char *description,
                          const GOptionEntry *entries, S4gCliOptions *co, int *argc,
                          char ***argv, S4gStore **store)
{
    co->shared = S4G_CLI_PROJECT | S4G_CLI_JSON;
    if (!s4g_cli_parse_opts(cmd, params, description, entries, co, argc, argv)) return 2;
    if (*argc != (*params ? 2 : 1) || !co->project) {
        fprintf(stderr, "s4g %s: need %s%s--project DIR\n", cmd, params, *params ? " and " : "");
        return 2;
    }
    g_autoptr(GError) error = NULL;
    *store = s4g_store_open(co->project, FALSE, &error);
    return *store ? 0 : s4g_cli_fail(cmd, error);
}

static int model_list(int argc, char **argv)
{
    const char *cmd = "model list";
    GOptionEntry entries[] = {{NULL}};
    g_auto(S4gCliOptions) co = {0};
    g_autoptr(S4gStore) store = NULL;
    int rc = parse_and_open(cmd, "", "list the models of a project (trained and imported)",
                            entries, &co, &argc, &argv, &store);
    if (rc) return rc;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) rows = s4g_store_model_list(store, &error);
    if (!rows) return s4g_cli_fail(cmd, error);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "models");
    json_builder_begin_array(b);
    if (!co.json)
        printf("%-20s %-16s %12s %-9s %-9s %-8s %s\n", "NAME", "ARCH", "PARAMETERS", "GROUND",
               "SATELLITE", "ORIGIN", "CREATED");
    for (guint i = 0; i < rows->len; i++) {
        S4gModelRow *r = rows->pdata[i];
        S4gModelSpec s;
        if (!spec_of(cmd, r, &s)) return 1;
        if (co.json) {
            model_json(b, r, &s, NULL, NULL);
            continue;
        }
        const char *p = s4g_convnext_preset_name(&s.cfg);
        g_autofree char *g = g_strdup_printf("%dx%d", s.ground.h, s.ground.w);
        g_autofree char *sat = g_strdup_printf("%dx%d", s.satellite.h, s.satellite.w);
        printf("%-20s %-16s %12zu %-9s %-9s %-8s %s\n", r->name, p ? p : "custom",
               s4g_convnext_cfg_count(&s.cfg), g, sat, r->source ? "imported" : "trained",
               r->created);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    if (co.json) s4g_json_print(b, stdout);
    return 0;
}

static int model_info(int argc, char **argv)
{
    const char *cmd = "model info";
    GOptionEntry entries[] = {{NULL}};
    g_auto(S4gCliOptions) co = {0};
    g_autoptr(S4gStore) store = NULL;
    int rc = parse_and_open(cmd, "NAME",
                            "one model: architecture, parameters, weights, source file and its "
                            "SHA-256, input sizes, best R@1 of its training runs",
                            entries, &co, &argc, &argv, &store);
    if (rc) return rc;
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gModelRow) r = s4g_store_model_get(store, 0, argv[1], &error);
    if (!r) return s4g_cli_fail(cmd, error);
    S4gModelSpec s;
    if (!spec_of(cmd, r, &s)) return 1;
    g_autoptr(GPtrArray) evals = s4g_store_evaluation_list(store, r->id, &error);
    if (!evals) return s4g_cli_fail(cmd, error);
    const S4gEvaluationRow *best = best_eval(evals);
    g_autofree char *wpath = g_build_filename(co.project, r->weights, NULL);
    g_autoptr(GError) werr = NULL;
    /* a run may not have written it yet */
    g_autofree char *wsha = s4g_file_sha256(wpath, NULL, &werr);
    if (co.json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        model_json(b, r, &s, wsha, best);
        s4g_json_print(b, stdout);
        return 0;
    }
    g_autofree char *an = arch_name(&s.cfg);
    printf("name        %s (id %" G_GINT64_FORMAT ")\n", r->name, r->id);
    printf("arch        %s\n", an);
    printf("parameters  %zu (+ logit_scale)\n", s4g_convnext_cfg_count(&s.cfg));
    printf("sizes       ground %dx%d, satellite %dx%d (H×W)\n", s.ground.h, s.ground.w,
           s.satellite.h, s.satellite.w);
    printf("weights     %s%s%s\n", wpath, wsha ? "  sha256 " : "  (", wsha ? wsha : "missing)");
    if (r->source)
        printf("source      %s  sha256 %s\n", r->source, r->sha256 ? r->sha256 : "?");
    else
        printf("source      trained in this project\n");
    if (best)
        printf("best R@1    %.2f (run %" G_GINT64_FORMAT ", split %s, epoch %" G_GINT64_FORMAT
               ")\n",
               best->r1, best->run, best->split, best->epoch);
    printf("created     %s\n", r->created);
    return 0;
}

/* ---------------------------------------------------------------- export */

static int model_export(int argc, char **argv)
{
    const char *cmd = "model export";
    g_autofree char *format = NULL, *out = NULL;
    GOptionEntry entries[] = {
        {"format", 'f', 0, G_OPTION_ARG_STRING, &format,
         "safetensors (timm names + logit_scale) or pth (PyTorch, Sample4Geo's TimmModel names: "
         "model.* + logit_scale, for load_state_dict(strict=True)); default from --out's "
         "extension",
         "FMT"},
        {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "File to write (atomically)", "FILE"},
        {NULL},
    };
    g_auto(S4gCliOptions) co = {0};
    g_autoptr(S4gStore) store = NULL;
    int rc = parse_and_open(cmd, "NAME",
                            "write a model's weights as safetensors or as a PyTorch checkpoint "
                            "the original Sample4Geo code loads",
                            entries, &co, &argc, &argv, &store);
    if (rc) return rc;
    if (!out) {
        fprintf(stderr, "s4g %s: need --out FILE\n", cmd);
        return 2;
    }
    if (!format)
        format = g_strdup(g_str_has_suffix(out, ".pth") || g_str_has_suffix(out, ".pt") ? "pth"
                          : g_str_has_suffix(out, ".safetensors")                        ? "safetensors"
                                                                                         : "");
    gboolean pth = !strcmp(format, "pth");
    if (!pth && strcmp(format, "safetensors")) {
        fprintf(stderr, "s4g %s: --format: expected safetensors or pth%s%s%s\n", cmd,
                *format ? ", got “" : " (--out has neither extension)", format,
                *format ? "”" : "");
        return 2;
    }
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gModelRow) r = s4g_store_model_get(store, 0, argv[1], &error);
    if (!r) return s4g_cli_fail(cmd, error);
    s4g_ctx *ctx = cpu_ctx(cmd);
    if (!ctx) return 1;
    S4gModelSpec spec = s4g_model_spec_default();
    gint64 id = 0;
    s4g_convnext *m = s4g_model_open(store, argv[1], ctx, &spec, &id, &error);
    s4g_err err = {0};
    rc = !m ? -1 : pth ? s4g_convnext_save_pth(m, out, &err) : s4g_convnext_save(m, out, NULL, &err);
    gboolean opened = m != NULL;
    size_t n = m ? (size_t)m->nparams : 0;
    s4g_convnext_free(m);
    s4g_ctx_free(ctx);
    if (!opened) return s4g_cli_fail(cmd, error);
    if (rc) return fail_msg(cmd, "%s", err.msg);
    if (co.json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        s4g_json_add_string(b, "name", r->name);
        s4g_json_add_string(b, "format", format);
        s4g_json_add_string(b, "out", out);
        s4g_json_add_int(b, "tensors", (gint64)n);
        s4g_json_add_string(b, "names", pth ? "Sample4Geo TimmModel" : "timm");
        json_builder_end_object(b);
        s4g_json_print(b, stdout);
    } else
        printf("wrote %s: %zu tensors, %s, %s names\n", out, n, pth ? "PyTorch checkpoint" : "safetensors",
               pth ? "Sample4Geo TimmModel (model.* + logit_scale)" : "timm (+ logit_scale)");
    return 0;
}

/* ---------------------------------------------------------------- dispatch */

static const struct {
    const char *name, *params, *summary;
    int (*run)(int argc, char **argv);
} subs[] = {
    {"import", "FILE", "register outside weights as a model of the project", model_import},
    {"list", "", "list the project's models (trained and imported)", model_list},
    {"info", "NAME", "architecture, parameters, source, SHA-256, sizes, best R@1", model_info},
    {"export", "NAME", "write the weights as safetensors or a PyTorch .pth", model_export},
};

static void usage(FILE *f)
{
    fprintf(f, "Usage:\n  s4g [OPTION…] SUBCOMMAND\n\n"
               "s4g model — models as project objects: import outside weights, list, describe, "
               "export\n\nSubcommands:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(subs); i++) {
        g_autofree char *head = g_strdup_printf("%s %s", subs[i].name, subs[i].params);
        fprintf(f, "  %-14s %s\n", head, subs[i].summary);
    }
    fprintf(f, "\nRun “s4g model SUBCOMMAND --help” for its options.\n");
}

int s4g_cmd_model(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(subs); i++)
        if (!strcmp(argv[1], subs[i].name)) return subs[i].run(argc - 1, argv + 1);
    fprintf(stderr, "s4g model: unknown subcommand “%s”\n", argv[1]);
    usage(stderr);
    return 2;
}
