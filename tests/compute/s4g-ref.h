/* s4g-ref.h — naive double-precision references of every forward op in s4g-compute.h.
 *
 * Plain loops written to be obviously correct, not fast: the tests compare the CPU and
 * Vulkan backends against them and evaluate them in double for finite-difference gradient
 * checks.  Shapes, layouts and semantics are exactly those of the s4g_* op of the same
 * name (NHWC, row-major, weights [7,7,C] for dwconv7, patches in (kh, kw, c) order). */
#ifndef S4G_REF_H
#define S4G_REF_H

#include <stddef.h>
#include <stdint.h>

/* Conversions between the float tensors the backends use and the double references. */
void s4g_ref_to_double(const float *src, double *dst, size_t n);
void s4g_ref_to_float(const double *src, float *dst, size_t n);
/* Deterministic uniform values in [lo, hi) from *state (xorshift64*). */
void s4g_ref_random(uint64_t *state, float *dst, size_t n, float lo, float hi);

double s4g_ref_gelu1(double x);
void s4g_ref_gelu(size_t n, const double *x, double *y);
/* C = alpha op(A) op(B) + beta C + bias, row-major; beta == 0 ignores C's old values. */
void s4g_ref_gemm(int ta, int tb, int M, int N, int K, double alpha, const double *A,
                  const double *B, double beta, double *C, const double *bias);
void s4g_ref_colsum(int M, int N, const double *x, double beta, double *out);
void s4g_ref_patchify(int N, int H, int W, int C, int k, const double *x, double *y);
void s4g_ref_dwconv7(int N, int H, int W, int C, const double *x, const double *w,
                     const double *b, double *y);
/* mean, rstd may be NULL. */
void s4g_ref_layernorm(int rows, int C, double eps, const double *x, const double *gamma,
                       const double *beta, double *y, double *mean, double *rstd);
void s4g_ref_scale_residual(int rows, int C, const double *x, const double *y,
                            const double *gamma, double *out);
void s4g_ref_avgpool(int N, int HW, int C, const double *x, double *y);
/* norms may be NULL. */
void s4g_ref_l2norm(int rows, int C, const double *x, double *y, double *norms);
/* Returns the symmetric label-smoothed InfoNCE loss of reference §2.1. */
double s4g_ref_infonce(int B, int D, double smoothing, const double *q, const double *r,
                       double logit_scale);
/* One torch.optim.AdamW step on n scalars (double transcription of the header formula). */
void s4g_ref_adamw(size_t n, double *p, const double *g, double *m, double *v, double lr,
                   double beta1, double beta2, double eps, double wd, int step);

#endif
