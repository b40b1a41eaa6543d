/* test-readers.c — each benchmark reader on a tiny hand-written layout; bad data; import
 * into a project twice. */
#include "fixtures.h"
#include "s4g-store-private.h"
#include "s4g-dataset.h"
#include "s4g-store-datasets.h"

#include <libexif/exif-data.h>
#include <math.h>
#include <matio.h>
#include <stdarg.h>

/* ---- CVUSA ------------------------------------------------------------------------------ */

static void make_cvusa(const char *root)
{
    GString *tr = g_string_new(NULL), *va = g_string_new(NULL), *all = g_string_new(NULL);
    for (int i = 1; i <= 8; i++) {
        g_autofree char *s = g_strdup_printf("bingmap/19/%07d.jpg", i);
        g_autofree char *g = g_strdup_printf("streetview/panos/%07d.jpg", i);
        fx_image(root, s, 12, 12, i);
        fx_image(root, g, 33, 7, 100 + i);
        g_string_append_printf(i <= 5 ? tr : va, "%s,%s,streetview/annotations/%07d.png\n", s, g,
                               i);
        g_string_append_printf(all, "%.4f,%.4f,%.4f,%.4f,%d\n", 40.0 + i * 0.01, -90.0 - i * 0.01,
                               40.0 + i * 0.01 + 0.0001, -90.0 - i * 0.01, i);
    }
    fx_text(root, "splits/train-19zl.csv", tr->str);
    fx_text(root, "splits/val-19zl.csv", va->str);
    fx_text(root, "split_locations/all.csv", all->str);
    g_string_free(tr, TRUE);
    g_string_free(va, TRUE);
    g_string_free(all, TRUE);
}

static void test_cvusa(void)
{
    g_autofree char *root = fx_tmpdir();
    make_cvusa(root);
    g_autoptr(S4gDataset) ds = s4g_dataset_new(S4G_DATASET_CVUSA, root, FALSE);
    g_autoptr(GError) e = NULL;
    g_assert_true(s4g_dataset_read(ds, &e));
    g_assert_no_error(e);
    g_assert_cmpuint(s4g_dataset_count_images(ds, "train", S4G_VIEW_GROUND), ==, 5);
    g_assert_cmpuint(s4g_dataset_count_images(ds, "train", S4G_VIEW_SATELLITE), ==, 5);
    g_assert_cmpuint(s4g_dataset_count_images(ds, "val", S4G_VIEW_GROUND), ==, 3);
    g_assert_cmpuint(s4g_dataset_count_pairs(ds, "train", S4G_RELATION_POSITIVE), ==, 5);
    g_assert_cmpuint(s4g_dataset_count_pairs(ds, "val", S4G_RELATION_POSITIVE), ==, 3);
    gint64 s7 = s4g_dataset_find_image(ds, S4G_VIEW_SATELLITE, "val", "bingmap/19/0000007.jpg");
    gint64 g7 = s4g_dataset_find_image(ds, S4G_VIEW_GROUND, "val", "streetview/panos/0000007.jpg");
    g_assert_cmpint(s7, >=, 0);
    g_assert_cmpint(g7, >=, 0);
    g_assert_cmpint(s4g_dataset_find_image(ds, S4G_VIEW_SATELLITE, "train",
                                           "bingmap/19/0000007.jpg"),
                    ==, -1);
    S4gDatasetImage *s = s4g_dataset_image(ds, (guint)s7), *g = s4g_dataset_image(ds, (guint)g7);
    g_assert_cmpint(s->identity, ==, 7);
    g_assert_cmpint(g->identity, ==, 7);
    g_assert_cmpfloat_with_epsilon(s->lat, 40.07, 1e-9);
    g_assert_cmpfloat_with_epsilon(s->lon, -90.07, 1e-9);
    g_assert_cmpfloat_with_epsilon(g->lat, 40.0701, 1e-9);
    g_assert_cmpint(s->width, ==, 12);
    g_assert_cmpint(g->width, ==, 33);
    g_assert_cmpint(g->height, ==, 7);
    /* the pair links them */
    gboolean found = FALSE;
    for (guint i = 0; i < ds->pairs->len; i++) {
        S4gDatasetPair *p = &g_array_index(ds->pairs, S4gDatasetPair, i);
        if (p->ground == (guint)g7)
            found = p->satellite == (guint)s7 && !strcmp(p->split, "val");
    }
    g_assert_true(found);
    fx_rmtree(root);
}

static void expect_fail(S4gDatasetKind kind, const char *root, gboolean skip, ...)
{
    g_autoptr(S4gDataset) ds = s4g_dataset_new(kind, root, skip);
    g_autoptr(GError) e = NULL;
    g_assert_false(s4g_dataset_read(ds, &e));
    va_list ap;
    va_start(ap, skip);
    const char *s;
    g_assert_nonnull(e);
    while ((s = va_arg(ap, const char *)))
        if (!strstr(e->message, s))
            g_error("error “%s” does not mention “%s”", e->message, s);
    va_end(ap);
    g_test_message("expected error: %s", e->message);
}

static void test_cvusa_bad(void)
{
    g_autofree char *root = fx_tmpdir();
    make_cvusa(root);
    /* wrong column count */
    fx_text(root, "splits/val-19zl.csv",
            "bingmap/19/0000006.jpg,streetview/panos/0000006.jpg,a\n"
            "bingmap/19/0000007.jpg,streetview/panos/0000007.jpg\n");
    expect_fail(S4G_DATASET_CVUSA, root, FALSE, "splits/val-19zl.csv:2",
                "expected 3 columns, got 2", NULL);
    /* missing image: names the CSV line, the column and the file */
    fx_text(root, "splits/val-19zl.csv",
            "bingmap/19/0000006.jpg,streetview/panos/0000006.jpg,a\n"
            "\n"
            "bingmap/19/0000007.jpg,streetview/panos/0000099.jpg,a\n");
    expect_fail(S4G_DATASET_CVUSA, root, FALSE, "splits/val-19zl.csv:3", "column 2",
                "0000099.jpg", "not found", NULL);
    /* … which --skip-missing counts instead */
    {
        g_autoptr(S4gDataset) ds = s4g_dataset_new(S4G_DATASET_CVUSA, root, TRUE);
        g_autoptr(GError) e = NULL;
        g_assert_true(s4g_dataset_read(ds, &e));
        g_assert_cmpuint(ds->missing, ==, 1);
        g_assert_cmpuint(ds->skipped_pairs, ==, 1);
        g_assert_cmpuint(s4g_dataset_count_pairs(ds, "val", S4G_RELATION_POSITIVE), ==, 1);
        g_assert_cmpstr(ds->missing_paths->pdata[0], ==, "streetview/panos/0000099.jpg");
    }
    /* a non-image file in an image's place */
    fx_text(root, "streetview/panos/0000006.jpg", "this is not a JPEG\n");
    fx_text(root, "splits/val-19zl.csv", "bingmap/19/0000006.jpg,streetview/panos/0000006.jpg,a\n");
    expect_fail(S4G_DATASET_CVUSA, root, FALSE, "splits/val-19zl.csv:1", "0000006.jpg",
                "not an image", NULL);
    /* a malformed GPS field */
    fx_text(root, "split_locations/all.csv", "40.0,-90.0,40.0,-90.0,1\n40.0,abc,40.0,-90.0,2\n");
    expect_fail(S4G_DATASET_CVUSA, root, FALSE, "split_locations/all.csv:2", "sat_lon", "abc",
                NULL);
    /* a missing split file */
    fx_text(root, "split_locations/all.csv", "40.0,-90.0,40.0,-90.0,1\n");
    g_autofree char *tr = g_build_filename(root, "splits/train-19zl.csv", NULL);
    g_unlink(tr);
    expect_fail(S4G_DATASET_CVUSA, root, FALSE, "train-19zl.csv", "not found", NULL);
    fx_rmtree(root);
}

/* ---- CVACT ------------------------------------------------------------------------------ */

static void write_struct(mat_t *mat, const char *name, const char *field, const double *idx,
                         size_t n)
{
    const char *fields[2] = {"dummy", field};
    size_t one[2] = {1, 1};
    matvar_t *st = Mat_VarCreateStruct(name, 2, one, fields, 2);
    double zero = 0;
    size_t d1[2] = {1, 1}, dn[2] = {n, 1};
    Mat_VarSetStructFieldByName(st, "dummy", 0,
                                Mat_VarCreate(NULL, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, d1, &zero, 0));
    Mat_VarSetStructFieldByName(st, field, 0,
                                Mat_VarCreate(NULL, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dn,
                                              (void *)idx, 0));
    g_assert_cmpint(Mat_VarWrite(mat, st, MAT_COMPRESSION_NONE), ==, 0);
    Mat_VarFree(st);
}

/* ids pano_0 … pano_5; trainInd 1,3,5 (pano_0, pano_2, pano_4); valInd 2,4,6. */
static void make_cvact(const char *root, gboolean with_sets)
{
    const int n = 6, len = 6;
    guint16 chars[6 * 6];
    double utm[12];
    for (int i = 0; i < n; i++) {
        g_autofree char *id = g_strdup_printf("pano_%d", i);
        for (int k = 0; k < len; k++)
            chars[i + k * n] = (guint16)id[k]; /* column-major */
        utm[i] = 690000 + 10 * i;              /* easting */
        utm[i + n] = 6090000 + 20 * i;         /* northing */
        g_autofree char *g = g_strdup_printf("ANU_data_small/streetview/%s_grdView.jpg", id);
        g_autofree char *s =
            g_strdup_printf("ANU_data_small/satview_polish/%s_satView_polish.jpg", id);
        fx_image(root, g, 16, 8, i);
        fx_image(root, s, 10, 10, 50 + i);
    }
    g_autofree char *path = g_build_filename(root, "ACT_data.mat", NULL);
    mat_t *mat = Mat_CreateVer(path, NULL, MAT_FT_MAT5);
    g_assert_nonnull(mat);
    size_t dc[2] = {(size_t)n, (size_t)len}, du[2] = {(size_t)n, 2};
    matvar_t *v = Mat_VarCreate("panoIds", MAT_C_CHAR, MAT_T_UINT16, 2, dc, chars, 0);
    g_assert_cmpint(Mat_VarWrite(mat, v, MAT_COMPRESSION_NONE), ==, 0);
    Mat_VarFree(v);
    v = Mat_VarCreate("utm", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, du, utm, 0);
    g_assert_cmpint(Mat_VarWrite(mat, v, MAT_COMPRESSION_NONE), ==, 0);
    Mat_VarFree(v);
    if (with_sets) {
        static const double tr[] = {1, 3, 5}, va[] = {2, 4, 6};
        write_struct(mat, "trainSet", "trainInd", tr, 3);
        write_struct(mat, "valSet", "valInd", va, 3);
    }
    Mat_Close(mat);
    /* test: ids in both folders are pano_1 and pano_3 (pano_9 only has a ground view) */
    const char *gt[] = {"pano_3", "pano_1", "pano_9"}, *st[] = {"pano_1", "pano_3", "pano_7"};
    for (int i = 0; i < 3; i++) {
        g_autofree char *g = g_strdup_printf("ANU_data_test/streetview/%s_grdView.jpg", gt[i]);
        g_autofree char *s =
            g_strdup_printf("ANU_data_test/satview_polish/%s_satView_polish.jpg", st[i]);
        fx_image(root, g, 16, 8, 20 + i);
        fx_image(root, s, 10, 10, 30 + i);
    }
}

static void test_cvact(void)
{
    g_autofree char *root = fx_tmpdir();
    make_cvact(root, TRUE);
    g_autoptr(S4gDataset) ds = s4g_dataset_new(S4G_DATASET_CVACT, root, FALSE);
    g_autoptr(GError) e = NULL;
    g_assert_true(s4g_dataset_read(ds, &e));
    g_assert_no_error(e);
    g_assert_cmpuint(s4g_dataset_count_pairs(ds, "train", S4G_RELATION_POSITIVE), ==, 3);
    g_assert_cmpuint(s4g_dataset_count_pairs(ds, "val", S4G_RELATION_POSITIVE), ==, 3);
    g_assert_cmpuint(s4g_dataset_count_pairs(ds, "test", S4G_RELATION_POSITIVE), ==, 2);
    g_assert_cmpuint(s4g_dataset_count_images(ds, "test", S4G_VIEW_GROUND), ==, 2);
    /* pano_4 is trainInd(3): label 2, UTM row 4 */
    gint64 g = s4g_dataset_find_image(ds, S4G_VIEW_GROUND, "train",
                                      "ANU_data_small/streetview/pano_4_grdView.jpg");
    g_assert_cmpint(g, >=, 0);
    S4gDatasetImage *im = s4g_dataset_image(ds, (guint)g);
    g_assert_cmpint(im->identity, ==, 2);
    g_assert_cmpfloat(im->x, ==, 690040);
    g_assert_cmpfloat(im->y, ==, 6090080);
    g_assert_true(isnan(im->lat));
    /* pano_1 is valInd(1): label 0 */
    g = s4g_dataset_find_image(ds, S4G_VIEW_SATELLITE, "val",
                               "ANU_data_small/satview_polish/pano_1_satView_polish.jpg");
    g_assert_cmpint(g, >=, 0);
    g_assert_cmpint(s4g_dataset_image(ds, (guint)g)->identity, ==, 0);
    /* test: sorted intersection → pano_1 label 0, pano_3 label 1 */
    g = s4g_dataset_find_image(ds, S4G_VIEW_GROUND, "test",
                               "ANU_data_test/streetview/pano_3_grdView.jpg");
    g_assert_cmpint(g, >=, 0);
    g_assert_cmpint(s4g_dataset_image(ds, (guint)g)->identity, ==, 1);
    g_assert_cmpfloat(s4g_dataset_image(ds, (guint)g)->x, ==, 690030);
    g_assert_cmpint(s4g_dataset_find_image(ds, S4G_VIEW_GROUND, "test",
                                           "ANU_data_test/streetview/pano_9_grdView.jpg"),
                    ==, -1);
    fx_rmtree(root);
}

static void test_cvact_bad(void)
{
    g_autofree char *root = fx_tmpdir();
    make_cvact(root, FALSE);
    expect_fail(S4G_DATASET_CVACT, root, FALSE, "ACT_data.mat", "trainSet", "missing", NULL);
    fx_text(root, "ACT_data.mat", "not a mat file");
    expect_fail(S4G_DATASET_CVACT, root, FALSE, "ACT_data.mat", "not a MATLAB file", NULL);
    fx_rmtree(root);
    g_free(root);
    /* an image listed by the .mat but absent */
    root = fx_tmpdir();
    make_cvact(root, TRUE);
    g_autofree char *p =
        g_build_filename(root, "ANU_data_small/satview_polish/pano_2_satView_polish.jpg", NULL);
    g_unlink(p);
    expect_fail(S4G_DATASET_CVACT, root, FALSE, "trainSet.trainInd(2)", "pano_2",
                "pano_2_satView_polish.jpg", "not found", NULL);
    g_autoptr(S4gDataset) ds = s4g_dataset_new(S4G_DATASET_CVACT, root, TRUE);
    g_autoptr(GError) e = NULL;
    g_assert_true(s4g_dataset_read(ds, &e));
    g_assert_cmpuint(ds->missing, ==, 1);
    g_assert_cmpuint(s4g_dataset_count_pairs(ds, "train", S4G_RELATION_POSITIVE), ==, 2);
    /* labels are positions in the filtered list: pano_4 becomes 1 */
    gint64 g = s4g_dataset_find_image(ds, S4G_VIEW_GROUND, "train",
                                      "ANU_data_small/streetview/pano_4_grdView.jpg");
    g_assert_cmpint(s4g_dataset_image(ds, (guint)g)->identity, ==, 1);
    fx_rmtree(root);
}

/* ---- VIGOR ------------------------------------------------------------------------------ */

static const char *const chi_sat[] = {"satellite_41.0_-87.0.png", "satellite_41.1_-87.0.png",
                                      "satellite_41.0_-87.1.png", "satellite_41.1_-87.1.png"};
static const char *const ny_sat[] = {"satellite_40.7_-74.0.png", "satellite_40.8_-74.0.png",
                                     "satellite_40.7_-74.1.png", "satellite_40.8_-74.1.png"};

static char *vline(const char *pano, const char *const *sats, int p, int a, int b, int c)
{
    return g_strdup_printf("%s %s 1.5 -2.5 %s 3 4 %s 5 6 %s 7 8\n", pano, sats[p], sats[a],
                           sats[b], sats[c]);
}

static void make_vigor(const char *root)
{
    const char *pa = "pA,41.05,-87.05,.jpg", *pb = "pB,41.06,-87.05,.jpg",
               *pc = "pC,41.07,-87.05,.jpg", *pd = "pD,40.75,-74.05,.jpg",
               *pe = "pE,40.76,-74.05,.jpg";
    GString *cl = g_string_new(NULL), *nl = g_string_new(NULL);
    for (int i = 0; i < 4; i++) {
        g_autofree char *c = g_strdup_printf("satellite/Chicago/%s", chi_sat[i]);
        g_autofree char *n = g_strdup_printf("satellite/NewYork/%s", ny_sat[i]);
        fx_image(root, c, 8, 8, i);
        fx_image(root, n, 8, 8, 10 + i);
        g_string_append_printf(cl, "%s\n", chi_sat[i]);
        g_string_append_printf(nl, "%s\n", ny_sat[i]);
    }
    const char *panos[] = {pa, pb, pc}, *nyp[] = {pd, pe};
    for (int i = 0; i < 3; i++) {
        g_autofree char *p = g_strdup_printf("ground/Chicago/%s", panos[i]);
        fx_image(root, p, 16, 8, 40 + i);
    }
    for (int i = 0; i < 2; i++) {
        g_autofree char *p = g_strdup_printf("ground/NewYork/%s", nyp[i]);
        fx_image(root, p, 16, 8, 50 + i);
    }
    fx_text(root, "splits/Chicago/satellite_list.txt", cl->str);
    fx_text(root, "splits/NewYork/satellite_list.txt", nl->str);
    g_autofree char *la = vline(pa, chi_sat, 0, 1, 2, 3), *lb = vline(pb, chi_sat, 1, 0, 2, 3),
                    *lc = vline(pc, chi_sat, 2, 0, 1, 3), *ld = vline(pd, ny_sat, 0, 1, 2, 3),
                    *le = vline(pe, ny_sat, 3, 0, 1, 2);
    g_autofree char *ctr = g_strconcat(la, lb, NULL), *call = g_strconcat(la, lb, lc, NULL),
                    *nall = g_strconcat(ld, le, NULL);
    fx_text(root, "splits/Chicago/same_area_balanced_train.txt", ctr);
    fx_text(root, "splits/Chicago/same_area_balanced_test.txt", lc);
    fx_text(root, "splits/Chicago/pano_label_balanced.txt", call);
    fx_text(root, "splits/NewYork/same_area_balanced_train.txt", ld);
    fx_text(root, "splits/NewYork/same_area_balanced_test.txt", le);
    fx_text(root, "splits/NewYork/pano_label_balanced.txt", nall);
    g_string_free(cl, TRUE);
    g_string_free(nl, TRUE);
}

static void test_vigor(void)
{
    g_autofree char *root = fx_tmpdir();
    make_vigor(root);
    g_autoptr(S4gDataset) ds = s4g_dataset_new(S4G_DATASET_VIGOR, root, FALSE);
    g_autoptr(GError) e = NULL;
    g_assert_true(s4g_dataset_read(ds, &e));
    g_assert_no_error(e);
    struct {
        const char *split;
        guint ground, sat, pos, semi;
    } want[] = {
        {"same-train", 3, 3, 3, 2},  /* refs = positives c0, c1, n0 */
        {"same-test", 2, 8, 2, 6},   /* refs = every satellite */
        {"cross-train", 2, 2, 2, 2}, /* NewYork only; refs n0, n3 */
        {"cross-test", 3, 4, 3, 9},  /* Chicago only */
    };
    for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
        g_test_message("%s", want[i].split);
        g_assert_cmpuint(s4g_dataset_count_images(ds, want[i].split, S4G_VIEW_GROUND), ==,
                         want[i].ground);
        g_assert_cmpuint(s4g_dataset_count_images(ds, want[i].split, S4G_VIEW_SATELLITE), ==,
                         want[i].sat);
        g_assert_cmpuint(s4g_dataset_count_pairs(ds, want[i].split, S4G_RELATION_POSITIVE), ==,
                         want[i].pos);
        g_assert_cmpuint(s4g_dataset_count_pairs(ds, want[i].split, S4G_RELATION_SEMI_POSITIVE),
                         ==, want[i].semi);
    }
    /* identities: satellite index in the concatenated lists; a panorama's is its positive's */
    gint64 n3 = s4g_dataset_find_image(ds, S4G_VIEW_SATELLITE, "same-test",
                                       "satellite/NewYork/satellite_40.8_-74.1.png");
    gint64 pe = s4g_dataset_find_image(ds, S4G_VIEW_GROUND, "same-test",
                                       "ground/NewYork/pE,40.76,-74.05,.jpg");
    g_assert_cmpint(s4g_dataset_image(ds, (guint)n3)->identity, ==, 7);
    g_assert_cmpint(s4g_dataset_image(ds, (guint)pe)->identity, ==, 7);
    gint64 n3x = s4g_dataset_find_image(ds, S4G_VIEW_SATELLITE, "cross-train",
                                        "satellite/NewYork/satellite_40.8_-74.1.png");
    g_assert_cmpint(s4g_dataset_image(ds, (guint)n3x)->identity, ==, 3);
    /* coordinates from the file names */
    S4gDatasetImage *sat = s4g_dataset_image(ds, (guint)n3), *pan = s4g_dataset_image(ds, (guint)pe);
    g_assert_cmpfloat_with_epsilon(sat->lat, 40.8, 1e-12);
    g_assert_cmpfloat_with_epsilon(sat->lon, -74.1, 1e-12);
    g_assert_cmpfloat_with_epsilon(pan->lat, 40.76, 1e-12);
    /* pA's positive c0 with offsets (1.5, −2.5); its semi-positive c1 with (3, 4) */
    gint64 pa = s4g_dataset_find_image(ds, S4G_VIEW_GROUND, "same-train",
                                       "ground/Chicago/pA,41.05,-87.05,.jpg");
    gint64 c0 = s4g_dataset_find_image(ds, S4G_VIEW_SATELLITE, "same-train",
                                       "satellite/Chicago/satellite_41.0_-87.0.png");
    gint64 c1 = s4g_dataset_find_image(ds, S4G_VIEW_SATELLITE, "same-train",
                                       "satellite/Chicago/satellite_41.1_-87.0.png");
    int seen = 0;
    for (guint i = 0; i < ds->pairs->len; i++) {
        S4gDatasetPair *p = &g_array_index(ds->pairs, S4gDatasetPair, i);
        if (p->ground != (guint)pa)
            continue;
        if (p->satellite == (guint)c0) {
            g_assert_cmpint(p->relation, ==, S4G_RELATION_POSITIVE);
            g_assert_cmpfloat(p->dx, ==, 1.5);
            g_assert_cmpfloat(p->dy, ==, -2.5);
            seen++;
        } else if (p->satellite == (guint)c1) {
            g_assert_cmpint(p->relation, ==, S4G_RELATION_SEMI_POSITIVE);
            g_assert_cmpfloat(p->dx, ==, 3);
            g_assert_cmpfloat(p->dy, ==, 4);
            seen++;
        } else {
            g_error("pA paired with a tile outside the train references");
        }
    }
    g_assert_cmpint(seen, ==, 2);
    fx_rmtree(root);
}

/* The official release's folders ({city}/panorama, {city}/satellite) work as well. */
static void test_vigor_official(void)
{
    g_autofree char *root = fx_tmpdir();
    make_vigor(root);
    const char *cities[] = {"Chicago", "NewYork"};
    for (int c = 0; c < 2; c++) {
        g_autofree char *g = g_build_filename(root, "ground", cities[c], NULL);
        g_autofree char *s = g_build_filename(root, "satellite", cities[c], NULL);
        g_autofree char *cd = g_build_filename(root, cities[c], NULL);
        g_autofree char *g2 = g_build_filename(cd, "panorama", NULL);
        g_autofree char *s2 = g_build_filename(cd, "satellite", NULL);
        g_assert_cmpint(g_mkdir_with_parents(cd, 0755), ==, 0);
        g_assert_cmpint(g_rename(g, g2), ==, 0);
        g_assert_cmpint(g_rename(s, s2), ==, 0);
    }
    g_autoptr(S4gDataset) ds = s4g_dataset_new(S4G_DATASET_VIGOR, root, FALSE);
    g_autoptr(GError) e = NULL;
    g_assert_true(s4g_dataset_read(ds, &e));
    g_assert_no_error(e);
    g_assert_cmpuint(s4g_dataset_count_images(ds, "same-test", S4G_VIEW_SATELLITE), ==, 8);
    g_assert_cmpint(s4g_dataset_find_image(ds, S4G_VIEW_GROUND, "same-test",
                                           "NewYork/panorama/pE,40.76,-74.05,.jpg"),
                    >=, 0);
    fx_rmtree(root);
}

static void test_vigor_bad(void)
{
    g_autofree char *root = fx_tmpdir();
    make_vigor(root);
    g_autofree char *l = g_strdup_printf("pE,40.76,-74.05,.jpg %s 1 2 %s 3 4 %s 5 6 %s 7\n",
                                         ny_sat[0], ny_sat[1], ny_sat[2], ny_sat[3]);
    fx_text(root, "splits/NewYork/same_area_balanced_test.txt", l);
    expect_fail(S4G_DATASET_VIGOR, root, FALSE, "splits/NewYork/same_area_balanced_test.txt:1",
                "expected 13 fields, got 12", NULL);
    g_autofree char *l2 =
        g_strdup_printf("pE,40.76,-74.05,.jpg satellite_1_2.png 1 2 %s 3 4 %s 5 6 %s 7 8\n",
                        ny_sat[1], ny_sat[2], ny_sat[3]);
    fx_text(root, "splits/NewYork/same_area_balanced_test.txt", l2);
    expect_fail(S4G_DATASET_VIGOR, root, FALSE, "same_area_balanced_test.txt:1", "field 2",
                "satellite_1_2.png", NULL);
    g_autofree char *l3 = g_strdup_printf("pE,40.76,-74.05,.jpg %s 1 x %s 3 4 %s 5 6 %s 7 8\n",
                                          ny_sat[0], ny_sat[1], ny_sat[2], ny_sat[3]);
    fx_text(root, "splits/NewYork/same_area_balanced_test.txt", l3);
    expect_fail(S4G_DATASET_VIGOR, root, FALSE, "same_area_balanced_test.txt:1", "field 4",
                "not a number", NULL);
    fx_rmtree(root);
}

/* ---- University-1652 -------------------------------------------------------------------- */

static void test_university(void)
{
    g_autofree char *root = fx_tmpdir();
    fx_image(root, "train/satellite/0001/0001.jpg", 9, 9, 1);
    fx_image(root, "train/satellite/0002/0002.jpg", 9, 9, 2);
    for (int i = 0; i < 3; i++) {
        g_autofree char *p = g_strdup_printf("train/drone/0001/image-%02d.jpeg", i);
        fx_image(root, p, 9, 9, 10 + i);
    }
    for (int i = 0; i < 2; i++) {
        g_autofree char *p = g_strdup_printf("train/drone/0002/image-%02d.jpeg", i);
        fx_image(root, p, 9, 9, 20 + i);
        g_autofree char *q = g_strdup_printf("test/query_drone/0003/image-%02d.jpeg", i);
        fx_image(root, q, 9, 9, 30 + i);
        g_autofree char *r = g_strdup_printf("test/gallery_drone/0003/image-%02d.jpeg", i);
        fx_image(root, r, 9, 9, 40 + i);
    }
    fx_image(root, "test/gallery_drone/0004/image-00.jpeg", 9, 9, 50);
    fx_image(root, "train/drone/0005/image-00.jpeg", 9, 9, 60); /* no satellite: left out */
    fx_image(root, "test/gallery_satellite/0003/0003.jpg", 9, 9, 3);
    fx_image(root, "test/gallery_satellite/0004/0004.jpg", 9, 9, 4);
    fx_image(root, "test/query_satellite/0003/0003.jpg", 9, 9, 3);
    g_autoptr(S4gDataset) ds = s4g_dataset_new(S4G_DATASET_UNIVERSITY, root, FALSE);
    g_autoptr(GError) e = NULL;
    g_assert_true(s4g_dataset_read(ds, &e));
    g_assert_no_error(e);
    g_assert_cmpuint(s4g_dataset_count_images(ds, "train", S4G_VIEW_DRONE), ==, 5);
    g_assert_cmpuint(s4g_dataset_count_images(ds, "train", S4G_VIEW_SATELLITE), ==, 2);
    g_assert_cmpuint(s4g_dataset_count_pairs(ds, "train", S4G_RELATION_POSITIVE), ==, 5);
    g_assert_cmpuint(s4g_dataset_count_images(ds, "d2s", S4G_VIEW_DRONE), ==, 2);
    g_assert_cmpuint(s4g_dataset_count_images(ds, "d2s", S4G_VIEW_SATELLITE), ==, 2);
    g_assert_cmpuint(s4g_dataset_count_pairs(ds, "d2s", S4G_RELATION_POSITIVE), ==, 2);
    g_assert_cmpuint(s4g_dataset_count_images(ds, "s2d", S4G_VIEW_SATELLITE), ==, 1);
    g_assert_cmpuint(s4g_dataset_count_images(ds, "s2d", S4G_VIEW_DRONE), ==, 3);
    g_assert_cmpuint(s4g_dataset_count_pairs(ds, "s2d", S4G_RELATION_POSITIVE), ==, 2);
    gint64 d = s4g_dataset_find_image(ds, S4G_VIEW_DRONE, "s2d",
                                      "test/gallery_drone/0004/image-00.jpeg");
    g_assert_cmpint(s4g_dataset_image(ds, (guint)d)->identity, ==, 4);
    /* a class folder that is not a number */
    fx_image(root, "test/query_drone/abc/x.jpg", 9, 9, 1);
    expect_fail(S4G_DATASET_UNIVERSITY, root, FALSE, "test/query_drone/abc",
                "not an integer", NULL);
    fx_rmtree(root);
}

/* ---- photos ----------------------------------------------------------------------------- */

static ExifEntry *gps_entry(ExifData *ed, ExifTag tag, ExifFormat fmt, unsigned comps)
{
    ExifEntry *e = exif_entry_new();
    exif_content_add_entry(ed->ifd[EXIF_IFD_GPS], e);
    e->tag = tag;
    e->format = fmt;
    e->components = comps;
    e->size = exif_format_get_size(fmt) * comps;
    e->data = calloc(1, e->size);
    exif_entry_unref(e);
    return e;
}

/* A JPEG with EXIF GPS (lat, lon in degrees, S/W negative): APP1 spliced after SOI. */
static void make_gps_jpeg(const char *root, const char *rel, double lat, double lon)
{
    fx_image(root, rel, 20, 10, 7);
    g_autofree char *p = g_build_filename(root, rel, NULL);
    g_autofree char *jpg = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(p, &jpg, &len, NULL));
    ExifData *ed = exif_data_new();
    exif_data_set_byte_order(ed, EXIF_BYTE_ORDER_INTEL);
    const double v[2] = {fabs(lat), fabs(lon)};
    const ExifTag tags[2] = {(ExifTag)EXIF_TAG_GPS_LATITUDE, (ExifTag)EXIF_TAG_GPS_LONGITUDE};
    const ExifTag refs[2] = {(ExifTag)EXIF_TAG_GPS_LATITUDE_REF,
                             (ExifTag)EXIF_TAG_GPS_LONGITUDE_REF};
    const char refc[2] = {lat < 0 ? 'S' : 'N', lon < 0 ? 'W' : 'E'};
    for (int k = 0; k < 2; k++) {
        ExifEntry *e = gps_entry(ed, tags[k], EXIF_FORMAT_RATIONAL, 3);
        double deg = floor(v[k]), min = floor((v[k] - deg) * 60);
        double sec = ((v[k] - deg) * 60 - min) * 60;
        ExifRational q[3] = {{(ExifLong)deg, 1}, {(ExifLong)min, 1},
                             {(ExifLong)llround(sec * 10000), 10000}};
        for (int i = 0; i < 3; i++)
            exif_set_rational(e->data + 8 * i, EXIF_BYTE_ORDER_INTEL, q[i]);
        ExifEntry *r = gps_entry(ed, refs[k], EXIF_FORMAT_ASCII, 2);
        r->data[0] = (unsigned char)refc[k];
    }
    unsigned char *buf = NULL;
    unsigned int blen = 0;
    exif_data_save_data(ed, &buf, &blen);
    exif_data_unref(ed);
    g_assert_nonnull(buf);
    GByteArray *out = g_byte_array_new();
    g_byte_array_append(out, (guint8 *)jpg, 2);
    guint8 hdr[4] = {0xFF, 0xE1, (guint8)((blen + 2) >> 8), (guint8)((blen + 2) & 0xff)};
    g_byte_array_append(out, hdr, 4);
    g_byte_array_append(out, buf, blen);
    g_byte_array_append(out, (guint8 *)jpg + 2, (guint)len - 2);
    free(buf);
    g_assert_true(g_file_set_contents(p, (char *)out->data, out->len, NULL));
    g_byte_array_unref(out);
}

static void test_photos(void)
{
    g_autofree char *root = fx_tmpdir();
    make_gps_jpeg(root, "a.jpg", 48.1375, -11.575);
    fx_image(root, "b.png", 10, 10, 2);
    fx_image(root, "sub/c.jpg", 10, 10, 3);
    fx_text(root, "notes.txt", "not a photo, ignored by extension\n");
    g_autoptr(S4gDataset) ds = s4g_dataset_new(S4G_DATASET_PHOTOS, root, FALSE);
    g_autoptr(GError) e = NULL;
    g_assert_true(s4g_dataset_read(ds, &e));
    g_assert_no_error(e);
    g_assert_cmpuint(s4g_dataset_count_images(ds, "query", S4G_VIEW_GROUND), ==, 3);
    S4gDatasetImage *a = s4g_dataset_image(ds, 0);
    g_assert_cmpstr(a->path, ==, "a.jpg");
    g_assert_cmpfloat_with_epsilon(a->lat, 48.1375, 1e-6);
    g_assert_cmpfloat_with_epsilon(a->lon, -11.575, 1e-6);
    g_assert_cmpint(a->width, ==, 20);
    g_assert_true(isnan(s4g_dataset_image(ds, 1)->lat));
    g_assert_cmpstr(s4g_dataset_image(ds, 2)->path, ==, "sub/c.jpg");

    /* the CSV form, relative to the CSV's folder */
    fx_text(root, "list.csv", "path,lat,lon\nb.png,10.5,-20.25\nsub/c.jpg,,\n");
    g_autofree char *csv = g_build_filename(root, "list.csv", NULL);
    g_autoptr(S4gDataset) d2 = s4g_dataset_new(S4G_DATASET_PHOTOS, csv, FALSE);
    g_assert_true(s4g_dataset_read(d2, &e));
    g_assert_cmpuint(d2->images->len, ==, 2);
    g_assert_cmpfloat(s4g_dataset_image(d2, 0)->lat, ==, 10.5);
    g_assert_cmpfloat(s4g_dataset_image(d2, 0)->lon, ==, -20.25);
    g_assert_true(isnan(s4g_dataset_image(d2, 1)->lat));

    fx_text(root, "list.csv", "b.png,10.5\n");
    expect_fail(S4G_DATASET_PHOTOS, csv, FALSE, "list.csv:1", "expected 3 columns", "got 2", NULL);
    fx_text(root, "list.csv", "b.png,10.5,east\n");
    expect_fail(S4G_DATASET_PHOTOS, csv, FALSE, "list.csv:1", "lon", "east", NULL);
    fx_text(root, "list.csv", "notes.txt,1,2\n");
    expect_fail(S4G_DATASET_PHOTOS, csv, FALSE, "list.csv:1", "notes.txt", "not an image", NULL);
    fx_rmtree(root);
}

/* HEIC photos as phones write them (heif-enc from libheif-examples, EXIF copied from the
 * JPEG): decoded, listed by the photos reader, GPS read from the HEIC's Exif item; one without
 * GPS is a photo to locate (no truth). */
static void test_photos_heic(void)
{
    g_autofree char *heif_enc = g_find_program_in_path("heif-enc");
    if (!heif_enc) {
        g_test_skip("heif-enc (libheif-examples, tools/install-deps) is not installed");
        return;
    }
    g_autofree char *src = fx_tmpdir();
    g_autofree char *root = fx_tmpdir();
    make_gps_jpeg(src, "gps.jpg", -33.8568, 151.2153);
    fx_image(src, "plain.jpg", 64, 48, 5);
    const char *pairs[][2] = {{"gps.jpg", "a.heic"}, {"plain.jpg", "b.HEIC"}};
    for (int i = 0; i < 2; i++) {
        g_autofree char *in = g_build_filename(src, pairs[i][0], NULL);
        g_autofree char *out = g_build_filename(root, pairs[i][1], NULL);
        const char *argv[] = {heif_enc, "-q", "95", "-o", out, in, NULL};
        int status = 0;
        g_autoptr(GError) e = NULL;
        g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                                   NULL, NULL, NULL, &status, &e));
        g_assert_true(g_spawn_check_wait_status(status, NULL));
    }
    g_autoptr(S4gDataset) ds = s4g_dataset_new(S4G_DATASET_PHOTOS, root, FALSE);
    g_autoptr(GError) e = NULL;
    g_assert_true(s4g_dataset_read(ds, &e));
    g_assert_no_error(e);
    g_assert_cmpuint(ds->images->len, ==, 2);
    S4gDatasetImage *a = s4g_dataset_image(ds, 0), *b = s4g_dataset_image(ds, 1);
    g_assert_cmpstr(a->path, ==, "a.heic");
    g_assert_cmpfloat_with_epsilon(a->lat, -33.8568, 1e-6);
    g_assert_cmpfloat_with_epsilon(a->lon, 151.2153, 1e-6);
    g_assert_cmpstr(b->path, ==, "b.HEIC");
    g_assert_true(isnan(b->lat) && isnan(b->lon));
    g_assert_cmpint(b->width, ==, 64);
    g_assert_cmpint(b->height, ==, 48);
    /* the decoded HEIC shows what the JPEG showed (lossy both times: close, not equal) */
    g_autofree char *jp = g_build_filename(src, "plain.jpg", NULL);
    g_autofree char *hp = g_build_filename(root, "b.HEIC", NULL);
    g_autoptr(S4gImage) j = s4g_image_load(jp, &e);
    g_assert_no_error(e);
    g_autoptr(S4gImage) h = s4g_image_load(hp, &e);
    g_assert_no_error(e);
    g_assert_cmpint(h->width, ==, j->width);
    g_assert_cmpint(h->height, ==, j->height);
    double mad = 0;
    for (int i = 0; i < j->width * j->height * 3; i++) mad += fabs((double)j->data[i] - h->data[i]);
    mad /= j->width * j->height * 3;
    g_test_message("HEIC vs JPEG: mean absolute difference %.2f", mad);
    g_assert_cmpfloat(mad, <, 20);
    /* a truncated HEIC is an error naming it */
    g_autofree char *bytes = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(hp, &bytes, &len, NULL));
    g_autofree char *cut = g_build_filename(root, "cut.heic", NULL);
    g_assert_true(g_file_set_contents(cut, bytes, (gssize)(len / 2), NULL));
    g_autoptr(S4gImage) bad = s4g_image_load(cut, &e);
    g_assert_null(bad);
    g_assert_nonnull(e);
    g_assert_nonnull(strstr(e->message, "cut.heic"));
    fx_rmtree(src);
    fx_rmtree(root);
}

/* ---- import into a project -------------------------------------------------------------- */

static void count_rows(S4gStore *store, gint64 *images, gint64 *pairs)
{
    sqlite3_stmt *st = s4g_store_prepare(
        store, "SELECT (SELECT count(*) FROM images), (SELECT count(*) FROM pairs)", NULL);
    g_assert_nonnull(st);
    g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
    *images = sqlite3_column_int64(st, 0);
    *pairs = sqlite3_column_int64(st, 1);
    sqlite3_finalize(st);
}

static void test_import_twice(void)
{
    g_autofree char *root = fx_tmpdir();
    g_autofree char *proj = fx_tmpdir();
    make_vigor(root);
    g_autoptr(GError) e = NULL;
    g_autoptr(S4gStore) store = s4g_store_open(proj, TRUE, &e);
    g_assert_no_error(e);
    gint64 id1 = 0, id2 = 0, i1, p1, i2, p2;
    guint ni, np;
    {
        g_autoptr(S4gDataset) ds = s4g_dataset_new(S4G_DATASET_VIGOR, root, FALSE);
        g_assert_true(s4g_dataset_read(ds, &e));
        g_assert_true(s4g_dataset_store(ds, store, "vigor", &id1, &ni, &np, &e));
        g_assert_no_error(e);
        g_assert_cmpuint(ni, ==, ds->images->len);
        g_assert_cmpuint(np, ==, ds->pairs->len);
    }
    count_rows(store, &i1, &p1);
    g_assert_cmpint(i1, ==, 3 + 3 + 2 + 8 + 2 + 2 + 3 + 4);
    g_assert_cmpint(p1, ==, 5 + 8 + 4 + 12);
    {
        g_autoptr(S4gDataset) ds = s4g_dataset_new(S4G_DATASET_VIGOR, root, FALSE);
        g_assert_true(s4g_dataset_read(ds, &e));
        g_assert_true(s4g_dataset_store(ds, store, "vigor", &id2, &ni, &np, &e));
        g_assert_cmpuint(ni, ==, 0);
        g_assert_cmpuint(np, ==, 0);
    }
    count_rows(store, &i2, &p2);
    g_assert_cmpint(id1, ==, id2);
    g_assert_cmpint(i1, ==, i2);
    g_assert_cmpint(p1, ==, p2);
    /* typed reads back */
    g_autoptr(GArray) ic = s4g_store_dataset_image_counts(store, id1, &e);
    g_assert_nonnull(ic);
    gboolean saw = FALSE;
    for (guint i = 0; i < ic->len; i++) {
        S4gStoreCount *c = &g_array_index(ic, S4gStoreCount, i);
        if (!strcmp(c->split, "same-test") && !strcmp(c->what, "satellite")) {
            g_assert_cmpint(c->count, ==, 8);
            saw = TRUE;
        }
    }
    g_assert_true(saw);
    g_autoptr(GArray) semi = s4g_store_pairs_list(store, id1, "cross-test", "semi-positive", &e);
    g_assert_cmpuint(semi->len, ==, 9);
    S4gStorePair *sp = &g_array_index(semi, S4gStorePair, 0);
    g_assert_cmpfloat(sp->dx, ==, 3);
    S4gStoreImage im = {0};
    g_assert_true(s4g_store_image_get(store, sp->ground, &im, &e));
    g_assert_cmpstr(im.view, ==, "ground");
    g_assert_cmpstr(im.split, ==, "cross-test");
    g_assert_cmpfloat_with_epsilon(im.lat, 41.05, 1e-12);
    s4g_store_image_clear(&im);
    g_autoptr(GArray) sats = s4g_store_images_list(store, id1, "same-test", "satellite", &e);
    g_assert_cmpuint(sats->len, ==, 8);
    S4gStoreDataset d = {0};
    g_assert_true(s4g_store_dataset_find(store, "vigor", &d, &e));
    g_assert_cmpstr(d.kind, ==, "vigor");
    s4g_store_dataset_clear(&d);
    fx_rmtree(root);
    fx_rmtree(proj);
}

/* A failing import leaves nothing behind (one transaction). */
static void test_import_atomic(void)
{
    g_autofree char *root = fx_tmpdir();
    g_autofree char *proj = fx_tmpdir();
    make_cvact(root, TRUE);
    g_autoptr(GError) e = NULL;
    g_autoptr(S4gStore) store = s4g_store_open(proj, TRUE, &e);
    g_autoptr(S4gDataset) ds = s4g_dataset_new(S4G_DATASET_CVACT, root, FALSE);
    g_assert_true(s4g_dataset_read(ds, &e));
    /* a trigger makes the insert fail halfway, after images and train pairs went in */
    g_assert_true(s4g_store_exec(store, "CREATE TRIGGER boom BEFORE INSERT ON pairs WHEN "
                                        "NEW.split = 'test' BEGIN SELECT RAISE(ABORT, 'boom'); END",
                                 &e));
    g_assert_false(s4g_dataset_store(ds, store, "cvact", NULL, NULL, NULL, &e));
    fx_assert_error_mentions(e, "boom", NULL);
    gint64 ni, np;
    count_rows(store, &ni, &np);
    g_assert_cmpint(ni, ==, 0);
    g_assert_cmpint(np, ==, 0);
    fx_rmtree(root);
    fx_rmtree(proj);
}

int main(int argc, char **argv)
{
    fx_init(&argc, &argv);
    g_test_add_func("/readers/cvusa", test_cvusa);
    g_test_add_func("/readers/cvusa-bad", test_cvusa_bad);
    g_test_add_func("/readers/cvact", test_cvact);
    g_test_add_func("/readers/cvact-bad", test_cvact_bad);
    g_test_add_func("/readers/vigor", test_vigor);
    g_test_add_func("/readers/vigor-official", test_vigor_official);
    g_test_add_func("/readers/vigor-bad", test_vigor_bad);
    g_test_add_func("/readers/university", test_university);
    g_test_add_func("/readers/photos", test_photos);
    g_test_add_func("/readers/photos-heic", test_photos_heic);
    g_test_add_func("/readers/import-twice", test_import_twice);
    g_test_add_func("/readers/import-atomic", test_import_atomic);
    return g_test_run();
}
