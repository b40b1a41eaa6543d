/* s4g-file.c — see s4g-file.h. */
#include "s4g-file.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int s4g_file_open_regular(const char *path, goffset *size, GError **error)
{
    g_autofree char *shown = s4g_file_clip(path);
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "%s: %s", shown,
                    e == ENOENT ? "file not found" : g_strerror(e));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "%s: not a regular file", shown);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    if (size)
        *size = st.st_size;
    return fd;
}

/* Reads up to n bytes (fewer at end of file); -1 with errno on an error. */
static gssize read_up_to(int fd, char *buf, gsize n)
{
    gsize got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        got += (gsize)r;
    }
    return (gssize)got;
}

gsize s4g_file_read_head(const char *path, guint8 *buf, gsize n)
{
    int fd = s4g_file_open_regular(path, NULL, NULL);
    if (fd < 0)
        return 0;
    gssize got = read_up_to(fd, (char *)buf, n);
    close(fd);
    return got > 0 ? (gsize)got : 0;
}

gboolean s4g_file_read_regular(const char *path, gsize max_bytes, char **data, gsize *len,
                               GError **error)
{
    goffset size = 0;
    int fd = s4g_file_open_regular(path, &size, error);
    if (fd < 0)
        return FALSE;
    g_autofree char *shown = s4g_file_clip(path);
    if (max_bytes && (guint64)size > max_bytes) {
        close(fd);
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                    "%s: %" G_GINT64_FORMAT " bytes, more than the %" G_GSIZE_FORMAT
                    " allowed for this kind of file",
                    shown, (gint64)size, max_bytes);
        return FALSE;
    }
    char *buf = g_try_malloc((gsize)size + 1);
    if (!buf) {
        close(fd);
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO,
                    "%s: out of memory reading %" G_GINT64_FORMAT " bytes", shown, (gint64)size);
        return FALSE;
    }
    gssize got = read_up_to(fd, buf, (gsize)size); /* a file that shrank: what is there */
    if (got < 0) {
        int e = errno;
        close(fd);
        g_free(buf);
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "%s: %s", shown, g_strerror(e));
        return FALSE;
    }
    close(fd);
    buf[got] = '\0';
    *data = buf;
    *len = (gsize)got;
    return TRUE;
}

char *s4g_file_clip(const char *text)
{
    if (!text)
        return g_strdup("");
    gsize n = strlen(text);
    if (n <= 200)
        return g_strdup(text);
    const char *end = text + 200;
    while (end > text && ((guchar)*end & 0xC0) == 0x80)
        end--; /* back to the start of a UTF-8 sequence */
    return g_strdup_printf("%.*s…", (int)(end - text), text);
}

/* `rel` resolved below the resolved `root`, one component at a time: existing parts through
 * realpath() (symlinks followed), missing ones lexically ("..", "." handled). */
static char *resolve_below(const char *rroot, const char *rel)
{
    char *cur = g_strdup(rroot);
    gboolean exists = TRUE;
    g_auto(GStrv) parts = g_strsplit(rel, "/", -1);
    for (char **p = parts; *p; p++) {
        if (!**p || !strcmp(*p, "."))
            continue;
        char *next;
        if (!strcmp(*p, ".."))
            next = g_path_get_dirname(cur);
        else
            next = g_build_filename(cur, *p, NULL);
        if (exists) {
            char *r = realpath(next, NULL);
            if (r) {
                g_free(next);
                next = g_strdup(r);
                free(r);
            } else {
                exists = FALSE;
            }
        }
        g_free(cur);
        cur = next;
    }
    return cur;
}

gboolean s4g_file_inside_root(const char *root, const char *rel, GError **error)
{
    g_autofree char *shown = s4g_file_clip(rel);
    if (strlen(rel) >= PATH_MAX) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID, "%s: path longer than %d bytes",
                    shown, PATH_MAX);
        return FALSE;
    }
    if (g_path_is_absolute(rel)) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "%s: absolute path, expected one relative to the dataset root "
                    "(--allow-outside-root accepts it)",
                    shown);
        return FALSE;
    }
    char *r = realpath(root, NULL);
    g_autofree char *rroot = r ? g_strdup(r) : g_strdup(root);
    free(r);
    g_autofree char *rfull = resolve_below(rroot, rel);
    gsize n = strlen(rroot);
    gboolean inside = !strncmp(rfull, rroot, n) &&
                      (rfull[n] == '\0' || rfull[n] == '/' || (n == 1 && rroot[0] == '/'));
    if (!inside) {
        g_autofree char *shown_root = s4g_file_clip(rroot);
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "%s: leads outside the dataset root %s (--allow-outside-root accepts it)",
                    shown, shown_root);
        return FALSE;
    }
    return TRUE;
}
