// ops_index.glsl — shared helpers of the network-op shaders (vk-ops family).
// Grids may be split over x/y/z to stay under maxComputeWorkGroupCount (65535 on
// lavapipe), so every kernel linearises its ids the same way.
#ifndef OPS_INDEX_GLSL
#define OPS_INDEX_GLSL

uint ops_linear_id()
{
    uint sx = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
    uint sy = gl_NumWorkGroups.y * gl_WorkGroupSize.y;
    return gl_GlobalInvocationID.x + sx * (gl_GlobalInvocationID.y + sy * gl_GlobalInvocationID.z);
}

uint ops_group_id()
{
    return gl_WorkGroupID.x +
           gl_NumWorkGroups.x * (gl_WorkGroupID.y + gl_NumWorkGroups.y * gl_WorkGroupID.z);
}

#endif
