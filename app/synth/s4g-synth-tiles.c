/* s4g-synth-tiles.c — the region's Web-Mercator tile pyramid as MBTiles (PNG, transparent
 * outside the region).  Tiles render in parallel into memory and are inserted in a fixed
 * order, so the file is reproducible. */
#include "s4g-mbtiles.h"
#include "s4g-synth-private.h"

#include <math.h>

#define TILE 256

typedef struct {
    int z, x, y, world;
} TileKey;

typedef struct {
    S4gWorld **worlds;
    GArray *keys;
    GBytes **png;
    GError **errors;
} TileJob;

static double lon_of(double px, int z)
{
    return px / (TILE * (double)(1 << z)) * 360.0 - 180.0;
}

static double lat_of(double py, int z)
{
    double n = G_PI * (1 - 2 * py / (TILE * (double)(1 << z)));
    return atan(sinh(n)) * 180.0 / G_PI;
}

static double tile_x_of(double lon, int z)
{
    return (lon + 180.0) / 360.0 * (1 << z);
}

static double tile_y_of(double lat, int z)
{
    double r = lat * G_PI / 180.0;
    return (1 - log(tan(r) + 1 / cos(r)) / G_PI) / 2 * (1 << z);
}

static void render_tile(int i, gpointer data)
{
    TileJob *j = data;
    TileKey *k = &g_array_index(j->keys, TileKey, i);
    const S4gWorld *w = j->worlds[k->world];
    g_autofree uint8_t *px = g_malloc0(TILE * TILE * 4);
    /* Metres per tile pixel, to average several world cells when zoomed out. */
    double res = 156543.03392 * cos(w->origin_lat * G_PI / 180.0) / (1 << k->z);
    int ss = CLAMP((int)ceil(res / w->cell), 1, 4);
    double wmax = w->w * w->cell, hmax = w->h * w->cell;
    /* Web Mercator rows map to latitudes and columns to longitudes independently, and the
     * local projection is separable too: convert each sample row and column once. */
    int ns = TILE * ss;
    g_autofree double *mx = g_new(double, ns), *my = g_new(double, ns);
    for (int q = 0; q < ns; q++) {
        double g = (q + 0.5) / ss, unused;
        s4g_world_from_latlon(w, w->origin_lat, lon_of(k->x * TILE + g, k->z), &mx[q], &unused);
        s4g_world_from_latlon(w, lat_of(k->y * TILE + g, k->z), w->origin_lon, &unused, &my[q]);
    }
    for (int r = 0; r < TILE; r++)
        for (int c = 0; c < TILE; c++) {
            float acc[3] = {0, 0, 0};
            int n = 0;
            for (int sy = 0; sy < ss; sy++) {
                double y = my[r * ss + sy];
                if (y < 0 || y >= hmax)
                    continue;
                for (int sx = 0; sx < ss; sx++) {
                    double x = mx[c * ss + sx];
                    if (x < 0 || x >= wmax)
                        continue;
                    float rgb[3];
                    s4g_world_sample_ortho(w, x, y, rgb);
                    for (int q = 0; q < 3; q++)
                        acc[q] += rgb[q];
                    n++;
                }
            }
            if (!n)
                continue;
            uint8_t *o = px + 4 * (r * TILE + c);
            for (int q = 0; q < 3; q++)
                o[q] = (uint8_t)CLAMP(lroundf(acc[q] / n * 255.0f), 0, 255);
            o[3] = (uint8_t)lroundf(255.0f * n / (ss * ss));
        }
    j->png[i] = s4g_synth_encode_png(px, TILE, TILE, 4, &j->errors[i]);
}

gboolean s4g_synth_write_tiles(const S4gSynthOptions *o, S4gWorld **worlds, int n_worlds, int *n_tiles,
                               GError **error)
{
    g_autoptr(GArray) keys = g_array_new(FALSE, FALSE, sizeof(TileKey));
    double west = 180, south = 90, east = -180, north = -90;
    int minz = 30, maxz = 0;
    for (int wi = 0; wi < n_worlds; wi++) {
        S4gWorld *w = worlds[wi];
        double la0, lo0, la1, lo1;
        s4g_world_to_latlon(w, 0, 0, &la0, &lo0);
        s4g_world_to_latlon(w, w->w * w->cell, w->h * w->cell, &la1, &lo1);
        west = MIN(west, lo0);
        south = MIN(south, la0);
        east = MAX(east, lo1);
        north = MAX(north, la1);
        /* Deepest zoom: tile pixels no finer than 1.5 cells; shallowest: five levels up. */
        double base = 156543.03392 * cos(w->origin_lat * G_PI / 180.0);
        int zmax = CLAMP((int)floor(log2(base / (1.5 * w->cell))), 1, 22);
        int zmin = MAX(0, zmax - 5);
        minz = MIN(minz, zmin);
        maxz = MAX(maxz, zmax);
        for (int z = zmin; z <= zmax; z++) {
            int x0 = (int)floor(tile_x_of(lo0, z)), x1 = (int)floor(tile_x_of(lo1, z));
            int y0 = (int)floor(tile_y_of(la1, z)), y1 = (int)floor(tile_y_of(la0, z));
            for (int y = y0; y <= y1; y++)
                for (int x = x0; x <= x1; x++) {
                    TileKey k = {z, x, y, wi};
                    g_array_append_val(keys, k);
                }
        }
    }
    int n = (int)keys->len;
    TileJob job = {worlds, keys, g_new0(GBytes *, n), g_new0(GError *, n)};
    gint64 t0 = g_get_monotonic_time();
    s4g_synth_parallel(o, "tiles", n, render_tile, &job);
    g_debug("%d tiles rendered in %.2f s", n, (g_get_monotonic_time() - t0) / 1e6);
    gboolean ok = TRUE;
    for (int i = 0; i < n && ok; i++)
        if (job.errors[i]) {
            g_propagate_error(error, job.errors[i]);
            job.errors[i] = NULL;
            ok = FALSE;
        }
    g_autofree char *path = g_build_filename(o->out_dir, "tiles", "region.mbtiles", NULL);
    g_autoptr(S4gMbtiles) mb = ok ? s4g_mbtiles_create(path, error) : NULL;
    ok = ok && mb;
    if (ok) {
        char b[4][G_ASCII_DTOSTR_BUF_SIZE];
        g_ascii_formatd(b[0], sizeof b[0], "%.7f", west);
        g_ascii_formatd(b[1], sizeof b[1], "%.7f", south);
        g_ascii_formatd(b[2], sizeof b[2], "%.7f", east);
        g_ascii_formatd(b[3], sizeof b[3], "%.7f", north);
        g_autofree char *bounds = g_strdup_printf("%s,%s,%s,%s", b[0], b[1], b[2], b[3]);
        double cla, clo;
        s4g_world_to_latlon(worlds[0], worlds[0]->w * worlds[0]->cell / 2, worlds[0]->h * worlds[0]->cell / 2,
                            &cla, &clo);
        char c0[G_ASCII_DTOSTR_BUF_SIZE], c1[G_ASCII_DTOSTR_BUF_SIZE];
        g_ascii_formatd(c0, sizeof c0, "%.7f", clo);
        g_ascii_formatd(c1, sizeof c1, "%.7f", cla);
        g_autofree char *center = g_strdup_printf("%s,%s,%d", c0, c1, MAX(minz, maxz - 2));
        g_autofree char *zmin = g_strdup_printf("%d", minz), *zmax = g_strdup_printf("%d", maxz);
        g_autofree char *desc = g_strdup_printf("Synthetic region, s4g synth --layout %s --seed %" G_GUINT64_FORMAT,
                                                s4g_synth_layout_name(o->layout), o->seed);
        ok = s4g_mbtiles_set_metadata(mb, "name", "s4g synthetic region", error) &&
             s4g_mbtiles_set_metadata(mb, "format", "png", error) &&
             s4g_mbtiles_set_metadata(mb, "bounds", bounds, error) &&
             s4g_mbtiles_set_metadata(mb, "center", center, error) &&
             s4g_mbtiles_set_metadata(mb, "minzoom", zmin, error) &&
             s4g_mbtiles_set_metadata(mb, "maxzoom", zmax, error) &&
             s4g_mbtiles_set_metadata(mb, "type", "baselayer", error) &&
             s4g_mbtiles_set_metadata(mb, "version", "1.3", error) &&
             s4g_mbtiles_set_metadata(mb, "description", desc, error);
        for (int i = 0; i < n && ok; i++) {
            TileKey *k = &g_array_index(keys, TileKey, i);
            gsize len;
            const void *p = g_bytes_get_data(job.png[i], &len);
            ok = s4g_mbtiles_put_tile(mb, k->z, k->x, k->y, p, len, error);
        }
        ok = ok && s4g_mbtiles_finish(mb, error);
    }
    for (int i = 0; i < n; i++) {
        if (job.png[i])
            g_bytes_unref(job.png[i]);
        g_clear_error(&job.errors[i]);
    }
    g_free(job.png);
    g_free(job.errors);
    if (n_tiles)
        *n_tiles = n;
    return ok;
}
