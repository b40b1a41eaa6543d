/* s4g-split.h — one split of a dataset as retrieval sees it: the queries (ground or drone
 * images), the reference gallery (every satellite image of the split), each query's
 * positive reference and its semi-positives (VIGOR).  Training uses the train split's
 * (query, positive) pairs as its items and the satellites as identities; evaluation and
 * DSS mining embed both sides.  Built from the project database (s4g-store-datasets.h). */
#pragma once

#include "s4g-store.h"
#include "s4g-geo.h"

G_BEGIN_DECLS

typedef struct {
    char *kind; /* dataset kind */
    char *split;
    guint n_queries, n_refs;
    char **query_paths; /* absolute */
    gint64 *query_ids;  /* image ids */
    char **ref_paths;
    gint64 *ref_ids;
    double *ref_lat, *ref_lon; /* NAN when unknown */
    double *ref_x, *ref_y;     /* projected metres (CVACT), NAN when unknown */
    double *query_lat, *query_lon;
    guint32 *query_pos;              /* positive reference of each query */
    gint64 *query_label, *ref_label; /* the images' dataset identities (class ids), -1 none */
    guint32 *semi_start;             /* [n_queries+1] into semi */
    guint32 *semi;                   /* semi-positive reference indices */
    /* University-1652 satellite → drone (S2D): the queries are satellite images and the
     * references drone images, so each side is encoded at the other view's input size. */
    gboolean sat_queries;
} S4gSplit;

/* Queries: the ground/drone side of the split's positive pairs (a query with several
 * positives keeps the first); references: all satellite images of the split.  Errors when
 * the split has no pairs, naming the splits that exist. */
S4gSplit *s4g_split_load(S4gStore *store, gint64 dataset, const char *split, GError **error);
/* University-1652 satellite → drone retrieval (reference §6.4/§7.3, S2D) on a split: the
 * queries are every satellite image of the split, the gallery every drone image of it
 * (distractor classes included; the evaluation marks them junk).  query_pos is the first
 * drone image of the query's class (0 when it has none), no semi-positives, sat_queries set.
 * Errors when the split has no satellite or no drone images, naming it. */
S4gSplit *s4g_split_load_s2d(S4gStore *store, gint64 dataset, const char *split, GError **error);
void s4g_split_free(S4gSplit *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(S4gSplit, s4g_split_free)

/* Applies the Studio's annotations to a loaded split: when `exclude` is set, queries with an
 * OPEN 'bad-pair' or 'wrong-location' annotation are removed (their count in *n_excluded);
 * corrected locations ('location' annotations with lat/lon, newest wins) replace the
 * queries' coordinates, which the GPS neighbour table is built from. */
gboolean s4g_split_apply_annotations(S4gSplit *s, S4gStore *store, gboolean exclude,
                                     guint *n_excluded, GError **error);

/* Splits of a dataset that have positive pairs (NULL-terminated, g_strfreev). */
char **s4g_split_names(S4gStore *store, gint64 dataset, GError **error);

G_END_DECLS
