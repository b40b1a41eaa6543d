/* cmd-bench.c — s4g bench: throughput of the engine on this machine — inference images/s,
 * Sample4Geo training step pairs/s (forward + backward + AdamW on both views) and, when the
 * similarity search module is built in, search queries/s.  Each part runs a warm-up
 * iteration, then repeats until --seconds have passed (at least 2 iterations).
 * `--train-scaling` and `--search` measure one part, also under mpirun (data-parallel
 * training of one global batch; a gallery sharded over the processes). */
#include "s4g-cli.h"
#include "s4g-json-out.h"
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

/* The model and input members of the --json object. */
static void json_model_shape(JsonBuilder *b, s4g_convnext *m, const char *arch, int H, int W,
                             int Hr, int Wr, int batch)
{
    s4g_json_add_string(b, "arch", arch);
    s4g_json_add_int(b, "parameters", (gint64)s4g_convnext_count(m));
    s4g_json_add_int(b, "height", H);
    s4g_json_add_int(b, "width", W);
    s4g_json_add_int(b, "ref_height", Hr);
    s4g_json_add_int(b, "ref_width", Wr);
    s4g_json_add_int(b, "batch", batch);
}

/* ------------------------------------------------------------ data parallel (mpirun)
 * `--train-scaling` and `--search` run only that part, on every process of an MPI job (or
 * alone: one process).  Loops end together: rank 0 decides after each iteration and
 * broadcasts it, so no process waits in a collective the others left. */

/* The job's communicator, counting the payload each process hands to the collectives: the
 * features it gathers (bytes received), the gradients it sums (bytes of the buffer).  An MPI
 * ring allreduce moves about 2 (N-1)/N times the summed size over the wire. */
typedef struct {
    s4g_comm inner;
    double bytes;
} Counted;

static int cnt_allgather(void *u, const float *send, size_t n, float *recv, s4g_err *err)
{
    Counted *c = u;
    c->bytes += (double)n * c->inner.size * sizeof(float);
    return c->inner.allgather(c->inner.user, send, n, recv, err);
}

static int cnt_allgatherv(void *u, const float *send, float *recv, const size_t *counts,
                          s4g_err *err)
{
    Counted *c = u;
    for (int i = 0; i < c->inner.size; i++)
        c->bytes += (double)counts[i] * sizeof(float);
    return c->inner.allgatherv(c->inner.user, send, recv, counts, err);
}

static int cnt_allreduce(void *u, float *buf, size_t n, s4g_err *err)
{
    Counted *c = u;
    c->bytes += (double)n * sizeof(float);
    return c->inner.allreduce_sum(c->inner.user, buf, n, err);
}

static int cnt_iallreduce(void *u, float *buf, size_t n, void **req, s4g_err *err)
{
    Counted *c = u;
    c->bytes += (double)n * sizeof(float);
    return c->inner.iallreduce_sum(c->inner.user, buf, n, req, err);
}

static int cnt_wait(void *u, void *req, s4g_err *err)
{
    Counted *c = u;
    return c->inner.wait(c->inner.user, req, err);
}

static int cnt_broadcast(void *u, void *buf, size_t bytes, int root, s4g_err *err)
{
    Counted *c = u;
    c->bytes += (double)bytes;
    return c->inner.broadcast(c->inner.user, buf, bytes, root, err);
}

static int cnt_allgather_bytes(void *u, const void *send, size_t bytes, void *recv,
                               s4g_err *err)
{
    Counted *c = u;
    c->bytes += (double)bytes * c->inner.size;
    return c->inner.allgather_bytes(c->inner.user, send, bytes, recv, err);
}

static s4g_comm counted_comm(Counted *c)
{
    s4g_comm w = c->inner;
    w.user = c;
    w.allgather = cnt_allgather;
    w.allgatherv = cnt_allgatherv;
    w.allreduce_sum = cnt_allreduce;
    w.broadcast = cnt_broadcast;
    w.allgather_bytes = c->inner.allgather_bytes ? cnt_allgather_bytes : NULL;
    w.iallreduce_sum = c->inner.iallreduce_sum ? cnt_iallreduce : NULL;
    w.wait = c->inner.wait ? cnt_wait : NULL;
    return w;
}

/* Rank 0's word on going on after `it` iterations since t0 (uncounted). */
static int keep_going(const s4g_comm *c, int it, gint64 t0, double budget, int *go,
                      s4g_err *err)
{
    *go = it < 2 || (g_get_monotonic_time() - t0) / 1e6 < budget;
    return c->size > 1 ? c->broadcast(c->user, go, sizeof *go, 0, err) : 0;
}

/* Every process's value, by rank (recv[size]). */
static int gather_double(const s4g_comm *c, double v, double *recv, s4g_err *err)
{
    if (c->size == 1) {
        recv[0] = v;
        return 0;
    }
    return c->allgather_bytes(c->user, &v, sizeof v, recv, err);
}

typedef struct {
    double pairs_per_s, pairs_per_cpu_s, bytes_per_step, loss;
    double first[3]; /* the losses of the first three steps: the third follows an update */
    int steps;
    double secs;
} TrainScaling;

/* Training steps of the global batch B over the group (each process its share). */
static int bench_train_scaling(s4g_convnext *m, Counted *cnt, int B, int H, int W, int Hr,
                               int Wr, double budget, TrainScaling *out, s4g_err *err)
{
    s4g_comm comm = counted_comm(cnt);
    const s4g_comm *job = &cnt->inner;
    s4g_train_cfg tc = s4g_train_cfg_default(1, 1000);
    s4g_trainer *t = s4g_trainer_new(m, &tc, err);
    if (!t)
        return -1;
    if (comm.size > 1)
        s4g_trainer_set_comm(t, &comm);
    int lo, n;
    s4g_comm_share(B, comm.rank, comm.size, &lo, &n);
    size_t iq = (size_t)H * W * 3, ir = (size_t)Hr * Wr * 3;
    float *q = g_new(float, (size_t)B * iq), *x = g_new(float, (size_t)B * ir);
    fill_random(q, (size_t)B * iq, 2); /* the same global batch on every process */
    fill_random(x, (size_t)B * ir, 3);
    s4g_train_stats st = {0};
    const float *ql = q + (size_t)lo * iq, *xl = x + (size_t)lo * ir;
    int rc = s4g_trainer_step(t, n, H, W, ql, Hr, Wr, xl, &st, err); /* builds workspaces */
    out->first[0] = st.loss;
    cnt->bytes = 0;
    gint64 t0 = g_get_monotonic_time();
    double c0 = cpu_seconds();
    int it = 0, go = 1;
    while (!rc && !(rc = keep_going(job, it, t0, budget, &go, err)) && go) {
        rc = s4g_trainer_step(t, n, H, W, ql, Hr, Wr, xl, &st, err);
        if (it < 2)
            out->first[it + 1] = st.loss;
        it++;
    }
    double secs = (g_get_monotonic_time() - t0) / 1e6, cpu = cpu_seconds() - c0;
    double *all = g_new(double, comm.size);
    if (!rc && !(rc = gather_double(job, cpu, all, err))) {
        double sum = 0;
        for (int i = 0; i < comm.size; i++)
            sum += all[i];
        out->pairs_per_s = it * (double)B / secs;
        out->pairs_per_cpu_s = it * (double)B / sum;
        out->bytes_per_step = cnt->bytes / MAX(it, 1);
        out->loss = st.loss;
        out->steps = it;
        out->secs = secs;
    }
    g_free(all);
    g_free(q);
    g_free(x);
    s4g_trainer_free(t);
    return rc ? -1 : 0;
}

#if HAVE_SEARCH
typedef struct {
    size_t lo, rows;       /* this process's shard */
    double local_per_s;    /* queries/s scanning its shard alone */
    double local_bytes_per_s;
    double local_per_cpu_s; /* queries per CPU-second of this process (all its threads) */
    double merged_per_s;   /* queries/s of the whole search: scans + gather + merge */
    int merged_iters;
} SearchScaling;

/* Each process holds its shard of a gallery of G rows (random), scans it alone, then the
 * whole search runs with the top-10 lists merged over the group. */
static int bench_search_sharded(s4g_ctx *ctx, Counted *cnt, int D, int G, int Q, int fp16,
                                double budget, SearchScaling *out, s4g_err *err)
{
    s4g_comm comm = counted_comm(cnt);
    s4g_gallery *g = s4g_gallery_new(ctx, D, fp16, err);
    if (!g)
        return -1;
    s4g_gallery_shard(g, (size_t)G, 1, comm.rank, comm.size, &out->lo, &out->rows);
    float *gal = g_new(float, MAX(out->rows, 1) * D), *q = g_new(float, (size_t)Q * D);
    fill_random(gal, out->rows * D, 4 + (guint32)comm.rank);
    fill_random(q, (size_t)Q * D, 5);
    int64_t *idx = g_new(int64_t, (size_t)Q * 10);
    int rc = s4g_gallery_add(g, out->rows, gal, err);
    g_free(gal);
    /* alone: no collective inside, each process on its own clock */
    if (!rc && out->rows) {
        rc = s4g_gallery_topk(g, (size_t)Q, q, 10, idx, NULL, err);
        gint64 t0 = g_get_monotonic_time();
        double c0 = cpu_seconds();
        int it = 0;
        while (!rc && (it < 2 || (g_get_monotonic_time() - t0) / 1e6 < budget)) {
            rc = s4g_gallery_topk(g, (size_t)Q, q, 10, idx, NULL, err);
            it++;
        }
        double secs = (g_get_monotonic_time() - t0) / 1e6;
        out->local_per_s = (double)it * Q / secs;
        out->local_bytes_per_s = (double)it * out->rows * D * (fp16 ? 2 : 4) / secs;
        out->local_per_cpu_s = (double)it * Q / (cpu_seconds() - c0);
    }
    /* merged over the group */
    if (!rc)
        rc = s4g_gallery_topk_shared(g, &comm, (int64_t)out->lo, (size_t)Q, q, 10, idx, NULL,
                                     err);
    gint64 t0 = g_get_monotonic_time();
    int it = 0, go = 1;
    while (!rc && !(rc = keep_going(&cnt->inner, it, t0, budget, &go, err)) && go) {
        rc = s4g_gallery_topk_shared(g, &comm, (int64_t)out->lo, (size_t)Q, q, 10, idx, NULL,
                                     err);
        it++;
    }
    out->merged_iters = it;
    out->merged_per_s = (double)it * Q / ((g_get_monotonic_time() - t0) / 1e6);
    g_free(q);
    g_free(idx);
    s4g_gallery_free(g);
    return rc ? -1 : 0;
}
#endif

/* `--train-scaling` / `--search`: rank 0 prints. */
static int bench_parallel(s4g_ctx *ctx, s4g_convnext *m, const char *arch, s4g_comm *job,
                          int threads, gboolean train, int batch, int H, int W, int Hr, int Wr, int gallery,
                          int queries, gboolean fp16, double seconds, gboolean json, s4g_err *err)
{
    Counted cnt = {.inner = *job};
    gboolean lead = job->rank == 0;
    int P = job->size;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    s4g_json_add_string(b, "device", s4g_ctx_describe(ctx));
    s4g_json_add_int(b, "processes", P);
    s4g_json_add_int(b, "threads_per_process", threads); /* 0: the backend's default */
    if (lead && !json)
        printf("device: %s, %d process%s, --threads %d each\n", s4g_ctx_describe(ctx), P,
               P == 1 ? "" : "es", threads);
    if (train) {
        if (batch % P) {
            if (lead)
                fprintf(stderr, "s4g bench: --batch %d does not divide over %d processes\n",
                        batch, P);
            return s4g_fail(err, S4G_E_INVALID, "--batch %d over %d processes", batch, P);
        }
        TrainScaling ts = {0};
        if (bench_train_scaling(m, &cnt, batch, H, W, Hr, Wr, seconds, &ts, err))
            return -1;
        json_model_shape(b, m, arch, H, W, Hr, Wr, batch);
        s4g_json_add_int(b, "steps", ts.steps);
        s4g_json_add_double(b, "train_pairs_per_s", ts.pairs_per_s);
        s4g_json_add_double(b, "train_pairs_per_cpu_s", ts.pairs_per_cpu_s);
        s4g_json_add_double(b, "comm_bytes_per_step", ts.bytes_per_step);
        s4g_json_add_double(b, "train_loss", ts.loss);
        s4g_json_begin_array(b, "train_losses_first");
        for (int i = 0; i < 3; i++)
            json_builder_add_double_value(b, ts.first[i]);
        json_builder_end_array(b);
        if (lead && !json)
            printf("training step  convnext-%s %dx%d + %dx%d, global batch %d over %d: "
                   "%8.2f pairs/s, %.2f pairs per CPU-second (all processes), %.2f MB to the "
                   "collectives per step and process (%d steps in %.1f s)\n",
                   arch, H, W, Hr, Wr, batch, P, ts.pairs_per_s, ts.pairs_per_cpu_s,
                   ts.bytes_per_step / 1e6, ts.steps, ts.secs);
    }
#if HAVE_SEARCH
    if (!train) {
        SearchScaling ss = {0};
        int D = m->cfg.dims[3];
        if (bench_search_sharded(ctx, &cnt, D, gallery, queries, fp16, seconds, &ss, err))
            return -1;
        double *rate = g_new(double, P), *rows = g_new(double, P), *bw = g_new(double, P),
               *cpu = g_new(double, P);
        int rc = gather_double(job, ss.local_per_s, rate, err) ||
                 gather_double(job, (double)ss.rows, rows, err) ||
                 gather_double(job, ss.local_bytes_per_s, bw, err) ||
                 gather_double(job, ss.local_per_cpu_s, cpu, err);
        if (!rc) {
            s4g_json_add_int(b, "search_gallery", gallery);
            s4g_json_add_int(b, "search_dim", D);
            s4g_json_add_bool(b, "search_gallery_fp16", fp16);
            s4g_json_add_int(b, "search_queries", queries);
            s4g_json_begin_array(b, "search_ranks");
            for (int i = 0; i < P; i++) {
                json_builder_begin_object(b);
                s4g_json_add_int(b, "rank", i);
                s4g_json_add_int(b, "rows", (gint64)rows[i]);
                s4g_json_add_double(b, "queries_per_s", rate[i]);
                s4g_json_add_double(b, "scan_bytes_per_s", bw[i]);
                s4g_json_add_double(b, "queries_per_cpu_s", cpu[i]);
                json_builder_end_object(b);
            }
            json_builder_end_array(b);
            s4g_json_add_double(b, "search_merged_queries_per_s", ss.merged_per_s);
        }
        if (!rc && lead && !json) {
            for (int i = 0; i < P; i++)
                printf("search top-10  rank %d: shard of %.0f rows × %d %s, %d queries per "
                       "call: %8.1f queries/s alone (%.2f GB/s), %.1f per CPU-second\n",
                       i, rows[i], D, fp16 ? "fp16" : "fp32", queries, rate[i], bw[i] / 1e9,
                       cpu[i]);
            printf("search top-10  gallery %d rows over %d process%s, merged: %8.1f "
                   "queries/s\n",
                   gallery, P, P == 1 ? "" : "es", ss.merged_per_s);
        }
        g_free(rate);
        g_free(rows);
        g_free(bw);
        g_free(cpu);
        if (rc)
            return -1;
    }
#else
    if (!train)
        return s4g_fail(err, S4G_E_UNSUPPORTED, "this build has no similarity search module");
#endif
    json_builder_end_object(b);
    if (lead && json)
        s4g_json_print(b, stdout);
    return 0;
}

int s4g_cmd_bench(int argc, char **argv)
{
    g_autofree char *arch = NULL, *size = NULL;
    g_autofree char *ref_size = NULL;
    int batch = 8, gallery = 50000, queries = 512, threads = 0;
    double seconds = 4;
    gboolean gallery_fp16 = FALSE, train_scaling = FALSE, search_only = FALSE;
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
        {"train-scaling", 0, 0, G_OPTION_ARG_NONE, &train_scaling,
         "Only the training step of the global --batch, shared over the processes of "
         "`mpirun -np N s4g bench` (or one): pairs/s, pairs per CPU-second and the bytes each "
         "process hands to the collectives per step",
         NULL},
        {"search", 0, 0, G_OPTION_ARG_NONE, &search_only,
         "Only the search; under mpirun every process holds a shard of the --gallery and "
         "reports its queries/s alone, then the merged top-10 search's queries/s",
         NULL},
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
    if (train_scaling && search_only) {
        fprintf(stderr, "s4g bench: --train-scaling and --search exclude each other\n");
        return 2;
    }
    s4g_comm job;
    if (!s4g_cli_mpi_begin("bench", &job)) return 1;
    if (job.size > 1 && !train_scaling && !search_only) {
        if (job.rank == 0)
            fprintf(stderr, "s4g bench: under mpirun, measure --train-scaling or --search\n");
        s4g_cli_mpi_end("bench", &job, TRUE, NULL);
        return 2;
    }
    s4g_ctx *ctx = s4g_cli_make_ctx("bench", &o);
    s4g_convnext *m = ctx ? s4g_convnext_new(ctx, &cfg, 1, &err) : NULL;
    if (ctx && !m) fprintf(stderr, "s4g bench: %s\n", err.msg);
    const char *an = arch ? arch : "atto";
    if (!m || train_scaling || search_only) {
        gboolean ok = m && !bench_parallel(ctx, m, an, &job, threads, train_scaling, batch, H, W, Hr, Wr,
                                           gallery, queries, gallery_fp16, seconds, json, &err);
        if (m && !ok) fprintf(stderr, "s4g bench: %s\n", err.msg);
        s4g_convnext_free(m);
        s4g_ctx_free(ctx);
        g_autoptr(GError) e = ok ? NULL : g_error_new_literal(g_quark_from_static_string("s4g-bench"), 0, err.msg);
        s4g_cli_mpi_end("bench", &job, ok, e);
        return ok ? 0 : 1;
    }
    s4g_cli_mpi_end("bench", &job, TRUE, NULL);
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
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        s4g_json_add_string(b, "device", s4g_ctx_describe(ctx));
        json_model_shape(b, m, an, H, W, Hr, Wr, batch);
        s4g_json_add_double(b, "inference_img_per_s", inf.per_s);
        s4g_json_add_double(b, "train_pairs_per_s", tr.per_s);
        s4g_json_add_double(b, "inference_img_per_cpu_s", inf.per_cpu_s);
        s4g_json_add_double(b, "train_pairs_per_cpu_s", tr.per_cpu_s);
        s4g_json_add_double(b, "train_loss", loss);
        if (HAVE_SEARCH) {
            s4g_json_add_int(b, "search_gallery", gallery);
            s4g_json_add_bool(b, "search_gallery_fp16", gallery_fp16);
            s4g_json_add_int(b, "search_queries", queries);
            s4g_json_add_double(b, "search_queries_per_s", se.per_s);
            s4g_json_add_double(b, "search_scan_bytes_per_s", se.bytes_per_s);
            s4g_json_add_double(b, "copy_bandwidth_bytes_per_s", copy_bw);
        } else {
            s4g_json_add_null(b, "search_queries_per_s");
        }
        if (s4g_ctx_backend(ctx) == S4G_BACKEND_CPU) s4g_cli_cpu_info_json(b, "cpu_kernels");
        json_builder_end_object(b);
        s4g_json_print(b, stdout);
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
