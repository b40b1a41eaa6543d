/* test-half.c — compute/s4g-half: fp16 <-> fp32 and bf16 -> fp32 against references built
 * from the formats' definitions (value = mantissa * 2^exponent, evaluated in double), for
 * all 65536 patterns of both formats; float -> half at every rounding boundary of every
 * half (exact value, tie, one float ulp either side of the tie), on a strided sweep of all
 * float bit patterns against a nearest-half search, and on NaNs. */
#include <float.h>
#include <glib.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "s4g-half.h"

static uint32_t bits_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float float_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Value of a binary16 pattern from the definition; NaN patterns are not asked for. */
static double half_value(uint16_t h)
{
    int e = (h >> 10) & 31, m = h & 0x3ff;
    double v = e == 0 ? ldexp(m, -24) : e == 31 ? INFINITY : ldexp(1024 + m, e - 25);
    return h & 0x8000 ? -v : v;
}

/* Value of a bfloat16 pattern: 8 exponent bits (bias 127), 7 mantissa bits. */
static double bf16_value(uint16_t b)
{
    int e = (b >> 7) & 255, m = b & 0x7f;
    double v = e == 0 ? ldexp(m, -133) : e == 255 ? INFINITY : ldexp(128 + m, e - 134);
    return b & 0x8000 ? -v : v;
}

/* A float NaN with the half's payload in its top mantissa bits (what widening keeps). */
static void assert_nan_widened(float f, uint32_t sign, uint32_t payload, int payload_bits)
{
    uint32_t u = bits_of(f);
    g_assert_true(isnan(f));
    g_assert_cmphex(u & 0x80000000u, ==, sign);
    g_assert_cmphex((u & 0x7fffffu) >> (23 - payload_bits), ==, payload);
    g_assert_cmphex(u & ((1u << (23 - payload_bits)) - 1), ==, 0);
}

/* Every pattern of a 16-bit format widened to float: exactly its value, NaNs with payload. */
static void check_widen_all(const char *what, float (*widen)(uint16_t), double (*value)(uint16_t),
                            uint32_t exp_mask, int mant_bits)
{
    uint32_t mant_mask = (1u << mant_bits) - 1;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = widen((uint16_t)h);
        if ((h & exp_mask) == exp_mask && (h & mant_mask)) {
            assert_nan_widened(f, (h & 0x8000u) << 16, h & mant_mask, mant_bits);
            continue;
        }
        float want = (float)value((uint16_t)h); /* exact: 16-bit values fit a float */
        if (bits_of(f) != bits_of(want))
            g_error("%s 0x%04x -> %a (bits 0x%08x), want %a (0x%08x)", what, h, f, bits_of(f),
                    want, bits_of(want));
    }
}

static void test_half_to_float_all(void)
{
    check_widen_all("half", s4g_half_to_float, half_value, 0x7c00, 10);
}

static void test_bf16_to_float_all(void)
{
    check_widen_all("bf16", s4g_bf16_to_float, bf16_value, 0x7f80, 7);
}

static void check_from(float x, uint16_t want)
{
    uint16_t got = s4g_half_from_float(x);
    if (got != want)
        g_error("float %a (0x%08x) -> half 0x%04x, want 0x%04x", x, bits_of(x), got, want);
}

/* Every finite non-negative half h and its successor h+1 (0x7c00 = inf after the largest):
 * h itself, the midpoint (a tie: the even pattern wins) and one float ulp either side of
 * it; the same with the sign bit set. */
static void test_half_from_float_boundaries(void)
{
    for (uint32_t h = 0; h < 0x7c00; h++) {
        double lo = half_value((uint16_t)h);
        double hi = h == 0x7bff ? 65536.0 : half_value((uint16_t)(h + 1)); /* 2^16: past max */
        float mid = (float)((lo + hi) / 2); /* 12 significant bits: exact in a float */
        g_assert_cmpfloat((double)mid, ==, (lo + hi) / 2);
        uint16_t even = (h & 1) ? (uint16_t)(h + 1) : (uint16_t)h;
        for (uint32_t s = 0; s <= 0x8000; s += 0x8000) {
            float sg = s ? -1.0f : 1.0f;
            check_from(sg * (float)lo, (uint16_t)(s | h));
            check_from(sg * mid, (uint16_t)(s | even));
            check_from(sg * nextafterf(mid, 0), (uint16_t)(s | h));
            check_from(sg * nextafterf(mid, INFINITY), (uint16_t)(s | (h + 1)));
        }
    }
    check_from(INFINITY, 0x7c00);
    check_from(-INFINITY, 0xfc00);
    check_from(FLT_MAX, 0x7c00);
    check_from(-FLT_MAX, 0xfc00);
    check_from(float_of(1), 0x0000);           /* smallest float subnormal */
    check_from(float_of(0x80000001u), 0x8000); /* keeps the sign of zero */
}

/* Reference float -> half: the nearest of all halves by value, ties to the even pattern;
 * from 65520 (the midpoint past the largest half) on, infinity. */
static uint16_t ref_from_float(float x, const double *pos, int npos)
{
    uint16_t sign = signbit(x) ? 0x8000 : 0;
    double a = fabs((double)x);
    if (a >= 65520.0)
        return sign | 0x7c00;
    int lo = 0, hi = npos - 1; /* pos[] ascends: last index with pos[i] <= a */
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (pos[mid] <= a)
            lo = mid;
        else
            hi = mid - 1;
    }
    int h = lo;
    if (h + 1 < npos) {
        double dl = a - pos[h], du = pos[h + 1] - a;
        if (du < dl || (du == dl && (h & 1)))
            h++;
    }
    return sign | (uint16_t)h;
}

static void test_half_from_float_sweep(void)
{
    static double pos[0x7c00];
    for (int h = 0; h < 0x7c00; h++)
        pos[h] = half_value((uint16_t)h);
    guint64 checked = 0;
    for (uint64_t u = 0; u <= 0xffffffffu; u += 251) { /* 17 million floats, every exponent */
        float x = float_of((uint32_t)u);
        if (isnan(x))
            continue;
        check_from(x, ref_from_float(x, pos, 0x7c00));
        checked++;
    }
    g_assert_cmpuint(checked, >, 16000000);
}

/* NaN in, quiet NaN out: sign kept, top payload bits kept, never turned into infinity. */
static void test_half_from_float_nan(void)
{
    for (uint32_t p = 1; p < 0x800000u; p += 4099) {
        for (int neg = 0; neg < 2; neg++) {
            uint32_t s = neg ? 0x80000000u : 0;
            uint16_t h = s4g_half_from_float(float_of(s | 0x7f800000u | p));
            g_assert_cmphex(h & 0x7e00, ==, 0x7e00);
            g_assert_cmphex(h & 0x8000u, ==, s >> 16);
            g_assert_cmphex(h & 0x1ff, ==, (p >> 13) & 0x1ff);
        }
    }
    g_assert_true(isnan(s4g_half_to_float(s4g_half_from_float(NAN))));
}

/* Spot checks a reader can verify by hand. */
static void test_half_examples(void)
{
    check_from(1.0f, 0x3c00);
    check_from(-2.0f, 0xc000);
    check_from(65504.0f, 0x7bff);
    check_from(65519.0f, 0x7bff);
    check_from(65520.0f, 0x7c00);
    check_from(ldexpf(1, -24), 0x0001);
    check_from(ldexpf(1, -25), 0x0000);        /* tie -> even 0 */
    check_from(ldexpf(3, -25), 0x0002);        /* tie -> even 2 */
    check_from(1.0f + ldexpf(1, -11), 0x3c00); /* tie -> even */
    check_from(1.0f + ldexpf(3, -11), 0x3c02); /* tie -> even */
    check_from(1.0f + ldexpf(1, -11) + ldexpf(1, -20), 0x3c01);
    check_from(ldexpf(1, -14) * 0.9999f, 0x0400); /* rounds up to the smallest normal */
    g_assert_cmpfloat(s4g_half_to_float(0x0001), ==, ldexp(1, -24));
    g_assert_cmpfloat(s4g_half_to_float(0x3555), ==, 0x1.554p-2);
    g_assert_cmpfloat(s4g_bf16_to_float(0x3f80), ==, 1.0);
    g_assert_cmpfloat(s4g_bf16_to_float(0xc049), ==, -3.140625);
}

/* The array forms give exactly the element forms. */
static void test_arrays(void)
{
    uint16_t *h = g_new(uint16_t, 65536), *back = g_new(uint16_t, 65536);
    float *f = g_new(float, 65536);
    for (uint32_t i = 0; i < 65536; i++)
        h[i] = (uint16_t)i;
    s4g_half_to_float_n(h, f, 65536);
    for (uint32_t i = 0; i < 65536; i++)
        g_assert_cmphex(bits_of(f[i]), ==, bits_of(s4g_half_to_float((uint16_t)i)));
    GRand *r = g_rand_new_with_seed(11);
    for (uint32_t i = 0; i < 65536; i++)
        f[i] = float_of(g_rand_int(r));
    g_rand_free(r);
    s4g_half_from_float_n(f, back, 65536);
    for (uint32_t i = 0; i < 65536; i++)
        g_assert_cmphex(back[i], ==, s4g_half_from_float(f[i]));
    g_free(h);
    g_free(back);
    g_free(f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/half/to-float/all", test_half_to_float_all);
    g_test_add_func("/half/bf16/all", test_bf16_to_float_all);
    g_test_add_func("/half/from-float/boundaries", test_half_from_float_boundaries);
    g_test_add_func("/half/from-float/sweep", test_half_from_float_sweep);
    g_test_add_func("/half/from-float/nan", test_half_from_float_nan);
    g_test_add_func("/half/examples", test_half_examples);
    g_test_add_func("/half/arrays", test_arrays);
    return g_test_run();
}
