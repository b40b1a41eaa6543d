/* test-synth.c — the synthetic world and its dataset writers: RNG, camera geometry (north at
 * the panorama's centre column, east to the right; satellite north-up), the four layouts'
 * files and split formats, byte-identical reruns, and the region's MBTiles. */
#include "fixtures.h"
#include "s4g-geo.h"
#include "s4g-mbtiles.h"
#include "s4g-rng.h"
#include "s4g-synth-render.h"
#include "s4g-synth-world.h"
#include "s4g-synth.h"

#include <glib/gstdio.h>
#include <math.h>
#include <matio.h>
#include <string.h>
#include <unistd.h>
#include <vips/vips.h>

/* ---- helpers -------------------------------------------------------------------------- */

static char *run_synth(S4gSynthLayout layout, int n, double scale, int threads, uint64_t seed)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp("s4g-synth-XXXXXX", &error);
    g_assert_no_error(error);
    S4gSynthOptions o;
    s4g_synth_options_init(&o);
    o.layout = layout;
    o.out_dir = dir;
    o.locations = n;
    o.image_scale = scale;
    o.threads = threads;
    o.seed = seed;
    S4gSynthSummary s;
    gboolean ok = s4g_synth_run(&o, &s, &error);
    g_assert_no_error(error);
    g_assert_true(ok);
    return dir;
}

/* Relative path → sha256 of every file under root. */
static void checksum_tree(const char *root, const char *rel, GHashTable *out)
{
    g_autofree char *dir = rel ? g_build_filename(root, rel, NULL) : g_strdup(root);
    GDir *d = g_dir_open(dir, 0, NULL);
    g_assert_nonnull(d);
    const char *name;
    while ((name = g_dir_read_name(d))) {
        g_autofree char *r = rel ? g_build_filename(rel, name, NULL) : g_strdup(name);
        g_autofree char *p = g_build_filename(root, r, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_DIR)) {
            checksum_tree(root, r, out);
        } else {
            g_autofree char *data = NULL;
            gsize len;
            g_assert_true(g_file_get_contents(p, &data, &len, NULL));
            g_hash_table_insert(out, g_strdup(r),
                                g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len));
        }
    }
    g_dir_close(d);
}

static void assert_image(const char *path, int w, int h)
{
    g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
    VipsImage *img = vips_image_new_from_file(path, NULL);
    if (!img)
        g_error("%s: %s", path, vips_error_buffer());
    g_assert_cmpint(vips_image_get_width(img), ==, w);
    g_assert_cmpint(vips_image_get_height(img), ==, h);
    g_object_unref(img);
}

static char **read_lines(const char *path, int *n)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;
    g_file_get_contents(path, &text, NULL, &error);
    g_assert_no_error(error);
    g_assert_true(g_str_has_suffix(text, "\n"));
    text[strlen(text) - 1] = '\0';
    char **lines = g_strsplit(text, "\n", -1);
    *n = (int)g_strv_length(lines);
    return lines;
}

/* ---- RNG ------------------------------------------------------------------------------ */

static void test_rng(void)
{
    S4gRng a, b;
    s4g_rng_init(&a, 42);
    s4g_rng_init(&b, 42);
    for (int i = 0; i < 100; i++)
        g_assert_cmpuint(s4g_rng_next(&a), ==, s4g_rng_next(&b));
    /* Reference value of splitmix64 from seed 0 (Vigna's splitmix64.c: 0xe220a8397b1dcdaf). */
    uint64_t st = 0;
    g_assert_cmpuint(s4g_rng_splitmix64(&st), ==, 0xe220a8397b1dcdafull);
    S4gRng s0 = s4g_rng_derive(7, 0), s1 = s4g_rng_derive(7, 1);
    g_assert_cmpuint(s4g_rng_next(&s0), !=, s4g_rng_next(&s1));
    /* below(n) stays in range and covers it; uniform mean near 1/2. */
    int hist[7] = {0};
    double sum = 0;
    for (int i = 0; i < 70000; i++) {
        uint32_t v = s4g_rng_below(&a, 7);
        g_assert_cmpuint(v, <, 7);
        hist[v]++;
        sum += s4g_rng_uniform(&a);
    }
    for (int k = 0; k < 7; k++)
        g_assert_cmpint(abs(hist[k] - 10000), <, 500);
    g_assert_cmpfloat(fabs(sum / 70000 - 0.5), <, 0.01);
    uint32_t v[33];
    for (int i = 0; i < 33; i++)
        v[i] = (uint32_t)i;
    s4g_rng_shuffle_u32(&a, v, 33);
    uint32_t seen = 0;
    for (int i = 0; i < 33; i++)
        seen += v[i];
    g_assert_cmpuint(seen, ==, 33 * 32 / 2);
}

/* ---- camera geometry ------------------------------------------------------------------ */

/* A 100 m square world of grass with one tall red building 10 m wide, its centre 20 m from
 * the middle in direction (ex, ny). */
static S4gWorld *scene(double ex, double ny)
{
    S4gWorld *w = s4g_world_new(200, 200, 0.5, 48.0, 11.0);
    const uint8_t roof[3] = {220, 20, 20}, wall[3] = {200, 200, 200};
    double cx = 50 + 20 * ex, cy = 50 + 20 * ny;
    g_assert_true(s4g_world_add_building(w, cx - 5, cy - 5, cx + 5, cy + 5, 30, roof, wall, 0));
    s4g_world_finish(w, 1);
    return w;
}

/* Mean column of building pixels in the panorama's horizon row. */
static double building_column(S4gWorld *w, int width, int height)
{
    g_autofree uint8_t *rgb = g_malloc((gsize)width * height * 3);
    g_autofree uint8_t *cls = g_malloc((gsize)width * height);
    s4g_synth_render_panorama(w, 50, 50, width, height, rgb, cls);
    int row = height / 2 - 2; /* just above the horizon: the wall, not the ground */
    double sum = 0;
    int n = 0;
    for (int c = 0; c < width; c++)
        if (cls[row * width + c] == S4G_CLASS_BUILDING) {
            sum += c;
            n++;
        }
    g_assert_cmpint(n, >, 0);
    /* Nothing else stands in this world, so the rest of the row is sky. */
    for (int c = 0; c < width; c++)
        g_assert_true(cls[row * width + c] == S4G_CLASS_BUILDING || cls[row * width + c] == S4G_CLASS_SKY);
    return sum / n;
}

static void test_panorama_geometry(void)
{
    const int W = 352, H = 64;
    g_autoptr(S4gWorld) east = scene(1, 0);
    g_autoptr(S4gWorld) north = scene(0, 1);
    g_autoptr(S4gWorld) west = scene(-1, 0);
    g_autoptr(S4gWorld) south = scene(0, -1);
    /* Azimuth θ appears at column (θ/360 + 1/2)·W: north at the centre, east at 3/4. */
    g_assert_cmpfloat(fabs(building_column(north, W, H) - W / 2.0), <, 3);
    g_assert_cmpfloat(fabs(building_column(east, W, H) - W * 0.75), <, 3);
    g_assert_cmpfloat(fabs(building_column(west, W, H) - W * 0.25), <, 3);
    building_column(south, W, H); /* south: at both edges (checked below) */
    g_autofree uint8_t *cls = g_malloc(W * H);
    g_autofree uint8_t *rgb = g_malloc(W * H * 3);
    s4g_synth_render_panorama(south, 50, 50, W, H, rgb, cls);
    g_assert_cmpint(cls[(H / 2 - 2) * W + 0], ==, S4G_CLASS_BUILDING);
    g_assert_cmpint(cls[(H / 2 - 2) * W + W - 1], ==, S4G_CLASS_BUILDING);
    g_assert_cmpint(cls[(H / 2 - 2) * W + W / 2], ==, S4G_CLASS_SKY);
    /* The 30 m building 15 m away (its near face) rises to atan(28/15) ≈ 62°, beyond the
     * 1:5.5 panorama's ±32.7°: the top row above it is wall, and the row under the horizon
     * at its foot is ground (wall base is 15 m away, below −7.6° only). */
    g_assert_cmpint(cls[0 * W + W / 2], ==, S4G_CLASS_SKY);
    s4g_synth_render_panorama(north, 50, 50, W, H, rgb, cls);
    g_assert_cmpint(cls[0 * W + W / 2], ==, S4G_CLASS_BUILDING);
    g_assert_cmpint(cls[(H - 1) * W + W / 2], ==, S4G_CLASS_VEGETATION);
    /* A full-sphere 1:2 panorama: north stays at the centre column. */
    g_assert_cmpfloat(fabs(building_column(north, 256, 128) - 128), <, 3);
    g_assert_cmpfloat(fabs(building_column(east, 256, 128) - 192), <, 3);
}

static gboolean reddish(const uint8_t *p)
{
    return p[0] > 120 && p[1] < 60 && p[2] < 60;
}

static void test_satellite_north_up(void)
{
    const int S = 64;
    g_autofree uint8_t *rgb = g_malloc(S * S * 3);
    g_autoptr(S4gWorld) north = scene(0, 1);
    /* 80 m footprint → 1.25 m per pixel; the roof spans 15–25 m north of the centre, i.e.
     * rows 32 − 20 … 32 − 12. */
    s4g_synth_render_satellite(north, 50, 50, 80, S, rgb);
    g_assert_true(reddish(rgb + 3 * (16 * S + 32)));  /* 20 m north */
    g_assert_false(reddish(rgb + 3 * (48 * S + 32))); /* 20 m south: grass */
    g_assert_false(reddish(rgb + 3 * (32 * S + 48)));
    g_autoptr(S4gWorld) east = scene(1, 0);
    s4g_synth_render_satellite(east, 50, 50, 80, S, rgb);
    g_assert_true(reddish(rgb + 3 * (32 * S + 48)));  /* 20 m east: right of centre */
    g_assert_false(reddish(rgb + 3 * (32 * S + 16)));
    g_assert_false(reddish(rgb + 3 * (16 * S + 32)));
    /* The sun is in the south-east, so the shadow falls north-west of the building: ground
     * just west of it is darker than ground just east of it. */
    const uint8_t *w_px = rgb + 3 * (30 * S + 40), *e_px = rgb + 3 * (30 * S + 56);
    g_assert_cmpint(w_px[1], <, e_px[1]);
}

static void test_drone_looks_at_target(void)
{
    const int S = 48;
    g_autofree uint8_t *rgb = g_malloc(S * S * 3);
    g_autoptr(S4gWorld) east = scene(1, 0);
    /* From 40 m up, south-west of the building, looking at its roof: the centre pixel is roof. */
    double cam[3] = {50, 40, 60}, tgt[3] = {70, 50, 30};
    s4g_synth_render_perspective(east, cam, tgt, 60, S, S, rgb);
    g_assert_true(reddish(rgb + 3 * ((S / 2) * S + S / 2)));
    /* Looking away (at the west edge) shows no red. */
    double tgt2[3] = {5, 50, 0};
    s4g_synth_render_perspective(east, cam, tgt2, 40, S, S, rgb);
    g_assert_false(reddish(rgb + 3 * ((S / 2) * S + S / 2)));
}

/* ---- generated world ------------------------------------------------------------------ */

static void test_world_contents(void)
{
    g_autoptr(S4gWorld) w = s4g_world_generate(5, 500, 48.137, 11.575);
    g_assert_cmpint(w->w, ==, 1000);
    gsize n = (gsize)w->w * w->h, counts[S4G_COVER_N] = {0}, canopy = 0, shadow = 0, roofs = 0;
    for (gsize i = 0; i < n; i++) {
        counts[w->cover[i] & S4G_COVER_MASK]++;
        canopy += w->tree_top[i] > 0;
        shadow += w->light[i] < 255;
        roofs += w->bld[i] > 0;
    }
    /* This seed's region has every kind of ground cover. */
    for (int c = 0; c < S4G_COVER_N; c++)
        g_assert_cmpuint(counts[c], >, 100);
    g_assert_cmpuint(w->buildings->len, >, 30);
    g_assert_cmpfloat((double)roofs / n, >, 0.03);
    g_assert_cmpfloat((double)canopy / n, >, 0.03);
    g_assert_cmpfloat((double)shadow / n, >, 0.02);
    g_assert_cmpfloat((double)shadow / n, <, 0.5);
    g_assert_cmpfloat(w->max_height, >, 9);
    /* Buildings have the heights and colours they were given, in their footprints. */
    for (guint b = 0; b < w->buildings->len; b++) {
        const S4gBuilding *bd = &g_array_index(w->buildings, S4gBuilding, b);
        int i = s4g_world_index(w, (bd->x0 + bd->x1) / 2, (bd->y0 + bd->y1) / 2);
        g_assert_cmpuint(w->bld[i], ==, b + 1);
        g_assert_cmpfloat(w->height[i], ==, bd->height);
        g_assert_cmpfloat(bd->height, >=, 3.5);
    }
    /* Locations: on roads or sidewalks, never under a crown, at least min_dist apart. */
    S4gPoint pts[40];
    int got = s4g_world_pick_road_locations(w, 5, 40, 35, 45, pts);
    g_assert_cmpint(got, ==, 40);
    for (int a = 0; a < got; a++) {
        int i = s4g_world_index(w, (int)(pts[a].x / w->cell), (int)(pts[a].y / w->cell));
        int c = w->cover[i] & S4G_COVER_MASK;
        g_assert_true(c == S4G_COVER_ROAD || c == S4G_COVER_PAVED);
        g_assert_cmpint(w->tree_top[i], ==, 0);
        g_assert_cmpfloat(pts[a].x, >=, 45);
        g_assert_cmpfloat(pts[a].y, <=, 500 - 45);
        for (int b = 0; b < a; b++)
            g_assert_cmpfloat(hypot(pts[a].x - pts[b].x, pts[a].y - pts[b].y), >=, 35);
    }
    /* The same seed gives the same world. */
    g_autoptr(S4gWorld) again = s4g_world_generate(5, 500, 48.137, 11.575);
    g_assert_cmpmem(w->ortho, n * 3, again->ortho, n * 3);
    /* Local metres ↔ lat/lon round trip; the centre is the origin. */
    double lat, lon, x, y;
    s4g_world_to_latlon(w, 250, 250, &lat, &lon);
    g_assert_cmpfloat(fabs(lat - 48.137), <, 1e-12);
    g_assert_cmpfloat(fabs(lon - 11.575), <, 1e-12);
    s4g_world_to_latlon(w, 400, 100, &lat, &lon);
    g_assert_cmpfloat(fabs((lat - 48.137) * 111195.08 - (-150)), <, 0.01); /* 1° = 111195 m at R */
    s4g_world_from_latlon(w, lat, lon, &x, &y);
    g_assert_cmpfloat(fabs(x - 400), <, 1e-6);
    g_assert_cmpfloat(fabs(y - 100), <, 1e-6);
}

/* ---- layouts -------------------------------------------------------------------------- */

static void test_cvusa_layout(void)
{
    const int n = 14;
    g_autofree char *dir = run_synth(S4G_SYNTH_CVUSA, n, 0.5, 2, 3);
    int nt, nv, na;
    g_autofree char *tp = g_build_filename(dir, "splits", "train-19zl.csv", NULL);
    g_autofree char *vp = g_build_filename(dir, "splits", "val-19zl.csv", NULL);
    g_autofree char *ap = g_build_filename(dir, "split_locations", "all.csv", NULL);
    g_auto(GStrv) train = read_lines(tp, &nt);
    g_auto(GStrv) val = read_lines(vp, &nv);
    g_auto(GStrv) all = read_lines(ap, &na);
    g_assert_cmpint(nt + nv, ==, n);
    g_assert_cmpint(nt, ==, 11);
    g_assert_cmpint(na, ==, n);
    g_autofree gboolean *seen = g_new0(gboolean, n + 1);
    for (int k = 0; k < nt + nv; k++) {
        const char *line = k < nt ? train[k] : val[k - nt];
        g_auto(GStrv) cols = g_strsplit(line, ",", -1);
        g_assert_cmpint(g_strv_length(cols), ==, 3);
        g_assert_true(g_str_has_prefix(cols[0], "bingmap/19/"));
        g_assert_true(g_str_has_prefix(cols[1], "streetview/panos/"));
        int id = atoi(cols[0] + strlen("bingmap/19/"));
        g_assert_cmpint(id, >=, 1);
        g_assert_cmpint(id, <=, n);
        g_assert_false(seen[id]);
        seen[id] = TRUE;
        g_autofree char *sp = g_build_filename(dir, cols[0], NULL);
        g_autofree char *gp = g_build_filename(dir, cols[1], NULL);
        g_autofree char *an = g_build_filename(dir, cols[2], NULL);
        assert_image(sp, 64, 64);
        assert_image(gp, 176, 32);
        assert_image(an, 176, 32);
    }
    for (int i = 0; i < n; i++) {
        g_auto(GStrv) cols = g_strsplit(all[i], ",", -1);
        g_assert_cmpint(g_strv_length(cols), ==, 5);
        double lat = g_ascii_strtod(cols[0], NULL), lon = g_ascii_strtod(cols[1], NULL);
        g_assert_cmpfloat(fabs(lat - 48.137), <, 0.01);
        g_assert_cmpfloat(fabs(lon - 11.575), <, 0.01);
        g_assert_cmpstr(cols[0], ==, cols[2]);
    }
    /* The map: tiles cover the region, with TMS rows in the file. */
    g_autofree char *mp = g_build_filename(dir, "tiles", "region.mbtiles", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gMbtiles) mb = s4g_mbtiles_open(mp, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(s4g_mbtiles_get_format(mb), ==, "png");
    double b[4];
    g_assert_true(s4g_mbtiles_get_bounds(mb, b));
    g_assert_cmpfloat(b[0], <, 11.575);
    g_assert_cmpfloat(b[2], >, 11.575);
    g_assert_cmpfloat(b[1], <, 48.137);
    g_assert_cmpfloat(b[3], >, 48.137);
    int zmax = s4g_mbtiles_get_max_zoom(mb), zmin = s4g_mbtiles_get_min_zoom(mb);
    g_assert_cmpint(zmax, ==, 17); /* 0.80 m/px at 48°: the first level coarser than 0.75 m */
    g_assert_cmpint(zmin, ==, 12);
    /* The tile holding the origin at zmax, in XYZ numbering. */
    double lat_r = 48.137 * G_PI / 180;
    int x = (int)floor((11.575 + 180) / 360 * (1 << zmax));
    int y = (int)floor((1 - log(tan(lat_r) + 1 / cos(lat_r)) / G_PI) / 2 * (1 << zmax));
    g_autoptr(GBytes) t = s4g_mbtiles_get_tile(mb, zmax, x, y, &error);
    g_assert_no_error(error);
    g_assert_nonnull(t);
    VipsImage *img = vips_image_new_from_buffer(g_bytes_get_data(t, NULL), g_bytes_get_size(t), "", NULL);
    g_assert_nonnull(img);
    g_assert_cmpint(vips_image_get_width(img), ==, 256);
    g_assert_cmpint(vips_image_get_bands(img), ==, 4);
    g_object_unref(img);
    /* The same numbers read as a TMS row name another (absent) tile. */
    g_autoptr(GBytes) none = s4g_mbtiles_get_tile(mb, zmax, x, (1 << zmax) - 1 - y, &error);
    g_assert_no_error(error);
    g_assert_null(none);
    fx_rmtree(dir);
}

static void test_cvact_layout(void)
{
    const int n = 13;
    g_autofree char *dir = run_synth(S4G_SYNTH_CVACT, n, 0.25, 2, 5);
    g_autofree char *mp = g_build_filename(dir, "ACT_data.mat", NULL);
    mat_t *mat = Mat_Open(mp, MAT_ACC_RDONLY);
    g_assert_nonnull(mat);
    g_assert_cmpint(Mat_GetVersion(mat), ==, MAT_FT_MAT5);
    matvar_t *ids = Mat_VarRead(mat, "panoIds");
    g_assert_nonnull(ids);
    g_assert_cmpint(ids->class_type, ==, MAT_C_CHAR);
    g_assert_cmpint(ids->rank, ==, 2);
    g_assert_cmpuint(ids->dims[0], ==, n);
    g_assert_cmpuint(ids->dims[1], ==, 22);
    g_assert_cmpuint(ids->data_size, ==, 2);
    matvar_t *utm = Mat_VarRead(mat, "utm");
    g_assert_nonnull(utm);
    g_assert_cmpuint(utm->dims[0], ==, n);
    g_assert_cmpuint(utm->dims[1], ==, 2);
    const double *u = utm->data;
    for (int i = 0; i < 2 * n; i++)
        g_assert_cmpfloat(fabs(u[i]), <, 1000);
    const char *sets[2][3] = {{"trainSet", "trainInd", "train"}, {"valSet", "valInd", "val"}};
    int counts[2];
    g_autofree int *split = g_new0(int, n); /* 0 none (test), 1 train, 2 val */
    for (int s = 0; s < 2; s++) {
        matvar_t *st = Mat_VarRead(mat, sets[s][0]);
        g_assert_nonnull(st);
        g_assert_cmpint(st->class_type, ==, MAT_C_STRUCT);
        g_assert_cmpuint(Mat_VarGetNumberOfFields(st), ==, 2);
        /* The index is the second field, as Sample4Geo reads it ([0][0][1]). */
        g_assert_cmpstr(Mat_VarGetStructFieldnames(st)[1], ==, sets[s][1]);
        matvar_t *ind = Mat_VarGetStructFieldByName(st, sets[s][1], 0);
        g_assert_nonnull(ind);
        /* integers, as in the real file (the original code cannot index with doubles) */
        g_assert_cmpint(ind->class_type, ==, MAT_C_INT32);
        g_assert_cmpint(ind->data_type, ==, MAT_T_INT32);
        const gint32 *d = ind->data;
        counts[s] = (int)ind->dims[0];
        for (int k = 0; k < counts[s]; k++) {
            g_assert_cmpint(d[k], >=, 1); /* 1-based */
            g_assert_cmpint(d[k], <=, n);
            int row = (int)d[k] - 1;
            g_assert_cmpint(split[row], ==, 0);
            split[row] = s + 1;
        }
        Mat_VarFree(st);
    }
    g_assert_cmpint(counts[0], ==, 9);
    g_assert_cmpint(counts[1], ==, 3);
    const uint16_t *c = ids->data;
    for (int i = 0; i < n; i++) {
        char id[23];
        for (int k = 0; k < 22; k++)
            id[k] = (char)c[i + k * n]; /* column-major */
        id[22] = '\0';
        const char *root = split[i] ? "ANU_data_small" : "ANU_data_test";
        g_autofree char *gname = g_strdup_printf("%s_grdView.jpg", id);
        g_autofree char *sname = g_strdup_printf("%s_satView_polish.jpg", id);
        g_autofree char *gp = g_build_filename(dir, root, "streetview", gname, NULL);
        g_autofree char *sp = g_build_filename(dir, root, "satview_polish", sname, NULL);
        assert_image(gp, 64, 32);
        assert_image(sp, 32, 32);
    }
    Mat_VarFree(ids);
    Mat_VarFree(utm);
    Mat_Close(mat);
    fx_rmtree(dir);
}

static void test_vigor_layout(void)
{
    const int n = 18;
    g_autofree char *dir = run_synth(S4G_SYNTH_VIGOR, n, 0.25, 2, 7);
    const char *cities[] = {"Chicago", "NewYork", "SanFrancisco", "Seattle"};
    int total = 0;
    for (int c = 0; c < 4; c++) {
        g_autofree char *lp = g_build_filename(dir, "splits", cities[c], "satellite_list.txt", NULL);
        g_autofree char *pp = g_build_filename(dir, "splits", cities[c], "pano_label_balanced.txt", NULL);
        g_autofree char *tr = g_build_filename(dir, "splits", cities[c], "same_area_balanced_train.txt", NULL);
        g_autofree char *te = g_build_filename(dir, "splits", cities[c], "same_area_balanced_test.txt", NULL);
        int nl, np, ntr, nte;
        g_auto(GStrv) sats = read_lines(lp, &nl);
        g_auto(GStrv) panos = read_lines(pp, &np);
        g_auto(GStrv) trl = read_lines(tr, &ntr);
        g_auto(GStrv) tel = read_lines(te, &nte);
        g_assert_cmpint(np, ==, n / 4 + (c < n % 4 ? 1 : 0));
        g_assert_cmpint(ntr + nte, ==, np);
        total += np;
        g_autoptr(GHashTable) listed = g_hash_table_new(g_str_hash, g_str_equal);
        for (int i = 0; i < nl; i++) {
            g_assert_true(g_str_has_prefix(sats[i], "satellite_") && g_str_has_suffix(sats[i], ".png"));
            g_hash_table_add(listed, sats[i]);
            if (i % 7 == 0) {
                g_autofree char *p = g_build_filename(dir, "satellite", cities[c], sats[i], NULL);
                assert_image(p, 32, 32);
            }
        }
        for (int i = 0; i < np; i++) {
            g_auto(GStrv) tok = g_strsplit_set(panos[i], " \t", -1);
            g_assert_cmpint(g_strv_length(tok), ==, 13);
            g_auto(GStrv) parts = g_strsplit(tok[0], ",", -1);
            g_assert_cmpint(g_strv_length(parts), ==, 4); /* id, lat, lon, ".jpg" */
            g_assert_cmpuint(strlen(parts[0]), ==, 22);
            g_assert_cmpstr(parts[3], ==, ".jpg");
            g_autofree char *gp = g_build_filename(dir, "ground", cities[c], tok[0], NULL);
            assert_image(gp, 64, 32);
            double plat = g_ascii_strtod(parts[1], NULL);
            for (int k = 0; k < 4; k++) {
                const char *sat = tok[1 + 3 * k];
                g_assert_true(g_hash_table_contains(listed, sat));
                double row = g_ascii_strtod(tok[2 + 3 * k], NULL), col = g_ascii_strtod(tok[3 + 3 * k], NULL);
                /* Inside the tile (32 px = 72 m); the positive's centre within a quarter. */
                g_assert_cmpfloat(fabs(row), <=, 16.01);
                g_assert_cmpfloat(fabs(col), <=, 16.01);
                if (k == 0) {
                    g_assert_cmpfloat(fabs(row), <=, 8.01);
                    g_assert_cmpfloat(fabs(col), <=, 8.01);
                }
                /* Row offset sign agrees with the latitudes: south of the centre = positive. */
                double slat = g_ascii_strtod(sat + strlen("satellite_"), NULL);
                if (fabs(row) > 0.5)
                    g_assert_true((row > 0) == (plat < slat));
            }
        }
    }
    g_assert_cmpint(total, ==, n);
    fx_rmtree(dir);
}

static int count_files(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    if (!d)
        return -1;
    int n = 0;
    while (g_dir_read_name(d))
        n++;
    g_dir_close(d);
    return n;
}

static void test_university_layout(void)
{
    const int n = 12;
    g_autofree char *dir = run_synth(S4G_SYNTH_UNIVERSITY, n, 0.25, 2, 9);
    /* 45 % train (5), 40 % test (5), 2 gallery-only distractors. */
    const struct {
        const char *sub;
        int classes, files;
    } expect[] = {{"train/satellite", 5, 1},      {"train/drone", 5, 18},        {"test/query_satellite", 5, 1},
                  {"test/query_drone", 5, 18},    {"test/gallery_satellite", 7, 1}, {"test/gallery_drone", 7, 18}};
    for (guint e = 0; e < G_N_ELEMENTS(expect); e++) {
        g_autofree char *p = g_build_filename(dir, expect[e].sub, NULL);
        g_assert_cmpint(count_files(p), ==, expect[e].classes);
        GDir *d = g_dir_open(p, 0, NULL);
        const char *cls;
        while ((cls = g_dir_read_name(d))) {
            g_assert_cmpuint(strlen(cls), ==, 4);
            g_assert_cmpint(atoi(cls), >=, 1);
            g_assert_cmpint(atoi(cls), <=, n);
            g_autofree char *cp = g_build_filename(p, cls, NULL);
            g_assert_cmpint(count_files(cp), ==, expect[e].files);
        }
        g_dir_close(d);
    }
    g_autofree char *sat = g_build_filename(dir, "train/satellite/0001/0001.jpg", NULL);
    g_autofree char *drone = g_build_filename(dir, "train/drone/0001/image-18.jpeg", NULL);
    assert_image(sat, 32, 32);
    assert_image(drone, 32, 32);
    /* Query and gallery copies of a test class are the same bytes. */
    g_autofree char *q = g_build_filename(dir, "test/query_drone/0006/image-03.jpeg", NULL);
    g_autofree char *g = g_build_filename(dir, "test/gallery_drone/0006/image-03.jpeg", NULL);
    g_autofree char *qd = NULL, *gd = NULL;
    gsize ql, gl;
    g_assert_true(g_file_get_contents(q, &qd, &ql, NULL));
    g_assert_true(g_file_get_contents(g, &gd, &gl, NULL));
    g_assert_cmpmem(qd, ql, gd, gl);
    fx_rmtree(dir);
}

/* ---- determinism ---------------------------------------------------------------------- */

static void assert_same_trees(const char *a, const char *b)
{
    g_autoptr(GHashTable) ha = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(GHashTable) hb = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    checksum_tree(a, NULL, ha);
    checksum_tree(b, NULL, hb);
    g_assert_cmpuint(g_hash_table_size(ha), >, 10);
    g_assert_cmpuint(g_hash_table_size(ha), ==, g_hash_table_size(hb));
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, ha);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const char *other = g_hash_table_lookup(hb, k);
        if (g_strcmp0(v, other))
            g_error("%s differs between runs", (const char *)k);
    }
}

static void test_determinism(void)
{
    /* One thread against two: scheduling must not change a byte (images, CSV, MAT, MBTiles). */
    g_autofree char *a = run_synth(S4G_SYNTH_CVUSA, 12, 0.25, 1, 11);
    g_autofree char *b = run_synth(S4G_SYNTH_CVUSA, 12, 0.25, 2, 11);
    assert_same_trees(a, b);
    g_autofree char *c = run_synth(S4G_SYNTH_CVACT, 12, 0.25, 2, 11);
    g_autofree char *d = run_synth(S4G_SYNTH_CVACT, 12, 0.25, 2, 11);
    assert_same_trees(c, d);
    /* A different seed is a different world. */
    g_autofree char *e = run_synth(S4G_SYNTH_CVUSA, 12, 0.25, 2, 12);
    g_autofree char *p1 = g_build_filename(a, "split_locations", "all.csv", NULL);
    g_autofree char *p2 = g_build_filename(e, "split_locations", "all.csv", NULL);
    g_autofree char *t1 = NULL, *t2 = NULL;
    g_assert_true(g_file_get_contents(p1, &t1, NULL, NULL));
    g_assert_true(g_file_get_contents(p2, &t2, NULL, NULL));
    g_assert_cmpstr(t1, !=, t2);
    fx_rmtree(a);
    fx_rmtree(b);
    fx_rmtree(c);
    fx_rmtree(d);
    fx_rmtree(e);
}

static void test_bad_options(void)
{
    S4gSynthOptions o;
    s4g_synth_options_init(&o);
    g_autoptr(GError) error = NULL;
    S4gSynthLayout l;
    g_assert_false(s4g_synth_layout_parse("cvusb", &l, &error));
    g_assert_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "cvusb"));
    g_clear_error(&error);
    g_assert_true(s4g_synth_layout_parse("VIGOR", &l, &error));
    g_assert_cmpint(l, ==, S4G_SYNTH_VIGOR);
    /* A folder below a regular file cannot be created, even by root. */
    g_autofree char *file = NULL;
    int fd = g_file_open_tmp("s4g-synth-XXXXXX", &file, &error);
    g_assert_no_error(error);
    close(fd);
    g_autofree char *bad = g_build_filename(file, "x", NULL);
    o.out_dir = bad;
    o.locations = 0;
    g_assert_false(s4g_synth_run(&o, NULL, &error));
    g_assert_nonnull(strstr(error->message, "--locations"));
    g_clear_error(&error);
    o.locations = 5;
    o.image_scale = 0;
    g_assert_false(s4g_synth_run(&o, NULL, &error));
    g_assert_nonnull(strstr(error->message, "--image-scale"));
    g_clear_error(&error);
    o.image_scale = 1;
    /* An output folder that cannot be created is an error naming it. */
    g_assert_false(s4g_synth_run(&o, NULL, &error));
    g_assert_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO);
    g_assert_nonnull(strstr(error->message, file));
    g_clear_error(&error);
    g_unlink(file);
    /* A region too large for memory is refused before anything is generated. */
    g_autofree char *dir = g_dir_make_tmp("s4g-synth-XXXXXX", NULL);
    o.out_dir = dir;
    o.locations = 150000;
    g_assert_false(s4g_synth_run(&o, NULL, &error));
    g_assert_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "--locations"));
    g_assert_nonnull(strstr(error->message, "GB"));
    g_autofree char *tiles = g_build_filename(dir, "tiles", NULL);
    g_rmdir(tiles);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (VIPS_INIT(argv[0]))
        g_error("libvips: %s", vips_error_buffer());
    g_test_add_func("/synth/rng", test_rng);
    g_test_add_func("/synth/panorama-geometry", test_panorama_geometry);
    g_test_add_func("/synth/satellite-north-up", test_satellite_north_up);
    g_test_add_func("/synth/drone", test_drone_looks_at_target);
    g_test_add_func("/synth/world", test_world_contents);
    g_test_add_func("/synth/cvusa", test_cvusa_layout);
    g_test_add_func("/synth/cvact", test_cvact_layout);
    g_test_add_func("/synth/vigor", test_vigor_layout);
    g_test_add_func("/synth/university", test_university_layout);
    g_test_add_func("/synth/determinism", test_determinism);
    g_test_add_func("/synth/bad-options", test_bad_options);
    return g_test_run();
}
