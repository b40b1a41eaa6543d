// ops_rowreduce.glsl — workgroup-wide sum for the one-workgroup-per-row kernels.
// Subgroup sums first (no shared memory traffic inside a subgroup), then one shared slot per
// subgroup, added in subgroup order so the result is deterministic for a given device.
#ifndef OPS_ROWREDUCE_GLSL
#define OPS_ROWREDUCE_GLSL
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

#define ROW_LOCAL 64
shared float row_red[ROW_LOCAL];

float row_sum(float v)
{
    v = subgroupAdd(v);
    if (subgroupElect())
        row_red[gl_SubgroupID] = v;
    barrier();
    float s = 0.0;
    for (uint i = 0; i < gl_NumSubgroups; i++)
        s += row_red[i];
    barrier();
    return s;
}
#endif
