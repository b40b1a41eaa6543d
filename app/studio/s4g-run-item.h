/* s4g-run-item.h — one past training run as the training window lists it (id, dataset, model
 * and preset, state, start time, best R@1, stored steps), and the query that reads them all
 * from the project database in one statement. */
#pragma once

#include <glib-object.h>
#include <gio/gio.h>

#include "s4g-store-runs.h"

G_BEGIN_DECLS

typedef struct {
    gint64 id;
    char *dataset;  /* "" when the dataset was deleted */
    char *model;    /* model name, "" when none */
    char *preset;   /* ConvNeXt preset from the architecture JSON, "" when unknown */
    S4gRunState state;
    char *started;  /* ISO 8601 UTC as stored, NULL before the run started */
    char *checkpoint;
    char *message;  /* why it failed, NULL otherwise */
    double best_r1; /* in %, NaN before the first evaluation */
    guint n_metrics;
    guint n_evals;
} S4gRunInfo;

#define S4G_TYPE_RUN_ITEM (s4g_run_item_get_type())
G_DECLARE_FINAL_TYPE(S4gRunItem, s4g_run_item, S4G, RUN_ITEM, GObject)

const S4gRunInfo *s4g_run_item_get_info(S4gRunItem *self);
/* Resumable: stopped, or failed with a checkpoint left (s4g train --resume needs one). */
gboolean s4g_run_info_can_resume(const S4gRunInfo *info);
/* The state as shown (translated). */
const char *s4g_run_info_state_label(const S4gRunInfo *info);
/* Start time in local time, "YYYY-MM-DD HH:MM", or "—". */
char *s4g_run_info_started_label(const S4gRunInfo *info);
/* Replaces the contents of `into` by the project's runs, newest first. */
gboolean s4g_run_items_load(S4gStore *store, GListStore *into, GError **error);

G_END_DECLS
