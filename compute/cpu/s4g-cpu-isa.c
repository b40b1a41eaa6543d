/* s4g-cpu-isa.c — what this CPU can run, decided once at program start:
 *
 *  - the vector path of the non-GEMM kernels (s4g-cpu-simd.c is compiled once per path:
 *    baseline x86-64, AVX2+FMA, AVX-512), the best the CPU and OS support, or the one
 *    S4G_CPU_ISA=baseline|avx2|avx512 names;
 *  - the OpenBLAS kernel set (see blas_select below), so a CPU that OpenBLAS does not know
 *    never falls back silently to its SSE3 "Prescott" kernels.
 *
 * s4g_cpu_info_get() reports both with their reasons (`s4g info`, `s4g bench --json`). */
#include "s4g-cpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#if defined(__x86_64__)
#include <cpuid.h>
#define S4G_X86 1
#endif

#ifdef S4G_HAVE_OPENBLAS
#include <cblas.h>
/* OpenBLAS built with DYNAMIC_ARCH (Debian's, most distributions') exports these: the
 * kernel-table selection its library constructor runs, and its reset.  Weak, so that an
 * OpenBLAS built for one fixed target (without them) still links; then we only report. */
extern void gotoblas_dynamic_init(void) __attribute__((weak));
extern void gotoblas_dynamic_quit(void) __attribute__((weak));
#endif

/* ---------------------------------------------------------------- CPU features */

enum {
    F_AVX = 1 << 0,
    F_FMA = 1 << 1,
    F_F16C = 1 << 2,
    F_AVX2 = 1 << 3,
    F_AVX512F = 1 << 4,
    F_AVX512BW = 1 << 5,
    F_AVX512VL = 1 << 6,
    F_AVX512DQ = 1 << 7,
    F_AVX512FP16 = 1 << 8,
};

static const struct {
    unsigned bit;
    const char *name;
} feature_names[] = {
    {F_AVX512F, "avx512f"}, {F_AVX512BW, "avx512bw"}, {F_AVX512VL, "avx512vl"},
    {F_AVX512DQ, "avx512dq"}, {F_AVX512FP16, "avx512fp16"}, {F_AVX2, "avx2"},
    {F_FMA, "fma"}, {F_AVX, "avx"}, {F_F16C, "f16c"},
};

#define F_AVX512_SET (F_AVX512F | F_AVX512BW | F_AVX512VL | F_AVX512DQ)

/* Features the CPU has and the OS saves the registers of (XCR0): a hypervisor can hide
 * the AVX-512 state even where cpuid lists the instructions. */
static unsigned detect_features(void)
{
    unsigned f = 0;
#ifdef S4G_X86
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    int osxsave = (c >> 27) & 1;
    unsigned long long xcr0 = 0;
    if (osxsave) {
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = ((unsigned long long)hi << 32) | lo;
    }
    int ymm_ok = (xcr0 & 0x6) == 0x6;    /* SSE + AVX state */
    int zmm_ok = (xcr0 & 0xe6) == 0xe6;  /* + opmask, ZMM0-15 high halves, ZMM16-31 */
    if (ymm_ok && ((c >> 28) & 1))
        f |= F_AVX;
    if (ymm_ok && ((c >> 12) & 1))
        f |= F_FMA;
    if (ymm_ok && ((c >> 29) & 1))
        f |= F_F16C;
    if (__get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        if (ymm_ok && ((b >> 5) & 1))
            f |= F_AVX2;
        if (zmm_ok) {
            f |= ((b >> 16) & 1) ? F_AVX512F : 0;
            f |= ((b >> 17) & 1) ? F_AVX512DQ : 0;
            f |= ((b >> 30) & 1) ? F_AVX512BW : 0;
            f |= ((b >> 31) & 1) ? F_AVX512VL : 0;
            f |= ((d >> 23) & 1) ? F_AVX512FP16 : 0;
        }
    }
#endif
    return f;
}

/* ---------------------------------------------------------------- state */

static struct {
    unsigned features;
    s4g_cpu_isa best;    /* best path the CPU supports */
    s4g_cpu_isa chosen;
    int isa_env_bad;     /* S4G_CPU_ISA names an unknown path or one the CPU lacks */
    s4g_cpu_info info;
} st;

const s4g_cpu_kernels *s4g_cpu_k = &s4g_cpu_kernels_baseline;

static const char *const isa_names[S4G_ISA_COUNT] = {"baseline", "avx2", "avx512"};

static const s4g_cpu_kernels *isa_table(s4g_cpu_isa isa)
{
#ifdef S4G_X86
    if (isa == S4G_ISA_AVX512)
        return &s4g_cpu_kernels_avx512;
    if (isa == S4G_ISA_AVX2)
        return &s4g_cpu_kernels_avx2;
#endif
    return &s4g_cpu_kernels_baseline;
}

const char *s4g_cpu_isa_name(s4g_cpu_isa isa)
{
    return isa >= 0 && isa < S4G_ISA_COUNT ? isa_names[isa] : "?";
}

int s4g_cpu_isa_supported(s4g_cpu_isa isa)
{
    return isa >= 0 && isa <= st.best;
}

int s4g_cpu_isa_force(s4g_cpu_isa isa)
{
    if (!s4g_cpu_isa_supported(isa))
        return -1;
    s4g_cpu_k = isa_table(isa);
    return 0;
}

s4g_cpu_isa s4g_cpu_isa_current(void)
{
    for (int i = 0; i < S4G_ISA_COUNT; i++)
        if (s4g_cpu_k == isa_table((s4g_cpu_isa)i))
            return (s4g_cpu_isa)i;
    return S4G_ISA_BASELINE;
}

static void isa_select(void)
{
    unsigned f = st.features;
    st.best = S4G_ISA_BASELINE;
#ifdef S4G_X86
    /* the avx2 path is x86-64-v3 (with F16C); the avx512 path uses its ymm code too */
    const unsigned v3 = F_AVX2 | F_FMA | F_F16C;
    if ((f & v3) == v3)
        st.best = S4G_ISA_AVX2;
    if ((f & (v3 | F_AVX512_SET)) == (v3 | F_AVX512_SET))
        st.best = S4G_ISA_AVX512;
#endif
    st.chosen = st.best;
    const char *env = getenv("S4G_CPU_ISA");
    s4g_cpu_info *in = &st.info;
    if (env && *env) {
        int want = -1;
        for (int i = 0; i < S4G_ISA_COUNT; i++)
            if (!strcasecmp(env, isa_names[i]))
                want = i;
        if (want < 0) {
            st.isa_env_bad = 1;
            snprintf(in->isa_why, sizeof in->isa_why,
                     "S4G_CPU_ISA=%s is not one of baseline, avx2, avx512", env);
        } else if (want > (int)st.best) {
            st.isa_env_bad = 1;
            snprintf(in->isa_why, sizeof in->isa_why,
                     "S4G_CPU_ISA=%s, but this CPU supports at most %s", env, isa_names[st.best]);
        } else {
            st.chosen = (s4g_cpu_isa)want;
            snprintf(in->isa_why, sizeof in->isa_why, "S4G_CPU_ISA=%s set by the user", env);
        }
    } else if (st.best == S4G_ISA_AVX512) {
        snprintf(in->isa_why, sizeof in->isa_why, "CPU and OS support AVX-512F/BW/VL/DQ");
    } else if (st.best == S4G_ISA_AVX2) {
        snprintf(in->isa_why, sizeof in->isa_why,
                 "CPU supports AVX2+FMA+F16C%s", (f & F_AVX512F) ? " (AVX-512 incomplete or not "
                                                              "enabled by the OS)" : "");
    } else {
        snprintf(in->isa_why, sizeof in->isa_why, "CPU lacks AVX2+FMA+F16C");
    }
    s4g_cpu_k = isa_table(st.chosen);
    snprintf(in->isa, sizeof in->isa, "%s", isa_names[st.chosen]);
}

/* ---------------------------------------------------------------- OpenBLAS kernel set */

#ifdef S4G_HAVE_OPENBLAS
/* Vector width class of an OpenBLAS kernel set: 3 AVX-512, 2 AVX2, 1 AVX, 0 SSE. */
static int coretype_rank(const char *core)
{
    static const char *const r3[] = {"skylakex", "cooperlake", "sapphirerapids"};
    static const char *const r2[] = {"haswell", "zen", "excavator"};
    static const char *const r1[] = {"sandybridge", "bulldozer", "piledriver", "steamroller"};
    for (size_t i = 0; i < sizeof r3 / sizeof *r3; i++)
        if (!strcasecmp(core, r3[i]))
            return 3;
    for (size_t i = 0; i < sizeof r2 / sizeof *r2; i++)
        if (!strcasecmp(core, r2[i]))
            return 2;
    for (size_t i = 0; i < sizeof r1 / sizeof *r1; i++)
        if (!strcasecmp(core, r1[i]))
            return 1;
    return 0;
}

int s4g_cpu_blas_use(const char *coretype)
{
    if (!gotoblas_dynamic_init || !gotoblas_dynamic_quit)
        return -1;
    /* OpenBLAS reads OPENBLAS_CORETYPE only inside gotoblas_dynamic_init; put the caller's
     * environment back afterwards, so child processes make their own choice. */
    const char *old = getenv("OPENBLAS_CORETYPE");
    char *saved = old ? strdup(old) : NULL;
    setenv("OPENBLAS_CORETYPE", coretype, 1);
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    if (saved)
        setenv("OPENBLAS_CORETYPE", saved, 1);
    else
        unsetenv("OPENBLAS_CORETYPE");
    free(saved);
    return strcasecmp(openblas_get_corename(), coretype) == 0 ? 0 : -1;
}
#endif

/* OpenBLAS picks its kernel set in its own library constructor, which the dynamic loader
 * runs before any constructor of this program, so setting OPENBLAS_CORETYPE from here would
 * be too late.  Instead we check what it picked and, where the CPU supports wider vectors
 * than that kernel set uses (OpenBLAS 0.3.21 does not know e.g. AMD Zen 4 and falls back to
 * the SSE3 "Prescott" set), rerun OpenBLAS's own selection with OPENBLAS_CORETYPE naming
 * the matching set (SkylakeX / Haswell / Sandybridge).  This is the engine's one
 * environment side channel: it lives only for the call, happens once, here, before main()
 * and before any BLAS call or thread of ours, and a user-set OPENBLAS_CORETYPE always wins. */
static void blas_select(void)
{
    s4g_cpu_info *in = &st.info;
#ifdef S4G_HAVE_OPENBLAS
    const char *core = openblas_get_corename();
    const char *user = getenv("OPENBLAS_CORETYPE");
    unsigned f = st.features;
    const char *want = NULL, *what = NULL;
    if ((f & F_AVX512_SET) == F_AVX512_SET) {
        want = "SkylakeX";
        what = "AVX-512F/BW/VL/DQ";
    } else if ((f & (F_AVX2 | F_FMA)) == (F_AVX2 | F_FMA)) {
        want = "Haswell";
        what = "AVX2+FMA";
    } else if (f & F_AVX) {
        want = "Sandybridge";
        what = "AVX";
    }
    if (user && *user) {
        snprintf(in->blas_why, sizeof in->blas_why,
                 "OPENBLAS_CORETYPE=%s set by the user (OpenBLAS runs %s)", user, core);
    } else if (!want) {
        snprintf(in->blas_why, sizeof in->blas_why,
                 "OpenBLAS's own choice (the CPU has no AVX)");
    } else if (coretype_rank(core) >= coretype_rank(want)) {
        snprintf(in->blas_why, sizeof in->blas_why,
                 "OpenBLAS's own choice; it uses the CPU's %s", what);
    } else if (!gotoblas_dynamic_init) {
        snprintf(in->blas_why, sizeof in->blas_why,
                 "OpenBLAS built for one target (no DYNAMIC_ARCH): %s kernels although the "
                 "CPU has %s", core, what);
    } else {
        char before[32];
        snprintf(before, sizeof before, "%s", core);
        if (s4g_cpu_blas_use(want) == 0)
            snprintf(in->blas_why, sizeof in->blas_why,
                     "CPU has %s; OpenBLAS picked %s for this CPU model, switched to %s",
                     what, before, want);
        else
            snprintf(in->blas_why, sizeof in->blas_why,
                     "CPU has %s; OpenBLAS picked %s and refused %s (now %s)", what, before,
                     want, openblas_get_corename());
    }
    snprintf(in->blas, sizeof in->blas, "%s", openblas_get_corename());
#else
    snprintf(in->blas, sizeof in->blas, "none");
    snprintf(in->blas_why, sizeof in->blas_why, "built without OpenBLAS: blocked C GEMM");
#endif
}

#ifdef S4G_HAVE_OPENBLAS
void s4g_cpu_blas_reselect(void)
{
    blas_select();
}
#endif

__attribute__((constructor)) static void cpu_startup(void)
{
    st.features = detect_features();
    char *p = st.info.features;
    size_t left = sizeof st.info.features;
    p[0] = '\0';
    for (size_t i = 0; i < sizeof feature_names / sizeof *feature_names; i++) {
        if (!(st.features & feature_names[i].bit))
            continue;
        int n = snprintf(p, left, "%s%s", p == st.info.features ? "" : " ",
                         feature_names[i].name);
        if (n < 0 || (size_t)n >= left)
            break;
        p += n;
        left -= (size_t)n;
    }
    if (!st.features)
        snprintf(st.info.features, sizeof st.info.features, "sse2 only");
    isa_select();
    blas_select();
}

void s4g_cpu_info_get(s4g_cpu_info *info)
{
    *info = st.info;
#ifdef S4G_HAVE_OPENBLAS
    /* a test may have switched kernel sets since start-up */
    snprintf(info->blas, sizeof info->blas, "%s", openblas_get_corename());
#endif
    snprintf(info->isa, sizeof info->isa, "%s", isa_names[s4g_cpu_isa_current()]);
}

int s4g_cpu_isa_check(s4g_err *err)
{
    if (st.isa_env_bad)
        return s4g_fail(err, S4G_E_INVALID, "%s", st.info.isa_why);
    return 0;
}
