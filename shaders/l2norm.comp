#version 450
// Row-wise L2 normalisation, one workgroup per row.
// mode 0: y = x / max(||x||, 1e-12), norms[row] = ||x||
// mode 1: dx = (dy - y (y.dy)) / max(norms[row], 1e-12)
#include "ops_index.glsl"
#include "ops_rowreduce.glsl"
layout(local_size_x = ROW_LOCAL) in;
layout(std430, set = 0, binding = 0) readonly buffer B0 { float d[]; } ba; /* x or y */
layout(std430, set = 0, binding = 1) readonly buffer B1 { float d[]; } bdy;
layout(std430, set = 0, binding = 2) buffer B2 { float d[]; } bnorm;
layout(std430, set = 0, binding = 3) writeonly buffer B3 { float d[]; } bout; /* y or dx */
layout(push_constant) uniform P { uint oa, ody, onorm, oout, rows, C, mode, has_norm; } p;

void main()
{
    uint row = ops_group_id();
    if (row >= p.rows)
        return;
    uint t = gl_LocalInvocationID.x, base = row * p.C;
    if (p.mode == 0u) {
        float s = 0.0;
        for (uint c = t; c < p.C; c += ROW_LOCAL) {
            float v = ba.d[p.oa + base + c];
            s += v * v;
        }
        float nrm = sqrt(row_sum(s));
        float inv = 1.0 / max(nrm, 1e-12);
        for (uint c = t; c < p.C; c += ROW_LOCAL)
            bout.d[p.oout + base + c] = ba.d[p.oa + base + c] * inv;
        if (t == 0u && p.has_norm != 0u)
            bnorm.d[p.onorm + row] = nrm;
    } else {
        float s = 0.0;
        for (uint c = t; c < p.C; c += ROW_LOCAL)
            s += ba.d[p.oa + base + c] * bdy.d[p.ody + base + c];
        float yd = row_sum(s);
        float inv = 1.0 / max(bnorm.d[p.onorm + row], 1e-12);
        for (uint c = t; c < p.C; c += ROW_LOCAL)
            bout.d[p.oout + base + c] = (bdy.d[p.ody + base + c] - ba.d[p.oa + base + c] * yd) * inv;
    }
}
