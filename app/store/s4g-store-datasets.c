/* s4g-store-datasets.c — datasets, images, pairs. */
#define G_LOG_DOMAIN "s4g-store"
#include "s4g-store-datasets.h"

#include <math.h>

void s4g_store_dataset_clear(S4gStoreDataset *d)
{
    g_clear_pointer(&d->name, g_free);
    g_clear_pointer(&d->kind, g_free);
    g_clear_pointer(&d->root, g_free);
    g_clear_pointer(&d->options, g_free);
}

void s4g_store_image_clear(S4gStoreImage *im)
{
    g_clear_pointer(&im->view, g_free);
    g_clear_pointer(&im->path, g_free);
    g_clear_pointer(&im->split, g_free);
}

static void pair_clear(gpointer p)
{
    S4gStorePair *pr = p;
    g_free(pr->relation);
    g_free(pr->split);
}

static void count_clear(gpointer p)
{
    S4gStoreCount *c = p;
    g_free(c->split);
    g_free(c->what);
}

static char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? g_strdup((const char *)t) : NULL;
}

static double col_real(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static void bind_real(sqlite3_stmt *st, int i, double v)
{
    if (isnan(v))
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, v);
}

static void bind_text(sqlite3_stmt *st, int i, const char *t)
{
    if (t)
        sqlite3_bind_text(st, i, t, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

typedef void (*ReadRow)(sqlite3_stmt *st, gpointer out);

/* Steps st to its end, reading each row with read into a new array of elt-sized items
 * (freed with clear).  NULL with an error about `what` ("listing images") on failure. */
static GArray *read_rows(S4gStore *store, sqlite3_stmt *st, gsize elt, GDestroyNotify clear, ReadRow read,
                         const char *what, GError **error)
{
    GArray *out = g_array_new(FALSE, TRUE, elt);
    g_array_set_clear_func(out, clear);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        g_array_set_size(out, out->len + 1);
        read(st, out->data + (gsize)(out->len - 1) * elt);
    }
    if (rc != SQLITE_DONE) {
        g_array_unref(out);
        s4g_store_fail(store, what, error);
        return NULL;
    }
    return out;
}

/* Steps st once: 1 with the row read into out, 0 when there is none (error unset: the caller
 * names what was not found), -1 with an error about `what` when the query failed. */
static int read_one(S4gStore *store, sqlite3_stmt *st, ReadRow read, gpointer out, const char *what,
                    GError **error)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        read(st, out);
        return 1;
    }
    if (rc != SQLITE_DONE) {
        s4g_store_fail(store, what, error);
        return -1;
    }
    return 0;
}

gboolean s4g_store_dataset_upsert(S4gStore *store, const char *name, const char *kind,
                                  const char *root, const char *options, gint64 *id,
                                  GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store,
        "INSERT INTO datasets(name, kind, root, options) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT(name) DO UPDATE SET kind = ?2, root = ?3, options = ?4 RETURNING id",
        error);
    if (!st)
        return FALSE;
    bind_text(st, 1, name);
    bind_text(st, 2, kind);
    bind_text(st, 3, root);
    bind_text(st, 4, options ? options : "{}");
    if (sqlite3_step(st) != SQLITE_ROW)
        return s4g_store_fail(store, "saving the dataset", error);
    if (id)
        *id = sqlite3_column_int64(st, 0);
    return TRUE;
}

static void read_dataset(sqlite3_stmt *st, gpointer p)
{
    S4gStoreDataset *out = p;
    out->id = sqlite3_column_int64(st, 0);
    out->name = col_text(st, 1);
    out->kind = col_text(st, 2);
    out->root = col_text(st, 3);
    out->options = col_text(st, 4);
}

#define DATASET_COLS "SELECT id, name, kind, root, options FROM datasets "

gboolean s4g_store_dataset_find(S4gStore *store, const char *name, S4gStoreDataset *out,
                                GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(store, DATASET_COLS "WHERE name = ?", error);
    if (!st)
        return FALSE;
    bind_text(st, 1, name);
    int found = read_one(store, st, read_dataset, out, "looking up a dataset", error);
    if (found)
        return found > 0;
    g_set_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_NOT_FOUND, "%s: no dataset named “%s”",
                s4g_store_dir(store), name);
    return FALSE;
}

gboolean s4g_store_dataset_get(S4gStore *store, gint64 id, S4gStoreDataset *out, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(store, DATASET_COLS "WHERE id = ?", error);
    if (!st)
        return FALSE;
    sqlite3_bind_int64(st, 1, id);
    int found = read_one(store, st, read_dataset, out, "looking up a dataset", error);
    if (found)
        return found > 0;
    g_set_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_NOT_FOUND,
                "%s: no dataset with id %" G_GINT64_FORMAT, s4g_store_dir(store), id);
    return FALSE;
}

GArray *s4g_store_dataset_list(S4gStore *store, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(store, DATASET_COLS "ORDER BY id", error);
    if (!st)
        return NULL;
    return read_rows(store, st, sizeof(S4gStoreDataset), (GDestroyNotify)s4g_store_dataset_clear, read_dataset,
                     "listing datasets", error);
}

struct S4gStoreDatasetWriter {
    S4gStore *store;
    gint64 dataset;
    sqlite3_stmt *ins_image, *find_image, *ins_pair;
};

void s4g_store_dataset_writer_free(S4gStoreDatasetWriter *w)
{
    if (!w)
        return;
    sqlite3_finalize(w->ins_image);
    sqlite3_finalize(w->find_image);
    sqlite3_finalize(w->ins_pair);
    g_free(w);
}

S4gStoreDatasetWriter *s4g_store_dataset_writer_new(S4gStore *store, gint64 dataset,
                                                    GError **error)
{
    S4gStoreDatasetWriter *w = g_new0(S4gStoreDatasetWriter, 1);
    w->store = store;
    w->dataset = dataset;
    if (!(w->ins_image = s4g_store_prepare(
              store,
              "INSERT INTO images(dataset, view, path, split, identity, lat, lon, x, y, width, "
              "height) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
              "ON CONFLICT(dataset, view, path, split) DO NOTHING RETURNING id",
              error)) ||
        !(w->find_image = s4g_store_prepare(
              store,
              "SELECT id FROM images WHERE dataset = ? AND view = ? AND path = ? AND split = ?",
              error)) ||
        !(w->ins_pair = s4g_store_prepare(
              store,
              "INSERT INTO pairs(dataset, ground, satellite, relation, split, dx, dy) "
              "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(ground, satellite) DO NOTHING",
              error))) {
        s4g_store_dataset_writer_free(w);
        return NULL;
    }
    return w;
}

/* Resets st and binds what identifies an image, (dataset, view, path, split), to ?1…?4. */
static void bind_image_key(S4gStoreDatasetWriter *w, sqlite3_stmt *st, const S4gStoreImage *im)
{
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, w->dataset);
    bind_text(st, 2, im->view);
    bind_text(st, 3, im->path);
    bind_text(st, 4, im->split);
}

gboolean s4g_store_dataset_writer_image(S4gStoreDatasetWriter *w, const S4gStoreImage *im,
                                        gint64 *id, gboolean *inserted, GError **error)
{
    sqlite3_stmt *st = w->ins_image;
    bind_image_key(w, st, im);
    sqlite3_bind_int64(st, 5, im->identity);
    bind_real(st, 6, im->lat);
    bind_real(st, 7, im->lon);
    bind_real(st, 8, im->x);
    bind_real(st, 9, im->y);
    if (im->width > 0 && im->height > 0) {
        sqlite3_bind_int(st, 10, im->width);
        sqlite3_bind_int(st, 11, im->height);
    } else {
        sqlite3_bind_null(st, 10);
        sqlite3_bind_null(st, 11);
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (id)
            *id = sqlite3_column_int64(st, 0);
        if (inserted)
            *inserted = TRUE;
        sqlite3_reset(st);
        return TRUE;
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        g_autofree char *what = g_strdup_printf("inserting image %s", im->path);
        return s4g_store_fail(w->store, what, error);
    }
    /* Already there: look its id up. */
    st = w->find_image;
    bind_image_key(w, st, im);
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        g_autofree char *what = g_strdup_printf("looking up image %s", im->path);
        return s4g_store_fail(w->store, what, error);
    }
    if (id)
        *id = sqlite3_column_int64(st, 0);
    if (inserted)
        *inserted = FALSE;
    sqlite3_reset(st);
    return TRUE;
}

gboolean s4g_store_dataset_writer_pair(S4gStoreDatasetWriter *w, gint64 ground,
                                       gint64 satellite, const char *relation,
                                       const char *split, double dx, double dy,
                                       gboolean *inserted, GError **error)
{
    sqlite3_stmt *st = w->ins_pair;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, w->dataset);
    sqlite3_bind_int64(st, 2, ground);
    sqlite3_bind_int64(st, 3, satellite);
    bind_text(st, 4, relation);
    bind_text(st, 5, split);
    bind_real(st, 6, dx);
    bind_real(st, 7, dy);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return s4g_store_fail(w->store, "inserting a pair", error);
    if (inserted)
        *inserted = sqlite3_changes(s4g_store_db(w->store)) > 0;
    return TRUE;
}

static void read_count(sqlite3_stmt *st, gpointer p)
{
    *(S4gStoreCount *)p = (S4gStoreCount){col_text(st, 0), col_text(st, 1), sqlite3_column_int64(st, 2)};
}

static GArray *counts(S4gStore *store, const char *sql, gint64 dataset, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(store, sql, error);
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, dataset);
    return read_rows(store, st, sizeof(S4gStoreCount), count_clear, read_count, "counting rows", error);
}

GArray *s4g_store_dataset_image_counts(S4gStore *store, gint64 dataset, GError **error)
{
    return counts(store,
                  "SELECT split, view, count(*) FROM images WHERE dataset = ? "
                  "GROUP BY split, view ORDER BY split, view",
                  dataset, error);
}

GArray *s4g_store_dataset_pair_counts(S4gStore *store, gint64 dataset, GError **error)
{
    return counts(store,
                  "SELECT split, relation, count(*) FROM pairs WHERE dataset = ? "
                  "GROUP BY split, relation ORDER BY split, relation",
                  dataset, error);
}

#define IMAGE_COLS                                                                             \
    "SELECT id, dataset, view, path, split, identity, lat, lon, x, y, width, height FROM images "

static void read_image(sqlite3_stmt *st, gpointer p)
{
    S4gStoreImage *im = p;
    im->id = sqlite3_column_int64(st, 0);
    im->dataset = sqlite3_column_int64(st, 1);
    im->view = col_text(st, 2);
    im->path = col_text(st, 3);
    im->split = col_text(st, 4);
    im->identity = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 5);
    im->lat = col_real(st, 6);
    im->lon = col_real(st, 7);
    im->x = col_real(st, 8);
    im->y = col_real(st, 9);
    im->width = sqlite3_column_int(st, 10);
    im->height = sqlite3_column_int(st, 11);
}

GArray *s4g_store_images_list(S4gStore *store, gint64 dataset, const char *split,
                              const char *view, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store,
        IMAGE_COLS "WHERE dataset = ?1 AND (?2 IS NULL OR split = ?2) AND (?3 IS NULL OR view = ?3) "
                   "ORDER BY id",
        error);
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, dataset);
    bind_text(st, 2, split);
    bind_text(st, 3, view);
    return read_rows(store, st, sizeof(S4gStoreImage), (GDestroyNotify)s4g_store_image_clear, read_image,
                     "listing images", error);
}

gboolean s4g_store_image_get(S4gStore *store, gint64 id, S4gStoreImage *out, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(store, IMAGE_COLS "WHERE id = ?", error);
    if (!st)
        return FALSE;
    sqlite3_bind_int64(st, 1, id);
    int found = read_one(store, st, read_image, out, "looking up an image", error);
    if (found)
        return found > 0;
    g_set_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_NOT_FOUND,
                "%s: no image with id %" G_GINT64_FORMAT, s4g_store_dir(store), id);
    return FALSE;
}

static void read_pair(sqlite3_stmt *st, gpointer p)
{
    *(S4gStorePair *)p = (S4gStorePair){sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                                        sqlite3_column_int64(st, 2), col_text(st, 3), col_text(st, 4),
                                        col_real(st, 5), col_real(st, 6)};
}

GArray *s4g_store_pairs_list(S4gStore *store, gint64 dataset, const char *split,
                             const char *relation, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store,
        "SELECT id, ground, satellite, relation, split, dx, dy FROM pairs WHERE dataset = ?1 "
        "AND (?2 IS NULL OR split = ?2) AND (?3 IS NULL OR relation = ?3) ORDER BY id",
        error);
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, dataset);
    bind_text(st, 2, split);
    bind_text(st, 3, relation);
    return read_rows(store, st, sizeof(S4gStorePair), pair_clear, read_pair, "listing pairs", error);
}
