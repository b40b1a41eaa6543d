/* s4g-rng.h — the project's own seeded PRNG (xoshiro256** seeded through splitmix64).
 * Never rand(): results must be identical on every libc and independent of threads.  A
 * generator is split per location/thread with s4g_rng_derive(seed, stream), so work that
 * runs in parallel draws the same numbers whatever the scheduling. */
#pragma once

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} S4gRng;

/* One splitmix64 step: advances *state and returns a well-mixed 64-bit value. */
uint64_t s4g_rng_splitmix64(uint64_t *state);
/* Stateless 64-bit mix of a value (for hashing coordinates into noise). */
uint64_t s4g_rng_hash64(uint64_t x);
void s4g_rng_init(S4gRng *rng, uint64_t seed);
/* A generator for sub-stream `stream` of `seed` (e.g. one per location). */
S4gRng s4g_rng_derive(uint64_t seed, uint64_t stream);
uint64_t s4g_rng_next(S4gRng *rng);
/* Uniform double in [0, 1) with 53 random bits. */
double s4g_rng_uniform(S4gRng *rng);
double s4g_rng_range(S4gRng *rng, double lo, double hi);
/* Uniform integer in [0, n) without modulo bias; n > 0. */
uint32_t s4g_rng_below(S4gRng *rng, uint32_t n);
/* Standard normal (Box–Muller, one value per call). */
double s4g_rng_normal(S4gRng *rng);
/* Fisher–Yates shuffle of n uint32 values. */
void s4g_rng_shuffle_u32(S4gRng *rng, uint32_t *v, uint32_t n);
