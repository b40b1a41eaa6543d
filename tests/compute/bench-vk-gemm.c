/* bench-vk-gemm.c — GEMM throughput, Vulkan backend vs CPU backend (best of 5).
 * `meson test -C build --benchmark bench-vk-gemm -v`; size via argv[1] (default 512). */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

#include "s4g-compute.h"

static double run(s4g_ctx *ctx, int n, int ta, int tb)
{
    s4g_err err = {0};
    size_t nn = (size_t)n * n;
    s4g_buf *a = s4g_buf_new(ctx, nn, &err), *b = s4g_buf_new(ctx, nn, &err),
            *c = s4g_buf_new(ctx, nn, &err);
    if (!a || !b || !c)
        g_error("%s", err.msg);
    s4g_fill(ctx, nn, s4g_at(a, 0), 0.5f, &err);
    s4g_fill(ctx, nn, s4g_at(b, 0), 0.25f, &err);
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        s4g_ctx_sync(ctx, &err);
        gint64 t0 = g_get_monotonic_time();
        if (s4g_gemm(ctx, ta, tb, n, n, n, 1.0f, s4g_at(a, 0), s4g_at(b, 0), 0.0f, s4g_at(c, 0),
                     s4g_none(), &err) ||
            s4g_ctx_sync(ctx, &err))
            g_error("%s", err.msg);
        double dt = (g_get_monotonic_time() - t0) / 1e6;
        if (dt < best)
            best = dt;
    }
    float v;
    s4g_buf_download(c, 0, &v, 1, &err);
    if (v != 0.125f * n)
        g_error("gemm result %g, expected %g", v, 0.125 * n);
    s4g_buf_free(a);
    s4g_buf_free(b);
    s4g_buf_free(c);
    return best;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 512;
    s4g_err err = {0};
    s4g_ctx_opts ov = {.backend = S4G_BACKEND_VULKAN, .allow_cpu_device = 1};
    s4g_ctx_opts oc = {.backend = S4G_BACKEND_CPU};
    s4g_ctx *vk = s4g_ctx_new(&ov, &err);
    if (!vk)
        g_error("%s", err.msg);
    s4g_ctx *cpu = s4g_ctx_new(&oc, &err);
    double flop = 2.0 * n * n * (double)n;
    for (int t = 0; t < 4; t++) {
        double tv = run(vk, n, t >> 1, t & 1), tc = run(cpu, n, t >> 1, t & 1);
        printf("gemm %dx%dx%d ta=%d tb=%d: %s %.1f ms %.2f GFLOP/s | %s %.1f ms %.2f GFLOP/s\n", n,
               n, n, t >> 1, t & 1, s4g_ctx_describe(vk), tv * 1e3, flop / tv / 1e9,
               s4g_ctx_describe(cpu), tc * 1e3, flop / tc / 1e9);
    }
    s4g_ctx_free(vk);
    s4g_ctx_free(cpu);
    return 0;
}
