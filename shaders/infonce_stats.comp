#version 450
// Invocation t < B: row t of L; t >= B: column t-B.  Max-shifted log-sum-exp and the
// label-smoothed cross-entropy of that line: lse - sum_j target_j * z_j.
#include "infonce_common.glsl"
layout(local_size_x = 64) in;
void main()
{
    uint t = ops_linear_id();
    if (t >= 2u * p.B)
        return;
    bool col = t >= p.B;
    uint a = col ? t - p.B : t;
    float m = -3.4e38;
    for (uint k = 0; k < p.B; k++)
        m = max(m, bs.d[o_L() + (col ? k * p.B + a : a * p.B + k)]);
    float se = 0.0, tz = 0.0;
    for (uint k = 0; k < p.B; k++) {
        float z = bs.d[o_L() + (col ? k * p.B + a : a * p.B + k)];
        se += exp(z - m);
        tz += target(a, k) * z;
    }
    float lse = m + log(se);
    bs.d[(col ? o_lse_col() : o_lse_row()) + a] = lse;
    bs.d[(col ? o_loss_col() : o_loss_row()) + a] = lse - tz;
}
