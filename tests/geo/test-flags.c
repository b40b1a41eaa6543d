/* test-flags.c — Studio annotations reaching training: open bad-pair / wrong-location flags
 * remove exactly those pairs from the train split (and so from every batch of an epoch and
 * from the GPS table), resolved flags do not, --include-flagged keeps them, and a corrected
 * location moves that identity in the GPS neighbour table. */
#include "s4g-dataset.h"
#include "s4g-mine.h"
#include "s4g-sampler.h"
#include "s4g-split.h"
#include "s4g-store-annotations.h"
#include "s4g-synth.h"
#include "s4g-train.h"
#include "s4g-store-runs.h"
#include "train-fixture.h"

#include <string.h>

#include <math.h>
#include <json-glib/json-glib.h>

/* CVUSA, 33 places at a quarter scale, seed 7 */
static S4gStore *world(char **tmp_out, gint64 *dsid)
{
    return tf_world(S4G_SYNTH_CVUSA, S4G_DATASET_CVUSA, 7, 33, 0.25, "w", tmp_out, dsid);
}

static gboolean contains(const S4gSplit *s, gint64 id)
{
    for (guint i = 0; i < s->n_queries; i++)
        if (s->query_ids[i] == id) return TRUE;
    return FALSE;
}

/* The trainer's CVUSA identity table: satellite-keyed GPS rows re-keyed by query. */
static S4gNeighbours *identity_table(const S4gSplit *t, const S4gNeighbours *gps)
{
    g_autofree gint32 *query_of = g_new(gint32, t->n_refs);
    for (guint i = 0; i < t->n_refs; i++)
        query_of[i] = -1;
    for (guint q = 0; q < t->n_queries; q++)
        query_of[t->query_pos[q]] = (gint32)q;
    S4gNeighbours *nb = s4g_neighbours_new(t->n_queries, gps->k);
    for (guint q = 0; q < t->n_queries; q++) {
        guint row = t->query_pos[q];
        for (guint j = 0; j < gps->count[row]; j++) {
            gint32 n = query_of[gps->ids[(gsize)row * gps->k + j]];
            if (n >= 0) nb->ids[(gsize)q * gps->k + nb->count[q]++] = n;
        }
    }
    return nb;
}

static void test_flags(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *tmp = NULL;
    gint64 dsid = 0;
    g_autoptr(S4gStore) store = world(&tmp, &dsid);

    g_autoptr(S4gSplit) all = s4g_split_load(store, dsid, "train", &error);
    g_assert_no_error(error);
    guint n = all->n_queries;
    g_assert_cmpuint(n, >=, 12);

    /* k = 3 open flags (two kinds), one resolved flag, one 'ok' review */
    gint64 flagged[3] = {all->query_ids[1], all->query_ids[4], all->query_ids[n - 1]};
    g_assert_cmpint(s4g_store_annotation_add(store, flagged[0], S4G_ANNOTATION_BAD_PAIR, FALSE, 0,
                                             0, "misaligned", &error), >, 0);
    g_assert_cmpint(s4g_store_annotation_add(store, flagged[1], S4G_ANNOTATION_WRONG_LOCATION,
                                             FALSE, 0, 0, NULL, &error), >, 0);
    g_assert_cmpint(s4g_store_annotation_add(store, flagged[2], S4G_ANNOTATION_BAD_PAIR, FALSE, 0,
                                             0, NULL, &error), >, 0);
    gint64 resolved_img = all->query_ids[2];
    gint64 res = s4g_store_annotation_add(store, resolved_img, S4G_ANNOTATION_BAD_PAIR, FALSE, 0,
                                          0, "fixed", &error);
    g_assert_cmpint(res, >, 0);
    g_assert_true(s4g_store_annotation_set_open(store, res, FALSE, &error));
    g_assert_cmpint(s4g_store_annotation_add(store, all->query_ids[3], S4G_ANNOTATION_OK, FALSE,
                                             0, 0, NULL, &error), >, 0);
    g_assert_no_error(error);

    /* --exclude-flagged */
    g_autoptr(S4gSplit) t = s4g_split_load(store, dsid, "train", &error);
    guint excluded = 99;
    g_assert_true(s4g_split_apply_annotations(t, store, TRUE, &excluded, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(excluded, ==, 3);
    g_assert_cmpuint(t->n_queries, ==, n - 3);
    for (guint i = 0; i < 3; i++)
        g_assert_false(contains(t, flagged[i]));
    g_assert_true(contains(t, resolved_img));
    g_assert_true(contains(t, all->query_ids[3]));
    /* the survivors keep their own positives and paths, in order */
    for (guint i = 0, j = 0; i < n; i++) {
        if (all->query_ids[i] == flagged[0] || all->query_ids[i] == flagged[1] ||
            all->query_ids[i] == flagged[2])
            continue;
        g_assert_cmpint(t->query_ids[j], ==, all->query_ids[i]);
        g_assert_cmpuint(t->query_pos[j], ==, all->query_pos[i]);
        g_assert_cmpstr(t->query_paths[j], ==, all->query_paths[i]);
        j++;
    }

    /* the GPS table holds no flagged identity; no batch of an epoch holds a flagged pair */
    g_autoptr(S4gNeighbours) gps = s4g_mine_gps(t, 8, S4G_GPS_HAVERSINE, &error);
    g_assert_no_error(error);
    for (guint i = 0; i < 3; i++) {
        guint sat = all->query_pos[i == 0 ? 1 : i == 1 ? 4 : n - 1];
        g_assert_cmpuint(gps->count[sat], ==, 0);
        for (guint r = 0; r < t->n_refs; r++)
            for (guint j = 0; j < gps->count[r]; j++)
                g_assert_cmpint(gps->ids[(gsize)r * gps->k + j], !=, (gint32)sat);
    }
    g_autoptr(S4gNeighbours) idt = identity_table(t, gps);
    S4gSamplerParams p = s4g_sampler_params_default();
    p.batch_size = 4;
    p.neighbour_select = 4;
    p.neighbour_range = 8;
    p.skip_neighbour = -1;
    g_autoptr(GRand) rng = g_rand_new_with_seed(11);
    g_autoptr(GArray) order = s4g_sampler_epoch_identities(t->n_queries, idt, &p, rng, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(order->len, >=, 4);
    for (guint i = 0; i < order->len; i++) {
        guint32 q = g_array_index(order, guint32, i);
        g_assert_cmpuint(q, <, t->n_queries);
        for (guint f = 0; f < 3; f++)
            g_assert_cmpint(t->query_ids[q], !=, flagged[f]);
    }

    /* --include-flagged keeps all */
    g_autoptr(S4gSplit) inc = s4g_split_load(store, dsid, "train", &error);
    g_assert_true(s4g_split_apply_annotations(inc, store, FALSE, &excluded, &error));
    g_assert_cmpuint(excluded, ==, 0);
    g_assert_cmpuint(inc->n_queries, ==, n);
}

static void test_corrected_location(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *tmp = NULL;
    gint64 dsid = 0;
    g_autoptr(S4gStore) store = world(&tmp, &dsid);
    g_autoptr(S4gSplit) t0 = s4g_split_load(store, dsid, "train", &error);
    g_assert_no_error(error);
    g_autoptr(S4gNeighbours) g0 = s4g_mine_gps(t0, 4, S4G_GPS_HAVERSINE, &error);
    g_assert_no_error(error);
    /* find a query b whose nearest neighbour is not a; move a onto b (plus 1 m) */
    guint a = 0, b = 0;
    gboolean found = FALSE;
    for (guint q = 1; q < t0->n_queries && !found; q++) {
        guint row = t0->query_pos[q];
        gboolean a_near = FALSE;
        for (guint j = 0; j < g0->count[row]; j++)
            if (g0->ids[(gsize)row * g0->k + j] == (gint32)t0->query_pos[0]) a_near = TRUE;
        if (!a_near) b = q, found = TRUE;
    }
    g_assert_true(found);
    double lat = t0->query_lat[b] + 1e-5, lon = t0->query_lon[b];
    g_assert_cmpint(s4g_store_annotation_add(store, t0->query_ids[a], S4G_ANNOTATION_LOCATION,
                                             TRUE, lat, lon, "moved", &error), >, 0);
    g_assert_no_error(error);
    g_autoptr(S4gSplit) t1 = s4g_split_load(store, dsid, "train", &error);
    guint excluded = 99;
    g_assert_true(s4g_split_apply_annotations(t1, store, TRUE, &excluded, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(excluded, ==, 0); /* a location correction is not an exclusion */
    g_assert_cmpuint(t1->n_queries, ==, t0->n_queries);
    g_assert_cmpfloat_with_epsilon(t1->query_lat[a], lat, 1e-12);
    g_assert_cmpfloat_with_epsilon(t1->query_lon[a], lon, 1e-12);
    g_autoptr(S4gNeighbours) g1 = s4g_mine_gps(t1, 4, S4G_GPS_HAVERSINE, &error);
    g_assert_no_error(error);
    /* a is now b's nearest neighbour and b a's */
    guint ra = t1->query_pos[a], rb = t1->query_pos[b];
    g_assert_cmpuint(g1->count[rb], >, 0);
    g_assert_cmpint(g1->ids[(gsize)rb * g1->k], ==, (gint32)ra);
    g_assert_cmpint(g1->ids[(gsize)ra * g1->k], ==, (gint32)rb);
    g_assert_cmpfloat(g1->values[(gsize)rb * g1->k], <, g0->values[(gsize)rb * g0->k]);
}

typedef struct {
    guint starts, n_pairs, n_excluded;
} Start;

static void on_event(const S4gTrainEvent *ev, gpointer data)
{
    Start *s = data;
    if (ev->kind != S4G_TRAIN_EVENT_START) return;
    s->starts++;
    s->n_pairs = ev->n_pairs;
    s->n_excluded = ev->n_excluded;
}

/* The trainer applies the flags and reports the count in its start event. */
static void test_train_start(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *tmp = NULL;
    gint64 dsid = 0;
    g_autoptr(S4gStore) store = world(&tmp, &dsid);
    g_autoptr(S4gSplit) all = s4g_split_load(store, dsid, "train", &error);
    g_assert_no_error(error);
    for (guint i = 0; i < 2; i++)
        g_assert_cmpint(s4g_store_annotation_add(store, all->query_ids[2 * i + 1],
                                                 S4G_ANNOTATION_BAD_PAIR, FALSE, 0, 0, NULL,
                                                 &error), >, 0);
    for (int include = 0; include < 2; include++) {
        S4gTrainOptions o = tf_train_options(dsid, include ? "inc" : "exc", 64, 1, 4, 8);
        g_assert_true(o.exclude_flagged); /* the default */
        o.exclude_flagged = !include;
        Start st = {0};
        gint64 run = 0;
        gboolean ok = s4g_train_run(store, &o, NULL, on_event, &st, &run, &error);
        g_assert_no_error(error);
        g_assert_true(ok);
        g_assert_cmpuint(st.starts, ==, 1);
        g_assert_cmpuint(st.n_excluded, ==, include ? 0 : 2);
        g_assert_cmpuint(st.n_pairs, ==, include ? all->n_queries : all->n_queries - 2);
        /* recorded so a --resume applies the same choice */
        g_autoptr(S4gRunRow) row = s4g_store_run_get(store, run, &error);
        g_assert_no_error(error);
        g_autoptr(JsonParser) jp = json_parser_new();
        g_assert_true(json_parser_load_from_data(jp, row->config, -1, NULL));
        JsonObject *cfg = json_node_get_object(json_parser_get_root(jp));
        g_assert_cmpint(json_object_get_int_member(cfg, "exclude_flagged"), ==, !include);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/flags/exclude", test_flags);
    g_test_add_func("/flags/corrected-location", test_corrected_location);
    g_test_add_func("/flags/train-start", test_train_start);
    return g_test_run();
}
