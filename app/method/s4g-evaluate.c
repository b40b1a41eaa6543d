/* s4g-evaluate.c — encoding and streaming retrieval evaluation. */
#define G_LOG_DOMAIN "s4g-evaluate"
#include "s4g-evaluate.h"
#include "s4g-image.h"
#include "s4g-json.h"
#include "s4g-parallel.h"
#include "s4g-search.h"
#include "s4g-store-runs.h"

#include <math.h>
#include <string.h>

char *s4g_model_spec_to_json(const S4gModelSpec *s)
{
    const char *preset = s4g_convnext_preset_name(&s->cfg);
    return g_strdup_printf("{\"preset\": \"%s\", \"depths\": [%d, %d, %d, %d], "
                           "\"dims\": [%d, %d, %d, %d], \"ground\": [%d, %d], "
                           "\"satellite\": [%d, %d], \"size_order\": \"wh\"}",
                           preset ? preset : "custom", s->cfg.depths[0], s->cfg.depths[1],
                           s->cfg.depths[2], s->cfg.depths[3], s->cfg.dims[0], s->cfg.dims[1],
                           s->cfg.dims[2], s->cfg.dims[3], s->ground_w, s->ground_h, s->sat_w,
                           s->sat_h);
}

static gboolean int_array(const s4g_json *root, const char *key, int *out, size_t n,
                          const char *json, GError **error)
{
    const s4g_json *a = s4g_json_get(root, key);
    if (!a || a->type != S4G_JSON_ARRAY || a->count != n) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                    "model architecture %s: “%s” must be an array of %zu integers", json, key, n);
        return FALSE;
    }
    for (size_t i = 0; i < n; i++) {
        if (a->items[i]->type != S4G_JSON_NUMBER || !a->items[i]->is_int ||
            a->items[i]->integer <= 0 || a->items[i]->integer > 1 << 20) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                        "model architecture %s: “%s”[%zu] must be a positive integer", json, key,
                        i);
            return FALSE;
        }
        out[i] = (int)a->items[i]->integer;
    }
    return TRUE;
}

gboolean s4g_model_spec_from_json(const char *json, S4gModelSpec *spec, GError **error)
{
    s4g_err err = {0};
    s4g_json *root = s4g_json_parse(json, strlen(json), &err);
    if (!root) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE, "model architecture: %s", err.msg);
        return FALSE;
    }
    int g[2], s[2];
    gboolean ok = root->type == S4G_JSON_OBJECT &&
                  int_array(root, "depths", spec->cfg.depths, 4, json, error) &&
                  int_array(root, "dims", spec->cfg.dims, 4, json, error) &&
                  int_array(root, "ground", g, 2, json, error) &&
                  int_array(root, "satellite", s, 2, json, error);
    /* The arrays are width first: every stored spec so far (older ones carry no
     * "size_order"); "hw" would mean height first.  The CLI's H×W flags never reach here. */
    const s4g_json *order = ok ? s4g_json_get(root, "size_order") : NULL;
    gboolean hw = FALSE;
    if (order && (order->type != S4G_JSON_STRING ||
                  (strcmp(order->str, "wh") && !(hw = !strcmp(order->str, "hw"))))) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                    "model architecture %s: “size_order” must be \"wh\" or \"hw\"", json);
        ok = FALSE;
    }
    if (ok) {
        spec->ground_w = g[hw], spec->ground_h = g[!hw];
        spec->sat_w = s[hw], spec->sat_h = s[!hw];
    } else if (error && !*error)
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                    "model architecture %s: not a JSON object", json);
    s4g_json_free(root);
    return ok;
}

static void l2_normalise(float *v, int dim)
{
    double s = 0;
    for (int d = 0; d < dim; d++)
        s += (double)v[d] * v[d];
    float inv = (float)(1.0 / fmax(sqrt(s), 1e-12));
    for (int d = 0; d < dim; d++)
        v[d] *= inv;
}

/* One batch's decoding, spread over threads (each image writes only its own slot). */
typedef struct {
    char *const *paths;
    int w, h;
    float *x;
    GError **errors;
} DecodeJob;

static void decode_one(int i, gpointer data)
{
    DecodeJob *j = data;
    s4g_image_load_tensor(j->paths[i], j->w, j->h, FALSE, j->x + (gsize)i * j->w * j->h * 3,
                          &j->errors[i]);
}

float *s4g_encode_images(s4g_convnext *m, char *const *paths, guint n, int w, int h, int batch,
                         S4gEncodeProgress progress, gpointer user_data, GError **error)
{
    int dim = m->cfg.dims[3];
    batch = MAX(batch, 1);
    g_autofree float *x = g_new(float, (gsize)batch *w *h * 3);
    g_autofree GError **errors = g_new0(GError *, batch);
    float *out = g_new(float, MAX((gsize)n * dim, 1));
    for (guint b0 = 0; b0 < n; b0 += (guint)batch) {
        guint nb = MIN((guint)batch, n - b0);
        DecodeJob job = {paths + b0, w, h, x, errors};
        s4g_parallel_for((int)nb, 0, decode_one, &job, NULL, NULL);
        gboolean failed = FALSE;
        for (guint i = 0; i < nb; i++) {
            if (errors[i] && !failed) {
                g_propagate_error(error, errors[i]);
                failed = TRUE;
            } else
                g_clear_error(&errors[i]);
            errors[i] = NULL;
        }
        if (failed) {
            g_free(out);
            return NULL;
        }
        s4g_err err = {0};
        if (s4g_convnext_encode_nhwc(m, (int)nb, h, w, x, batch, out + (gsize)b0 * dim, &err)) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_COMPUTE, "encoding %s…: %s", paths[b0],
                        err.msg);
            g_free(out);
            return NULL;
        }
        for (guint i = 0; i < nb; i++)
            l2_normalise(out + (gsize)(b0 + i) * dim, dim);
        if (progress) progress(b0 + nb, n, user_data);
    }
    return out;
}

/* University-1652 (§7.3): AP and CMC per query over the whole gallery with the reference's
 * distractor rule: gallery classes absent from the queries are junk (label −1). */
static void evaluate_university(const S4gSplit *split, const float *query_emb, const float *ref_emb,
                                int dim, S4gRetrievalMetrics *out)
{
    g_autoptr(GHashTable) qclasses = g_hash_table_new(g_int64_hash, g_int64_equal);
    for (guint i = 0; i < split->n_queries; i++)
        g_hash_table_add(qclasses, &split->query_label[i]);
    g_autofree gint32 *labels = g_new(gint32, split->n_refs);
    for (guint j = 0; j < split->n_refs; j++)
        labels[j] = g_hash_table_contains(qclasses, &split->ref_label[j])
                        ? (gint32)split->ref_label[j]
                        : -1;
    g_autofree double *row = g_new(double, split->n_refs);
    S4gApAcc acc;
    s4g_ap_init(&acc, split->n_refs);
    for (guint i = 0; i < split->n_queries; i++) {
        const float *q = query_emb + (gsize)i * dim;
        for (guint j = 0; j < split->n_refs; j++) {
            const float *g = ref_emb + (gsize)j * dim;
            double s = 0; /* in double: see s4g_ap_add */
            for (int d = 0; d < dim; d++)
                s += (double)q[d] * g[d];
            row[j] = s;
        }
        s4g_ap_add(&acc, row, labels, (gint32)split->query_label[i]);
    }
    s4g_ap_finish(&acc, out);
}

gboolean s4g_evaluate_embeddings(s4g_ctx *ctx, const S4gSplit *split, const float *query_emb,
                                 const float *ref_emb, int dim, S4gRetrievalMetrics *out,
                                 GError **error)
{
    if (!g_strcmp0(split->kind, "university")) {
        evaluate_university(split, query_emb, ref_emb, dim, out);
        return TRUE;
    }
    s4g_err err = {0};
    s4g_gallery *g = s4g_gallery_new(ctx, dim, 0, &err);
    guint nq = split->n_queries;
    g_autofree gint64 *ref = g_new(gint64, MAX(nq, 1));
    g_autofree float *pos = g_new(float, MAX(nq, 1));
    g_autofree guint32 *counts = g_new(guint32, MAX(nq, 1));
    for (guint i = 0; i < nq; i++)
        ref[i] = split->query_pos[i];
    if (!g || s4g_gallery_add(g, split->n_refs, ref_emb, &err) ||
        s4g_gallery_score(g, nq, query_emb, ref, pos, &err) ||
        s4g_gallery_count_above(g, nq, query_emb, pos, counts, &err)) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_COMPUTE, "evaluating split %s: %s",
                    split->split, err.msg);
        s4g_gallery_free(g);
        return FALSE;
    }
    gboolean vigor = split->semi_start[nq] > 0;
    S4gRecallAcc acc;
    s4g_recall_init(&acc, split->n_refs);
    g_autofree float *semi = g_new(float, 16);
    for (guint i = 0; i < nq; i++) {
        if (!vigor) {
            s4g_recall_add(&acc, counts[i]);
            continue;
        }
        guint ns = MIN(split->semi_start[i + 1] - split->semi_start[i], 16u);
        for (guint j = 0; j < ns; j++) {
            guint32 r = split->semi[split->semi_start[i] + j];
            const float *a = query_emb + (gsize)i * dim;
            /* the same dot product as the search, through it for identical rounding */
            gint64 rr = r;
            if (s4g_gallery_score(g, 1, a, &rr, &semi[j], &err)) {
                g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_COMPUTE, "evaluating split %s: %s",
                            split->split, err.msg);
                s4g_gallery_free(g);
                return FALSE;
            }
        }
        s4g_recall_add_vigor(&acc, counts[i], pos[i], semi, ns);
    }
    s4g_gallery_free(g);
    s4g_recall_finish(&acc, out);
    return TRUE;
}

gboolean s4g_evaluate_split(s4g_convnext *m, const S4gModelSpec *spec, const S4gSplit *split,
                            int batch, S4gEncodeProgress progress, gpointer user_data,
                            S4gRetrievalMetrics *out, float **query_emb, float **ref_emb,
                            GError **error)
{
    int dim = m->cfg.dims[3];
    /* S2D: satellite queries at the satellite input size, drone gallery at the ground one */
    gboolean sq = split->sat_queries;
    g_autofree float *q = s4g_encode_images(m, split->query_paths, split->n_queries,
                                            sq ? spec->sat_w : spec->ground_w,
                                            sq ? spec->sat_h : spec->ground_h, batch, progress,
                                            user_data, error);
    if (!q) return FALSE;
    g_autofree float *r = s4g_encode_images(m, split->ref_paths, split->n_refs,
                                            sq ? spec->ground_w : spec->sat_w,
                                            sq ? spec->ground_h : spec->sat_h, batch, progress,
                                            user_data, error);
    if (!r || !s4g_evaluate_embeddings(m->ctx, split, q, r, dim, out, error)) return FALSE;
    if (query_emb) *query_emb = g_steal_pointer(&q);
    if (ref_emb) *ref_emb = g_steal_pointer(&r);
    return TRUE;
}

s4g_convnext *s4g_model_open(S4gStore *store, const char *name_or_path, s4g_ctx *ctx,
                             S4gModelSpec *spec, gint64 *model_id, GError **error)
{
    g_autofree char *path = NULL;
    *model_id = 0;
    g_autoptr(GError) lookup = NULL;
    g_autoptr(S4gModelRow) row =
        store ? s4g_store_model_get(store, 0, name_or_path, &lookup) : NULL;
    s4g_err err = {0};
    if (row) {
        if (!s4g_model_spec_from_json(row->architecture, spec, error)) return NULL;
        path = g_build_filename(s4g_store_dir(store), row->weights, NULL);
        *model_id = row->id;
    } else if (g_file_test(name_or_path, G_FILE_TEST_IS_REGULAR)) {
        path = g_strdup(name_or_path);
        if (s4g_convnext_cfg_from_file(path, &spec->cfg, &err)) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "%s", err.msg);
            return NULL;
        }
    } else {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO,
                    "no model named “%s” in the project and no such weights file", name_or_path);
        return NULL;
    }
    s4g_convnext *m = s4g_convnext_new(ctx, &spec->cfg, 0, &err);
    if (!m || s4g_convnext_load(m, path, &err)) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "%s: %s", path, err.msg);
        s4g_convnext_free(m);
        return NULL;
    }
    return m;
}
