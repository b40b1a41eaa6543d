/* s4g-store-datasets.h — typed access to the datasets, images and pairs tables.  Inserts are
 * idempotent (the tables' UNIQUE keys + INSERT … ON CONFLICT DO NOTHING and a lookup), so
 * importing the same root twice adds no rows.  Views are "ground" / "satellite" / "drone",
 * relations "positive" / "semi-positive". */
#pragma once

#include "s4g-store.h"

G_BEGIN_DECLS

typedef struct {
    gint64 id;
    char *name;
    char *kind;
    char *root;
    char *options; /* JSON */
} S4gStoreDataset;

void s4g_store_dataset_clear(S4gStoreDataset *d);

typedef struct {
    gint64 id;
    gint64 dataset;
    char *view;
    char *path; /* relative to the dataset root */
    char *split;
    gint64 identity; /* -1 if none */
    double lat, lon; /* NAN when NULL */
    double x, y;     /* projected metres (CVACT UTM); NAN when NULL */
    int width, height; /* 0 when unknown */
} S4gStoreImage;

void s4g_store_image_clear(S4gStoreImage *im);

typedef struct {
    gint64 id;
    gint64 ground, satellite; /* image ids */
    char *relation;
    char *split;
    double dx, dy; /* NAN when NULL */
} S4gStorePair;

/* Creates the dataset row or updates kind/root/options of the one with that name. */
gboolean s4g_store_dataset_upsert(S4gStore *store, const char *name, const char *kind,
                                  const char *root, const char *options, gint64 *id,
                                  GError **error);
/* By name; S4G_STORE_ERROR_NOT_FOUND when absent. */
/* Deletes a dataset with everything that refers to its images (pairs, embeddings, mining
 * rows, predictions, annotations: the schema's cascades); runs and models that named it keep
 * their rows with the dataset unset.  Inside the caller's transaction when one is open. */
gboolean s4g_store_dataset_delete(S4gStore *store, gint64 id, GError **error);
gboolean s4g_store_dataset_find(S4gStore *store, const char *name, S4gStoreDataset *out,
                                GError **error);
gboolean s4g_store_dataset_get(S4gStore *store, gint64 id, S4gStoreDataset *out, GError **error);
/* All datasets, by id (GArray of S4gStoreDataset, with clear func). */
GArray *s4g_store_dataset_list(S4gStore *store, GError **error);

/* Batch writer for one import: prepared statements reused for every row.  Call inside a
 * transaction (s4g_store_begin/commit) for speed and atomicity. */
typedef struct S4gStoreDatasetWriter S4gStoreDatasetWriter;
S4gStoreDatasetWriter *s4g_store_dataset_writer_new(S4gStore *store, gint64 dataset,
                                                    GError **error);
void s4g_store_dataset_writer_free(S4gStoreDatasetWriter *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(S4gStoreDatasetWriter, s4g_store_dataset_writer_free)
/* Inserts the image if (dataset, view, path, split) is new; *id gets the row's id either way;
 * *inserted (may be NULL) says whether it was new.  NAN lat/lon/x/y and 0 sizes store NULL. */
gboolean s4g_store_dataset_writer_image(S4gStoreDatasetWriter *w, const S4gStoreImage *im,
                                        gint64 *id, gboolean *inserted, GError **error);
/* Inserts the pair if (ground, satellite) is new. */
gboolean s4g_store_dataset_writer_pair(S4gStoreDatasetWriter *w, gint64 ground,
                                       gint64 satellite, const char *relation,
                                       const char *split, double dx, double dy,
                                       gboolean *inserted, GError **error);

/* Row counts of a dataset grouped by split and view (images) or split and relation (pairs). */
typedef struct {
    char *split;
    char *what; /* view or relation */
    gint64 count;
} S4gStoreCount;
/* GArray of S4gStoreCount, ordered by split then what. */
GArray *s4g_store_dataset_image_counts(S4gStore *store, gint64 dataset, GError **error);
GArray *s4g_store_dataset_pair_counts(S4gStore *store, gint64 dataset, GError **error);

/* Images of a dataset (split and view may be NULL = any), ordered by id.  GArray of
 * S4gStoreImage with clear func. */
GArray *s4g_store_images_list(S4gStore *store, gint64 dataset, const char *split,
                              const char *view, GError **error);
gboolean s4g_store_image_get(S4gStore *store, gint64 id, S4gStoreImage *out, GError **error);
/* Pairs of a dataset (split/relation NULL = any), ordered by id.  GArray of S4gStorePair. */
GArray *s4g_store_pairs_list(S4gStore *store, gint64 dataset, const char *split,
                             const char *relation, GError **error);

/* The split names of a dataset's positive pairs, sorted (NULL-terminated). */
char **s4g_store_dataset_pair_splits(S4gStore *store, gint64 dataset, GError **error);
/* Dataset names, sorted (NULL-terminated). */
char **s4g_store_dataset_names(S4gStore *store, GError **error);
/* The names of the datasets that hold ground photos (a gallery holds none), sorted. */
char **s4g_store_photo_dataset_names(S4gStore *store, GError **error);

/* The image of a dataset at `path` (relative to its root), any view and split; NOT_FOUND
 * when there is none. */
gboolean s4g_store_image_find(S4gStore *store, gint64 dataset, const char *path,
                              S4gStoreImage *out, GError **error);
/* A ground image of any dataset with a known location whose file is `file` (absolute:
 * its dataset's root / its path); NOT_FOUND when there is none. */
gboolean s4g_store_image_find_located_ground(S4gStore *store, const char *file,
                                             S4gStoreImage *out, GError **error);

/* A ground photo of the project for browsing: its file resolved against its dataset's root,
 * and whether an open annotation flags it. */
typedef struct {
    gint64 id;
    char *file, *dataset, *split;
    double lat, lon; /* NAN when NULL */
    gboolean flagged;
} S4gStorePhoto;
void s4g_store_photo_clear(S4gStorePhoto *p);
/* Every ground image of every dataset, by id (GArray of S4gStorePhoto with clear func). */
GArray *s4g_store_photos_list(S4gStore *store, GError **error);
/* The split names that hold ground images, sorted (NULL-terminated). */
char **s4g_store_ground_splits(S4gStore *store, GError **error);

/* An image found for another one (a prediction's reference, a hard negative, a pair's tile),
 * with its file resolved against its dataset's root. */
typedef struct {
    int rank;
    gint64 image;
    char *file;
    double score, lat, lon; /* NAN when NULL */
} S4gStoreHit;
void s4g_store_hit_clear(S4gStoreHit *h);
/* The satellite tile paired with a ground image, positive before semi-positive (rank 0, score
 * NAN); NOT_FOUND when it has none. */
gboolean s4g_store_pair_tile(S4gStore *store, gint64 ground, S4gStoreHit *out, GError **error);
/* The other image of the first pair holding `image` (positive first); 0 when none, or on
 * error (-1 with error set). */
gint64 s4g_store_pair_partner(S4gStore *store, gint64 image, GError **error);

G_END_DECLS
