/* s4g-store-runs.h — typed access to the runs table: training runs and their state machine
 * (architecture.md §4.1).  It also includes the headers of the families a run produces —
 * models, metrics, evaluations, embeddings, mining, predictions — each typed in its own
 * file, so code that records a run's results includes this one header.  Row sets that belong
 * together (a mining run and all its hard negatives, one image's predictions, a block of
 * metrics rows) are written in one transaction, so a killed process leaves all or none. */
#pragma once

#include "s4g-store.h"
#include "s4g-store-embeddings.h"
#include "s4g-store-evaluations.h"
#include "s4g-store-metrics.h"
#include "s4g-store-mining.h"
#include "s4g-store-models.h"
#include "s4g-store-predictions.h"

G_BEGIN_DECLS

typedef enum {
    S4G_RUN_QUEUED,
    S4G_RUN_RUNNING,
    S4G_RUN_STOPPED,
    S4G_RUN_FAILED,
    S4G_RUN_DONE,
    S4G_RUN_INTERRUPTED, /* its process ended without finishing (s4g-store-locks.h) */
} S4gRunState;

const char *s4g_run_state_name(S4gRunState s);
gboolean s4g_run_state_parse(const char *name, S4gRunState *out);
/* Allowed: queued→running|failed, running→stopped|failed|done,
 * stopped|failed|interrupted→running (resume); queued|running→interrupted only through
 * s4g_store_run_interrupt.  Anything else (e.g. done→running) is refused. */
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
/* Marks a queued or running run interrupted (the opener's sweep holds its free lock);
 * *changed (may be NULL) says whether it was. */
gboolean s4g_store_run_interrupt(S4gStore *store, gint64 id, const char *message,
                                 gboolean *changed, GError **error);
/* Resuming from a checkpoint taken at the start of `epoch` after `step` optimiser steps:
 * the run's metrics after `step` and its evaluations and mining runs of `epoch` and later
 * are deleted in one transaction, so the resumed epochs write them once. */
gboolean s4g_store_run_discard_after(S4gStore *store, gint64 id, guint epoch, gint64 step,
                                     GError **error);
gboolean s4g_store_run_set_model(S4gStore *store, gint64 id, gint64 model, GError **error);

/* A run with what the run list shows of it: its dataset's and model's names ("" when
 * gone), the model's architecture (JSON, "" when gone), its best R@1 (NAN when never
 * evaluated) and how many metrics rows and evaluations it has. */
typedef struct {
    gint64 id;
    char *dataset, *model, *architecture;
    S4gRunState state;
    char *started, *checkpoint, *message; /* NULL when unset */
    double best_r1;
    guint n_metrics, n_evals;
} S4gRunSummary;
void s4g_run_summary_clear(S4gRunSummary *s);
/* All runs, newest first (GArray of S4gRunSummary with clear func).  A state the schema
 * does not know (a corrupt database) is an INVALID error naming the run. */
GArray *s4g_store_run_summaries(S4gStore *store, GError **error);

G_END_DECLS
