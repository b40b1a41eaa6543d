/* s4g-train.c — the training loop. */
#include "s4g-train.h"
#include "s4g-checksum.h"
#include "s4g-dss.h"
#include "s4g-json.h"
#include "s4g-json-out.h"
#include "s4g-loader.h"
#include "s4g-mine.h"
#include "s4g-safetensors.h"
#include "s4g-store-locks.h"
#include "s4g-store-runs.h"
#include "s4g-train-step.h"

#include <math.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

void s4g_train_options_init(S4gTrainOptions *o)
{
    const S4gDefaults *d = &s4g_defaults;
    *o = (S4gTrainOptions){.train_split = "train",
                           .eval_split = "val",
                           .spec = s4g_model_spec_default(),
                           .epochs = d->epochs,
                           .batch_size = d->batch,
                           .lr = d->lr,
                           .warmup_epochs = d->warmup_epochs,
                           .eval_every = d->eval_every,
                           .seed = d->seed,
                           .gps_sample = TRUE,
                           .exclude_flagged = TRUE,
                           .dss_sample = TRUE,
                           .augment = TRUE,
                           .gps_metric = S4G_GPS_HAVERSINE,
                           .sampler = s4g_sampler_params_default(),
                           .eval_batch = d->encode_batch,
                           .loader_threads = d->loader_threads,
                           .backend = S4G_BACKEND_AUTO};
}

static const char *const test_kill_names[] = {NULL, "step", "eval", "mine",
                                              "checkpoint-write"};

gboolean s4g_test_kill_parse(const char *text, S4gTestKill *out, GError **error)
{
    *out = (S4gTestKill){S4G_TEST_KILL_NONE, 0};
    if (!text || !*text) return TRUE;
    const char *colon = strrchr(text, ':');
    char *end = NULL;
    guint64 n = colon ? g_ascii_strtoull(colon + 1, &end, 10) : 0;
    for (guint i = 1; colon && i < G_N_ELEMENTS(test_kill_names); i++) {
        if (strlen(test_kill_names[i]) == (gsize)(colon - text) &&
            !strncmp(text, test_kill_names[i], colon - text) && end && !*end && n >= 1 &&
            n <= G_MAXUINT) {
            *out = (S4gTestKill){(S4gTestKillPoint)i, (guint)n};
            return TRUE;
        }
    }
    g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                "S4G_TEST_KILL_AT=%.60s: expected POINT:N with POINT step, eval, mine or "
                "checkpoint-write and N ≥ 1",
                text);
    return FALSE;
}

/* The --init weights a run started from, recorded in its config so that a run restarted from
 * scratch by --resume (no checkpoint yet) starts from the same file, and notices when the
 * file is gone or has changed. */
typedef struct {
    char *path; /* absolute; NULL: timm's random init */
    gint64 bytes;
    char *sha256;
} InitWeights;

static void init_weights_clear(InitWeights *w)
{
    g_clear_pointer(&w->path, g_free);
    g_clear_pointer(&w->sha256, g_free);
}

/* w from the file at path (as it is now). */
static gboolean init_weights_take(InitWeights *w, const char *path, GError **error)
{
    goffset bytes = 0;
    char *sha = s4g_file_sha256(path, &bytes, error);
    if (!sha) return g_prefix_error(error, "--init: "), FALSE;
    init_weights_clear(w);
    w->path = g_canonicalize_filename(path, NULL);
    w->bytes = bytes;
    w->sha256 = sha;
    return TRUE;
}

/* Resuming run `run` from its start without --init: the recorded weights, checked to be the
 * file the run started from. */
static gboolean init_weights_check(const InitWeights *w, gint64 run, GError **error)
{
    InitWeights now = {0};
    g_autoptr(GError) e = NULL;
    if (!init_weights_take(&now, w->path, &e)) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO,
                    "run %" G_GINT64_FORMAT " started from the weights %s (--init), which cannot "
                    "be read now (%s); it has no checkpoint yet, so it starts over from them: "
                    "restore the file, or pass --init FILE with --resume to start it from "
                    "another file",
                    run, w->path, e->message);
        return FALSE;
    }
    gboolean same = now.bytes == w->bytes && !g_strcmp0(now.sha256, w->sha256);
    if (!same)
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "run %" G_GINT64_FORMAT " started from the weights %s (--init), which have "
                    "changed since (%" G_GINT64_FORMAT " bytes, sha256 %.12s…; now %" G_GINT64_FORMAT
                    " bytes, sha256 %.12s…); it has no checkpoint yet, so it starts over: pass "
                    "--init %s with --resume to start from the file as it is now",
                    run, w->path, w->bytes, w->sha256 ? w->sha256 : "?", now.bytes, now.sha256,
                    w->path);
    init_weights_clear(&now);
    return same;
}

/* Everything a run needs, owned in one place. */
typedef struct {
    S4gStore *store;
    S4gTrainOptions o;
    S4gTrainCallback cb;
    gpointer user;
    gint64 run, model;
    char *name;
    S4gSplit *train, *eval;
    s4g_ctx *ctx;
    s4g_convnext *net;
    s4g_trainer *trainer;
    S4gNeighbours *table; /* GPS, then DSS; NULL = plain unique shuffle */
    gboolean university;
    double best_r1;
    gint64 t_start;              /* monotonic µs when this process started the run */
    char *last_path, *best_path; /* absolute */
    char *last_rel, *best_rel;   /* relative to the project */
    S4gRunLock *lock;            /* held from creating/resuming the run until its end */
    guint kill_count;            /* test hook: times test_kill.point was reached */
    char init_report[512];       /* the --init load line (s4g_weights_report) or "" */
    InitWeights init;            /* what --init named, as the run config records it */
} Run;

/* The test-only kill hook (S4gTrainOptions.test_kill). */
static void test_kill_point(Run *r, S4gTestKillPoint point)
{
    if (r->o.test_kill.point == point && ++r->kill_count == r->o.test_kill.nth) raise(SIGKILL);
}

/* Whether this process records the run (the only one, or rank 0 of a data-parallel group). */
static gboolean writer(const Run *r)
{
    return !r->o.comm || r->o.comm->rank == 0;
}

/* The stop request, agreed on by every process of a group (any one's request stops all after
 * the same step). */
static gboolean stop_now(Run *r, volatile gint *stop, GError **error)
{
    float flag = stop && g_atomic_int_get(stop) ? 1.0f : 0.0f;
    s4g_err err = {0};
    if (r->o.comm && r->o.comm->allreduce_sum(r->o.comm->user, &flag, 1, &err)) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_COMPUTE, "stop request: %s", err.msg);
        return TRUE;
    }
    return flag > 0;
}

static void emit(Run *r, S4gTrainEvent *ev)
{
    ev->run = r->run;
    ev->model = r->model;
    if (r->cb) r->cb(ev, r->user);
}

/* Encoding progress of an evaluation or DSS pass, as ENCODE events; `base` counts the images
 * of the passes already done (queries, then references). */
typedef struct {
    Run *r;
    const char *what;
    guint epoch;
    guint base, total;
} EncodeProgress;

static void on_encode(guint done, guint total, gpointer data)
{
    EncodeProgress *p = data;
    S4gTrainEvent ev = {.kind = S4G_TRAIN_EVENT_ENCODE,
                        .epoch = p->epoch,
                        .what = p->what,
                        .step = p->base + done,
                        .total_steps = p->total};
    emit(p->r, &ev);
    if (done == total) p->base += total;
}

static gboolean compute_fail(GError **error, const char *what, const s4g_err *err)
{
    g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_COMPUTE, "%s: %s", what, err->msg);
    return FALSE;
}

/* steps: the schedule's steps per epoch, ceil(N/B); with it the config records the exact
 * warm-up W = steps × warmup_epochs (informative: resuming recomputes it from the same
 * numbers). */
static char *config_json(const S4gTrainOptions *o, const InitWeights *init, const char *spec,
                         long steps)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    s4g_json_add_int(b, "dataset", o->dataset);
    s4g_json_add_string(b, "train_split", o->train_split);
    s4g_json_add_string(b, "eval_split", o->eval_split);
    JsonNode *arch = json_from_string(spec, NULL); /* s4g_model_spec_to_json's */
    if (arch) {
        json_builder_set_member_name(b, "architecture");
        json_builder_add_value(b, arch);
    } else {
        s4g_json_add_null(b, "architecture");
    }
    s4g_json_add_int(b, "epochs", o->epochs);
    s4g_json_add_int(b, "batch_size", o->batch_size);
    s4g_json_add_double(b, "lr", o->lr);
    s4g_json_add_double(b, "warmup_epochs", o->warmup_epochs);
    s4g_json_add_int(b, "eval_every", o->eval_every);
    s4g_json_add_int(b, "seed", (gint64)o->seed);
    s4g_json_add_int(b, "gps_sample", o->gps_sample);
    s4g_json_add_int(b, "dss_sample", o->dss_sample);
    s4g_json_add_int(b, "augment", o->augment);
    s4g_json_add_string(b, "gps_metric", s4g_gps_metric_name(o->gps_metric));
    s4g_json_add_int(b, "neighbour_select", o->sampler.neighbour_select);
    s4g_json_add_int(b, "neighbour_range", o->sampler.neighbour_range);
    s4g_json_add_int(b, "break_limit", o->sampler.break_limit);
    s4g_json_add_int(b, "skip_neighbour", o->sampler.skip_neighbour);
    s4g_json_add_int(b, "exclude_flagged", o->exclude_flagged);
    s4g_json_add_int(b, "steps_per_epoch", steps);
    s4g_json_add_double(b, "warmup_steps", (double)steps * o->warmup_epochs);
    s4g_json_add_int(b, "satellite_shift", o->satellite_shift);
    s4g_json_add_string(b, "jpeg_order", s4g_jpeg_order_name(o->jpeg_order));
    s4g_json_add_double(b, "ground_fov", o->ground_fov);
    s4g_json_add_string(b, "recipe", o->recipe); /* null when none */
    /* the --init weights (null: timm's init), for a restart from scratch by --resume */
    s4g_json_add_string(b, "init_weights", init->path);
    if (init->path) {
        s4g_json_add_int(b, "init_bytes", init->bytes);
        s4g_json_add_string(b, "init_sha256", init->sha256);
    }
    json_builder_end_object(b);
    return s4g_json_to_string(b);
}

static double jnum(const s4g_json *root, const char *key, double def)
{
    const s4g_json *v = s4g_json_get(root, key);
    return v && v->type == S4G_JSON_NUMBER ? v->number : def;
}

static const char *jstr(const s4g_json *root, const char *key, const char *def)
{
    const s4g_json *v = s4g_json_get(root, key);
    return v && v->type == S4G_JSON_STRING ? v->str : def;
}

/* Resuming: the stored config replaces the options (strings are kept alive in keep); init
 * gets the --init weights it records (path NULL when none). */
static gboolean options_from_config(S4gTrainOptions *o, InitWeights *init, const char *json,
                                    GPtrArray *keep, GError **error)
{
    s4g_err err = {0};
    s4g_json *root = s4g_json_parse(json, strlen(json), &err);
    if (!root || root->type != S4G_JSON_OBJECT) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE, "run config: %s",
                    root ? "not an object" : err.msg);
        s4g_json_free(root);
        return FALSE;
    }
    o->dataset = (gint64)jnum(root, "dataset", (double)o->dataset);
    char *ts = g_strdup(jstr(root, "train_split", "train"));
    char *es = g_strdup(jstr(root, "eval_split", "val"));
    g_ptr_array_add(keep, ts);
    g_ptr_array_add(keep, es);
    o->train_split = ts;
    o->eval_split = es;
    const char *recipe = jstr(root, "recipe", NULL);
    if (recipe) g_ptr_array_add(keep, (gpointer)(o->recipe = g_strdup(recipe)));
    o->epochs = (guint)jnum(root, "epochs", o->epochs);
    o->batch_size = (guint)jnum(root, "batch_size", o->batch_size);
    o->lr = jnum(root, "lr", o->lr);
    o->warmup_epochs = jnum(root, "warmup_epochs", o->warmup_epochs);
    o->eval_every = (guint)jnum(root, "eval_every", o->eval_every);
    o->seed = (guint64)jnum(root, "seed", (double)o->seed);
    o->gps_sample = jnum(root, "gps_sample", o->gps_sample) != 0;
    o->dss_sample = jnum(root, "dss_sample", o->dss_sample) != 0;
    o->augment = jnum(root, "augment", o->augment) != 0;
    o->satellite_shift = (int)jnum(root, "satellite_shift", 0);
    /* runs stored before the option existed encoded true RGB */
    if (!s4g_jpeg_order_parse(jstr(root, "jpeg_order", "rgb"), &o->jpeg_order))
        o->jpeg_order = S4G_JPEG_ORDER_RGB;
    o->ground_fov = jnum(root, "ground_fov", 0);
    o->exclude_flagged = jnum(root, "exclude_flagged", o->exclude_flagged) != 0;
    s4g_gps_metric_parse(jstr(root, "gps_metric", "haversine"), &o->gps_metric, NULL);
    o->sampler.neighbour_select =
        (guint)jnum(root, "neighbour_select", o->sampler.neighbour_select);
    o->sampler.neighbour_range = (guint)jnum(root, "neighbour_range", o->sampler.neighbour_range);
    o->sampler.break_limit = (guint)jnum(root, "break_limit", o->sampler.break_limit);
    o->sampler.skip_neighbour = (gint)jnum(root, "skip_neighbour", o->sampler.skip_neighbour);
    init_weights_clear(init);
    const char *ip = jstr(root, "init_weights", NULL);
    if (ip) {
        init->path = g_strdup(ip);
        init->bytes = (gint64)jnum(root, "init_bytes", -1);
        init->sha256 = g_strdup(jstr(root, "init_sha256", NULL));
    }
    s4g_json_free(root);
    return TRUE;
}

/* Records the table in force as a mining run (s4g-mine.h) and tells the caller. */
static gboolean store_mining(Run *r, const char *kind, guint epoch, const guint32 *row_ground,
                             const S4gRetrievalMetrics *train_recall, GError **error)
{
    const char *metric = !strcmp(kind, "gps") ? s4g_gps_metric_name(r->o.gps_metric) : "cosine";
    if (!writer(r)) return TRUE;
    if (!s4g_mine_store(r->store, r->train, r->table, kind, metric,
                        !strcmp(kind, "dss") ? r->model : 0, r->run, r->o.dataset, epoch,
                        row_ground, error))
        return FALSE;
    test_kill_point(r, S4G_TEST_KILL_MINE);
    S4gTrainEvent ev = {.kind = S4G_TRAIN_EVENT_MINED, .epoch = epoch, .what = kind};
    ev.metrics.r1 = NAN;
    if (train_recall) ev.metrics = *train_recall;
    emit(r, &ev);
    return TRUE;
}

/* Resuming: the table in force is the run's latest mining run (GPS, or the DSS mined at the
 * last evaluation), read back so the resumed epochs see exactly the neighbours the
 * uninterrupted run would.  FALSE with no error when the run has none. */
static gboolean table_from_store(Run *r, GError **error)
{
    g_autoptr(GArray) rows = s4g_store_mining_latest_of_run(r->store, r->run, error);
    if (!rows) return FALSE;
    S4gSplit *t = r->train;
    g_autoptr(GHashTable) ref_of = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    g_autoptr(GHashTable) row_of = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    for (guint i = 0; i < t->n_refs; i++) {
        g_hash_table_insert(ref_of, g_memdup2(&t->ref_ids[i], sizeof(gint64)),
                            GUINT_TO_POINTER(i + 1));
        g_hash_table_insert(row_of, g_memdup2(&t->ref_ids[i], sizeof(gint64)),
                            GUINT_TO_POINTER(i + 1));
    }
    /* DSS anchors are grounds: their row is their positive satellite's */
    for (guint q = 0; q < t->n_queries; q++)
        g_hash_table_insert(row_of, g_memdup2(&t->query_ids[q], sizeof(gint64)),
                            GUINT_TO_POINTER(t->query_pos[q] + 1));
    S4gNeighbours *nb = s4g_neighbours_new(t->n_refs, r->o.sampler.neighbour_range);
    gboolean any = FALSE;
    for (guint i = 0; i < rows->len; i++) {
        const S4gHardNegative *h = &g_array_index(rows, S4gHardNegative, i);
        guint row = GPOINTER_TO_UINT(g_hash_table_lookup(row_of, &h->anchor));
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(ref_of, &h->negative));
        if (!row || !n || nb->count[row - 1] >= nb->k) continue;
        nb->ids[(gsize)(row - 1) * nb->k + nb->count[row - 1]++] = (gint32)(n - 1);
        any = TRUE;
    }
    if (!any) {
        s4g_neighbours_free(nb);
        return FALSE;
    }
    s4g_neighbours_free(r->table);
    r->table = nb;
    return TRUE;
}

/* GPS neighbours among the satellites that are the positive of at least one training
 * query (the reference's np.sort(unique(df_ground.sat)) for VIGOR; every satellite for
 * CVUSA/CVACT), laid out as a table over all the split's satellites.  Coordinates: CVUSA the
 * ground's (lat, lon), CVACT the UTM x/y with --gps-metric euclidean, VIGOR the satellite's. */
static gboolean gps_table(Run *r, GError **error)
{
    r->table = s4g_mine_gps(r->train, r->o.sampler.neighbour_range, r->o.gps_metric, error);
    if (!r->table) return FALSE;
    return store_mining(r, "gps", 0, NULL, NULL, error);
}

/* Embeddings of n images for DSS and evaluation; data parallel, every process encodes a
 * slice and holds the one-process result bit for bit (s4g_encode_images_shared): the same
 * DSS table, the same metrics.  Progress is reported only without a group. */
static float *encode_shared(Run *r, char *const *paths, guint n, S4gSize size,
                            EncodeProgress *ep, GError **error)
{
    return s4g_encode_images_shared(r->net, paths, n, size, r->o.eval_batch, r->o.comm,
                                    on_encode, ep, error);
}

static gboolean dss_table(Run *r, guint epoch, GError **error)
{
    S4gSplit *t = r->train;
    int dim = r->net->cfg.dims[3];
    const S4gModelSpec *s = &r->o.spec;
    EncodeProgress ep = {r, "dss", epoch, 0, t->n_queries + t->n_refs};
    g_autofree float *q =
        encode_shared(r, t->query_paths, t->n_queries, s->ground, &ep, error);
    if (!q) return FALSE;
    g_autofree float *g = encode_shared(r, t->ref_paths, t->n_refs, s->satellite, &ep, error);
    if (!g) return FALSE;
    g_autofree guint32 *row_ground = NULL;
    S4gNeighbours *nb = s4g_mine_dss(r->ctx, t, q, g, dim, r->o.sampler.neighbour_range,
                                     &row_ground, error);
    if (!nb) return FALSE;
    s4g_neighbours_free(r->table);
    r->table = nb;
    /* the reference prints the train split's recall while mining */
    S4gRetrievalMetrics train_recall;
    if (!s4g_evaluate_embeddings(r->ctx, t, q, g, dim, &train_recall, error)) return FALSE;
    return store_mining(r, "dss", epoch, row_ground, &train_recall, error);
}

static gboolean save_last(Run *r, guint epoch, guint batch_in_epoch, GError **error)
{
    if (!writer(r)) return TRUE;
    g_autofree char *e = g_strdup_printf("%u", epoch), *b = g_strdup_printf("%u", batch_in_epoch),
                    *best = g_strdup_printf("%.17g", r->best_r1);
    const char *meta[] = {"epoch", e, "batch", b, "best_r1", best, NULL};
    s4g_err err = {0};
    if (s4g_trainer_save(r->trainer, r->last_path, meta, &err))
        return compute_fail(error, r->last_path, &err);
    test_kill_point(r, S4G_TEST_KILL_CHECKPOINT_WRITE);
    if (!s4g_store_run_set_checkpoint(r->store, r->run, r->last_rel, error)) return FALSE;
    S4gTrainEvent ev = {.kind = S4G_TRAIN_EVENT_CHECKPOINT, .epoch = epoch, .what = r->last_path};
    emit(r, &ev);
    return TRUE;
}

static gboolean evaluate(Run *r, guint epoch, GError **error)
{
    S4gRetrievalMetrics m;
    EncodeProgress ep = {r, "eval", epoch, 0, r->eval->n_queries + r->eval->n_refs};
    if (r->o.comm) {
        /* every process encodes a slice of the queries and holds a shard of the references
         * (s4g_evaluate_split_shared: the one-process metrics); rank 0 records them and keeps
         * the best weights */
        if (!s4g_evaluate_split_shared(r->net, &r->o.spec, r->eval, r->o.eval_batch, r->o.comm,
                                       NULL, NULL, &m, error))
            return FALSE;
        if (!writer(r)) return TRUE;
    } else if (!s4g_evaluate_split(r->net, &r->o.spec, r->eval, r->o.eval_batch, on_encode, &ep,
                                   &m, NULL, NULL, error))
        return FALSE;
    S4gEvaluationRow row = {.model = r->model,
                            .run = r->run,
                            .dataset = r->o.dataset,
                            .split = (char *)r->o.eval_split,
                            .epoch = epoch,
                            .r1 = m.r1,
                            .r5 = m.r5,
                            .r10 = m.r10,
                            .r1pct = m.r1pct,
                            .hit_rate = m.hit_rate,
                            .ap = m.ap,
                            .queries = (gint64)m.queries,
                            .refs = (gint64)m.refs};
    if (!s4g_store_evaluation_add(r->store, &row, error)) return FALSE;
    test_kill_point(r, S4G_TEST_KILL_EVAL);
    S4gTrainEvent ev = {.kind = S4G_TRAIN_EVENT_EVAL,
                        .epoch = epoch,
                        .metrics = m,
                        .chance_r1 = s4g_metrics_chance_r1(m.refs)};
    emit(r, &ev);
    if (m.r1 > r->best_r1 || r->best_r1 < 0) {
        r->best_r1 = m.r1;
        g_autofree char *e = g_strdup_printf("%u", epoch), *v = g_strdup_printf("%.4f", m.r1);
        const char *meta[] = {"epoch", e, "r1", v, NULL};
        s4g_err err = {0};
        if (s4g_convnext_save(r->net, r->best_path, meta, &err))
            return compute_fail(error, r->best_path, &err);
        if (!s4g_store_model_set_weights(r->store, r->model, r->best_rel, error)) return FALSE;
        S4gTrainEvent cev = {
            .kind = S4G_TRAIN_EVENT_CHECKPOINT, .epoch = epoch, .what = r->best_path};
        emit(r, &cev);
    }
    return TRUE;
}

/* The epoch's item order (pair indices into the train split). */
/* For CVUSA/CVACT-like splits (each satellite the positive of at most one query) the
 * identities are the queries: the neighbour table keyed by satellite becomes one keyed by
 * query (neighbours without a query dropped), so the exact §4.2 builder runs, including the
 * CVUSA quirk that never adds identity 0 as a neighbour.  NULL when the split is not 1:1. */
static S4gNeighbours *identity_table(Run *r, gboolean *one_to_one)
{
    S4gSplit *t = r->train;
    g_autofree gint32 *query_of = g_new(gint32, t->n_refs);
    for (guint i = 0; i < t->n_refs; i++)
        query_of[i] = -1;
    *one_to_one = TRUE;
    for (guint q = 0; q < t->n_queries; q++) {
        if (query_of[t->query_pos[q]] >= 0) *one_to_one = FALSE;
        query_of[t->query_pos[q]] = (gint32)q;
    }
    if (!*one_to_one || !r->table) return NULL;
    guint k = r->table->k;
    S4gNeighbours *nb = s4g_neighbours_new(t->n_queries, k);
    for (guint q = 0; q < t->n_queries; q++) {
        guint row = t->query_pos[q];
        for (guint j = 0; j < r->table->count[row]; j++) {
            gint32 n = query_of[r->table->ids[(gsize)row * k + j]];
            if (n >= 0) nb->ids[(gsize)q * k + nb->count[q]++] = n;
        }
    }
    return nb;
}

static GArray *epoch_order(Run *r, guint epoch, GError **error)
{
    g_autoptr(GRand) rng = g_rand_new_with_seed((guint32)(r->o.seed * 1000003u + epoch));
    S4gSamplerParams p = r->o.sampler;
    p.batch_size = r->o.batch_size;
    S4gSplit *t = r->train;
    if (r->university) {
        p.break_limit = 512;
        return s4g_sampler_epoch_classes(t->n_queries, t->query_pos, t->n_refs, &p, rng, error);
    }
    gboolean one_to_one = FALSE;
    g_autoptr(S4gNeighbours) idt = identity_table(r, &one_to_one);
    if (one_to_one) {
        /* --skip-neighbour names a dataset identity (CVUSA: 0); find its query */
        gint skip = -1;
        for (guint q = 0; q < t->n_queries && r->o.sampler.skip_neighbour >= 0; q++)
            if (t->query_label[q] == r->o.sampler.skip_neighbour) skip = (gint)q;
        p.skip_neighbour = skip;
        return s4g_sampler_epoch_identities(t->n_queries, idt, &p, rng, error);
    }
    return s4g_sampler_epoch_vigor(t->n_queries, t->query_pos, t->n_refs, r->table, &p, rng, error);
}

static void metrics_flush(Run *r, GArray *rows)
{
    if (rows->len == 0 || !writer(r)) {
        g_array_set_size(rows, 0);
        return;
    }
    g_autoptr(GError) e = NULL;
    if (!s4g_store_metrics_add(r->store, r->run, (S4gMetricRow *)rows->data, rows->len, &e))
        g_warning("run %" G_GINT64_FORMAT ": metrics not recorded: %s", r->run, e->message);
    g_array_set_size(rows, 0);
}

/* One epoch from batch `skip`; returns FALSE on error; *stopped when a stop was requested. */
static gboolean run_epoch(Run *r, guint epoch, guint skip, long steps_nominal, volatile gint *stop,
                          gboolean *stopped, guint *batch_done, GError **error)
{
    g_autoptr(GArray) order = epoch_order(r, epoch, error);
    if (!order) return FALSE;
    guint B = r->o.batch_size, nb = order->len / B;
    if (nb == 0) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "epoch %u: the batch builder formed no full batch of %u (fewer distinct "
                    "satellites/classes than the batch size?)",
                    epoch, B);
        return FALSE;
    }
    g_autofree const char **gp = g_new(const char *, MAX(order->len, 1));
    g_autofree const char **sp = g_new(const char *, MAX(order->len, 1));
    for (guint i = 0; i < order->len; i++) {
        guint32 q = g_array_index(order, guint32, i);
        gp[i] = r->train->query_paths[q];
        sp[i] = r->train->ref_paths[r->train->query_pos[q]];
    }
    const S4gModelSpec *s = &r->o.spec;
    S4gLoaderOptions lo = {.ground = s->ground,
                           .satellite = s->satellite,
                           .batch_size = (int)B,
                           .augment = r->o.augment,
                           .satellite_shift = r->o.satellite_shift,
                           .jpeg_order = r->o.jpeg_order,
                           .ground_fov = r->o.ground_fov,
                           .mode = r->university ? S4G_AUGMENT_UNIVERSITY : S4G_AUGMENT_PANORAMA,
                           .ground_is_panorama = !r->university && r->o.ground_fov <= 0 &&
                                                 s->ground.w >= 2 * s->ground.h,
                           .seed = r->o.seed * 7919u + epoch,
                           .threads = r->o.loader_threads};
    g_autoptr(S4gLoader) loader = s4g_loader_new(&lo, gp, sp, order->len);
    g_autoptr(GArray) rows = g_array_new(FALSE, FALSE, sizeof(S4gMetricRow));
    gint64 t0 = g_get_monotonic_time();
    long total = steps_nominal * (long)r->o.epochs;
    for (guint b = 0; b < nb; b++) {
        g_autoptr(S4gBatch) batch = s4g_loader_next(loader, error);
        if (!batch) {
            if (error && !*error)
                g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO,
                            "epoch %u: loader ended after %u of %u batches", epoch, b, nb);
            return FALSE;
        }
        if (b < skip) continue; /* resuming: replay the order and augmentations, skip the work */
        if (batch->n < 2) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO,
                        "epoch %u batch %u: only %u readable pairs", epoch, b, batch->n);
            return FALSE;
        }
        s4g_train_stats st;
        s4g_err err = {0};
        gint64 ts = g_get_monotonic_time();
        /* data parallel: every process decodes the whole batch (same order, same
         * augmentations) and trains on its share */
        int lo = 0, n = (int)batch->n;
        if (r->o.comm) s4g_comm_share((int)batch->n, r->o.comm->rank, r->o.comm->size, &lo, &n);
        if (s4g_trainer_step(r->trainer, n, s->ground.h, s->ground.w,
                             batch->ground + (gsize)lo * s->ground.h * s->ground.w * 3,
                             s->satellite.h, s->satellite.w,
                             batch->satellite + (gsize)lo * s->satellite.h * s->satellite.w * 3,
                             &st, &err))
            return compute_fail(error, "training step", &err);
        if (!isfinite(st.loss)) {
            /* nothing more is written: the last checkpoint on disk is the last good one */
            gboolean kept = g_file_test(r->last_path, G_FILE_TEST_IS_REGULAR);
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_COMPUTE,
                        "epoch %u step %ld: the loss is %s; training stopped (lower the "
                        "learning rate?); %s%s",
                        epoch, (long)st.step, isnan(st.loss) ? "NaN" : "infinite",
                        kept ? "kept the last good checkpoint " : "no checkpoint was written yet",
                        kept ? r->last_rel : "");
            return FALSE;
        }
        double dt = (g_get_monotonic_time() - ts) / 1e6;
        double elapsed = (g_get_monotonic_time() - t0) / 1e6;
        double per_step = elapsed / (b - skip + 1);
        S4gMetricRow row = {st.step,
                            (epoch - 1) + (double)(b + 1) / nb,
                            st.loss,
                            st.lr,
                            st.logit_scale,
                            2.0 * batch->n / fmax(dt, 1e-9),
                            (g_get_monotonic_time() - r->t_start) / 1e6};
        g_array_append_val(rows, row);
        if (rows->len >= 10) metrics_flush(r, rows);
        S4gTrainEvent ev = {.kind = S4G_TRAIN_EVENT_STEP,
                            .step = st.step,
                            .total_steps = total,
                            .epoch = epoch,
                            .epoch_progress = row.epoch,
                            .loss = st.loss,
                            .lr = st.lr,
                            .logit_scale = st.logit_scale,
                            .pairs_per_s = batch->n / fmax(dt, 1e-9),
                            .eta_s = per_step * (double)MAX(total - st.step, 0)};
        emit(r, &ev);
        test_kill_point(r, S4G_TEST_KILL_STEP);
        *batch_done = b + 1;
        if (stop_now(r, stop, error)) {
            if (error && *error) return FALSE;
            *stopped = TRUE;
            break;
        }
    }
    metrics_flush(r, rows);
    if (!*stopped) *batch_done = nb;
    return TRUE;
}

/* A new run: its run and model rows in one transaction, with the run's lock taken before
 * anyone can see it, so a killed process leaves either nothing or a run that resumes.  A
 * model name taken by an unfinished run says how to resume that run. */
static gboolean create_run(Run *r, const char *spec_json, GError **error)
{
    S4gStore *store = r->store;
    if (r->o.model_name) {
        g_autoptr(S4gModelRow) m = s4g_store_model_get(store, 0, r->o.model_name, NULL);
        g_autoptr(GPtrArray) runs = m ? s4g_store_run_list(store, NULL) : NULL;
        for (guint i = 0; runs && i < runs->len; i++) {
            const S4gRunRow *row = runs->pdata[i];
            if (row->model != m->id || row->state == S4G_RUN_DONE) continue;
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                        "model name “%s” belongs to run %" G_GINT64_FORMAT " (%s); continue it "
                        "with s4g train --resume %" G_GINT64_FORMAT " or choose another --model",
                        r->o.model_name, row->id, s4g_run_state_name(row->state), row->id);
            return FALSE;
        }
    }
    long steps = (long)((r->train->n_queries + r->o.batch_size - 1) / r->o.batch_size);
    g_autofree char *cfg = config_json(&r->o, &r->init, spec_json, steps);
    g_autofree char *w = NULL;
    if (!s4g_store_begin(store, error)) return FALSE;
    r->run = s4g_store_run_add(store, 0, r->o.dataset, cfg, error);
    if (!r->run || !(r->lock = s4g_run_lock_take(store, r->run, error))) goto fail;
    r->name = r->o.model_name ? g_strdup(r->o.model_name)
                              : g_strdup_printf("run-%" G_GINT64_FORMAT, r->run);
    w = g_strdup_printf("models/%s-best.safetensors", r->name);
    r->model = s4g_store_model_add(store, r->name, spec_json, w, 0, error);
    if (!r->model || !s4g_store_run_set_model(store, r->run, r->model, error) ||
        !s4g_store_commit(store, error))
        goto fail;
    return TRUE;
fail:
    s4g_store_rollback(store);
    g_clear_pointer(&r->lock, s4g_run_lock_release);
    g_clear_pointer(&r->name, g_free);
    r->run = r->model = 0;
    return FALSE;
}

static void run_clear(Run *r)
{
    s4g_run_lock_release(r->lock);
    s4g_neighbours_free(r->table);
    s4g_trainer_free(r->trainer);
    s4g_convnext_free(r->net);
    s4g_ctx_free(r->ctx);
    s4g_split_free(r->train);
    s4g_split_free(r->eval);
    g_free(r->name);
    g_free(r->last_path);
    g_free(r->best_path);
    g_free(r->last_rel);
    g_free(r->best_rel);
    init_weights_clear(&r->init);
}

static gboolean setup_model(Run *r, gboolean from_checkpoint, GError **error)
{
    s4g_ctx_opts co = {.backend = r->o.backend, .device = r->o.device, .threads = r->o.threads};
    s4g_err err = {0};
    r->ctx = s4g_ctx_new(&co, &err);
    if (!r->ctx) return compute_fail(error, "compute device", &err);
    int hs[4], ws[4];
    S4gSize gs = r->o.spec.ground, ss = r->o.spec.satellite;
    if (s4g_convnext_spatial(gs.h, gs.w, hs, ws, &err) ||
        s4g_convnext_spatial(ss.h, ss.w, hs, ws, &err))
        return compute_fail(error, "input size", &err);
    /* A shift of half the satellite view or more would move the place out of its own image. */
    int max_shift = (MIN(ss.h, ss.w) - 1) / 2;
    if (r->o.satellite_shift < 0 || r->o.satellite_shift > max_shift) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "--satellite-shift %d: must be 0..%d px for %d×%d satellite images",
                    r->o.satellite_shift, max_shift, ss.h, ss.w);
        return FALSE;
    }
    if (!(r->o.ground_fov >= 0 && r->o.ground_fov <= 360)) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "--ground-fov %g: must be a field of view in degrees, 0 < DEG ≤ 360 "
                    "(0: whole panoramas)",
                    r->o.ground_fov);
        return FALSE;
    }
    r->net = s4g_convnext_new(r->ctx, &r->o.spec.cfg, r->o.seed, &err);
    if (!r->net) return compute_fail(error, "model", &err);
    /* A resumed run's checkpoint replaces these weights later; a new run starts from them. */
    if (r->o.init_weights && !from_checkpoint &&
        s4g_convnext_load_report(r->net, r->o.init_weights, r->init_report,
                                 sizeof r->init_report, &err))
        return compute_fail(error, r->o.init_weights, &err);
    return TRUE;
}

gboolean s4g_train_count_pairs(S4gStore *store, gint64 dataset, const char *split,
                               gboolean exclude_flagged, guint *n_pairs, GError **error)
{
    S4gSplit *s = s4g_split_load(store, dataset, split, error);
    if (!s) return FALSE;
    guint excluded = 0;
    gboolean ok = s4g_split_apply_annotations(s, store, exclude_flagged, &excluded, error);
    if (ok) *n_pairs = s->n_queries;
    s4g_split_free(s);
    return ok;
}

gboolean s4g_train_run(S4gStore *store, const S4gTrainOptions *opts, volatile gint *stop,
                       S4gTrainCallback cb, gpointer user_data, gint64 *run_id, GError **error)
{
    Run r = {.store = store,
             .o = *opts,
             .cb = cb,
             .user = user_data,
             .best_r1 = -1,
             .t_start = g_get_monotonic_time()};
    g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_free);
    guint start_epoch = 1, skip = 0;
    gboolean ok = FALSE, stopped = FALSE, from_checkpoint = FALSE;
    g_autofree char *spec_json = NULL;

    if (opts->resume_run > 0) {
        /* the lock first: while we hold it no other process can resume or sweep this run */
        if (writer(&r) && !(r.lock = s4g_run_lock_take(store, opts->resume_run, error)))
            goto out_early;
        g_autoptr(S4gRunRow) run = s4g_store_run_get(store, opts->resume_run, error);
        if (!run) goto out_early;
        if (run->state != S4G_RUN_STOPPED && run->state != S4G_RUN_FAILED &&
            run->state != S4G_RUN_INTERRUPTED) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                        "run %" G_GINT64_FORMAT " is %s; only a stopped, failed or interrupted "
                        "run resumes",
                        run->id, s4g_run_state_name(run->state));
            goto out_early;
        }
        if (run->model <= 0) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                        "run %" G_GINT64_FORMAT " has no model (deleted?); start a new run",
                        run->id);
            goto out_early;
        }
        if (!options_from_config(&r.o, &r.init, run->config, keep, error)) goto out_early;
        g_autoptr(S4gModelRow) m = s4g_store_model_get(store, run->model, NULL, error);
        if (!m || !s4g_model_spec_from_json(m->architecture, &r.o.spec, error)) goto out_early;
        r.run = run->id;
        r.model = m->id;
        r.name = g_strdup(m->name);
        r.o.resume_run = run->id;
        /* The file is the truth, not the row: a process killed between renaming the
         * checkpoint into place and recording it left a complete file (written to a
         * temporary name, fsync'd, renamed).  No file: the run starts over. */
        g_autofree char *last = g_strdup_printf("models/%s-last.safetensors", r.name);
        g_autofree char *last_abs = g_build_filename(s4g_store_dir(store), last, NULL);
        from_checkpoint = g_file_test(last_abs, G_FILE_TEST_IS_REGULAR);
        /* starting over without --init: from the weights the run started from, unchanged */
        if (!from_checkpoint && !opts->init_weights && r.init.path) {
            if (!init_weights_check(&r.init, r.run, error)) goto out_early;
            r.o.init_weights = r.init.path;
        }
    } else if (opts->init_weights && !init_weights_take(&r.init, opts->init_weights, error)) {
        goto out_early;
    }
    if (run_id) *run_id = r.run;

    r.train = s4g_split_load(store, r.o.dataset, r.o.train_split, error);
    if (!r.train) goto out_early;
    guint n_excluded = 0;
    if (!s4g_split_apply_annotations(r.train, store, r.o.exclude_flagged, &n_excluded, error))
        goto out_early;
    r.eval = s4g_split_load(store, r.o.dataset, r.o.eval_split, error);
    if (!r.eval) goto out_early;
    r.university = !g_strcmp0(r.train->kind, "university");
    if (r.o.comm && r.o.batch_size % (guint)r.o.comm->size) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "the global batch of %u pairs does not divide over %d processes (%u = %d × %u "
                    "+ %u)",
                    r.o.batch_size, r.o.comm->size, r.o.batch_size, r.o.comm->size,
                    r.o.batch_size / (guint)r.o.comm->size, r.o.batch_size % (guint)r.o.comm->size);
        goto out_early;
    }
    if (r.o.batch_size < 2 || r.o.epochs < 1 || r.o.eval_every < 1) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "need batch size ≥ 2, epochs ≥ 1, eval every ≥ 1 (got %u, %u, %u)",
                    r.o.batch_size, r.o.epochs, r.o.eval_every);
        goto out_early;
    }
    if (r.train->n_queries < r.o.batch_size) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "split %s has %u pairs, fewer than one batch of %u", r.o.train_split,
                    r.train->n_queries, r.o.batch_size);
        goto out_early;
    }
    if (!setup_model(&r, from_checkpoint, error)) goto out_early;

    /* the run and model rows */
    spec_json = s4g_model_spec_to_json(&r.o.spec);
    if (!r.run && !writer(&r)) r.name = g_strdup_printf("rank-%d", r.o.comm->rank);
    if (!r.run && writer(&r) && !create_run(&r, spec_json, error)) goto out_early;
    if (run_id) *run_id = r.run;
    r.last_rel = g_strdup_printf("models/%s-last.safetensors", r.name);
    r.best_rel = g_strdup_printf("models/%s-best.safetensors", r.name);
    r.last_path = g_build_filename(s4g_store_dir(store), r.last_rel, NULL);
    r.best_path = g_build_filename(s4g_store_dir(store), r.best_rel, NULL);
    if (writer(&r) &&
        !s4g_store_run_set_state(store, r.run, S4G_RUN_RUNNING, getpid(), NULL, error))
        goto out_early;

    /* schedule: computed from ceil(N/B) like the reference, before any custom shuffle (so
     * the cosine ends marginally above 0).  W = steps × warm-up epochs stays a real number
     * as in the reference (U1652: 473.2), never rounded. */
    long steps_nominal = (long)((r.train->n_queries + r.o.batch_size - 1) / r.o.batch_size);
    double warmup_steps = (double)steps_nominal * r.o.warmup_epochs;
    s4g_train_cfg tc = s4g_train_cfg_default(warmup_steps, steps_nominal * (long)r.o.epochs);
    tc.lr = r.o.lr;
    tc.micro_batch = r.o.micro_batch;
    s4g_err err = {0};
    r.trainer = s4g_trainer_new(r.net, &tc, &err);
    if (!r.trainer) {
        compute_fail(error, "trainer", &err);
        goto out_fail;
    }
    s4g_trainer_set_comm(r.trainer, r.o.comm);
    if (writer(&r) && r.o.resume_run > 0 && !from_checkpoint) {
        /* starting over: whatever the killed attempt recorded goes */
        if (!s4g_store_run_set_checkpoint(store, r.run, NULL, error) ||
            !s4g_store_run_discard_after(store, r.run, 0, 0, error))
            goto out_fail;
    }
    if (from_checkpoint) {
        if (s4g_trainer_load(r.trainer, r.last_path, &err)) {
            compute_fail(error, "resuming", &err);
            goto out_fail;
        }
        s4g_st_file *f = s4g_st_open(r.last_path, &err);
        if (!f) {
            compute_fail(error, "resuming", &err);
            goto out_fail;
        }
        const char *e = s4g_st_meta(f, "epoch"), *b = s4g_st_meta(f, "batch"),
                   *best = s4g_st_meta(f, "best_r1");
        start_epoch = e ? (guint)atoi(e) : 1;
        skip = b ? (guint)atoi(b) : 0;
        r.best_r1 = best ? g_ascii_strtod(best, NULL) : -1;
        s4g_st_close(f);
        /* the row follows the file; rows written after it was taken are redone */
        if (writer(&r) &&
            (!s4g_store_run_set_checkpoint(store, r.run, r.last_rel, error) ||
             !s4g_store_run_discard_after(store, r.run, start_epoch,
                                          s4g_trainer_step_count(r.trainer), error)))
            goto out_fail;
    }
    /* every process starts from rank 0's weights, moments and step */
    if (s4g_trainer_broadcast(r.trainer, 0, &err)) {
        compute_fail(error, "data parallel start", &err);
        goto out_fail;
    }

    {
        S4gTrainEvent ev = {.kind = S4G_TRAIN_EVENT_START,
                            .total_steps = steps_nominal * r.o.epochs,
                            .warmup_steps = warmup_steps,
                            .device = s4g_ctx_describe(r.ctx),
                            .n_pairs = r.train->n_queries,
                            .n_refs = r.train->n_refs,
                            .n_excluded = n_excluded,
                            .what = r.init_report[0] ? r.init_report : NULL,
                            .epoch = start_epoch};
        emit(&r, &ev);
    }
    /* neighbour table for the epoch we start in: GPS in the first cycle, else DSS from the
     * current weights (the reference mines after each evaluation) */
    if (from_checkpoint && !r.university) {
        if (!table_from_store(&r, error) && error && *error) goto out_fail;
    } else if (!r.university && r.o.gps_sample && start_epoch <= r.o.eval_every) {
        if (!gps_table(&r, error)) goto out_fail;
    } else if (!r.university && r.o.dss_sample && start_epoch > r.o.eval_every) {
        if (!dss_table(&r, start_epoch - 1, error)) goto out_fail;
    }

    for (guint epoch = start_epoch; epoch <= r.o.epochs; epoch++) {
        guint done = 0;
        if (!run_epoch(&r, epoch, epoch == start_epoch ? skip : 0, steps_nominal, stop, &stopped,
                       &done, error))
            goto out_fail;
        if (stopped) {
            if (!save_last(&r, epoch, done, error)) goto out_fail;
            break;
        }
        if (epoch % r.o.eval_every == 0 || epoch == r.o.epochs) {
            if (!evaluate(&r, epoch, error)) goto out_fail;
            if (!r.university && r.o.dss_sample && epoch < r.o.epochs &&
                !dss_table(&r, epoch, error))
                goto out_fail;
        }
        if (!save_last(&r, epoch + 1, 0, error)) goto out_fail;
        if (epoch < r.o.epochs && stop_now(&r, stop, error)) {
            if (error && *error) goto out_fail;
            stopped = TRUE;
            break;
        }
    }
    if (writer(&r) && !s4g_store_run_set_state(store, r.run,
                                               stopped ? S4G_RUN_STOPPED : S4G_RUN_DONE, 0, NULL,
                                               error))
        goto out_fail;
    {
        S4gTrainEvent ev = {.kind = S4G_TRAIN_EVENT_END,
                            .what = stopped ? "stopped" : "done",
                            .step = s4g_trainer_step_count(r.trainer)};
        emit(&r, &ev);
    }
    ok = TRUE;
    goto out;
out_fail:
    if (r.run > 0 && writer(&r)) {
        g_autoptr(S4gRunRow) cur = s4g_store_run_get(store, r.run, NULL);
        if (cur && cur->state == S4G_RUN_QUEUED)
            s4g_store_run_set_state(store, r.run, S4G_RUN_RUNNING, getpid(), NULL, NULL);
        s4g_store_run_set_state(store, r.run, S4G_RUN_FAILED, 0,
                                error && *error ? (*error)->message : "failed", NULL);
    }
    goto out;
out_early:
out:
    run_clear(&r);
    return ok;
}
