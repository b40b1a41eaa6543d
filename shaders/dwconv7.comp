#version 450
// Depthwise 7x7, pad 3, stride 1, channels-last: one output per invocation, padding by bounds
// checks (unsigned wrap catches negative coordinates).  Neighbouring invocations are
// neighbouring channels, so every load is coalesced.
#include "ops_index.glsl"
layout(local_size_x = 64) in;
layout(std430, set = 0, binding = 0) readonly buffer B0 { float d[]; } bx;
layout(std430, set = 0, binding = 1) readonly buffer B1 { float d[]; } bw;
layout(std430, set = 0, binding = 2) readonly buffer B2 { float d[]; } bb;
layout(std430, set = 0, binding = 3) writeonly buffer B3 { float d[]; } by;
layout(push_constant) uniform P { uint ox, ow, ob, oy, N, H, W, C, has_b, total; } p;

void main()
{
    uint i = ops_linear_id();
    if (i >= p.total)
        return;
    uint c = i % p.C, w = (i / p.C) % p.W, h = (i / (p.C * p.W)) % p.H, n = i / (p.C * p.W * p.H);
    float acc = p.has_b != 0u ? bb.d[p.ob + c] : 0.0;
    for (uint kh = 0; kh < 7u; kh++) {
        uint hh = h + kh - 3u;
        if (hh >= p.H)
            continue;
        for (uint kw = 0; kw < 7u; kw++) {
            uint ww = w + kw - 3u;
            if (ww >= p.W)
                continue;
            acc += bx.d[p.ox + ((n * p.H + hh) * p.W + ww) * p.C + c] * bw.d[p.ow + (kh * 7u + kw) * p.C + c];
        }
    }
    by.d[p.oy + i] = acc;
}
