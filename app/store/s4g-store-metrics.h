/* s4g-store-metrics.h — typed access to the metrics table: per-step training metrics of a run. */
#pragma once

#include "s4g-store.h"

G_BEGIN_DECLS

typedef struct {
    gint64 step;
    double epoch, loss, lr, logit_scale, images_per_s, wall;
} S4gMetricRow;

/* Inserts (or replaces, on resume) n rows of one run in one transaction. */
gboolean s4g_store_metrics_add(S4gStore *store, gint64 run, const S4gMetricRow *rows, gsize n,
                               GError **error);
/* All rows of a run with step > after_step, by step (GArray of S4gMetricRow). */
GArray *s4g_store_metrics_list(S4gStore *store, gint64 run, gint64 after_step, GError **error);

G_END_DECLS
