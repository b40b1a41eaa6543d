// gemm.comp — C[M,N] = alpha * op(A) op(B) + beta * C + bias[N], row-major, fp32.
// op(A) = A[M,K] (TA=0) or A[K,M]^T (TA=1); op(B) = B[K,N] (TB=0) or B[N,K]^T (TB=1).
// Register-blocked: each invocation owns a 4x4 block of C (rows wg.y*32 + ly + 8r, columns
// wg.x*32 + lx + 8c), so neighbouring invocations touch neighbouring columns.  No shared
// memory: on lavapipe barriers cost more than they save (toolchain notes §3); a cooperative-
// matrix variant for GPUs is a separate shader chosen by the host wrapper.
// beta == 0 never reads C (it may hold garbage, as in BLAS).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 8, local_size_y = 8) in;
layout(constant_id = 0) const uint TA = 0;
layout(constant_id = 1) const uint TB = 0;
layout(std430, set = 0, binding = 0) readonly buffer B0 { float d[]; } A;
layout(std430, set = 0, binding = 1) readonly buffer B1 { float d[]; } B;
layout(std430, set = 0, binding = 2) buffer B2 { float d[]; } C;
layout(std430, set = 0, binding = 3) readonly buffer B3 { float d[]; } bias;
layout(push_constant) uniform P {
    uint M; uint N; uint K; uint oa; uint ob; uint oc; uint obias; uint has_bias; uint row0;
    float alpha; float beta;
} p;

void main()
{
    uint i0 = p.row0 + gl_WorkGroupID.y * 32 + gl_LocalInvocationID.y;
    uint j0 = gl_WorkGroupID.x * 32 + gl_LocalInvocationID.x;
    if (i0 >= p.M || j0 >= p.N) return;
    // Out-of-range rows/columns read a clamped (valid) index; their results are not stored.
    uint ri[4], cj[4];
    for (uint r = 0; r < 4; r++) ri[r] = min(i0 + 8 * r, p.M - 1);
    for (uint c = 0; c < 4; c++) cj[c] = min(j0 + 8 * c, p.N - 1);
    float acc[4][4];
    for (uint r = 0; r < 4; r++)
        for (uint c = 0; c < 4; c++) acc[r][c] = 0.0;
    for (uint k = 0; k < p.K; k++) {
        float a[4], b[4];
        for (uint r = 0; r < 4; r++)
            a[r] = TA == 0 ? A.d[p.oa + ri[r] * p.K + k] : A.d[p.oa + k * p.M + ri[r]];
        for (uint c = 0; c < 4; c++)
            b[c] = TB == 0 ? B.d[p.ob + k * p.N + cj[c]] : B.d[p.ob + cj[c] * p.K + k];
        for (uint r = 0; r < 4; r++)
            for (uint c = 0; c < 4; c++) acc[r][c] = fma(a[r], b[c], acc[r][c]);
    }
    for (uint r = 0; r < 4; r++) {
        uint i = i0 + 8 * r;
        if (i >= p.M) break;
        for (uint c = 0; c < 4; c++) {
            uint j = j0 + 8 * c;
            if (j >= p.N) break;
            float v = p.alpha * acc[r][c];
            if (p.beta != 0.0) v = fma(p.beta, C.d[p.oc + i * p.N + j], v);
            if (p.has_bias != 0) v += bias.d[p.obias + j];
            C.d[p.oc + i * p.N + j] = v;
        }
    }
}
