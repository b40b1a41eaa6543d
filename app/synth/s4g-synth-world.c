/* s4g-synth-world.c — generating the synthetic region: roads, land use per block, buildings,
 * trees, shadows and the top-down colour.  Every random choice comes from s4g-rng streams
 * derived from the seed, and the multi-threaded passes (shadows, ortho) write disjoint rows,
 * so the same seed gives the same world on any machine and thread count. */
#include "s4g-synth-world.h"
#include "s4g-rng.h"

#include <math.h>
#include <string.h>

#define EARTH_R 6371008.8

S4gWorld *s4g_world_new(int w, int h, double cell, double origin_lat, double origin_lon)
{
    S4gWorld *world = g_new0(S4gWorld, 1);
    gsize n = (gsize)w * (gsize)h;
    world->w = w;
    world->h = h;
    world->cell = cell;
    world->origin_lat = origin_lat;
    world->origin_lon = origin_lon;
    /* Mid-morning sun from the south-east at 40°: long enough shadows to show heights. */
    world->sun_az = 140.0 * G_PI / 180.0;
    world->sun_el = 40.0 * G_PI / 180.0;
    world->cover = g_malloc0(n);
    world->bld = g_malloc0(n * sizeof(uint16_t));
    world->height = g_malloc0(n * sizeof(float));
    world->tree_top = g_malloc0(n);
    world->tree_bot = g_malloc0(n);
    world->tree_tone = g_malloc0(n);
    world->field_tone = g_malloc0(n);
    world->light = g_malloc(n);
    memset(world->light, 255, n);
    world->ortho = g_malloc0(n * 3);
    world->buildings = g_array_new(FALSE, TRUE, sizeof(S4gBuilding));
    return world;
}

void s4g_world_free(S4gWorld *world)
{
    if (!world)
        return;
    g_free(world->cover);
    g_free(world->bld);
    g_free(world->height);
    g_free(world->tree_top);
    g_free(world->tree_bot);
    g_free(world->tree_tone);
    g_free(world->field_tone);
    g_free(world->light);
    g_free(world->ortho);
    g_free(world->block_max);
    g_array_unref(world->buildings);
    g_free(world);
}

/* ---- coordinates ---------------------------------------------------------------------- */

void s4g_world_to_latlon(const S4gWorld *world, double x, double y, double *lat, double *lon)
{
    double dx = x - world->w * world->cell / 2, dy = y - world->h * world->cell / 2;
    *lat = world->origin_lat + dy / EARTH_R * 180.0 / G_PI;
    *lon = world->origin_lon + dx / (EARTH_R * cos(world->origin_lat * G_PI / 180.0)) * 180.0 / G_PI;
}

void s4g_world_from_latlon(const S4gWorld *world, double lat, double lon, double *x, double *y)
{
    *y = (lat - world->origin_lat) * G_PI / 180.0 * EARTH_R + world->h * world->cell / 2;
    *x = (lon - world->origin_lon) * G_PI / 180.0 * EARTH_R * cos(world->origin_lat * G_PI / 180.0) +
         world->w * world->cell / 2;
}

/* ---- editing -------------------------------------------------------------------------- */

static void clip_rect(const S4gWorld *w, double x0, double y0, double x1, double y1, int *ix0, int *iy0,
                      int *ix1, int *iy1)
{
    *ix0 = MAX(0, (int)floor(x0 / w->cell + 0.5));
    *iy0 = MAX(0, (int)floor(y0 / w->cell + 0.5));
    *ix1 = MIN(w->w, (int)floor(x1 / w->cell + 0.5));
    *iy1 = MIN(w->h, (int)floor(y1 / w->cell + 0.5));
}

void s4g_world_fill_cover(S4gWorld *world, double x0, double y0, double x1, double y1, S4gCover c)
{
    int ix0, iy0, ix1, iy1;
    clip_rect(world, x0, y0, x1, y1, &ix0, &iy0, &ix1, &iy1);
    for (int iy = iy0; iy < iy1; iy++)
        for (int ix = ix0; ix < ix1; ix++) {
            int i = s4g_world_index(world, ix, iy);
            world->cover[i] = (uint8_t)((world->cover[i] & ~S4G_COVER_MASK) | c);
        }
}

gboolean s4g_world_add_building(S4gWorld *world, double x0, double y0, double x1, double y1,
                                double height, const uint8_t roof[3], const uint8_t wall[3], int gable)
{
    int ix0, iy0, ix1, iy1;
    clip_rect(world, x0, y0, x1, y1, &ix0, &iy0, &ix1, &iy1);
    if (ix1 <= ix0 || iy1 <= iy0 || world->buildings->len >= 65535 || height <= 0)
        return FALSE;
    S4gBuilding b = {.x0 = ix0, .y0 = iy0, .x1 = ix1, .y1 = iy1, .height = (float)height,
                     .gable = (uint8_t)gable};
    memcpy(b.roof, roof, 3);
    memcpy(b.wall, wall, 3);
    g_array_append_val(world->buildings, b);
    uint16_t id = (uint16_t)world->buildings->len;
    for (int iy = iy0; iy < iy1; iy++)
        for (int ix = ix0; ix < ix1; ix++) {
            int i = s4g_world_index(world, ix, iy);
            world->bld[i] = id;
            world->height[i] = (float)height;
        }
    return TRUE;
}

void s4g_world_add_tree(S4gWorld *world, double x, double y, double r, double hc, uint8_t tone)
{
    double c = world->cell;
    int ix0 = MAX(0, (int)floor((x - r) / c)), ix1 = MIN(world->w - 1, (int)floor((x + r) / c));
    int iy0 = MAX(0, (int)floor((y - r) / c)), iy1 = MIN(world->h - 1, (int)floor((y + r) / c));
    for (int iy = iy0; iy <= iy1; iy++)
        for (int ix = ix0; ix <= ix1; ix++) {
            double dx = (ix + 0.5) * c - x, dy = (iy + 0.5) * c - y, d2 = dx * dx + dy * dy;
            if (d2 > r * r)
                continue;
            /* A slightly flattened ellipsoid: crowns are wider than tall underneath. */
            double dz = sqrt(r * r - d2);
            double top = hc + 0.9 * dz, bot = hc - 0.7 * dz;
            int t = (int)lround(top * 4), b = (int)lround(MAX(0.0, bot) * 4);
            t = CLAMP(t, 1, 255);
            b = CLAMP(b, 0, t);
            int i = s4g_world_index(world, ix, iy);
            if (world->tree_top[i] == 0) {
                world->tree_top[i] = (uint8_t)t;
                world->tree_bot[i] = (uint8_t)b;
                world->tree_tone[i] = tone;
            } else {
                if (t > world->tree_top[i]) {
                    world->tree_top[i] = (uint8_t)t;
                    world->tree_tone[i] = tone;
                }
                world->tree_bot[i] = (uint8_t)MIN(world->tree_bot[i], b);
            }
        }
    int tx = (int)floor(x / c), ty = (int)floor(y / c);
    if (tx >= 0 && ty >= 0 && tx < world->w && ty < world->h)
        world->cover[s4g_world_index(world, tx, ty)] |= S4G_COVER_TRUNK;
}

/* ---- colour --------------------------------------------------------------------------- */

static const float cover_rgb[S4G_COVER_N][3] = {
    [S4G_COVER_GRASS] = {0.37f, 0.50f, 0.25f},  [S4G_COVER_FIELD] = {0.60f, 0.55f, 0.30f},
    [S4G_COVER_FOREST] = {0.24f, 0.29f, 0.17f}, [S4G_COVER_WATER] = {0.19f, 0.31f, 0.40f},
    [S4G_COVER_PAVED] = {0.63f, 0.62f, 0.59f},  [S4G_COVER_ROAD] = {0.31f, 0.31f, 0.33f},
    [S4G_COVER_MARKING] = {0.80f, 0.80f, 0.74f},
};
/* Field varieties: ripe grain, young crop, bare soil, pale grass. */
static const float field_rgb[4][3] = {
    {0.72f, 0.64f, 0.36f}, {0.42f, 0.56f, 0.24f}, {0.48f, 0.38f, 0.27f}, {0.58f, 0.62f, 0.40f}};

static inline double hash01(uint64_t seed, int ix, int iy)
{
    uint64_t h = s4g_rng_hash64(seed ^ ((uint64_t)(uint32_t)ix << 32 | (uint32_t)iy));
    return (double)(h >> 11) * 0x1.0p-53;
}

/* Value noise on a lattice of `period` cells, bilinearly interpolated, in [0, 1). */
static double value_noise(uint64_t seed, int ix, int iy, int period)
{
    int gx = ix / period, gy = iy / period;
    double fx = (double)(ix % period) / period, fy = (double)(iy % period) / period;
    fx = fx * fx * (3 - 2 * fx);
    fy = fy * fy * (3 - 2 * fy);
    double a = hash01(seed, gx, gy), b = hash01(seed, gx + 1, gy);
    double c = hash01(seed, gx, gy + 1), d = hash01(seed, gx + 1, gy + 1);
    return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy;
}

static inline float light_factor(const S4gWorld *w, int i)
{
    return 0.5f + 0.5f * (float)w->light[i] / 255.0f;
}

void s4g_world_ground_rgb(const S4gWorld *world, int ix, int iy, float rgb[3])
{
    int i = s4g_world_index(world, ix, iy);
    int cov = world->cover[i] & S4G_COVER_MASK;
    const float *base = cover_rgb[cov];
    float tone = 1.0f;
    if (cov == S4G_COVER_FIELD) {
        base = field_rgb[world->field_tone[i] >> 6];
        tone = 0.85f + 0.3f * (float)(world->field_tone[i] & 63) / 63.0f;
    }
    double lf = value_noise(world->seed ^ 0x9a55ull, ix, iy, 16);
    double hf = hash01(world->seed ^ 0x71c3ull, ix, iy);
    float amp = (cov == S4G_COVER_ROAD || cov == S4G_COVER_PAVED || cov == S4G_COVER_MARKING) ? 0.10f : 0.25f;
    if (cov == S4G_COVER_WATER)
        amp = 0.06f;
    float n = tone * (1.0f + amp * (float)(lf - 0.5) + 0.08f * (float)(hf - 0.5));
    float l = light_factor(world, i);
    /* Ground under a canopy is in the tree's own shade. */
    if (world->tree_top[i])
        l *= 0.6f;
    for (int k = 0; k < 3; k++)
        rgb[k] = base[k] * n * l;
}

void s4g_world_canopy_rgb(const S4gWorld *world, int ix, int iy, float rgb[3])
{
    static const float dark[3] = {0.11f, 0.22f, 0.09f}, lite[3] = {0.36f, 0.48f, 0.17f};
    int i = s4g_world_index(world, ix, iy);
    float t = world->tree_tone[i] / 255.0f;
    /* Crown shading: slope of the canopy surface towards the sun brightens it. */
    int sx = world->sun_az < G_PI ? 1 : -1, sy = cos(world->sun_az) > 0 ? 1 : -1;
    int jx = CLAMP(ix + sx, 0, world->w - 1), jy = CLAMP(iy + sy, 0, world->h - 1);
    float slope = ((float)world->tree_top[s4g_world_index(world, jx, jy)] -
                   (float)world->tree_top[i]) * 0.25f / (float)world->cell;
    float sh = CLAMP(0.85f - 0.35f * slope, 0.55f, 1.2f);
    double hf = hash01(world->seed ^ 0x3e1full, ix, iy);
    float n = (0.88f + 0.24f * (float)hf) * sh * light_factor(world, i);
    for (int k = 0; k < 3; k++)
        rgb[k] = (dark[k] + (lite[k] - dark[k]) * t) * n;
}

static void roof_rgb(const S4gWorld *world, int ix, int iy, float rgb[3])
{
    int i = s4g_world_index(world, ix, iy);
    const S4gBuilding *b = &g_array_index(world->buildings, S4gBuilding, world->bld[i] - 1);
    float f = 1.0f;
    double sx = sin(world->sun_az), sy = cos(world->sun_az);
    if (b->gable == 1) { /* ridge along x: the halves face south and north */
        gboolean north = 2 * iy + 1 >= b->y0 + b->y1;
        f = (float)(0.8 + 0.3 * (north ? -sy : sy));
    } else if (b->gable == 2) {
        gboolean east = 2 * ix + 1 >= b->x0 + b->x1;
        f = (float)(0.8 + 0.3 * (east ? sx : -sx));
    } else if (ix == b->x0 || iy == b->y0 || ix == b->x1 - 1 || iy == b->y1 - 1) {
        f = 0.72f; /* parapet rim of a flat roof */
    }
    double hf = hash01(world->seed ^ 0x4f0full, ix, iy);
    f *= (0.95f + 0.1f * (float)hf) * light_factor(world, i);
    for (int k = 0; k < 3; k++)
        rgb[k] = b->roof[k] / 255.0f * f;
}

static inline float top_height(const S4gWorld *w, int i)
{
    return MAX(w->height[i], w->tree_top[i] * 0.25f);
}

typedef struct {
    S4gWorld *world;
    int rows_per_job;
} FinishJob;

/* Cast shadows by one sweep away from the sun: H(p), the height of the shadow volume above
 * p, is the larger of the top and the shadow height at the point one step towards the sun,
 * less the sun's drop over that step.  Steps go along the axis closest to the sun's
 * direction, interpolating linearly across the other axis — O(cells) instead of a ray per
 * cell. */
static void cast_shadows(S4gWorld *w)
{
    double sx = sin(w->sun_az), sy = cos(w->sun_az), rise = tan(w->sun_el);
    gboolean rows = fabs(sy) >= fabs(sx); /* major axis y: sweep row by row */
    int nmaj = rows ? w->h : w->w, nmin = rows ? w->w : w->h;
    double dmaj = rows ? sy : sx, dmin = rows ? sx : sy;
    int step = dmaj > 0 ? 1 : -1;                /* towards the sun along the major axis */
    double off = dmin / fabs(dmaj);              /* minor-axis shift per major step */
    double drop = w->cell / fabs(dmaj) * rise;   /* metres the sun line falls per step */
    g_autofree float *prev = g_new0(float, nmin), *cur = g_new0(float, nmin);
    int start = step > 0 ? nmaj - 1 : 0;
    for (int m = start; m >= 0 && m < nmaj; m -= step) {
        gboolean first = m == start;
        for (int q = 0; q < nmin; q++) {
            float h = 0;
            if (!first) {
                double u = q + off;
                int q0 = (int)floor(u);
                double f = u - q0;
                float a = q0 >= 0 && q0 < nmin ? prev[q0] : 0;
                float b = q0 + 1 >= 0 && q0 + 1 < nmin ? prev[q0 + 1] : 0;
                h = (float)(a * (1 - f) + b * f - drop);
            }
            int ix = rows ? q : m, iy = rows ? m : q;
            int i = s4g_world_index(w, ix, iy);
            float top = top_height(w, i);
            w->light[i] = (uint8_t)(h > top + 0.05f ? 0 : 255);
            cur[q] = MAX(h, top);
        }
        float *t = prev;
        prev = cur;
        cur = t;
    }
}

static void ortho_rows(int job, gpointer data)
{
    FinishJob *fj = data;
    S4gWorld *w = fj->world;
    int y0 = job * fj->rows_per_job, y1 = MIN(w->h, y0 + fj->rows_per_job);
    for (int iy = y0; iy < y1; iy++)
        for (int ix = 0; ix < w->w; ix++) {
            int i = s4g_world_index(w, ix, iy);
            float rgb[3];
            if (w->tree_top[i] && w->tree_top[i] * 0.25f > w->height[i])
                s4g_world_canopy_rgb(w, ix, iy, rgb);
            else if (w->bld[i])
                roof_rgb(w, ix, iy, rgb);
            else
                s4g_world_ground_rgb(w, ix, iy, rgb);
            for (int k = 0; k < 3; k++)
                w->ortho[3 * (gsize)i + k] = (uint8_t)CLAMP(lroundf(rgb[k] * 255.0f), 0, 255);
        }
}

void s4g_world_finish(S4gWorld *world, int threads)
{
    gsize n = (gsize)world->w * world->h;
    float mh = 0;
    for (gsize i = 0; i < n; i++)
        mh = MAX(mh, top_height(world, (int)i));
    world->max_height = mh;
    world->bw = (world->w + S4G_WORLD_BLOCK - 1) / S4G_WORLD_BLOCK;
    world->bh = (world->h + S4G_WORLD_BLOCK - 1) / S4G_WORLD_BLOCK;
    g_free(world->block_max);
    world->block_max = g_new0(float, (gsize)world->bw * world->bh);
    for (int iy = 0; iy < world->h; iy++)
        for (int ix = 0; ix < world->w; ix++) {
            float *b = &world->block_max[(iy / S4G_WORLD_BLOCK) * world->bw + ix / S4G_WORLD_BLOCK];
            *b = MAX(*b, top_height(world, s4g_world_index(world, ix, iy)));
        }
    FinishJob fj = {world, 32};
    int jobs = (world->h + fj.rows_per_job - 1) / fj.rows_per_job;
    cast_shadows(world);
    s4g_parallel_for(jobs, threads, ortho_rows, &fj, NULL, NULL);
}

void s4g_world_sample_ortho(const S4gWorld *w, double x, double y, float rgb[3])
{
    double fx = x / w->cell - 0.5, fy = y / w->cell - 0.5;
    int x0 = (int)floor(fx), y0 = (int)floor(fy);
    double ax = fx - x0, ay = fy - y0;
    if (x0 < 0 || y0 < 0 || x0 + 1 >= w->w || y0 + 1 >= w->h) {
        rgb[0] = rgb[1] = rgb[2] = 0.5f;
        return;
    }
    const uint8_t *p00 = w->ortho + 3 * (gsize)s4g_world_index(w, x0, y0);
    const uint8_t *p10 = p00 + 3, *p01 = p00 + 3 * (gsize)w->w, *p11 = p01 + 3;
    for (int k = 0; k < 3; k++)
        rgb[k] = (float)(((p00[k] * (1 - ax) + p10[k] * ax) * (1 - ay) +
                          (p01[k] * (1 - ax) + p11[k] * ax) * ay) / 255.0);
}

/* ---- generation ----------------------------------------------------------------------- */

static const uint8_t house_roofs[][3] = {{150, 72, 52},  {120, 60, 48}, {95, 88, 84},
                                         {70, 66, 66},   {160, 98, 70}, {110, 100, 80},
                                         {86, 96, 110},  {140, 130, 118}};
static const uint8_t flat_roofs[][3] = {{170, 170, 168}, {125, 125, 130}, {90, 92, 95},
                                        {200, 198, 190}, {150, 140, 125}, {105, 115, 110}};
static const uint8_t walls[][3] = {{225, 220, 205}, {200, 190, 170}, {170, 90, 70},
                                   {150, 150, 150}, {215, 200, 150}, {120, 110, 100},
                                   {185, 200, 210}, {240, 235, 225}};

static void jitter_rgb(S4gRng *r, const uint8_t in[3], uint8_t out[3])
{
    double f = s4g_rng_range(r, 0.88, 1.12);
    for (int k = 0; k < 3; k++)
        out[k] = (uint8_t)CLAMP(lround(in[k] * f + s4g_rng_range(r, -8, 8)), 0, 255);
}

/* True when the metre rectangle is inside the world and holds no building. */
static gboolean rect_free(const S4gWorld *w, double x0, double y0, double x1, double y1)
{
    int ix0, iy0, ix1, iy1;
    if (x0 < 0 || y0 < 0 || x1 > w->w * w->cell || y1 > w->h * w->cell)
        return FALSE;
    clip_rect(w, x0, y0, x1, y1, &ix0, &iy0, &ix1, &iy1);
    for (int iy = iy0; iy < iy1; iy++)
        for (int ix = ix0; ix < ix1; ix++) {
            int i = s4g_world_index(w, ix, iy);
            int cov = w->cover[i] & S4G_COVER_MASK;
            if (w->bld[i] || cov == S4G_COVER_ROAD || cov == S4G_COVER_MARKING)
                return FALSE;
        }
    return TRUE;
}

typedef struct {
    double x0, y0, x1, y1;
} Rect;

static void place_buildings(S4gWorld *w, S4gRng *r, Rect b, int attempts, double smin, double smax,
                            double hmin, double hmax, double gap, gboolean houses)
{
    for (int a = 0; a < attempts; a++) {
        double bw = s4g_rng_range(r, smin, smax), bd = s4g_rng_range(r, smin, smax);
        if (b.x1 - b.x0 < bw + 2 || b.y1 - b.y0 < bd + 2)
            continue;
        double x = s4g_rng_range(r, b.x0 + 1, b.x1 - 1 - bw), y = s4g_rng_range(r, b.y0 + 1, b.y1 - 1 - bd);
        if (!rect_free(w, x - gap, y - gap, x + bw + gap, y + bd + gap))
            continue;
        /* A few towers among the commercial blocks; houses have 1–3 floors. */
        double h = s4g_rng_range(r, hmin, hmax);
        if (!houses && s4g_rng_uniform(r) < 0.15)
            h *= 1.8;
        uint8_t roof[3], wall[3];
        int gable = 0;
        if (houses) {
            jitter_rgb(r, house_roofs[s4g_rng_below(r, G_N_ELEMENTS(house_roofs))], roof);
            if (s4g_rng_uniform(r) < 0.65)
                gable = bw > bd ? 1 : 2;
        } else {
            jitter_rgb(r, flat_roofs[s4g_rng_below(r, G_N_ELEMENTS(flat_roofs))], roof);
        }
        jitter_rgb(r, walls[s4g_rng_below(r, G_N_ELEMENTS(walls))], wall);
        s4g_world_add_building(w, x, y, x + bw, y + bd, h, roof, wall, gable);
    }
}

/* Trees at random points of a rectangle, kept off buildings and roads. */
static void place_trees(S4gWorld *w, S4gRng *r, Rect b, int attempts, double rmin, double rmax,
                        double trunk_min, double trunk_max, int tone_lo, int tone_hi)
{
    for (int a = 0; a < attempts; a++) {
        double x = s4g_rng_range(r, b.x0, b.x1), y = s4g_rng_range(r, b.y0, b.y1);
        double rad = s4g_rng_range(r, rmin, rmax);
        double hc = rad * 0.7 + s4g_rng_range(r, trunk_min, trunk_max);
        uint8_t tone = (uint8_t)(tone_lo + (int)s4g_rng_below(r, (uint32_t)(tone_hi - tone_lo + 1)));
        if (!rect_free(w, x - rad, y - rad, x + rad, y + rad))
            continue;
        s4g_world_add_tree(w, x, y, rad, hc, tone);
    }
}

typedef struct {
    double pos, width;
    gboolean main;
} Road;

static GArray *make_roads(S4gRng *r, double side)
{
    GArray *roads = g_array_new(FALSE, TRUE, sizeof(Road));
    double pos = s4g_rng_range(r, 15, 45);
    int k = 0;
    while (pos < side - 10) {
        Road rd = {.pos = pos, .main = (k % 4) == 2};
        rd.width = rd.main ? s4g_rng_range(r, 11, 14) : s4g_rng_range(r, 6, 8.5);
        g_array_append_val(roads, rd);
        pos += s4g_rng_range(r, 60, 125);
        k++;
    }
    return roads;
}

static void fill_rect(S4gWorld *w, Rect b, S4gCover c)
{
    s4g_world_fill_cover(w, b.x0, b.y0, b.x1, b.y1, c);
}

static void block_content(S4gWorld *w, S4gRng *r, Rect b)
{
    double area = (b.x1 - b.x0) * (b.y1 - b.y0);
    if (b.x1 - b.x0 < 8 || b.y1 - b.y0 < 8)
        return;
    double u = s4g_rng_uniform(r);
    if (u < 0.42) { /* residential: houses in yards, garden trees */
        place_buildings(w, r, b, (int)(area / 70), 7, 15, 3.5, 11, 2.5, TRUE);
        place_trees(w, r, b, (int)(area / 160), 1.5, 3.5, 1.8, 4.5, 60, 230);
    } else if (u < 0.58) { /* commercial: paved, large flat-roofed buildings, towers */
        fill_rect(w, b, S4G_COVER_PAVED);
        place_buildings(w, r, b, (int)(area / 300) + 2, 13, 34, 9, 24, 4, FALSE);
        place_trees(w, r, b, (int)(area / 900), 1.5, 2.5, 2.5, 4, 80, 200);
    } else if (u < 0.70) { /* park: grass, a diagonal path, scattered trees */
        double pw = 1.5;
        int steps = (int)((b.x1 - b.x0 + b.y1 - b.y0) / 0.5);
        gboolean flip = s4g_rng_uniform(r) < 0.5;
        for (int s = 0; s <= steps; s++) {
            double t = (double)s / steps, x = b.x0 + t * (b.x1 - b.x0);
            double y = flip ? b.y1 - t * (b.y1 - b.y0) : b.y0 + t * (b.y1 - b.y0);
            s4g_world_fill_cover(w, x - pw, y - pw, x + pw, y + pw, S4G_COVER_PAVED);
        }
        place_trees(w, r, b, (int)(area / 220), 2, 4.5, 2.5, 5.5, 40, 255);
    } else if (u < 0.81) { /* fields: one crop per block, furrows in one direction */
        fill_rect(w, b, S4G_COVER_FIELD);
        int variety = (int)s4g_rng_below(r, 4);
        gboolean along_x = s4g_rng_uniform(r) < 0.5;
        double period = s4g_rng_range(r, 3, 7);
        int ix0, iy0, ix1, iy1;
        clip_rect(w, b.x0, b.y0, b.x1, b.y1, &ix0, &iy0, &ix1, &iy1);
        for (int iy = iy0; iy < iy1; iy++)
            for (int ix = ix0; ix < ix1; ix++) {
                double c = (along_x ? iy : ix) * w->cell;
                int stripe = (int)lround(31.5 + 31.5 * sin(2 * G_PI * c / period));
                w->field_tone[s4g_world_index(w, ix, iy)] = (uint8_t)(variety << 6 | stripe);
            }
        if (s4g_rng_uniform(r) < 0.3) /* a barn */
            place_buildings(w, r, b, 3, 10, 20, 4, 7, 3, TRUE);
    } else if (u < 0.92) { /* forest */
        fill_rect(w, b, S4G_COVER_FOREST);
        place_trees(w, r, b, (int)(area / 14), 2, 4.5, 3, 9, 0, 140);
    } else { /* pond with trees around */
        double cx = (b.x0 + b.x1) / 2, cy = (b.y0 + b.y1) / 2;
        double ax = (b.x1 - b.x0) / 2 - 5, ay = (b.y1 - b.y0) / 2 - 5;
        if (ax > 3 && ay > 3) {
            int ix0, iy0, ix1, iy1;
            clip_rect(w, b.x0, b.y0, b.x1, b.y1, &ix0, &iy0, &ix1, &iy1);
            for (int iy = iy0; iy < iy1; iy++)
                for (int ix = ix0; ix < ix1; ix++) {
                    double dx = ((ix + 0.5) * w->cell - cx) / ax, dy = ((iy + 0.5) * w->cell - cy) / ay;
                    if (dx * dx + dy * dy <= 1.0)
                        w->cover[s4g_world_index(w, ix, iy)] = S4G_COVER_WATER;
                }
        }
        int n = (int)((b.x1 - b.x0 + b.y1 - b.y0) / 10);
        for (int k = 0; k < n; k++) {
            double t = s4g_rng_uniform(r) * 2 * G_PI;
            double x = cx + (ax + 3) * cos(t), y = cy + (ay + 3) * sin(t);
            double rad = s4g_rng_range(r, 2, 3.5);
            if (rect_free(w, x - rad, y - rad, x + rad, y + rad))
                s4g_world_add_tree(w, x, y, rad, rad * 0.7 + s4g_rng_range(r, 2, 4),
                                   (uint8_t)s4g_rng_below(r, 256));
        }
    }
}

/* Centre-line dashes on the kept segments of the roads `along` (vertical ones, x = pos, when
 * vertical; else horizontal).  The segments run between the boundaries b of the crossing
 * roads `across`, stopping 3 m short of each crossing road's edge. */
static void paint_dashes(S4gWorld *w, GArray *along, GArray *across, const double *b, const gboolean *keep,
                         gboolean vertical)
{
    int na = (int)along->len, nc = (int)across->len;
    for (int i = 0; i < na; i++) {
        double pos = g_array_index(along, Road, i).pos;
        for (int j = 0; j <= nc; j++) {
            if (!keep[i * (nc + 1) + j])
                continue;
            double lo = b[j] + (j > 0 ? g_array_index(across, Road, j - 1).width / 2 + 3 : 0);
            double hi = b[j + 1] - (j < nc ? g_array_index(across, Road, j).width / 2 + 3 : 0);
            for (double t = lo; t + 3 <= hi; t += 6) {
                if (vertical)
                    s4g_world_fill_cover(w, pos - 0.25, t, pos + 0.25, t + 3, S4G_COVER_MARKING);
                else
                    s4g_world_fill_cover(w, t, pos - 0.25, t + 3, pos + 0.25, S4G_COVER_MARKING);
            }
        }
    }
}

S4gWorld *s4g_world_generate(uint64_t seed, double side_m, double origin_lat, double origin_lon)
{
    const double cell = 0.5;
    int n = (int)ceil(side_m / cell);
    S4gWorld *w = s4g_world_new(n, n, cell, origin_lat, origin_lon);
    w->seed = seed;
    double side = n * cell;
    S4gRng r = s4g_rng_derive(seed, 0x5eed0001ull);
    g_autoptr(GArray) vx = make_roads(&r, side);
    g_autoptr(GArray) vy = make_roads(&r, side);
    int nx = (int)vx->len, ny = (int)vy->len;
    /* Boundaries of the grid intervals: the world edges and the roads. */
    g_autofree double *bx = g_new(double, nx + 2);
    g_autofree double *by = g_new(double, ny + 2);
    bx[0] = 0;
    by[0] = 0;
    for (int i = 0; i < nx; i++)
        bx[i + 1] = g_array_index(vx, Road, i).pos;
    for (int j = 0; j < ny; j++)
        by[j + 1] = g_array_index(vy, Road, j).pos;
    bx[nx + 1] = side;
    by[ny + 1] = side;
    /* Some minor road segments are missing: irregular blocks and dead ends. */
    g_autofree gboolean *keep_v = g_new(gboolean, nx * (ny + 1));
    g_autofree gboolean *keep_h = g_new(gboolean, ny * (nx + 1));
    for (int i = 0; i < nx; i++)
        for (int j = 0; j <= ny; j++)
            keep_v[i * (ny + 1) + j] = g_array_index(vx, Road, i).main || s4g_rng_uniform(&r) > 0.15;
    for (int j = 0; j < ny; j++)
        for (int i = 0; i <= nx; i++)
            keep_h[j * (nx + 1) + i] = g_array_index(vy, Road, j).main || s4g_rng_uniform(&r) > 0.15;
    /* Sidewalks first, then the carriageways over them. */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < nx; i++) {
            Road *rd = &g_array_index(vx, Road, i);
            double hw = rd->width / 2 + (pass == 0 ? 2.0 : 0.0);
            for (int j = 0; j <= ny; j++)
                if (keep_v[i * (ny + 1) + j])
                    s4g_world_fill_cover(w, rd->pos - hw, by[j], rd->pos + hw, by[j + 1],
                                         pass == 0 ? S4G_COVER_PAVED : S4G_COVER_ROAD);
        }
        for (int j = 0; j < ny; j++) {
            Road *rd = &g_array_index(vy, Road, j);
            double hw = rd->width / 2 + (pass == 0 ? 2.0 : 0.0);
            for (int i = 0; i <= nx; i++)
                if (keep_h[j * (nx + 1) + i])
                    s4g_world_fill_cover(w, bx[i], rd->pos - hw, bx[i + 1], rd->pos + hw,
                                         pass == 0 ? S4G_COVER_PAVED : S4G_COVER_ROAD);
        }
    }
    /* Centre-line dashes (3 m paint, 3 m gap) between the intersections: they show the road
     * axis from above and from the street alike. */
    paint_dashes(w, vx, vy, by, keep_v, TRUE);
    paint_dashes(w, vy, vx, bx, keep_h, FALSE);
    /* Blocks between the roads, each with its own RNG stream. */
    for (int j = 0; j <= ny; j++)
        for (int i = 0; i <= nx; i++) {
            double lx = i > 0 ? g_array_index(vx, Road, i - 1).width / 2 + 2.5 : 0;
            double hx = i < nx ? g_array_index(vx, Road, i).width / 2 + 2.5 : 0;
            double ly = j > 0 ? g_array_index(vy, Road, j - 1).width / 2 + 2.5 : 0;
            double hy = j < ny ? g_array_index(vy, Road, j).width / 2 + 2.5 : 0;
            Rect b = {bx[i] + lx, by[j] + ly, bx[i + 1] - hx, by[j + 1] - hy};
            S4gRng br = s4g_rng_derive(seed, 0xb10c0000ull + (uint64_t)j * 4096 + (uint64_t)i);
            block_content(w, &br, b);
        }
    /* Street trees along some roads, on the sidewalks. */
    for (int axis = 0; axis < 2; axis++) {
        GArray *roads = axis == 0 ? vx : vy;
        for (guint k = 0; k < roads->len; k++) {
            Road *rd = &g_array_index(roads, Road, k);
            S4gRng tr = s4g_rng_derive(seed, 0x7ee00000ull + (uint64_t)axis * 65536 + k);
            if (s4g_rng_uniform(&tr) > 0.45)
                continue;
            double spacing = s4g_rng_range(&tr, 8, 13), rad = s4g_rng_range(&tr, 1.8, 2.8);
            uint8_t tone = (uint8_t)s4g_rng_below(&tr, 256);
            for (double t = s4g_rng_range(&tr, 0, spacing); t < side; t += spacing)
                for (int s = -1; s <= 1; s += 2) {
                    double off = rd->pos + s * (rd->width / 2 + 1.0);
                    double x = axis == 0 ? off : t, y = axis == 0 ? t : off;
                    if (x < 0 || y < 0 || x >= side || y >= side)
                        continue;
                    int ci = s4g_world_index(w, (int)(x / cell), (int)(y / cell));
                    if ((w->cover[ci] & S4G_COVER_MASK) != S4G_COVER_PAVED || w->bld[ci])
                        continue;
                    s4g_world_add_tree(w, x, y, rad, rad * 0.7 + 2.8, tone);
                }
        }
    }
    s4g_world_finish(w, 0);
    return w;
}

/* ---- locations ------------------------------------------------------------------------ */

int s4g_world_pick_road_locations(const S4gWorld *w, uint64_t seed, int n, double min_dist,
                                  double margin, S4gPoint *out)
{
    S4gRng r = s4g_rng_derive(seed, 0x10ca7e00ull);
    double side_x = w->w * w->cell, side_y = w->h * w->cell;
    if (side_x <= 2 * margin || side_y <= 2 * margin || n <= 0)
        return 0;
    /* Spatial hash with buckets of min_dist so a check looks at 3×3 buckets. */
    int gw = (int)(side_x / min_dist) + 1, gh = (int)(side_y / min_dist) + 1;
    g_autofree int *head = g_new(int, (gsize)gw * gh);
    g_autofree int *next = g_new(int, n);
    for (int i = 0; i < gw * gh; i++)
        head[i] = -1;
    int placed = 0;
    long attempts = (long)n * 400;
    for (long a = 0; a < attempts && placed < n; a++) {
        double x = s4g_rng_range(&r, margin, side_x - margin), y = s4g_rng_range(&r, margin, side_y - margin);
        int ix = (int)(x / w->cell), iy = (int)(y / w->cell);
        int ci = s4g_world_index(w, ix, iy);
        int cov = w->cover[ci] & S4G_COVER_MASK;
        if ((cov != S4G_COVER_ROAD && cov != S4G_COVER_PAVED) || w->bld[ci] || w->tree_top[ci] ||
            (w->cover[ci] & S4G_COVER_TRUNK))
            continue;
        int gx = (int)(x / min_dist), gy = (int)(y / min_dist);
        gboolean ok = TRUE;
        for (int yy = MAX(0, gy - 1); ok && yy <= MIN(gh - 1, gy + 1); yy++)
            for (int xx = MAX(0, gx - 1); ok && xx <= MIN(gw - 1, gx + 1); xx++)
                for (int k = head[yy * gw + xx]; k >= 0; k = next[k])
                    if (hypot(out[k].x - x, out[k].y - y) < min_dist) {
                        ok = FALSE;
                        break;
                    }
        if (!ok)
            continue;
        out[placed] = (S4gPoint){x, y};
        next[placed] = head[gy * gw + gx];
        head[gy * gw + gx] = placed;
        placed++;
    }
    return placed;
}
