#version 450
// y[N*Ho*Wo, k*k*C] from x[N,H,W,C]: one output element per invocation, patch order (kh,kw,c).
#include "ops_index.glsl"
layout(local_size_x = 64) in;
layout(std430, set = 0, binding = 0) readonly buffer B0 { float d[]; } bx;
layout(std430, set = 0, binding = 1) writeonly buffer B1 { float d[]; } by;
layout(push_constant) uniform P { uint ox, oy, N, H, W, C, k, total; } p;

void main()
{
    uint i = ops_linear_id();
    if (i >= p.total)
        return;
    uint kkc = p.k * p.k * p.C;
    uint row = i / kkc, col = i % kkc;
    uint c = col % p.C, kw = (col / p.C) % p.k, kh = col / (p.C * p.k);
    uint Wo = p.W / p.k, Ho = p.H / p.k;
    uint wo = row % Wo, ho = (row / Wo) % Ho, n = row / (Wo * Ho);
    uint h = ho * p.k + kh, w = wo * p.k + kw;
    by.d[p.oy + i] = bx.d[p.ox + ((n * p.H + h) * p.W + w) * p.C + c];
}
