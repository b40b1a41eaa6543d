/* test-cmd-synth.c — the s4g synth command end to end: a tiny CVUSA dataset with --json, and
 * the exit codes and messages for bad arguments.  argv[1] is the s4g program. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "../compute/s4g-test-files.h"
#include "s4g-test-json.h"

static const char *s4g;

static int run(const char *const *args, char **out, char **err)
{
    return tf_run(s4g, args, out, err);
}

static void test_tiny_cvusa(void)
{
    g_autofree char *dir = g_dir_make_tmp("s4g-cmd-synth-XXXXXX", NULL);
    g_autofree char *root = g_build_filename(dir, "cvusa", NULL);
    g_autofree char *out = NULL, *err = NULL;
    const char *args[] = {"synth", "--layout", "cvusa", "--locations", "6", "--image-scale", "0.25",
                          "--seed", "4", "--out", root, "--json", NULL};
    g_assert_cmpint(run(args, &out, &err), ==, 0);
    g_autoptr(JsonParser) jp = json_parser_new();
    JsonObject *jo = tj_object(jp, out);
    g_assert_cmpint(tj_int(jo, "ground_images"), ==, 6);
    g_assert_cmpstr(tj_str(jo, "layout"), ==, "cvusa");
    g_assert_cmpstr(tj_str(jo, "out"), ==, root);
    const char *files[] = {"splits/train-19zl.csv", "splits/val-19zl.csv", "split_locations/all.csv",
                           "bingmap/19/0000006.jpg", "streetview/panos/0000001.jpg", "tiles/region.mbtiles",
                           "synth.json"};
    for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *p = g_build_filename(root, files[i], NULL);
        g_assert_true(g_file_test(p, G_FILE_TEST_IS_REGULAR));
    }
    tf_rmtree(dir);
}

static void test_bad_arguments(void)
{
    g_autofree char *out = NULL, *err = NULL;
    const char *a1[] = {"synth", "--layout", "kitti", "--out", "/tmp/unused-s4g", NULL};
    g_assert_cmpint(run(a1, &out, &err), ==, 1);
    g_assert_nonnull(strstr(err, "kitti"));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    const char *a2[] = {"synth", "--layout", "cvusa", NULL};
    g_assert_cmpint(run(a2, &out, &err), ==, 2);
    g_assert_nonnull(strstr(err, "--out"));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    const char *a3[] = {"synth", "--layout", "vigor", "--out", "/tmp/unused-s4g", "--origin", "48.1;11.5", NULL};
    g_assert_cmpint(run(a3, &out, &err), ==, 2);
    g_assert_nonnull(strstr(err, "--origin"));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    const char *a4[] = {"synth", "--layout", "cvusa", "--out", "/tmp/unused-s4g", "--locations", "-3", NULL};
    g_assert_cmpint(run(a4, &out, &err), ==, 1);
    g_assert_nonnull(strstr(err, "--locations"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_assert_cmpint(argc, >=, 2);
    s4g = argv[1];
    g_test_add_func("/cmd-synth/tiny-cvusa", test_tiny_cvusa);
    g_test_add_func("/cmd-synth/bad-arguments", test_bad_arguments);
    return g_test_run();
}
