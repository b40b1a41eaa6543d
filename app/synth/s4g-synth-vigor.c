/* s4g-synth-vigor.c — the VIGOR layout (sample4geo-reference.md §6.3), four cities, each its
 * own region around the real city centre (or around --origin shifted 0.1° east per city):
 *   satellite/{city}/satellite_{lat}_{lon}.png   tiles of 72 m every 36 m (50 % overlap)
 *   ground/{city}/{panoid},{lat},{lon},.jpg      panoramas on the streets
 *   splits/{city}/satellite_list.txt            one tile file name per line
 *   splits/{city}/same_area_balanced_{train,test}.txt   the city's panoramas split 50/50
 *   splits/{city}/pano_label_balanced.txt        all the city's panoramas (cross-area)
 * Label lines have 13 tokens: pano, positive tile, 2 offsets, then three semi-positives with 2
 * offsets each.  The positive is the tile whose centre is nearest (the panorama lies in its
 * central quarter); the semi-positives are the three other tiles that contain the panorama.
 * Offsets are the panorama's pixel position in that tile minus the tile centre, as
 * "row column" (rows grow southwards, columns eastwards), in pixels of the written tile. */
#include "s4g-geo.h"
#include "s4g-synth-private.h"

#include <math.h>

#define VIGOR_FOOTPRINT_M 72.0
#define VIGOR_STRIDE_M 36.0
#define VIGOR_SPACING_M 22.0

static const char *cities[4] = {"Chicago", "NewYork", "SanFrancisco", "Seattle"};
static const double city_ll[4][2] = {{41.8781, -87.6298}, {40.7128, -74.0060}, {37.7749, -122.4194}, {47.6062, -122.3321}};

typedef struct {
    int gx, gy;   /* tile grid index */
    double x, y;  /* centre, metres */
    char *name;
} Tile;

typedef struct {
    const S4gSynthOptions *o;
    S4gWorld *w;
    const char *city;
    /* work items: tiles first, then panoramas */
    Tile *tiles;
    int n_tiles;
    const S4gPoint *locs;
    char **pano_names;
    int n_panos;
    int sat, pw, ph;
    GError **errors;
} Job;

static void render_one(int i, gpointer data)
{
    Job *j = data;
    if (i < j->n_tiles) {
        Tile *t = &j->tiles[i];
        g_autofree uint8_t *sat = g_malloc((gsize)j->sat * j->sat * 3);
        s4g_synth_render_satellite(j->w, t->x, t->y, VIGOR_FOOTPRINT_M, j->sat, sat);
        g_autofree char *p = g_strdup_printf("%s/satellite/%s/%s", j->o->out_dir, j->city, t->name);
        s4g_synth_save(p, sat, j->sat, j->sat, 3, &j->errors[i]);
        return;
    }
    int k = i - j->n_tiles;
    g_autofree uint8_t *pano = g_malloc((gsize)j->pw * j->ph * 3);
    s4g_synth_render_panorama(j->w, j->locs[k].x, j->locs[k].y, j->pw, j->ph, pano, NULL);
    g_autofree char *p = g_strdup_printf("%s/ground/%s/%s", j->o->out_dir, j->city, j->pano_names[k]);
    s4g_synth_save(p, pano, j->pw, j->ph, 3, &j->errors[i]);
}

static gboolean write_city(const S4gSynthOptions *o, int c, int n, S4gWorld **out_world, S4gSynthSummary *s,
                           GError **error)
{
    double lat = city_ll[c][0], lon = city_ll[c][1];
    if (o->origin_set) {
        lat = o->origin_lat;
        lon = o->origin_lon + 0.1 * c;
    }
    /* Panoramas must lie where four tiles cover them: between the first and the last tile
     * centre (which is at most a stride short of footprint/2 from the edge). */
    const double margin = VIGOR_FOOTPRINT_M + 2;
    g_autofree S4gPoint *locs = NULL;
    S4gWorld *w = s4g_synth_world_with_locations(o, 100 + (uint64_t)c, n, VIGOR_SPACING_M, margin, lat, lon,
                                                 &locs, error);
    if (!w)
        return FALSE;
    *out_world = w;
    const char *city = cities[c];
    g_autofree char *sd = g_build_filename("satellite", city, NULL);
    g_autofree char *gd = g_build_filename("ground", city, NULL);
    g_autofree char *pd = g_build_filename("splits", city, NULL);
    const char *subs[] = {sd, gd, pd, NULL};
    if (!s4g_synth_mkdirs(o->out_dir, subs, error))
        return FALSE;
    int sat = s4g_synth_px(o, 128);
    /* Tile grid: centres from half a footprint inside the edges, one stride apart. */
    double side = w->w * w->cell, first = VIGOR_FOOTPRINT_M / 2;
    int ng = (int)floor((side - VIGOR_FOOTPRINT_M) / VIGOR_STRIDE_M) + 1;
    Tile *tiles = g_new0(Tile, (gsize)ng * ng);
    GString *list = g_string_new(NULL);
    for (int gy = 0; gy < ng; gy++)
        for (int gx = 0; gx < ng; gx++) {
            Tile *t = &tiles[gy * ng + gx];
            t->gx = gx;
            t->gy = gy;
            t->x = first + gx * VIGOR_STRIDE_M;
            t->y = first + gy * VIGOR_STRIDE_M;
            double tla, tlo;
            s4g_world_to_latlon(w, t->x, t->y, &tla, &tlo);
            t->name = g_strdup_printf("satellite_%.8f_%.8f.png", tla, tlo);
            g_string_append_printf(list, "%s\n", t->name);
        }
    /* Panorama names, labels and the 50/50 same-area split. */
    S4gRng r = s4g_rng_derive(o->seed, 0x71c0e000ull + (uint64_t)c);
    char **names = g_new0(char *, n + 1);
    GString *all = g_string_new(NULL), *train = g_string_new(NULL), *test = g_string_new(NULL);
    g_autofree uint32_t *perm = g_new(uint32_t, n);
    for (int i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    g_autofree gboolean *is_train = g_new0(gboolean, n);
    gboolean ok = TRUE;
    for (int i = 0; i < n && ok; i++) {
        char id[23];
        s4g_synth_pano_id(&r, id);
        double pla, plo;
        s4g_world_to_latlon(w, locs[i].x, locs[i].y, &pla, &plo);
        names[i] = g_strdup_printf("%s,%.8f,%.8f,.jpg", id, pla, plo);
        int gx = (int)lround((locs[i].x - first) / VIGOR_STRIDE_M), gy = (int)lround((locs[i].y - first) / VIGOR_STRIDE_M);
        double dx = locs[i].x - (first + gx * VIGOR_STRIDE_M), dy = locs[i].y - (first + gy * VIGOR_STRIDE_M);
        int sx = dx >= 0 ? 1 : -1, sy = dy >= 0 ? 1 : -1;
        int cand[4][2] = {{gx, gy}, {gx + sx, gy}, {gx, gy + sy}, {gx + sx, gy + sy}};
        g_string_append(all, names[i]);
        for (int k = 0; k < 4; k++) {
            int tx = cand[k][0], ty = cand[k][1];
            if (tx < 0 || ty < 0 || tx >= ng || ty >= ng) {
                g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                            "vigor: %s: panorama %d has no tile %d,%d (region too small)", city, i, tx, ty);
                ok = FALSE;
                break;
            }
            Tile *t = &tiles[ty * ng + tx];
            double px_per_m = sat / VIGOR_FOOTPRINT_M;
            double row = (t->y - locs[i].y) * px_per_m, col = (locs[i].x - t->x) * px_per_m;
            g_string_append_printf(all, " %s %.4f %.4f", t->name, row, col);
        }
        g_string_append_c(all, '\n');
    }
    if (ok) {
        s4g_rng_shuffle_u32(&r, perm, (uint32_t)n);
        for (int k = 0; k < (n + 1) / 2; k++)
            is_train[perm[k]] = TRUE;
        /* Both split files take their lines from the full label text, in panorama order. */
        g_auto(GStrv) lines = g_strsplit(all->str, "\n", -1);
        for (int i = 0; i < n; i++)
            g_string_append_printf(is_train[i] ? train : test, "%s\n", lines[i]);
        const char *files[4] = {"satellite_list.txt", "pano_label_balanced.txt", "same_area_balanced_train.txt",
                                "same_area_balanced_test.txt"};
        GString *texts[4] = {list, all, train, test};
        for (int k = 0; k < 4 && ok; k++) {
            g_autofree char *p = g_build_filename(o->out_dir, "splits", city, files[k], NULL);
            ok = s4g_synth_write_text(p, texts[k]->str, texts[k]->len, error);
        }
    }
    if (ok) {
        Job job = {o, w, city, tiles, ng * ng, locs, names, n, sat, s4g_synth_px(o, 256), s4g_synth_px(o, 128),
                   g_new0(GError *, ng * ng + n)};
        g_autofree char *stage = g_strdup_printf("vigor %s", city);
        s4g_synth_parallel(o, stage, ng * ng + n, render_one, &job);
        ok = s4g_synth_take_errors(job.errors, ng * ng + n, error);
    }
    s->ground_images += n;
    s->satellite_images += ng * ng;
    s->region_side_m = MAX(s->region_side_m, side);
    for (int i = 0; i < ng * ng; i++)
        g_free(tiles[i].name);
    g_free(tiles);
    g_strfreev(names);
    g_string_free(list, TRUE);
    g_string_free(all, TRUE);
    g_string_free(train, TRUE);
    g_string_free(test, TRUE);
    return ok;
}

gboolean s4g_synth_write_vigor(const S4gSynthOptions *o, S4gSynthSummary *s, GError **error)
{
    if (o->locations < 4) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "--locations: vigor needs at least 4 (one panorama per city), got %d", o->locations);
        return FALSE;
    }
    S4gWorld *worlds[4] = {NULL};
    gboolean ok = TRUE;
    for (int c = 0; c < 4 && ok; c++) {
        int n = o->locations / 4 + (c < o->locations % 4 ? 1 : 0);
        ok = write_city(o, c, n, &worlds[c], s, error);
    }
    ok = ok && s4g_synth_write_tiles(o, worlds, 4, &s->tiles, error);
    for (int c = 0; c < 4; c++)
        s4g_world_free(worlds[c]);
    return ok;
}
