/* s4g-checksum.c — file checksums (see the header). */
#include "s4g-checksum.h"

#include <errno.h>
#include <stdio.h>

char *s4g_file_sha256(const char *path, goffset *size, GError **error)
{
    FILE *f = fopen(path, "rbe");
    if (!f) {
        int e = errno;
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "%s: cannot open: %s", path,
                    g_strerror(e));
        return NULL;
    }
    g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_autofree guchar *buf = g_malloc(1 << 20);
    size_t n;
    goffset total = 0;
    while ((n = fread(buf, 1, 1 << 20, f)) > 0) {
        g_checksum_update(sum, buf, (gssize)n);
        total += (goffset)n;
    }
    gboolean bad = ferror(f);
    fclose(f);
    if (bad) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_IO, "%s: read error", path);
        return NULL;
    }
    if (size) *size = total;
    return g_strdup(g_checksum_get_string(sum));
}
