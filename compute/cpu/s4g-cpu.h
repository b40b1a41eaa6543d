/* s4g-cpu.h — private: the native CPU backend (plain C loops the compiler vectorises,
 * OpenBLAS for GEMM, a small thread pool over rows/batch). */
#ifndef S4G_CPU_H
#define S4G_CPU_H

#include "../s4g-backend.h"

/* Pointer to element `t.off` of a CPU buffer. */
static inline float *s4g_cpu_ptr(s4g_t t)
{
    return t.buf ? t.buf->host + t.off : (float *)0;
}

/* The op table of the CPU backend; entries are filled by the op files. */
extern const s4g_backend_ops s4g_cpu_ops;

#endif
