// gelu.comp — y = 0.5 x (1 + erf(x / sqrt 2)), exact erf form (PyTorch's default GELU)
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 128) in;
layout(std430, set = 0, binding = 0) buffer B0 { float d[]; } x;
layout(std430, set = 0, binding = 1) buffer B1 { float d[]; } y;
layout(push_constant) uniform P { uint n; uint ox; uint oy; } p;
void main()
{
    uint i = s4g_index();
    if (i >= p.n) return;
    float v = x.d[p.ox + i];
    y.d[p.oy + i] = 0.5 * v * (1.0 + s4g_erf(v * 0.70710678118654752));
}
