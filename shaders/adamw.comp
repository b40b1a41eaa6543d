// adamw.comp — PyTorch AdamW (single-tensor path, amsgrad off), in torch's operation order;
// scalar factors (1-b1, 1-b2, decay, step size) formed in double on the host:
//   p *= 1 - lr*wd; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
//   p -= step_size * m / (sqrt(v) / bc2_sqrt + eps),  step_size = lr / (1 - b1^t),
//   bc2_sqrt = sqrt(1 - b2^t) (both computed on the host in double).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(local_size_x = 128) in;
layout(std430, set = 0, binding = 0) buffer B0 { float d[]; } P_;
layout(std430, set = 0, binding = 1) readonly buffer B1 { float d[]; } G;
layout(std430, set = 0, binding = 2) buffer B2 { float d[]; } M;
layout(std430, set = 0, binding = 3) buffer B3 { float d[]; } V;
layout(push_constant) uniform P {
    uint n; uint op; uint og; uint om; uint ov;
    float decay; float beta1; float beta2; float omb1; float omb2; float eps; float step_size;
    float bc2_sqrt;
} p;
void main()
{
    uint i = s4g_index();
    if (i >= p.n) return;
    float g = G.d[p.og + i];
    float w = P_.d[p.op + i] * p.decay;
    float m = p.beta1 * M.d[p.om + i] + p.omb1 * g;
    float v = p.beta2 * V.d[p.ov + i] + p.omb2 * g * g;
    M.d[p.om + i] = m;
    V.d[p.ov + i] = v;
    P_.d[p.op + i] = w - p.step_size * (m / (sqrt(v) / p.bc2_sqrt + p.eps));
}
