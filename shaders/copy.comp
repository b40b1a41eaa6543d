// copy.comp — dst[i] = src[i]
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 128) in;
layout(std430, set = 0, binding = 0) readonly buffer B0 { float d[]; } src;
layout(std430, set = 0, binding = 1) buffer B1 { float d[]; } dst;
layout(push_constant) uniform P { uint n; uint os; uint od; } p;
void main()
{
    uint i = s4g_index();
    if (i >= p.n) return;
    dst.d[p.od + i] = src.d[p.os + i];
}
