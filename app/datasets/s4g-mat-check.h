/* s4g-mat-check.h — validates a MATLAB v5 file's structure before matio reads it.  matio
 * allocates what a file declares (dimensions, cell and struct element counts) and trusts
 * element sizes; this walk checks every variable first: each element fits in the bytes
 * present, compressed variables inflate to at most a bounded size, dimensions are
 * non-negative and their product matches the data present for numeric and char arrays, a
 * char array is never complex, cells and structs hold no more elements than their bytes can,
 * and nesting is at most 16 deep.  Errors name the file, the variable and the field. */
#pragma once

#include <glib.h>

#include "s4g-geo.h"

G_BEGIN_DECLS

typedef enum {
    S4G_MAT_V5,
    S4G_MAT_V73, /* HDF5-based; not walked here (the caller bounds matio's reads instead) */
} S4gMatVersion;

/* `buf` holds the whole file.  Returns FALSE (error set) when it is neither a valid v5 file
 * nor a v7.3 one. */
gboolean s4g_mat_check(const guint8 *buf, gsize len, const char *what, S4gMatVersion *version,
                       GError **error);

G_END_DECLS
