/* s4g-cpu-gemm.c — GEMM and column sums for the CPU backend.
 *
 * With OpenBLAS, GEMM is one cblas_sgemm call (OpenBLAS runs its own threads, set to
 * ctx->threads at context creation).  Without it, the packed, cache-blocked C GEMM below.
 * The bias is folded in first (C = beta*C + bias), so GEMM itself runs with beta = 1. */
#include "s4g-cpu.h"

#include <stdlib.h>
#include <string.h>

#ifdef S4G_HAVE_OPENBLAS
#include <cblas.h>
#endif
#ifdef _OPENMP
#include <omp.h>
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

/* Blocked GEMM in the usual packed form: op(B) is packed per KC-deep slab into NR-wide
 * column panels (shared by all threads), each thread packs an MC x KC block of alpha*op(A)
 * into MR-high row panels, and an MR x NR micro-kernel keeps its C tile in vector
 * registers across the KC loop.  GCC vector extensions write the kernel once; target_clones
 * compiles it for AVX2+FMA too and picks at load time (the build targets baseline x86-64). */
enum { MR = 4, NR = 16, KC = 256, MC = 64 };

typedef float v8f __attribute__((vector_size(32), aligned(4)));

/* C[mr x nr] += A-panel (kc x MR) * B-panel (kc x NR); tiles at the edges have mr < MR or
 * nr < NR and are accumulated through a local tile. */
S4G_CLONES
static void micro_kernel(int kc, const float *restrict a, const float *restrict b,
                         float *restrict c, size_t ldc, int mr, int nr)
{
    /* Eight named accumulators (not an array), so they stay in registers. */
    v8f c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0}, c30 = {0}, c31 = {0};
    for (int k = 0; k < kc; k++, a += MR, b += NR) {
        v8f b0, b1;
        __builtin_memcpy(&b0, b, sizeof b0);
        __builtin_memcpy(&b1, b + 8, sizeof b1);
        c00 += a[0] * b0;
        c01 += a[0] * b1;
        c10 += a[1] * b0;
        c11 += a[1] * b1;
        c20 += a[2] * b0;
        c21 += a[2] * b1;
        c30 += a[3] * b0;
        c31 += a[3] * b1;
    }
    v8f acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}};
    float tile[MR][NR];
    __builtin_memcpy(tile, acc, sizeof tile);
    for (int r = 0; r < mr; r++)
        for (int j = 0; j < nr; j++)
            c[(size_t)r * ldc + j] += tile[r][j];
}

/* op(B)[k0:k0+kc, :] into panels: Bp[panel][k][NR], zero-padded past N. */
static void pack_b(int tb, int N, int K, const float *B, int k0, int kc, float *Bp)
{
    const int panels = (N + NR - 1) / NR;
    for (int p = 0; p < panels; p++) {
        float *dst = Bp + (size_t)p * kc * NR;
        int j0 = p * NR, nr = N - j0 < NR ? N - j0 : NR;
        for (int k = 0; k < kc; k++) {
            for (int j = 0; j < nr; j++)
                dst[(size_t)k * NR + j] = tb ? B[(size_t)(j0 + j) * K + k0 + k]
                                             : B[(size_t)(k0 + k) * N + j0 + j];
            for (int j = nr; j < NR; j++)
                dst[(size_t)k * NR + j] = 0.0f;
        }
    }
}

/* alpha * op(A)[i0:i0+mc, k0:k0+kc] into panels: Ap[panel][k][MR], zero-padded past mc. */
static void pack_a(int ta, int M, int K, float alpha, const float *A, int i0, int mc, int k0,
                   int kc, float *Ap)
{
    for (int p = 0; p * MR < mc; p++) {
        float *dst = Ap + (size_t)p * kc * MR;
        int mr = mc - p * MR < MR ? mc - p * MR : MR;
        for (int k = 0; k < kc; k++) {
            for (int r = 0; r < mr; r++) {
                int i = i0 + p * MR + r;
                dst[(size_t)k * MR + r] =
                    alpha * (ta ? A[(size_t)(k0 + k) * M + i] : A[(size_t)i * K + k0 + k]);
            }
            for (int r = mr; r < MR; r++)
                dst[(size_t)k * MR + r] = 0.0f;
        }
    }
}

int s4g_cpu_gemm_blocked(int threads, int ta, int tb, int M, int N, int K, float alpha,
                         const float *A, const float *B, float beta, float *C, const float *bias)
{
    const int panels = (N + NR - 1) / NR;
    const int mblocks = (M + MC - 1) / MC;
    const int nt = threads > mblocks ? mblocks : threads;
    float *Bp = malloc((size_t)panels * KC * NR * sizeof(float));
    float *Ap = malloc((size_t)(nt > 0 ? nt : 1) * MC * KC * sizeof(float));
    if (!Bp || !Ap) {
        free(Bp);
        free(Ap);
        return -1;
    }
    prescale(threads, M, N, beta, C, bias);
    const int par = (double)M * N * K >= 1e6;
    for (int k0 = 0; k0 < K; k0 += KC) {
        int kc = K - k0 < KC ? K - k0 : KC;
        pack_b(tb, N, K, B, k0, kc, Bp);
        S4G_OMP(omp parallel for num_threads(nt) schedule(static) if (par))
        for (int mb = 0; mb < mblocks; mb++) {
#ifdef _OPENMP
            float *ap = Ap + (size_t)omp_get_thread_num() * MC * KC;
#else
            float *ap = Ap;
#endif
            int i0 = mb * MC, mc = M - i0 < MC ? M - i0 : MC;
            pack_a(ta, M, K, alpha, A, i0, mc, k0, kc, ap);
            for (int p = 0; p < panels; p++) {
                int j0 = p * NR, nr = N - j0 < NR ? N - j0 : NR;
                for (int q = 0; q * MR < mc; q++) {
                    int mr = mc - q * MR < MR ? mc - q * MR : MR;
                    micro_kernel(kc, ap + (size_t)q * kc * MR, Bp + (size_t)p * kc * NR,
                                 C + (size_t)(i0 + q * MR) * N + j0, (size_t)N, mr, nr);
                }
            }
        }
    }
    free(Bp);
    free(Ap);
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
