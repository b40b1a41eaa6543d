/* test-cli-university.c — `s4g eval --direction d2s|s2d` end to end on a tiny synthetic
 * University-1652 world (12 building classes: 5 test classes, 2 gallery-only distractors):
 * S2D has the 5 satellite images as queries and all 126 drone images of the split as its
 * gallery; its AP/CMC equal a brute-force recomputation (full sort, reference §7.3) from the
 * embeddings `s4g embed` caches for the same model; the row is stored; D2S stays the default;
 * --direction is refused for other layouts and for unknown values. */
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <sqlite3.h>
#include <string.h>

#include "../compute/s4g-test-files.h"

static const char *s4g_path;

static JsonObject *parse_obj(JsonParser *p, const char *json)
{
    g_autoptr(GError) error = NULL;
    g_assert_true(json_parser_load_from_data(p, json, -1, &error));
    g_assert_no_error(error);
    return json_node_get_object(json_parser_get_root(p));
}

static guint count_files(const char *dir)
{
    guint n = 0;
    GDir *d = g_dir_open(dir, 0, NULL);
    g_assert_nonnull(d);
    const char *name;
    while ((name = g_dir_read_name(d))) {
        g_autofree char *full = g_build_filename(dir, name, NULL);
        if (g_file_test(full, G_FILE_TEST_IS_DIR))
            n += count_files(full);
        else
            n++;
    }
    g_dir_close(d);
    return n;
}

typedef struct {
    float s;
    guint idx;
} Scored;

static int by_score(const void *a, const void *b)
{
    const Scored *x = a, *y = b;
    if (x->s != y->s) return x->s > y->s ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

typedef struct {
    double ap, r1, r5, r10;
    guint queries, gallery;
} Brute;

/* S2D from the cached embeddings: queries = satellite images of split s2d, gallery = its drone
 * images, junk = drone classes no query has; full sort, then reference §7.3 term by term. */
static Brute brute_s2d(const char *proj)
{
    g_autofree char *db_path = g_build_filename(proj, "project.s4g", NULL);
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    sqlite3_stmt *st = NULL;
    g_assert_cmpint(
        sqlite3_prepare_v2(db,
                           "SELECT i.view, i.identity, e.dim, e.dtype, e.vector FROM embeddings e "
                           "JOIN images i ON i.id = e.image JOIN models m ON m.id = e.model "
                           "WHERE m.name = 'm' AND i.split = 's2d' ORDER BY i.id",
                           -1, &st, NULL),
        ==, SQLITE_OK);
    g_autoptr(GArray) qv = g_array_new(FALSE, FALSE, sizeof(float));
    g_autoptr(GArray) gv = g_array_new(FALSE, FALSE, sizeof(float));
    g_autoptr(GArray) ql = g_array_new(FALSE, FALSE, sizeof(gint64));
    g_autoptr(GArray) gl = g_array_new(FALSE, FALSE, sizeof(gint64));
    int dim = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *view = (const char *)sqlite3_column_text(st, 0);
        gint64 label = sqlite3_column_int64(st, 1);
        dim = sqlite3_column_int(st, 2);
        g_assert_cmpstr((const char *)sqlite3_column_text(st, 3), ==, "f32");
        g_assert_cmpint(sqlite3_column_bytes(st, 4), ==, dim * (int)sizeof(float));
        const float *v = sqlite3_column_blob(st, 4);
        gboolean sat = !strcmp(view, "satellite");
        g_array_append_vals(sat ? qv : gv, v, (guint)dim);
        g_array_append_val(sat ? ql : gl, label);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    Brute b = {.queries = ql->len, .gallery = gl->len};
    g_assert_cmpint(dim, >, 0);
    g_autofree Scored *row = g_new(Scored, gl->len);
    guint hits1 = 0, hits5 = 0, hits10 = 0;
    for (guint q = 0; q < ql->len; q++) {
        gint64 label = g_array_index(ql, gint64, q);
        guint n = 0;
        for (guint g = 0; g < gl->len; g++) {
            gint64 gl_g = g_array_index(gl, gint64, g);
            gboolean asked = FALSE;
            for (guint k = 0; k < ql->len; k++)
                asked |= g_array_index(ql, gint64, k) == gl_g;
            float s = 0;
            for (int d = 0; d < dim; d++)
                s += g_array_index(qv, float, (gsize)q * dim + d) *
                     g_array_index(gv, float, (gsize)g * dim + d);
            row[n++] = (Scored){asked ? s : -INFINITY, asked ? g : G_MAXUINT};
        }
        qsort(row, n, sizeof(Scored), by_score);
        guint good_total = 0, pos = 0, first = G_MAXUINT;
        for (guint g = 0; g < gl->len; g++)
            good_total += g_array_index(gl, gint64, g) == label;
        g_assert_cmpuint(good_total, >, 1); /* S2D: several good drone images per query */
        double ap = 0;
        guint i = 0;
        for (guint r = 0; r < n && row[r].idx != G_MAXUINT; r++, pos++) {
            if (g_array_index(gl, gint64, row[r].idx) != label) continue;
            if (first == G_MAXUINT) first = pos;
            double p = (double)(i + 1) / (pos + 1), old = pos == 0 ? 1.0 : (double)i / pos;
            ap += (old + p) / 2.0 / good_total;
            i++;
        }
        g_assert_cmpuint(i, ==, good_total);
        b.ap += ap;
        hits1 += first < 1, hits5 += first < 5, hits10 += first < 10;
    }
    b.ap = 100.0 * b.ap / ql->len;
    b.r1 = 100.0 * hits1 / ql->len;
    b.r5 = 100.0 * hits5 / ql->len;
    b.r10 = 100.0 * hits10 / ql->len;
    return b;
}

static void test_university_directions(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *tmp = g_dir_make_tmp("s4g-u1652-XXXXXX", &error);
    g_autofree char *world = g_build_filename(tmp, "w", NULL);
    g_autofree char *proj = g_build_filename(tmp, "p", NULL);
    const char *s4g = s4g_path;
    const char *synth[] = {s4g, "synth", "--layout", "university", "--out", world, "-n", "12",
                           "--image-scale", "0.5", "-j", "2", NULL};
    g_free(tf_run_ok(synth));
    const char *imp[] = {s4g, "import", "--project", proj, "--kind", "university", "--name",
                         "u", world, NULL};
    g_free(tf_run_ok(imp));
    const char *train[] = {s4g, "train", "--project", proj, "--dataset", "u", "--model", "m",
                           "--eval-split", "d2s", "--ground-size", "32x32", "--satellite-size",
                           "32x32", "--epochs", "1", "--batch", "4", "--backend", "cpu",
                           "--threads", "2", "--json", NULL};
    g_free(tf_run_ok(train));

    g_autofree char *qs = g_build_filename(world, "test", "query_satellite", NULL);
    g_autofree char *gd = g_build_filename(world, "test", "gallery_drone", NULL);
    g_autofree char *qd = g_build_filename(world, "test", "query_drone", NULL);
    guint n_sat = count_files(qs), n_drone = count_files(gd), n_qdrone = count_files(qd);

    const char *s2d[] = {s4g, "eval", "-p", proj, "-d", "u", "-m", "m", "--direction", "s2d",
                         "--batch", "16", "--backend", "cpu", "--json", NULL};
    g_autofree char *out = tf_run_ok(s2d);
    g_autoptr(JsonParser) jp = json_parser_new();
    JsonObject *o = parse_obj(jp, out);
    g_assert_cmpstr(json_object_get_string_member(o, "direction"), ==, "s2d");
    g_assert_cmpstr(json_object_get_string_member(o, "split"), ==, "s2d");
    g_assert_cmpint(json_object_get_int_member(o, "queries"), ==, n_sat);
    g_assert_cmpint(json_object_get_int_member(o, "refs"), ==, n_drone);
    double ap = json_object_get_double_member(o, "ap");

    /* the same numbers from the cached embeddings, computed independently */
    const char *embed[] = {s4g, "embed", "-p", proj, "-d", "u", "-m", "m", "--split", "s2d",
                           "--batch", "16", "--backend", "cpu", NULL};
    g_free(tf_run_ok(embed));
    Brute b = brute_s2d(proj);
    g_assert_cmpuint(b.queries, ==, n_sat);
    g_assert_cmpuint(b.gallery, ==, n_drone);
    g_test_message("S2D: AP %.4f (brute %.4f), R@1 %.2f", ap, b.ap,
                   json_object_get_double_member(o, "r1"));
    g_assert_cmpfloat_with_epsilon(ap, b.ap, 1e-3);
    g_assert_cmpfloat_with_epsilon(json_object_get_double_member(o, "r1"), b.r1, 1e-3);
    g_assert_cmpfloat_with_epsilon(json_object_get_double_member(o, "r5"), b.r5, 1e-3);
    g_assert_cmpfloat_with_epsilon(json_object_get_double_member(o, "r10"), b.r10, 1e-3);

    /* stored: one evaluation row of split s2d with these numbers */
    g_autofree char *db_path = g_build_filename(proj, "project.s4g", NULL);
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    sqlite3_stmt *st = NULL;
    g_assert_cmpint(sqlite3_prepare_v2(db,
                                       "SELECT queries, refs, ap FROM evaluations "
                                       "WHERE split = 's2d'",
                                       -1, &st, NULL),
                    ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
    g_assert_cmpint(sqlite3_column_int64(st, 0), ==, n_sat);
    g_assert_cmpint(sqlite3_column_int64(st, 1), ==, n_drone);
    g_assert_cmpfloat_with_epsilon(sqlite3_column_double(st, 2), ap, 1e-3);
    g_assert_cmpint(sqlite3_step(st), ==, SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);

    /* D2S is the default: drone queries of split d2s, one good satellite each */
    const char *d2s[] = {s4g, "eval", "-p", proj, "-d", "u", "-m", "m", "--backend", "cpu",
                         "--json", NULL};
    g_autofree char *out2 = tf_run_ok(d2s);
    g_autoptr(JsonParser) jp2 = json_parser_new();
    JsonObject *o2 = parse_obj(jp2, out2);
    g_assert_cmpstr(json_object_get_string_member(o2, "direction"), ==, "d2s");
    g_assert_cmpstr(json_object_get_string_member(o2, "split"), ==, "d2s");
    g_assert_cmpint(json_object_get_int_member(o2, "queries"), ==, n_qdrone);

    /* bad values */
    const char *bad[] = {s4g, "eval", "-p", proj, "-d", "u", "-m", "m", "--direction", "g2s",
                         NULL};
    tf_run_fails(bad, "--direction: expected d2s or s2d, got “g2s”");
}

/* --direction on a non-University dataset is refused, naming the dataset's kind. */
static void test_direction_other_layout(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *tmp = g_dir_make_tmp("s4g-u1652-XXXXXX", &error);
    g_autofree char *world = g_build_filename(tmp, "w", NULL);
    g_autofree char *proj = g_build_filename(tmp, "p", NULL);
    const char *synth[] = {s4g_path, "synth", "--layout", "cvusa", "--out", world, "-n", "8",
                           "--image-scale", "0.25", "-j", "2", NULL};
    g_free(tf_run_ok(synth));
    const char *imp[] = {s4g_path, "import", "--project", proj, "--kind", "cvusa", "--name",
                         "c", world, NULL};
    g_free(tf_run_ok(imp));
    const char *bad[] = {s4g_path, "eval", "-p", proj, "-d", "c", "-m", "m", "--direction",
                         "s2d", NULL};
    tf_run_fails(bad, "only University-1652 datasets have a direction (dataset “c” is cvusa)");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    s4g_path = tf_s4g_argument(argc, argv);
    g_test_add_func("/cli/university-directions", test_university_directions);
    g_test_add_func("/cli/direction-other-layout", test_direction_other_layout);
    return g_test_run();
}
