// infonce_common.glsl — bindings and push constants shared by the InfoNCE kernels.
// Scratch s (one buffer, element offsets):  L[B*B] at os, G[B*B] at os+B*B, then five
// [B] arrays: lse_row, lse_col, loss_row, loss_col, gsum.
#include "ops_index.glsl"
layout(std430, set = 0, binding = 0) readonly buffer B0 { float d[]; } bq;
layout(std430, set = 0, binding = 1) readonly buffer B1 { float d[]; } br;
layout(std430, set = 0, binding = 2) readonly buffer B2 { float d[]; } bls;
layout(std430, set = 0, binding = 3) buffer B3 { float d[]; } bloss;
layout(std430, set = 0, binding = 4) buffer B4 { float d[]; } bdq;
layout(std430, set = 0, binding = 5) buffer B5 { float d[]; } bdr;
layout(std430, set = 0, binding = 6) buffer B6 { float d[]; } bdscale;
layout(std430, set = 0, binding = 7) buffer B7 { float d[]; } bs;
layout(push_constant) uniform P {
    uint oq, or_, ols, oloss, odq, odr, odscale, os, B, D, flags; /* 1 dq, 2 dr, 4 dscale */
    float smoothing;
} p;

uint o_L() { return p.os; }
uint o_G() { return p.os + p.B * p.B; }
uint o_lse_row() { return p.os + 2u * p.B * p.B; }
uint o_lse_col() { return o_lse_row() + p.B; }
uint o_loss_row() { return o_lse_row() + 2u * p.B; }
uint o_loss_col() { return o_lse_row() + 3u * p.B; }
uint o_gsum() { return o_lse_row() + 4u * p.B; }

/* label-smoothed target of cell (i, j): symmetric, so rows and columns share it */
float target(uint i, uint j)
{
    return (i == j ? 1.0 - p.smoothing : 0.0) + p.smoothing / float(p.B);
}
