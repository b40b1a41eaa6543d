/* s4g-store-datasets.c — datasets, images, pairs. */
#include "s4g-store-datasets.h"
#include "s4g-store-private.h"

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


gboolean s4g_store_dataset_delete(S4gStore *store, gint64 id, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(store, "DELETE FROM datasets WHERE id = ?1", error);
    if (!st)
        return FALSE;
    sqlite3_bind_int64(st, 1, id);
    return s4g_store_step_done(store, st, "deleting a dataset", error);
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
    s4g_store_bind_text(st, 1, name);
    s4g_store_bind_text(st, 2, kind);
    s4g_store_bind_text(st, 3, root);
    s4g_store_bind_text(st, 4, options ? options : "{}");
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
    out->name = s4g_store_col_text(st, 1);
    out->kind = s4g_store_col_text(st, 2);
    out->root = s4g_store_col_text(st, 3);
    out->options = s4g_store_col_text(st, 4);
}

#define DATASET_COLS "SELECT id, name, kind, root, options FROM datasets "

gboolean s4g_store_dataset_find(S4gStore *store, const char *name, S4gStoreDataset *out,
                                GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(store, DATASET_COLS "WHERE name = ?", error);
    if (!st)
        return FALSE;
    s4g_store_bind_text(st, 1, name);
    int found = s4g_store_read_one(store, st, read_dataset, out, "looking up a dataset", error);
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
    int found = s4g_store_read_one(store, st, read_dataset, out, "looking up a dataset", error);
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
    return s4g_store_read_rows(store, st, sizeof(S4gStoreDataset), (GDestroyNotify)s4g_store_dataset_clear, read_dataset,
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
    s4g_store_bind_text(st, 2, im->view);
    s4g_store_bind_text(st, 3, im->path);
    s4g_store_bind_text(st, 4, im->split);
}

gboolean s4g_store_dataset_writer_image(S4gStoreDatasetWriter *w, const S4gStoreImage *im,
                                        gint64 *id, gboolean *inserted, GError **error)
{
    sqlite3_stmt *st = w->ins_image;
    bind_image_key(w, st, im);
    sqlite3_bind_int64(st, 5, im->identity);
    s4g_store_bind_real(st, 6, im->lat);
    s4g_store_bind_real(st, 7, im->lon);
    s4g_store_bind_real(st, 8, im->x);
    s4g_store_bind_real(st, 9, im->y);
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
    s4g_store_bind_text(st, 4, relation);
    s4g_store_bind_text(st, 5, split);
    s4g_store_bind_real(st, 6, dx);
    s4g_store_bind_real(st, 7, dy);
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
    *(S4gStoreCount *)p = (S4gStoreCount){s4g_store_col_text(st, 0), s4g_store_col_text(st, 1), sqlite3_column_int64(st, 2)};
}

static GArray *counts(S4gStore *store, const char *sql, gint64 dataset, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(store, sql, error);
    if (!st)
        return NULL;
    sqlite3_bind_int64(st, 1, dataset);
    return s4g_store_read_rows(store, st, sizeof(S4gStoreCount), count_clear, read_count, "counting rows", error);
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
    im->view = s4g_store_col_text(st, 2);
    im->path = s4g_store_col_text(st, 3);
    im->split = s4g_store_col_text(st, 4);
    im->identity = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 5);
    im->lat = s4g_store_col_real(st, 6);
    im->lon = s4g_store_col_real(st, 7);
    im->x = s4g_store_col_real(st, 8);
    im->y = s4g_store_col_real(st, 9);
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
    s4g_store_bind_text(st, 2, split);
    s4g_store_bind_text(st, 3, view);
    return s4g_store_read_rows(store, st, sizeof(S4gStoreImage), (GDestroyNotify)s4g_store_image_clear, read_image,
                     "listing images", error);
}

gboolean s4g_store_image_get(S4gStore *store, gint64 id, S4gStoreImage *out, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(store, IMAGE_COLS "WHERE id = ?", error);
    if (!st)
        return FALSE;
    sqlite3_bind_int64(st, 1, id);
    int found = s4g_store_read_one(store, st, read_image, out, "looking up an image", error);
    if (found)
        return found > 0;
    g_set_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_NOT_FOUND,
                "%s: no image with id %" G_GINT64_FORMAT, s4g_store_dir(store), id);
    return FALSE;
}

static void read_pair(sqlite3_stmt *st, gpointer p)
{
    *(S4gStorePair *)p = (S4gStorePair){sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                                        sqlite3_column_int64(st, 2), s4g_store_col_text(st, 3), s4g_store_col_text(st, 4),
                                        s4g_store_col_real(st, 5), s4g_store_col_real(st, 6)};
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
    s4g_store_bind_text(st, 2, split);
    s4g_store_bind_text(st, 3, relation);
    return s4g_store_read_rows(store, st, sizeof(S4gStorePair), pair_clear, read_pair, "listing pairs", error);
}

/* The first column of every row of st (text), NULL-terminated; NULL with an error. */
char **s4g_store_read_strings(S4gStore *store, sqlite3_stmt *st, const char *what, GError **error)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        g_strv_builder_add(b, (const char *)sqlite3_column_text(st, 0));
    if (rc != SQLITE_DONE) {
        s4g_store_fail(store, what, error);
        return NULL;
    }
    return g_strv_builder_end(b);
}

char **s4g_store_dataset_pair_splits(S4gStore *store, gint64 dataset, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store,
        "SELECT DISTINCT split FROM pairs WHERE dataset = ? AND relation = 'positive' "
        "ORDER BY split",
        error);
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, dataset);
    return s4g_store_read_strings(store, st, "listing splits", error);
}

char **s4g_store_dataset_names(S4gStore *store, GError **error)
{
    g_autoptr(sqlite3_stmt) st =
        s4g_store_prepare(store, "SELECT name FROM datasets ORDER BY name", error);
    return st ? s4g_store_read_strings(store, st, "listing datasets", error) : NULL;
}

char **s4g_store_photo_dataset_names(S4gStore *store, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store,
        "SELECT name FROM datasets d WHERE EXISTS (SELECT 1 FROM images i WHERE i.dataset = d.id "
        "AND i.view = 'ground') ORDER BY name",
        error);
    return st ? s4g_store_read_strings(store, st, "listing datasets with photos", error) : NULL;
}

char **s4g_store_ground_splits(S4gStore *store, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store, "SELECT DISTINCT split FROM images WHERE view = 'ground' ORDER BY split", error);
    return st ? s4g_store_read_strings(store, st, "listing splits", error) : NULL;
}

/* One image found by `sql` (IMAGE_COLS … with ?1 = the first text, ?2 = id when > 0). */
static gboolean find_image(S4gStore *store, const char *sql, gint64 id, const char *text,
                           S4gStoreImage *out, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(store, sql, error);
    if (!st) return FALSE;
    s4g_store_bind_text(st, 1, text);
    if (id > 0) sqlite3_bind_int64(st, 2, id);
    int found = s4g_store_read_one(store, st, read_image, out, "finding an image", error);
    if (found == 0)
        return s4g_store_not_found(error, "%s: no image %s", s4g_store_dir(store), text);
    return found > 0;
}

gboolean s4g_store_image_find(S4gStore *store, gint64 dataset, const char *path,
                              S4gStoreImage *out, GError **error)
{
    return find_image(store, IMAGE_COLS "WHERE path = ?1 AND dataset = ?2 ORDER BY id LIMIT 1",
                      dataset, path, out, error);
}

gboolean s4g_store_image_find_located_ground(S4gStore *store, const char *file,
                                             S4gStoreImage *out, GError **error)
{
    return find_image(store,
                      IMAGE_COLS "WHERE view = 'ground' AND lat IS NOT NULL AND "
                                 "(SELECT root FROM datasets d WHERE d.id = images.dataset) || '/' || "
                                 "path = ?1 ORDER BY id LIMIT 1",
                      0, file, out, error);
}

/* Image paths are stored relative to their dataset's root. */
static char *resolve(sqlite3_stmt *st, int root_col, int path_col)
{
    const char *root = (const char *)sqlite3_column_text(st, root_col);
    const char *path = (const char *)sqlite3_column_text(st, path_col);
    if (!path) return NULL;
    if (g_path_is_absolute(path) || !root) return g_strdup(path);
    return g_build_filename(root, path, NULL);
}

void s4g_store_photo_clear(S4gStorePhoto *p)
{
    g_clear_pointer(&p->file, g_free);
    g_clear_pointer(&p->dataset, g_free);
    g_clear_pointer(&p->split, g_free);
}

static void read_photo(sqlite3_stmt *st, gpointer out)
{
    S4gStorePhoto *p = out;
    p->id = sqlite3_column_int64(st, 0);
    p->file = resolve(st, 1, 2);
    p->dataset = s4g_store_col_text(st, 3);
    p->split = s4g_store_col_text(st, 4);
    p->lat = s4g_store_col_real(st, 5);
    p->lon = s4g_store_col_real(st, 6);
    p->flagged = sqlite3_column_int(st, 7) != 0;
}

GArray *s4g_store_photos_list(S4gStore *store, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store,
        "SELECT i.id, d.root, i.path, d.name, i.split, i.lat, i.lon, "
        " EXISTS (SELECT 1 FROM annotations a WHERE a.image = i.id AND a.state = 'open') "
        "FROM images i JOIN datasets d ON d.id = i.dataset WHERE i.view = 'ground' ORDER BY i.id",
        error);
    if (!st) return NULL;
    return s4g_store_read_rows(store, st, sizeof(S4gStorePhoto),
                               (GDestroyNotify)s4g_store_photo_clear, read_photo, "reading images",
                               error);
}

void s4g_store_hit_clear(S4gStoreHit *h)
{
    g_clear_pointer(&h->file, g_free);
}

void s4g_store_read_hit(sqlite3_stmt *st, gpointer out)
{
    S4gStoreHit *h = out;
    h->rank = sqlite3_column_int(st, 0);
    h->image = sqlite3_column_int64(st, 1);
    h->file = resolve(st, 2, 3);
    h->score = s4g_store_col_real(st, 4);
    h->lat = s4g_store_col_real(st, 5);
    h->lon = s4g_store_col_real(st, 6);
}

gboolean s4g_store_pair_tile(S4gStore *store, gint64 ground, S4gStoreHit *out, GError **error)
{
    g_autoptr(sqlite3_stmt) st =
        s4g_store_prepare(store,
                          "SELECT 0, i.id, d.root, i.path, NULL, i.lat, i.lon FROM pairs p "
                          "JOIN images i ON i.id = p.satellite JOIN datasets d ON d.id = i.dataset "
                          "WHERE p.ground = ? ORDER BY p.relation = 'positive' DESC LIMIT 1",
                          error);
    if (!st) return FALSE;
    sqlite3_bind_int64(st, 1, ground);
    int found = s4g_store_read_one(store, st, s4g_store_read_hit, out, "finding a pair", error);
    if (found == 0)
        return s4g_store_not_found(error, "%s: image %" G_GINT64_FORMAT " has no tile",
                                   s4g_store_dir(store), ground);
    return found > 0;
}

gint64 s4g_store_pair_partner(S4gStore *store, gint64 image, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store,
        "SELECT CASE WHEN ground = ?1 THEN satellite ELSE ground END FROM pairs "
        "WHERE ground = ?1 OR satellite = ?1 ORDER BY relation = 'positive' DESC, rowid LIMIT 1",
        error);
    if (!st) return -1;
    sqlite3_bind_int64(st, 1, image);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) return sqlite3_column_int64(st, 0);
    if (rc == SQLITE_DONE) return 0;
    s4g_store_fail(store, "finding a pair", error);
    return -1;
}
