/* s4g-checksum.h — the SHA-256 of a file's bytes (hex), read in 1 MiB pieces. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Lower-case hex SHA-256 of path's contents, and its size in bytes when size is not NULL;
 * NULL with an error naming the file when it cannot be opened or read. */
char *s4g_file_sha256(const char *path, goffset *size, GError **error);

G_END_DECLS
