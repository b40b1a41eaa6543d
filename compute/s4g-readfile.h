/* s4g-readfile.h — reading a user's file whole, safely: regular files only (a FIFO or device
 * given as weights or an array never blocks), opened non-blocking. */
#ifndef S4G_READFILE_H
#define S4G_READFILE_H

#include "s4g-error.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The whole of a regular file; *data is malloc'd (free it).  0, or -1 with err naming the
 * file. */
int s4g_read_regular_file(const char *path, uint8_t **data, size_t *size, s4g_err *err);

#ifdef __cplusplus
}
#endif
#endif
