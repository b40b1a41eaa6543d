#version 450
// dx = (accumulate ? dx : 0) + conv^T(dy): one dx element per invocation, a gather over the
// 49 outputs that read it (no atomics).
#include "ops_index.glsl"
layout(local_size_x = 64) in;
layout(std430, set = 0, binding = 0) readonly buffer B0 { float d[]; } bdy;
layout(std430, set = 0, binding = 1) readonly buffer B1 { float d[]; } bw;
layout(std430, set = 0, binding = 2) buffer B2 { float d[]; } bdx;
layout(push_constant) uniform P { uint ody, ow, odx, N, H, W, C, accumulate, total; } p;

void main()
{
    uint i = ops_linear_id();
    if (i >= p.total)
        return;
    uint c = i % p.C, w = (i / p.C) % p.W, h = (i / (p.C * p.W)) % p.H, n = i / (p.C * p.W * p.H);
    float acc = 0.0;
    for (uint kh = 0; kh < 7u; kh++) {
        uint ho = h + 3u - kh; /* output row whose tap kh reads input row h */
        if (ho >= p.H)
            continue;
        for (uint kw = 0; kw < 7u; kw++) {
            uint wo = w + 3u - kw;
            if (wo >= p.W)
                continue;
            acc += bdy.d[p.ody + ((n * p.H + ho) * p.W + wo) * p.C + c] * bw.d[p.ow + (kh * 7u + kw) * p.C + c];
        }
    }
    if (p.accumulate != 0u)
        acc += bdx.d[p.odx + i];
    bdx.d[p.odx + i] = acc;
}
