#version 450
// Pass 2 of the deterministic column reductions: out[j] += sum over blk (in order) of
// part[blk * stride + col0 + j].  No float atomics, so results never depend on scheduling.
#include "ops_index.glsl"
layout(local_size_x = 64) in;
layout(std430, set = 0, binding = 0) readonly buffer B0 { float d[]; } bpart;
layout(std430, set = 0, binding = 1) buffer B1 { float d[]; } bout;
layout(push_constant) uniform P { uint opart, oout, stride, col0, ncols, nblk; } p;

void main()
{
    uint j = ops_linear_id();
    if (j >= p.ncols)
        return;
    float acc = 0.0;
    for (uint b = 0; b < p.nblk; b++)
        acc += bpart.d[p.opart + b * p.stride + p.col0 + j];
    bout.d[p.oout + j] += acc;
}
