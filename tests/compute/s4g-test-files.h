/* s4g-test-files.h — what tests that work on files share: a private temporary folder per
 * test program (removed with what the tests left in it), recursive removal, fixture paths,
 * and running a program (the s4g CLI) to completion.  GLib only, so tests outside compute/
 * (the CLI ones) include it too. */
#ifndef S4G_TEST_FILES_H
#define S4G_TEST_FILES_H

#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* A new folder from a g_dir_make_tmp template ("s4g-test-io-XXXXXX"); aborts the test
 * program when it cannot be made. */
static inline char *tf_tmpdir_new(const char *tmpl)
{
    g_autoptr(GError) e = NULL;
    char *dir = g_dir_make_tmp(tmpl, &e);
    if (!dir)
        g_error("temporary folder %s: %s", tmpl, e->message);
    return dir;
}

/* Removes the files in dir, then dir itself, and frees the name. */
static inline void tf_tmpdir_remove(char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *n;
    while (d && (n = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(dir, n, NULL);
        g_unlink(p);
    }
    g_rmdir(dir);
    g_free(dir);
}

/* Removes path: a file, or a folder with everything under it (links are not followed). */
static inline void tf_rmtree(const char *path)
{
    if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
        GDir *d = g_dir_open(path, 0, NULL);
        const char *name;
        while (d && (name = g_dir_read_name(d))) {
            g_autofree char *p = g_build_filename(path, name, NULL);
            tf_rmtree(p);
        }
        if (d)
            g_dir_close(d);
        g_rmdir(path);
    } else {
        g_unlink(path);
    }
}

/* Runs prog with the NULL-terminated args, capturing stdout and stderr into *out and *err (either
 * may be NULL); returns the exit status, -1 when it did not exit normally. */
static inline int tf_run(const char *prog, const char *const *args, char **out, char **err)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, (gpointer)prog);
    for (int i = 0; args[i]; i++)
        g_ptr_array_add(argv, (gpointer)args[i]);
    g_ptr_array_add(argv, NULL);
    int status = 0;
    g_autoptr(GError) error = NULL;
    g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, err, &status, &error);
    g_assert_no_error(error);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The s4g executable a CLI test gets as its one argument (meson passes it); exits 2 with a
 * usage line when it is missing. */
static inline const char *tf_s4g_argument(int argc, char **argv)
{
    if (argc < 2) {
        g_printerr("usage: %s PATH-TO-s4g\n", argv[0]);
        exit(2);
    }
    return argv[1];
}

/* Runs argv (argv[0] the program), asserts that it exits 0 (showing its stderr when not) and
 * returns its stdout (g_free). */
static inline char *tf_run_ok(const char *const *argv)
{
    char *out = NULL;
    g_autofree char *err = NULL;
    int rc = tf_run(argv[0], argv + 1, &out, &err);
    if (rc != 0)
        g_error("%s %s: exit %d: %s", argv[0], argv[1] ? argv[1] : "", rc, err ? err : "");
    return out;
}

/* Runs argv (argv[0] the program) and asserts that it fails (non-zero exit) with a message on
 * stderr containing `needle` (the file, field or name at fault). */
static inline void tf_run_fails(const char *const *argv, const char *needle)
{
    g_autofree char *err = NULL;
    int rc = tf_run(argv[0], argv + 1, NULL, &err);
    g_assert_cmpint(rc, !=, 0);
    g_assert_nonnull(err);
    if (!strstr(err, needle))
        g_error("expected “%s” in the error message, got: %s", needle, err);
}

/* The checked-in fixture `name` (tests/<area>/fixtures/, found through G_TEST_SRCDIR). */
static inline char *tf_fixture(const char *name)
{
    return g_test_build_filename(G_TEST_DIST, "fixtures", name, NULL);
}

#endif
