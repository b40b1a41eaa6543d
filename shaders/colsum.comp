// colsum.comp — out[j] = beta * out[j] + sum_i x[i, j]   (x row-major [M, N]; bias gradient)
// One invocation per column, fp32 accumulation in row order.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 128) in;
layout(std430, set = 0, binding = 0) readonly buffer B0 { float d[]; } x;
layout(std430, set = 0, binding = 1) buffer B1 { float d[]; } o;
layout(push_constant) uniform P { uint M; uint N; uint ox; uint oo; float beta; } p;
void main()
{
    uint j = s4g_index();
    if (j >= p.N) return;
    float acc = 0.0;
    uint idx = p.ox + j;
    for (uint i = 0; i < p.M; i++, idx += p.N)
        acc += x.d[idx];
    o.d[p.oo + j] = p.beta == 0.0 ? acc : fma(p.beta, o.d[p.oo + j], acc);
}
