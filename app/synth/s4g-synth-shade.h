/* s4g-synth-shade.h — colours shared by the panorama and perspective cameras: sky, haze,
 * building walls (with floors and windows). */
#pragma once

#include "s4g-synth-world.h"

G_BEGIN_DECLS

/* Sky colour for elevation `el` (radians) looking along azimuth `az`. */
void s4g_shade_sky(const S4gWorld *world, double az, double el, float rgb[3]);
/* Wall colour of building `b` at height z on a face with outward normal (nx, ny); `along` is
 * the horizontal coordinate on the face in metres (for window columns). */
void s4g_shade_wall(const S4gWorld *world, const S4gBuilding *b, double nx, double ny, double z,
                    double along, float rgb[3]);
/* Blends rgb towards the haze colour by distance d (metres). */
void s4g_shade_fog(float rgb[3], double d);
/* Clamps to 0..255 bytes. */
void s4g_shade_store(const float rgb[3], uint8_t *out);

G_END_DECLS
