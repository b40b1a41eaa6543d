/* s4g-run-item.c — past training runs for the training window (see the header). */
#include "s4g-run-item.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <math.h>

struct _S4gRunItem {
    GObject parent_instance;
    S4gRunInfo info;
};

G_DEFINE_FINAL_TYPE(S4gRunItem, s4g_run_item, G_TYPE_OBJECT)

static void finalize(GObject *o)
{
    S4gRunInfo *i = &S4G_RUN_ITEM(o)->info;
    g_free(i->dataset);
    g_free(i->model);
    g_free(i->preset);
    g_free(i->started);
    g_free(i->checkpoint);
    g_free(i->message);
    G_OBJECT_CLASS(s4g_run_item_parent_class)->finalize(o);
}

static void s4g_run_item_class_init(S4gRunItemClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = finalize;
}

static void s4g_run_item_init(S4gRunItem *self)
{
    self->info.best_r1 = NAN;
}

const S4gRunInfo *s4g_run_item_get_info(S4gRunItem *self)
{
    g_return_val_if_fail(S4G_IS_RUN_ITEM(self), NULL);
    return &self->info;
}

gboolean s4g_run_info_can_resume(const S4gRunInfo *info)
{
    return info->state == S4G_RUN_STOPPED || info->state == S4G_RUN_INTERRUPTED ||
           (info->state == S4G_RUN_FAILED && info->checkpoint && *info->checkpoint);
}

const char *s4g_run_info_state_label(const S4gRunInfo *info)
{
    switch (info->state) {
    case S4G_RUN_QUEUED:
        return _("queued");
    case S4G_RUN_RUNNING:
        return _("running");
    case S4G_RUN_STOPPED:
        return _("stopped");
    case S4G_RUN_FAILED:
        return _("failed");
    case S4G_RUN_DONE:
        return _("done");
    case S4G_RUN_INTERRUPTED:
        /* TRANSLATORS: a training run whose process ended without finishing (crash, kill) */
        return _("interrupted");
    }
    return "?";
}

char *s4g_run_info_started_label(const S4gRunInfo *info)
{
    if (!info->started) return g_strdup("—");
    g_autoptr(GDateTime) utc = g_date_time_new_from_iso8601(info->started, NULL);
    if (!utc) return g_strdup(info->started); /* shown as stored rather than hidden */
    g_autoptr(GDateTime) local = g_date_time_to_local(utc);
    return g_date_time_format(local, "%Y-%m-%d %H:%M");
}

/* The architecture JSON (models.architecture) names its preset; older rows may not. */
static char *preset_of(const char *architecture)
{
    if (!architecture) return g_strdup("");
    g_autoptr(JsonParser) parser = json_parser_new();
    if (!json_parser_load_from_data(parser, architecture, -1, NULL)) return g_strdup("");
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) return g_strdup("");
    return g_strdup(
        json_object_get_string_member_with_default(json_node_get_object(root), "preset", ""));
}

gboolean s4g_run_items_load(S4gStore *store, GListStore *into, GError **error)
{
    g_autoptr(GArray) runs = s4g_store_run_summaries(store, error);
    if (!runs) return FALSE;
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_object_unref);
    for (guint r = 0; r < runs->len; r++) {
        S4gRunSummary *s = &g_array_index(runs, S4gRunSummary, r);
        S4gRunItem *item = g_object_new(S4G_TYPE_RUN_ITEM, NULL);
        S4gRunInfo *i = &item->info;
        g_ptr_array_add(items, item);
        i->id = s->id;
        i->dataset = g_steal_pointer(&s->dataset);
        i->model = g_steal_pointer(&s->model);
        i->preset = preset_of(s->architecture);
        i->state = s->state;
        i->started = g_steal_pointer(&s->started);
        i->checkpoint = g_steal_pointer(&s->checkpoint);
        i->message = g_steal_pointer(&s->message);
        i->best_r1 = s->best_r1;
        i->n_metrics = s->n_metrics;
        i->n_evals = s->n_evals;
    }
    g_list_store_splice(into, 0, g_list_model_get_n_items(G_LIST_MODEL(into)), items->pdata,
                        items->len);
    return TRUE;
}
