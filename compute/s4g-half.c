/* s4g-half.c — fp16 <-> fp32 and bf16 -> fp32 (see s4g-half.h). */
#include "s4g-half.h"

#include <pthread.h>
#include <string.h>

uint16_t s4g_half_from_float(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u, mag = x & 0x7fffffffu;
    if (mag > 0x7f800000u) /* nan: quiet, top payload bits kept */
        return (uint16_t)(sign | 0x7e00u | ((mag >> 13) & 0x1ffu));
    if (mag >= 0x477ff000u) /* inf, or rounds to >= 65520: overflow to inf */
        return (uint16_t)(sign | 0x7c00u);
    if (mag < 0x38800000u) { /* below 2^-14: subnormal half (or zero) */
        if (mag < 0x33000000u) /* below 2^-25, half the smallest subnormal: zero */
            return (uint16_t)sign;
        uint32_t e = mag >> 23, m = (mag & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126 - e; /* 14..24 */
        uint32_t h = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1u)))
            h++; /* may carry into the smallest normal, which is the right result */
        return (uint16_t)(sign | h);
    }
    /* normal: rebias the exponent (127 -> 15) and drop 13 mantissa bits, ties to even */
    uint32_t h = (mag - 0x38000000u) >> 13, rem = mag & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u)))
        h++; /* may carry into the exponent, still the right rounding */
    return (uint16_t)(sign | h);
}

float s4g_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu, x;
    if (e == 0) {
        if (m == 0) {
            x = sign;
        } else { /* subnormal: m * 2^-24, normalised into a float exponent */
            int shift = __builtin_clz(m) - 21; /* brings the leading 1 to bit 10 */
            m = (m << shift) & 0x3ffu;
            x = sign | ((uint32_t)(113 - shift) << 23) | (m << 13);
        }
    } else if (e == 31) {
        x = sign | 0x7f800000u | (m << 13);
    } else {
        x = sign | ((e + 112) << 23) | (m << 13);
    }
    float f;
    memcpy(&f, &x, 4);
    return f;
}

float s4g_bf16_to_float(uint16_t b)
{
    uint32_t x = (uint32_t)b << 16;
    float f;
    memcpy(&f, &x, 4);
    return f;
}

void s4g_half_from_float_n(const float *src, uint16_t *dst, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = s4g_half_from_float(src[i]);
}

static float half_table[65536];
static pthread_once_t half_once = PTHREAD_ONCE_INIT;

static void half_table_init(void)
{
    for (uint32_t h = 0; h < 65536; h++)
        half_table[h] = s4g_half_to_float((uint16_t)h);
}

void s4g_half_to_float_n(const uint16_t *src, float *dst, size_t n)
{
    pthread_once(&half_once, half_table_init);
    for (size_t i = 0; i < n; i++)
        dst[i] = half_table[src[i]];
}
