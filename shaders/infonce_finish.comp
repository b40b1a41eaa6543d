#version 450
// One invocation: loss = (sum row losses + sum column losses) / (2B); dscale += sum gsum.
// Serial in index order: deterministic, and B <= 256 makes it cheap.
#include "infonce_common.glsl"
layout(local_size_x = 1) in;
void main()
{
    float l = 0.0, g = 0.0;
    for (uint i = 0; i < p.B; i++) {
        l += bs.d[o_loss_row() + i] + bs.d[o_loss_col() + i];
        g += bs.d[o_gsum() + i];
    }
    bloss.d[p.oloss] = l / (2.0 * float(p.B));
    if ((p.flags & 4u) != 0u)
        bdscale.d[p.odscale] += g;
}
