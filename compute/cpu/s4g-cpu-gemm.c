/* s4g-cpu-gemm.c — GEMM and column sums for the CPU backend.
 *
 * With OpenBLAS, GEMM is one cblas_sgemm call (OpenBLAS runs its own threads, set to
 * ctx->threads at context creation).  Without it, a cache-blocked C GEMM: op(B) is packed
 * once into row-major [K,N], then each thread owns a slice of C's rows and streams
 * k-blocks of B through cache, with an inner loop over contiguous columns gcc vectorises.
 * The bias is folded in first (C = beta*C + bias), so GEMM itself runs with beta = 1. */
#include "s4g-cpu.h"

#include <stdlib.h>
#include <string.h>

#ifdef S4G_HAVE_OPENBLAS
#include <cblas.h>
#endif

/* C = beta*C + bias (row broadcast); beta == 0 overwrites C without reading it (BLAS rule,
 * so an uninitialised C holding NaN does not leak through). */
static void prescale(int threads, int M, int N, float beta, float *C, const float *bias)
{
    const int nt = threads;
    (void)nt;
    S4G_OMP(omp parallel for num_threads(nt) schedule(static) if ((long)M * N >= S4G_CPU_PAR_MIN))
    for (int i = 0; i < M; i++) {
        float *restrict c = C + (size_t)i * N;
        if (beta == 0.0f) {
            if (bias)
                memcpy(c, bias, (size_t)N * sizeof(float));
            else
                memset(c, 0, (size_t)N * sizeof(float));
        } else {
            for (int j = 0; j < N; j++)
                c[j] = beta * c[j] + (bias ? bias[j] : 0.0f);
        }
    }
}

enum { KB = 256, NB = 1024, MB = 16 };

int s4g_cpu_gemm_blocked(int threads, int ta, int tb, int M, int N, int K, float alpha,
                         const float *A, const float *B, float beta, float *C, const float *bias)
{
    /* Pack op(B) as [K,N] row-major when transposed, so the inner loop is contiguous. */
    float *Bp = NULL;
    const float *Bk = B;
    if (tb) {
        Bp = malloc((size_t)K * N * sizeof(float));
        if (!Bp)
            return -1;
        for (int n = 0; n < N; n++)
            for (int k = 0; k < K; k++)
                Bp[(size_t)k * N + n] = B[(size_t)n * K + k];
        Bk = Bp;
    }
    prescale(threads, M, N, beta, C, bias);

    const int nt = threads;
    (void)nt;
    const int mblocks = (M + MB - 1) / MB;
    S4G_OMP(omp parallel for num_threads(nt) schedule(static) if ((double)M * N * K >= 1e6))
    for (int mb = 0; mb < mblocks; mb++) {
        int i0 = mb * MB, i1 = i0 + MB < M ? i0 + MB : M;
        for (int j0 = 0; j0 < N; j0 += NB) {
            int j1 = j0 + NB < N ? j0 + NB : N;
            for (int k0 = 0; k0 < K; k0 += KB) {
                int k1 = k0 + KB < K ? k0 + KB : K;
                for (int i = i0; i < i1; i++) {
                    float *restrict c = C + (size_t)i * N;
                    for (int k = k0; k < k1; k++) {
                        float a = alpha * (ta ? A[(size_t)k * M + i] : A[(size_t)i * K + k]);
                        const float *restrict b = Bk + (size_t)k * N;
                        for (int j = j0; j < j1; j++)
                            c[j] += a * b[j];
                    }
                }
            }
        }
    }
    free(Bp);
    return 0;
}

int s4g_cpu_gemm(s4g_ctx *ctx, int ta, int tb, int M, int N, int K, float alpha, s4g_t A, s4g_t B,
                 float beta, s4g_t C, s4g_t bias, s4g_err *err)
{
    const float *pa = s4g_cpu_ptr(A), *pb = s4g_cpu_ptr(B), *pbias = s4g_cpu_ptr(bias);
    float *pc = s4g_cpu_ptr(C);
#ifdef S4G_HAVE_OPENBLAS
    float b = beta;
    if (pbias) {
        prescale(ctx->threads, M, N, beta, pc, pbias);
        b = 1.0f;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M,
                N, K, alpha, pa, ta ? M : K, pb, tb ? K : N, b, pc, N);
    return 0;
#else
    if (s4g_cpu_gemm_blocked(ctx->threads, ta, tb, M, N, K, alpha, pa, pb, beta, pc, pbias))
        return s4g_fail(err, S4G_E_NOMEM, "gemm: cannot allocate %zu bytes to pack B",
                        (size_t)K * N * sizeof(float));
    return 0;
#endif
}

/* Column chunks are independent, so each thread owns whole columns and sums its rows in
 * order: deterministic for any thread count.  Accumulates in double (rows can be ~10^5). */
enum { COLCHUNK = 64 };

int s4g_cpu_colsum(s4g_ctx *ctx, int M, int N, s4g_t x, float beta, s4g_t out, s4g_err *err)
{
    const float *px = s4g_cpu_ptr(x);
    float *po = s4g_cpu_ptr(out);
    const int chunks = (N + COLCHUNK - 1) / COLCHUNK;
    const int nt = ctx->threads;
    (void)nt;
    S4G_OMP(omp parallel for num_threads(nt) schedule(static) if ((long)M * N >= S4G_CPU_PAR_MIN))
    for (int ch = 0; ch < chunks; ch++) {
        int j0 = ch * COLCHUNK, w = N - j0 < COLCHUNK ? N - j0 : COLCHUNK;
        double acc[COLCHUNK] = {0};
        for (int i = 0; i < M; i++) {
            const float *restrict row = px + (size_t)i * N + j0;
            for (int j = 0; j < w; j++)
                acc[j] += row[j];
        }
        for (int j = 0; j < w; j++)
            po[j0 + j] = (beta == 0.0f ? 0.0f : beta * po[j0 + j]) + (float)acc[j];
    }
    return 0;
}
