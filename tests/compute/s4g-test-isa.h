/* s4g-test-isa.h — run a CPU-backend test once per vector path this CPU has (baseline,
 * avx2, avx512: s4g-cpu-simd.c is compiled once per path), whatever S4G_CPU_ISA says. */
#ifndef S4G_TEST_ISA_H
#define S4G_TEST_ISA_H

#include <glib.h>

#include "cpu/s4g-cpu.h"

typedef struct {
    s4g_cpu_isa isa;
    GTestFunc fn;
} tu_isa_case;

static void tu_isa_run(gconstpointer p)
{
    const tu_isa_case *c = p;
    s4g_cpu_isa before = s4g_cpu_isa_current();
    g_assert_cmpint(s4g_cpu_isa_force(c->isa), ==, 0);
    c->fn();
    g_assert_cmpint(s4g_cpu_isa_force(before), ==, 0);
}

/* Registers prefix/<path>/name for every supported path, e.g. /cpu/avx2/dwconv7. */
static inline void tu_add_isa(const char *prefix, const char *name, GTestFunc fn)
{
    for (int i = 0; i < S4G_ISA_COUNT; i++) {
        if (!s4g_cpu_isa_supported((s4g_cpu_isa)i))
            continue;
        tu_isa_case *c = g_new(tu_isa_case, 1); /* lives as long as the test program */
        c->isa = (s4g_cpu_isa)i;
        c->fn = fn;
        char *path = g_strdup_printf("%s/%s/%s", prefix, s4g_cpu_isa_name(c->isa), name);
        g_test_add_data_func(path, c, tu_isa_run);
        g_free(path);
    }
}

#endif
