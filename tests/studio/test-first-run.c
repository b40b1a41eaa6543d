/* test-first-run.c — the README's first command leaves the user one command that opens the
 * Studio on the demo, and that command works exactly as printed.
 *
 * A small `s4g demo` runs from the source root (where tools/demo runs it); its closing lines
 * name the Studio command.  That line is run by /bin/sh from the same folder with an
 * environment holding only what a desktop session has (DISPLAY, XAUTHORITY, HOME, PATH): no
 * GSETTINGS_SCHEMA_DIR, no S4G_* variables, no renderer chosen.  The Studio must show its window (found by its
 * pid with xdotool) and still be running; a screenshot of the screen is kept. */
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

static char *run_capture(const char *const *argv, const char *cwd)
{
    g_autofree char *out = NULL, *err = NULL;
    int status = 0;
    g_autoptr(GError) error = NULL;
    g_assert_true(g_spawn_sync(cwd, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                               &status, &error));
    g_assert_no_error(error);
    if (!g_spawn_check_wait_status(status, NULL))
        g_error("%s failed (status %d):\n%s\n%s", argv[0], status, out, err);
    return g_steal_pointer(&out);
}

/* The line after "Open it in the Studio with" in the demo's output. */
static char *studio_line(const char *out)
{
    const char *k = strstr(out, "Open it in the Studio with\n");
    g_assert_nonnull(k);
    k += strlen("Open it in the Studio with\n");
    const char *e = strchr(k, '\n');
    g_assert_nonnull(e);
    return g_strstrip(g_strndup(k, (gsize)(e - k)));
}

static void test_first_run(void)
{
    const char *s4g = g_getenv("S4G_PROGRAM");
    const char *root = g_getenv("S4G_SOURCE_ROOT");
    g_assert_nonnull(s4g);
    g_assert_nonnull(root);
    g_autoptr(GError) error = NULL;
    g_autofree char *tmp = g_dir_make_tmp("s4g-first-run-XXXXXX", &error);
    g_assert_no_error(error);
    g_autofree char *project = g_build_filename(tmp, "demo-project", NULL);

    const char *demo[] = {s4g, "demo", "--project", project, "--locations", "48", "--epochs", "2",
                          "--batch", "16", "--gallery-stride", "24", "--backend", "cpu", NULL};
    g_autofree char *out = run_capture(demo, root);
    g_autofree char *line = studio_line(out);
    g_test_message("demo says: %s", line);
    g_assert_true(strstr(line, "s4g-studio") != NULL);

    /* what a user's desktop session has, nothing more */
    g_autofree char *home = g_build_filename(tmp, "home", NULL);
    g_assert_cmpint(g_mkdir(home, 0700), ==, 0);
    g_autofree char *display = g_strconcat("DISPLAY=", g_getenv("DISPLAY"), NULL);
    g_autofree char *home_env = g_strconcat("HOME=", home, NULL);
    g_autofree char *xauth = g_strconcat("XAUTHORITY=", g_getenv("XAUTHORITY"), NULL);
    char *envp[] = {display, home_env, (char *)"PATH=/usr/bin:/bin",
                    g_getenv("XAUTHORITY") ? xauth : NULL, NULL};
    /* the line split into words as a shell splits them, run from the source root */
    g_auto(GStrv) words = NULL;
    g_assert_true(g_shell_parse_argv(line, NULL, &words, &error));
    g_assert_no_error(error);
    GPid pid = 0;
    g_assert_true(g_spawn_async(root, words, envp,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH_FROM_ENVP, NULL,
                                NULL, &pid, &error));
    g_assert_no_error(error);

    g_autofree char *pidstr = g_strdup_printf("%d", (int)pid);
    const char *search[] = {"timeout", "90", "xdotool", "search", "--sync", "--onlyvisible",
                            "--pid", pidstr, NULL};
    g_autofree char *win = run_capture(search, NULL);
    g_assert_true(g_ascii_isdigit(win[0]));
    int status = 0;
    g_assert_cmpint(waitpid(pid, &status, WNOHANG), ==, 0); /* still running */

    /* the window must draw: the screen is not left black (mean level over 2 %) */
    const char *shots = g_getenv("S4G_SCREENSHOT_DIR");
    g_autofree char *png = g_build_filename(shots ? shots : tmp, "first-run.png", NULL);
    if (shots) g_mkdir_with_parents(shots, 0755);
    double mean = 0;
    for (int tries = 0; tries < 60 && mean < 0.02; tries++) {
        if (tries) g_usleep(G_USEC_PER_SEC);
        const char *imp[] = {"import", "-window", "root", png, NULL};
        g_free(run_capture(imp, NULL));
        const char *measure[] = {"convert", png, "-format", "%[fx:mean]", "info:", NULL};
        g_autofree char *m = run_capture(measure, NULL);
        mean = g_ascii_strtod(m, NULL);
    }
    g_test_message("screen mean level %.3f", mean);
    g_assert_cmpfloat(mean, >=, 0.02);
    g_assert_cmpint(waitpid(pid, &status, WNOHANG), ==, 0);
    kill(pid, SIGTERM);
    waitpid(pid, &status, 0);
    g_assert_true(WIFEXITED(status) || WTERMSIG(status) == SIGTERM);
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", tmp);
    g_assert_cmpint(system(rm), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/studio/first-run", test_first_run);
    return g_test_run();
}
