/* s4g-dataset.h — the common reader API.  A reader walks one benchmark's published layout
 * (split files, .mat, folder trees) under a root folder and fills an S4gDataset: a list of
 * images (view, path relative to the root, split, identity, lat/lon or projected x/y) and a
 * list of pairs (ground, satellite, relation, split, pixel offsets).  Nothing here touches
 * the project database; s4g_dataset_store() writes a filled dataset in one transaction.
 *
 * Split names per kind (what `s4g import` records):
 *   cvusa       train (splits/train-19zl.csv), val (splits/val-19zl.csv; the reference code
 *               calls it "test" — it is the evaluation split)
 *   cvact       train, val (ACT_data.mat trainSet/valSet), test (ANU_data_test intersection)
 *   vigor       same-train, same-test, cross-train, cross-test (reference §6.3 modes)
 *   university  train (drone↔satellite), d2s (query_drone + gallery_satellite),
 *               s2d (query_satellite + gallery_drone); drone images use the "drone" view
 *   photos      query (ground photos, lat/lon from EXIF GPS or the CSV)
 */
#pragma once

#include "s4g-csv.h"
#include <glib.h>

#include "s4g-geo.h"
#include "s4g-store.h"

G_BEGIN_DECLS

typedef enum {
    S4G_VIEW_GROUND,
    S4G_VIEW_SATELLITE,
    S4G_VIEW_DRONE,
} S4gView;

typedef enum {
    S4G_RELATION_POSITIVE,
    S4G_RELATION_SEMI_POSITIVE,
} S4gRelation;

/* "ground" / "satellite" / "drone"; parse returns FALSE for anything else. */
const char *s4g_view_name(S4gView view);
gboolean s4g_view_parse(const char *name, S4gView *view);
const char *s4g_relation_name(S4gRelation relation);

typedef struct {
    S4gView view;
    char *path;      /* relative to the dataset root, '/' separated */
    char *split;
    gint64 identity; /* the dataset's own label (class id, satellite index…); -1 if none */
    double lat, lon; /* degrees; NAN when unknown */
    double x, y;     /* projected metres (CVACT UTM easting/northing); NAN when unknown */
    int width, height; /* pixels, from the file header */
} S4gDatasetImage;

typedef struct {
    guint ground;    /* index into images (a ground or drone image) */
    guint satellite; /* index into images */
    S4gRelation relation;
    char *split;
    double dx, dy;   /* VIGOR: pixel offset of the ground location from the tile centre; else NAN */
} S4gDatasetPair;

typedef enum {
    S4G_DATASET_CVUSA,
    S4G_DATASET_CVACT,
    S4G_DATASET_VIGOR,
    S4G_DATASET_UNIVERSITY,
    S4G_DATASET_PHOTOS,
} S4gDatasetKind;

const char *s4g_dataset_kind_name(S4gDatasetKind kind);
gboolean s4g_dataset_kind_parse(const char *name, S4gDatasetKind *kind);

typedef struct {
    S4gDatasetKind kind;
    char *root;
    gboolean skip_missing;  /* missing images are counted, not fatal */
    gboolean allow_outside_root; /* image paths may be absolute or lead outside root */
    gboolean replace;       /* a dataset of the same name but another kind or root is deleted
                             * (with its images' rows) before storing, instead of refused */
    GArray *images;         /* S4gDatasetImage */
    GArray *pairs;          /* S4gDatasetPair */
    guint missing;          /* images skipped because their file is absent (skip_missing) */
    GPtrArray *missing_paths; /* the first 20 of them, relative to root, for reports */
    guint skipped_pairs;    /* pairs dropped because one side was missing */
    guint skipped_files;    /* non-image files skipped (University-1652 class folders) */
    GHashTable *index;      /* "view\tsplit\tpath" → image index + 1 */
    /* Called after each image read (n = images so far) and while storing (done of total
     * rows); may be NULL. */
    void (*on_read)(guint n, gpointer data);
    void (*on_store)(guint done, guint total, gpointer data);
    gpointer progress_data;
} S4gDataset;

S4gDataset *s4g_dataset_new(S4gDatasetKind kind, const char *root, gboolean skip_missing);
void s4g_dataset_free(S4gDataset *ds);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(S4gDataset, s4g_dataset_free)

/* Reads the layout of ds->kind under ds->root (dispatches to the readers below). */
gboolean s4g_dataset_read(S4gDataset *ds, GError **error);

/* Adds an image (deduplicated on view+split+path; the existing index is returned).  The file
 * must exist, be a regular file inside ds->root (symlinks resolved; unless
 * ds->allow_outside_root) and be a JPEG/PNG/WebP/TIFF (checked from its header, which also
 * gives its size).  lat/lon are both NAN (unknown) or within ±90/±180.  `where` ("splits/train-19zl.csv:12: column 1") prefixes error messages.  A missing
 * file with skip_missing returns -1 without error (counted); any other failure returns -2
 * with error set. */
gint64 s4g_dataset_add_image(S4gDataset *ds, S4gView view, const char *path, const char *split,
                             gint64 identity, double lat, double lon, const char *where,
                             GError **error);
/* Looks an image up; -1 if absent. */
gint64 s4g_dataset_find_image(S4gDataset *ds, S4gView view, const char *split, const char *path);
void s4g_dataset_add_pair(S4gDataset *ds, guint ground, guint satellite, S4gRelation relation,
                          const char *split, double dx, double dy);
S4gDatasetImage *s4g_dataset_image(S4gDataset *ds, guint index);

/* Number of images of a split and view, and of pairs of a split and relation (split NULL =
 * all). */
guint s4g_dataset_count_images(S4gDataset *ds, const char *split, S4gView view);
guint s4g_dataset_count_pairs(S4gDataset *ds, const char *split, S4gRelation relation);

/* Checks that `path` is a regular image file; fills width/height.  Errors name the file. */
gboolean s4g_dataset_probe_image(const char *path, int *width, int *height, GError **error);

/* Writes the dataset into the project database under `name` in ONE transaction (rolled back
 * on any error): the datasets row (created or updated), its images, its pairs.  Rows already
 * present are kept (a second import of the same root adds nothing).  *dataset_id, and the
 * numbers of new image and pair rows, when the pointers are non-NULL. */
gboolean s4g_dataset_store(S4gDataset *ds, S4gStore *store, const char *name,
                           gint64 *dataset_id, guint *new_images, guint *new_pairs,
                           GError **error);

/* Readers, one per layout (s4g-reader-<kind>.c).  Errors name the file, line and field. */
gboolean s4g_reader_cvusa(S4gDataset *ds, GError **error);
gboolean s4g_reader_cvact(S4gDataset *ds, GError **error);
gboolean s4g_reader_vigor(S4gDataset *ds, GError **error);
gboolean s4g_reader_university(S4gDataset *ds, GError **error);
gboolean s4g_reader_photos(S4gDataset *ds, GError **error);

/* EXIF GPS of a JPEG (degrees, S and W negative); FALSE when it has none. */
gboolean s4g_photos_exif_gps(const char *path, double *lat, double *lon);
/* The same from the first bytes of a file (a JPEG, or raw EXIF data). */
gboolean s4g_photos_exif_gps_data(const guint8 *data, gsize len, double *lat, double *lon);

/* Shared parsing helpers for readers. */
/* A CSV file of the dataset (root/rel) read record by record (s4g-csv.h: RFC 4180, CRLF, a
 * BOM skipped), errors naming rel and the line: a regular file only, no larger than the text
 * budget (as s4g_dataset_read_lines). */
S4gCsvReader *s4g_dataset_open_csv(const char *root, const char *rel, GError **error);
/* Splits a text file into lines (handles \r\n, keeps empty lines so numbers stay right). */
char **s4g_dataset_read_lines(const char *root, const char *rel, GError **error);
/* Parses a double field; error "REL:LINE: FIELD: “TEXT” is not a number". */
gboolean s4g_dataset_parse_double(const char *text, const char *rel, guint line,
                                  const char *field, double *out, GError **error);

G_END_DECLS
