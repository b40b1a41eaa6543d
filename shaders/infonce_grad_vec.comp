#version 450
// t < B*D: dq[i,d] = s * sum_j G[i,j] r[j,d];  else dr[j,d] = s * sum_i G[i,j] q[i,d].
#include "infonce_common.glsl"
layout(local_size_x = 64) in;
void main()
{
    uint t = ops_linear_id();
    uint n = p.B * p.D;
    if (t >= 2u * n)
        return;
    float s = exp(bls.d[p.ols]);
    if (t < n) {
        if ((p.flags & 1u) == 0u)
            return;
        uint i = t / p.D, d = t % p.D;
        float acc = 0.0;
        for (uint j = 0; j < p.B; j++)
            acc += bs.d[o_G() + i * p.B + j] * br.d[p.or_ + j * p.D + d];
        bdq.d[p.odq + t] = s * acc;
    } else {
        if ((p.flags & 2u) == 0u)
            return;
        uint u = t - n, j = u / p.D, d = u % p.D;
        float acc = 0.0;
        for (uint i = 0; i < p.B; i++)
            acc += bs.d[o_G() + i * p.B + j] * bq.d[p.oq + i * p.D + d];
        bdr.d[p.odr + u] = s * acc;
    }
}
