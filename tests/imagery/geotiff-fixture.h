/* geotiff-fixture.h — GeoTIFFs made from a synthetic world's MBTiles with GDAL's C API
 * (tests/imagery and the Studio's imagery map test). */
#pragma once

#include <gdal.h>
#include <gdal_utils.h>
#include <glib.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>

/* gdalwarp of `mbt` (its whole tiles, not clipped to the bounds) into `out` in `srs`,
 * nearest neighbour, with `extra` arguments (NULL-terminated). */
static inline void geotiff_fixture_warp(const char *mbt, const char *out, const char *srs,
                                        const char *const *extra)
{
    const char *oo[] = {"USE_BOUNDS=NO", NULL};
    GDALDatasetH src = GDALOpenEx(mbt, GDAL_OF_RASTER, NULL, oo, NULL);
    g_assert_nonnull(src);
    g_autoptr(GPtrArray) a = g_ptr_array_new();
    const char *args[] = {"-of", "GTiff", "-t_srs", srs, "-r", "near", "-co", "COMPRESS=DEFLATE",
                          "-co", "TILED=YES"};
    for (guint i = 0; i < G_N_ELEMENTS(args); i++) g_ptr_array_add(a, (gpointer)args[i]);
    for (int i = 0; extra[i]; i++) g_ptr_array_add(a, (gpointer)extra[i]);
    g_ptr_array_add(a, NULL);
    GDALWarpAppOptions *o = GDALWarpAppOptionsNew((char **)a->pdata, NULL);
    int usage = 0;
    GDALDatasetH d = GDALWarp(out, NULL, 1, &src, o, &usage);
    GDALWarpAppOptionsFree(o);
    g_assert_nonnull(d);
    GDALClose(d);
    GDALClose(src);
}

static inline double geotiff_fixture_lat_of_tile_y(double ty, int z)
{
    return atan(sinh(G_PI * (1 - 2 * ty / (double)(1 << z)))) * 180 / G_PI;
}

/* EPSG:4326 over the tiles (zoom z) covering `bounds` (west, south, east, north), one column
 * and one row per map pixel: longitude is linear in map x; latitude nearly so in map y over a
 * few hundred metres (rows drift by up to 0.02 pixel). */
static inline void geotiff_fixture_4326(const char *mbt, const double bounds[4], int z,
                                        const char *out)
{
    int n = 1 << z;
    double r3 = bounds[3] * G_PI / 180, r1 = bounds[1] * G_PI / 180;
    int tx0 = (int)floor((bounds[0] + 180) / 360 * n), tx1 = (int)floor((bounds[2] + 180) / 360 * n);
    int ty0 = (int)floor((1 - log(tan(r3) + 1 / cos(r3)) / G_PI) / 2 * n);
    int ty1 = (int)floor((1 - log(tan(r1) + 1 / cos(r1)) / G_PI) / 2 * n);
    g_autofree char *w = g_strdup_printf("%.12f", tx0 * 360.0 / n - 180);
    g_autofree char *e = g_strdup_printf("%.12f", (tx1 + 1) * 360.0 / n - 180);
    g_autofree char *no = g_strdup_printf("%.12f", geotiff_fixture_lat_of_tile_y(ty0, z));
    g_autofree char *so = g_strdup_printf("%.12f", geotiff_fixture_lat_of_tile_y(ty1 + 1, z));
    g_autofree char *cw = g_strdup_printf("%d", (tx1 - tx0 + 1) * 256);
    g_autofree char *ch = g_strdup_printf("%d", (ty1 - ty0 + 1) * 256);
    const char *extra[] = {"-te", w, so, e, no, "-ts", cw, ch, NULL};
    geotiff_fixture_warp(mbt, out, "EPSG:4326", extra);
}

/* The MBTiles' `bounds` metadata row (west, south, east, north) and its largest zoom. */
static inline int geotiff_fixture_region(const char *mbt, double bounds[4])
{
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open_v2(mbt, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "SELECT (SELECT value FROM metadata WHERE name = 'bounds'), "
                           "(SELECT max(zoom_level) FROM tiles)",
                       -1, &st, NULL);
    g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
    g_assert_cmpint(sscanf((const char *)sqlite3_column_text(st, 0), "%lf,%lf,%lf,%lf",
                           &bounds[0], &bounds[1], &bounds[2], &bounds[3]),
                    ==, 4);
    int z = sqlite3_column_int(st, 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return z;
}
