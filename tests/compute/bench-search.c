/* bench-search.c — queries/s of s4g_gallery top-k and count_above.
 * usage: bench-search [cpu|vulkan] [nq] [n] [dim] [k] [fp16]   (default cpu 1000 100000 256 10 0)
 * Not a test: it asserts nothing, it measures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s4g-search.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    int vk = argc > 1 && strcmp(argv[1], "vulkan") == 0;
    size_t nq = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000;
    size_t n = argc > 3 ? strtoull(argv[3], NULL, 10) : 100000;
    int dim = argc > 4 ? atoi(argv[4]) : 256, k = argc > 5 ? atoi(argv[5]) : 10;
    int fp16 = argc > 6 ? atoi(argv[6]) : 0;
    s4g_err err = {0};
    s4g_ctx_opts o = {.backend = vk ? S4G_BACKEND_VULKAN : S4G_BACKEND_CPU, .allow_cpu_device = 1};
    s4g_ctx *ctx = s4g_ctx_new(&o, &err);
    if (!ctx) {
        fprintf(stderr, "bench-search: %s\n", err.msg);
        return 1;
    }
    float *g = malloc(n * dim * sizeof(float)), *q = malloc(nq * dim * sizeof(float));
    unsigned s = 1;
    for (size_t i = 0; i < n * dim; i++)
        g[i] = (float)((s = s * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
    for (size_t i = 0; i < nq * dim; i++)
        q[i] = (float)((s = s * 1664525u + 1013904223u) >> 8) / 16777216.0f - 0.5f;
    s4g_gallery *gal = s4g_gallery_new(ctx, dim, fp16, &err);
    if (!gal || s4g_gallery_add(gal, n, g, &err)) {
        fprintf(stderr, "bench-search: %s\n", err.msg);
        return 1;
    }
    int64_t *idx = malloc(nq * k * sizeof *idx);
    float *sc = malloc(nq * k * sizeof *sc), *th = malloc(nq * sizeof *th);
    uint32_t *cnt = malloc(nq * sizeof *cnt);
    double t0 = now();
    if (s4g_gallery_topk(gal, nq, q, k, idx, sc, &err)) {
        fprintf(stderr, "bench-search: %s\n", err.msg);
        return 1;
    }
    double t1 = now();
    for (size_t i = 0; i < nq; i++)
        th[i] = sc[i * k + k - 1];
    if (s4g_gallery_count_above(gal, nq, q, th, cnt, &err)) {
        fprintf(stderr, "bench-search: %s\n", err.msg);
        return 1;
    }
    double t2 = now();
    printf("%s: %s, %zu queries x %zu x %d, k=%d%s\n", vk ? "vulkan" : "cpu", s4g_ctx_describe(ctx),
           nq, n, dim, k, fp16 ? " fp16" : "");
    printf("topk: %.3f s = %.0f queries/s; count_above: %.3f s = %.0f queries/s (count[0]=%u, k-1 expected)\n",
           t1 - t0, nq / (t1 - t0), t2 - t1, nq / (t2 - t1), cnt[0]);
    s4g_gallery_free(gal);
    s4g_ctx_free(ctx);
    free(g), free(q), free(idx), free(sc), free(th), free(cnt);
    return 0;
}
