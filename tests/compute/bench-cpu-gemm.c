/* bench-cpu-gemm.c — GEMM throughput of the CPU backend (not a test: prints JSON).
 *
 *   build/tests/compute/bench-cpu-gemm [threads]
 *   build/tests/compute/bench-cpu-gemm --convnext [threads]
 *
 * Times s4g_gemm (OpenBLAS when built with it) and the blocked C fallback at 512^3 and at
 * the ConvNeXt-B MLP shape 1024x3072x768 (rows x out x in, y = x W^T).
 *
 * --convnext: the six GEMMs of one ConvNeXt block (fc1, fc2 forward; their dX and dW) at each
 * stage of tiny and base for one view of the real sizes (batch 2: 140x768 ground + 384^2
 * satellite, rows averaged over the two views), GFLOP/s per CPU-second, and the share of
 * this core's fp32 FMA peak, measured first with independent FMA chains (AVX-512 where the
 * CPU has it, else AVX2+FMA, else SSE mul+add). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <immintrin.h>

#include "cpu/s4g-cpu.h"
#include "s4g-ref.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* 12 independent accumulator chains: enough to cover FMA latency x ports on current cores. */
#define FMA_CHAINS(T, SET1, FMA, W)                                                            \
    T b = SET1(0.9999f), c = SET1(1e-5f);                                                      \
    T a0 = SET1(0.1f), a1 = SET1(0.2f), a2 = SET1(0.3f), a3 = SET1(0.4f), a4 = SET1(0.5f),     \
      a5 = SET1(0.6f), a6 = SET1(0.7f), a7 = SET1(0.8f), a8 = SET1(0.9f), a9 = SET1(1.1f),     \
      a10 = SET1(1.2f), a11 = SET1(1.3f);                                                      \
    const long n = 20000000;                                                                   \
    double t = cpu_now();                                                                      \
    for (long i = 0; i < n; i++) {                                                             \
        a0 = FMA(a0, b, c), a1 = FMA(a1, b, c), a2 = FMA(a2, b, c), a3 = FMA(a3, b, c);        \
        a4 = FMA(a4, b, c), a5 = FMA(a5, b, c), a6 = FMA(a6, b, c), a7 = FMA(a7, b, c);        \
        a8 = FMA(a8, b, c), a9 = FMA(a9, b, c), a10 = FMA(a10, b, c), a11 = FMA(a11, b, c);    \
        __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5));     \
        __asm__ volatile("" : "+x"(a6), "+x"(a7), "+x"(a8), "+x"(a9), "+x"(a10), "+x"(a11));   \
    }                                                                                          \
    t = cpu_now() - t;                                                                         \
    return n * 12.0 * 2 * (W) / t * 1e-9;

__attribute__((target("avx512f"))) static double peak_avx512(void)
{
    FMA_CHAINS(__m512, _mm512_set1_ps, _mm512_fmadd_ps, 16)
}

__attribute__((target("avx2,fma"))) static double peak_avx2(void)
{
    FMA_CHAINS(__m256, _mm256_set1_ps, _mm256_fmadd_ps, 8)
}

#define SSE_MULADD(x, y, z) _mm_add_ps(_mm_mul_ps(x, y), z)
static double peak_sse(void)
{
    FMA_CHAINS(__m128, _mm_set1_ps, SSE_MULADD, 4)
}

static int convnext_shapes(s4g_ctx *ctx)
{
    __builtin_cpu_init();
    const char *isa = "sse";
    double peak;
    if (__builtin_cpu_supports("avx512f"))
        isa = "avx512", peak = peak_avx512();
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        isa = "avx2+fma", peak = peak_avx2();
    else
        peak = peak_sse();
    static const struct {
        const char *arch;
        int dims[4];
    } archs[] = {{"tiny", {96, 192, 384, 768}}, {"base", {128, 256, 512, 1024}}};
    /* rows of the two real-size views (batch 2) at stages 1-4, averaged */
    static const int rows[4] = {(13440 + 18432) / 2, (3264 + 4608) / 2, (768 + 1152) / 2,
                                (192 + 288) / 2};
    s4g_err err = {0};
    uint64_t rng = 3;
    printf("{\"backend\": \"%s\", \"fma_peak_isa\": \"%s\", \"fma_peak_gflops\": %.1f, "
           "\"results\": [\n",
           s4g_ctx_describe(ctx), isa, peak);
    for (int a = 0; a < 2; a++)
        for (int st = 0; st < 4; st++) {
            const int d = archs[a].dims[st], M = rows[st];
            const struct {
                const char *name;
                int ta, tb, M, N, K;
            } g[] = {{"fc1", 0, 1, M, 4 * d, d},     {"fc2", 0, 1, M, d, 4 * d},
                     {"fc2_dX", 0, 0, M, 4 * d, d},  {"fc2_dW", 1, 0, d, 4 * d, M},
                     {"fc1_dX", 0, 0, M, d, 4 * d},  {"fc1_dW", 1, 0, 4 * d, d, M}};
            for (int q = 0; q < 6; q++) {
                size_t na = (size_t)g[q].M * g[q].K, nb = (size_t)g[q].K * g[q].N,
                       nc = (size_t)g[q].M * g[q].N;
                s4g_buf *A = s4g_buf_new(ctx, na, &err), *B = s4g_buf_new(ctx, nb, &err),
                        *C = s4g_buf_new(ctx, nc, &err);
                if (!A || !B || !C) {
                    fprintf(stderr, "bench-cpu-gemm: %s\n", err.msg);
                    return 1;
                }
                s4g_ref_random(&rng, A->host, na, -1, 1);
                s4g_ref_random(&rng, B->host, nb, -1, 1);
                int reps = 0;
                double t0 = cpu_now(), t;
                do {
                    s4g_gemm(ctx, g[q].ta, g[q].tb, g[q].M, g[q].N, g[q].K, 1, s4g_at(A, 0),
                             s4g_at(B, 0), 0, s4g_at(C, 0), s4g_none(), &err);
                    reps++;
                    t = cpu_now() - t0;
                } while (t < 0.5 || reps < 2);
                double gf = 2.0 * g[q].M * g[q].N * g[q].K * reps / t * 1e-9;
                printf("  {\"arch\": \"%s\", \"stage\": %d, \"gemm\": \"%s\", \"ta\": %d, "
                       "\"tb\": %d, \"M\": %d, \"N\": %d, \"K\": %d, \"gflops_per_cpu_s\": %.1f, "
                       "\"of_peak\": %.2f}%s\n",
                       archs[a].arch, st + 1, g[q].name, g[q].ta, g[q].tb, g[q].M, g[q].N,
                       g[q].K, gf, gf / peak, a == 1 && st == 3 && q == 5 ? "" : ",");
                s4g_buf_free(A), s4g_buf_free(B), s4g_buf_free(C);
            }
        }
    printf("]}\n");
    return 0;
}

int main(int argc, char **argv)
{
    int convnext = argc > 1 && strcmp(argv[1], "--convnext") == 0;
    if (convnext)
        argc--, argv++;
    int threads = argc > 1 ? atoi(argv[1]) : 0;
    s4g_err err = {0};
    s4g_ctx_opts o = {.backend = S4G_BACKEND_CPU, .threads = threads};
    s4g_ctx *ctx = s4g_ctx_new(&o, &err);
    if (!ctx) {
        fprintf(stderr, "bench-cpu-gemm: %s\n", err.msg);
        return 1;
    }
    if (convnext) {
        int rc = convnext_shapes(ctx);
        s4g_ctx_free(ctx);
        return rc;
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
