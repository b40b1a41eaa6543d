/* s4g-compute.h — the compute engine's one op interface, served by two backends.
 *
 * A context (s4g_ctx) is either the native CPU backend (C loops, OpenBLAS GEMM, threads)
 * or the Vulkan backend (compute shaders; lavapipe runs them in tests).  Tensors are
 * float32 ranges inside backend buffers (s4g_buf), addressed as (buffer, element offset)
 * pairs (s4g_t).  Layout is NHWC ("channels-last") throughout, so per-pixel LayerNorm and
 * Linear layers are plain row operations over rows = N*H*W.
 *
 * Ops on the Vulkan backend are recorded into the context's current command batch and run
 * at the next s4g_ctx_sync() (or a download, which syncs); on the CPU backend they run at
 * once.  Every op checks that each range it touches lies inside its buffer and returns -1
 * with a message in *err otherwise; nothing reads or writes out of bounds.
 *
 * Gradient conventions for *_back ops: outputs that are gradients of PARAMETERS
 * (dW, db, dgamma, dbeta, dscale) are ACCUMULATED (+=), because the shared encoder runs
 * twice per step (ground and satellite view); gradients of ACTIVATIONS are overwritten
 * unless the op takes an explicit `accumulate` flag.
 *
 * No GLib here: this layer must build and run on a bare GPU machine with libc, libm and
 * the Vulkan loader only.
 */
#ifndef S4G_COMPUTE_H
#define S4G_COMPUTE_H

#include "s4g-error.h"
#include "s4g-readfile.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- contexts */

typedef enum {
    S4G_BACKEND_AUTO = 0, /* Vulkan on a real GPU, else CPU */
    S4G_BACKEND_CPU = 1,
    S4G_BACKEND_VULKAN = 2,
} s4g_backend_kind;

typedef struct s4g_ctx_opts {
    s4g_backend_kind backend;
    /* Vulkan device: NULL = pick (discrete > integrated > virtual; a CPU device such as
     * lavapipe only when allow_cpu_device or S4G_ALLOW_CPU_DEVICE=1 or named explicitly);
     * otherwise an index ("0") or a name substring ("llvmpipe").  The engine reads no
     * environment for it: programs resolve their own setting (the s4g CLI: --device, else
     * S4G_DEVICE) and pass it here. */
    const char *device;
    int allow_cpu_device;
    int threads;           /* CPU backend threads; 0 = number of online CPUs */
    int validation;        /* enable VK_LAYER_KHRONOS_validation (also S4G_VALIDATION=1) */
} s4g_ctx_opts;

typedef struct s4g_ctx s4g_ctx;

s4g_ctx *s4g_ctx_new(const s4g_ctx_opts *opts, s4g_err *err);
/* The backend a context with these options takes: S4G_BACKEND_AUTO becomes Vulkan when a
 * device is named or a real (non-CPU) GPU is present, else CPU; other kinds are kept. */
s4g_backend_kind s4g_backend_resolve(const s4g_ctx_opts *opts);
void s4g_ctx_free(s4g_ctx *ctx);
s4g_backend_kind s4g_ctx_backend(const s4g_ctx *ctx);
/* One line: "cpu (2 threads, OpenBLAS 0.3.21)" or "vulkan: NVIDIA H100 80GB HBM3 (discrete)". */
const char *s4g_ctx_describe(const s4g_ctx *ctx);
/* What the CPU backend runs on, for `s4g info` and `s4g bench`: the CPU's vector features
 * (those the OS enables too), the vector path of the non-GEMM kernels and the OpenBLAS kernel
 * set of the GEMMs, each with the reason it was chosen.  Fixed at program start. */
typedef struct s4g_cpu_info {
    char features[160]; /* e.g. "avx512f avx512bw avx512vl avx512dq avx2 fma avx f16c" */
    char isa[16];       /* baseline | avx2 | avx512 */
    char isa_why[160];
    char blas[32];      /* openblas_get_corename(); "none" without OpenBLAS */
    char blas_why[256];
} s4g_cpu_info;
void s4g_cpu_info_get(s4g_cpu_info *info);
/* Submits everything recorded so far and waits (Vulkan); no-op on CPU. */
int s4g_ctx_sync(s4g_ctx *ctx, s4g_err *err);
/* Number of validation-layer messages seen so far (Vulkan with validation on; else 0). */
int s4g_ctx_validation_errors(const s4g_ctx *ctx);
/* Largest buffer (in floats) this backend can bind as one tensor range. */
size_t s4g_ctx_max_buffer_floats(const s4g_ctx *ctx);

/* ---------------------------------------------------------------- buffers */

typedef struct s4g_buf s4g_buf;

/* A float32 buffer of n elements, zero-initialised. */
s4g_buf *s4g_buf_new(s4g_ctx *ctx, size_t n, s4g_err *err);
void s4g_buf_free(s4g_buf *buf);
size_t s4g_buf_len(const s4g_buf *buf);
s4g_ctx *s4g_buf_ctx(const s4g_buf *buf);
int s4g_buf_upload(s4g_buf *buf, size_t off, const float *src, size_t n, s4g_err *err);
/* Syncs the context first, so the data reflects every op recorded before. */
int s4g_buf_download(s4g_buf *buf, size_t off, float *dst, size_t n, s4g_err *err);

/* A tensor reference: element offset `off` inside `buf`.  A NULL buf means "absent"
 * (e.g. no bias). */
typedef struct s4g_t {
    s4g_buf *buf;
    size_t off;
} s4g_t;

static inline s4g_t s4g_at(s4g_buf *buf, size_t off)
{
    s4g_t t = {buf, off};
    return t;
}
static inline s4g_t s4g_none(void)
{
    s4g_t t = {NULL, 0};
    return t;
}

/* ---------------------------------------------------------------- element-wise */

int s4g_fill(s4g_ctx *ctx, size_t n, s4g_t x, float value, s4g_err *err);
int s4g_copy(s4g_ctx *ctx, size_t n, s4g_t src, s4g_t dst, s4g_err *err);
/* out = a + b (out may alias a or b) */
int s4g_add(s4g_ctx *ctx, size_t n, s4g_t a, s4g_t b, s4g_t out, s4g_err *err);
/* y = alpha * x + y */
int s4g_axpy(s4g_ctx *ctx, size_t n, float alpha, s4g_t x, s4g_t y, s4g_err *err);
/* x = x * alpha (in place) */
int s4g_scale(s4g_ctx *ctx, size_t n, float alpha, s4g_t x, s4g_err *err);
/* x = min(max(x, lo), hi), in place: element-wise gradient clamp */
int s4g_clamp(s4g_ctx *ctx, size_t n, s4g_t x, float lo, float hi, s4g_err *err);
/* GELU, exact erf form: y = 0.5 x (1 + erf(x / sqrt 2)) */
int s4g_gelu(s4g_ctx *ctx, size_t n, s4g_t x, s4g_t y, s4g_err *err);
int s4g_gelu_back(s4g_ctx *ctx, size_t n, s4g_t x, s4g_t dy, s4g_t dx, s4g_err *err);

/* ---------------------------------------------------------------- GEMM */

/* Row-major C[M,N] = alpha * op(A) op(B) + beta * C + bias[N] (bias optional).
 * op(A) is A[M,K] (ta=0) or A[K,M]^T (ta=1); op(B) is B[K,N] (tb=0) or B[N,K]^T (tb=1).
 * Linear y = x W^T + b with PyTorch's W[out,in] is gemm(ta=0, tb=1). */
int s4g_gemm(s4g_ctx *ctx, int ta, int tb, int M, int N, int K, float alpha, s4g_t A, s4g_t B,
             float beta, s4g_t C, s4g_t bias, s4g_err *err);
/* Linear + GELU, fused where the backend can (the CPU applies GELU to each chunk of rows
 * while it is in cache): H[M,N] = alpha op(A) op(B) + bias (bias optional), G = gelu(H). */
int s4g_gemm_gelu(s4g_ctx *ctx, int ta, int tb, int M, int N, int K, float alpha, s4g_t A,
                  s4g_t B, s4g_t bias, s4g_t H, s4g_t G, s4g_err *err);
/* Its backward through the GELU: T[M,N] = alpha op(A) op(B) (scratch, overwritten),
 * DH = gelu'(H) * T — the same as s4g_gemm into T then s4g_gelu_back(H, T, DH). */
int s4g_gemm_gelu_back(s4g_ctx *ctx, int ta, int tb, int M, int N, int K, float alpha, s4g_t A,
                       s4g_t B, s4g_t H, s4g_t T, s4g_t DH, s4g_err *err);
/* out[N] = beta * out + sum over rows of x[M,N]  (bias gradient) */
int s4g_colsum(s4g_ctx *ctx, int M, int N, s4g_t x, float beta, s4g_t out, s4g_err *err);

/* ---------------------------------------------------------------- convolutions */

/* Non-overlapping k x k / stride k patch extraction (stem 4x4/4, downsample 2x2/2) with floor
 * arithmetic: x [N,H,W,C] -> y [N*Ho*Wo, k*k*C], Ho = H/k, Wo = W/k, patch order (kh, kw, c).
 * A patchify conv is then gemm(y, W'[Cout, k*k*C]^T) + bias, with W' the OIHW weight
 * permuted to (o, kh, kw, c) at load time. */
int s4g_patchify(s4g_ctx *ctx, int N, int H, int W, int C, int k, s4g_t x, s4g_t y, s4g_err *err);
/* dx [N,H,W,C] (overwritten; rows/cols dropped by the floor get 0) from dy [N*Ho*Wo, k*k*C] */
int s4g_patchify_back(s4g_ctx *ctx, int N, int H, int W, int C, int k, s4g_t dy, s4g_t dx,
                      s4g_err *err);

/* Depthwise 7x7 conv, padding 3, stride 1, with bias: x,y [N,H,W,C], w [7,7,C] (kh,kw,c;
 * PyTorch's [C,1,7,7] permuted at load), b [C]. */
int s4g_dwconv7(s4g_ctx *ctx, int N, int H, int W, int C, s4g_t x, s4g_t w, s4g_t b, s4g_t y,
                s4g_err *err);
/* dx = (accumulate ? dx : 0) + conv^T(dy); dw += ...; db += colsum(dy) */
int s4g_dwconv7_back(s4g_ctx *ctx, int N, int H, int W, int C, s4g_t x, s4g_t w, s4g_t dy,
                     s4g_t dx, int accumulate, s4g_t dw, s4g_t db, s4g_err *err);

/* ---------------------------------------------------------------- normalisation */

/* LayerNorm over the last dim C of x [rows, C], two-pass statistics, affine:
 * y = (x - mean) * rstd * gamma + beta; mean[rows], rstd[rows] saved for backward. */
int s4g_layernorm(s4g_ctx *ctx, int rows, int C, float eps, s4g_t x, s4g_t gamma, s4g_t beta,
                  s4g_t y, s4g_t mean, s4g_t rstd, s4g_err *err);
/* dx overwritten; dgamma += ; dbeta += */
int s4g_layernorm_back(s4g_ctx *ctx, int rows, int C, s4g_t x, s4g_t gamma, s4g_t mean,
                       s4g_t rstd, s4g_t dy, s4g_t dx, s4g_t dgamma, s4g_t dbeta, s4g_err *err);

/* out = x + gamma[c] * y  over [rows, C] (ConvNeXt layer scale + residual) */
int s4g_scale_residual(s4g_ctx *ctx, int rows, int C, s4g_t x, s4g_t y, s4g_t gamma, s4g_t out,
                       s4g_err *err);
/* dy = gamma * dout (overwritten); dgamma += sum(dout * y); dx = dout is the caller's */
int s4g_scale_residual_back(s4g_ctx *ctx, int rows, int C, s4g_t y, s4g_t gamma, s4g_t dout,
                            s4g_t dy, s4g_t dgamma, s4g_err *err);

/* Global average pool: x [N, HW, C] -> y [N, C]; backward spreads dy/HW (dx overwritten). */
int s4g_avgpool(s4g_ctx *ctx, int N, int HW, int C, s4g_t x, s4g_t y, s4g_err *err);
int s4g_avgpool_back(s4g_ctx *ctx, int N, int HW, int C, s4g_t dy, s4g_t dx, s4g_err *err);

/* Row-wise L2 normalisation y = x / max(||x||, 1e-12); norms[rows] saved. */
int s4g_l2norm(s4g_ctx *ctx, int rows, int C, s4g_t x, s4g_t y, s4g_t norms, s4g_err *err);
/* dx = (dy - y (y.dy)) / max(||x||, 1e-12), overwritten */
int s4g_l2norm_back(s4g_ctx *ctx, int rows, int C, s4g_t y, s4g_t norms, s4g_t dy, s4g_t dx,
                    s4g_err *err);

/* ---------------------------------------------------------------- loss and optimiser */

/* Symmetric InfoNCE with label smoothing over B pairs of unit vectors q,r [B,D] and learnable
 * logit scale: s = exp(logit_scale[0]); L = s Q R^T; loss = (CE_ls(L) + CE_ls(L^T)) / 2.
 * Writes loss[0]; dq, dr overwritten (gradients w.r.t. the unit vectors); dscale[0] +=
 * dloss/dlogit_scale.  Any of dq/dr/dscale may be absent (forward only). */
int s4g_infonce(s4g_ctx *ctx, int B, int D, float smoothing, s4g_t q, s4g_t r, s4g_t logit_scale,
                s4g_t loss, s4g_t dq, s4g_t dr, s4g_t dscale, s4g_err *err);

typedef struct s4g_adamw_hp {
    float lr, beta1, beta2, eps, weight_decay;
    int step; /* t >= 1, for bias correction */
} s4g_adamw_hp;

/* PyTorch AdamW: p *= 1 - lr*wd; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps) */
int s4g_adamw(s4g_ctx *ctx, size_t n, s4g_t p, s4g_t g, s4g_t m, s4g_t v, const s4g_adamw_hp *hp,
              s4g_err *err);

/* Cosine schedule with linear warm-up (transformers' get_cosine_schedule_with_warmup,
 * num_cycles 0.5): lr(k) = base * (k < W ? k / max(1,W) : max(0, 0.5 (1 + cos(pi (k-W) /
 * max(1, T-W))))).  k counts scheduler steps so far, so the first step has lr 0.  W is a
 * real number, as in the reference (steps per epoch × fractional warm-up epochs, e.g.
 * University-1652's 473.2): it is never rounded. */
double s4g_cosine_lr(double base_lr, long k, double warmup, long total);

#ifdef __cplusplus
}
#endif
#endif
