/* s4g-file.h — finishing a file written under a temporary name: rename it into place and
 * fsync its directory, so after a crash the final name holds either the old file or the
 * complete new one, and the rename itself survives a power loss. */
#ifndef S4G_FILE_H
#define S4G_FILE_H

#include "s4g-error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* tmp (already written and fsync'd) → path, then fsync of path's directory.  On failure tmp is
 * removed and -1 returned with an S4G_E_IO error naming path. */
int s4g_file_commit(const char *tmp, const char *path, s4g_err *err);

#ifdef __cplusplus
}
#endif

#endif
