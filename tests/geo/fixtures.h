/* fixtures.h — tiny on-disk layouts written by the tests themselves into temporary folders. */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "s4g-image.h"

/* Makes parent folders and writes `text`. */
static inline void fx_text(const char *root, const char *rel, const char *text)
{
    g_autofree char *p = g_build_filename(root, rel, NULL);
    g_autofree char *d = g_path_get_dirname(p);
    g_assert_cmpint(g_mkdir_with_parents(d, 0755), ==, 0);
    g_autoptr(GError) e = NULL;
    g_assert_true(g_file_set_contents(p, text, -1, &e));
}

/* A w×h image with a deterministic pattern (PNG, or JPEG when rel ends in .jpg). */
static inline void fx_image(const char *root, const char *rel, int w, int h, int seed)
{
    g_autofree char *p = g_build_filename(root, rel, NULL);
    g_autofree char *d = g_path_get_dirname(p);
    g_assert_cmpint(g_mkdir_with_parents(d, 0755), ==, 0);
    g_autoptr(S4gImage) im = s4g_image_new(w, h);
    for (int i = 0; i < w * h * 3; i++)
        im->data[i] = (guint8)((i * 7 + seed * 31 + (i / 3) % w * 5) & 0xff);
    g_autoptr(GError) e = NULL;
    g_assert_true(s4g_image_save(im, p, 90, &e));
}

static inline char *fx_tmpdir(void)
{
    g_autoptr(GError) e = NULL;
    char *d = g_dir_make_tmp("s4g-test-XXXXXX", &e);
    g_assert_no_error(e);
    return d;
}

static inline void fx_rmtree(const char *path)
{
    if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
        GDir *d = g_dir_open(path, 0, NULL);
        const char *n;
        while (d && (n = g_dir_read_name(d))) {
            g_autofree char *c = g_build_filename(path, n, NULL);
            fx_rmtree(c);
        }
        if (d)
            g_dir_close(d);
        g_rmdir(path);
    } else {
        g_unlink(path);
    }
}

/* Asserts that error is set and its message contains every one of the NULL-terminated
 * strings. */
static inline void fx_assert_error_mentions(GError *error, ...)
{
    g_assert_nonnull(error);
    va_list ap;
    va_start(ap, error);
    const char *s;
    while ((s = va_arg(ap, const char *))) {
        if (!strstr(error->message, s))
            g_error("error “%s” does not mention “%s”", error->message, s);
    }
    va_end(ap);
}

/* libvips reports a corrupt tile with g_warning (fatal in tests) and chatters at info level;
 * what matters to us is the GError it returns. */
static gboolean fx_vips_not_fatal(const char *domain, GLogLevelFlags level, const char *msg,
                                  gpointer data)
{
    return !(domain && !strcmp(domain, "VIPS"));
}

static void fx_drop_log(const char *domain, GLogLevelFlags level, const char *msg, gpointer data)
{
}

static inline void fx_init(int *argc, char ***argv)
{
    g_test_init(argc, argv, NULL);
    g_test_log_set_fatal_handler(fx_vips_not_fatal, NULL);
    /* libvips may log through the structured API, which ignores the handler above: keep
     * criticals fatal, let warnings through. */
    g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG |
                                  G_LOG_LEVEL_MESSAGE,
                      fx_drop_log, NULL);
}
