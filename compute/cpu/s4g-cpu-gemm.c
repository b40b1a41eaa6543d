/* s4g-cpu-gemm.c — GEMM and column sums for the CPU backend.
 *
 * With OpenBLAS, C is split into one slice per thread, each a single-threaded cblas_sgemm
 * call (see s4g_cpu_gemm for why).  Without it, the packed, cache-blocked C GEMM below.
 * The bias is folded in first (C = beta*C + bias), so GEMM itself runs with beta = 1. */
#include "s4g-cpu.h"

#include <stdlib.h>
#include <string.h>

#ifdef S4G_HAVE_OPENBLAS
#include <cblas.h>
#endif

/* C = beta*C + bias (row broadcast); beta == 0 overwrites C without reading it (BLAS rule,
 * so an uninitialised C holding NaN does not leak through). */
typedef struct {
    int N;
    float beta;
    float *C;
    const float *bias;
} prescale_job;

static void prescale_task(void *arg, long lo, long hi)
{
    const prescale_job *j = arg;
    const int N = j->N;
    const float beta = j->beta, *bias = j->bias;
    for (long i = lo; i < hi; i++) {
        float *restrict c = j->C + (size_t)i * N;
        if (beta == 0.0f) {
            if (bias)
                memcpy(c, bias, (size_t)N * sizeof(float));
            else
                memset(c, 0, (size_t)N * sizeof(float));
        } else {
            for (int jj = 0; jj < N; jj++)
                c[jj] = beta * c[jj] + (bias ? bias[jj] : 0.0f);
        }
    }
}

static void prescale(s4g_ctx *ctx, int M, int N, float beta, float *C, const float *bias)
{
    prescale_job j = {N, beta, C, bias};
    s4g_cpu_parallel(ctx, M, (double)M * N, prescale_task, &j);
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

typedef struct {
    int ta, M, N, K, k0, kc, panels;
    float alpha;
    const float *A, *Bp;
    float *C;
    int failed; /* a task could not allocate its A panel */
} blocked_job;

/* Row blocks [lo, hi) of MC rows against the packed slab of B. */
static void blocked_task(void *arg, long lo, long hi)
{
    blocked_job *j = arg;
    float *ap = malloc((size_t)MC * KC * sizeof(float));
    if (!ap) {
        __atomic_store_n(&j->failed, 1, __ATOMIC_RELAXED);
        return;
    }
    for (long mb = lo; mb < hi; mb++) {
        int i0 = (int)mb * MC, mc = j->M - i0 < MC ? j->M - i0 : MC;
        pack_a(j->ta, j->M, j->K, j->alpha, j->A, i0, mc, j->k0, j->kc, ap);
        for (int p = 0; p < j->panels; p++) {
            int j0 = p * NR, nr = j->N - j0 < NR ? j->N - j0 : NR;
            for (int q = 0; q * MR < mc; q++) {
                int mr = mc - q * MR < MR ? mc - q * MR : MR;
                micro_kernel(j->kc, ap + (size_t)q * j->kc * MR, j->Bp + (size_t)p * j->kc * NR,
                             j->C + (size_t)(i0 + q * MR) * j->N + j0, (size_t)j->N, mr, nr);
            }
        }
    }
    free(ap);
}

int s4g_cpu_gemm_blocked(s4g_ctx *ctx, int ta, int tb, int M, int N, int K, float alpha,
                         const float *A, const float *B, float beta, float *C, const float *bias)
{
    const int panels = (N + NR - 1) / NR;
    const int mblocks = (M + MC - 1) / MC;
    float *Bp = malloc((size_t)panels * KC * NR * sizeof(float));
    if (!Bp)
        return -1;
    prescale(ctx, M, N, beta, C, bias);
    for (int k0 = 0; k0 < K; k0 += KC) {
        int kc = K - k0 < KC ? K - k0 : KC;
        pack_b(tb, N, K, B, k0, kc, Bp);
        blocked_job j = {ta, M, N, K, k0, kc, panels, alpha, A, Bp, C, 0};
        s4g_cpu_parallel(ctx, mblocks, (double)M * N * kc, blocked_task, &j);
        if (j.failed) {
            free(Bp);
            return -1;
        }
    }
    free(Bp);
    return 0;
}

/* What follows the product on each row chunk while that chunk of C is still in cache
 * (s4g_gemm_gelu, s4g_gemm_gelu_back): nothing, out = gelu(C), or out = gelu'(h) * C. */
typedef enum { EP_NONE, EP_GELU, EP_GELU_BACK } gemm_ep;

static void epilogue(gemm_ep ep, const float *C, const float *h, float *out, long lo, long hi)
{
    if (ep == EP_GELU)
        s4g_cpu_k->gelu(C + lo, out + lo, hi - lo);
    else if (ep == EP_GELU_BACK)
        s4g_cpu_k->gelu_back(h + lo, C + lo, out + lo, hi - lo);
}

typedef struct {
    gemm_ep ep;
    const float *C, *h;
    float *out;
} ep_job;

static void ep_task(void *arg, long lo, long hi)
{
    const ep_job *j = arg;
    epilogue(j->ep, j->C, j->h, j->out, lo, hi);
}

#ifdef S4G_HAVE_OPENBLAS
typedef struct {
    int ta, tb, M, N, K;
    float alpha;
    const float *A, *B;
    float beta;
    float *C;
    const float *bias;
    int split_n, span, step, chunk;
    gemm_ep ep;
    const float *h;
    float *out;
} blas_job;

/* Rows [lo, hi) of C (or columns, when split_n) as single-threaded OpenBLAS calls.  Rows go
 * in chunks of j->chunk: the bias is written into the chunk, the chunk multiplied, and the
 * epilogue run while the chunk is still in L2 — one pass over C from memory instead of three
 * (bias, GEMM, GELU), and OpenBLAS reuses its packed B from cache across chunks. */
static void blas_slice(const blas_job *j, int lo, int hi)
{
    const int ta = j->ta, tb = j->tb, M = j->M, N = j->N, K = j->K;
    if (hi <= lo)
        return;
    if (j->split_n) { /* bias and epilogue are done by the caller over the whole of C */
        const float *b = tb ? j->B + (size_t)lo * K : j->B + lo;
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    M, hi - lo, K, j->alpha, j->A, ta ? M : K, b, tb ? K : N, j->beta, j->C + lo,
                    N);
        return;
    }
    for (int r0 = lo; r0 < hi; r0 += j->chunk) {
        const int r1 = hi - r0 < j->chunk ? hi : r0 + j->chunk;
        float beta = j->beta;
        if (j->bias) {
            prescale_job pj = {N, beta, j->C, j->bias};
            prescale_task(&pj, r0, r1);
            beta = 1.0f;
        }
        const float *a = ta ? j->A + r0 : j->A + (size_t)r0 * K;
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                    r1 - r0, N, K, j->alpha, a, ta ? M : K, j->B, tb ? K : N, beta,
                    j->C + (size_t)r0 * N, N);
        epilogue(j->ep, j->C, j->h, j->out, (long)r0 * N, (long)r1 * N);
    }
}

static void blas_task(void *arg, long lo, long hi)
{
    const blas_job *j = arg;
    for (long t = lo; t < hi; t++) {
        int a = (int)t * j->step < j->span ? (int)t * j->step : j->span;
        int e = a + j->step < j->span ? a + j->step : j->span;
        blas_slice(j, a, e);
    }
}

/* Rows per chunk: C's chunk about 512 KB (half the L2 of the CPUs this was measured on), at
 * least 64 rows; no chunking when B is too large to stay cached beside it between chunks
 * (OpenBLAS packs op(B) again on every call).  Measured on Zen 4 (1 MB L2), 1 thread: +3-10 %
 * for ConvNeXt's stage-1 shapes (B <= 256 KB); larger B showed no clear gain, so it runs whole. */
static int chunk_rows(int M, int N, int K)
{
    if ((size_t)K * N * sizeof(float) > ((size_t)512 << 10))
        return M;
    int r = (131072 / N) & ~15;
    return r < 64 ? 64 : r;
}
#endif

/* C = alpha op(A) op(B) + beta C (+ bias), then the epilogue (see gemm_ep) into out. */
static int gemm_ep_run(s4g_ctx *ctx, int ta, int tb, int M, int N, int K, float alpha,
                       const float *pa, const float *pb, float beta, float *pc,
                       const float *pbias, gemm_ep ep, const float *h, float *out, s4g_err *err)
{
    ep_job ej = {ep, pc, h, out};
#ifdef S4G_HAVE_OPENBLAS
    /* Our threads, not OpenBLAS's: each takes a slice of C and calls OpenBLAS
     * single-threaded.  Two thread pools on the same cores (OpenBLAS's yield-spinning
     * workers and ours) otherwise steal each other's time slices between ops. */
    const int nt = s4g_cpu_pool_size(ctx->impl);
    const int split_n = M < 32 * nt && N > M;
    const int span = split_n ? N : M;
    blas_job j = {ta, tb, M, N, K, alpha, pa, pb, beta, pc, pbias, split_n, span, span,
                  chunk_rows(M, N, K), ep, h, out};
    if (split_n && pbias) {
        prescale(ctx, M, N, beta, pc, pbias);
        j.beta = 1.0f;
        j.bias = NULL;
    }
    if (nt <= 1 || (double)M * N * K < 262144.0 || span < 2 * nt) {
        blas_slice(&j, 0, span);
    } else {
        openblas_set_num_threads(1);
        /* slice edges on multiples of 16 so every slice but the last has whole kernel tiles */
        j.step = ((span + nt - 1) / nt + 15) / 16 * 16;
        s4g_cpu_parallel(ctx, nt, 1e300, blas_task, &j);
        /* other callers in the process (the gallery search) use OpenBLAS's own threads */
        openblas_set_num_threads(ctx->threads);
    }
    if (split_n && ep != EP_NONE)
        s4g_cpu_parallel(ctx, (long)M * N, 8.0 * M * N, ep_task, &ej);
    return 0;
#else
    if (s4g_cpu_gemm_blocked(ctx, ta, tb, M, N, K, alpha, pa, pb, beta, pc, pbias))
        return s4g_fail(err, S4G_E_NOMEM, "gemm %dx%dx%d: out of memory for packing buffers",
                        M, N, K);
    if (ep != EP_NONE)
        s4g_cpu_parallel(ctx, (long)M * N, 8.0 * M * N, ep_task, &ej);
    return 0;
#endif
}

int s4g_cpu_gemm(s4g_ctx *ctx, int ta, int tb, int M, int N, int K, float alpha, s4g_t A, s4g_t B,
                 float beta, s4g_t C, s4g_t bias, s4g_err *err)
{
    return gemm_ep_run(ctx, ta, tb, M, N, K, alpha, s4g_cpu_ptr(A), s4g_cpu_ptr(B), beta,
                       s4g_cpu_ptr(C), s4g_cpu_ptr(bias), EP_NONE, NULL, NULL, err);
}

int s4g_cpu_gemm_gelu(s4g_ctx *ctx, int ta, int tb, int M, int N, int K, float alpha, s4g_t A,
                      s4g_t B, s4g_t bias, s4g_t H, s4g_t G, s4g_err *err)
{
    return gemm_ep_run(ctx, ta, tb, M, N, K, alpha, s4g_cpu_ptr(A), s4g_cpu_ptr(B), 0.0f,
                       s4g_cpu_ptr(H), s4g_cpu_ptr(bias), EP_GELU, NULL, s4g_cpu_ptr(G), err);
}

int s4g_cpu_gemm_gelu_back(s4g_ctx *ctx, int ta, int tb, int M, int N, int K, float alpha,
                           s4g_t A, s4g_t B, s4g_t H, s4g_t T, s4g_t DH, s4g_err *err)
{
    return gemm_ep_run(ctx, ta, tb, M, N, K, alpha, s4g_cpu_ptr(A), s4g_cpu_ptr(B), 0.0f,
                       s4g_cpu_ptr(T), NULL, EP_GELU_BACK, s4g_cpu_ptr(H), s4g_cpu_ptr(DH),
                       err);
}

/* Column chunks are independent, so each thread owns whole columns and sums its rows in
 * order: deterministic for any thread count.  Accumulates in double (rows can be ~10^5). */
enum { COLCHUNK = 64 };

typedef struct {
    int M, N;
    float beta;
    const float *x;
    float *out;
} colsum_job;

static void colsum_task(void *arg, long lo, long hi)
{
    const colsum_job *j = arg;
    for (long ch = lo; ch < hi; ch++) {
        int j0 = (int)ch * COLCHUNK, w = j->N - j0 < COLCHUNK ? j->N - j0 : COLCHUNK;
        double acc[COLCHUNK] = {0};
        s4g_cpu_k->colsum_cols(j->M, j->N, j->x, j0, w, acc); /* vector path, rows in order */
        float *o = j->out + j0;
        for (int c = 0; c < w; c++)
            o[c] = (j->beta == 0.0f ? 0.0f : j->beta * o[c]) + (float)acc[c];
    }
}

int s4g_cpu_colsum(s4g_ctx *ctx, int M, int N, s4g_t x, float beta, s4g_t out, s4g_err *err)
{
    colsum_job j = {M, N, beta, s4g_cpu_ptr(x), s4g_cpu_ptr(out)};
    s4g_cpu_parallel(ctx, (N + COLCHUNK - 1) / COLCHUNK, (double)M * N, colsum_task, &j);
    return 0;
}
