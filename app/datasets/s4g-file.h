/* s4g-file.h — opening user files safely: regular files only (a FIFO or device never blocks
 * the caller), reads bounded by a byte budget, and paths kept inside a dataset root. */
#pragma once

#include <glib.h>

#include "s4g-geo.h"

G_BEGIN_DECLS

/* Opens `path` read-only without blocking (O_NONBLOCK, cleared after the check) and checks it
 * is a regular file (symlinks followed).  Returns the descriptor (close it) and its size, or
 * -1 with an error naming the file. */
int s4g_file_open_regular(const char *path, goffset *size, GError **error);

/* The whole of a regular file, NUL-terminated (not counted in *len); refuses files larger than
 * max_bytes (0 = no limit).  Errors name the file. */
gboolean s4g_file_read_regular(const char *path, gsize max_bytes, char **data, gsize *len,
                               GError **error);

/* The first bytes (at most n) of a regular file into buf; 0 when it is not one or is empty. */
gsize s4g_file_read_head(const char *path, guint8 *buf, gsize n);

/* At most 200 bytes of `text` for an error message: longer text is cut at a UTF-8 boundary
 * and ends in "…". */
char *s4g_file_clip(const char *text);

/* Whether `rel` (a path relative to `root`) names something that stays inside root: not
 * absolute, and its resolved location (symlinks followed, for the part that exists) is root
 * itself or below it.  FALSE with an error naming the path otherwise. */
gboolean s4g_file_inside_root(const char *root, const char *rel, GError **error);

G_END_DECLS
