#version 450
// Row i: G[i,j] = ((softmax_row - t) + (softmax_col - t)) / (2B) and
// gsum[i] = sum_j G[i,j] L[i,j]  (so dloss/dlogit_scale = sum_i gsum[i]).
#include "infonce_common.glsl"
layout(local_size_x = 64) in;
void main()
{
    uint i = ops_linear_id();
    if (i >= p.B)
        return;
    float lr = bs.d[o_lse_row() + i], gs = 0.0;
    for (uint j = 0; j < p.B; j++) {
        float z = bs.d[o_L() + i * p.B + j];
        float g = (exp(z - lr) + exp(z - bs.d[o_lse_col() + j]) - 2.0 * target(i, j)) / (2.0 * float(p.B));
        bs.d[o_G() + i * p.B + j] = g;
        gs += g * z;
    }
    bs.d[o_gsum() + i] = gs;
}
