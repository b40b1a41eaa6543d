/* s4g-cpu.h — private: the native CPU backend (plain C loops the compiler vectorises,
 * OpenBLAS for GEMM, a small blocking thread pool over rows/batch/channels).
 *
 * Threading rule: every reduction is split into pieces whose boundaries do not depend on
 * the thread count (fixed channel or row chunks), and the pieces are combined in a fixed
 * order, so results are bit-identical for any ctx->threads. */
#ifndef S4G_CPU_H
#define S4G_CPU_H

#include "../s4g-backend.h"

#include <stdint.h>

/* Pointer to element `t.off` of a CPU buffer. */
static inline float *s4g_cpu_ptr(s4g_t t)
{
    return t.buf ? t.buf->host + t.off : (float *)0;
}

/* Worker threads (s4g-cpu-pool.c).  s4g_cpu_parallel(ctx, n, work, fn, arg) calls
 * fn(arg, lo, hi) on contiguous ranges covering [0, n) — one per thread, boundaries fixed
 * by n and the thread count — and returns when all are done.  `work` (≈ floats touched or
 * flops) below S4G_CPU_PAR_MIN runs on the calling thread: waking the team costs more. */
typedef struct s4g_cpu_pool s4g_cpu_pool;
typedef void (*s4g_cpu_task)(void *arg, long lo, long hi);
s4g_cpu_pool *s4g_cpu_pool_new(int threads);
void s4g_cpu_pool_free(s4g_cpu_pool *pool);
int s4g_cpu_pool_size(const s4g_cpu_pool *pool);
void s4g_cpu_parallel(s4g_ctx *ctx, long n, double work, s4g_cpu_task fn, void *arg);

/* The blocked C GEMM's micro-kernel (builds without OpenBLAS) is also compiled for AVX2+FMA
 * and picked at load time (ifunc); the other hot loops use the explicit vector paths below,
 * which S4G_CPU_ISA can force and the tests run one by one. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define S4G_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define S4G_CLONES
#endif

#define S4G_CPU_PAR_MIN 32768

/* Vector paths of the non-GEMM kernels (s4g-cpu-isa.c picks one at program start; the
 * hot loops live in s4g-cpu-simd.c, compiled once per path with that path's -m flags). */
typedef enum { S4G_ISA_BASELINE, S4G_ISA_AVX2, S4G_ISA_AVX512, S4G_ISA_COUNT } s4g_cpu_isa;

/* AdamW's per-step factors (s4g-cpu-optim.c forms them in double, as torch does). */
typedef struct {
    float decay, b1, b2, omb1, omb2, step_size, bc2_sqrt, eps;
} s4g_cpu_adamw_f;

typedef struct s4g_cpu_kernels {
    /* y = x Phi(x) and dx = dy (Phi(x) + x phi(x)) on [0, n); erf/exp are polynomial
     * (|erf error| < 4e-7, see test-cpu-ops), not libm calls. */
    void (*gelu)(const float *x, float *y, long n);
    void (*gelu_back)(const float *x, const float *dy, float *dx, long n);
    /* Rows [h0, h1) of image n of the depthwise 7x7: out (H x W x C) = bias + taps of src;
     * `flip` = transposed conv (for dx), `accumulate` adds to out instead. */
    void (*dw_rows)(int H, int W, int C, const float *src_img, const float *wt,
                    const float *bias, int h0, int h1, float *out_img, int flip, int accumulate);
    /* dw, db of channels [c0, c0+cw) (cw <= 32) summed over every pixel, added into
     * pdw/pdb (either may be NULL). */
    void (*dw_param_grads)(int N, int H, int W, int C, const float *px, const float *pdy,
                           float *pdw, float *pdb, int c0, int cw);
    /* LayerNorm of one row of C channels, one pass over x for the statistics. */
    void (*layernorm_row)(int C, float eps, const float *x, const float *gamma,
                          const float *beta, float *y, float *mean, float *rstd);
    /* acc[c] += the sum over rows i < M of x[i * N + j0 + c], c < w <= 64: rows in order,
     * in double (the bias gradient; the same bits on every path). */
    void (*colsum_cols)(int M, int N, const float *x, int j0, int w, double *acc);
    /* The same for parameter gradients: axy[c] += dy * xh and (ay != NULL) ay[c] += dy,
     * xh = (x - mean[i]) * rstd[i] in float, or x when mean is NULL. */
    void (*dot_cols)(int M, int N, const float *dy, const float *x, const float *mean,
                     const float *rstd, int j0, int w, double *axy, double *ay);
    /* One AdamW update of n elements of p, m, v from the gradient g. */
    void (*adamw)(const s4g_cpu_adamw_f *f, float *p, const float *g, float *m, float *v,
                  long n);
    /* IEEE half -> float with F16C / AVX-512 (NULL on the baseline path). */
    void (*half_to_float)(const uint16_t *h, float *out, long n);
    /* tile[i * ldt + r - g0] = q_i . g_r, q [nq x dim], gallery rows [g0, g1) of g (float,
     * or IEEE halves when fp16); NULL on the baseline path. */
    void (*scores)(const float *q, int nq, const void *g, int fp16, int dim, long g0, long g1,
                   float *tile, long ldt);
} s4g_cpu_kernels;

extern const s4g_cpu_kernels s4g_cpu_kernels_baseline, s4g_cpu_kernels_avx2,
    s4g_cpu_kernels_avx512;
extern const s4g_cpu_kernels *s4g_cpu_k; /* the chosen path */

const char *s4g_cpu_isa_name(s4g_cpu_isa isa);
int s4g_cpu_isa_supported(s4g_cpu_isa isa);
/* Tests: switch every kernel to one path; -1 when the CPU lacks it. */
int s4g_cpu_isa_force(s4g_cpu_isa isa);
s4g_cpu_isa s4g_cpu_isa_current(void);
/* Fails when S4G_CPU_ISA names an unknown path or one this CPU lacks. */
int s4g_cpu_isa_check(s4g_err *err);
#ifdef S4G_HAVE_OPENBLAS
/* Tests: rerun OpenBLAS's kernel-set selection for `coretype` (e.g. "Haswell"); 0 when
 * OpenBLAS now runs it.  Only while no BLAS call is in flight. */
int s4g_cpu_blas_use(const char *coretype);
/* Tests: rerun the start-up choice of the OpenBLAS kernel set. */
void s4g_cpu_blas_reselect(void);
#endif

/* The op table of the CPU backend; entries are defined in the s4g-cpu-*.c files. */
extern const s4g_backend_ops s4g_cpu_ops;
extern const struct s4g_search_ops s4g_cpu_search_ops; /* s4g-cpu-search.c */

/* s4g-cpu-search.c: the CPU side of the gallery search.  Converts n halves on the pool with
 * the vector path's conversion; -1 (nothing done) when the path has none. */
int s4g_cpu_half_to_float(s4g_ctx *ctx, const uint16_t *h, float *out, size_t n);
/* Queries per call up to which s4g_cpu_scores beats convert + SGEMM: with few queries the
 * scan is bound by reading the gallery, which SGEMM's packing would copy once more. */
#define S4G_CPU_SCORES_MAX_Q 16
/* tile [nq x ng] = q [nq x dim] . gallery rows [ng x dim] (float or halves), gallery rows
 * split over the pool; -1 (nothing done) when the vector path has no such kernel. */
int s4g_cpu_scores(s4g_ctx *ctx, const float *q, int nq, const void *g, int fp16, int dim,
                   long ng, float *tile);

/* s4g-cpu-eltwise.c */
int s4g_cpu_fill(s4g_ctx *, size_t n, s4g_t x, float v, s4g_err *);
int s4g_cpu_copy(s4g_ctx *, size_t n, s4g_t src, s4g_t dst, s4g_err *);
int s4g_cpu_add(s4g_ctx *, size_t n, s4g_t a, s4g_t b, s4g_t out, s4g_err *);
int s4g_cpu_axpy(s4g_ctx *, size_t n, float alpha, s4g_t x, s4g_t y, s4g_err *);
int s4g_cpu_scale(s4g_ctx *, size_t n, float alpha, s4g_t x, s4g_err *);
int s4g_cpu_clamp(s4g_ctx *, size_t n, s4g_t x, float lo, float hi, s4g_err *);
int s4g_cpu_gelu(s4g_ctx *, size_t n, s4g_t x, s4g_t y, s4g_err *);
int s4g_cpu_gelu_back(s4g_ctx *, size_t n, s4g_t x, s4g_t dy, s4g_t dx, s4g_err *);

/* s4g-cpu-gemm.c */
int s4g_cpu_gemm(s4g_ctx *, int ta, int tb, int M, int N, int K, float alpha, s4g_t A, s4g_t B,
                 float beta, s4g_t C, s4g_t bias, s4g_err *);
int s4g_cpu_gemm_gelu(s4g_ctx *, int ta, int tb, int M, int N, int K, float alpha, s4g_t A,
                      s4g_t B, s4g_t bias, s4g_t H, s4g_t G, s4g_err *);
int s4g_cpu_gemm_gelu_back(s4g_ctx *, int ta, int tb, int M, int N, int K, float alpha,
                           s4g_t A, s4g_t B, s4g_t H, s4g_t T, s4g_t DH, s4g_err *);
int s4g_cpu_colsum(s4g_ctx *, int M, int N, s4g_t x, float beta, s4g_t out, s4g_err *);
/* The cache-blocked C GEMM used without OpenBLAS; exported so tests exercise it too.
 * Same semantics as s4g_gemm on raw row-major pointers; returns -1 only when out of memory. */
int s4g_cpu_gemm_blocked(s4g_ctx *ctx, int ta, int tb, int M, int N, int K, float alpha,
                         const float *A, const float *B, float beta, float *C, const float *bias);

/* s4g-cpu-conv.c */
int s4g_cpu_patchify(s4g_ctx *, int N, int H, int W, int C, int k, s4g_t x, s4g_t y, s4g_err *);
int s4g_cpu_patchify_back(s4g_ctx *, int N, int H, int W, int C, int k, s4g_t dy, s4g_t dx,
                          s4g_err *);
int s4g_cpu_dwconv7(s4g_ctx *, int N, int H, int W, int C, s4g_t x, s4g_t w, s4g_t b, s4g_t y,
                    s4g_err *);
int s4g_cpu_dwconv7_back(s4g_ctx *, int N, int H, int W, int C, s4g_t x, s4g_t w, s4g_t dy,
                         s4g_t dx, int accumulate, s4g_t dw, s4g_t db, s4g_err *);

/* s4g-cpu-norm.c */
int s4g_cpu_layernorm(s4g_ctx *, int rows, int C, float eps, s4g_t x, s4g_t gamma, s4g_t beta,
                      s4g_t y, s4g_t mean, s4g_t rstd, s4g_err *);
int s4g_cpu_layernorm_back(s4g_ctx *, int rows, int C, s4g_t x, s4g_t gamma, s4g_t mean,
                           s4g_t rstd, s4g_t dy, s4g_t dx, s4g_t dgamma, s4g_t dbeta, s4g_err *);
int s4g_cpu_scale_residual(s4g_ctx *, int rows, int C, s4g_t x, s4g_t y, s4g_t gamma, s4g_t out,
                           s4g_err *);
int s4g_cpu_scale_residual_back(s4g_ctx *, int rows, int C, s4g_t y, s4g_t gamma, s4g_t dout,
                                s4g_t dy, s4g_t dgamma, s4g_err *);
int s4g_cpu_avgpool(s4g_ctx *, int N, int HW, int C, s4g_t x, s4g_t y, s4g_err *);
int s4g_cpu_avgpool_back(s4g_ctx *, int N, int HW, int C, s4g_t dy, s4g_t dx, s4g_err *);
int s4g_cpu_l2norm(s4g_ctx *, int rows, int C, s4g_t x, s4g_t y, s4g_t norms, s4g_err *);
int s4g_cpu_l2norm_back(s4g_ctx *, int rows, int C, s4g_t y, s4g_t norms, s4g_t dy, s4g_t dx,
                        s4g_err *);

/* s4g-cpu-loss.c */
int s4g_cpu_infonce(s4g_ctx *, int B, int D, float smoothing, s4g_t q, s4g_t r,
                    s4g_t logit_scale, s4g_t loss, s4g_t dq, s4g_t dr, s4g_t dscale, s4g_err *);

/* s4g-cpu-optim.c */
int s4g_cpu_adamw(s4g_ctx *, size_t n, s4g_t p, s4g_t g, s4g_t m, s4g_t v,
                  const s4g_adamw_hp *hp, s4g_err *);

#endif
