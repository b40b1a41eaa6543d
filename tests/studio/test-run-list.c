/* test-run-list.c — the training window's past-runs query (s4g_run_items_load) on a store
 * written through the typed store API: runs in every state, metrics and evaluations, a
 * deleted dataset; which runs Resume accepts; a corrupt state is an error naming the run. */
#include "s4g-config.h"
#include "s4g-store-private.h"

#include "s4g-run-item.h"
#include "s4g-store-runs.h"

#include <glib/gstdio.h>
#include <math.h>

static gint64 add_run(S4gStore *store, gint64 model, gint64 dataset, S4gRunState to,
                      const char *checkpoint, const char *message)
{
    g_autoptr(GError) error = NULL;
    gint64 run = s4g_store_run_add(store, model, dataset, "{}", &error);
    g_assert_no_error(error);
    if (to != S4G_RUN_QUEUED) {
        g_assert_true(s4g_store_run_set_state(store, run, S4G_RUN_RUNNING, 4242, NULL, &error));
        if (to != S4G_RUN_RUNNING)
            g_assert_true(s4g_store_run_set_state(store, run, to, 0, message, &error));
    }
    if (checkpoint) g_assert_true(s4g_store_run_set_checkpoint(store, run, checkpoint, &error));
    g_assert_no_error(error);
    return run;
}

static void add_eval(S4gStore *store, gint64 model, gint64 run, gint64 epoch, double r1)
{
    g_autoptr(GError) error = NULL;
    S4gEvaluationRow e = {.model = model, .run = run, .dataset = 1, .split = "val",
                          .epoch = epoch, .r1 = r1, .r5 = r1 + 10, .r10 = r1 + 20,
                          .r1pct = NAN, .hit_rate = NAN, .ap = NAN, .queries = 7, .refs = 7};
    g_assert_cmpint(s4g_store_evaluation_add(store, &e, &error), >, 0);
    g_assert_no_error(error);
}

static void test_load(void)
{
    g_autofree char *dir = g_dir_make_tmp("s4g-run-list-XXXXXX", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gStore) store = s4g_store_open(dir, TRUE, &error);
    g_assert_no_error(error);
    g_assert_true(s4g_store_exec(store,
                                 "INSERT INTO datasets (id, name, kind, root) VALUES "
                                 "(1, 'cvusa-mini', 'cvusa', '/x'), (2, 'gone', 'cvusa', '/y')",
                                 &error));
    g_assert_no_error(error);
    gint64 m1 = s4g_store_model_add(store, "alpha",
                                    "{\"preset\":\"atto\",\"depths\":[2,2,6,2],\"dims\":[40,80,"
                                    "160,320],\"ground\":[128,32],\"satellite\":[64,64]}",
                                    "models/alpha-best.safetensors", 0, &error);
    gint64 m2 = s4g_store_model_add(store, "beta", "not json", "models/b.safetensors", 0, &error);
    g_assert_no_error(error);

    gint64 stopped = add_run(store, m1, 1, S4G_RUN_STOPPED, "models/alpha-last.safetensors", NULL);
    gint64 failed_ck =
        add_run(store, m2, 1, S4G_RUN_FAILED, "models/b-last.safetensors", "out of memory");
    gint64 failed_no = add_run(store, m2, 2, S4G_RUN_FAILED, NULL, "split val has 0 pairs");
    gint64 done = add_run(store, m1, 1, S4G_RUN_DONE, "models/alpha-last.safetensors", NULL);
    gint64 running = add_run(store, m1, 1, S4G_RUN_RUNNING, NULL, NULL);
    gint64 queued = add_run(store, 0, 0, S4G_RUN_QUEUED, NULL, NULL);
    /* 17 steps on the stopped run, 3 on the done one; evaluations 12.5 then 31.25 */
    S4gMetricRow rows[17];
    for (int i = 0; i < 17; i++)
        rows[i] = (S4gMetricRow){i + 1, (i + 1) / 8.0, 4.0 - 0.1 * i, 1e-4, 14, 20, i};
    g_assert_true(s4g_store_metrics_add(store, stopped, rows, 17, &error));
    g_assert_true(s4g_store_metrics_add(store, done, rows, 3, &error));
    g_assert_no_error(error);
    add_eval(store, m1, stopped, 1, 12.5);
    add_eval(store, m1, stopped, 2, 31.25);
    g_assert_true(s4g_store_exec(store, "DELETE FROM datasets WHERE id = 2", &error));
    g_assert_no_error(error);

    g_autoptr(GListStore) list = g_list_store_new(S4G_TYPE_RUN_ITEM);
    g_assert_true(s4g_run_items_load(store, list, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(list)), ==, 6);
    const gint64 order[] = {queued, running, done, failed_no, failed_ck, stopped}; /* newest first */
    const gboolean resumable[] = {FALSE, FALSE, FALSE, FALSE, TRUE, TRUE};
    for (guint i = 0; i < 6; i++) {
        g_autoptr(S4gRunItem) it = g_list_model_get_item(G_LIST_MODEL(list), i);
        const S4gRunInfo *info = s4g_run_item_get_info(it);
        g_assert_cmpint(info->id, ==, order[i]);
        g_assert_cmpint(s4g_run_info_can_resume(info), ==, resumable[i]);
    }
    g_autoptr(S4gRunItem) s = g_list_model_get_item(G_LIST_MODEL(list), 5);
    const S4gRunInfo *si = s4g_run_item_get_info(s);
    g_assert_cmpint(si->state, ==, S4G_RUN_STOPPED);
    g_assert_cmpstr(si->dataset, ==, "cvusa-mini");
    g_assert_cmpstr(si->model, ==, "alpha");
    g_assert_cmpstr(si->preset, ==, "atto");
    g_assert_cmpuint(si->n_metrics, ==, 17);
    g_assert_cmpuint(si->n_evals, ==, 2);
    g_assert_cmpfloat(si->best_r1, ==, 31.25);
    g_assert_nonnull(si->started);
    g_autofree char *started = s4g_run_info_started_label(si);
    g_assert_cmpuint(strlen(started), ==, 16); /* YYYY-MM-DD HH:MM */
    g_assert_cmpstr(s4g_run_info_state_label(si), ==, "stopped");

    g_autoptr(S4gRunItem) f = g_list_model_get_item(G_LIST_MODEL(list), 3);
    const S4gRunInfo *fi = s4g_run_item_get_info(f);
    g_assert_cmpstr(fi->dataset, ==, ""); /* its dataset was deleted */
    g_assert_cmpstr(fi->preset, ==, "");  /* architecture not JSON: no preset, no failure */
    g_assert_cmpstr(fi->message, ==, "split val has 0 pairs");
    g_assert_true(isnan(fi->best_r1));
    g_autoptr(S4gRunItem) q = g_list_model_get_item(G_LIST_MODEL(list), 0);
    const S4gRunInfo *qi = s4g_run_item_get_info(q);
    g_assert_cmpstr(qi->model, ==, "");
    g_assert_null(qi->started);
    g_autofree char *never = s4g_run_info_started_label(qi);
    g_assert_cmpstr(never, ==, "—");
    g_autoptr(S4gRunItem) d = g_list_model_get_item(G_LIST_MODEL(list), 2);
    g_assert_cmpuint(s4g_run_item_get_info(d)->n_metrics, ==, 3);

    /* reloading replaces the items (no duplicates) */
    g_assert_true(s4g_run_items_load(store, list, &error));
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(list)), ==, 6);

    /* a state the schema's CHECK would refuse cannot appear; a corrupt database can: the
     * error names the run */
    g_assert_true(s4g_store_exec(store, "PRAGMA ignore_check_constraints = 1; "
                                        "UPDATE runs SET state = 'paused' WHERE id = 1",
                                 &error));
    g_assert_no_error(error);
    g_assert_false(s4g_run_items_load(store, list, &error));
    g_assert_nonnull(strstr(error->message, "run 1"));
    g_assert_nonnull(strstr(error->message, "paused"));
    g_assert_cmpuint(g_list_model_get_n_items(G_LIST_MODEL(list)), ==, 6); /* kept */
    g_clear_error(&error);
    s4g_store_close(g_steal_pointer(&store));
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", dir);
    g_spawn_command_line_sync(rm, NULL, NULL, NULL, NULL);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/studio/runs/load", test_load);
    return g_test_run();
}
