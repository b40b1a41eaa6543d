/* s4g-store-evaluations.h — typed access to the evaluations table: recall/AP of a model on a
 * dataset split. */
#pragma once

#include "s4g-store.h"

G_BEGIN_DECLS

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
/* The evaluations of a run that measured R@1, by epoch (a training curve's points). */
GPtrArray *s4g_store_evaluation_list_run(S4gStore *store, gint64 run, GError **error);

G_END_DECLS
