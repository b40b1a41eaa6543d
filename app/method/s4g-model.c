/* s4g-model.c — a model's spec (architecture + input sizes) as stored JSON, opening a model
 * by name or weights file, and encoding image files into normalised embeddings. */
#include "s4g-model.h"
#include "s4g-defaults.h"
#include "s4g-image.h"
#include "s4g-json.h"
#include "s4g-json-out.h"
#include "s4g-parallel.h"
#include "s4g-store-runs.h"
#include "s4g-test-kill.h"

#include <math.h>
#include <string.h>

char *s4g_model_spec_to_json(const S4gModelSpec *s)
{
    const char *preset = s4g_convnext_preset_name(&s->cfg);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    s4g_json_add_string(b, "preset", preset ? preset : "custom");
    const int *arrays[2] = {s->cfg.depths, s->cfg.dims};
    const char *names[2] = {"depths", "dims"};
    for (int a = 0; a < 2; a++) {
        s4g_json_begin_array(b, names[a]);
        for (int i = 0; i < 4; i++) s4g_json_add_int(b, NULL, arrays[a][i]);
        json_builder_end_array(b);
    }
    /* sizes width first ("size_order": "wh") */
    const S4gSize *sizes[2] = {&s->ground, &s->satellite};
    const char *views[2] = {"ground", "satellite"};
    for (int v = 0; v < 2; v++) {
        s4g_json_begin_array(b, views[v]);
        s4g_json_add_int(b, NULL, sizes[v]->w);
        s4g_json_add_int(b, NULL, sizes[v]->h);
        json_builder_end_array(b);
    }
    s4g_json_add_string(b, "size_order", "wh");
    json_builder_end_object(b);
    return s4g_json_to_string(b);
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
        spec->ground = (S4gSize){.h = g[!hw], .w = g[hw]};
        spec->satellite = (S4gSize){.h = s[!hw], .w = s[hw]};
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
    S4gSize size;
    float *x;
    GError **errors;
} DecodeJob;

static void decode_one(int i, gpointer data)
{
    DecodeJob *j = data;
    S4gSize sz = j->size;
    s4g_image_load_tensor(j->paths[i], sz, FALSE, j->x + (gsize)i * sz.w * sz.h * 3,
                          &j->errors[i]);
}

float *s4g_encode_images(s4g_convnext *m, char *const *paths, guint n, S4gSize size, int batch,
                         S4gEncodeProgress progress, gpointer user_data, GError **error)
{
    int dim = m->cfg.dims[3];
    batch = MAX(batch, 1);
    g_autofree float *x = g_new(float, (gsize)batch * size.w * size.h * 3);
    g_autofree GError **errors = g_new0(GError *, batch);
    float *out = g_new(float, MAX((gsize)n * dim, 1));
    for (guint b0 = 0; b0 < n; b0 += (guint)batch) {
        guint nb = MIN((guint)batch, n - b0);
        DecodeJob job = {paths + b0, size, x, errors};
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
        if (s4g_convnext_encode_nhwc(m, (int)nb, size.h, size.w, x, batch, out + (gsize)b0 * dim, &err)) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_COMPUTE, "encoding %s…: %s", paths[b0],
                        err.msg);
            g_free(out);
            return NULL;
        }
        for (guint i = 0; i < nb; i++)
            l2_normalise(out + (gsize)(b0 + i) * dim, dim);
        if (progress) progress(b0 + nb, n, user_data);
        s4g_test_kill_at("encode-batch");
    }
    return out;
}

/* The models row named `name`, or NULL (not an error) when there is none. */
static S4gModelRow *row_named(S4gStore *store, const char *name)
{
    g_autoptr(GError) lookup = NULL;
    return store ? s4g_store_model_get(store, 0, name, &lookup) : NULL;
}

static gboolean no_model(const char *name_or_path, GError **error)
{
    g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO,
                "no model named “%s” in the project and no such weights file", name_or_path);
    return FALSE;
}

char *s4g_model_weights_path(S4gStore *store, const char *name_or_path, GError **error)
{
    g_autoptr(S4gModelRow) row = row_named(store, name_or_path);
    if (row) return g_build_filename(s4g_store_dir(store), row->weights, NULL);
    if (g_file_test(name_or_path, G_FILE_TEST_IS_REGULAR)) return g_strdup(name_or_path);
    no_model(name_or_path, error);
    return NULL;
}

s4g_convnext *s4g_model_open(S4gStore *store, const char *name_or_path, s4g_ctx *ctx,
                             S4gModelSpec *spec, gint64 *model_id, GError **error)
{
    g_autofree char *path = NULL;
    *model_id = 0;
    g_autoptr(S4gModelRow) row = row_named(store, name_or_path);
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
        no_model(name_or_path, error);
        return NULL;
    }
    /* inference only: no gradient buffer, one host copy while loading */
    s4g_convnext *m = s4g_convnext_open(ctx, &spec->cfg, path, NULL, 0, &err);
    if (!m) g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "%s: %s", path, err.msg);
    return m;
}

S4gModelSpec s4g_model_spec_default(void)
{
    return (S4gModelSpec){.ground = s4g_defaults.ground, .satellite = s4g_defaults.satellite};
}
