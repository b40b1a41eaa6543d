/* test-import.c — `s4g import` end to end: --help documents every flag, counts printed,
 * second import adds nothing, bad data exits non-zero with the file and line. */
#include "../geo/fixtures.h"
#include "s4g-test-json.h"

static char *run(const char *const *args, int *status)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (gpointer)S4G_EXE);
    for (const char *const *a = args; *a; a++)
        g_ptr_array_add(argv, (gpointer)*a);
    g_ptr_array_add(argv, NULL);
    char *out = NULL, *err = NULL;
    g_autoptr(GError) e = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, &err, status, &e));
    g_ptr_array_free(argv, TRUE);
    char *both = g_strconcat(out, err, NULL);
    g_free(out);
    g_free(err);
    return both;
}

/* The count of the entry of the array `member` with this split and kind (view or relation);
 * -1 when there is none. */
static gint64 count_of(JsonObject *o, const char *member, const char *split, const char *key,
                       const char *value)
{
    JsonArray *a = json_object_get_array_member(o, member);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        JsonObject *e = json_array_get_object_element(a, i);
        if (!g_strcmp0(tj_str(e, "split"), split) && !g_strcmp0(tj_str(e, key), value))
            return tj_int(e, "count");
    }
    return -1;
}

static void test_help(void)
{
    int st;
    const char *args[] = {"import", "--help", NULL};
    g_autofree char *o = run(args, &st);
    g_assert_cmpint(st, ==, 0);
    const char *flags[] = {"--project", "--kind", "--name", "--skip-missing", "--json", "ROOT"};
    for (guint i = 0; i < G_N_ELEMENTS(flags); i++)
        g_assert_nonnull(strstr(o, flags[i]));
}

static void test_import(void)
{
    g_autofree char *root = fx_tmpdir(), *proj = fx_tmpdir();
    GString *csv = g_string_new(NULL);
    for (int i = 1; i <= 4; i++) {
        g_autofree char *s = g_strdup_printf("bingmap/19/%07d.jpg", i);
        g_autofree char *g = g_strdup_printf("streetview/panos/%07d.jpg", i);
        fx_image(root, s, 8, 8, i);
        fx_image(root, g, 16, 4, i);
        g_string_append_printf(csv, "%s,%s,x\n", s, g);
    }
    fx_text(root, "splits/train-19zl.csv", csv->str);
    fx_text(root, "splits/val-19zl.csv",
            "bingmap/19/0000001.jpg,streetview/panos/0000001.jpg,x\n"
            "bingmap/19/0000009.jpg,streetview/panos/0000009.jpg,x\n");
    g_string_free(csv, TRUE);
    int st;
    const char *a1[] = {"import", "--project", proj, "--kind", "cvusa", root, NULL};
    g_autofree char *o1 = run(a1, &st);
    g_test_message("%s", o1);
    g_assert_cmpint(st, !=, 0);
    g_assert_nonnull(strstr(o1, "splits/val-19zl.csv:2"));
    g_assert_nonnull(strstr(o1, "0000009.jpg"));
    const char *a2[] = {"import", "-p", proj, "-k", "cvusa", "--skip-missing", "--json", root,
                        NULL};
    g_autofree char *o2 = run(a2, &st);
    g_test_message("%s", o2);
    g_assert_cmpint(st, ==, 0);
    g_autoptr(JsonParser) jp = json_parser_new();
    JsonObject *jo = tj_object(jp, o2);
    g_assert_cmpint(tj_int(jo, "new_images"), ==, 10);
    g_assert_cmpint(tj_int(jo, "missing"), ==, 2);
    g_assert_cmpint(count_of(jo, "pairs", "train", "relation", "positive"), ==, 4);
    g_assert_cmpint(count_of(jo, "images", "val", "view", "ground"), ==, 1);
    const char *a3[] = {"import", "-p", proj, "-k", "cvusa", "--skip-missing", root, NULL};
    g_autofree char *o3 = run(a3, &st);
    g_test_message("%s", o3);
    g_assert_cmpint(st, ==, 0);
    g_assert_nonnull(strstr(o3, "New rows: 0 images, 0 pairs."));
    const char *a4[] = {"import", "-p", proj, "-k", "nonsense", root, NULL};
    g_autofree char *o4 = run(a4, &st);
    g_assert_cmpint(st, !=, 0);
    g_assert_nonnull(strstr(o4, "nonsense"));
    fx_rmtree(root);
    fx_rmtree(proj);
}

int main(int argc, char **argv)
{
    fx_init(&argc, &argv);
    g_test_add_func("/cli/import-help", test_help);
    g_test_add_func("/cli/import", test_import);
    return g_test_run();
}
