/* s4g-readfile.c — s4g_read_regular_file (see s4g-readfile.h). */
#include "s4g-readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int s4g_read_regular_file(const char *path, uint8_t **data, size_t *size, s4g_err *err)
{
    *data = NULL;
    *size = 0;
    /* O_NONBLOCK: opening a FIFO for reading must not wait for a writer. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return s4g_fail(err, S4G_E_IO, "%.4096s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return s4g_fail(err, S4G_E_IO, "%.4096s: not a regular file", path);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        close(fd);
        return s4g_fail(err, S4G_E_NOMEM, "%.4096s: cannot allocate %zu bytes", path, n);
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != n) {
        free(buf);
        return s4g_fail(err, S4G_E_IO, "%.4096s: read %zu of %zu bytes", path, got, n);
    }
    *data = buf;
    *size = n;
    return 0;
}
