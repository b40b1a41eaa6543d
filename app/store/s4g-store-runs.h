/* s4g-store-runs.h — typed access to what training, evaluation, mining and prediction
 * record in the project database (architecture.md §4.1): models, runs and their state
 * machine, per-step metrics, evaluations, cached embeddings, mining runs with their hard
 * negatives, and predictions.  Row sets that belong together (a mining run and all its
 * hard negatives, one image's predictions, a block of metrics rows) are written in one
 * transaction, so a killed process leaves all of them or none. */
#pragma once

#include "s4g-store.h"

G_BEGIN_DECLS

/* ------------------------------------------------------------------ models */

typedef struct {
    gint64 id;
    char *name;
    char *architecture; /* JSON */
    char *weights;      /* relative to the project folder */
    gint64 parent;      /* 0 = none */
    char *created;
} S4gModelRow;

void s4g_model_row_free(S4gModelRow *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(S4gModelRow, s4g_model_row_free)

/* Inserts a model (name unique); returns its id or 0 on error. */
gint64 s4g_store_model_add(S4gStore *store, const char *name, const char *architecture,
                           const char *weights, gint64 parent, GError **error);
/* Changes the weights file of a model (e.g. the best checkpoint so far). */
gboolean s4g_store_model_set_weights(S4gStore *store, gint64 id, const char *weights,
                                     GError **error);
/* By id (name NULL) or by name (id 0).  NOT_FOUND when absent. */
S4gModelRow *s4g_store_model_get(S4gStore *store, gint64 id, const char *name, GError **error);
/* All models, oldest first (GPtrArray of S4gModelRow). */
GPtrArray *s4g_store_model_list(S4gStore *store, GError **error);

/* ------------------------------------------------------------------ runs */

typedef enum {
    S4G_RUN_QUEUED,
    S4G_RUN_RUNNING,
    S4G_RUN_STOPPED,
    S4G_RUN_FAILED,
    S4G_RUN_DONE,
} S4gRunState;

const char *s4g_run_state_name(S4gRunState s);
gboolean s4g_run_state_parse(const char *name, S4gRunState *out);
/* Allowed: queued→running|failed, running→stopped|failed|done, stopped|failed→running
 * (resume).  Anything else (e.g. done→running) is refused. */
gboolean s4g_run_state_transition_ok(S4gRunState from, S4gRunState to);

typedef struct {
    gint64 id, model, dataset;
    char *config; /* JSON */
    S4gRunState state;
    char *checkpoint;
    gint64 pid;
    char *started, *finished, *message;
} S4gRunRow;

void s4g_run_row_free(S4gRunRow *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(S4gRunRow, s4g_run_row_free)

/* A queued run; model/dataset 0 = none.  Returns its id or 0. */
gint64 s4g_store_run_add(S4gStore *store, gint64 model, gint64 dataset, const char *config,
                         GError **error);
S4gRunRow *s4g_store_run_get(S4gStore *store, gint64 id, GError **error);
/* All runs, newest first. */
GPtrArray *s4g_store_run_list(S4gStore *store, GError **error);
/* Moves a run to `to` if the transition is allowed (checked inside the transaction);
 * running sets started (first time) and pid; stopped/failed/done set finished.  message may
 * be NULL. */
gboolean s4g_store_run_set_state(S4gStore *store, gint64 id, S4gRunState to, gint64 pid,
                                 const char *message, GError **error);
gboolean s4g_store_run_set_checkpoint(S4gStore *store, gint64 id, const char *checkpoint,
                                      GError **error);
gboolean s4g_store_run_set_model(S4gStore *store, gint64 id, gint64 model, GError **error);

/* ------------------------------------------------------------------ metrics */

typedef struct {
    gint64 step;
    double epoch, loss, lr, logit_scale, images_per_s, wall;
} S4gMetricRow;

/* Inserts (or replaces, on resume) n rows of one run in one transaction. */
gboolean s4g_store_metrics_add(S4gStore *store, gint64 run, const S4gMetricRow *rows, gsize n,
                               GError **error);
/* All rows of a run with step > after_step, by step (GArray of S4gMetricRow). */
GArray *s4g_store_metrics_list(S4gStore *store, gint64 run, gint64 after_step, GError **error);

/* ------------------------------------------------------------------ evaluations */

typedef struct {
    gint64 id, model, run, dataset;
    char *split;
    gint64 epoch;                            /* -1 = none */
    double r1, r5, r10, r1pct, hit_rate, ap; /* NaN = not applicable (stored NULL) */
    gint64 queries, refs;
    char *created;
} S4gEvaluationRow;

void s4g_evaluation_row_free(S4gEvaluationRow *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(S4gEvaluationRow, s4g_evaluation_row_free)

/* Inserts e (its id and created are ignored); returns the new id or 0. */
gint64 s4g_store_evaluation_add(S4gStore *store, const S4gEvaluationRow *e, GError **error);
/* Evaluations of a model (model 0 = all), newest first. */
GPtrArray *s4g_store_evaluation_list(S4gStore *store, gint64 model, GError **error);

/* ------------------------------------------------------------------ embeddings */

typedef enum { S4G_EMB_F32, S4G_EMB_F16 } S4gEmbDtype;

/* Stores n embeddings of one model (images[i] ↔ vecs[i*dim..]) in one transaction,
 * replacing earlier ones; f16 halves the size (round to nearest even). */
gboolean s4g_store_embeddings_put(S4gStore *store, gint64 model, gsize n, const gint64 *images,
                                  int dim, const float *vecs, S4gEmbDtype dtype,
                                  gboolean normalized, GError **error);
/* One embedding as float32 (converted from f16 if stored so); *dim gets its length.
 * NOT_FOUND when absent. */
float *s4g_store_embedding_get(S4gStore *store, gint64 model, gint64 image, int *dim,
                               GError **error);

/* ------------------------------------------------------------------ mining */

/* A mining run and all its hard negatives in one transaction.  kind "gps" or "dss";
 * anchors[a] (image ids) has counts[a] negatives negatives[a*k + r] (image ids) with
 * scores[a*k + r] (similarity for dss, metres for gps).  model/run 0 = none.  Returns the
 * mining run id or 0. */
gint64 s4g_store_mining_add(S4gStore *store, const char *kind, gint64 model, gint64 run,
                            gint64 dataset, gint64 epoch, const char *parameters, gsize n_anchors,
                            const gint64 *anchors, guint k, const guint *counts,
                            const gint64 *negatives, const float *scores, GError **error);
/* Number of hard negatives of a mining run (-1 on error). */
gint64 s4g_store_mining_count(S4gStore *store, gint64 mining_run, GError **error);

/* ------------------------------------------------------------------ predictions */

typedef struct {
    gint64 reference; /* image id of the gallery item */
    double score, lat, lon;
} S4gPredictionRow;

/* Replaces the predictions of (model, image, gallery) by rows[0..n) (rank = position), in
 * one transaction. */
gboolean s4g_store_predictions_put(S4gStore *store, gint64 model, gint64 image, const char *gallery,
                                   const S4gPredictionRow *rows, gsize n, GError **error);
/* By rank (GArray of S4gPredictionRow). */
GArray *s4g_store_predictions_get(S4gStore *store, gint64 model, gint64 image, const char *gallery,
                                  GError **error);

G_END_DECLS
