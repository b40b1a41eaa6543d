#version 450
// dx[N,H,W,C] from dy[N*Ho*Wo, k*k*C]: one dx element per invocation (patches do not overlap,
// so this is a gather with no reduction); rows/cols dropped by the floor get 0.
#include "ops_index.glsl"
layout(local_size_x = 64) in;
layout(std430, set = 0, binding = 0) readonly buffer B0 { float d[]; } bdy;
layout(std430, set = 0, binding = 1) writeonly buffer B1 { float d[]; } bdx;
layout(push_constant) uniform P { uint ody, odx, N, H, W, C, k, total; } p;

void main()
{
    uint i = ops_linear_id();
    if (i >= p.total)
        return;
    uint c = i % p.C, w = (i / p.C) % p.W, h = (i / (p.C * p.W)) % p.H, n = i / (p.C * p.W * p.H);
    uint Wo = p.W / p.k, Ho = p.H / p.k;
    uint ho = h / p.k, wo = w / p.k;
    float v = 0.0;
    if (ho < Ho && wo < Wo) {
        uint row = (n * Ho + ho) * Wo + wo;
        uint col = ((h % p.k) * p.k + (w % p.k)) * p.C + c;
        v = bdy.d[p.ody + row * (p.k * p.k * p.C) + col];
    }
    bdx.d[p.odx + i] = v;
}
