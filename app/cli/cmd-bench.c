/* cmd-bench.c — s4g bench: throughput of the engine on this machine — inference images/s,
 * Sample4Geo training step pairs/s (forward + backward + AdamW on both views) and, when the
 * similarity search module is built in, search queries/s.  Each part runs a warm-up
 * iteration, then repeats until --seconds have passed (at least 2 iterations). */
#include "s4g-cli.h"
#include "s4g-compute.h"
#include "s4g-convnext.h"
#include "s4g-train-step.h"

#if __has_include("s4g-search.h")
#include "s4g-search.h"
#define HAVE_SEARCH 1
#else
#define HAVE_SEARCH 0
#endif

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* The shared H×W parser, then bench's own range (the encoder needs 32 pixels per side). */
static gboolean parse_size(const char *flag, const char *s, int *h, int *w)
{
    S4gSize sz;
    if (!s4g_cli_size("bench", flag, s, &sz)) return FALSE;
    *h = sz.h, *w = sz.w;
    if (*h >= 32 && *w >= 32 && *h <= 4096 && *w <= 4096) return TRUE;
    fprintf(stderr, "s4g bench: --%s \"%s\": expected HxW, each 32..4096\n", flag, s);
    return FALSE;
}

static void fill_random(float *x, size_t n, guint32 seed)
{
    GRand *r = g_rand_new_with_seed(seed);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)g_rand_double_range(r, -2, 2);
    g_rand_free(r);
}

typedef struct {
    double per_s; /* items per second */
    int iters;
    double secs;
    double bytes_per_s; /* search: gallery bytes scanned per second */
    double per_cpu_s;   /* items per second of CPU time of the whole process (all threads) */
} Rate;

/* CPU time of the process, all threads: on a machine others load, items per CPU-second of
 * a 1-thread run stay close to the idle machine's rate while wall-clock rates do not. */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Stream-style copy bandwidth of this machine, measured now: s4g_copy between two 64 MiB
 * buffers (well past the caches) on the context's threads; bytes read + bytes written per
 * second, as STREAM counts "copy". */
static double copy_bandwidth(s4g_ctx *ctx, double budget, s4g_err *err)
{
    const size_t n = (size_t)16 << 20;
    s4g_buf *a = s4g_buf_new(ctx, n, err), *b = a ? s4g_buf_new(ctx, n, err) : NULL;
    double bw = -1;
    if (b && !s4g_copy(ctx, n, s4g_at(a, 0), s4g_at(b, 0), err)) { /* warm-up: page faults */
        gint64 t0 = g_get_monotonic_time();
        int it = 0, rc = 0;
        while (!rc && (it < 3 || (g_get_monotonic_time() - t0) / 1e6 < budget)) {
            rc = s4g_copy(ctx, n, s4g_at(it & 1 ? b : a, 0), s4g_at(it & 1 ? a : b, 0), err) ||
                 s4g_ctx_sync(ctx, err);
            it++;
        }
        if (!rc)
            bw = 2.0 * n * sizeof(float) * it / ((g_get_monotonic_time() - t0) / 1e6);
    }
    s4g_buf_free(a);
    s4g_buf_free(b);
    return bw;
}

static int bench_infer(s4g_convnext *m, int B, int H, int W, double budget, Rate *r,
                       s4g_err *err)
{
    s4g_convnext_ws *ws = s4g_convnext_ws_new(m, B, H, W, 0, err);
    if (!ws)
        return -1;
    size_t n = (size_t)B * H * W * 3;
    float *x = g_new(float, n);
    fill_random(x, n, 1);
    s4g_t in = s4g_convnext_ws_input(ws);
    int rc = s4g_buf_upload(in.buf, in.off, x, n, err) || s4g_convnext_forward(m, ws, err) ||
             s4g_ctx_sync(m->ctx, err);
    gint64 t0 = g_get_monotonic_time();
    double c0 = cpu_seconds();
    int it = 0;
    while (!rc && (it < 2 || (g_get_monotonic_time() - t0) / 1e6 < budget)) {
        rc = s4g_convnext_forward(m, ws, err) || s4g_ctx_sync(m->ctx, err);
        it++;
    }
    r->secs = (g_get_monotonic_time() - t0) / 1e6;
    r->iters = it;
    r->per_s = it * B / r->secs;
    r->per_cpu_s = it * B / (cpu_seconds() - c0);
    g_free(x);
    s4g_convnext_ws_free(ws);
    return rc ? -1 : 0;
}

static int bench_train(s4g_convnext *m, int B, int H, int W, int Hr, int Wr, double budget,
                       Rate *r, float *loss, s4g_err *err)
{
    s4g_train_cfg tc = s4g_train_cfg_default(1, 1000);
    s4g_trainer *t = s4g_trainer_new(m, &tc, err);
    if (!t)
        return -1;
    size_t nq = (size_t)B * H * W * 3, nr = (size_t)B * Hr * Wr * 3;
    float *q = g_new(float, nq), *x = g_new(float, nr);
    fill_random(q, nq, 2);
    fill_random(x, nr, 3);
    s4g_train_stats st = {0};
    int rc = s4g_trainer_step(t, B, H, W, q, Hr, Wr, x, &st, err);
    gint64 t0 = g_get_monotonic_time();
    double c0 = cpu_seconds();
    int it = 0;
    while (!rc && (it < 2 || (g_get_monotonic_time() - t0) / 1e6 < budget)) {
        rc = s4g_trainer_step(t, B, H, W, q, Hr, Wr, x, &st, err);
        it++;
    }
    r->secs = (g_get_monotonic_time() - t0) / 1e6;
    r->iters = it;
    r->per_s = it * B / r->secs;
    r->per_cpu_s = it * B / (cpu_seconds() - c0);
    *loss = st.loss;
    g_free(q);
    g_free(x);
    s4g_trainer_free(t);
    return rc ? -1 : 0;
}

#if HAVE_SEARCH
static int bench_search(s4g_ctx *ctx, int D, int G, int Q, int fp16, double budget, Rate *r,
                        s4g_err *err)
{
    s4g_gallery *g = s4g_gallery_new(ctx, D, fp16, err);
    if (!g)
        return -1;
    float *gal = g_new(float, (size_t)G * D), *q = g_new(float, (size_t)Q * D);
    fill_random(gal, (size_t)G * D, 4);
    fill_random(q, (size_t)Q * D, 5);
    int64_t *idx = g_new(int64_t, (size_t)Q * 10);
    int rc = s4g_gallery_add(g, (size_t)G, gal, err) ||
             s4g_gallery_topk(g, (size_t)Q, q, 10, idx, NULL, err);
    gint64 t0 = g_get_monotonic_time();
    int it = 0;
    while (!rc && (it < 2 || (g_get_monotonic_time() - t0) / 1e6 < budget)) {
        rc = s4g_gallery_topk(g, (size_t)Q, q, 10, idx, NULL, err);
        it++;
    }
    r->secs = (g_get_monotonic_time() - t0) / 1e6;
    r->iters = it;
    r->per_s = (double)it * Q / r->secs;
    r->bytes_per_s = (double)it * G * D * (fp16 ? 2 : 4) / r->secs;
    g_free(gal);
    g_free(q);
    g_free(idx);
    s4g_gallery_free(g);
    return rc ? -1 : 0;
}
#endif

int s4g_cmd_bench(int argc, char **argv)
{
    g_autofree char *arch = NULL, *size = NULL;
    g_autofree char *ref_size = NULL;
    int batch = 8, gallery = 50000, queries = 512, threads = 0;
    double seconds = 4;
    gboolean gallery_fp16 = FALSE;
    GOptionEntry entries[] = {
        {"arch", 'a', 0, G_OPTION_ARG_STRING, &arch,
         "ConvNeXt preset (default atto): atto femto pico nano tiny small base", "PRESET"},
        {"size", 's', 0, G_OPTION_ARG_STRING, &size,
         "Input (query/ground view) size HxW (default 128x128)", "HxW"},
        {"ref-size", 0, 0, G_OPTION_ARG_STRING, &ref_size,
         "Reference (satellite view) size HxW for the training step (default: --size)", "HxW"},
        {"batch", 'n', 0, G_OPTION_ARG_INT, &batch,
         "Images per inference batch and pairs per training step (default 8)", "N"},
        {"seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds,
         "Time spent on each measurement after warm-up (default 4)", "S"},
        {"gallery", 0, 0, G_OPTION_ARG_INT, &gallery, "Search gallery size (default 50000)", "N"},
        {"queries", 0, 0, G_OPTION_ARG_INT, &queries, "Search queries per call (default 512)",
         "N"},
        {"gallery-fp16", 0, 0, G_OPTION_ARG_NONE, &gallery_fp16,
         "Store the search gallery as fp16 (default fp32)", NULL},
        {NULL},
    };
    g_auto(S4gCliOptions) o = {.shared = S4G_CLI_BACKEND | S4G_CLI_THREADS | S4G_CLI_JSON};
    if (!s4g_cli_parse_opts("bench", NULL, "measure engine throughput on this machine", entries,
                            &o, &argc, &argv))
        return 2;
    gboolean json = o.json;
    threads = o.threads;
    int H = 128, W = 128, Hr, Wr;
    if (size && !parse_size("size", size, &H, &W))
        return 2;
    Hr = H;
    Wr = W;
    if (ref_size && !parse_size("ref-size", ref_size, &Hr, &Wr))
        return 2;
    if (batch < 2 || gallery < 10 || queries < 1 || !(seconds > 0) || threads < 0) {
        fprintf(stderr, "s4g bench: --batch must be >= 2, --gallery >= 10, --queries >= 1, "
                        "--seconds > 0, --threads >= 0\n");
        return 2;
    }
    s4g_err err = {0};
    s4g_convnext_cfg cfg;
    if (s4g_convnext_preset(arch ? arch : "atto", &cfg, &err)) {
        fprintf(stderr, "s4g bench: %s\n", err.msg);
        return 2;
    }
    s4g_ctx *ctx = s4g_cli_make_ctx("bench", &o);
    if (!ctx) return 1;
    s4g_convnext *m = s4g_convnext_new(ctx, &cfg, 1, &err);
    if (!m) {
        fprintf(stderr, "s4g bench: %s\n", err.msg);
        s4g_ctx_free(ctx);
        return 1;
    }
    const char *an = arch ? arch : "atto";
    Rate inf = {0}, tr = {0}, se = {0};
    double copy_bw = 0;
    float loss = 0;
    int rc = 1;
    if (!json) {
        printf("device: %s\n", s4g_ctx_describe(ctx));
        if (s4g_ctx_backend(ctx) == S4G_BACKEND_CPU)
            s4g_cli_cpu_info_text();
        printf("model: convnext-%s (%zu parameters)\n", an, s4g_convnext_count(m));
    }
    fflush(stdout);
    if (bench_infer(m, batch, H, W, seconds, &inf, &err))
        goto fail;
    if (!json) {
        printf("inference      %dx%d batch %d: %8.2f img/s   (%d batches in %.1f s)\n", H, W,
               batch, inf.per_s, inf.iters, inf.secs);
        fflush(stdout);
    }
    if (bench_train(m, batch, H, W, Hr, Wr, seconds, &tr, &loss, &err))
        goto fail;
    if (!json) {
        printf("training step  %dx%d + %dx%d, %d pairs: %8.2f pairs/s (%d steps in %.1f s)\n", H,
               W, Hr, Wr, batch, tr.per_s, tr.iters, tr.secs);
        fflush(stdout);
    }
#if HAVE_SEARCH
    if (bench_search(ctx, cfg.dims[3], gallery, queries, gallery_fp16, seconds, &se, &err))
        goto fail;
    copy_bw = copy_bandwidth(ctx, seconds < 1 ? seconds : 1, &err);
    if (copy_bw < 0)
        goto fail;
    if (!json)
        printf("search top-10  gallery %d x %d %s, %d queries per call: %8.0f queries/s, "
               "%.2f GB/s of gallery (%.0f %% of the %.2f GB/s copy bandwidth measured now)\n",
               gallery, cfg.dims[3], gallery_fp16 ? "fp16" : "fp32", queries, se.per_s,
               se.bytes_per_s / 1e9, 100 * se.bytes_per_s / copy_bw, copy_bw / 1e9);
#else
    if (!json)
        printf("search: not measured (this build has no similarity search module)\n");
#endif
    if (json) {
        g_autofree char *jd = s4g_cli_json_str(s4g_ctx_describe(ctx));
        printf("{\"device\": %s, \"arch\": \"%s\", \"parameters\": %zu, \"height\": %d, "
               "\"width\": %d, \"ref_height\": %d, \"ref_width\": %d, \"batch\": %d, "
               "\"inference_img_per_s\": %.3f, \"train_pairs_per_s\": %.3f, "
               "\"inference_img_per_cpu_s\": %.3f, \"train_pairs_per_cpu_s\": %.3f, "
               "\"train_loss\": %.5f",
               jd, an, s4g_convnext_count(m), H, W, Hr, Wr, batch, inf.per_s,
               tr.per_s, inf.per_cpu_s, tr.per_cpu_s, loss);
        if (HAVE_SEARCH)
            printf(", \"search_gallery\": %d, \"search_gallery_fp16\": %s, "
                   "\"search_queries\": %d, \"search_queries_per_s\": %.1f, "
                   "\"search_scan_bytes_per_s\": %.4g, \"copy_bandwidth_bytes_per_s\": %.4g",
                   gallery, gallery_fp16 ? "true" : "false", queries, se.per_s,
                   se.bytes_per_s, copy_bw);
        else
            printf(", \"search_queries_per_s\": null");
        if (s4g_ctx_backend(ctx) == S4G_BACKEND_CPU) {
            g_autoptr(GString) ci = g_string_new(NULL);
            s4g_cli_cpu_info_json(ci);
            printf(", \"cpu_kernels\": %s", ci->str);
        }
        printf("}\n");
    }
    rc = 0;
    goto out;
fail:
    fprintf(stderr, "s4g bench: %s\n", err.msg);
out:
    (void)se;
    (void)copy_bw;
    s4g_convnext_free(m);
    s4g_ctx_free(ctx);
    return rc;
}
