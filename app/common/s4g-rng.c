/* s4g-rng.c — xoshiro256** (Blackman & Vigna) seeded by splitmix64. */
#include "s4g-rng.h"

#include <math.h>

uint64_t s4g_rng_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t s4g_rng_hash64(uint64_t x)
{
    uint64_t s = x;
    return s4g_rng_splitmix64(&s);
}

void s4g_rng_init(S4gRng *rng, uint64_t seed)
{
    uint64_t st = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = s4g_rng_splitmix64(&st);
    /* xoshiro must not start from all zeros; splitmix64 never yields four zeros in a row,
     * but be explicit about it. */
    if (!(rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]))
        rng->s[0] = 1;
}

S4gRng s4g_rng_derive(uint64_t seed, uint64_t stream)
{
    S4gRng r;
    /* Mix the stream index through its own hash so adjacent streams are unrelated. */
    s4g_rng_init(&r, seed ^ s4g_rng_hash64(stream * 0xd1342543de82ef95ull + 0x2545f4914f6cdd1dull));
    return r;
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t s4g_rng_next(S4gRng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double s4g_rng_uniform(S4gRng *rng)
{
    return (double)(s4g_rng_next(rng) >> 11) * 0x1.0p-53;
}

double s4g_rng_range(S4gRng *rng, double lo, double hi)
{
    return lo + (hi - lo) * s4g_rng_uniform(rng);
}

uint32_t s4g_rng_below(S4gRng *rng, uint32_t n)
{
    /* Lemire's multiply-shift with rejection: unbiased and cheap. */
    uint64_t m = (uint64_t)(uint32_t)(s4g_rng_next(rng) >> 32) * n;
    uint32_t l = (uint32_t)m;
    if (l < n) {
        uint32_t t = (uint32_t)(-n) % n;
        while (l < t) {
            m = (uint64_t)(uint32_t)(s4g_rng_next(rng) >> 32) * n;
            l = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

double s4g_rng_normal(S4gRng *rng)
{
    double u1 = 1.0 - s4g_rng_uniform(rng); /* (0, 1] so log() is finite */
    double u2 = s4g_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

void s4g_rng_shuffle_u32(S4gRng *rng, uint32_t *v, uint32_t n)
{
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = s4g_rng_below(rng, i);
        uint32_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}
