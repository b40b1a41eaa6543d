/* s4g-synth-satellite.c — the north-up satellite camera: a resampling of the world's
 * top-down colour, which already carries sun shading and cast shadows. */
#include "s4g-synth-render.h"
#include "s4g-synth-shade.h"

void s4g_synth_render_satellite(const S4gWorld *world, double x, double y, double footprint_m,
                                int size, uint8_t *rgb)
{
    double px = footprint_m / size;
    for (int r = 0; r < size; r++) {
        double wy = y + footprint_m / 2 - (r + 0.5) * px; /* row 0 = north */
        for (int c = 0; c < size; c++) {
            double wx = x - footprint_m / 2 + (c + 0.5) * px;
            float col[3];
            s4g_world_sample_ortho(world, wx, wy, col);
            s4g_shade_store(col, rgb + 3 * ((gsize)r * size + c));
        }
    }
}
