/* s4g-context.c — contexts and buffers: the backend-independent half of the
 * compute interface.  Picks a backend, owns buffers, forwards to the backend table. */
#include "s4g-backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

s4g_backend_kind s4g_backend_resolve(const s4g_ctx_opts *opts)
{
    s4g_backend_kind kind = opts ? opts->backend : S4G_BACKEND_AUTO;
    if (kind != S4G_BACKEND_AUTO)
        return kind;
    return (opts && opts->device && *opts->device) || s4g_vk_has_gpu() ? S4G_BACKEND_VULKAN
                                                                       : S4G_BACKEND_CPU;
}

s4g_ctx *s4g_ctx_new(const s4g_ctx_opts *opts, s4g_err *err)
{
    s4g_ctx_opts o = {0};
    if (opts)
        o = *opts;
    const char *env = getenv("S4G_VALIDATION");
    if (env && env[0] == '1')
        o.validation = 1;

    s4g_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        s4g_fail(err, S4G_E_NOMEM, "out of memory creating a compute context");
        return NULL;
    }
    s4g_backend_kind kind = s4g_backend_resolve(&o);
    ctx->kind = kind;
    int rc = kind == S4G_BACKEND_CPU ? s4g_cpu_init(ctx, &o, err) : s4g_vk_init(ctx, &o, err);
    if (rc != 0) {
        free(ctx);
        return NULL;
    }
    return ctx;
}

void s4g_ctx_free(s4g_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->ops && ctx->ops->ctx_free)
        ctx->ops->ctx_free(ctx);
    free(ctx);
}

s4g_backend_kind s4g_ctx_backend(const s4g_ctx *ctx)
{
    return ctx->kind;
}

const char *s4g_ctx_describe(const s4g_ctx *ctx)
{
    return ctx->desc;
}

int s4g_ctx_sync(s4g_ctx *ctx, s4g_err *err)
{
    return ctx->ops->sync ? ctx->ops->sync(ctx, err) : 0;
}

int s4g_ctx_validation_errors(const s4g_ctx *ctx)
{
    return ctx->validation_errors;
}

size_t s4g_ctx_max_buffer_floats(const s4g_ctx *ctx)
{
    return ctx->max_buffer_floats;
}

s4g_buf *s4g_buf_new(s4g_ctx *ctx, size_t n, s4g_err *err)
{
    if (n == 0) {
        s4g_fail(err, S4G_E_INVALID, "buffer of 0 elements");
        return NULL;
    }
    if (ctx->max_buffer_floats && n > ctx->max_buffer_floats) {
        s4g_fail(err, S4G_E_INVALID,
                 "buffer of %zu floats exceeds this device's largest binding (%zu floats)", n,
                 ctx->max_buffer_floats);
        return NULL;
    }
    s4g_buf *b = calloc(1, sizeof *b);
    if (!b) {
        s4g_fail(err, S4G_E_NOMEM, "out of memory");
        return NULL;
    }
    b->ctx = ctx;
    b->n = n;
    if (ctx->ops->buf_alloc(ctx, b, err) != 0) {
        free(b);
        return NULL;
    }
    return b;
}

void s4g_buf_free(s4g_buf *buf)
{
    if (!buf)
        return;
    buf->ctx->ops->buf_release(buf);
    free(buf);
}

size_t s4g_buf_len(const s4g_buf *buf)
{
    return buf->n;
}

s4g_ctx *s4g_buf_ctx(const s4g_buf *buf)
{
    return buf->ctx;
}

static int range_ok(const s4g_buf *b, size_t off, size_t n, const char *what, s4g_err *err)
{
    if (off > b->n || n > b->n - off)
        return s4g_fail(err, S4G_E_INVALID, "%s: range [%zu, %zu) outside buffer of %zu floats",
                        what, off, off + n, b->n);
    return 0;
}

int s4g_buf_upload(s4g_buf *buf, size_t off, const float *src, size_t n, s4g_err *err)
{
    if (range_ok(buf, off, n, "upload", err))
        return -1;
    return n ? buf->ctx->ops->upload(buf, off, src, n, err) : 0;
}

int s4g_buf_download(s4g_buf *buf, size_t off, float *dst, size_t n, s4g_err *err)
{
    if (range_ok(buf, off, n, "download", err))
        return -1;
    return n ? buf->ctx->ops->download(buf, off, dst, n, err) : 0;
}

double s4g_cosine_lr(double base_lr, long k, double warmup, long total)
{
    const double pi = 3.14159265358979323846;
    if ((double)k < warmup)
        return base_lr * (double)k / (warmup > 1 ? warmup : 1.0);
    double span = (double)total - warmup > 1 ? (double)total - warmup : 1.0;
    double f = 0.5 * (1.0 + __builtin_cos(pi * ((double)k - warmup) / span));
    return base_lr * (f > 0 ? f : 0);
}
