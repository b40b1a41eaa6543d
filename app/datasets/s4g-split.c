/* s4g-split.c — building a retrieval split from the images and pairs tables. */
#include "s4g-split.h"
#include "s4g-store-annotations.h"
#include "s4g-store-datasets.h"

#include <math.h>

void s4g_split_free(S4gSplit *s)
{
    if (!s) return;
    for (guint i = 0; i < s->n_queries; i++)
        g_free(s->query_paths[i]);
    for (guint i = 0; i < s->n_refs; i++)
        g_free(s->ref_paths[i]);
    g_free(s->kind);
    g_free(s->split);
    g_free(s->query_paths);
    g_free(s->query_ids);
    g_free(s->ref_paths);
    g_free(s->ref_ids);
    g_free(s->ref_lat);
    g_free(s->ref_lon);
    g_free(s->ref_x);
    g_free(s->ref_y);
    g_free(s->query_lat);
    g_free(s->query_lon);
    g_free(s->query_pos);
    g_free(s->query_label);
    g_free(s->ref_label);
    g_free(s->semi_start);
    g_free(s->semi);
    g_free(s);
}

char **s4g_split_names(S4gStore *store, gint64 dataset, GError **error)
{
    return s4g_store_dataset_pair_splits(store, dataset, error);
}

S4gSplit *s4g_split_load(S4gStore *store, gint64 dataset, const char *split, GError **error)
{
    S4gStoreDataset ds = {0};
    if (!s4g_store_dataset_get(store, dataset, &ds, error)) return NULL;
    g_autoptr(GArray) refs = s4g_store_images_list(store, dataset, split, "satellite", error);
    g_autoptr(GArray) pos =
        refs ? s4g_store_pairs_list(store, dataset, split, "positive", error) : NULL;
    g_autoptr(GArray) semi =
        pos ? s4g_store_pairs_list(store, dataset, split, "semi-positive", error) : NULL;
    if (!semi) {
        s4g_store_dataset_clear(&ds);
        return NULL;
    }
    if (pos->len == 0 || refs->len == 0) {
        g_auto(GStrv) names = s4g_split_names(store, dataset, NULL);
        g_autofree char *list = names ? g_strjoinv(", ", names) : g_strdup("");
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "dataset “%s”: split “%s” has %u positive pairs and %u satellite images "
                    "(splits with pairs: %s)",
                    ds.name, split, pos->len, refs->len, *list ? list : "none");
        s4g_store_dataset_clear(&ds);
        return NULL;
    }
    S4gSplit *s = g_new0(S4gSplit, 1);
    s->kind = g_strdup(ds.kind);
    s->split = g_strdup(split);
    s->n_refs = refs->len;
    s->ref_paths = g_new(char *, refs->len);
    s->ref_ids = g_new(gint64, refs->len);
    s->ref_lat = g_new(double, refs->len);
    s->ref_lon = g_new(double, refs->len);
    s->ref_x = g_new(double, refs->len);
    s->ref_y = g_new(double, refs->len);
    s->ref_label = g_new(gint64, refs->len);
    g_autoptr(GHashTable) ref_of = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    for (guint i = 0; i < refs->len; i++) {
        S4gStoreImage *im = &g_array_index(refs, S4gStoreImage, i);
        s->ref_paths[i] = g_build_filename(ds.root, im->path, NULL);
        s->ref_ids[i] = im->id;
        s->ref_lat[i] = im->lat;
        s->ref_lon[i] = im->lon;
        s->ref_x[i] = im->x;
        s->ref_y[i] = im->y;
        s->ref_label[i] = im->identity;
        g_hash_table_insert(ref_of, g_memdup2(&im->id, sizeof(gint64)), GUINT_TO_POINTER(i + 1));
    }
    /* queries in pair order (by pair id), first positive wins */
    g_autoptr(GHashTable) query_of =
        g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    g_autoptr(GArray) qids = g_array_new(FALSE, FALSE, sizeof(gint64));
    g_autoptr(GArray) qpos = g_array_new(FALSE, FALSE, sizeof(guint32));
    for (guint i = 0; i < pos->len; i++) {
        S4gStorePair *p = &g_array_index(pos, S4gStorePair, i);
        guint r = GPOINTER_TO_UINT(g_hash_table_lookup(ref_of, &p->satellite));
        if (r == 0 || g_hash_table_contains(query_of, &p->ground))
            continue; /* satellite outside the split's gallery, or a second positive */
        g_hash_table_insert(query_of, g_memdup2(&p->ground, sizeof(gint64)),
                            GUINT_TO_POINTER(qids->len + 1));
        g_array_append_val(qids, p->ground);
        guint32 rr = r - 1;
        g_array_append_val(qpos, rr);
    }
    s->n_queries = qids->len;
    s->query_ids = (gint64 *)g_array_free(g_steal_pointer(&qids), FALSE);
    s->query_pos = (guint32 *)g_array_free(g_steal_pointer(&qpos), FALSE);
    s->query_paths = g_new(char *, MAX(s->n_queries, 1));
    s->query_lat = g_new(double, MAX(s->n_queries, 1));
    s->query_lon = g_new(double, MAX(s->n_queries, 1));
    s->query_label = g_new(gint64, MAX(s->n_queries, 1));
    for (guint i = 0; i < s->n_queries; i++) {
        S4gStoreImage im = {0};
        if (!s4g_store_image_get(store, s->query_ids[i], &im, error)) {
            s->n_queries = i;
            s4g_split_free(s);
            s4g_store_dataset_clear(&ds);
            return NULL;
        }
        s->query_paths[i] = g_build_filename(ds.root, im.path, NULL);
        s->query_lat[i] = im.lat;
        s->query_lon[i] = im.lon;
        s->query_label[i] = im.identity;
        s4g_store_image_clear(&im);
    }
    /* semi-positives per query */
    s->semi_start = g_new0(guint32, s->n_queries + 1);
    for (guint i = 0; i < semi->len; i++) {
        S4gStorePair *p = &g_array_index(semi, S4gStorePair, i);
        guint q = GPOINTER_TO_UINT(g_hash_table_lookup(query_of, &p->ground));
        guint r = GPOINTER_TO_UINT(g_hash_table_lookup(ref_of, &p->satellite));
        if (q && r) s->semi_start[q]++;
    }
    for (guint q = 0; q < s->n_queries; q++)
        s->semi_start[q + 1] += s->semi_start[q];
    s->semi = g_new(guint32, MAX(s->semi_start[s->n_queries], 1));
    g_autofree guint32 *fill = g_new0(guint32, MAX(s->n_queries, 1));
    for (guint i = 0; i < semi->len; i++) {
        S4gStorePair *p = &g_array_index(semi, S4gStorePair, i);
        guint q = GPOINTER_TO_UINT(g_hash_table_lookup(query_of, &p->ground));
        guint r = GPOINTER_TO_UINT(g_hash_table_lookup(ref_of, &p->satellite));
        if (q && r) s->semi[s->semi_start[q - 1] + fill[q - 1]++] = r - 1;
    }
    s4g_store_dataset_clear(&ds);
    return s;
}

/* Absolute paths, ids and labels of one side of an S2D split. */
static void s2d_side(const S4gStoreDataset *ds, GArray *ims, char ***paths, gint64 **ids,
                     gint64 **labels, double **lat, double **lon)
{
    *paths = g_new(char *, ims->len);
    *ids = g_new(gint64, ims->len);
    *labels = g_new(gint64, ims->len);
    *lat = g_new(double, ims->len);
    *lon = g_new(double, ims->len);
    for (guint i = 0; i < ims->len; i++) {
        S4gStoreImage *im = &g_array_index(ims, S4gStoreImage, i);
        (*paths)[i] = g_build_filename(ds->root, im->path, NULL);
        (*ids)[i] = im->id;
        (*labels)[i] = im->identity;
        (*lat)[i] = im->lat;
        (*lon)[i] = im->lon;
    }
}

S4gSplit *s4g_split_load_s2d(S4gStore *store, gint64 dataset, const char *split, GError **error)
{
    S4gStoreDataset ds = {0};
    if (!s4g_store_dataset_get(store, dataset, &ds, error)) return NULL;
    g_autoptr(GArray) sats = s4g_store_images_list(store, dataset, split, "satellite", error);
    g_autoptr(GArray) drones =
        sats ? s4g_store_images_list(store, dataset, split, "drone", error) : NULL;
    if (!drones) {
        s4g_store_dataset_clear(&ds);
        return NULL;
    }
    if (sats->len == 0 || drones->len == 0) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "dataset “%s”: split “%s” has %u satellite and %u drone images; "
                    "satellite → drone evaluation needs both (University-1652: split s2d)",
                    ds.name, split, sats->len, drones->len);
        s4g_store_dataset_clear(&ds);
        return NULL;
    }
    S4gSplit *s = g_new0(S4gSplit, 1);
    s->kind = g_strdup(ds.kind);
    s->split = g_strdup(split);
    s->sat_queries = TRUE;
    s->n_queries = sats->len;
    s->n_refs = drones->len;
    s2d_side(&ds, sats, &s->query_paths, &s->query_ids, &s->query_label, &s->query_lat,
             &s->query_lon);
    s2d_side(&ds, drones, &s->ref_paths, &s->ref_ids, &s->ref_label, &s->ref_lat, &s->ref_lon);
    s->ref_x = g_new(double, s->n_refs);
    s->ref_y = g_new(double, s->n_refs);
    for (guint j = 0; j < s->n_refs; j++)
        s->ref_x[j] = s->ref_y[j] = NAN;
    /* the first drone image of each class */
    g_autoptr(GHashTable) first = g_hash_table_new(g_int64_hash, g_int64_equal);
    for (guint j = s->n_refs; j-- > 0;)
        g_hash_table_insert(first, &s->ref_label[j], GUINT_TO_POINTER(j));
    s->query_pos = g_new(guint32, s->n_queries);
    for (guint i = 0; i < s->n_queries; i++)
        s->query_pos[i] = GPOINTER_TO_UINT(g_hash_table_lookup(first, &s->query_label[i]));
    s->semi_start = g_new0(guint32, s->n_queries + 1);
    s->semi = g_new(guint32, 1);
    s4g_store_dataset_clear(&ds);
    return s;
}

/* TRUE when one of the image's annotations is an open bad-pair / wrong-location flag. */
static gboolean flagged(S4gStore *store, gint64 image, gboolean *out, GError **error)
{
    g_autoptr(GPtrArray) a = s4g_store_annotations_for_image(store, image, error);
    if (!a) return FALSE;
    *out = FALSE;
    for (guint i = 0; i < a->len; i++) {
        const S4gAnnotation *an = g_ptr_array_index(a, i);
        if (an->open && (an->flag == S4G_ANNOTATION_BAD_PAIR ||
                         an->flag == S4G_ANNOTATION_WRONG_LOCATION))
            *out = TRUE;
    }
    return TRUE;
}

gboolean s4g_split_apply_annotations(S4gSplit *s, S4gStore *store, gboolean exclude,
                                     guint *n_excluded, GError **error)
{
    if (n_excluded) *n_excluded = 0;
    g_autoptr(GHashTable) open = exclude ? s4g_store_annotations_open_images(store, error) : NULL;
    if (exclude && !open) return FALSE;
    guint w = 0, semi_w = 0;
    for (guint i = 0; i < s->n_queries; i++) {
        gboolean bad = FALSE;
        gint64 id = s->query_ids[i];
        if (open && g_hash_table_contains(open, &id) && !flagged(store, id, &bad, error))
            return FALSE;
        if (bad) {
            g_free(s->query_paths[i]);
            continue;
        }
        double lat, lon;
        if (s4g_store_annotation_location(store, id, &lat, &lon)) {
            s->query_lat[i] = lat;
            s->query_lon[i] = lon;
        }
        guint32 a = s->semi_start[i], b = s->semi_start[i + 1];
        s->query_paths[w] = s->query_paths[i];
        s->query_ids[w] = id;
        s->query_lat[w] = s->query_lat[i];
        s->query_lon[w] = s->query_lon[i];
        s->query_pos[w] = s->query_pos[i];
        s->query_label[w] = s->query_label[i];
        s->semi_start[w] = semi_w;
        for (guint32 k = a; k < b; k++)
            s->semi[semi_w++] = s->semi[k];
        w++;
    }
    s->semi_start[w] = semi_w;
    if (n_excluded) *n_excluded = s->n_queries - w;
    s->n_queries = w;
    return TRUE;
}
