/* s4g-file.c — see s4g-file.h. */
#include "s4g-file.h"

#include <errno.h>
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
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "%s: out of memory reading %" G_GINT64_FORMAT " bytes",
                    shown, (gint64)size);
        return FALSE;
    }
    gsize got = 0;
    while (got < (gsize)size) {
        ssize_t r = read(fd, buf + got, (gsize)size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            g_free(buf);
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "%s: %s", shown, g_strerror(e));
            return FALSE;
        }
        if (r == 0)
            break; /* shrank while reading: take what is there */
        got += (gsize)r;
    }
    close(fd);
    buf[got] = '\0';
    *data = buf;
    *len = got;
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

/* realpath() of the longest existing prefix of `path`, with the rest appended lexically
 * (".." in the missing rest climbs the resolved part). */
static char *resolve(const char *path)
{
    char *r = realpath(path, NULL);
    if (r)
        return r;
    g_autofree char *dir = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    if (!strcmp(dir, path))
        return g_strdup(path);
    g_autofree char *rd = resolve(dir);
    if (!strcmp(base, ".."))
        return g_path_get_dirname(rd);
    if (!strcmp(base, "."))
        return g_strdup(rd);
    return g_build_filename(rd, base, NULL);
}

gboolean s4g_file_inside_root(const char *root, const char *rel, GError **error)
{
    g_autofree char *shown = s4g_file_clip(rel);
    if (g_path_is_absolute(rel)) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "%s: absolute path, expected one relative to the dataset root "
                    "(--allow-outside-root accepts it)",
                    shown);
        return FALSE;
    }
    g_autofree char *full = g_build_filename(root, rel, NULL);
    g_autofree char *rroot = resolve(root);
    g_autofree char *rfull = resolve(full);
    gsize n = strlen(rroot);
    gboolean inside = !strncmp(rfull, rroot, n) &&
                      (rfull[n] == '\0' || rfull[n] == '/' || (n == 1 && rroot[0] == '/'));
    if (!inside) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "%s: leads outside the dataset root %s (--allow-outside-root accepts it)",
                    shown, rroot);
        return FALSE;
    }
    return TRUE;
}
