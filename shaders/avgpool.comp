#version 450
// mode 0: y[n,c] = mean over HW of x[n,hw,c]   (one invocation per (n,c), in-order sum)
// mode 1: dx[n,hw,c] = dy[n,c] / HW            (one invocation per dx element)
#include "ops_index.glsl"
layout(local_size_x = 64) in;
layout(std430, set = 0, binding = 0) readonly buffer B0 { float d[]; } bin;
layout(std430, set = 0, binding = 1) writeonly buffer B1 { float d[]; } bout;
layout(push_constant) uniform P { uint oin, oout, N, HW, C, mode; } p;

void main()
{
    uint i = ops_linear_id();
    if (p.mode == 0u) {
        if (i >= p.N * p.C)
            return;
        uint n = i / p.C, c = i % p.C;
        float s = 0.0;
        for (uint k = 0; k < p.HW; k++)
            s += bin.d[p.oin + (n * p.HW + k) * p.C + c];
        bout.d[p.oout + i] = s / float(p.HW);
    } else {
        if (i >= p.N * p.HW * p.C)
            return;
        uint c = i % p.C, n = i / (p.HW * p.C);
        bout.d[p.oout + i] = bin.d[p.oin + n * p.C + c] / float(p.HW);
    }
}
