// add.comp — out[i] = a[i] + b[i] (out may alias a or b: same element read then written)
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 128) in;
layout(std430, set = 0, binding = 0) buffer B0 { float d[]; } a;
layout(std430, set = 0, binding = 1) buffer B1 { float d[]; } b;
layout(std430, set = 0, binding = 2) buffer B2 { float d[]; } o;
layout(push_constant) uniform P { uint n; uint oa; uint ob; uint oo; } p;
void main()
{
    uint i = s4g_index();
    if (i >= p.n) return;
    float v = a.d[p.oa + i] + b.d[p.ob + i];
    o.d[p.oo + i] = v;
}
