/* s4g-backend.h — private: how a backend plugs into the op interface of s4g-compute.h.
 *
 * The public op functions (s4g-ops.c) validate shapes and buffer ranges, then call the
 * context's backend table.  A backend fills every entry; the CPU backend lives in
 * compute/cpu/, the Vulkan backend in compute/vk/.  The gallery search (s4g-search.c) calls
 * the table's `search` entries the same way.
 */
#ifndef S4G_BACKEND_H
#define S4G_BACKEND_H

#include "s4g-compute.h"

struct s4g_buf {
    s4g_ctx *ctx;
    size_t n;    /* elements */
    float *host; /* CPU backend: the data */
    void *impl;  /* Vulkan backend: its buffer record */
};

struct s4g_search_ops; /* s4g-search-impl.h */

typedef struct s4g_backend_ops {
    const char *name;
    void (*ctx_free)(s4g_ctx *ctx);
    int (*sync)(s4g_ctx *ctx, s4g_err *err);
    int (*buf_alloc)(s4g_ctx *ctx, s4g_buf *buf, s4g_err *err); /* zero-initialised */
    void (*buf_release)(s4g_buf *buf);
    int (*upload)(s4g_buf *buf, size_t off, const float *src, size_t n, s4g_err *err);
    int (*download)(s4g_buf *buf, size_t off, float *dst, size_t n, s4g_err *err);

    int (*fill)(s4g_ctx *, size_t n, s4g_t x, float v, s4g_err *);
    int (*copy)(s4g_ctx *, size_t n, s4g_t src, s4g_t dst, s4g_err *);
    int (*add)(s4g_ctx *, size_t n, s4g_t a, s4g_t b, s4g_t out, s4g_err *);
    int (*axpy)(s4g_ctx *, size_t n, float alpha, s4g_t x, s4g_t y, s4g_err *);
    int (*scale)(s4g_ctx *, size_t n, float alpha, s4g_t x, s4g_err *);
    int (*clamp)(s4g_ctx *, size_t n, s4g_t x, float lo, float hi, s4g_err *);
    int (*gelu)(s4g_ctx *, size_t n, s4g_t x, s4g_t y, s4g_err *);
    int (*gelu_back)(s4g_ctx *, size_t n, s4g_t x, s4g_t dy, s4g_t dx, s4g_err *);
    int (*gemm)(s4g_ctx *, int ta, int tb, int M, int N, int K, float alpha, s4g_t A, s4g_t B,
                float beta, s4g_t C, s4g_t bias, s4g_err *);
    /* optional fused forms (s4g-ops.c falls back to gemm + gelu / gelu_back without them) */
    int (*gemm_gelu)(s4g_ctx *, int ta, int tb, int M, int N, int K, float alpha, s4g_t A,
                     s4g_t B, s4g_t bias, s4g_t H, s4g_t G, s4g_err *);
    int (*gemm_gelu_back)(s4g_ctx *, int ta, int tb, int M, int N, int K, float alpha, s4g_t A,
                          s4g_t B, s4g_t H, s4g_t T, s4g_t DH, s4g_err *);
    int (*colsum)(s4g_ctx *, int M, int N, s4g_t x, float beta, s4g_t out, s4g_err *);
    int (*patchify)(s4g_ctx *, int N, int H, int W, int C, int k, s4g_t x, s4g_t y, s4g_err *);
    int (*patchify_back)(s4g_ctx *, int N, int H, int W, int C, int k, s4g_t dy, s4g_t dx,
                         s4g_err *);
    int (*dwconv7)(s4g_ctx *, int N, int H, int W, int C, s4g_t x, s4g_t w, s4g_t b, s4g_t y,
                   s4g_err *);
    int (*dwconv7_back)(s4g_ctx *, int N, int H, int W, int C, s4g_t x, s4g_t w, s4g_t dy,
                        s4g_t dx, int accumulate, s4g_t dw, s4g_t db, s4g_err *);
    int (*layernorm)(s4g_ctx *, int rows, int C, float eps, s4g_t x, s4g_t gamma, s4g_t beta,
                     s4g_t y, s4g_t mean, s4g_t rstd, s4g_err *);
    int (*layernorm_back)(s4g_ctx *, int rows, int C, s4g_t x, s4g_t gamma, s4g_t mean,
                          s4g_t rstd, s4g_t dy, s4g_t dx, s4g_t dgamma, s4g_t dbeta, s4g_err *);
    int (*scale_residual)(s4g_ctx *, int rows, int C, s4g_t x, s4g_t y, s4g_t gamma, s4g_t out,
                          s4g_err *);
    int (*scale_residual_back)(s4g_ctx *, int rows, int C, s4g_t y, s4g_t gamma, s4g_t dout,
                               s4g_t dy, s4g_t dgamma, s4g_err *);
    int (*avgpool)(s4g_ctx *, int N, int HW, int C, s4g_t x, s4g_t y, s4g_err *);
    int (*avgpool_back)(s4g_ctx *, int N, int HW, int C, s4g_t dy, s4g_t dx, s4g_err *);
    int (*l2norm)(s4g_ctx *, int rows, int C, s4g_t x, s4g_t y, s4g_t norms, s4g_err *);
    int (*l2norm_back)(s4g_ctx *, int rows, int C, s4g_t y, s4g_t norms, s4g_t dy, s4g_t dx,
                       s4g_err *);
    int (*infonce)(s4g_ctx *, int B, int D, float smoothing, s4g_t q, s4g_t r,
                   s4g_t logit_scale, s4g_t loss, s4g_t dq, s4g_t dr, s4g_t dscale, s4g_err *);
    int (*adamw)(s4g_ctx *, size_t n, s4g_t p, s4g_t g, s4g_t m, s4g_t v,
                 const s4g_adamw_hp *hp, s4g_err *);

    /* the gallery search of s4g-search.h: cpu/s4g-cpu-search.c, vk/s4g-vk-search.c */
    const struct s4g_search_ops *search;
} s4g_backend_ops;

struct s4g_ctx {
    s4g_backend_kind kind;
    const s4g_backend_ops *ops;
    void *impl;     /* backend state */
    int threads;    /* CPU backend */
    size_t max_buffer_floats;
    int validation_errors;
    char desc[256];
};

/* Backend constructors: fill ctx->ops, ctx->impl, ctx->desc, ctx->max_buffer_floats. */
int s4g_cpu_init(s4g_ctx *ctx, const s4g_ctx_opts *opts, s4g_err *err);
int s4g_vk_init(s4g_ctx *ctx, const s4g_ctx_opts *opts, s4g_err *err);
/* True when a non-CPU Vulkan device exists (used by S4G_BACKEND_AUTO). */
int s4g_vk_has_gpu(void);

#endif
