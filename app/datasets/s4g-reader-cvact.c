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
#include "s4g-file.h"
#include "s4g-mat-check.h"
#include "s4g-test-kill.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <math.h>
#include <matio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAT_FILE "ACT_data.mat"

static gboolean mat_fail(GError **error, const char *field, const char *why)
{
    g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE, "cvact: %s: %s: %s", MAT_FILE, field,
                why);
    return FALSE;
}

/* Number of elements of a matvar (product of its dimensions); FALSE on overflow. */
static gboolean mat_nelems(const matvar_t *v, size_t *n)
{
    size_t k = 1;
    if (v->rank < 0 || (v->rank && !v->dims))
        return FALSE;
    for (int i = 0; i < v->rank; i++)
        if (!g_size_checked_mul(&k, k, v->dims[i]))
            return FALSE;
    *n = k;
    return TRUE;
}

/* Whether v->data holds at least n elements of v->data_size bytes (1, 2 or 4 for chars). */
static gboolean mat_char_data(const matvar_t *v, size_t n)
{
    size_t bytes;
    return v->class_type == MAT_C_CHAR && !v->isComplex && v->data &&
           (v->data_size == 1 || v->data_size == 2 || v->data_size == 4) &&
           g_size_checked_mul(&bytes, n, (size_t)v->data_size) && bytes <= v->nbytes;
}

static guint32 mat_char_at(const matvar_t *v, size_t i)
{
    return v->data_size == 1 ? ((guint8 *)v->data)[i]
           : v->data_size == 2 ? ((guint16 *)v->data)[i]
                               : ((guint32 *)v->data)[i];
}

/* One id: its characters as UTF-8 (NUL and invalid code points dropped), stripped. */
static char *id_string(const matvar_t *v, size_t first, size_t step, size_t len)
{
    GString *s = g_string_new(NULL);
    for (size_t k = 0; k < len; k++) {
        guint32 ch = mat_char_at(v, first + k * step);
        if (ch && g_unichar_validate(ch))
            g_string_append_unichar(s, ch);
    }
    return g_strstrip(g_string_free(s, FALSE));
}

/* panoIds as a list of strings (char matrix in any byte width, or a cell). */
static GPtrArray *read_ids(mat_t *mat, GError **error)
{
    matvar_t *v = Mat_VarRead(mat, "panoIds");
    if (!v) {
        mat_fail(error, "panoIds", "variable missing or unreadable");
        return NULL;
    }
    GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
    size_t nel = 0;
    if (!mat_nelems(v, &nel)) {
        mat_fail(error, "panoIds", "dimensions overflow");
        g_clear_pointer(&ids, g_ptr_array_unref);
    } else if (v->class_type == MAT_C_CHAR && v->rank == 2) {
        size_t n = v->dims[0], len = v->dims[1];
        if (!mat_char_data(v, nel)) {
            mat_fail(error, "panoIds", "char matrix data missing, complex or shorter than its "
                                       "dimensions");
            g_clear_pointer(&ids, g_ptr_array_unref);
        } else {
            for (size_t i = 0; i < n; i++) /* column-major: char (i,k) at i + k·n */
                g_ptr_array_add(ids, id_string(v, i, n, len));
        }
    } else if (v->class_type == MAT_C_CELL) {
        if (nel && !v->data) {
            mat_fail(error, "panoIds", "cell array without its elements");
            g_clear_pointer(&ids, g_ptr_array_unref);
        }
        for (size_t i = 0; i < nel && ids; i++) {
            matvar_t *c = i <= G_MAXINT ? Mat_VarGetCell(v, (int)i) : NULL;
            size_t len = 0;
            if (!c || !mat_nelems(c, &len) || !mat_char_data(c, len)) {
                g_autofree char *f = g_strdup_printf("panoIds{%zu}", i + 1);
                mat_fail(error, f, "not a string");
                g_clear_pointer(&ids, g_ptr_array_unref);
                break;
            }
            g_ptr_array_add(ids, id_string(c, 0, 1, len));
        }
    } else {
        mat_fail(error, "panoIds", "expected a char matrix or a cell of strings");
        g_clear_pointer(&ids, g_ptr_array_unref);
    }
    Mat_VarFree(v);
    return ids;
}

/* A numeric matvar as doubles (any numeric class); NULL unless its data holds every element
 * its dimensions declare. */
static double *numeric(matvar_t *v, size_t *count)
{
    size_t n = 0, bytes = 0;
    *count = 0;
    if (!v->data || v->isComplex || !mat_nelems(v, &n) || v->data_size <= 0 ||
        !g_size_checked_mul(&bytes, n, (size_t)v->data_size) || bytes > v->nbytes)
        return NULL;
    static const struct {
        enum matio_types type;
        int size;
    } sizes[] = {{MAT_T_DOUBLE, 8}, {MAT_T_SINGLE, 4}, {MAT_T_INT32, 4}, {MAT_T_UINT32, 4},
                 {MAT_T_INT16, 2},  {MAT_T_UINT16, 2}, {MAT_T_INT8, 1},  {MAT_T_UINT8, 1},
                 {MAT_T_INT64, 8},  {MAT_T_UINT64, 8}};
    gboolean known = FALSE;
    for (size_t k = 0; k < G_N_ELEMENTS(sizes); k++)
        known |= sizes[k].type == v->data_type && sizes[k].size == v->data_size;
    if (!known)
        return NULL;
    double *out = g_try_new(double, n ? n : 1);
    if (!out)
        return NULL;
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
    /* matio's field lookups index data and names without checks: only call them on a
     * struct whose element, field names and field slots are all there. */
    size_t nel = 0;
    unsigned nf = Mat_VarGetNumberOfFields(v);
    char *const *names = Mat_VarGetStructFieldnames(v);
    gboolean whole = v->data && mat_nelems(v, &nel) && nel >= 1 && nf >= 1 && names &&
                     v->nbytes >= (size_t)nf * sizeof(matvar_t *);
    for (unsigned k = 0; whole && k < nf; k++)
        whole = names[k] != NULL;
    if (!whole) {
        Mat_VarFree(v);
        return mat_fail(error, set, "empty or incomplete struct"), NULL;
    }
    matvar_t *f = Mat_VarGetStructFieldByName(v, field_name, 0);
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
        g_autofree char *shown = s4g_file_clip(id);
        g_autofree char *where = g_strdup_printf("%s: %s(%zu) = %s", MAT_FILE, set, i + 1, shown);
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

/* v7.3 (HDF5) files are not walked by s4g_mat_check: bound what matio will allocate for a
 * variable from its header (dims × element size) by what the file can hold compressed. */
static gboolean mat73_bounded(mat_t *mat, const char *name, goffset file_size, GError **error)
{
    matvar_t *v = Mat_VarReadInfo(mat, name);
    if (!v)
        return TRUE; /* missing: reported by the read */
    size_t n = 0, bytes = 0, each = Mat_SizeOfClass(v->class_type);
    if (v->class_type == MAT_C_CELL || v->class_type == MAT_C_STRUCT)
        each = sizeof(matvar_t *);
    gboolean ok = mat_nelems(v, &n) && g_size_checked_mul(&bytes, n, each ? each : 8) &&
                  bytes / 1100 <= (guint64)file_size;
    Mat_VarFree(v);
    if (!ok)
        mat_fail(error, name, "declares more data than the file can hold");
    return ok;
}

/* A UTM coordinate: finite and within ±10⁷ m (northings reach 10⁷ south of the equator). */
static gboolean check_utm(const double *utm, size_t n_rows, GError **error)
{
    for (size_t r = 0; r < n_rows; r++)
        for (int k = 0; k < 2; k++) {
            double v = utm[r + k * n_rows];
            if (!isfinite(v) || fabs(v) > 1e7) {
                g_autofree char *f = g_strdup_printf("utm(%zu,%d)", r + 1, k + 1);
                g_autofree char *why =
                    g_strdup_printf("%g is not a UTM %s in metres", v, k ? "northing" : "easting");
                return mat_fail(error, f, why);
            }
        }
    return TRUE;
}

/* What ACT_data.mat holds: the ids and the arrays, as read and checked. */
typedef struct {
    GPtrArray *ids;
    double *utm, *tr, *va;
    size_t n_utm, n_tr, n_va;
} MatVars;

static void mat_vars_clear(MatVars *o)
{
    g_clear_pointer(&o->ids, g_ptr_array_unref);
    g_clear_pointer(&o->utm, g_free);
    g_clear_pointer(&o->tr, g_free);
    g_clear_pointer(&o->va, g_free);
}

/* Reads and checks the four variables of an open file into *o (cleared on failure). */
static gboolean read_vars(mat_t *mat, S4gMatVersion version, goffset len, MatVars *o,
                          GError **error)
{
    static const char *const vars[] = {"panoIds", "utm", "trainSet", "valSet"};
    for (size_t k = 0; version == S4G_MAT_V73 && k < G_N_ELEMENTS(vars); k++)
        if (!mat73_bounded(mat, vars[k], len, error))
            return FALSE;
    if (!(o->ids = read_ids(mat, error)))
        return FALSE;
    matvar_t *u = Mat_VarRead(mat, "utm");
    if (!u) {
        mat_vars_clear(o);
        return mat_fail(error, "utm", "variable missing or unreadable");
    }
    o->utm = numeric(u, &o->n_utm);
    gboolean shape = u->rank == 2 && u->dims[1] == 2 && u->dims[0] == o->ids->len;
    Mat_VarFree(u);
    if (!o->utm || !shape) {
        g_autofree char *why = g_strdup_printf("expected a %u×2 numeric matrix", o->ids->len);
        mat_vars_clear(o);
        return mat_fail(error, "utm", why);
    }
    if (!check_utm(o->utm, o->n_utm / 2, error) ||
        !(o->tr = read_indices(mat, "trainSet", "trainInd", &o->n_tr, error)) ||
        !(o->va = read_indices(mat, "valSet", "valInd", &o->n_va, error))) {
        mat_vars_clear(o);
        return FALSE;
    }
    return TRUE;
}

/* ---- v7.3 (HDF5) in a child process -------------------------------------------------------
 * The HDF5 structures of a v7.3 file (superblock, object headers, B-trees, heaps, filters) are
 * parsed by libhdf5 under matio, which trusts them.  So the whole v7.3 read runs in a forked
 * child with an address-space budget (its size at the fork plus 256 MiB plus 64 × the file),
 * a CPU budget (3 s plus 1 s per 2 MiB) and a wall-clock limit; it sends the checked variables
 * back through a pipe.  A crash, an allocation beyond the budget or a hang in the child
 * becomes an error naming the file; the parent never runs libhdf5 on the file. */

#if defined(__SANITIZE_ADDRESS__)
#define S4G_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define S4G_ASAN 1
#endif
#endif
#ifndef S4G_ASAN
#define S4G_ASAN 0
#endif
#if S4G_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

#define V73_WIRE_OK 'O'
#define V73_WIRE_ERR 'E'

static gboolean write_all(int fd, const void *data, size_t n)
{
    const char *p = data;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return FALSE;
        p += w, n -= (size_t)w;
    }
    return TRUE;
}

static gboolean send_doubles(int fd, const double *v, size_t n)
{
    guint64 n64 = n;
    return write_all(fd, &n64, sizeof n64) && write_all(fd, v, n * sizeof(double));
}

/* The child: read, send, exit (never returns). */
G_GNUC_NORETURN static void v73_child(int fd, const char *path, gsize len)
{
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null >= 0) dup2(null, STDERR_FILENO); /* libhdf5 prints its error stack */
    MatVars o = {0};
    GError *e = NULL;
    mat_t *mat = Mat_Open(path, MAT_ACC_RDONLY);
    gboolean ok = mat && read_vars(mat, S4G_MAT_V73, (goffset)len, &o, &e);
    if (!mat)
        g_set_error(&e, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                    "cvact: %s: not a MATLAB file (matio cannot open it)", path);
    s4g_test_kill_at("mat73-child");
    gboolean sent;
    if (ok) {
        char tag = V73_WIRE_OK;
        guint32 n = o.ids->len;
        sent = write_all(fd, &tag, 1) && write_all(fd, &n, sizeof n);
        for (guint i = 0; sent && i < o.ids->len; i++) {
            guint32 l = (guint32)strlen(o.ids->pdata[i]);
            sent = write_all(fd, &l, sizeof l) && write_all(fd, o.ids->pdata[i], l);
        }
        sent = sent && send_doubles(fd, o.utm, o.n_utm) && send_doubles(fd, o.tr, o.n_tr) &&
               send_doubles(fd, o.va, o.n_va);
    } else {
        char tag = V73_WIRE_ERR;
        sent = write_all(fd, &tag, 1) && write_all(fd, e->message, strlen(e->message));
    }
    _exit(sent ? 0 : 3);
}

/* Reading back what the child sent: every length checked against the bytes received. */
typedef struct {
    const guint8 *p, *end;
} Wire;

static gboolean wire_take(Wire *w, void *out, size_t n)
{
    if ((size_t)(w->end - w->p) < n) return FALSE;
    memcpy(out, w->p, n);
    w->p += n;
    return TRUE;
}

static double *wire_doubles(Wire *w, size_t *n)
{
    guint64 n64 = 0;
    if (!wire_take(w, &n64, sizeof n64) || n64 > (guint64)(w->end - w->p) / sizeof(double))
        return NULL;
    double *v = g_new(double, n64 ? n64 : 1);
    wire_take(w, v, n64 * sizeof(double));
    *n = n64;
    return v;
}

static gboolean wire_vars(Wire *w, MatVars *o)
{
    guint32 n = 0;
    if (!wire_take(w, &n, sizeof n) || n > (size_t)(w->end - w->p) / sizeof n) return FALSE;
    o->ids = g_ptr_array_new_full(n, g_free);
    for (guint32 i = 0; i < n; i++) {
        guint32 l = 0;
        if (!wire_take(w, &l, sizeof l) || l > (size_t)(w->end - w->p)) return FALSE;
        g_ptr_array_add(o->ids, g_strndup((const char *)w->p, l));
        w->p += l;
    }
    return (o->utm = wire_doubles(w, &o->n_utm)) && (o->tr = wire_doubles(w, &o->n_tr)) &&
           (o->va = wire_doubles(w, &o->n_va)) && w->p == w->end;
}

/* This process's address-space size in bytes (0 when unknown). */
static guint64 address_space(void)
{
    g_autofree char *statm = NULL;
    if (!g_file_get_contents("/proc/self/statm", &statm, NULL, NULL)) return 0;
    return g_ascii_strtoull(statm, NULL, 10) * (guint64)sysconf(_SC_PAGESIZE);
}

static gboolean read_vars_isolated(const char *path, gsize len, MatVars *o, GError **error)
{
    guint64 budget = ((guint64)256 << 20) + 64 * (guint64)len;
    guint64 as_limit = address_space() + budget;
    /* reading a real ACT_data.mat takes well under a second of CPU; a damaged file can make
     * libhdf5 spin (tests/fuzz/regressions/cvact/v73-libhdf5-spins.mat) */
    rlim_t cpu_s = 3 + len / (2 << 20);
    gint64 wall_us = (gint64)(20 + 3 * cpu_s) * G_USEC_PER_SEC;
    int fds[2];
    g_autoptr(GError) perr = NULL;
    if (!g_unix_open_pipe(fds, FD_CLOEXEC, &perr)) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "cvact: %s: %s", path, perr->message);
        return FALSE;
    }
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]), close(fds[1]);
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "cvact: %s: fork: %s", path,
                    g_strerror(e));
        return FALSE;
    }
    if (pid == 0) {
        close(fds[0]);
        /* a crash ends the child by its signal, whatever handlers the parent had (libFuzzer's
         * would report the parent's input as the crash) */
        const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
        for (size_t i = 0; i < G_N_ELEMENTS(fatal); i++) signal(fatal[i], SIG_DFL);
        struct rlimit cpu = {cpu_s, cpu_s + 1}, core = {0, 0};
#if !S4G_ASAN
        /* (AddressSanitizer reserves terabytes of address space as it goes: its builds rely on
         * its own allocator limits instead) */
        struct rlimit as = {as_limit, as_limit};
        setrlimit(RLIMIT_AS, &as);
#else
        (void)as_limit;
        /* an ASan report in the child (libhdf5's calls into intercepted functions) ends the
         * child only: not libFuzzer's death callback, which would report the parent's input */
        __sanitizer_set_death_callback(NULL);
#endif
        setrlimit(RLIMIT_CPU, &cpu);
        setrlimit(RLIMIT_CORE, &core);
        v73_child(fds[1], path, len);
    }
    close(fds[1]);
    /* what the child can send is bounded by its own budget */
    g_autoptr(GByteArray) got = g_byte_array_new();
    gint64 deadline = g_get_monotonic_time() + wall_us;
    gboolean timed_out = FALSE, too_much = FALSE;
    guint8 chunk[65536];
    for (;;) {
        gint64 left = deadline - g_get_monotonic_time();
        struct pollfd pfd = {fds[0], POLLIN, 0};
        int r = left > 0 ? poll(&pfd, 1, (int)MIN(left / 1000 + 1, 1000)) : 0;
        if (r < 0 && errno == EINTR) continue;
        if (left <= 0) {
            timed_out = TRUE;
            break;
        }
        if (r == 0) continue;
        ssize_t n = read(fds[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (got->len + (guint64)n > budget) {
            too_much = TRUE;
            break;
        }
        g_byte_array_append(got, chunk, (guint)n);
    }
    close(fds[0]);
    if (timed_out || too_much) kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (timed_out) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                    "cvact: %s: reading the v7.3 (HDF5) file did not finish within %" G_GINT64_FORMAT
                    " s (a damaged or crafted file?)",
                    path, wall_us / G_USEC_PER_SEC);
        return FALSE;
    }
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        g_autofree char *how =
            sig == SIGXCPU ? g_strdup_printf("reading it took more than %u s of CPU", (unsigned)cpu_s)
            : sig == SIGABRT || sig == SIGSEGV || sig == SIGBUS
                ? g_strdup_printf("its reader crashed (%s) or needed more than its memory "
                                  "budget of %" G_GUINT64_FORMAT " MiB",
                                  g_strsignal(sig), budget >> 20)
                : g_strdup_printf("its reader ended with %s", g_strsignal(sig));
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE, "cvact: %s: the v7.3 (HDF5) file "
                    "is damaged or crafted: %s", path, how);
        return FALSE;
    }
    Wire w = {got->data, got->len ? got->data + got->len : got->data};
    char tag = 0;
    if (!too_much && WIFEXITED(status) && WEXITSTATUS(status) == 0 && wire_take(&w, &tag, 1)) {
        if (tag == V73_WIRE_ERR) {
            g_autofree char *msg = g_strndup((const char *)w.p, (gsize)(w.end - w.p));
            g_set_error_literal(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE, msg);
            return FALSE;
        }
        if (tag == V73_WIRE_OK && wire_vars(&w, o)) return TRUE;
    }
    mat_vars_clear(o);
    g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                "cvact: %s: the v7.3 (HDF5) file is damaged or crafted: its reader %s", path,
                too_much ? "answered more than its memory budget allows"
                         : "failed without an answer");
    return FALSE;
}

gboolean s4g_reader_cvact(S4gDataset *ds, GError **error)
{
    g_autofree char *path = g_build_filename(ds->root, MAT_FILE, NULL);
    /* The whole file is checked before matio sees it (matio allocates what a file declares). */
    g_autofree char *bytes = NULL;
    gsize len = 0;
    g_autoptr(GError) rerr = NULL;
    if (!s4g_file_read_regular(path, (gsize)4 << 30, &bytes, &len, &rerr)) {
        g_set_error(error, S4G_GEO_ERROR, rerr->code, "cvact: %s", rerr->message);
        return FALSE;
    }
    S4gMatVersion version;
    g_autofree char *what = g_strdup_printf("cvact: %s", MAT_FILE);
    if (!s4g_mat_check((const guint8 *)bytes, len, what, &version, error))
        return FALSE;
    g_clear_pointer(&bytes, g_free);
    MatVars o = {0};
    if (version == S4G_MAT_V73) {
        if (!read_vars_isolated(path, len, &o, error))
            return FALSE;
    } else {
        mat_t *mat = Mat_Open(path, MAT_ACC_RDONLY);
        if (!mat) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                        "cvact: %s: not a MATLAB file (matio cannot open it)", path);
            return FALSE;
        }
        gboolean read = read_vars(mat, version, (goffset)len, &o, error);
        Mat_Close(mat);
        if (!read)
            return FALSE;
    }
    gboolean ok =
        add_split(ds, o.ids, o.utm, o.n_utm, o.tr, o.n_tr, "train", "trainSet.trainInd", error) &&
        add_split(ds, o.ids, o.utm, o.n_utm, o.va, o.n_va, "val", "valSet.valInd", error) &&
        read_test(ds, o.ids, o.utm, o.n_utm, error);
    mat_vars_clear(&o);
    return ok;
}
