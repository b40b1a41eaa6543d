/* s4g-predict.c — locating photos by retrieval over a search space (see the header). */
#include "s4g-predict.h"
#include "s4g-embed.h"
#include "s4g-geo.h"
#include "s4g-locate.h"
#include "s4g-search.h"
#include "s4g-store-runs.h"
#include "s4g-store-embeddings.h"

#include <math.h>
#include <string.h>

struct S4gPredictor {
    S4gStore *store;
    char *root;    /* the search space's dataset root */
    char *gallery; /* "<dataset>/<split or *>" */
    gint64 dataset;
    GArray *tiles; /* S4gStoreImage */
    s4g_convnext *m;
    gint64 model_id;
    S4gModelSpec spec;
    S4gPredictorOptions o;
    s4g_gallery *g;
    gsize lo, n; /* this process's shard of tiles (all of them without a group) */
    gboolean cached;
};

void s4g_prediction_free(S4gPrediction *p)
{
    if (!p) return;
    for (guint i = 0; i < p->k; i++)
        g_free(p->top[i].path);
    g_free(p->top);
    g_free(p->photo);
    g_free(p);
}

S4gPredictor *s4g_predictor_new(S4gStore *store, const char *dataset, const char *split,
                                GError **error)
{
    S4gStoreDataset ds = {0};
    if (!s4g_store_dataset_find(store, dataset, &ds, error)) return NULL;
    g_autoptr(GArray) tiles = s4g_store_images_list(store, ds.id, split, "satellite", error);
    if (!tiles || tiles->len == 0) {
        if (tiles)
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                        "dataset %s has no satellite images%s%s", dataset,
                        split ? " in split " : "", split ? split : "");
        s4g_store_dataset_clear(&ds);
        return NULL;
    }
    S4gPredictor *p = g_new0(S4gPredictor, 1);
    p->store = store;
    p->root = g_steal_pointer(&ds.root);
    p->dataset = ds.id;
    p->gallery = g_strdup_printf("%s/%s", dataset, split ? split : "*");
    p->tiles = g_steal_pointer(&tiles);
    s4g_store_dataset_clear(&ds);
    return p;
}

void s4g_predictor_free(S4gPredictor *p)
{
    if (!p) return;
    s4g_gallery_free(p->g);
    g_clear_pointer(&p->tiles, g_array_unref);
    g_free(p->root);
    g_free(p->gallery);
    g_free(p);
}

guint s4g_predictor_n_tiles(S4gPredictor *p)
{
    return p->tiles->len;
}

gboolean s4g_predictor_cached(S4gPredictor *p)
{
    return p->cached;
}

const char *s4g_predictor_gallery(S4gPredictor *p)
{
    return p->gallery;
}

typedef struct {
    S4gPredictProgress progress;
    gpointer user_data;
} GalleryProgress;

static void gallery_progress(guint done, guint total, gpointer user_data)
{
    GalleryProgress *gp = user_data;
    if (gp->progress) gp->progress("gallery", done, total, gp->user_data);
}

/* The tiles' embeddings [n × dim]: for a project model through the embeddings cache (only
 * the missing ones are encoded), for a weights file encoded afresh. */
static float *gallery_embeddings(S4gPredictor *p, GalleryProgress *gp, GError **error)
{
    /* the shard's tiles (a view into p->tiles; the elements stay owned there) */
    g_autoptr(GArray) tiles = g_array_sized_new(FALSE, FALSE, sizeof(S4gStoreImage), p->n);
    g_array_append_vals(tiles, &g_array_index(p->tiles, S4gStoreImage, p->lo), p->n);
    int dim = p->m->cfg.dims[3];
    if (p->model_id <= 0 && tiles->len == 0) /* an empty shard (more processes than units) */
        return g_new(float, 1);
    if (p->model_id <= 0) {
        g_autofree char **paths = g_new0(char *, tiles->len + 1);
        for (guint i = 0; i < tiles->len; i++)
            paths[i] = g_build_filename(p->root, g_array_index(tiles, S4gStoreImage, i).path, NULL);
        float *out = s4g_encode_images(p->m, paths, tiles->len, p->spec.satellite,
                                       p->o.batch, gallery_progress, gp, error);
        for (guint i = 0; i < tiles->len; i++)
            g_free(paths[i]);
        return out;
    }
    guint encoded = 0;
    if (tiles->len && !s4g_embed_cached(p->store, p->m, p->model_id, &p->spec, p->root, tiles, p->o.batch,
                          gallery_progress, gp, &encoded, error))
        return NULL;
    p->cached = encoded == 0;
    if (p->o.comm && p->o.comm->size > 1) { /* every shard's cache hits, agreed collectively */
        float miss = encoded != 0;
        s4g_err err = {0};
        if (p->o.comm->allreduce_sum(p->o.comm->user, &miss, 1, &err)) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_COMPUTE, "gallery: %s", err.msg);
            return NULL;
        }
        p->cached = miss == 0;
    }
    g_autofree float *out = g_new(float, MAX((gsize)tiles->len * dim, 1));
    for (guint i = 0; i < tiles->len; i++) {
        int d = 0;
        gint64 id = g_array_index(tiles, S4gStoreImage, i).id;
        g_autofree float *v = s4g_store_embedding_get(p->store, p->model_id, id, &d, error);
        if (!v) return NULL;
        if (d != dim) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                        "embeddings: image %" G_GINT64_FORMAT " has %d dimensions, the model %d",
                        id, d, dim);
            return NULL;
        }
        memcpy(out + (gsize)i * dim, v, sizeof(float) * dim);
    }
    return g_steal_pointer(&out);
}

gboolean s4g_predictor_set_model(S4gPredictor *p, s4g_ctx *ctx, s4g_convnext *m, gint64 model_id,
                                 const S4gModelSpec *spec, const S4gPredictorOptions *options,
                                 GCancellable *cancellable, S4gPredictProgress progress,
                                 gpointer user_data, GError **error)
{
    if (options->top < 1 || options->top > S4G_SEARCH_MAX_K || options->batch < 1) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "top is 1..%d and batch at least 1 (got %d, %d)", S4G_SEARCH_MAX_K,
                    options->top, options->batch);
        return FALSE;
    }
    if (g_cancellable_set_error_if_cancelled(cancellable, error)) return FALSE;
    p->m = m;
    p->model_id = model_id;
    p->spec = *spec;
    p->o = *options;
    p->cached = FALSE;
    g_clear_pointer(&p->g, s4g_gallery_free);
    GalleryProgress gp = {progress, user_data};
    s4g_err err = {0};
    p->g = s4g_gallery_new(ctx, m->cfg.dims[3], 0, &err);
    p->lo = 0, p->n = p->tiles->len;
    if (p->g && p->o.comm)
        s4g_gallery_shard(p->g, p->tiles->len, (gsize)p->o.batch, p->o.comm->rank,
                          p->o.comm->size, &p->lo, &p->n);
    g_autofree float *emb = p->g ? gallery_embeddings(p, &gp, error) : NULL;
    if (p->g && !emb) {
        g_clear_pointer(&p->g, s4g_gallery_free);
        return FALSE;
    }
    if (!p->g || s4g_gallery_add(p->g, p->n, emb, &err)) {
        g_clear_pointer(&p->g, s4g_gallery_free);
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_COMPUTE, "gallery: %s", err.msg);
        return FALSE;
    }
    return TRUE;
}

/* The photo's truth and image id: an image of the searched dataset (path relative to its
 * root), else, its truth only, a located ground photo of another dataset of the project. */
static void find_truth(S4gPredictor *p, const char *photo, S4gPrediction *r, gboolean *own)
{
    const char *rel = photo;
    gsize n = strlen(p->root);
    if (g_str_has_prefix(photo, p->root) && photo[n] == G_DIR_SEPARATOR) rel = photo + n + 1;
    S4gStoreImage im = {0};
    *own = s4g_store_image_find(p->store, p->dataset, rel, &im, NULL);
    if (!*own) {
        g_autofree char *abs = g_canonicalize_filename(photo, NULL);
        if (!s4g_store_image_find_located_ground(p->store, abs, &im, NULL)) return;
    }
    r->image = im.id;
    r->true_lat = im.lat, r->true_lon = im.lon;
    if (isfinite(im.lat) && isfinite(r->lat))
        r->error_m = s4g_geo_haversine_m(r->lat, r->lon, im.lat, im.lon);
    s4g_store_image_clear(&im);
}

static gboolean store_prediction(S4gPredictor *p, S4gPrediction *r, GError **error)
{
    g_autofree S4gPredictionRow *rows = g_new(S4gPredictionRow, r->k);
    for (guint i = 0; i < r->k; i++)
        rows[i] =
            (S4gPredictionRow){r->top[i].image, r->top[i].score, r->top[i].lat, r->top[i].lon};
    if (!s4g_store_predictions_put(p->store, p->model_id, r->image, p->gallery, rows, r->k, error))
        return FALSE;
    r->stored = TRUE;
    return TRUE;
}

/* The prediction of one photo from its top-k (idx, sc) in the gallery. */
static S4gPrediction *locate_one(S4gPredictor *p, const char *photo, int k, const gint64 *idx,
                                 const float *sc, GError **error)
{
    g_autoptr(S4gPrediction) r = g_new0(S4gPrediction, 1);
    r->photo = g_strdup(photo);
    r->k = (guint)k;
    r->top = g_new0(S4gPredictorHit, k);
    g_autofree double *ds = g_new(double, k), *tl = g_new(double, k), *tn = g_new(double, k);
    for (int i = 0; i < k; i++) {
        const S4gStoreImage *im = &g_array_index(p->tiles, S4gStoreImage, idx[i]);
        r->top[i] = (S4gPredictorHit){im->id, g_strdup(im->path), sc[i], im->lat, im->lon};
        ds[i] = sc[i], tl[i] = im->lat, tn[i] = im->lon;
    }
    /* softmax over the top-k at temperature 0.07 (s4g-locate.h) */
    if (p->o.densest)
        s4g_locate_estimate_densest(ds, tl, tn, k, p->o.refine_radius, &r->lat, &r->lon,
                                    &r->confidence);
    else
        s4g_locate_estimate(ds, tl, tn, k, p->o.refine_radius, &r->lat, &r->lon, &r->confidence);
    r->error_m = r->true_lat = r->true_lon = NAN;
    gboolean own = FALSE;
    find_truth(p, photo, r, &own);
    gboolean writer = !p->o.comm || p->o.comm->rank == 0;
    if (writer && r->image && p->model_id > 0 && (own || p->o.store_located) &&
        !store_prediction(p, r, error))
        return NULL;
    return g_steal_pointer(&r);
}

/* Photos [0, n) as one encode batch and one search: appended to out. */
static gboolean locate_batch(S4gPredictor *p, const char *const *photos, guint n, GPtrArray *out,
                             GError **error)
{
    int k = MIN(p->o.top, (int)p->tiles->len);
    g_autofree float *q =
        s4g_encode_images(p->m, (char *const *)photos, n, p->spec.ground, (int)n, NULL, NULL, error);
    if (!q) return FALSE;
    g_autofree gint64 *idx = g_new(gint64, (gsize)k * n);
    g_autofree float *sc = g_new(float, (gsize)k * n);
    s4g_err err = {0};
    if (s4g_gallery_topk_shared(p->g, p->o.comm, (gint64)p->lo, n, q, k, idx, sc, &err)) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_COMPUTE, "search: %s", err.msg);
        return FALSE;
    }
    int dim = p->m->cfg.dims[3];
    g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(gint64));
    g_autofree float *vecs = g_new(float, (gsize)n * dim);
    for (guint j = 0; j < n; j++) {
        S4gPrediction *r =
            locate_one(p, photos[j], k, idx + (gsize)j * k, sc + (gsize)j * k, error);
        if (!r) return FALSE;
        g_ptr_array_add(out, r);
        if (r->stored) { /* the photo's embedding joins the model's cache beside the tiles' */
            memcpy(vecs + (gsize)ids->len * dim, q + (gsize)j * dim, sizeof(float) * dim);
            g_array_append_val(ids, r->image);
        }
    }
    return ids->len == 0 ||
           s4g_store_embeddings_put(p->store, p->model_id, ids->len, (gint64 *)ids->data, dim,
                                    vecs, S4G_EMB_F32, TRUE, error);
}

GPtrArray *s4g_predictor_locate(S4gPredictor *p, const char *const *photos, guint n,
                                GCancellable *cancellable, S4gPredictProgress progress,
                                gpointer user_data, GError **error)
{
    if (!p->g) {
        g_set_error_literal(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID, "predictor: no model set");
        return NULL;
    }
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify)s4g_prediction_free);
    /* encode batches of o.batch photos, each searched at once */
    for (guint i = 0; i < n; i += (guint)p->o.batch) {
        if (g_cancellable_set_error_if_cancelled(cancellable, error)) return NULL;
        guint len = MIN((guint)p->o.batch, n - i);
        if (!locate_batch(p, photos + i, len, out, error)) return NULL;
        for (guint j = 1; progress && j <= len; j++) /* still one report per photo */
            progress("photos", i + j, n, user_data);
    }
    return g_steal_pointer(&out);
}
