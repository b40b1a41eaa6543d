/* s4g-file.c — see s4g-file.h. */
#include "s4g-file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int s4g_file_commit(const char *tmp, const char *path, s4g_err *err)
{
    if (rename(tmp, path) != 0) {
        int er = errno;
        unlink(tmp);
        return s4g_fail(err, S4G_E_IO, "%s: cannot finish writing: %s", path, strerror(er));
    }
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        int er = errno;
        if (fd >= 0) close(fd);
        return s4g_fail(err, S4G_E_IO, "%s: cannot sync its folder %s: %s", path, dir,
                        strerror(er));
    }
    close(fd);
    return 0;
}
