/* test-cli-options.c — the option group the commands share (s4g-cli.h): one --backend parser
 * for every command that takes it, --device (or S4G_DEVICE, read at the command line's edge)
 * reaching the engine through the options, and --help showing the defaults table
 * (s4g-defaults.h).  argv[1] is the s4g program. */
#include "s4g-defaults.h"

#include "../compute/s4g-test-files.h"

#include <string.h>
#include "s4g-test-json.h"

static const char *s4g;

/* Runs s4g with args; S4G_DEVICE set to `device` (NULL: removed from the environment). */
static int run_env(const char *const *args, const char *device, char **out, char **err)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, (gpointer)s4g);
    for (int i = 0; args[i]; i++)
        g_ptr_array_add(argv, (gpointer)args[i]);
    g_ptr_array_add(argv, NULL);
    g_auto(GStrv) env = g_get_environ();
    env = device ? g_environ_setenv(env, "S4G_DEVICE", device, TRUE)
                 : g_environ_unsetenv(env, "S4G_DEVICE");
    int status = 0;
    g_autoptr(GError) error = NULL;
    g_spawn_sync(NULL, (char **)argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL, out, err, &status,
                 &error);
    g_assert_no_error(error);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Every command with --backend rejects an unknown one the same way, before anything else. */
static void test_backend_typo(void)
{
    const char *commands[] = {"bench", "demo",    "embed", "encode", "eval",
                              "export", "gallery", "mine",  "predict", "train"};
    for (gsize i = 0; i < G_N_ELEMENTS(commands); i++) {
        const char *args[] = {commands[i], "--backend", "typo", NULL};
        g_autofree char *out = NULL, *err = NULL;
        g_assert_cmpint(run_env(args, NULL, &out, &err), ==, 2);
        g_autofree char *want = g_strdup_printf(
            "s4g %s: --backend: expected cpu, vulkan or auto, got “typo”", commands[i]);
        if (!strstr(err, want)) g_error("%s: expected “%s”, got: %s", commands[i], want, err);
    }
}

/* `s4g encode` on the fixture with auto backend: which context it got. */
static char *encode_backend(const char *device_flag, const char *device_env, int *rc, char **err)
{
    g_autofree char *w = tf_fixture("convnext-tiny-fixture.safetensors");
    g_autofree char *in = tf_fixture("convnext-tiny-fixture-sat.npy");
    g_autofree char *dir = g_dir_make_tmp("s4g-options-XXXXXX", NULL);
    g_autofree char *o = g_build_filename(dir, "f.npy", NULL);
    const char *args[] = {"encode", "--weights", w,     "--input", in,          "--output", o,
                          "--json", "--backend", "auto", device_flag ? "--device" : NULL,
                          device_flag, NULL};
    char *out = NULL;
    *rc = run_env(args, device_env, &out, err);
    g_unlink(o);
    g_rmdir(dir);
    return out;
}

/* The suite's environment has only lavapipe (a CPU device): auto takes the CPU backend unless
 * a device is named, by --device or by S4G_DEVICE; a name no driver has fails, named. */
static void test_device(void)
{
    int rc = 0;
    g_autofree char *err1 = NULL, *err2 = NULL, *err3 = NULL;
    g_autofree char *flag = encode_backend("llvmpipe", NULL, &rc, &err1);
    g_assert_cmpint(rc, ==, 0);
    g_autoptr(JsonParser) p1 = json_parser_new(), p2 = json_parser_new();
    if (!g_str_has_prefix(tj_str(tj_object(p1, flag), "backend"), "vulkan: llvmpipe"))
        g_error("--device llvmpipe: expected the lavapipe context, got %s", flag);
    g_autofree char *env = encode_backend(NULL, "llvmpipe", &rc, &err2);
    g_assert_cmpint(rc, ==, 0);
    if (!g_str_has_prefix(tj_str(tj_object(p2, env), "backend"), "vulkan: llvmpipe"))
        g_error("S4G_DEVICE=llvmpipe: expected the lavapipe context, got %s", env);
    g_autofree char *bad = encode_backend("nosuchdevice", "llvmpipe", &rc, &err3);
    g_assert_cmpint(rc, !=, 0);
    if (!strstr(err3, "\"nosuchdevice\""))
        g_error("--device nosuchdevice (over S4G_DEVICE): expected it named, got %s", err3);
}

static char *help(const char *command)
{
    const char *argv[] = {s4g, command, "--help", NULL};
    return tf_run_ok(argv);
}

static void expect(const char *text, const char *command, const char *want)
{
    if (!strstr(text, want)) g_error("s4g %s --help: expected “%s” in:\n%s", command, want, text);
}

/* --help shows the defaults of the table (and so do the values parsed: s4g-cli.c takes both
 * from s4g_defaults). */
static void test_help_defaults(void)
{
    const S4gDefaults *d = &s4g_defaults;
    g_autofree char *train = help("train");
    g_autofree char *s1 = g_strdup_printf("Epochs (%u)", d->epochs);
    g_autofree char *s2 = g_strdup_printf("Pairs per step (%u)", d->batch);
    g_autofree char *s3 = g_strdup_printf("Peak learning rate (%g)", d->lr);
    g_autofree char *s4 = g_strdup_printf("every N epochs (%u)", d->eval_every);
    g_autofree char *s5 = g_strdup_printf("augmentation (%" G_GUINT64_FORMAT ")", d->seed);
    g_autofree char *s6 = g_strdup_printf("Images per encode batch (%d)", d->encode_batch);
    g_autofree char *s7 = g_strdup_printf("Decoding threads (%d)", d->loader_threads);
    g_autofree char *g = g_strdup_printf("(default %dx%d)", d->ground.h, d->ground.w);
    g_autofree char *s = g_strdup_printf("(default %dx%d)", d->satellite.h, d->satellite.w);
    g_autofree char *p = g_strdup_printf("(default %s,", d->preset);
    g_autofree char *n1 = g_strdup_printf("Neighbours per anchor (%u)", d->neighbour_select);
    g_autofree char *n2 = g_strdup_printf("Candidates per anchor (%u)", d->neighbour_range);
    const char *want_train[] = {s1, s2, s3, s4, s5, s6, s7, g, s, p, n1, n2};
    for (gsize i = 0; i < G_N_ELEMENTS(want_train); i++)
        expect(train, "train", want_train[i]);
    const char *commands[] = {"eval", "predict"};
    for (gsize i = 0; i < G_N_ELEMENTS(commands); i++) {
        g_autofree char *text = help(commands[i]);
        expect(text, commands[i], s6);
        expect(text, commands[i], g);
        expect(text, commands[i], s);
    }
    const char *encoding[] = {"embed", "export", "gallery", "mine"};
    for (gsize i = 0; i < G_N_ELEMENTS(encoding); i++) {
        g_autofree char *text = help(encoding[i]);
        expect(text, encoding[i], s6);
        expect(text, encoding[i], "--device=DEV");
    }
    g_autofree char *predict = help("predict");
    g_autofree char *r = g_strdup_printf("best one (%g;", d->refine_radius_m);
    expect(predict, "predict", r);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    s4g = tf_s4g_argument(argc, argv);
    g_test_add_func("/cli/options/backend-typo", test_backend_typo);
    g_test_add_func("/cli/options/device", test_device);
    g_test_add_func("/cli/options/help-defaults", test_help_defaults);
    return g_test_run();
}
