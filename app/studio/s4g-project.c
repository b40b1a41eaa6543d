/* s4g-project.c — project model for the Studio (see the header). */
#include "s4g-project.h"

#include "s4g-geo.h"
#include "s4g-locate.h"
#include "s4g-search.h"
#include "s4g-store-datasets.h"
#include "s4g-store-runs.h"

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

static gboolean load_photos(S4gProject *self, GError **error)
{
    g_autoptr(GArray) rows = s4g_store_photos_list(self->store, error);
    if (!rows) return FALSE;
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_object_unref);
    for (guint i = 0; i < rows->len; i++) {
        const S4gStorePhoto *r = &g_array_index(rows, S4gStorePhoto, i);
        S4gPhoto *p = s4g_photo_new(r->id, r->file, r->dataset, r->split, r->lat, r->lon);
        s4g_photo_set_flagged(p, r->flagged);
        g_ptr_array_add(items, p);
    }
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
    g_autoptr(GPtrArray) rows = s4g_store_model_list(self->store, error);
    if (!rows) return FALSE;
    for (guint i = 0; i < rows->len; i++) {
        const S4gModelRow *m = rows->pdata[i];
        gboolean known = FALSE;
        for (guint j = 0; j < self->model_ids->len && !known; j++)
            known = g_array_index(self->model_ids, gint64, j) == m->id;
        if (known) continue;
        g_array_append_val(self->model_ids, m->id);
        gtk_string_list_append(self->models, m->name);
    }
    return TRUE;
}

S4gProject *s4g_project_open(const char *dir, gboolean create, gint64 max_wait_ms,
                             GError **error)
{
    S4gStore *store = s4g_store_open_within(dir, create, max_wait_ms, error);
    if (!store) return NULL;
    S4gProject *self = g_object_new(S4G_TYPE_PROJECT, NULL);
    self->store = store;
    if (!load_photos(self, error) || !load_models(self, error)) {
        g_object_unref(self);
        return NULL;
    }
    return self;
}

gboolean s4g_project_reload_models(S4gProject *self, GError **error)
{
    return load_models(self, error);
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

/* A list the Studio shows; empty when the database cannot be read. */
static GStrv strings_or_empty(char **list)
{
    return list ? list : g_new0(char *, 1);
}

GStrv s4g_project_list_datasets(S4gProject *self)
{
    return strings_or_empty(s4g_store_photo_dataset_names(self->store, NULL));
}

GStrv s4g_project_list_splits(S4gProject *self)
{
    return strings_or_empty(s4g_store_ground_splits(self->store, NULL));
}

static S4gCandidate *hit_to_candidate(S4gStoreHit *h)
{
    S4gCandidate *c = g_new0(S4gCandidate, 1);
    c->rank = h->rank;
    c->image = h->image;
    c->path = g_steal_pointer(&h->file);
    c->score = h->score;
    c->lat = h->lat;
    c->lon = h->lon;
    return c;
}

/* The candidates of hits (a GArray of S4gStoreHit, taken), NULL when hits is. */
static GPtrArray *candidates(GArray *hits)
{
    if (!hits) return NULL;
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)s4g_candidate_free);
    for (guint i = 0; i < hits->len; i++)
        g_ptr_array_add(out, hit_to_candidate(&g_array_index(hits, S4gStoreHit, i)));
    g_array_unref(hits);
    return out;
}

GPtrArray *s4g_project_predictions(S4gProject *self, gint64 model, gint64 image, int k,
                                   GError **error)
{
    return candidates(s4g_store_predictions_hits(self->store, model, image, k, error));
}

GPtrArray *s4g_project_predictions_in(S4gProject *self, gint64 model, gint64 image,
                                      const char *gallery, int k, GError **error)
{
    return candidates(s4g_store_predictions_hits_in(self->store, model, image, gallery, k, error));
}

GStrv s4g_project_list_search_spaces(S4gProject *self)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_autoptr(GArray) sets = s4g_store_dataset_list(self->store, NULL);
    for (guint i = 0; sets && i < sets->len; i++) {
        const S4gStoreDataset *d = &g_array_index(sets, S4gStoreDataset, i);
        g_autoptr(GArray) counts = s4g_store_dataset_image_counts(self->store, d->id, NULL);
        gboolean tiles = FALSE;
        for (guint j = 0; counts && j < counts->len; j++) {
            const S4gStoreCount *c = &g_array_index(counts, S4gStoreCount, j);
            tiles |= g_strcmp0(c->what, "satellite") == 0 && c->count > 0;
        }
        if (tiles) g_strv_builder_add(b, d->name);
    }
    return g_strv_builder_end(b);
}

/* The estimate of rows [0, n) of one image (by rank), as the predictor makes it. */
static gboolean estimate_rows(const S4gPredictionRanked *rows, guint n, double radius,
                              double *lat, double *lon, double *confidence)
{
    if (n == 0) return FALSE;
    n = MIN(n, (guint)S4G_SEARCH_MAX_K);
    double sc[S4G_SEARCH_MAX_K], la[S4G_SEARCH_MAX_K], lo[S4G_SEARCH_MAX_K];
    for (guint i = 0; i < n; i++)
        sc[i] = rows[i].score, la[i] = rows[i].lat, lo[i] = rows[i].lon;
    s4g_locate_estimate(sc, la, lo, (int)n, radius, lat, lon, confidence);
    return TRUE;
}

gboolean s4g_project_load_estimates(S4gProject *self, gint64 model, const char *gallery,
                                    double radius, GError **error)
{
    guint n = g_list_model_get_n_items(G_LIST_MODEL(self->photos));
    for (guint i = 0; i < n; i++) {
        g_autoptr(S4gPhoto) p = g_list_model_get_item(G_LIST_MODEL(self->photos), i);
        s4g_photo_set_error(p, NAN);
    }
    if (!model || !gallery) return TRUE;
    g_autoptr(GArray) rows = s4g_store_predictions_ranked(self->store, model, gallery, error);
    if (!rows) return FALSE;
    const S4gPredictionRanked *r = (const S4gPredictionRanked *)rows->data;
    for (guint i = 0, j; i < rows->len; i = j) {
        for (j = i; j < rows->len && r[j].image == r[i].image; j++)
            ;
        S4gPhoto *p = s4g_project_find_photo(self, r[i].image);
        double lat, lon, conf;
        if (!p || isnan(s4g_photo_get_lat(p)) || !estimate_rows(r + i, j - i, radius, &lat, &lon, &conf) ||
            isnan(lat))
            continue;
        s4g_photo_set_error(p, s4g_geo_haversine_m(lat, lon, s4g_photo_get_lat(p),
                                                   s4g_photo_get_lon(p)));
    }
    return TRUE;
}

gboolean s4g_project_estimate(S4gProject *self, gint64 model, gint64 image, const char *gallery,
                              double radius, double *lat, double *lon, double *confidence)
{
    g_autoptr(GArray) hits =
        s4g_store_predictions_hits_in(self->store, model, image, gallery, S4G_SEARCH_MAX_K, NULL);
    if (!hits || hits->len == 0) return FALSE;
    g_autofree S4gPredictionRanked *rows = g_new(S4gPredictionRanked, hits->len);
    for (guint i = 0; i < hits->len; i++) {
        const S4gStoreHit *h = &g_array_index(hits, S4gStoreHit, i);
        rows[i] = (S4gPredictionRanked){image, h->score, h->lat, h->lon};
    }
    return estimate_rows(rows, hits->len, radius, lat, lon, confidence);
}

GtkStringList *s4g_project_get_mining_runs(S4gProject *self, GArray **ids)
{
    GtkStringList *list = gtk_string_list_new(NULL);
    *ids = g_array_new(FALSE, FALSE, sizeof(gint64));
    g_autoptr(GPtrArray) runs = s4g_store_mining_list(self->store, NULL);
    for (guint i = 0; runs && i < runs->len; i++) {
        const S4gMiningRunRow *r = runs->pdata[i];
        g_array_append_val(*ids, r->id);
        g_autofree char *label =
            g_strdup_printf("#%" G_GINT64_FORMAT " %s %s epoch %d", r->id, r->kind, r->model,
                            (int)r->epoch);
        gtk_string_list_append(list, label);
    }
    return list;
}

GArray *s4g_project_mining_anchors(S4gProject *self, gint64 run, GError **error)
{
    return s4g_store_mining_anchors(self->store, run, error);
}

S4gCandidate *s4g_project_true_tile(S4gProject *self, gint64 ground)
{
    S4gStoreHit hit = {0};
    if (!s4g_store_pair_tile(self->store, ground, &hit, NULL)) return NULL;
    S4gCandidate *c = hit_to_candidate(&hit);
    s4g_store_hit_clear(&hit);
    return c;
}

GPtrArray *s4g_project_hard_negatives(S4gProject *self, gint64 run, gint64 anchor, GError **error)
{
    return candidates(s4g_store_mining_negatives(self->store, run, anchor, error));
}

char *s4g_project_mining_run_kind(S4gProject *self, gint64 run)
{
    return s4g_store_mining_kind(self->store, run, NULL);
}

gint64 s4g_project_pair_partner(S4gProject *self, gint64 image)
{
    return MAX(s4g_store_pair_partner(self->store, image, NULL), 0);
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
    g_autoptr(GArray) sets = s4g_store_dataset_list(self->store, NULL);
    for (guint i = 0; sets && i < sets->len; i++) {
        const S4gStoreDataset *d = &g_array_index(sets, S4gStoreDataset, i);
        g_autofree char *tiles = g_build_filename(d->root, "tiles", NULL);
        if ((found = first_mbtiles(tiles))) return found;
    }
    return NULL;
}
