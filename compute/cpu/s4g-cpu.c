/* s4g-cpu.c — CPU backend: context, buffers (plain host memory), op table. */
#include "s4g-cpu.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

#ifdef S4G_HAVE_OPENBLAS
#include <cblas.h>
#endif

static void cpu_ctx_free(s4g_ctx *ctx)
{
    s4g_cpu_pool_free(ctx->impl);
    ctx->impl = NULL;
}

static int cpu_buf_alloc(s4g_ctx *ctx, s4g_buf *buf, s4g_err *err)
{
    (void)ctx;
    /* 64-byte aligned start for vector loads; the exact size, so that AddressSanitizer
     * builds catch a kernel reading one float past the end. */
    if (buf->n > SIZE_MAX / sizeof(float))
        return s4g_fail(err, S4G_E_NOMEM, "buffer of %zu floats is too large", buf->n);
    size_t bytes = buf->n * sizeof(float);
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes) != 0)
        return s4g_fail(err, S4G_E_NOMEM, "cannot allocate %zu bytes of host memory", bytes);
    memset(p, 0, bytes);
    buf->host = p;
    return 0;
}

static void cpu_buf_release(s4g_buf *buf)
{
    free(buf->host);
    buf->host = NULL;
}

static int cpu_upload(s4g_buf *buf, size_t off, const float *src, size_t n, s4g_err *err)
{
    (void)err;
    memcpy(buf->host + off, src, n * sizeof(float));
    return 0;
}

static int cpu_download(s4g_buf *buf, size_t off, float *dst, size_t n, s4g_err *err)
{
    (void)err;
    memcpy(dst, buf->host + off, n * sizeof(float));
    return 0;
}

const s4g_backend_ops s4g_cpu_ops = {
    .name = "cpu",
    .ctx_free = cpu_ctx_free,
    .buf_alloc = cpu_buf_alloc,
    .buf_release = cpu_buf_release,
    .upload = cpu_upload,
    .download = cpu_download,

    .fill = s4g_cpu_fill,
    .copy = s4g_cpu_copy,
    .add = s4g_cpu_add,
    .axpy = s4g_cpu_axpy,
    .scale = s4g_cpu_scale,
    .clamp = s4g_cpu_clamp,
    .gelu = s4g_cpu_gelu,
    .gelu_back = s4g_cpu_gelu_back,
    .gemm = s4g_cpu_gemm,
    .gemm_gelu = s4g_cpu_gemm_gelu,
    .gemm_gelu_back = s4g_cpu_gemm_gelu_back,
    .colsum = s4g_cpu_colsum,
    .patchify = s4g_cpu_patchify,
    .patchify_back = s4g_cpu_patchify_back,
    .dwconv7 = s4g_cpu_dwconv7,
    .dwconv7_back = s4g_cpu_dwconv7_back,
    .layernorm = s4g_cpu_layernorm,
    .layernorm_back = s4g_cpu_layernorm_back,
    .scale_residual = s4g_cpu_scale_residual,
    .scale_residual_back = s4g_cpu_scale_residual_back,
    .avgpool = s4g_cpu_avgpool,
    .avgpool_back = s4g_cpu_avgpool_back,
    .l2norm = s4g_cpu_l2norm,
    .l2norm_back = s4g_cpu_l2norm_back,
    .infonce = s4g_cpu_infonce,
    .adamw = s4g_cpu_adamw,
    .search = &s4g_cpu_search_ops,
};

int s4g_cpu_init(s4g_ctx *ctx, const s4g_ctx_opts *opts, s4g_err *err)
{
    if (s4g_cpu_isa_check(err))
        return -1;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int want = opts->threads > 0 ? opts->threads : (ncpu > 0 ? (int)ncpu : 1);
    ctx->impl = s4g_cpu_pool_new(want);
    if (!ctx->impl)
        return s4g_fail(err, S4G_E_NOMEM, "cpu backend: out of memory for the thread pool");
    /* the team that actually started (thread limits can refuse some) */
    ctx->threads = s4g_cpu_pool_size(ctx->impl);
    ctx->ops = &s4g_cpu_ops;
    ctx->max_buffer_floats = 0; /* host memory: no binding limit */
#ifdef S4G_HAVE_OPENBLAS
    /* Our GEMM calls OpenBLAS single-threaded from each pool thread; this setting is for
     * direct OpenBLAS users in the process (the gallery search). */
    openblas_set_num_threads(ctx->threads);
    /* openblas_get_config() names the kernel set (s4g-cpu-isa.c may have switched it) */
    snprintf(ctx->desc, sizeof ctx->desc, "cpu (%d threads, %s vector path, %s)", ctx->threads,
             s4g_cpu_isa_name(s4g_cpu_isa_current()), openblas_get_config());
#else
    snprintf(ctx->desc, sizeof ctx->desc, "cpu (%d threads, %s vector path, blocked C GEMM)",
             ctx->threads, s4g_cpu_isa_name(s4g_cpu_isa_current()));
#endif
    return 0;
}
