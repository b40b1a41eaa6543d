#version 450
// mode 0: out = x + gamma[c] * y      (ConvNeXt layer scale + residual)
// mode 1: dy  = gamma[c] * dout       (its backward for y; x's gradient is dout itself)
#include "ops_index.glsl"
layout(local_size_x = 64) in;
layout(std430, set = 0, binding = 0) readonly buffer B0 { float d[]; } bx;
layout(std430, set = 0, binding = 1) readonly buffer B1 { float d[]; } by;
layout(std430, set = 0, binding = 2) readonly buffer B2 { float d[]; } bg;
layout(std430, set = 0, binding = 3) writeonly buffer B3 { float d[]; } bout;
layout(push_constant) uniform P { uint ox, oy, og, oout, C, total, mode; } p;

void main()
{
    uint i = ops_linear_id();
    if (i >= p.total)
        return;
    float g = bg.d[p.og + i % p.C];
    if (p.mode == 0u)
        bout.d[p.oout + i] = bx.d[p.ox + i] + g * by.d[p.oy + i];
    else
        bout.d[p.oout + i] = g * by.d[p.oy + i];
}
