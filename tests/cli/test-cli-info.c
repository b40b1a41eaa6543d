/* test-cli-info.c — `s4g info` on lavapipe: lists the device with its features, marks the
 * chosen one, describes the CPU backend; exits 0 with a clear line when no Vulkan driver
 * exists.  argv[1] is the s4g executable. */
#include <glib.h>
#include <string.h>
#include "s4g-test-json.h"

static const char *s4g_path;

static char *run_info(const char *const *extra, const char *drivers, int *status)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)s4g_path);
    g_ptr_array_add(argv, (char *)"info");
    for (int i = 0; extra && extra[i]; i++)
        g_ptr_array_add(argv, (char *)extra[i]);
    g_ptr_array_add(argv, NULL);
    g_auto(GStrv) env = g_get_environ();
    if (drivers) {
        env = g_environ_setenv(env, "VK_DRIVER_FILES", drivers, TRUE);
        env = g_environ_setenv(env, "VK_ICD_FILENAMES", drivers, TRUE);
    }
    char *out = NULL;
    g_autofree char *errout = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL, &out,
                               &errout, status, &error));
    g_assert_no_error(error);
    return out;
}

static void test_text(void)
{
    int status = -1;
    g_autofree char *out = run_info(NULL, NULL, &status);
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    g_assert_nonnull(strstr(out, "llvmpipe"));
    g_assert_nonnull(strstr(out, "(cpu)"));
    g_assert_nonnull(strstr(out, "subgroup: size 8"));
    g_assert_nonnull(strstr(out, "storage buffer range 128 MiB"));
    g_assert_nonnull(strstr(out, "Chosen: [0] llvmpipe")); /* S4G_ALLOW_CPU_DEVICE=1 */
    g_assert_nonnull(strstr(out, "CPU backend: cpu ("));
}

static void test_json_device(void)
{
    int status = -1;
    const char *args[] = {"--json", "--device", "llvmpipe", NULL};
    g_autofree char *out = run_info(args, NULL, &status);
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    g_autoptr(JsonParser) jp = json_parser_new();
    JsonObject *o = tj_object(jp, out);
    JsonObject *vk = json_object_get_object_member(o, "vulkan");
    g_assert_true(json_object_get_boolean_member(vk, "available"));
    gint64 chosen = tj_int(vk, "chosen");
    JsonArray *devs = json_object_get_array_member(vk, "devices");
    g_assert_cmpint(chosen, >=, 0);
    g_assert_cmpint(chosen, <, json_array_get_length(devs));
    JsonObject *dev = json_array_get_object_element(devs, (guint)chosen);
    g_assert_true(json_object_get_boolean_member(dev, "chosen"));
    g_assert_cmpint(tj_int(json_object_get_object_member(dev, "features"), "push_descriptor"), ==,
                    1);
    g_assert_cmpstr(tj_str(vk, "why"), ==, "named by --device");
    g_assert_true(g_str_has_prefix(tj_str(o, "cpu"), "cpu ("));
    g_assert_true(json_object_has_member(json_object_get_object_member(o, "cpu_kernels"),
                                         "vector_path"));
}

static void test_no_driver(void)
{
    int status = -1;
    g_autofree char *out = run_info(NULL, "/nonexistent/icd.json", &status);
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    g_assert_nonnull(strstr(out, "Vulkan: not available"));
    g_assert_nonnull(strstr(out, "CPU backend: cpu ("));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_assert_cmpint(argc, >=, 2);
    s4g_path = argv[1];
    g_test_add_func("/cli/info/text", test_text);
    g_test_add_func("/cli/info/json-device", test_json_device);
    g_test_add_func("/cli/info/no-driver", test_no_driver);
    return g_test_run();
}
