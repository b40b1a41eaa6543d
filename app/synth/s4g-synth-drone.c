/* s4g-synth-drone.c — a pinhole camera for drone views: one ray per pixel marched through the
 * 2.5-D world (building prisms, tree crowns, ground).  The march starts where the ray drops
 * below the tallest object, so a camera high above the scene costs little. */
#include "s4g-synth-render.h"
#include "s4g-synth-shade.h"

#include <math.h>

static void normalise(double v[3])
{
    double n = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    if (n > 0)
        for (int k = 0; k < 3; k++)
            v[k] /= n;
}

static void trace(const S4gWorld *w, const double o[3], const double dir[3], float col[3])
{
    const double cell = w->cell, hmax = w->max_height + 0.5;
    double az = atan2(dir[0], dir[1]), el = asin(CLAMP(dir[2], -1.0, 1.0));
    double t = 0;
    if (o[2] > hmax) {
        if (dir[2] >= 0) {
            s4g_shade_sky(w, az, el, col);
            return;
        }
        t = (o[2] - hmax) / -dir[2];
    }
    double hlen = sqrt(dir[0] * dir[0] + dir[1] * dir[1]);
    /* Step 0.8 cell horizontally and at most 0.5 m vertically. */
    double dt = MIN(hlen > 1e-9 ? 0.8 * cell / hlen : 1e9, fabs(dir[2]) > 1e-9 ? 0.5 / fabs(dir[2]) : 1e9);
    int pix = -1, piy = -1;
    double pz = o[2] + dir[2] * t;
    for (int s = 0; s < 20000; s++, t += dt) {
        double px = o[0] + dir[0] * t, py = o[1] + dir[1] * t, pz_now = o[2] + dir[2] * t;
        if (pz_now > hmax && dir[2] >= 0) {
            s4g_shade_sky(w, az, el, col);
            return;
        }
        int ix = (int)floor(px / cell), iy = (int)floor(py / cell);
        if (ix < 0 || iy < 0 || ix >= w->w || iy >= w->h) {
            s4g_shade_sky(w, az, MAX(el, 0.0), col);
            return;
        }
        /* Above everything in this block for the rest of the way through it: jump to its
         * exit (the ray is straight, so its lowest point in the block is at an end). */
        int bx = ix / S4G_WORLD_BLOCK, by = iy / S4G_WORLD_BLOCK;
        double bsize = S4G_WORLD_BLOCK * cell;
        double tx = dir[0] > 1e-12 ? ((bx + 1) * bsize - px) / dir[0]
                    : dir[0] < -1e-12 ? (bx * bsize - px) / dir[0] : 1e30;
        double ty = dir[1] > 1e-12 ? ((by + 1) * bsize - py) / dir[1]
                    : dir[1] < -1e-12 ? (by * bsize - py) / dir[1] : 1e30;
        double texit = MIN(tx, ty);
        double zexit = pz_now + dir[2] * texit;
        if (texit < 1e29 && MIN(pz_now, zexit) > w->block_max[by * w->bw + bx] + 0.01) {
            pix = ix;
            piy = iy;
            pz = zexit;
            t += texit + 1e-6 - dt; /* the loop adds dt */
            continue;
        }
        int i = s4g_world_index(w, ix, iy);
        double dist = t;
        if (pz_now <= 0) {
            s4g_world_ground_rgb(w, ix, iy, col);
            s4g_shade_fog(col, dist);
            return;
        }
        float bh = w->height[i];
        if (bh > 0 && pz_now <= bh) {
            if (pz > bh || pix < 0) { /* came down through the roof */
                const uint8_t *p = w->ortho + 3 * (gsize)i;
                for (int k = 0; k < 3; k++)
                    col[k] = p[k] / 255.0f;
            } else {
                const S4gBuilding *b = &g_array_index(w->buildings, S4gBuilding, w->bld[i] - 1);
                double nx = 0, ny = 0, along;
                if (ix != pix) {
                    nx = dir[0] > 0 ? -1 : 1;
                    along = py;
                } else {
                    ny = dir[1] > 0 ? -1 : 1;
                    along = px;
                }
                s4g_shade_wall(w, b, nx, ny, pz_now, along, col);
            }
            s4g_shade_fog(col, dist);
            return;
        }
        if (w->tree_top[i] && pz_now <= w->tree_top[i] * 0.25 && pz_now >= w->tree_bot[i] * 0.25) {
            s4g_world_canopy_rgb(w, ix, iy, col);
            s4g_shade_fog(col, dist);
            return;
        }
        pix = ix;
        piy = iy;
        pz = pz_now;
    }
    (void)piy;
    s4g_shade_sky(w, az, MAX(el, 0.0), col);
}

void s4g_synth_render_perspective(const S4gWorld *world, const double cam[3], const double target[3],
                                  double fov_deg, int width, int height, uint8_t *rgb)
{
    double f[3] = {target[0] - cam[0], target[1] - cam[1], target[2] - cam[2]};
    normalise(f);
    /* right = f × up(0,0,1), up = right × f */
    double rt[3] = {f[1], -f[0], 0};
    if (fabs(rt[0]) + fabs(rt[1]) < 1e-9)
        rt[0] = 1; /* looking straight down: east is right */
    normalise(rt);
    double up[3] = {rt[1] * f[2] - rt[2] * f[1], rt[2] * f[0] - rt[0] * f[2], rt[0] * f[1] - rt[1] * f[0]};
    double tx = tan(fov_deg * G_PI / 360.0), ty = tx * height / width;
    for (int r = 0; r < height; r++)
        for (int c = 0; c < width; c++) {
            double u = ((c + 0.5) / width * 2 - 1) * tx, v = (1 - (r + 0.5) / height * 2) * ty;
            double d[3];
            for (int k = 0; k < 3; k++)
                d[k] = f[k] + u * rt[k] + v * up[k];
            normalise(d);
            float col[3];
            trace(world, cam, d, col);
            s4g_shade_store(col, rgb + 3 * ((gsize)r * width + c));
        }
}
