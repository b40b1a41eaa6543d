/* test-imagery.c — `s4g gallery --imagery` and `s4g tiles` over GDAL sources made here from a
 * synthetic world's MBTiles with GDAL's C API: GeoTIFFs in EPSG:4326 and in UTM zone 32N, a
 * folder mosaic of two halves, the MBTiles itself, and an XYZ server on 127.0.0.1 (python3's
 * http.server over a z/x/y folder).  Each gallery equals the one cut from the MBTiles for the
 * same region: patch centres within 1 m, embeddings (a tiny model trained for one epoch)
 * within 1e-3.  Bad sources fail with their name in the error and leave nothing in the
 * project: no georeferencing, no CRS, a corrupt tile, a closed port, a server that never
 * answers (GDAL_HTTP_TIMEOUT=2: an error within seconds, not a hang — as an XYZ template, WMTS
 * capabilities and a hand-written GDAL XML description), a tile the server lacks (404: an
 * error naming its URL).  A region over the
 * patch budget is stated and refused unless --force, as with --tiles. */
#include "../compute/s4g-test-files.h"
#include "geotiff-fixture.h"

#include <gdal.h>
#include <gdal_utils.h>
#include <ogr_srs_api.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>

static const char *s4g;
static char *tmp, *world, *proj, *mbt;
static double bounds[4];
static int zmax;
static const char *gallery_tail[] = {"--stride", "16", "-m", "m", "--backend", "cpu", "--json",
                                     NULL};

static char *run_s4g(const char *const *head, const char *const *env_add, int *rc, char **err)
{
    g_autoptr(GPtrArray) a = g_ptr_array_new();
    for (int i = 0; head[i]; i++) g_ptr_array_add(a, (gpointer)head[i]);
    g_ptr_array_add(a, NULL);
    g_auto(GStrv) env = g_get_environ();
    for (int i = 0; env_add && env_add[i]; i += 2)
        env = g_environ_setenv(env, env_add[i], env_add[i + 1], TRUE);
    char *out = NULL;
    int status = 0;
    g_autoptr(GError) error = NULL;
    g_spawn_sync(NULL, (char **)a->pdata, env, G_SPAWN_DEFAULT, NULL, NULL, &out, err, &status,
                 &error);
    g_assert_no_error(error);
    *rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return out;
}

/* s4g gallery -p proj --zoom zmax --name NAME SOURCE-ARGS… + the shared tail; the JSON out. */
static char *gallery(const char *name, const char *flag, const char *src, gboolean with_bounds,
                     const char *const *env_add, int *rc, char **err)
{
    g_autofree char *z = g_strdup_printf("%d", zmax);
    g_autofree char *b = g_strdup_printf("%.10f,%.10f,%.10f,%.10f", bounds[0], bounds[1],
                                         bounds[2], bounds[3]);
    g_autoptr(GPtrArray) a = g_ptr_array_new();
    const char *head[] = {s4g, "gallery", "-p", proj, "--zoom", z, "--name", name, flag, src};
    for (guint i = 0; i < G_N_ELEMENTS(head); i++) g_ptr_array_add(a, (gpointer)head[i]);
    if (with_bounds) g_ptr_array_add(a, "--bounds"), g_ptr_array_add(a, b);
    for (int i = 0; gallery_tail[i]; i++) g_ptr_array_add(a, (gpointer)gallery_tail[i]);
    g_ptr_array_add(a, NULL);
    return run_s4g((const char *const *)a->pdata, env_add, rc, err);
}

static void gallery_ok(const char *name, const char *flag, const char *src, gboolean with_bounds)
{
    int rc;
    g_autofree char *err = NULL;
    g_autofree char *out = gallery(name, flag, src, with_bounds, NULL, &rc, &err);
    if (rc != 0) g_error("gallery %s from %s: exit %d: %s", name, src, rc, err);
}

/* The gallery's patches: file, lat, lon, embedding (f32). */
typedef struct {
    char *file;
    double lat, lon;
    float *v;
    int dim;
} Patch;

static void patch_clear(Patch *p)
{
    g_free(p->file);
    g_free(p->v);
}

static GArray *patches_of(const char *name)
{
    g_autofree char *dbp = g_build_filename(proj, "project.s4g", NULL);
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open_v2(dbp, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    sqlite3_stmt *st = NULL;
    g_assert_cmpint(sqlite3_prepare_v2(db,
                                       "SELECT i.path, i.lat, i.lon, e.dim, e.dtype, e.vector "
                                       "FROM images i JOIN datasets d ON d.id = i.dataset "
                                       "JOIN embeddings e ON e.image = i.id WHERE d.name = ? "
                                       "ORDER BY i.identity",
                                       -1, &st, NULL),
                    ==, SQLITE_OK);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    GArray *out = g_array_new(FALSE, TRUE, sizeof(Patch));
    g_array_set_clear_func(out, (GDestroyNotify)patch_clear);
    while (sqlite3_step(st) == SQLITE_ROW) {
        Patch p = {g_strdup((const char *)sqlite3_column_text(st, 0)), sqlite3_column_double(st, 1),
                   sqlite3_column_double(st, 2), NULL, sqlite3_column_int(st, 3)};
        g_assert_cmpstr((const char *)sqlite3_column_text(st, 4), ==, "f32");
        g_assert_cmpint(sqlite3_column_bytes(st, 5), ==, p.dim * 4);
        p.v = g_memdup2(sqlite3_column_blob(st, 5), (gsize)p.dim * 4);
        g_array_append_val(out, p);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

static gint64 count_datasets(const char *name)
{
    g_autofree char *dbp = g_build_filename(proj, "project.s4g", NULL);
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open_v2(dbp, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM datasets WHERE name = ?", -1, &st, NULL);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
    gint64 n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static double haversine_m(double la1, double lo1, double la2, double lo2)
{
    double p1 = la1 * G_PI / 180, p2 = la2 * G_PI / 180;
    double h = pow(sin((p2 - p1) / 2), 2) +
               cos(p1) * cos(p2) * pow(sin((lo2 - lo1) * G_PI / 180 / 2), 2);
    return 2 * 6371008.8 * asin(sqrt(h));
}

/* Every patch of `name` is closest (cosine) to the reference patch of the same place, with a
 * cosine of at least min_cos. */
static void assert_retrieves_itself(const char *name, double min_cos)
{
    g_autoptr(GArray) ref = patches_of("ref");
    g_autoptr(GArray) got = patches_of(name);
    g_assert_cmpuint(got->len, ==, ref->len);
    double lowest = 1;
    for (guint i = 0; i < got->len; i++) {
        const Patch *q = &g_array_index(got, Patch, i);
        guint best = 0;
        double bs = -2, own = 0;
        for (guint j = 0; j < ref->len; j++) {
            const Patch *r = &g_array_index(ref, Patch, j);
            double c = 0;
            for (int k = 0; k < q->dim; k++) c += (double)q->v[k] * r->v[k];
            if (c > bs) bs = c, best = j;
            if (j == i) own = c;
        }
        g_assert_cmpuint(best, ==, i);
        lowest = MIN(lowest, own);
    }
    g_test_message("%s: every patch retrieves its own place, lowest cosine %.4f", name, lowest);
    g_assert_cmpfloat(lowest, >=, min_cos);
}

/* The largest embedding component difference between `name` and "ref", patch by patch. */
static double max_difference(const char *name)
{
    g_autoptr(GArray) ref = patches_of("ref");
    g_autoptr(GArray) got = patches_of(name);
    g_assert_cmpuint(got->len, ==, ref->len);
    double worst = 0;
    for (guint i = 0; i < ref->len; i++) {
        const Patch *a = &g_array_index(ref, Patch, i), *b = &g_array_index(got, Patch, i);
        for (int k = 0; k < a->dim; k++) worst = MAX(worst, fabs((double)a->v[k] - b->v[k]));
    }
    return worst;
}

/* Every patch of `name` matches the reference gallery "ref": same grid, centres within 1 m,
 * embeddings within tol (max abs difference); returns the largest difference seen. */
static double assert_same_gallery(const char *name, double tol)
{
    g_autoptr(GArray) ref = patches_of("ref");
    g_autoptr(GArray) got = patches_of(name);
    g_assert_cmpuint(ref->len, >, 8);
    g_assert_cmpuint(got->len, ==, ref->len);
    double worst = 0;
    for (guint i = 0; i < ref->len; i++) {
        const Patch *a = &g_array_index(ref, Patch, i), *b = &g_array_index(got, Patch, i);
        g_assert_cmpstr(a->file, ==, b->file);
        g_assert_cmpfloat(haversine_m(a->lat, a->lon, b->lat, b->lon), <, 1.0);
        g_assert_cmpint(a->dim, ==, b->dim);
        for (int k = 0; k < a->dim; k++) worst = MAX(worst, fabs((double)a->v[k] - b->v[k]));
    }
    g_test_message("%s: %u patches, largest embedding difference %.2e", name, got->len, worst);
    g_assert_cmpfloat(worst, <, tol);
    return worst;
}

static void warp_fixture(const char *out, const char *srs, const char *const *extra)
{
    geotiff_fixture_warp(mbt, out, srs, extra);
}

/* EPSG:4326 over the tiles' extent (geotiff-fixture.h), a lossless copy (nearest neighbour,
 * one fixture pixel per map pixel); its rows lie up to 0.02 pixel off the map's rows, so the
 * gallery's cubic warp back changes a few pixels by one grey level. */
static char *fixture_4326(void)
{
    char *tif = g_build_filename(tmp, "region-4326.tif", NULL);
    if (!g_file_test(tif, G_FILE_TEST_EXISTS)) geotiff_fixture_4326(mbt, bounds, zmax, tif);
    return tif;
}

/* UTM zone 32N (Munich), twice the native resolution, made with cubic interpolation (a
 * nearest-neighbour copy jitters pixels by up to a quarter of a map pixel: 5.1e-2 instead of
 * 4.7e-2 with the old bilinear gallery warp): rotated by the grid convergence (about 1.9°)
 * against the map, so every pixel is interpolated on the way there and back. */
static char *fixture_utm(void)
{
    char *tif = g_build_filename(tmp, "region-utm32n.tif", NULL);
    if (g_file_test(tif, G_FILE_TEST_EXISTS)) return tif;
    double m = 2 * 20037508.342789244 / (256.0 * (double)(1 << zmax)) *
               cos((bounds[1] + bounds[3]) / 2 * G_PI / 180) / 2;
    g_autofree char *r = g_strdup_printf("%.12g", m);
    const char *extra[] = {"-tr", r, r, "-r", "cubic", NULL};
    warp_fixture(tif, "EPSG:32632", extra);
    return tif;
}

/* Tolerance for an EPSG:4326 copy, the 1e-3: measured 7.6e-4 with the gallery's cubic
 * warp (2.0e-3 with bilinear); a copy whose georeferencing is one map pixel off differs by
 * more than 1e-2. */
#define TOL_4326 1e-3

static void test_geotiff_4326(void)
{
    g_autofree char *tif = fixture_4326();
    gallery_ok("g4326", "--imagery", tif, TRUE);
    assert_same_gallery("g4326", TOL_4326);
    assert_retrieves_itself("g4326", 0.999);
    /* the same GeoTIFF with its origin one map pixel further east: caught */
    g_autofree char *shifted = g_build_filename(tmp, "shifted-4326.tif", NULL);
    GDALDatasetH src = GDALOpen(tif, GA_ReadOnly);
    GDALDatasetH d = GDALCreateCopy(GDALGetDriverByName("GTiff"), shifted, src, FALSE, NULL, NULL,
                                    NULL);
    double gt[6];
    g_assert_cmpint(GDALGetGeoTransform(d, gt), ==, CE_None);
    gt[0] += gt[1];
    GDALSetGeoTransform(d, gt);
    GDALClose(d);
    GDALClose(src);
    gallery_ok("gshift", "--imagery", shifted, TRUE);
    g_assert_cmpfloat(max_difference("gshift"), >, 2 * TOL_4326);
}

/* Rotated, a UTM copy is interpolated twice (to UTM and back), a low-pass the MBTiles never
 * went through: 1e-3 cannot be met (measured 3.2e-2 largest component difference with the
 * cubic warp, 5.1e-2 with bilinear, against 0.04–0.15 between patches 16 px apart; lowest
 * cosine 0.985).  Asserted: 5e-2, cosine ≥ 0.98, and each patch's nearest reference patch is
 * itself. */
static void test_geotiff_utm(void)
{
    g_autofree char *tif = fixture_utm();
    gallery_ok("gutm", "--imagery", tif, TRUE);
    assert_same_gallery("gutm", 5e-2);
    assert_retrieves_itself("gutm", 0.98);
}

static void test_folder_mosaic(void)
{
    /* the EPSG:4326 GeoTIFF cut into a west and an east half, as a folder */
    g_autofree char *tif = fixture_4326();
    g_autofree char *dir = g_build_filename(tmp, "mosaic", NULL);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    GDALDatasetH src = GDALOpen(tif, GA_ReadOnly);
    int w = GDALGetRasterXSize(src), h = GDALGetRasterYSize(src);
    for (int half = 0; half < 2; half++) {
        g_autofree char *win = g_strdup_printf("%d", half ? w - w / 2 : w / 2);
        g_autofree char *off = g_strdup_printf("%d", half ? w / 2 : 0);
        g_autofree char *hh = g_strdup_printf("%d", h);
        char *args[] = {"-of", "GTiff", "-srcwin", off, "0", win, hh, NULL};
        GDALTranslateOptions *o = GDALTranslateOptionsNew(args, NULL);
        g_autofree char *out = g_build_filename(dir, half ? "east.tif" : "west.tif", NULL);
        GDALDatasetH d = GDALTranslate(out, src, o, NULL);
        GDALTranslateOptionsFree(o);
        g_assert_nonnull(d);
        GDALClose(d);
    }
    GDALClose(src);
    gallery_ok("gmosaic", "--imagery", dir, TRUE);
    assert_same_gallery("gmosaic", TOL_4326);
}

/* Through GDAL's MBTiles driver at the tile set's own zoom: the same pixels as --tiles. */
static void test_mbtiles_through_gdal(void)
{
    gallery_ok("gmb", "--imagery", mbt, FALSE);
    g_assert_cmpfloat(assert_same_gallery("gmb", 1e-3), ==, 0.0);
    g_autoptr(GArray) ref = patches_of("ref");
    for (guint i = 0; i < ref->len; i += 7) {
        const char *f = g_array_index(ref, Patch, i).file;
        g_autofree char *a = g_build_filename(proj, "galleries", "ref", f, NULL);
        g_autofree char *b = g_build_filename(proj, "galleries", "gmb", f, NULL);
        g_autofree char *ca = NULL, *cb = NULL;
        gsize la, lb;
        g_assert_true(g_file_get_contents(a, &ca, &la, NULL));
        g_assert_true(g_file_get_contents(b, &cb, &lb, NULL));
        g_assert_true(la == lb && !memcmp(ca, cb, la)); /* identical PNGs */
    }
}

/* The world's tiles as a z/x/y folder (XYZ rows). */
static char *xyz_folder(void)
{
    g_autofree char *dir = g_build_filename(tmp, "xyz", NULL);
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open_v2(mbt, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    sqlite3_stmt *st = NULL;
    g_assert_cmpint(sqlite3_prepare_v2(db, "SELECT zoom_level, tile_column, tile_row, tile_data "
                                           "FROM tiles",
                                       -1, &st, NULL),
                    ==, SQLITE_OK);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int z = sqlite3_column_int(st, 0), x = sqlite3_column_int(st, 1);
        int y = (1 << z) - 1 - sqlite3_column_int(st, 2);
        g_autofree char *d = g_strdup_printf("%s/%d/%d", dir, z, x);
        g_assert_cmpint(g_mkdir_with_parents(d, 0755), ==, 0);
        g_autofree char *f = g_strdup_printf("%s/%d.png", d, y);
        g_assert_true(g_file_set_contents(f, sqlite3_column_blob(st, 3),
                                          sqlite3_column_bytes(st, 3), NULL));
        n++;
    }
    g_assert_cmpint(n, >, 4);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return g_steal_pointer(&dir);
}

static int free_port(void)
{
    g_autoptr(GSocket) s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                        G_SOCKET_PROTOCOL_TCP, NULL);
    g_autoptr(GInetAddress) lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) a = g_inet_socket_address_new(lo, 0);
    g_assert_true(g_socket_bind(s, a, FALSE, NULL));
    g_autoptr(GSocketAddress) got = g_socket_get_local_address(s, NULL);
    return g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(got));
}

static gboolean port_open(int port)
{
    g_autoptr(GSocketClient) c = g_socket_client_new();
    g_autoptr(GSocketConnection) conn =
        g_socket_client_connect_to_host(c, "127.0.0.1", (guint16)port, NULL, NULL);
    return conn != NULL;
}

/* Starts python3 with `args` (its last one the port) and waits until the port accepts. */
static GPid start_server(const char *const *args, int port)
{
    GPid pid = 0;
    g_autoptr(GError) error = NULL;
    g_spawn_async(NULL, (char **)args, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                                                 G_SPAWN_STDOUT_TO_DEV_NULL |
                                                 G_SPAWN_STDERR_TO_DEV_NULL,
                  NULL, NULL, &pid, &error);
    g_assert_no_error(error);
    for (int i = 0; i < 200 && !port_open(port); i++) g_usleep(50000);
    g_assert_true(port_open(port));
    return pid;
}

static void stop_server(GPid pid)
{
    kill(pid, SIGTERM);
    int status;
    waitpid(pid, &status, 0);
    g_spawn_close_pid(pid);
}

static void test_xyz_server(void)
{
    g_autofree char *dir = xyz_folder();
    int port = free_port();
    g_autofree char *ps = g_strdup_printf("%d", port);
    const char *args[] = {"python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory",
                          dir, ps, NULL};
    GPid pid = start_server(args, port);
    g_autofree char *url = g_strdup_printf("http://127.0.0.1:%d/{z}/{x}/{y}.png", port);
    gallery_ok("gxyz", "--imagery", url, TRUE);
    /* a corrupt tile: the server's file replaced by garbage */
    g_autoptr(GArray) ref = patches_of("ref");
    double lat = g_array_index(ref, Patch, 0).lat, lon = g_array_index(ref, Patch, 0).lon;
    int n = 1 << zmax;
    int tx = (int)floor((lon + 180) / 360 * n);
    double r = lat * G_PI / 180;
    int ty = (int)floor((1 - log(tan(r) + 1 / cos(r)) / G_PI) / 2 * n);
    g_autofree char *bad = g_strdup_printf("%s/%d/%d/%d.png", dir, zmax, tx, ty);
    g_assert_true(g_file_test(bad, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_set_contents(bad, "this is not a PNG", -1, NULL));
    int rc;
    g_autofree char *err = NULL;
    g_free(gallery("gcorrupt", "--imagery", url, TRUE, NULL, &rc, &err));
    g_assert_cmpint(rc, ==, 1);
    g_assert_nonnull(strstr(err, url));
    g_assert_cmpint(count_datasets("gcorrupt"), ==, 0);
    g_autofree char *gdir = g_build_filename(proj, "galleries", "gcorrupt", NULL);
    g_assert_false(g_file_test(gdir, G_FILE_TEST_EXISTS));
    /* a tile the server does not have (404) inside the region: an error naming that tile's
     * URL, not black patches */
    g_assert_cmpint(g_unlink(bad), ==, 0);
    g_autofree char *err404 = NULL;
    g_free(gallery("g404", "--imagery", url, TRUE, NULL, &rc, &err404));
    stop_server(pid);
    g_test_message("404: %s", err404);
    g_autofree char *tile_url = g_strdup_printf("http://127.0.0.1:%d/%d/%d/%d.png", port, zmax,
                                                tx, ty);
    g_assert_cmpint(rc, ==, 1);
    if (!strstr(err404, tile_url) || !strstr(err404, "HTTP status 404"))
        g_error("expected %s and its HTTP status 404 in: %s", tile_url, err404);
    g_assert_cmpint(count_datasets("g404"), ==, 0);
    assert_same_gallery("gxyz", 1e-3);
}

/* Runs a failing gallery and checks its error names `needle`, took < max_s and left nothing. */
static void gallery_fails(const char *name, const char *src, gboolean with_bounds,
                          const char *const *env_add, const char *needle, double max_s)
{
    int rc;
    g_autofree char *err = NULL;
    gint64 t0 = g_get_monotonic_time();
    g_free(gallery(name, "--imagery", src, with_bounds, env_add, &rc, &err));
    double secs = (g_get_monotonic_time() - t0) / 1e6;
    g_test_message("%s: exit %d after %.1f s: %s", src, rc, secs, err);
    g_assert_cmpint(rc, ==, 1);
    if (!strstr(err, needle)) g_error("expected “%s” in: %s", needle, err);
    g_assert_cmpfloat(secs, <, max_s);
    g_assert_cmpint(count_datasets(name), ==, 0);
    g_autofree char *gdir = g_build_filename(proj, "galleries", name, NULL);
    g_assert_false(g_file_test(gdir, G_FILE_TEST_EXISTS));
}

static void write_plain_tiff(const char *path, gboolean georef)
{
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    GDALDatasetH d = GDALCreate(drv, path, 64, 64, 3, GDT_Byte, NULL);
    g_assert_nonnull(d);
    if (georef) {
        /* a geotransform in degrees, but no CRS */
        double gt[6] = {bounds[0], 1e-4, 0, bounds[3], 0, -1e-4};
        GDALSetGeoTransform(d, gt);
    }
    GDALClose(d);
}

#define MERC_R 20037508.342789244

/* WMTS capabilities (GoogleMapsCompatible levels 0..zmax) whose tiles come from
 * 127.0.0.1:port; the file's path. */
static char *wmts_capabilities(int port)
{
    g_autoptr(GString) x = g_string_new(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<Capabilities xmlns=\"http://www.opengis.net/wmts/1.0\" "
        "xmlns:ows=\"http://www.opengis.net/ows/1.1\" version=\"1.0.0\"><Contents><Layer>"
        "<ows:Identifier>region</ows:Identifier><ows:WGS84BoundingBox><ows:LowerCorner>-180 -85"
        "</ows:LowerCorner><ows:UpperCorner>180 85</ows:UpperCorner></ows:WGS84BoundingBox>"
        "<Style isDefault=\"true\"><ows:Identifier>default</ows:Identifier></Style>"
        "<Format>image/png</Format><TileMatrixSetLink><TileMatrixSet>gm</TileMatrixSet>"
        "</TileMatrixSetLink>");
    g_string_append_printf(x,
                           "<ResourceURL format=\"image/png\" resourceType=\"tile\" template=\""
                           "http://127.0.0.1:%d/{TileMatrix}/{TileCol}/{TileRow}.png\"/></Layer>"
                           "<TileMatrixSet><ows:Identifier>gm</ows:Identifier><ows:SupportedCRS>"
                           "urn:ogc:def:crs:EPSG::3857</ows:SupportedCRS>",
                           port);
    for (int z = 0; z <= zmax; z++)
        g_string_append_printf(
            x,
            "<TileMatrix><ows:Identifier>%d</ows:Identifier><ScaleDenominator>%.10f"
            "</ScaleDenominator><TopLeftCorner>%.9f %.9f</TopLeftCorner><TileWidth>256"
            "</TileWidth><TileHeight>256</TileHeight><MatrixWidth>%d</MatrixWidth>"
            "<MatrixHeight>%d</MatrixHeight></TileMatrix>",
            z, 2 * MERC_R / (256.0 * (1 << z)) / 0.00028, -MERC_R, MERC_R, 1 << z, 1 << z);
    g_string_append(x, "</TileMatrixSet></Contents></Capabilities>\n");
    char *path = g_build_filename(tmp, "slow-wmts.xml", NULL);
    g_assert_true(g_file_set_contents(path, x->str, -1, NULL));
    return path;
}

static void test_bad_sources(void)
{
    g_autofree char *nogeo = g_build_filename(tmp, "no-georef.tif", NULL);
    write_plain_tiff(nogeo, FALSE);
    gallery_fails("gnogeo", nogeo, TRUE, NULL, "no georeferencing", 60);
    g_assert_nonnull(strstr(nogeo, "no-georef.tif"));
    g_autofree char *nocrs = g_build_filename(tmp, "no-crs.tif", NULL);
    write_plain_tiff(nocrs, TRUE);
    gallery_fails("gnocrs", nocrs, TRUE, NULL, "no coordinate reference system", 60);
    g_autofree char *missing = g_build_filename(tmp, "missing.tif", NULL);
    gallery_fails("gmissing", missing, TRUE, NULL, "missing.tif: no such file", 60);
    /* a closed port on 127.0.0.1 */
    int closed = free_port();
    g_autofree char *url = g_strdup_printf("http://127.0.0.1:%d/{z}/{x}/{y}.png", closed);
    gallery_fails("gclosed", url, TRUE, NULL, url, 60);
    /* a server that accepts and never answers: GDAL_HTTP_TIMEOUT bounds the wait */
    int port = free_port();
    g_autofree char *ps = g_strdup_printf("%d", port);
    const char *py = "import socket, sys, time\n"
                     "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                     "s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(16); held = []\n"
                     "while True: held.append(s.accept()[0])\n";
    const char *args[] = {"python3", "-c", py, ps, NULL};
    GPid pid = start_server(args, port);
    g_autofree char *slow = g_strdup_printf("http://127.0.0.1:%d/{z}/{x}/{y}.png", port);
    const char *env[] = {"GDAL_HTTP_TIMEOUT", "2", "GDAL_HTTP_MAX_RETRY", "0", NULL};
    gallery_fails("gslow", slow, TRUE, env, slow, 45);
    /* the same server as WMTS capabilities and as a hand-written GDAL XML description, neither
     * of which sets the WMS driver's <Timeout> (300 s): GDAL_HTTP_TIMEOUT bounds them too */
    g_autofree char *caps = wmts_capabilities(port);
    g_autofree char *wmts = g_strconcat("WMTS:", caps, NULL);
    gallery_fails("gslowwmts", wmts, TRUE, env, caps, 45);
    g_autofree char *xml = g_build_filename(tmp, "slow-wms.xml", NULL);
    g_autofree char *desc = g_strdup_printf(
        "<GDAL_WMS><Service name=\"TMS\"><ServerUrl>http://127.0.0.1:%d/${z}/${x}/${y}.png"
        "</ServerUrl></Service><DataWindow><UpperLeftX>%.9f</UpperLeftX><UpperLeftY>%.9f"
        "</UpperLeftY><LowerRightX>%.9f</LowerRightX><LowerRightY>%.9f</LowerRightY>"
        "<TileLevel>%d</TileLevel><TileCountX>1</TileCountX><TileCountY>1</TileCountY>"
        "<YOrigin>top</YOrigin></DataWindow><Projection>EPSG:3857</Projection>"
        "<BlockSizeX>256</BlockSizeX><BlockSizeY>256</BlockSizeY><BandsCount>3</BandsCount>"
        "</GDAL_WMS>\n",
        port, -MERC_R, MERC_R, MERC_R, -MERC_R, zmax);
    g_assert_true(g_file_set_contents(xml, desc, -1, NULL));
    gallery_fails("gslowxml", xml, TRUE, env, "slow-wms.xml", 45);
    stop_server(pid);
    /* a tile server covers the world: without --bounds its region is too large to cut */
    int rc;
    g_autofree char *err = NULL;
    g_free(gallery("gworld", "--imagery", slow, FALSE, NULL, &rc, &err));
    g_assert_cmpint(rc, ==, 1);
    g_assert_nonnull(strstr(err, slow));
    g_assert_cmpint(count_datasets("gworld"), ==, 0);
}

/* --stride 1 at the first zoom from zmax on where that makes over 50,000 patches of 32x32:
 * the same statement and budget as --tiles.  The count and size are stated before anything is
 * written; beyond the budget the gallery is refused, nothing written or recorded, for a
 * readable source (the MBTiles through GDAL) and a tile server alike; with --force it goes on
 * to read the imagery (a closed port: the read fails naming the URL, and leaves nothing). */
static void test_budget(void)
{
    g_autofree char *b = g_strdup_printf("%.10f,%.10f,%.10f,%.10f", bounds[0], bounds[1],
                                         bounds[2], bounds[3]);
    double bb[4];
    g_assert_cmpint(sscanf(b, "%lf,%lf,%lf,%lf", &bb[0], &bb[1], &bb[2], &bb[3]), ==, 4);
    int z = zmax;
    gint64 rows = 0, cols = 0;
    for (;; z++) {
        g_assert_cmpint(z, <=, 24);
        double s = 256.0 * (double)(1 << z);
        double xw = (bb[0] + 180) / 360 * s, xe = (bb[2] + 180) / 360 * s;
        double yn = (1 - log(tan(bb[3] * G_PI / 180) + 1 / cos(bb[3] * G_PI / 180)) / G_PI) / 2 * s;
        double ys = (1 - log(tan(bb[1] * G_PI / 180) + 1 / cos(bb[1] * G_PI / 180)) / G_PI) / 2 * s;
        cols = (gint64)floor(xe) - (gint64)ceil(xw) - 32 + 1;
        rows = (gint64)floor(ys) - (gint64)ceil(yn) - 32 + 1;
        if (rows > 0 && cols > 0 && rows * cols > 50000) break;
    }
    g_autofree char *zs = g_strdup_printf("%d", z);
    g_autofree char *want =
        g_strdup_printf("%" G_GINT64_FORMAT "×%" G_GINT64_FORMAT " = %" G_GINT64_FORMAT
                        " patches of 32x32 px (stride 1)",
                        rows, cols, rows * cols);
    g_autofree char *want_n = g_strdup_printf("%" G_GINT64_FORMAT " patches (about ", rows * cols);
    int closed = free_port();
    g_autofree char *url = g_strdup_printf("http://127.0.0.1:%d/{z}/{x}/{y}.png", closed);
    const char *srcs[] = {mbt, url};
    for (int force = 0; force < 2; force++)
        for (int i = force; i < 2; i++) { /* --force only with the closed port */
            const char *cmd[] = {s4g, "gallery", "-p", proj, "--zoom", zs, "--name", "gbig",
                                 "--imagery", srcs[i], "--bounds", b, "--stride", "1", "-m",
                                 "m", "--backend", "cpu", "--json",
                                 force ? "--force" : NULL, NULL};
            int rc;
            g_autofree char *err = NULL;
            g_autofree char *out = run_s4g(cmd, NULL, &rc, &err);
            g_test_message("%s%s: exit %d: %s", srcs[i], force ? " --force" : "", rc, err);
            g_assert_cmpint(rc, ==, 1);
            g_assert_cmpstr(out, ==, "");
            g_assert_nonnull(strstr(err, want));
            g_assert_nonnull(strstr(err, srcs[i])); /* the error names the source */
            /* refused by the budget without --force, past it with */
            g_assert_true((strstr(err, "exceed the budget") == NULL) == !!force);
            g_assert_true((strstr(err, want_n) == NULL) == !!force);
            g_assert_cmpint(count_datasets("gbig"), ==, 0);
            g_autofree char *gdir = g_build_filename(proj, "galleries", "gbig", NULL);
            g_assert_false(g_file_test(gdir, G_FILE_TEST_EXISTS));
        }
}

/* s4g tiles: a pyramid of the UTM GeoTIFF over the region, which --tiles then cuts like the
 * world's own MBTiles. */
static void test_tiles_command(void)
{
    g_autofree char *tif = fixture_utm();
    g_autofree char *out = g_build_filename(tmp, "from-utm.mbtiles", NULL);
    g_autofree char *zr = g_strdup_printf("%d-%d", zmax - 2, zmax);
    g_autofree char *b = g_strdup_printf("%.10f,%.10f,%.10f,%.10f", bounds[0], bounds[1],
                                         bounds[2], bounds[3]);
    const char *cmd[] = {s4g, "tiles", "--imagery", tif, "--out", out, "--zoom-range", zr,
                         "--bounds", b, "--json", NULL};
    g_autofree char *o = tf_run_ok(cmd);
    g_autoptr(JsonParser) jp = json_parser_new();
    g_assert_true(json_parser_load_from_data(jp, o, -1, NULL));
    JsonObject *jo = json_node_get_object(json_parser_get_root(jp));
    g_assert_cmpint(json_object_get_int_member(jo, "tiles"), >, 0);
    g_assert_cmpint(json_object_get_int_member(jo, "maxzoom"), ==, zmax);
    g_autofree char *part = g_strconcat(out, ".part", NULL);
    g_assert_false(g_file_test(part, G_FILE_TEST_EXISTS));
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open_v2(out, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "SELECT min(zoom_level), max(zoom_level), count(*) FROM tiles", -1,
                       &st, NULL);
    g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
    g_assert_cmpint(sqlite3_column_int(st, 0), ==, zmax - 2);
    g_assert_cmpint(sqlite3_column_int(st, 1), ==, zmax);
    g_assert_cmpint(sqlite3_column_int(st, 2), >=, 3);
    sqlite3_finalize(st);
    sqlite3_close(db);
    gallery_ok("gpyramid", "--tiles", out, FALSE);
    /* as the UTM GeoTIFF itself (measured 3.2e-2, cosine 0.985) */
    assert_same_gallery("gpyramid", 5e-2);
    assert_retrieves_itself("gpyramid", 0.98);
    const char *help[] = {s4g, "tiles", "--help", NULL};
    g_autofree char *h = tf_run_ok(help);
    g_assert_nonnull(strstr(h, "--zoom-range"));
    const char *bad[] = {s4g, "tiles", "--imagery", tif, "--out", out, "--zoom-range", "9-3",
                         NULL};
    tf_run_fails(bad, "--zoom-range");
}

/* A region wider than one read window (2048 px): a 2600×2600 GeoTIFF in EPSG:3857 on zoom
 * 17's pixel grid with a pattern that differs in every pixel, pyramided by `s4g tiles`; the
 * gallery cut from the MBTiles (tile reader) and the one cut from the GeoTIFF (GDAL) have
 * byte-identical patches, window seams included. */
static void test_windows(void)
{
    const int n = 2600, z = 17;
    double res = 2 * 20037508.342789244 / (256.0 * (1 << z));
    /* pixel-aligned origin near Munich */
    double x0 = floor((11.55 / 180.0 * 20037508.342789244 + 20037508.342789244) / res) * res -
                20037508.342789244;
    double y0 = 20037508.342789244 - floor((20037508.342789244 - 6128000.0) / res) * res;
    g_autofree char *tif = g_build_filename(tmp, "wide-3857.tif", NULL);
    const char *co[] = {"TILED=YES", "COMPRESS=DEFLATE", NULL};
    GDALDatasetH d = GDALCreate(GDALGetDriverByName("GTiff"), tif, n, n, 3, GDT_Byte, (char **)co);
    g_assert_nonnull(d);
    double gt[6] = {x0, res, 0, y0, 0, -res};
    GDALSetGeoTransform(d, gt);
    OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(srs, 3857);
    GDALSetSpatialRef(d, srs);
    OSRDestroySpatialReference(srs);
    g_autofree guint8 *row = g_malloc((gsize)n * 3);
    for (int y = 0; y < n; y++) {
        for (int x = 0; x < n; x++)
            for (int b = 0; b < 3; b++)
                row[(gsize)x * 3 + b] = (guint8)((x * 7 + y * 13 + b * 85 + (x ^ y) * 3) & 0xff);
        int bands[3] = {1, 2, 3};
        g_assert_cmpint(GDALDatasetRasterIO(d, GF_Write, 0, y, n, 1, row, n, 1, GDT_Byte, 3, bands,
                                            3, (GSpacing)n * 3, 1),
                        ==, CE_None);
    }
    GDALClose(d);
    g_autofree char *mb = g_build_filename(tmp, "wide.mbtiles", NULL);
    const char *tiles[] = {s4g, "tiles", "--imagery", tif, "--out", mb, "--zoom-range", "17",
                           NULL};
    g_free(tf_run_ok(tiles));
    /* the region: the GeoTIFF's extent, shrunk by a few pixels so both cuts agree on it */
    double lon0 = (x0 + 5 * res) / 20037508.342789244 * 180;
    double lon1 = (x0 + (n - 5) * res) / 20037508.342789244 * 180;
    double lat1 = atan(sinh((y0 - 5 * res) / 20037508.342789244 * G_PI)) * 180 / G_PI;
    double lat0 = atan(sinh((y0 - (n - 5) * res) / 20037508.342789244 * G_PI)) * 180 / G_PI;
    g_autofree char *b = g_strdup_printf("%.10f,%.10f,%.10f,%.10f", lon0, lat0, lon1, lat1);
    const char *names[2] = {"wide-mb", "wide-tif"};
    const char *flags[2] = {"--tiles", "--imagery"};
    const char *srcs[2] = {mb, tif};
    for (int i = 0; i < 2; i++) {
        const char *g[] = {s4g, "gallery", "-p", proj, "--zoom", "17", "--name", names[i], flags[i],
                           srcs[i], "--bounds", b, "--stride", "100", "-m", "m", "--backend",
                           "cpu", NULL};
        g_free(tf_run_ok(g));
    }
    g_autoptr(GArray) a = patches_of("wide-mb");
    g_autoptr(GArray) c = patches_of("wide-tif");
    g_assert_cmpuint(a->len, ==, 26u * 26u); /* (2590 − 32) / 100 + 1 per axis */
    g_assert_cmpuint(c->len, ==, a->len);
    for (guint i = 0; i < a->len; i++) {
        const char *f = g_array_index(a, Patch, i).file;
        g_assert_cmpstr(f, ==, g_array_index(c, Patch, i).file);
        g_autofree char *pa = g_build_filename(proj, "galleries", "wide-mb", f, NULL);
        g_autofree char *pc = g_build_filename(proj, "galleries", "wide-tif", f, NULL);
        g_autofree char *da = NULL, *dc = NULL;
        gsize la, lc;
        g_assert_true(g_file_get_contents(pa, &da, &la, NULL));
        g_assert_true(g_file_get_contents(pc, &dc, &lc, NULL));
        g_assert_true(la == lc && !memcmp(da, dc, la));
    }
}

/* --ground-fov: a model trained on 90° views of the panoramas (config records it), and
 * predict locating a 90° crop of a panorama on the gallery; a field of view over 360° fails. */
static void test_ground_fov(void)
{
    const char *train[] = {s4g, "train", "--project", proj, "--dataset", "w", "--model", "mfov",
                           "--ground-size", "32x32", "--satellite-size", "32x32", "--epochs",
                           "1", "--batch", "8", "--backend", "cpu", "--threads", "2",
                           "--ground-fov", "90", NULL};
    g_free(tf_run_ok(train));
    g_autofree char *dbp = g_build_filename(proj, "project.s4g", NULL);
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open_v2(dbp, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    sqlite3_stmt *st = NULL;
    g_assert_cmpint(sqlite3_prepare_v2(db, "SELECT json_extract(config, '$.ground_fov') FROM runs ORDER BY id DESC LIMIT 1", -1,
                                       &st, NULL),
                    ==, SQLITE_OK);
    g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
    g_assert_cmpfloat(sqlite3_column_double(st, 0), ==, 90.0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    /* a 90° view of a panorama, as a photo */
    g_autofree char *pano = g_build_filename(world, "streetview", "panos", "0000001.jpg", NULL);
    GDALDatasetH src = GDALOpen(pano, GA_ReadOnly);
    g_assert_nonnull(src);
    int w = GDALGetRasterXSize(src), h = GDALGetRasterYSize(src);
    g_autofree char *cw = g_strdup_printf("%d", w / 4), *ch = g_strdup_printf("%d", h);
    char *args[] = {"-of", "JPEG", "-srcwin", "0", "0", cw, ch, NULL};
    GDALTranslateOptions *o = GDALTranslateOptionsNew(args, NULL);
    g_autofree char *photo = g_build_filename(tmp, "view90.jpg", NULL);
    GDALDatasetH d = GDALTranslate(photo, src, o, NULL);
    GDALTranslateOptionsFree(o);
    g_assert_nonnull(d);
    GDALClose(d);
    GDALClose(src);
    const char *pred[] = {s4g, "predict", "-p", proj, "--gallery", "ref", "-m", "mfov", "-k", "3",
                          "--backend", "cpu", "--json", photo, NULL};
    g_autofree char *out = tf_run_ok(pred);
    g_assert_nonnull(strstr(out, "\"top\""));
    const char *bad[] = {s4g, "train", "--project", proj, "--dataset", "w", "--model", "mbad",
                         "--ground-size", "32x32", "--satellite-size", "32x32", "--epochs", "1",
                         "--batch", "8", "--backend", "cpu", "--ground-fov", "400", NULL};
    tf_run_fails(bad, "--ground-fov");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    s4g = tf_s4g_argument(argc, argv);
    GDALAllRegister();
    g_autoptr(GError) error = NULL;
    tmp = g_dir_make_tmp("s4g-imagery-XXXXXX", &error);
    g_assert_no_error(error);
    world = g_build_filename(tmp, "w", NULL);
    proj = g_build_filename(tmp, "p", NULL);
    mbt = g_build_filename(world, "tiles", "region.mbtiles", NULL);
    const char *synth[] = {s4g, "synth", "--layout", "cvusa", "--out", world, "-n", "24",
                           "--image-scale", "0.5", "-j", "2", NULL};
    g_free(tf_run_ok(synth));
    const char *imp[] = {s4g, "import", "--project", proj, "--kind", "cvusa", "--name", "w",
                         world, NULL};
    g_free(tf_run_ok(imp));
    const char *train[] = {s4g, "train", "--project", proj, "--dataset", "w", "--model", "m",
                           "--ground-size", "32x96", "--satellite-size", "32x32", "--epochs",
                           "1", "--batch", "8", "--backend", "cpu", "--threads", "2", NULL};
    g_free(tf_run_ok(train));
    /* the region and zoom of the reference gallery */
    zmax = geotiff_fixture_region(mbt, bounds);
    gallery_ok("ref", "--tiles", mbt, FALSE);

    g_test_add_func("/imagery/mbtiles-through-gdal", test_mbtiles_through_gdal);
    g_test_add_func("/imagery/geotiff-4326", test_geotiff_4326);
    g_test_add_func("/imagery/geotiff-utm", test_geotiff_utm);
    g_test_add_func("/imagery/folder-mosaic", test_folder_mosaic);
    g_test_add_func("/imagery/xyz-server", test_xyz_server);
    g_test_add_func("/imagery/bad-sources", test_bad_sources);
    g_test_add_func("/imagery/budget", test_budget);
    g_test_add_func("/imagery/tiles-command", test_tiles_command);
    g_test_add_func("/imagery/windows", test_windows);
    g_test_add_func("/imagery/ground-fov", test_ground_fov);
    int rc = g_test_run();
    tf_rmtree(tmp);
    return rc;
}
