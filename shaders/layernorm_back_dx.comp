#version 450
// LayerNorm backward for the input, one workgroup per row:
// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),  g = dy * gamma, xhat = (x - mean) * rstd.
#include "ops_index.glsl"
#include "ops_rowreduce.glsl"
layout(local_size_x = ROW_LOCAL) in;
layout(std430, set = 0, binding = 0) readonly buffer B0 { float d[]; } bx;
layout(std430, set = 0, binding = 1) readonly buffer B1 { float d[]; } bg;
layout(std430, set = 0, binding = 2) readonly buffer B2 { float d[]; } bmean;
layout(std430, set = 0, binding = 3) readonly buffer B3 { float d[]; } brstd;
layout(std430, set = 0, binding = 4) readonly buffer B4 { float d[]; } bdy;
layout(std430, set = 0, binding = 5) writeonly buffer B5 { float d[]; } bdx;
layout(push_constant) uniform P { uint ox, og, omean, orstd, ody, odx, rows, C; } p;

void main()
{
    uint row = ops_group_id();
    if (row >= p.rows)
        return;
    uint t = gl_LocalInvocationID.x, base = row * p.C;
    float mean = bmean.d[p.omean + row], rstd = brstd.d[p.orstd + row];
    float s1 = 0.0, s2 = 0.0;
    for (uint c = t; c < p.C; c += ROW_LOCAL) {
        float g = bdy.d[p.ody + base + c] * bg.d[p.og + c];
        float xh = (bx.d[p.ox + base + c] - mean) * rstd;
        s1 += g;
        s2 += g * xh;
    }
    float mg = row_sum(s1) / float(p.C);
    float mgx = row_sum(s2) / float(p.C);
    for (uint c = t; c < p.C; c += ROW_LOCAL) {
        float g = bdy.d[p.ody + base + c] * bg.d[p.og + c];
        float xh = (bx.d[p.ox + base + c] - mean) * rstd;
        bdx.d[p.odx + base + c] = rstd * (g - mg - xh * mgx);
    }
}
