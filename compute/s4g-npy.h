/* s4g-npy.h — float32 .npy arrays (NumPy format 1.0/2.0/3.0, C order), the exchange format of
 * `s4g encode` and of the test fixtures.  Reading accepts little-endian float32 ('<f4') and
 * float64 ('<f8', converted); anything else, Fortran order, or a size that does not match the
 * file is an error naming the file. */
#ifndef S4G_NPY_H
#define S4G_NPY_H

#include "s4g-error.h"

#include <stddef.h>
#include <stdint.h>

#define S4G_NPY_MAX_DIMS 8

typedef struct s4g_npy {
    int ndim;
    int64_t shape[S4G_NPY_MAX_DIMS];
    size_t count;
    float *data; /* malloc'd, count floats */
} s4g_npy;

int s4g_npy_read(const char *path, s4g_npy *out, s4g_err *err);
/* Parses an in-memory image (does not take ownership). */
int s4g_npy_parse(const uint8_t *buf, size_t len, const char *label, s4g_npy *out,
                  s4g_err *err);
void s4g_npy_clear(s4g_npy *a);
/* Writes a '<f4' C-order array, format 1.0, atomically (temp + fsync + rename). */
int s4g_npy_write(const char *path, int ndim, const int64_t *shape, const float *data,
                  s4g_err *err);

#endif
