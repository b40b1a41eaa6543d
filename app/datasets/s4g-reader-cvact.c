/* s4g-reader-cvact.c — CVACT (reference §6.2).  ACT_data.mat (MATLAB v5/v7 or v7.3, read
 * with matio): panoIds (N×L char matrix, or a cell of strings), utm (N×2 double, metres),
 * trainSet.trainInd and valSet.valInd (1-based row indices; read by field position 1 as the
 * reference does, so differently named fields work too).  Images:
 * ANU_data_small/streetview/{id}_grdView.jpg and satview_polish/{id}_satView_polish.jpg.
 * Identities are the 0-based positions in the split's list (query and reference share them).
 * Test: the sorted intersection of the ids in ANU_data_test/{streetview,satview_polish}.
 * UTM goes to the images' x/y (easting/northing); lat/lon stay unknown (the UTM zone is not
 * in the file). */
#include "s4g-dataset.h"

#include <math.h>
#include <matio.h>
#include <string.h>

#define MAT_FILE "ACT_data.mat"

static gboolean mat_fail(GError **error, const char *field, const char *why)
{
    g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE, "cvact: %s: %s: %s", MAT_FILE, field,
                why);
    return FALSE;
}

/* panoIds as a list of strings (char matrix in either byte width, or a cell). */
static GPtrArray *read_ids(mat_t *mat, GError **error)
{
    matvar_t *v = Mat_VarRead(mat, "panoIds");
    if (!v) {
        mat_fail(error, "panoIds", "variable missing");
        return NULL;
    }
    GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
    if (v->class_type == MAT_C_CHAR && v->rank == 2) {
        size_t n = v->dims[0], len = v->dims[1];
        for (size_t i = 0; i < n; i++) {
            GString *s = g_string_new(NULL);
            for (size_t k = 0; k < len; k++) {
                /* column-major: char (i,k) at i + k·n */
                guint32 ch = v->data_size == 1 ? ((guint8 *)v->data)[i + k * n]
                             : v->data_size == 2 ? ((guint16 *)v->data)[i + k * n]
                                                 : ((guint32 *)v->data)[i + k * n];
                if (ch)
                    g_string_append_unichar(s, ch);
            }
            g_ptr_array_add(ids, g_strstrip(g_string_free(s, FALSE)));
        }
    } else if (v->class_type == MAT_C_CELL) {
        size_t n = v->dims[0] * v->dims[1];
        for (size_t i = 0; i < n; i++) {
            matvar_t *c = Mat_VarGetCell(v, (int)i);
            if (!c || c->class_type != MAT_C_CHAR || !c->data) {
                g_autofree char *f = g_strdup_printf("panoIds{%zu}", i + 1);
                mat_fail(error, f, "not a string");
                g_ptr_array_unref(ids);
                Mat_VarFree(v);
                return NULL;
            }
            size_t len = c->dims[0] * c->dims[1];
            GString *s = g_string_new(NULL);
            for (size_t k = 0; k < len; k++) {
                guint32 ch = c->data_size == 1 ? ((guint8 *)c->data)[k]
                                               : ((guint16 *)c->data)[k];
                if (ch)
                    g_string_append_unichar(s, ch);
            }
            g_ptr_array_add(ids, g_strstrip(g_string_free(s, FALSE)));
        }
    } else {
        mat_fail(error, "panoIds", "expected a char matrix or a cell of strings");
        g_ptr_array_unref(ids);
        ids = NULL;
    }
    Mat_VarFree(v);
    return ids;
}

/* A numeric matvar as doubles (any numeric class). */
static double *numeric(matvar_t *v, size_t *count)
{
    size_t n = 1;
    for (int i = 0; i < v->rank; i++)
        n *= v->dims[i];
    if (!v->data || v->isComplex)
        return NULL;
    double *out = g_new(double, n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        switch (v->data_type) {
        case MAT_T_DOUBLE: out[i] = ((double *)v->data)[i]; break;
        case MAT_T_SINGLE: out[i] = ((float *)v->data)[i]; break;
        case MAT_T_INT32: out[i] = ((gint32 *)v->data)[i]; break;
        case MAT_T_UINT32: out[i] = ((guint32 *)v->data)[i]; break;
        case MAT_T_INT16: out[i] = ((gint16 *)v->data)[i]; break;
        case MAT_T_UINT16: out[i] = ((guint16 *)v->data)[i]; break;
        case MAT_T_INT8: out[i] = ((gint8 *)v->data)[i]; break;
        case MAT_T_UINT8: out[i] = ((guint8 *)v->data)[i]; break;
        case MAT_T_INT64: out[i] = (double)((gint64 *)v->data)[i]; break;
        case MAT_T_UINT64: out[i] = (double)((guint64 *)v->data)[i]; break;
        default: g_free(out); return NULL;
        }
    }
    *count = n;
    return out;
}

/* {split}Set field at position 1 (Sample4Geo: anuData[f'{split}Set'][0][0][1]); if the struct
 * has a single field, that one. */
static double *read_indices(mat_t *mat, const char *set, const char *field_name, size_t *count,
                            GError **error)
{
    matvar_t *v = Mat_VarRead(mat, set);
    if (!v)
        return mat_fail(error, set, "variable missing"), NULL;
    if (v->class_type != MAT_C_STRUCT) {
        Mat_VarFree(v);
        return mat_fail(error, set, "expected a struct"), NULL;
    }
    matvar_t *f = Mat_VarGetStructFieldByName(v, field_name, 0);
    unsigned nf = Mat_VarGetNumberOfFields(v);
    if (!f && nf >= 2)
        f = Mat_VarGetStructFieldByIndex(v, 1, 0);
    else if (!f && nf == 1)
        f = Mat_VarGetStructFieldByIndex(v, 0, 0);
    g_autofree char *fname = g_strdup_printf("%s.%s", set, field_name);
    double *idx = f ? numeric(f, count) : NULL;
    Mat_VarFree(v);
    if (!idx)
        return mat_fail(error, fname, f ? "expected numeric indices" : "field missing"), NULL;
    return idx;
}

static gboolean add_split(S4gDataset *ds, GPtrArray *ids, const double *utm, size_t n_utm,
                          const double *idx, size_t n_idx, const char *split, const char *set,
                          GError **error)
{
    gint64 label = 0;
    for (size_t i = 0; i < n_idx; i++) {
        double d = idx[i];
        if (d != floor(d) || d < 1 || d > ids->len) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                        "cvact: %s: %s(%zu): index %g outside 1..%u", MAT_FILE, set, i + 1, d,
                        ids->len);
            return FALSE;
        }
        size_t r = (size_t)d - 1;
        const char *id = ids->pdata[r];
        g_autofree char *gp = g_strdup_printf("ANU_data_small/streetview/%s_grdView.jpg", id);
        g_autofree char *sp =
            g_strdup_printf("ANU_data_small/satview_polish/%s_satView_polish.jpg", id);
        g_autofree char *where = g_strdup_printf("%s: %s(%zu) = %s", MAT_FILE, set, i + 1, id);
        /* Probe both before adding either, so a half-missing pair leaves no orphan image and
         * labels stay the positions in the filtered list, as in the reference. */
        g_autofree char *gfull = g_build_filename(ds->root, gp, NULL);
        g_autofree char *sfull = g_build_filename(ds->root, sp, NULL);
        gboolean gx = g_file_test(gfull, G_FILE_TEST_EXISTS);
        gboolean sx = g_file_test(sfull, G_FILE_TEST_EXISTS);
        if ((!gx || !sx) && ds->skip_missing) {
            ds->missing += !gx + !sx;
            if (ds->missing_paths->len < 20)
                g_ptr_array_add(ds->missing_paths, g_strdup(!gx ? gp : sp));
            ds->skipped_pairs++;
            continue;
        }
        gint64 g = s4g_dataset_add_image(ds, S4G_VIEW_GROUND, gp, split, label, NAN, NAN, where,
                                         error);
        if (g < 0)
            return FALSE;
        gint64 s = s4g_dataset_add_image(ds, S4G_VIEW_SATELLITE, sp, split, label, NAN, NAN,
                                         where, error);
        if (s < 0)
            return FALSE;
        if (r < n_utm / 2) {
            /* utm is N×2, column-major */
            size_t nrow = n_utm / 2;
            for (gint64 k = 0; k < 2; k++) {
                S4gDatasetImage *im = s4g_dataset_image(ds, (guint)(k ? s : g));
                im->x = utm[r], im->y = utm[r + nrow];
            }
        }
        s4g_dataset_add_pair(ds, (guint)g, (guint)s, S4G_RELATION_POSITIVE, split, NAN, NAN);
        label++;
    }
    return TRUE;
}

static int cmp_strp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Ids in one ANU_data_test folder: file names minus `suffix`. */
static GHashTable *list_ids(S4gDataset *ds, const char *rel, const char *suffix, GError **error)
{
    g_autofree char *dir = g_build_filename(ds->root, rel, NULL);
    g_autoptr(GError) e = NULL;
    GDir *d = g_dir_open(dir, 0, &e);
    if (!d) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "cvact: %s: %s", dir, e->message);
        return NULL;
    }
    GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    const char *name;
    while ((name = g_dir_read_name(d)))
        if (g_str_has_suffix(name, suffix) && strlen(name) > strlen(suffix))
            g_hash_table_add(set, g_strndup(name, strlen(name) - strlen(suffix)));
    g_dir_close(d);
    return set;
}

static gboolean read_test(S4gDataset *ds, GPtrArray *ids, const double *utm, size_t n_utm,
                          GError **error)
{
    g_autofree char *test = g_build_filename(ds->root, "ANU_data_test", NULL);
    if (!g_file_test(test, G_FILE_TEST_IS_DIR))
        return TRUE; /* the test release is a separate download; absent is fine */
    g_autoptr(GHashTable) grd = list_ids(ds, "ANU_data_test/streetview", "_grdView.jpg", error);
    if (!grd)
        return FALSE;
    g_autoptr(GHashTable) sat =
        list_ids(ds, "ANU_data_test/satview_polish", "_satView_polish.jpg", error);
    if (!sat)
        return FALSE;
    g_autoptr(GPtrArray) both = g_ptr_array_new();
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, grd);
    while (g_hash_table_iter_next(&it, &key, NULL))
        if (g_hash_table_contains(sat, key))
            g_ptr_array_add(both, key);
    g_ptr_array_sort(both, cmp_strp); /* string order, as Python's sorted() */
    g_autoptr(GHashTable) row = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < ids->len; i++)
        g_hash_table_insert(row, ids->pdata[i], GUINT_TO_POINTER(i + 1));
    for (guint i = 0; i < both->len; i++) {
        const char *id = both->pdata[i];
        g_autofree char *gp = g_strdup_printf("ANU_data_test/streetview/%s_grdView.jpg", id);
        g_autofree char *sp =
            g_strdup_printf("ANU_data_test/satview_polish/%s_satView_polish.jpg", id);
        gint64 g = s4g_dataset_add_image(ds, S4G_VIEW_GROUND, gp, "test", i, NAN, NAN, NULL,
                                         error);
        if (g < 0)
            return FALSE;
        gint64 s = s4g_dataset_add_image(ds, S4G_VIEW_SATELLITE, sp, "test", i, NAN, NAN, NULL,
                                         error);
        if (s < 0)
            return FALSE;
        guint r = GPOINTER_TO_UINT(g_hash_table_lookup(row, id));
        if (r && r - 1 < n_utm / 2) {
            size_t nrow = n_utm / 2;
            for (int k = 0; k < 2; k++) {
                S4gDatasetImage *im = s4g_dataset_image(ds, (guint)(k ? s : g));
                im->x = utm[r - 1], im->y = utm[r - 1 + nrow];
            }
        }
        s4g_dataset_add_pair(ds, (guint)g, (guint)s, S4G_RELATION_POSITIVE, "test", NAN, NAN);
    }
    return TRUE;
}

gboolean s4g_reader_cvact(S4gDataset *ds, GError **error)
{
    g_autofree char *path = g_build_filename(ds->root, MAT_FILE, NULL);
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "cvact: %s: file not found", path);
        return FALSE;
    }
    mat_t *mat = Mat_Open(path, MAT_ACC_RDONLY);
    if (!mat) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                    "cvact: %s: not a MATLAB file (matio cannot open it)", path);
        return FALSE;
    }
    gboolean ok = FALSE;
    g_autoptr(GPtrArray) ids = NULL;
    g_autofree double *utm = NULL, *tr = NULL, *va = NULL;
    size_t n_utm = 0, n_tr = 0, n_va = 0;
    if (!(ids = read_ids(mat, error)))
        goto out;
    matvar_t *u = Mat_VarRead(mat, "utm");
    if (!u) {
        mat_fail(error, "utm", "variable missing");
        goto out;
    }
    utm = numeric(u, &n_utm);
    gboolean shape = u->rank == 2 && u->dims[1] == 2 && u->dims[0] == ids->len;
    Mat_VarFree(u);
    if (!utm || !shape) {
        g_autofree char *why = g_strdup_printf("expected a %u×2 numeric matrix", ids->len);
        mat_fail(error, "utm", why);
        goto out;
    }
    if (!(tr = read_indices(mat, "trainSet", "trainInd", &n_tr, error)) ||
        !(va = read_indices(mat, "valSet", "valInd", &n_va, error)))
        goto out;
    ok = add_split(ds, ids, utm, n_utm, tr, n_tr, "train", "trainSet.trainInd", error) &&
         add_split(ds, ids, utm, n_utm, va, n_va, "val", "valSet.valInd", error) &&
         read_test(ds, ids, utm, n_utm, error);
out:
    Mat_Close(mat);
    return ok;
}
