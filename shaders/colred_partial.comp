#version 450
// Pass 1 of the deterministic column reductions over [rows, C] (parameter gradients):
//   mode 0 (layernorm):      part[blk, c] = sum dy * xhat,  part[blk, C + c] = sum dy
//   mode 1 (scale_residual): part[blk, c] = sum dout * y
// Invocation (blk, c) walks the rows of its block in order; reduce_rows.comp adds blocks.
#include "ops_index.glsl"
layout(local_size_x = 64) in;
layout(std430, set = 0, binding = 0) readonly buffer B0 { float d[]; } ba; /* x or y */
layout(std430, set = 0, binding = 1) readonly buffer B1 { float d[]; } bdy; /* dy or dout */
layout(std430, set = 0, binding = 2) readonly buffer B2 { float d[]; } bmean;
layout(std430, set = 0, binding = 3) readonly buffer B3 { float d[]; } brstd;
layout(std430, set = 0, binding = 4) writeonly buffer B4 { float d[]; } bpart;
layout(push_constant) uniform P { uint oa, ody, omean, orstd, opart, rows, C, rows_per_blk, nblk, mode, stride; } p;

void main()
{
    uint i = ops_linear_id();
    if (i >= p.nblk * p.C)
        return;
    uint blk = i / p.C, c = i % p.C;
    uint r0 = blk * p.rows_per_blk, r1 = min(r0 + p.rows_per_blk, p.rows);
    float s1 = 0.0, s2 = 0.0;
    if (p.mode == 0u) {
        for (uint r = r0; r < r1; r++) {
            float dy = bdy.d[p.ody + r * p.C + c];
            float xh = (ba.d[p.oa + r * p.C + c] - bmean.d[p.omean + r]) * brstd.d[p.orstd + r];
            s1 += dy * xh;
            s2 += dy;
        }
        bpart.d[p.opart + blk * p.stride + c] = s1;
        bpart.d[p.opart + blk * p.stride + p.C + c] = s2;
    } else {
        for (uint r = r0; r < r1; r++)
            s1 += bdy.d[p.ody + r * p.C + c] * ba.d[p.oa + r * p.C + c];
        bpart.d[p.opart + blk * p.stride + c] = s1;
    }
}
