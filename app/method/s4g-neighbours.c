/* s4g-neighbours.c — allocation of neighbour tables. */
#include "s4g-neighbours.h"

S4gNeighbours *s4g_neighbours_new(guint n, guint k)
{
    S4gNeighbours *nb = g_new0(S4gNeighbours, 1);
    nb->n = n;
    nb->k = k;
    nb->count = g_new0(guint, MAX(n, 1));
    nb->ids = g_new(gint32, MAX((gsize)n * k, 1));
    nb->values = g_new0(float, MAX((gsize)n * k, 1));
    for (gsize i = 0; i < (gsize)n * k; i++)
        nb->ids[i] = -1;
    return nb;
}

void s4g_neighbours_free(S4gNeighbours *nb)
{
    if (!nb) return;
    g_free(nb->count);
    g_free(nb->ids);
    g_free(nb->values);
    g_free(nb);
}
