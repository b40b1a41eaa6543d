// common.glsl — shared by every compute shader (#include "common.glsl").
// Convention: storage buffers `layout(std430, set = 0, binding = i) buffer Bi { float d[]; } bi;`,
// bound whole; element offsets and dims arrive as uint push constants.
#ifndef S4G_COMMON_GLSL
#define S4G_COMMON_GLSL

// Linear invocation index for a 1-D problem split over x and y by s4g_vk_grid_1d().
uint s4g_index()
{
    return gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
}

// erf in fp32, max abs error about 6e-8 on [-10, 10] (N. Juffa's minimax fit: polynomial
// below |x| = 0.9277, 1 - exp(poly) above).  GLSL has no erf, and the Abramowitz-Stegun
// 7.1.26 form (error 1.5e-7 relative to 1, far worse near 0) is not precise enough.
float s4g_erf(float a)
{
    float t = abs(a);
    float s = a * a;
    float r;
    if (t > 0.927734375) {
        r = fma(-1.72853470e-5, t, 3.83197126e-4);
        float u = fma(-3.88396438e-3, t, 2.42546219e-2);
        r = fma(r, s, u);
        r = fma(r, t, -1.06777877e-1);
        r = fma(r, t, -6.34846687e-1);
        r = fma(r, t, -1.28717512e-1);
        r = fma(r, t, -t);
        r = 1.0 - exp(r);
        r = a < 0.0 ? -r : r;
    } else {
        r = -5.96761703e-4;
        r = fma(r, s, 4.99119423e-3);
        r = fma(r, s, -2.67681349e-2);
        r = fma(r, s, 1.12819925e-1);
        r = fma(r, s, -3.76125336e-1);
        r = fma(r, s, 1.28379166e-1);
        r = fma(r, a, a);
    }
    return r;
}

#endif
