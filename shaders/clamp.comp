// clamp.comp — x[i] = min(max(x[i], lo), hi)
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 128) in;
layout(std430, set = 0, binding = 0) buffer B0 { float d[]; } x;
layout(push_constant) uniform P { uint n; uint ox; float lo; float hi; } p;
void main()
{
    uint i = s4g_index();
    if (i >= p.n) return;
    x.d[p.ox + i] = min(max(x.d[p.ox + i], p.lo), p.hi);
}
