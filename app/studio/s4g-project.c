/* s4g-project.c — project model for the Studio (see the header). */
#define G_LOG_DOMAIN "s4g-studio"
#include "s4g-project.h"

#include "s4g-geo.h"

#include <math.h>

struct _S4gProject {
    GObject parent_instance;
    S4gStore *store;
    GListStore *photos;
    GHashTable *by_id; /* gint64* → S4gPhoto* (borrowed from photos) */
    GtkStringList *models;
    GArray *model_ids;
};

G_DEFINE_FINAL_TYPE(S4gProject, s4g_project, G_TYPE_OBJECT)

void s4g_candidate_free(S4gCandidate *c)
{
    if (!c) return;
    g_free(c->path);
    g_free(c);
}

static void finalize(GObject *o)
{
    S4gProject *self = S4G_PROJECT(o);
    g_clear_pointer(&self->by_id, g_hash_table_unref);
    g_clear_object(&self->photos);
    g_clear_object(&self->models);
    g_clear_pointer(&self->model_ids, g_array_unref);
    g_clear_pointer(&self->store, s4g_store_close);
    G_OBJECT_CLASS(s4g_project_parent_class)->finalize(o);
}

static void s4g_project_class_init(S4gProjectClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = finalize;
}

static void s4g_project_init(S4gProject *self)
{
    self->photos = g_list_store_new(S4G_TYPE_PHOTO);
    self->by_id = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    self->models = gtk_string_list_new(NULL);
    self->model_ids = g_array_new(FALSE, FALSE, sizeof(gint64));
}

/* Image paths are stored relative to their dataset's root. */
static char *resolve(const char *root, const char *path)
{
    if (!path) return NULL;
    if (g_path_is_absolute(path) || !root) return g_strdup(path);
    return g_build_filename(root, path, NULL);
}

static gboolean load_photos(S4gProject *self, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        self->store,
        "SELECT i.id, d.root, i.path, d.name, i.split, i.lat, i.lon, "
        " EXISTS (SELECT 1 FROM annotations a WHERE a.image = i.id AND a.state = 'open') "
        "FROM images i JOIN datasets d ON d.id = i.dataset WHERE i.view = 'ground' ORDER BY i.id",
        error);
    if (!st) return FALSE;
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_object_unref);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        g_autofree char *path = resolve((const char *)sqlite3_column_text(st, 1),
                                        (const char *)sqlite3_column_text(st, 2));
        double lat = sqlite3_column_type(st, 5) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 5);
        double lon = sqlite3_column_type(st, 6) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 6);
        S4gPhoto *p = s4g_photo_new(sqlite3_column_int64(st, 0), path,
                                    (const char *)sqlite3_column_text(st, 3),
                                    (const char *)sqlite3_column_text(st, 4), lat, lon);
        s4g_photo_set_flagged(p, sqlite3_column_int(st, 7));
        g_ptr_array_add(items, p);
    }
    if (rc != SQLITE_DONE) return s4g_store_fail(self->store, "reading images", error);
    /* One splice, one items-changed: the grid builds only the visible cells. */
    g_list_store_splice(self->photos, 0, 0, items->pdata, items->len);
    for (guint i = 0; i < items->len; i++) {
        S4gPhoto *p = items->pdata[i];
        gint64 *key = g_new(gint64, 1);
        *key = s4g_photo_get_id(p);
        g_hash_table_insert(self->by_id, key, p);
    }
    return TRUE;
}

static gboolean load_models(S4gProject *self, GError **error)
{
    g_autoptr(sqlite3_stmt) st =
        s4g_store_prepare(self->store, "SELECT id, name FROM models ORDER BY id", error);
    if (!st) return FALSE;
    while (sqlite3_step(st) == SQLITE_ROW) {
        gint64 id = sqlite3_column_int64(st, 0);
        g_array_append_val(self->model_ids, id);
        gtk_string_list_append(self->models, (const char *)sqlite3_column_text(st, 1));
    }
    return TRUE;
}

S4gProject *s4g_project_open(const char *dir, gboolean create, GError **error)
{
    S4gStore *store = s4g_store_open(dir, create, error);
    if (!store) return NULL;
    S4gProject *self = g_object_new(S4G_TYPE_PROJECT, NULL);
    self->store = store;
    if (!load_photos(self, error) || !load_models(self, error)) {
        g_object_unref(self);
        return NULL;
    }
    return self;
}

S4gStore *s4g_project_get_store(S4gProject *self)
{
    return self->store;
}
const char *s4g_project_get_dir(S4gProject *self)
{
    return s4g_store_dir(self->store);
}
GListModel *s4g_project_get_photos(S4gProject *self)
{
    return G_LIST_MODEL(self->photos);
}
GtkStringList *s4g_project_get_models(S4gProject *self)
{
    return self->models;
}

gint64 s4g_project_model_id(S4gProject *self, guint position)
{
    if (position >= self->model_ids->len) return 0;
    return g_array_index(self->model_ids, gint64, position);
}

S4gPhoto *s4g_project_find_photo(S4gProject *self, gint64 image)
{
    return g_hash_table_lookup(self->by_id, &image);
}

static GStrv list_strings(S4gProject *self, const char *sql)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(self->store, sql, NULL);
    while (st && sqlite3_step(st) == SQLITE_ROW)
        g_strv_builder_add(b, (const char *)sqlite3_column_text(st, 0));
    return g_strv_builder_end(b);
}

GStrv s4g_project_list_datasets(S4gProject *self)
{
    return list_strings(self, "SELECT name FROM datasets ORDER BY name");
}

GStrv s4g_project_list_splits(S4gProject *self)
{
    return list_strings(self,
                        "SELECT DISTINCT split FROM images WHERE view = 'ground' ORDER BY split");
}

gboolean s4g_project_load_errors(S4gProject *self, gint64 model, GError **error)
{
    guint n = g_list_model_get_n_items(G_LIST_MODEL(self->photos));
    for (guint i = 0; i < n; i++) {
        g_autoptr(S4gPhoto) p = g_list_model_get_item(G_LIST_MODEL(self->photos), i);
        s4g_photo_set_error(p, NAN);
    }
    g_autoptr(sqlite3_stmt) st =
        s4g_store_prepare(self->store,
                          /* the best-ranked row per image (s4g predict numbers ranks
                           * from 0), of one gallery */
                          "SELECT p.image, p.lat, p.lon FROM predictions p WHERE p.model = ?1 "
                          "AND p.lat IS NOT NULL AND p.rank = (SELECT MIN(q.rank) FROM "
                          "predictions q WHERE q.model = ?1 AND q.image = p.image AND "
                          "q.gallery = p.gallery) AND p.gallery = (SELECT MIN(g.gallery) FROM "
                          "predictions g WHERE g.model = ?1 AND g.image = p.image)",
                          error);
    if (!st) return FALSE;
    sqlite3_bind_int64(st, 1, model);
    while (sqlite3_step(st) == SQLITE_ROW) {
        S4gPhoto *p = s4g_project_find_photo(self, sqlite3_column_int64(st, 0));
        if (!p || isnan(s4g_photo_get_lat(p))) continue;
        s4g_photo_set_error(p, s4g_geo_haversine_m(s4g_photo_get_lat(p), s4g_photo_get_lon(p),
                                                   sqlite3_column_double(st, 1),
                                                   sqlite3_column_double(st, 2)));
    }
    return TRUE;
}

static S4gCandidate *row_to_candidate(sqlite3_stmt *st)
{
    /* columns: rank, image, root, path, score, lat, lon */
    S4gCandidate *c = g_new0(S4gCandidate, 1);
    c->rank = sqlite3_column_int(st, 0);
    c->image = sqlite3_column_int64(st, 1);
    c->path =
        resolve((const char *)sqlite3_column_text(st, 2), (const char *)sqlite3_column_text(st, 3));
    c->score = sqlite3_column_type(st, 4) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 4);
    c->lat = sqlite3_column_type(st, 5) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 5);
    c->lon = sqlite3_column_type(st, 6) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 6);
    return c;
}

static GPtrArray *collect(S4gProject *self, sqlite3_stmt *st, const char *what, GError **error)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)s4g_candidate_free);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        g_ptr_array_add(out, row_to_candidate(st));
    if (rc != SQLITE_DONE) {
        g_ptr_array_unref(out);
        s4g_store_fail(self->store, what, error);
        return NULL;
    }
    return out;
}

GPtrArray *s4g_project_predictions(S4gProject *self, gint64 model, gint64 image, int k,
                                   GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        self->store,
        "SELECT p.rank, p.reference, d.root, i.path, p.score, COALESCE(p.lat, i.lat), "
        "COALESCE(p.lon, i.lon) FROM predictions p LEFT JOIN images i ON i.id = p.reference "
        "LEFT JOIN datasets d ON d.id = i.dataset WHERE p.model = ?1 AND p.image = ?2 "
        "AND p.gallery = (SELECT MIN(g.gallery) FROM predictions g WHERE g.model = ?1 "
        "AND g.image = ?2) ORDER BY p.rank LIMIT ?3",
        error);
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, model);
    sqlite3_bind_int64(st, 2, image);
    sqlite3_bind_int(st, 3, k);
    return collect(self, st, "reading predictions", error);
}

GtkStringList *s4g_project_get_mining_runs(S4gProject *self, GArray **ids)
{
    GtkStringList *list = gtk_string_list_new(NULL);
    *ids = g_array_new(FALSE, FALSE, sizeof(gint64));
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        self->store,
        "SELECT r.id, r.kind, COALESCE(m.name, ''), COALESCE(r.epoch, 0), r.created "
        "FROM mining_runs r LEFT JOIN models m ON m.id = r.model ORDER BY r.id",
        NULL);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        gint64 id = sqlite3_column_int64(st, 0);
        g_array_append_val(*ids, id);
        g_autofree char *label = g_strdup_printf(
            "#%" G_GINT64_FORMAT " %s %s epoch %d", id, (const char *)sqlite3_column_text(st, 1),
            (const char *)sqlite3_column_text(st, 2), sqlite3_column_int(st, 3));
        gtk_string_list_append(list, label);
    }
    return list;
}

GArray *s4g_project_mining_anchors(S4gProject *self, gint64 run, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        self->store,
        "SELECT DISTINCT anchor FROM hard_negatives WHERE mining_run = ? ORDER BY anchor", error);
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, run);
    GArray *out = g_array_new(FALSE, FALSE, sizeof(gint64));
    while (sqlite3_step(st) == SQLITE_ROW) {
        gint64 id = sqlite3_column_int64(st, 0);
        g_array_append_val(out, id);
    }
    return out;
}

S4gCandidate *s4g_project_true_tile(S4gProject *self, gint64 ground)
{
    g_autoptr(sqlite3_stmt) st =
        s4g_store_prepare(self->store,
                          "SELECT 0, i.id, d.root, i.path, NULL, i.lat, i.lon FROM pairs p "
                          "JOIN images i ON i.id = p.satellite JOIN datasets d ON d.id = i.dataset "
                          "WHERE p.ground = ? ORDER BY p.relation = 'positive' DESC LIMIT 1",
                          NULL);
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, ground);
    if (sqlite3_step(st) != SQLITE_ROW) return NULL;
    return row_to_candidate(st);
}

GPtrArray *s4g_project_hard_negatives(S4gProject *self, gint64 run, gint64 anchor, GError **error)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        self->store,
        "SELECT h.rank, h.negative, d.root, i.path, h.score, i.lat, i.lon FROM hard_negatives h "
        "JOIN images i ON i.id = h.negative JOIN datasets d ON d.id = i.dataset "
        "WHERE h.mining_run = ? AND h.anchor = ? ORDER BY h.rank",
        error);
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, run);
    sqlite3_bind_int64(st, 2, anchor);
    return collect(self, st, "reading hard negatives", error);
}

char *s4g_project_mining_run_kind(S4gProject *self, gint64 run)
{
    g_autoptr(sqlite3_stmt) st =
        s4g_store_prepare(self->store, "SELECT kind FROM mining_runs WHERE id = ?", NULL);
    if (!st) return NULL;
    sqlite3_bind_int64(st, 1, run);
    if (sqlite3_step(st) != SQLITE_ROW) return NULL;
    return g_strdup((const char *)sqlite3_column_text(st, 0));
}

gint64 s4g_project_pair_partner(S4gProject *self, gint64 image)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        self->store,
        "SELECT CASE WHEN ground = ?1 THEN satellite ELSE ground END FROM pairs "
        "WHERE ground = ?1 OR satellite = ?1 ORDER BY relation = 'positive' DESC, rowid LIMIT 1",
        NULL);
    if (!st) return 0;
    sqlite3_bind_int64(st, 1, image);
    return sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
}

/* The alphabetically first .mbtiles file in `dir`, or NULL. */
static char *first_mbtiles(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    if (!d) return NULL;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(d)))
        if (g_str_has_suffix(name, ".mbtiles")) g_ptr_array_add(names, g_strdup(name));
    if (names->len == 0) return NULL;
    const char *best = names->pdata[0];
    for (guint i = 1; i < names->len; i++)
        if (g_strcmp0(names->pdata[i], best) < 0) best = names->pdata[i];
    return g_build_filename(dir, best, NULL);
}

char *s4g_project_find_mbtiles(S4gProject *self)
{
    g_autofree char *dir = s4g_store_tiles_dir(self->store);
    char *found = first_mbtiles(dir);
    if (found) return found;
    /* s4g synth writes <dataset root>/tiles/region.mbtiles next to the imagery it renders */
    g_autoptr(sqlite3_stmt) st =
        s4g_store_prepare(self->store, "SELECT root FROM datasets ORDER BY id", NULL);
    while (st && sqlite3_step(st) == SQLITE_ROW) {
        g_autofree char *tiles =
            g_build_filename((const char *)sqlite3_column_text(st, 0), "tiles", NULL);
        if ((found = first_mbtiles(tiles))) return found;
    }
    return NULL;
}
