/* bench-cpu-gemm.c — GEMM throughput of the CPU backend (not a test: prints JSON).
 *
 *   build/tests/compute/bench-cpu-gemm [threads]
 *
 * Times s4g_gemm (OpenBLAS when built with it) and the blocked C fallback at 512^3 and at
 * the ConvNeXt-B MLP shape 1024x3072x768 (rows x out x in, y = x W^T). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "cpu/s4g-cpu.h"
#include "s4g-ref.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 0;
    s4g_err err = {0};
    s4g_ctx_opts o = {.backend = S4G_BACKEND_CPU, .threads = threads};
    s4g_ctx *ctx = s4g_ctx_new(&o, &err);
    if (!ctx) {
        fprintf(stderr, "bench-cpu-gemm: %s\n", err.msg);
        return 1;
    }
    static const int shapes[][3] = {{512, 512, 512}, {1024, 3072, 768}};
    uint64_t rng = 1;
    printf("{\"backend\": \"%s\", \"results\": [\n", s4g_ctx_describe(ctx));
    for (int s = 0; s < 2; s++) {
        int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        s4g_buf *A = s4g_buf_new(ctx, (size_t)M * K, &err), *B = s4g_buf_new(ctx, (size_t)N * K, &err),
                *C = s4g_buf_new(ctx, (size_t)M * N, &err), *bias = s4g_buf_new(ctx, N, &err);
        if (!A || !B || !C || !bias) {
            fprintf(stderr, "bench-cpu-gemm: %s\n", err.msg);
            return 1;
        }
        s4g_ref_random(&rng, A->host, (size_t)M * K, -1, 1);
        s4g_ref_random(&rng, B->host, (size_t)N * K, -1, 1);
        double flops = 2.0 * M * N * K;
        for (int impl = 0; impl < 2; impl++) {
            int reps = 0;
            double t0 = now(), t;
            do {
                if (impl == 0)
                    s4g_gemm(ctx, 0, 1, M, N, K, 1, s4g_at(A, 0), s4g_at(B, 0), 0, s4g_at(C, 0),
                             s4g_at(bias, 0), &err);
                else
                    s4g_cpu_gemm_blocked(ctx, 0, 1, M, N, K, 1, A->host, B->host, 0,
                                         C->host, bias->host);
                reps++;
                t = now() - t0;
            } while (t < 1.0 && reps < 50);
            printf("  {\"impl\": \"%s\", \"M\": %d, \"N\": %d, \"K\": %d, \"ms\": %.2f, "
                   "\"gflops\": %.2f}%s\n",
                   impl == 0 ? "s4g_gemm" : "blocked_c", M, N, K, 1e3 * t / reps,
                   flops * reps / t * 1e-9, s == 1 && impl == 1 ? "" : ",");
        }
        s4g_buf_free(A), s4g_buf_free(B), s4g_buf_free(C), s4g_buf_free(bias);
    }
    printf("]}\n");
    s4g_ctx_free(ctx);
    return 0;
}
