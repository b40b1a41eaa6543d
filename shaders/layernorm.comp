#version 450
// LayerNorm over the last dim, one workgroup per row, two-pass statistics (mean first, then
// the centred sum of squares — never E[x^2]-mean^2).
#include "ops_index.glsl"
#include "ops_rowreduce.glsl"
layout(local_size_x = ROW_LOCAL) in;
layout(std430, set = 0, binding = 0) readonly buffer B0 { float d[]; } bx;
layout(std430, set = 0, binding = 1) readonly buffer B1 { float d[]; } bg;
layout(std430, set = 0, binding = 2) readonly buffer B2 { float d[]; } bb;
layout(std430, set = 0, binding = 3) writeonly buffer B3 { float d[]; } by;
layout(std430, set = 0, binding = 4) writeonly buffer B4 { float d[]; } bmean;
layout(std430, set = 0, binding = 5) writeonly buffer B5 { float d[]; } brstd;
layout(push_constant) uniform P { uint ox, og, ob, oy, omean, orstd, rows, C, flags; float eps; } p;

void main()
{
    uint row = ops_group_id();
    if (row >= p.rows)
        return; /* whole workgroup leaves together: barriers stay uniform */
    uint t = gl_LocalInvocationID.x, base = row * p.C;
    float s = 0.0;
    for (uint c = t; c < p.C; c += ROW_LOCAL)
        s += bx.d[p.ox + base + c];
    float mean = row_sum(s) / float(p.C);
    float q = 0.0;
    for (uint c = t; c < p.C; c += ROW_LOCAL) {
        float d = bx.d[p.ox + base + c] - mean;
        q += d * d;
    }
    float rstd = inversesqrt(row_sum(q) / float(p.C) + p.eps);
    for (uint c = t; c < p.C; c += ROW_LOCAL)
        by.d[p.oy + base + c] = (bx.d[p.ox + base + c] - mean) * rstd * bg.d[p.og + c] + bb.d[p.ob + c];
    if (t == 0u) {
        if ((p.flags & 1u) != 0u)
            bmean.d[p.omean + row] = mean;
        if ((p.flags & 2u) != 0u)
            brstd.d[p.orstd + row] = rstd;
    }
}
