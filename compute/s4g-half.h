/* s4g-half.h — the engine's one conversion between 16-bit floats and float32.
 *
 * IEEE binary16 ("fp16", "half") both ways: float -> half rounds to nearest, ties to even;
 * values from 65520 up overflow to infinity; results below the smallest normal become
 * subnormals (or signed zero); infinities keep their sign; a NaN stays a quiet NaN with
 * its sign and the top 9 bits of its payload.  half -> float is exact for every pattern.
 * bfloat16 ("bf16", the top half of a float32) -> float32 is exact for every pattern.
 *
 * Used by the fp16 gallery storage of the search (CPU and Vulkan packing) and by the
 * safetensors reader (F16 and BF16 tensors).  tests/compute/test-half.c checks all 65536
 * patterns of both formats and every rounding boundary of float -> half.
 */
#ifndef S4G_HALF_H
#define S4G_HALF_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

uint16_t s4g_half_from_float(float f);
float s4g_half_to_float(uint16_t h);
float s4g_bf16_to_float(uint16_t b);

/* Whole arrays: dst[i] = conversion of src[i] for i < n.  half -> float goes through a
 * 256 KiB table built once (thread-safe), which beats the bit fiddling per element. */
void s4g_half_from_float_n(const float *src, uint16_t *dst, size_t n);
void s4g_half_to_float_n(const uint16_t *src, float *dst, size_t n);

#ifdef __cplusplus
}
#endif
#endif
