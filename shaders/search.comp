#version 450
// Similarity search over one gallery chunk, fused: scores are computed and consumed at once,
// never stored as a Q x N matrix.  Invocation (query qi of the block, slice s of the chunk).
// mode 0 (top-k): scans its slice in index order keeping the best k (score desc, lower index
//   first on ties) in a private sorted list; writes k (score bits, local index) pairs,
//   index 0xffffffff for empty slots.  The host merges slices and chunks.
// mode 1 (count): out[qi, s] = #rows of the slice with score STRICTLY > thresh[qi].
// mode 2 (score): s == 0 only; out[qi] = score with row aux[qi] (0xffffffff: not in chunk).
// The gallery is fp32 or, with FP16, pairs of halves packed in uint words (unpackHalf2x16
// needs no 16-bit storage feature); products are always accumulated in fp32.
#include "ops_index.glsl"
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint KMAX = 256;
layout(std430, set = 0, binding = 0) readonly buffer B0 { uint d[]; } bg;
layout(std430, set = 0, binding = 1) readonly buffer B1 { float d[]; } bq;
layout(std430, set = 0, binding = 2) readonly buffer B2 { uint d[]; } baux;
layout(std430, set = 0, binding = 3) writeonly buffer B3 { uint d[]; } bout;
layout(push_constant) uniform P {
    uint og, oq, oaux, oout, nrows, dim, stride, nq, slice_len, nslices, k, fp16, mode;
} p;

float dot_row(uint qi, uint row)
{
    uint g = p.og + row * p.stride, q = p.oq + qi * p.dim;
    precise float acc = 0.0; /* same rounding at every call site: count vs score */
    if (p.fp16 != 0u) {
        uint d = 0;
        for (; d + 1u < p.dim; d += 2u) {
            vec2 h = unpackHalf2x16(bg.d[g + d / 2u]);
            acc += h.x * bq.d[q + d] + h.y * bq.d[q + d + 1u];
        }
        if (d < p.dim)
            acc += unpackHalf2x16(bg.d[g + d / 2u]).x * bq.d[q + d];
    } else {
        for (uint d = 0; d < p.dim; d++)
            acc += uintBitsToFloat(bg.d[g + d]) * bq.d[q + d];
    }
    return acc;
}

float ts[KMAX];
uint ti[KMAX];

void main()
{
    uint t = ops_linear_id();
    if (t >= p.nq * p.nslices)
        return;
    /* neighbouring invocations: same slice, different queries, so a workgroup streams each
     * gallery row once (broadcast loads) while the small query block stays in cache */
    uint qi = t % p.nq, s = t / p.nq;
    uint slot = qi * p.nslices + s; /* output layout: [query][slice] */
    uint r0 = s * p.slice_len, r1 = min(r0 + p.slice_len, p.nrows);
    if (p.mode == 2u) {
        if (s != 0u)
            return;
        uint ref = baux.d[p.oaux + qi];
        if (ref != 0xffffffffu && ref < p.nrows)
            bout.d[p.oout + qi] = floatBitsToUint(dot_row(qi, ref));
        return;
    }
    if (p.mode == 1u) {
        float th = uintBitsToFloat(baux.d[p.oaux + qi]);
        uint c = 0;
        for (uint r = r0; r < r1; r++)
            c += dot_row(qi, r) > th ? 1u : 0u;
        bout.d[p.oout + slot] = c;
        return;
    }
    uint k = min(p.k, KMAX), n = 0;
    for (uint r = r0; r < r1; r++) {
        float v = dot_row(qi, r);
        if (n == k && !(v > ts[k - 1u]))
            continue; /* ties keep the earlier (lower) index */
        uint pos = n < k ? n : k - 1u;
        while (pos > 0u && ts[pos - 1u] < v) {
            ts[pos] = ts[pos - 1u];
            ti[pos] = ti[pos - 1u];
            pos--;
        }
        ts[pos] = v;
        ti[pos] = r;
        if (n < k)
            n++;
    }
    uint o = p.oout + slot * 2u * p.k;
    for (uint m = 0; m < p.k; m++) {
        bout.d[o + 2u * m] = m < n ? floatBitsToUint(ts[m]) : 0u;
        bout.d[o + 2u * m + 1u] = m < n ? ti[m] : 0xffffffffu;
    }
}
