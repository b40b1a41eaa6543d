#version 450
// Pass 1 of the deterministic dw/db reduction: invocation (blk, tap, c) sums over the image
// rows (n,h) of block blk.  tap 0..48 is dw[kh,kw,c], tap 49 is db[c].
// part[blk, 50, C]; pass 2 (reduce_rows.comp) adds the blocks in order.
#include "ops_index.glsl"
layout(local_size_x = 64) in;
layout(std430, set = 0, binding = 0) readonly buffer B0 { float d[]; } bx;
layout(std430, set = 0, binding = 1) readonly buffer B1 { float d[]; } bdy;
layout(std430, set = 0, binding = 2) writeonly buffer B2 { float d[]; } bpart;
layout(push_constant) uniform P { uint ox, ody, opart, N, H, W, C, rows_per_blk, nblk; } p;

void main()
{
    uint i = ops_linear_id();
    uint per = 50u * p.C;
    if (i >= p.nblk * per)
        return;
    uint blk = i / per, j = i % per, tap = j / p.C, c = j % p.C;
    uint r0 = blk * p.rows_per_blk, r1 = min(r0 + p.rows_per_blk, p.N * p.H);
    float acc = 0.0;
    if (tap == 49u) {
        for (uint r = r0; r < r1; r++)
            for (uint w = 0; w < p.W; w++)
                acc += bdy.d[p.ody + (r * p.W + w) * p.C + c];
    } else {
        uint kh = tap / 7u, kw = tap % 7u;
        for (uint r = r0; r < r1; r++) {
            uint n = r / p.H, h = r % p.H;
            uint hh = h + kh - 3u;
            if (hh >= p.H)
                continue;
            for (uint w = 0; w < p.W; w++) {
                uint ww = w + kw - 3u;
                if (ww >= p.W)
                    continue;
                acc += bdy.d[p.ody + (r * p.W + w) * p.C + c] * bx.d[p.ox + ((n * p.H + hh) * p.W + ww) * p.C + c];
            }
        }
    }
    bpart.d[p.opart + i] = acc;
}
