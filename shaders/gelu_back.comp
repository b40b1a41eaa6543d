// gelu_back.comp — dx = dy * (Phi(x) + x phi(x)), Phi/phi the standard normal cdf/pdf
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 128) in;
layout(std430, set = 0, binding = 0) buffer B0 { float d[]; } x;
layout(std430, set = 0, binding = 1) buffer B1 { float d[]; } dy;
layout(std430, set = 0, binding = 2) buffer B2 { float d[]; } dx;
layout(push_constant) uniform P { uint n; uint ox; uint ody; uint odx; } p;
void main()
{
    uint i = s4g_index();
    if (i >= p.n) return;
    float v = x.d[p.ox + i];
    float cdf = 0.5 * (1.0 + s4g_erf(v * 0.70710678118654752));
    float pdf = 0.39894228040143268 * exp(-0.5 * v * v);
    float g = dy.d[p.ody + i];
    dx.d[p.odx + i] = g * (cdf + v * pdf);
}
