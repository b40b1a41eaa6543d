/* s4g-test-files.h — files for tests that read checked-in fixtures and write scratch files:
 * a private temporary folder per test program (removed with what the tests left in it) and
 * fixture paths.  GLib only, so tests outside compute/ (the CLI ones) include it too. */
#ifndef S4G_TEST_FILES_H
#define S4G_TEST_FILES_H

#include <glib.h>
#include <glib/gstdio.h>

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

/* The checked-in fixture `name` (tests/<area>/fixtures/, found through G_TEST_SRCDIR). */
static inline char *tf_fixture(const char *name)
{
    return g_test_build_filename(G_TEST_DIST, "fixtures", name, NULL);
}

#endif
