/* s4g-synth-world.h — the synthetic region behind `s4g synth`: a 2-D grid of square cells
 * (0.5 m by default) holding ground cover, buildings (extruded footprints with roof and wall
 * colours), tree canopies, a sun-shadow map and the top-down colour ("ortho") that the
 * satellite views sample.  Coordinates are metres: x east from the west edge, y north from
 * the south edge; cell (ix, iy) covers [ix*cell, (ix+1)*cell) × [iy*cell, (iy+1)*cell).
 * The region's centre sits at (origin_lat, origin_lon); a local equirectangular projection
 * converts metres to degrees. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "s4g-parallel.h"

G_BEGIN_DECLS

typedef enum {
    S4G_COVER_GRASS = 0,
    S4G_COVER_FIELD,
    S4G_COVER_FOREST, /* forest floor */
    S4G_COVER_WATER,
    S4G_COVER_PAVED,  /* sidewalks, plazas, parking */
    S4G_COVER_ROAD,
    S4G_COVER_MARKING, /* painted centre-line dashes on roads */
    S4G_COVER_N,
} S4gCover;

#define S4G_WORLD_BLOCK 16

/* Cover byte: low 4 bits the S4gCover, bit 7 marks a tree trunk. */
#define S4G_COVER_MASK 0x0f
#define S4G_COVER_TRUNK 0x80

typedef struct {
    int x0, y0, x1, y1; /* footprint in cells, half-open */
    float height;       /* metres (flat roof at this height) */
    uint8_t roof[3], wall[3];
    uint8_t gable;      /* 1: ridge along x, 2: ridge along y, 0: flat roof with parapet */
} S4gBuilding;

typedef struct {
    double x, y;        /* metres */
} S4gPoint;

typedef struct {
    int w, h;            /* cells */
    double cell;         /* metres per cell */
    double origin_lat, origin_lon;
    double sun_az, sun_el; /* radians; azimuth clockwise from north */
    uint8_t *cover;      /* w*h S4gCover | S4G_COVER_TRUNK */
    uint16_t *bld;       /* building index + 1, 0 = none */
    float *height;       /* building height in metres, 0 = none */
    uint8_t *tree_top, *tree_bot; /* canopy extent in 0.25 m units; top 0 = no canopy */
    uint8_t *tree_tone;  /* canopy shade 0..255 */
    uint8_t *field_tone; /* field crop/stripe tone 0..255 (also noise for other covers) */
    uint8_t *light;      /* 255 = sunlit, lower = in shadow (top surface) */
    uint8_t *ortho;      /* w*h*3 top-down colour, filled by s4g_world_finish */
    float *block_max;    /* tallest top per S4G_WORLD_BLOCK² cells (ray skipping) */
    int bw, bh;          /* block grid size */
    GArray *buildings;   /* S4gBuilding */
    float max_height;    /* tallest building or tree, metres */
    uint64_t seed;
} S4gWorld;

/* An empty world (all grass) of w×h cells. */
S4gWorld *s4g_world_new(int w, int h, double cell, double origin_lat, double origin_lon);
void s4g_world_free(S4gWorld *world);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(S4gWorld, s4g_world_free)

/* A procedural region of side_m × side_m metres from `seed`: roads, blocks of houses,
 * towers, parks, fields, forest and ponds, street trees.  Calls s4g_world_finish. */
S4gWorld *s4g_world_generate(uint64_t seed, double side_m, double origin_lat, double origin_lon);

/* Editing (used by generation and by tests that build a scene by hand).  Metres. */
void s4g_world_fill_cover(S4gWorld *world, double x0, double y0, double x1, double y1, S4gCover c);
/* Returns FALSE when the footprint leaves the world or there are already 65535 buildings. */
gboolean s4g_world_add_building(S4gWorld *world, double x0, double y0, double x1, double y1,
                                double height, const uint8_t roof[3], const uint8_t wall[3],
                                int gable);
/* A tree: canopy ellipsoid of radius r centred at height hc (trunk below). */
void s4g_world_add_tree(S4gWorld *world, double x, double y, double r, double hc, uint8_t tone);
/* Computes the shadow map and the ortho colour; call after editing. */
void s4g_world_finish(S4gWorld *world, int threads);

/* Base colour of the ground cover at a cell (noise and sun shading included). */
void s4g_world_ground_rgb(const S4gWorld *world, int ix, int iy, float rgb[3]);
/* Canopy colour of a cell (tone, noise and shading included). */
void s4g_world_canopy_rgb(const S4gWorld *world, int ix, int iy, float rgb[3]);
/* Bilinear sample of the ortho at metres (x, y); outside the world gives a neutral grey. */
void s4g_world_sample_ortho(const S4gWorld *world, double x, double y, float rgb[3]);

/* Local metres ↔ WGS 84 through the equirectangular projection around the centre. */
void s4g_world_to_latlon(const S4gWorld *world, double x, double y, double *lat, double *lon);
void s4g_world_from_latlon(const S4gWorld *world, double lat, double lon, double *x, double *y);

/* Picks up to n locations on roads (centre lanes and sidewalks), at least min_dist metres
 * apart and `margin` metres inside the edges, with the given RNG stream.  Returns how many
 * were placed into out[]. */
int s4g_world_pick_road_locations(const S4gWorld *world, uint64_t seed, int n, double min_dist,
                                  double margin, S4gPoint *out);

static inline int s4g_world_index(const S4gWorld *w, int ix, int iy)
{
    return iy * w->w + ix;
}

G_END_DECLS
