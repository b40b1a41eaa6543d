/* s4g-synth-shade.c — sky, walls and haze of the synthetic cameras. */
#include "s4g-synth-shade.h"

#include <math.h>

static const float haze[3] = {0.74f, 0.78f, 0.82f};

void s4g_shade_sky(const S4gWorld *world, double az, double el, float rgb[3])
{
    static const float horizon[3] = {0.78f, 0.84f, 0.90f}, zenith[3] = {0.30f, 0.50f, 0.82f};
    double t = el <= 0 ? 0 : sqrt(MIN(1.0, el / (G_PI / 2)));
    /* A brighter sky towards the sun. */
    double cosang = cos(el) * cos(world->sun_el) * cos(az - world->sun_az) + sin(el) * sin(world->sun_el);
    double glow = 0.12 * pow(MAX(0.0, cosang), 8);
    for (int k = 0; k < 3; k++)
        rgb[k] = (float)(horizon[k] + (zenith[k] - horizon[k]) * t + glow);
}

void s4g_shade_wall(const S4gWorld *world, const S4gBuilding *b, double nx, double ny, double z,
                    double along, float rgb[3])
{
    double sx = sin(world->sun_az) * cos(world->sun_el), sy = cos(world->sun_az) * cos(world->sun_el);
    double lambert = MAX(0.0, nx * sx + ny * sy);
    float f = (float)(0.45 + 0.6 * lambert);
    /* Storeys of 3 m with a window band; windows every 2.5 m along the face.  Houses (gabled
     * roofs) get fewer, smaller windows. */
    double fz = fmod(z, 3.0) / 3.0, fa = fmod(fabs(along), 2.5) / 2.5;
    gboolean window = fz > 0.35 && fz < 0.75 && fa > 0.25 && fa < 0.75 && z > 0.5 &&
                      z < b->height - 0.5 && (!b->gable || fa < 0.55);
    if (window) {
        rgb[0] = 0.20f * f + 0.05f;
        rgb[1] = 0.24f * f + 0.06f;
        rgb[2] = 0.30f * f + 0.08f;
        return;
    }
    for (int k = 0; k < 3; k++)
        rgb[k] = b->wall[k] / 255.0f * f;
}

void s4g_shade_fog(float rgb[3], double d)
{
    float a = (float)(1.0 - exp(-d / 160.0));
    for (int k = 0; k < 3; k++)
        rgb[k] = rgb[k] * (1 - a) + haze[k] * a;
}

void s4g_shade_store(const float rgb[3], uint8_t *out)
{
    for (int k = 0; k < 3; k++)
        out[k] = (uint8_t)CLAMP(lroundf(rgb[k] * 255.0f), 0, 255);
}
