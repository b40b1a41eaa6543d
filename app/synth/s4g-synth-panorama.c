/* s4g-synth-panorama.c — the street-level panorama camera.  Each column is one azimuth; a
 * ray marches outwards over the grid once, front to back, and at each step fills the rows
 * whose line of sight meets what stands in that cell: the ground or a building wall (solid
 * from the ground up, so rows fill from the bottom like a y-buffer) or a tree crown (an
 * interval of heights, filled row by row where still empty).  Rows never filled are sky. */
#include "s4g-synth-render.h"
#include "s4g-synth-shade.h"

#include <math.h>
#include <string.h>

#define MAX_DIST 400.0

/* First row whose elevation tangent is <= t (rows run from +vfov/2 at the top downwards). */
static inline int row_at_or_below(double t, double half, double drow, int height)
{
    double r = (half - atan(t)) / drow - 0.5;
    int ri = (int)ceil(r - 1e-9);
    return CLAMP(ri, 0, height);
}

void s4g_synth_render_panorama(const S4gWorld *world, double x, double y, int width, int height,
                               uint8_t *rgb, uint8_t *classes)
{
    const double eye = S4G_SYNTH_EYE_HEIGHT, cell = world->cell;
    double vfov = 2 * G_PI * height / width, half = vfov / 2, drow = vfov / height;
    g_autofree double *tan_e = g_new(double, height);
    g_autofree uint8_t *filled = g_new(uint8_t, height);
    for (int r = 0; r < height; r++)
        tan_e[r] = tan(half - (r + 0.5) * drow);
    for (int c = 0; c < width; c++) {
        double az = ((c + 0.5) / width - 0.5) * 2 * G_PI;
        double dx = sin(az), dy = cos(az);
        memset(filled, 0, height);
        int solid = height; /* rows >= solid are filled from the bottom */
        int pix = (int)floor(x / cell), piy = (int)floor(y / cell);
        double d = 0.3;
        while (d < MAX_DIST && solid > 0) {
            double px = x + dx * d, py = y + dy * d;
            int ix = (int)floor(px / cell), iy = (int)floor(py / cell);
            if (ix < 0 || iy < 0 || ix >= world->w || iy >= world->h)
                break;
            int i = s4g_world_index(world, ix, iy);
            float bh = world->height[i];
            gboolean trunk = (world->cover[i] & S4G_COVER_TRUNK) && world->tree_top[i];
            double top = bh > 0 ? bh : (trunk ? world->tree_bot[i] * 0.25 : 0.0);
            int r0 = row_at_or_below((top - eye) / d, half, drow, height);
            if (r0 < solid) {
                float col[3];
                int cls;
                const S4gBuilding *b = NULL;
                double nx = 0, ny = 0, along = 0;
                if (bh > 0) {
                    b = &g_array_index(world->buildings, S4gBuilding, world->bld[i] - 1);
                    /* The face the ray came through: a change of column means an east or
                     * west wall, otherwise a north or south one. */
                    if (ix != pix) {
                        nx = dx > 0 ? -1 : 1;
                        along = py;
                    } else {
                        ny = dy > 0 ? -1 : 1;
                        along = px;
                    }
                    cls = S4G_CLASS_BUILDING;
                } else if (trunk) {
                    cls = S4G_CLASS_TREE;
                } else {
                    s4g_world_ground_rgb(world, ix, iy, col);
                    int cov = world->cover[i] & S4G_COVER_MASK;
                    cls = cov == S4G_COVER_WATER ? S4G_CLASS_WATER
                          : (cov == S4G_COVER_ROAD || cov == S4G_COVER_PAVED || cov == S4G_COVER_MARKING) ? S4G_CLASS_PAVED
                                                                              : S4G_CLASS_VEGETATION;
                }
                for (int r = r0; r < solid; r++) {
                    if (filled[r])
                        continue;
                    if (b) {
                        s4g_shade_wall(world, b, nx, ny, eye + d * tan_e[r], along, col);
                    } else if (trunk) {
                        col[0] = 0.30f;
                        col[1] = 0.22f;
                        col[2] = 0.15f;
                    }
                    float o[3] = {col[0], col[1], col[2]};
                    s4g_shade_fog(o, d);
                    s4g_shade_store(o, rgb + 3 * ((gsize)r * width + c));
                    if (classes)
                        classes[(gsize)r * width + c] = (uint8_t)cls;
                    filled[r] = 1;
                }
                solid = r0;
            }
            if (world->tree_top[i] && solid > 0) {
                double tt = world->tree_top[i] * 0.25, tb = world->tree_bot[i] * 0.25;
                int ra = row_at_or_below((tt - eye) / d, half, drow, height);
                int rb = row_at_or_below((tb - eye) / d, half, drow, height);
                if (rb > ra) {
                    float col[3];
                    s4g_world_canopy_rgb(world, ix, iy, col);
                    s4g_shade_fog(col, d);
                    for (int r = ra; r < MIN(rb, solid); r++) {
                        if (filled[r])
                            continue;
                        s4g_shade_store(col, rgb + 3 * ((gsize)r * width + c));
                        if (classes)
                            classes[(gsize)r * width + c] = S4G_CLASS_TREE;
                        filled[r] = 1;
                    }
                }
            }
            pix = ix;
            piy = iy;
            d += MAX(0.25 * cell / 0.5, d * 0.012);
        }
        (void)piy;
        for (int r = 0; r < height; r++) {
            if (filled[r])
                continue;
            float col[3];
            double el = half - (r + 0.5) * drow;
            gsize o = (gsize)r * width + c;
            if (el < 0) { /* ground beyond the world or the march: far haze */
                s4g_shade_sky(world, az, 0, col);
                for (int k = 0; k < 3; k++)
                    col[k] *= 0.92f;
                if (classes)
                    classes[o] = S4G_CLASS_VEGETATION;
            } else {
                s4g_shade_sky(world, az, el, col);
                if (classes)
                    classes[o] = S4G_CLASS_SKY;
            }
            s4g_shade_store(col, rgb + 3 * o);
        }
    }
}
