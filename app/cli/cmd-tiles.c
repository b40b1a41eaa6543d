/* cmd-tiles.c — s4g tiles: write an offline MBTiles pyramid (XYZ tiles of 256×256, Web
 * Mercator) of a region from any GDAL imagery source, so the Studio's map shows the imagery a
 * gallery was cut from.  Tiles with no imagery at all (outside the source) are left out, as
 * MBTiles readers treat missing tiles as empty.  The file appears only when complete. */
#include "s4g-cli.h"
#include "s4g-json-out.h"
#include "s4g-imagery.h"
#include "s4g-mbtiles.h"
#include "s4g-tilegrid.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define TILE 256

static double tile_x(double lon, int z)
{
    return (lon + 180.0) / 360.0 * (double)((gint64)1 << z);
}

static double tile_y(double lat, int z)
{
    double r = lat * G_PI / 180.0;
    return (1.0 - log(tan(r) + 1.0 / cos(r)) / G_PI) / 2.0 * (double)((gint64)1 << z);
}

/* The tile range [x0, x1] × [y0, y1] covering the bounds at zoom z. */
static void tile_range(const double b[4], int z, gint64 r[4])
{
    gint64 n = ((gint64)1 << z) - 1;
    r[0] = CLAMP((gint64)floor(tile_x(b[0], z)), 0, n);
    r[2] = CLAMP((gint64)ceil(tile_x(b[2], z)) - 1, 0, n);
    r[1] = CLAMP((gint64)floor(tile_y(b[3], z)), 0, n);
    r[3] = CLAMP((gint64)ceil(tile_y(b[1], z)) - 1, 0, n);
    if (r[2] < r[0]) r[2] = r[0];
    if (r[3] < r[1]) r[3] = r[1];
}

static gboolean all_black(const S4gImage *t)
{
    gsize n = (gsize)t->width * t->height * 3;
    for (gsize i = 0; i < n; i++)
        if (t->data[i]) return FALSE;
    return TRUE;
}

static gboolean parse_range(const char *text, int *a, int *b)
{
    char *end;
    gint64 lo = g_ascii_strtoll(text, &end, 10);
    if (end == text) return FALSE;
    gint64 hi = lo;
    if (*end == '-') {
        const char *s = end + 1;
        hi = g_ascii_strtoll(s, &end, 10);
        if (end == s) return FALSE;
    }
    if (*end || lo < 0 || hi > 24 || lo > hi) return FALSE;
    *a = (int)lo, *b = (int)hi;
    return TRUE;
}

static gboolean write_pyramid(S4gImagery *img, const double b[4], int z0, int z1,
                              const char *format, const char *part, gboolean json,
                              gint64 *written, GError **error)
{
    gint64 total = 0;
    for (int z = z0; z <= z1; z++) {
        gint64 r[4];
        tile_range(b, z, r);
        total += (r[2] - r[0] + 1) * (r[3] - r[1] + 1);
    }
    g_autofree char *dir = g_path_get_dirname(part);
    if (!s4g_tilegrid_check_disk(s4g_imagery_get_source(img), dir, total, TILE, TILE, error))
        return FALSE;
    g_autoptr(S4gMbtiles) mb = s4g_mbtiles_create(part, error);
    if (!mb) return FALSE;
    g_autofree char *bounds = g_strdup_printf("%.8f,%.8f,%.8f,%.8f", b[0], b[1], b[2], b[3]);
    g_autofree char *center = g_strdup_printf("%.8f,%.8f,%d", (b[0] + b[2]) / 2,
                                              (b[1] + b[3]) / 2, z1);
    g_autofree char *zmin = g_strdup_printf("%d", z0), *zmax = g_strdup_printf("%d", z1);
    g_autofree char *base = g_path_get_basename(s4g_imagery_get_source(img));
    if (!s4g_mbtiles_set_metadata(mb, "name", base, error) ||
        !s4g_mbtiles_set_metadata(mb, "format", format, error) ||
        !s4g_mbtiles_set_metadata(mb, "bounds", bounds, error) ||
        !s4g_mbtiles_set_metadata(mb, "center", center, error) ||
        !s4g_mbtiles_set_metadata(mb, "minzoom", zmin, error) ||
        !s4g_mbtiles_set_metadata(mb, "maxzoom", zmax, error) ||
        !s4g_mbtiles_set_metadata(mb, "type", "baselayer", error) ||
        !s4g_mbtiles_set_metadata(mb, "version", "1.3", error) ||
        !s4g_mbtiles_set_metadata(mb, "description", s4g_imagery_get_source(img), error))
        return FALSE;
    S4gProgress *bar = s4g_progress_new("tiles", total, !json);
    g_autoptr(S4gImage) tile = s4g_image_new(TILE, TILE);
    gint64 done = 0;
    gboolean ok = TRUE;
    for (int z = z0; ok && z <= z1; z++) {
        gint64 r[4];
        tile_range(b, z, r);
        for (gint64 ty = r[1]; ok && ty <= r[3]; ty++)
            for (gint64 tx = r[0]; ok && tx <= r[2]; tx++) {
                ok = s4g_imagery_read(img, z, tx * TILE, ty * TILE, tile, error);
                if (ok && !all_black(tile)) {
                    g_autoptr(GBytes) data = s4g_imagery_encode(tile, format, error);
                    gsize len = 0;
                    const void *p = data ? g_bytes_get_data(data, &len) : NULL;
                    ok = data && s4g_mbtiles_put_tile(mb, z, (int)tx, (int)ty, p, len, error);
                    if (ok) (*written)++;
                }
                s4g_progress_update(bar, ++done, NULL);
            }
    }
    s4g_progress_finish(bar);
    return ok && s4g_mbtiles_finish(mb, error);
}

int s4g_cmd_tiles(int argc, char **argv)
{
    g_autofree char *imagery = NULL, *out = NULL, *range = NULL, *bounds_text = NULL;
    g_autofree char *format = NULL;
    gboolean json = FALSE;
    GOptionEntry entries[] = {
        {"imagery", 'i', 0, G_OPTION_ARG_FILENAME, &imagery,
         "Imagery through GDAL: a GeoTIFF/COG/JPEG 2000/VRT file, a folder of them, an XYZ URL "
         "(http://host/{z}/{x}/{y}.png), WMTS:URL, GDAL's XML description of a service, or an "
         "MBTiles file",
         "SRC"},
        {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "MBTiles file to write (replaced)", "FILE"},
        {"zoom-range", 'z', 0, G_OPTION_ARG_STRING, &range,
         "Zoom levels to write, A-B or one level (default: the source's own resolution and the "
         "five levels above it)",
         "A-B"},
        {"bounds", 0, 0, G_OPTION_ARG_STRING, &bounds_text,
         "Region, degrees west,south,east,north (default: the imagery's extent; needed for tile "
         "servers)",
         "W,S,E,N"},
        {"format", 0, 0, G_OPTION_ARG_STRING, &format, "Tile format: png (default) or jpg", "F"},
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the result as one JSON object", NULL},
        {NULL},
    };
    if (!s4g_cli_parse("tiles", "", "write an offline MBTiles pyramid from any GDAL imagery",
                       entries, &argc, &argv))
        return 2;
    if (!imagery || !out) {
        fprintf(stderr, "s4g tiles: need --imagery SRC and --out FILE\n");
        return 2;
    }
    if (!format) format = g_strdup("png");
    if (strcmp(format, "png") && strcmp(format, "jpg")) {
        fprintf(stderr, "s4g tiles: --format: expected png or jpg, got “%s”\n", format);
        return 2;
    }
    int z0 = -1, z1 = -1;
    if (range && !parse_range(range, &z0, &z1)) {
        fprintf(stderr, "s4g tiles: --zoom-range: expected A-B with 0 ≤ A ≤ B ≤ 24, got “%s”\n",
                range);
        return 2;
    }
    double b[4];
    if (bounds_text) {
        if (!s4g_imagery_parse_bounds(bounds_text, b)) {
            fprintf(stderr, "s4g tiles: --bounds: expected west,south,east,north in degrees "
                            "(west < east, south < north, within ±180/±85.05), got “%s”\n",
                    bounds_text);
            return 2;
        }
    }
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gImagery) img = s4g_imagery_open(imagery, z1 >= 0 ? z1 : 18, &error);
    if (!img) return s4g_cli_fail("tiles", error);
    if (!bounds_text && !s4g_imagery_get_bounds(img, b, &error))
        return s4g_cli_fail("tiles", error);
    if (z0 < 0) {
        z1 = s4g_imagery_get_native_zoom(img);
        z0 = MAX(0, z1 - 5);
    }
    g_autofree char *part = g_strconcat(out, ".part", NULL);
    gint64 written = 0;
    gint64 t0 = g_get_monotonic_time();
    if (!write_pyramid(img, b, z0, z1, format, part, json, &written, &error)) {
        g_unlink(part);
        return s4g_cli_fail("tiles", error);
    }
    if (g_rename(part, out) != 0) {
        g_set_error(&error, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "%s: cannot move the finished tile set into place: %s", out,
                    g_strerror(errno));
        g_unlink(part);
        return s4g_cli_fail("tiles", error);
    }
    double secs = (g_get_monotonic_time() - t0) / 1e6;
    if (json) {
        g_autoptr(JsonBuilder) jb = json_builder_new();
        json_builder_begin_object(jb);
        s4g_json_add_string(jb, "out", out);
        s4g_json_add_int(jb, "tiles", written);
        s4g_json_add_int(jb, "minzoom", z0);
        s4g_json_add_int(jb, "maxzoom", z1);
        s4g_json_begin_array(jb, "bounds");
        for (int i = 0; i < 4; i++)
            s4g_json_add_double(jb, NULL, b[i]);
        json_builder_end_array(jb);
        s4g_json_add_double(jb, "seconds", secs);
        json_builder_end_object(jb);
        s4g_json_print(jb, stdout);
    } else {
        printf("%s: %" G_GINT64_FORMAT " tiles, zoom %d-%d, bounds %.6f,%.6f,%.6f,%.6f (%.1f s)\n",
               out, written, z0, z1, b[0], b[1], b[2], b[3], secs);
    }
    return 0;
}
