/* s4g-synth-cvact.c — the CVACT layout (sample4geo-reference.md §6.2):
 *   ACT_data.mat (MATLAB v5, written with libmatio):
 *     panoIds   N×22 char matrix (UTF-16 code units, MAT_T_UINT16, column-major)
 *     utm       N×2 double: local metres (east, north) from the region centre — not real UTM
 *               coordinates, but distances between rows are true metres, which is all the
 *               readers use them for
 *     trainSet  struct {trainNum (count), trainInd (n×1 int32, 1-based rows of panoIds: the
 *               real file holds integers, and the original code indexes arrays with them,
 *               which fails on doubles; s4g's reader takes either)}
 *     valSet    struct {valNum, valInd}
 *     (the index field is the struct's second field: Sample4Geo reads [0][0][1])
 *   ANU_data_small/{streetview/ID_grdView.jpg, satview_polish/ID_satView_polish.jpg}  train+val
 *   ANU_data_test/{streetview, satview_polish}/…                                      test
 * Split 70 % train, 20 % val, 10 % test (seeded); test ids are in panoIds too but in no index. */
#include "s4g-geo.h"
#include "s4g-synth-private.h"

#include <matio.h>
#include <math.h>
#include <string.h>

#define CVACT_FOOTPRINT_M 80.0
#define CVACT_SPACING_M 35.0

typedef struct {
    const S4gSynthOptions *o;
    const S4gWorld *w;
    const S4gPoint *locs;
    char (*ids)[23];
    const uint8_t *split; /* 0 train, 1 val, 2 test */
    int sat, pw, ph;
    GError **errors;
} Job;

static void render_one(int i, gpointer data)
{
    Job *j = data;
    const S4gPoint *p = &j->locs[i];
    g_autofree uint8_t *sat = g_malloc((gsize)j->sat * j->sat * 3);
    g_autofree uint8_t *pano = g_malloc((gsize)j->pw * j->ph * 3);
    s4g_synth_render_satellite(j->w, p->x, p->y, CVACT_FOOTPRINT_M, j->sat, sat);
    s4g_synth_render_panorama(j->w, p->x, p->y, j->pw, j->ph, pano, NULL);
    const char *root = j->split[i] == 2 ? "ANU_data_test" : "ANU_data_small";
    g_autofree char *gp = g_strdup_printf("%s/%s/streetview/%s_grdView.jpg", j->o->out_dir, root, j->ids[i]);
    g_autofree char *sp =
        g_strdup_printf("%s/%s/satview_polish/%s_satView_polish.jpg", j->o->out_dir, root, j->ids[i]);
    if (!s4g_synth_save(gp, pano, j->pw, j->ph, 3, &j->errors[i]))
        return;
    s4g_synth_save(sp, sat, j->sat, j->sat, 3, &j->errors[i]);
}

static gboolean write_var(mat_t *mat, const char *path, matvar_t *v, GError **error)
{
    if (!v || Mat_VarWrite(mat, v, MAT_COMPRESSION_NONE) != 0) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "%s: cannot write variable %s", path,
                    v && v->name ? v->name : "?");
        Mat_VarFree(v);
        return FALSE;
    }
    Mat_VarFree(v);
    return TRUE;
}

static matvar_t *index_struct(const char *name, const char *num_field, const char *ind_field,
                              const int32_t *ind, size_t n)
{
    size_t one[2] = {1, 1}, col[2] = {n, 1};
    const char *fields[2] = {num_field, ind_field};
    matvar_t *st = Mat_VarCreateStruct(name, 2, one, fields, 2);
    if (!st)
        return NULL;
    double count = (double)n;
    matvar_t *num = Mat_VarCreate(num_field, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, one, &count, 0);
    matvar_t *idx = Mat_VarCreate(ind_field, MAT_C_INT32, MAT_T_INT32, 2, col, (void *)ind, 0);
    Mat_VarSetStructFieldByName(st, num_field, 0, num);
    Mat_VarSetStructFieldByName(st, ind_field, 0, idx);
    return st;
}

static gboolean write_mat(const char *path, int n, char (*ids)[23], const S4gWorld *w, const S4gPoint *locs,
                          const uint8_t *split, GError **error)
{
    /* A fixed header text: matio would otherwise stamp the creation time into it. */
    mat_t *mat = Mat_CreateVer(path, "MATLAB 5.0 MAT-file, Platform: s4g, Created by: s4g synth", MAT_FT_MAT5);
    if (!mat) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "%s: cannot create MAT file", path);
        return FALSE;
    }
    size_t dims[2] = {(size_t)n, 22};
    g_autofree uint16_t *chars = g_new(uint16_t, (gsize)n * 22);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 22; k++)
            chars[i + (gsize)k * n] = (uint16_t)(unsigned char)ids[i][k];
    g_autofree double *utm = g_new(double, (gsize)n * 2);
    double cx = w->w * w->cell / 2, cy = w->h * w->cell / 2;
    for (int i = 0; i < n; i++) {
        utm[i] = round((locs[i].x - cx) * 1000) / 1000;
        utm[i + n] = round((locs[i].y - cy) * 1000) / 1000;
    }
    g_autofree int32_t *tr = g_new(int32_t, n), *va = g_new(int32_t, n);
    size_t ntr = 0, nva = 0;
    for (int i = 0; i < n; i++) {
        if (split[i] == 0)
            tr[ntr++] = i + 1;
        else if (split[i] == 1)
            va[nva++] = i + 1;
    }
    size_t udims[2] = {(size_t)n, 2};
    gboolean ok = write_var(mat, path, Mat_VarCreate("panoIds", MAT_C_CHAR, MAT_T_UINT16, 2, dims, chars, 0), error) &&
                  write_var(mat, path, Mat_VarCreate("utm", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, udims, utm, 0), error) &&
                  write_var(mat, path, index_struct("trainSet", "trainNum", "trainInd", tr, ntr), error) &&
                  write_var(mat, path, index_struct("valSet", "valNum", "valInd", va, nva), error);
    Mat_Close(mat);
    return ok;
}

gboolean s4g_synth_write_cvact(const S4gSynthOptions *o, S4gSynthSummary *s, GError **error)
{
    int n = o->locations;
    g_autofree S4gPoint *locs = NULL;
    g_autoptr(S4gWorld) w = s4g_synth_world_with_locations(o, 2, n, CVACT_SPACING_M, CVACT_FOOTPRINT_M / 2 + 5,
                                                           o->origin_lat, o->origin_lon, &locs, error);
    if (!w)
        return FALSE;
    const char *dirs[] = {"ANU_data_small/streetview", "ANU_data_small/satview_polish", "ANU_data_test/streetview",
                          "ANU_data_test/satview_polish", NULL};
    if (!s4g_synth_mkdirs(o->out_dir, dirs, error))
        return FALSE;
    /* Ids: 22 characters like Google pano ids, unique. */
    typedef char PanoId[23];
    g_autofree PanoId *ids = g_new0(PanoId, n);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    S4gRng r = s4g_rng_derive(o->seed, 0xc7ac7001ull);
    for (int i = 0; i < n; i++) {
        do
            s4g_synth_pano_id(&r, ids[i]);
        while (g_hash_table_contains(seen, ids[i]));
        g_hash_table_add(seen, ids[i]);
    }
    g_autofree uint32_t *perm = s4g_synth_shuffled(&r, n);
    g_autofree uint8_t *split = g_new0(uint8_t, n);
    int n_train = (int)lround(n * 0.7), n_val = (int)lround(n * 0.2);
    if (n >= 3) {
        n_train = MAX(1, n_train);
        n_val = MAX(1, n_val);
        if (n_train + n_val >= n)
            n_train = n - n_val - 1;
    }
    for (int k = 0; k < n; k++)
        split[perm[k]] = k < n_train ? 0 : k < n_train + n_val ? 1 : 2;

    Job job = {o, w, locs, ids, split, s4g_synth_px(o, 128), s4g_synth_px(o, 256), s4g_synth_px(o, 128),
               g_new0(GError *, n)};
    s4g_synth_parallel(o, "cvact", n, render_one, &job);
    if (!s4g_synth_take_errors(job.errors, n, error))
        return FALSE;
    g_autofree char *mp = g_build_filename(o->out_dir, "ACT_data.mat", NULL);
    if (!write_mat(mp, n, ids, w, locs, split, error))
        return FALSE;
    if (!s4g_synth_write_world_tiles(o, w, s, error))
        return FALSE;
    s->ground_images = n;
    s->satellite_images = n;
    return TRUE;
}
