/* s4g-neighbours.h — a neighbour table: for each of N training identities, up to K other
 * identities ordered from nearest/most similar to farthest, with the distance (GPS) or the
 * similarity (DSS) of each.  It is the C form of the reference code's pickled `sim_dict`
 * (sample4geo-reference.md §4.1): GPS mining (s4g-gps.h) and DSS mining (s4g-dss.h) fill it,
 * the batch builders (s4g-sampler.h) read it.  Rows are dense identity indices 0..N-1. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    guint n;       /* rows (identities) */
    guint k;       /* capacity per row */
    guint *count;  /* [n] filled entries of each row (< k when fewer exist, 0 = no row) */
    gint32 *ids;   /* [n*k] neighbour identity indices, nearest first */
    float *values; /* [n*k] distance (GPS) or similarity (DSS) of each entry */
} S4gNeighbours;

S4gNeighbours *s4g_neighbours_new(guint n, guint k);
void s4g_neighbours_free(S4gNeighbours *nb);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(S4gNeighbours, s4g_neighbours_free)

static inline const gint32 *s4g_neighbours_row(const S4gNeighbours *nb, guint i)
{
    return nb->ids + (gsize)i * nb->k;
}

G_END_DECLS
