/* test-cli-demo.c — `s4g demo` at a tiny size (48 places, 2 epochs, a coarse gallery): it
 * builds the gallery from the world's MBTiles and locates every held-out photo on it; the
 * localisation.json it writes holds one error per held-out photo, statistics that agree with
 * those errors, and a chance level computed over the gallery's patches.  (How far above
 * chance a properly trained demo lands is measured in the README; two epochs only exercise
 * the pipeline.) */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *s4g_path;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_demo(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *tmp = g_dir_make_tmp("s4g-demo-XXXXXX", &error);
    g_assert_no_error(error);
    const char *argv[] = {s4g_path, "demo", "--dir", tmp, "--locations", "48", "--epochs",
                          "2", "--batch", "16", "--gallery-stride", "24", "--backend", "cpu",
                          NULL};
    g_autoptr(GSubprocess) p = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
    g_assert_no_error(error);
    g_autofree char *out = NULL;
    g_assert_true(g_subprocess_communicate_utf8(p, NULL, NULL, &out, NULL, &error));
    g_assert_no_error(error);
    g_assert_cmpint(g_subprocess_get_exit_status(p), ==, 0);
    g_assert_nonnull(strstr(out, "$ s4g gallery --project"));
    g_assert_nonnull(strstr(out, "Held-out photos located on the gallery"));
    g_assert_nonnull(strstr(out, "chance (a random patch)"));
    /* 48 places, 80/20 split: 10 held out */
    g_autofree char *js = g_build_filename(tmp, "localisation.json", NULL);
    g_autoptr(JsonParser) jp = json_parser_new();
    g_assert_true(json_parser_load_from_file(jp, js, &error));
    g_assert_no_error(error);
    JsonObject *o = json_node_get_object(json_parser_get_root(jp));
    g_assert_cmpint(json_object_get_int_member(o, "photos"), ==, 10);
    gint64 patches = json_object_get_int_member(o, "patches");
    g_assert_cmpint(patches, >, 50);
    JsonArray *errs = json_object_get_array_member(o, "errors_m");
    g_assert_cmpuint(json_array_get_length(errs), ==, 10);
    double e[10], sum = 0;
    int w100 = 0;
    for (guint i = 0; i < 10; i++) {
        e[i] = json_array_get_double_element(errs, i);
        g_assert_cmpfloat(e[i], >=, 0);
        g_assert_cmpfloat(e[i], <, 2000); /* inside a ~400 m world */
        sum += e[i];
        w100 += e[i] <= 100;
    }
    qsort(e, 10, sizeof *e, cmp_double);
    JsonObject *pr = json_object_get_object_member(o, "predict");
    JsonObject *ch = json_object_get_object_member(o, "chance");
    g_assert_cmpfloat(fabs(json_object_get_double_member(pr, "median_m") - (e[4] + e[5]) / 2),
                      <, 0.2);
    g_assert_cmpfloat(fabs(json_object_get_double_member(pr, "mean_m") - sum / 10), <, 0.2);
    g_assert_cmpfloat(fabs(json_object_get_double_member(pr, "within_100_m") - w100 / 10.0), <,
                      1e-3);
    /* chance: a random patch of a few-hundred-metre region */
    double cm = json_object_get_double_member(ch, "median_m");
    g_assert_cmpfloat(cm, >, 80);
    g_assert_cmpfloat(cm, <, 600);
    double c25 = json_object_get_double_member(ch, "within_25_m"),
           c100 = json_object_get_double_member(ch, "within_100_m");
    g_assert_cmpfloat(c25, >, 0);
    g_assert_cmpfloat(c25, <, c100);
    g_assert_cmpfloat(c100, <, 0.6);
    /* the gallery is a dataset of the project with its patches on disk */
    g_autofree char *first = g_build_filename(tmp, "project", "galleries", "region",
                                              "r000-c000.png", NULL);
    g_assert_true(g_file_test(first, G_FILE_TEST_IS_REGULAR));
}

/* --json --atomic: stdout holds only the progress events (one JSON object a line: the seven
 * steps in order, then "done" with the project), the project is built in project.partial
 * (a stale one is cleared first) and moved into place at the end; a second --atomic run
 * refuses to touch the finished project. */
static void test_json_atomic(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *tmp = g_dir_make_tmp("s4g-demo-json-XXXXXX", &error);
    g_assert_no_error(error);
    g_autofree char *stale = g_build_filename(tmp, "project.partial", NULL);
    g_autofree char *junk = g_build_filename(stale, "junk", NULL);
    g_assert_cmpint(g_mkdir_with_parents(stale, 0755), ==, 0);
    g_assert_true(g_file_set_contents(junk, "x", 1, NULL));
    const char *argv[] = {s4g_path, "demo", "--json", "--atomic", "--dir", tmp, "--locations",
                          "48", "--epochs", "1", "--batch", "16", "--gallery-stride", "24",
                          "--backend", "cpu", NULL};
    g_autoptr(GSubprocess) p = g_subprocess_newv(
        argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
    g_assert_no_error(error);
    g_autofree char *out = NULL;
    g_assert_true(g_subprocess_communicate_utf8(p, NULL, NULL, &out, NULL, &error));
    g_assert_no_error(error);
    g_assert_true(g_subprocess_get_successful(p));
    const char *names[] = {"synth", "import", "train", "eval", "predict", "gallery", "locate"};
    g_auto(GStrv) lines = g_strsplit(g_strchomp(out), "\n", -1);
    guint i = 0, train_steps = 0;
    for (guint l = 0; lines[l]; l++) {
        g_autoptr(JsonParser) jp = json_parser_new();
        g_assert_true(json_parser_load_from_data(jp, lines[l], -1, &error));
        g_assert_no_error(error);
        JsonObject *o = json_node_get_object(json_parser_get_root(jp));
        const char *ev = json_object_get_string_member(o, "event");
        if (!g_str_has_prefix(ev, "demo-")) {
            /* the trainer's own events, only within the train step */
            g_assert_cmpuint(i, ==, 3);
            train_steps += g_str_equal(ev, "step");
            continue;
        }
        if (i < 7) {
            g_assert_cmpstr(ev, ==, "demo-step");
            g_assert_cmpint(json_object_get_int_member(o, "step"), ==, i + 1);
            g_assert_cmpint(json_object_get_int_member(o, "steps"), ==, 7);
            g_assert_cmpstr(json_object_get_string_member(o, "name"), ==, names[i]);
        } else {
            g_assert_cmpstr(ev, ==, "demo-done");
            g_autofree char *want = g_build_filename(tmp, "project", NULL);
            g_assert_cmpstr(json_object_get_string_member(o, "project"), ==, want);
        }
        i++;
    }
    g_assert_cmpuint(i, ==, 8);
    g_assert_cmpuint(train_steps, >, 0); /* 1 epoch of the training pairs / 16 */
    g_autofree char *db = g_build_filename(tmp, "project", "project.s4g", NULL);
    g_assert_true(g_file_test(db, G_FILE_TEST_IS_REGULAR));
    g_assert_false(g_file_test(stale, G_FILE_TEST_EXISTS));
    /* again: refused, the finished project untouched */
    g_autoptr(GSubprocess) again = g_subprocess_newv(
        argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
    g_assert_no_error(error);
    g_assert_true(g_subprocess_wait(again, NULL, &error));
    g_assert_cmpint(g_subprocess_get_exit_status(again), ==, 1);
    g_assert_true(g_file_test(db, G_FILE_TEST_IS_REGULAR));
    g_assert_false(g_file_test(stale, G_FILE_TEST_EXISTS));
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", tmp);
    g_assert_true(g_spawn_command_line_sync(rm, NULL, NULL, NULL, NULL));
}

/* --preset names the model the demo trains: an unknown one is refused before anything is
 * made, naming the presets. */
static void test_bad_preset(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *tmp = g_dir_make_tmp("s4g-demo-preset-XXXXXX", &error);
    g_assert_no_error(error);
    g_autofree char *dir = g_build_filename(tmp, "d", NULL);
    const char *argv[] = {s4g_path, "demo", "--dir", dir, "--preset", "nosuch", NULL};
    g_autoptr(GSubprocess) p = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
    g_assert_no_error(error);
    g_autofree char *err = NULL;
    g_assert_true(g_subprocess_communicate_utf8(p, NULL, NULL, NULL, &err, &error));
    g_assert_cmpint(g_subprocess_get_exit_status(p), ==, 2);
    g_assert_nonnull(strstr(err, "--preset"));
    g_assert_nonnull(strstr(err, "atto, femto"));
    g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
    g_rmdir(tmp);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_assert_cmpint(argc, >=, 2);
    s4g_path = argv[1];
    g_test_add_func("/cli/demo/gallery-localisation", test_demo);
    g_test_add_func("/cli/demo/json-atomic", test_json_atomic);
    g_test_add_func("/cli/demo/bad-preset", test_bad_preset);
    return g_test_run();
}
