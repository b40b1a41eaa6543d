/* s4g-synth-render.h — the three cameras of the synthetic world.  All write packed 8-bit RGB
 * (row-major, row 0 at the top) into a caller buffer and are pure functions of the world and
 * their arguments, so they may run on many threads at once. */
#pragma once

#include "s4g-synth-world.h"

G_BEGIN_DECLS

/* Pixel classes of the panorama annotation (the CVUSA annotation image). */
typedef enum {
    S4G_CLASS_SKY = 0,
    S4G_CLASS_VEGETATION, /* grass, fields, forest floor */
    S4G_CLASS_PAVED,      /* roads, sidewalks */
    S4G_CLASS_BUILDING,
    S4G_CLASS_TREE,
    S4G_CLASS_WATER,
} S4gPixelClass;

/* Top-down, north-up satellite view: size×size pixels covering footprint_m × footprint_m
 * metres centred on (x, y).  Row 0 is the northern edge, column 0 the western. */
void s4g_synth_render_satellite(const S4gWorld *world, double x, double y, double footprint_m,
                                int size, uint8_t *rgb);

/* Equirectangular panorama seen from 2 m above (x, y): width columns span 360° of azimuth
 * with north at the centre column and east to the right (azimuth of column c is
 * ((c + 0.5) / width − 0.5) · 360°); rows span a vertical field of height/width · 360°
 * centred on the horizon (so 1:2 covers the full sphere).  `classes` (may be NULL) receives
 * one S4gPixelClass per pixel. */
void s4g_synth_render_panorama(const S4gWorld *world, double x, double y, int width, int height,
                               uint8_t *rgb, uint8_t *classes);

/* Pinhole view from camera (cx, cy, cz) looking at (tx, ty, tz), horizontal field of view
 * fov_deg, width×height pixels (drone views). */
void s4g_synth_render_perspective(const S4gWorld *world, const double cam[3], const double target[3],
                                  double fov_deg, int width, int height, uint8_t *rgb);

/* Eye height of the panorama camera in metres. */
#define S4G_SYNTH_EYE_HEIGHT 2.0

G_END_DECLS
