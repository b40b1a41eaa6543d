/* s4g-project.h — the Studio's view of a project folder: wraps S4gStore and reads the tables
 * the windows show (photos, models, predictions, mining runs, hard negatives) with its own
 * queries.  The photo list is one query into a GListStore, cheap even for 10,000 rows; the
 * expensive part, thumbnails, loads lazily per visible cell. */
#pragma once

#include <gtk/gtk.h>

#include "s4g-photo.h"
#include "s4g-store.h"

G_BEGIN_DECLS

#define S4G_TYPE_PROJECT (s4g_project_get_type())
G_DECLARE_FINAL_TYPE(S4gProject, s4g_project, S4G, PROJECT, GObject)

typedef struct {
    int rank;
    gint64 image; /* the reference (tile) or negative image, 0 if none */
    char *path;   /* its file, absolute */
    double score;
    double lat, lon;
} S4gCandidate;

void s4g_candidate_free(S4gCandidate *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(S4gCandidate, s4g_candidate_free)

/* Waits at most max_wait_ms (< 0: as long as it takes) for another process's write lock;
 * then fails with S4G_STORE_ERROR_BUSY. */
S4gProject *s4g_project_open(const char *dir, gboolean create, gint64 max_wait_ms,
                             GError **error);
S4gStore *s4g_project_get_store(S4gProject *self);
const char *s4g_project_get_dir(S4gProject *self);
/* GListModel of S4gPhoto (ground views of every dataset), ordered by id. */
GListModel *s4g_project_get_photos(S4gProject *self);
/* Names of the datasets with photos (galleries left out) and of the splits present, for
 * the filter drop-downs and the training form. */
GStrv s4g_project_list_datasets(S4gProject *self);
GStrv s4g_project_list_splits(S4gProject *self);
/* Models as a GtkStringList of names; ids in the same order. */
GtkStringList *s4g_project_get_models(S4gProject *self);
gint64 s4g_project_model_id(S4gProject *self, guint position);
/* Appends the models the store gained since (a run trained meanwhile) to the list; the
 * positions of the ones listed stay as they are. */
gboolean s4g_project_reload_models(S4gProject *self, GError **error);
/* The search spaces prediction can use: datasets (galleries are datasets) with satellite
 * images, by name. */
GStrv s4g_project_list_search_spaces(S4gProject *self);
/* Sets each photo's error for `model` in `gallery` ("<dataset>/<split or *>") as s4g predict reports it:
 * the distance from the truth to the estimate (s4g-locate.h, refine radius `radius`) made
 * from all stored rows of the photo; NAN where it has no prediction or no truth. */
gboolean s4g_project_load_estimates(S4gProject *self, gint64 model, const char *gallery,
                                    double radius, GError **error);
/* The same estimate for one photo's stored rows (by rank): FALSE when it has none. */
gboolean s4g_project_estimate(S4gProject *self, gint64 model, gint64 image, const char *gallery,
                              double radius, double *lat, double *lon, double *confidence);
/* Top-k predictions of `model` for `image` in `gallery` by rank. */
GPtrArray *s4g_project_predictions_in(S4gProject *self, gint64 model, gint64 image,
                                      const char *gallery, int k, GError **error);
/* Top-k predictions of `model` for `image`, by rank (GPtrArray of S4gCandidate*). */
GPtrArray *s4g_project_predictions(S4gProject *self, gint64 model, gint64 image, int k,
                                   GError **error);
/* Mining runs as display strings; ids in the same order. */
GtkStringList *s4g_project_get_mining_runs(S4gProject *self, GArray **ids);
/* Anchors of a mining run (GArray of gint64 image ids). */
GArray *s4g_project_mining_anchors(S4gProject *self, gint64 run, GError **error);
/* The true (positive) satellite tile of a ground image; NULL if none. */
S4gCandidate *s4g_project_true_tile(S4gProject *self, gint64 ground);
GPtrArray *s4g_project_hard_negatives(S4gProject *self, gint64 run, gint64 anchor, GError **error);
/* "gps" or "dss" for a mining run (g_free), NULL if there is no such run. */
char *s4g_project_mining_run_kind(S4gProject *self, gint64 run);
/* The other image of `image`'s pair (positive first): a ground photo's satellite tile or a
 * tile's ground photo; 0 if it is in no pair.  GPS runs mine per tile, DSS runs per ground
 * photo, so this is what makes "the same anchor" comparable across runs. */
gint64 s4g_project_pair_partner(S4gProject *self, gint64 image);
/* Photo item for an image id, or NULL. */
S4gPhoto *s4g_project_find_photo(S4gProject *self, gint64 image);
/* The alphabetically first .mbtiles file in the project's tiles/, else in a dataset root's
 * tiles/ (where s4g synth puts it), or NULL. */
char *s4g_project_find_mbtiles(S4gProject *self);

G_END_DECLS
