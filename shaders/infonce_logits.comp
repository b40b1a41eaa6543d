#version 450
// L[i,j] = exp(logit_scale) * q_i . r_j, one cell per invocation (B <= 256, so B*B is small).
#include "infonce_common.glsl"
layout(local_size_x = 64) in;
void main()
{
    uint t = ops_linear_id();
    if (t >= p.B * p.B)
        return;
    uint i = t / p.B, j = t % p.B;
    float acc = 0.0;
    for (uint d = 0; d < p.D; d++)
        acc += bq.d[p.oq + i * p.D + d] * br.d[p.or_ + j * p.D + d];
    bs.d[o_L() + t] = exp(bls.d[p.ols]) * acc;
}
