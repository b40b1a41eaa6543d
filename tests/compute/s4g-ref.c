/* s4g-ref.c — naive double-precision references (see s4g-ref.h). */
#include "s4g-ref.h"

#include <math.h>
#include <stdlib.h>

void s4g_ref_to_double(const float *src, double *dst, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
}

void s4g_ref_to_float(const double *src, float *dst, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = (float)src[i];
}

void s4g_ref_random(uint64_t *state, float *dst, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t x = *state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *state = x;
        double u = (double)((x * 2685821657736338717ull) >> 11) / 9007199254740992.0;
        dst[i] = (float)(lo + (hi - lo) * u);
    }
}

double s4g_ref_gelu1(double x)
{
    return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
}

void s4g_ref_gelu(size_t n, const double *x, double *y)
{
    for (size_t i = 0; i < n; i++)
        y[i] = s4g_ref_gelu1(x[i]);
}

void s4g_ref_gemm(int ta, int tb, int M, int N, int K, double alpha, const double *A,
                  const double *B, double beta, double *C, const double *bias)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++) {
                double a = ta ? A[(size_t)k * M + i] : A[(size_t)i * K + k];
                double b = tb ? B[(size_t)j * K + k] : B[(size_t)k * N + j];
                s += a * b;
            }
            double old = beta == 0 ? 0 : beta * C[(size_t)i * N + j];
            C[(size_t)i * N + j] = alpha * s + old + (bias ? bias[j] : 0);
        }
}

void s4g_ref_colsum(int M, int N, const double *x, double beta, double *out)
{
    for (int j = 0; j < N; j++) {
        double s = 0;
        for (int i = 0; i < M; i++)
            s += x[(size_t)i * N + j];
        out[j] = (beta == 0 ? 0 : beta * out[j]) + s;
    }
}

void s4g_ref_patchify(int N, int H, int W, int C, int k, const double *x, double *y)
{
    int Ho = H / k, Wo = W / k, P = k * k * C;
    for (int n = 0; n < N; n++)
        for (int oh = 0; oh < Ho; oh++)
            for (int ow = 0; ow < Wo; ow++)
                for (int kh = 0; kh < k; kh++)
                    for (int kw = 0; kw < k; kw++)
                        for (int c = 0; c < C; c++) {
                            size_t row = ((size_t)n * Ho + oh) * Wo + ow;
                            size_t col = ((size_t)kh * k + kw) * C + c;
                            size_t src = (((size_t)n * H + oh * k + kh) * W + ow * k + kw) * C + c;
                            y[row * P + col] = x[src];
                        }
}

void s4g_ref_dwconv7(int N, int H, int W, int C, const double *x, const double *w,
                     const double *b, double *y)
{
    for (int n = 0; n < N; n++)
        for (int h = 0; h < H; h++)
            for (int ww = 0; ww < W; ww++)
                for (int c = 0; c < C; c++) {
                    double s = b ? b[c] : 0;
                    for (int kh = 0; kh < 7; kh++)
                        for (int kw = 0; kw < 7; kw++) {
                            int ih = h + kh - 3, iw = ww + kw - 3;
                            if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                                continue;
                            s += x[(((size_t)n * H + ih) * W + iw) * C + c] *
                                 w[((size_t)kh * 7 + kw) * C + c];
                        }
                    y[(((size_t)n * H + h) * W + ww) * C + c] = s;
                }
}

void s4g_ref_layernorm(int rows, int C, double eps, const double *x, const double *gamma,
                       const double *beta, double *y, double *mean, double *rstd)
{
    for (int r = 0; r < rows; r++) {
        const double *xr = x + (size_t)r * C;
        double mu = 0, var = 0;
        for (int c = 0; c < C; c++)
            mu += xr[c];
        mu /= C;
        for (int c = 0; c < C; c++)
            var += (xr[c] - mu) * (xr[c] - mu);
        var /= C;
        double rs = 1.0 / sqrt(var + eps);
        for (int c = 0; c < C; c++)
            y[(size_t)r * C + c] = (xr[c] - mu) * rs * gamma[c] + beta[c];
        if (mean)
            mean[r] = mu;
        if (rstd)
            rstd[r] = rs;
    }
}

void s4g_ref_scale_residual(int rows, int C, const double *x, const double *y,
                            const double *gamma, double *out)
{
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < C; c++) {
            size_t i = (size_t)r * C + c;
            out[i] = x[i] + gamma[c] * y[i];
        }
}

void s4g_ref_avgpool(int N, int HW, int C, const double *x, double *y)
{
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            double s = 0;
            for (int p = 0; p < HW; p++)
                s += x[((size_t)n * HW + p) * C + c];
            y[(size_t)n * C + c] = s / HW;
        }
}

void s4g_ref_l2norm(int rows, int C, const double *x, double *y, double *norms)
{
    for (int r = 0; r < rows; r++) {
        double s = 0;
        for (int c = 0; c < C; c++)
            s += x[(size_t)r * C + c] * x[(size_t)r * C + c];
        double nrm = sqrt(s);
        double d = nrm > 1e-12 ? nrm : 1e-12;
        for (int c = 0; c < C; c++)
            y[(size_t)r * C + c] = x[(size_t)r * C + c] / d;
        if (norms)
            norms[r] = nrm;
    }
}

/* Label-smoothed cross entropy of one row of logits z (length B) with target index t. */
static double ce_ls(int B, const double *z, int t, double smoothing)
{
    double mx = z[0];
    for (int j = 1; j < B; j++)
        mx = z[j] > mx ? z[j] : mx;
    double sum = 0;
    for (int j = 0; j < B; j++)
        sum += exp(z[j] - mx);
    double lse = mx + log(sum), loss = 0;
    for (int j = 0; j < B; j++) {
        double target = (j == t ? 1.0 - smoothing : 0.0) + smoothing / B;
        loss -= target * (z[j] - lse);
    }
    return loss;
}

double s4g_ref_infonce(int B, int D, double smoothing, const double *q, const double *r,
                       double logit_scale)
{
    double s = exp(logit_scale);
    double *L = malloc((size_t)B * B * sizeof *L), *row = malloc((size_t)B * sizeof *row);
    for (int i = 0; i < B; i++)
        for (int j = 0; j < B; j++) {
            double d = 0;
            for (int k = 0; k < D; k++)
                d += q[(size_t)i * D + k] * r[(size_t)j * D + k];
            L[(size_t)i * B + j] = s * d;
        }
    double l1 = 0, l2 = 0;
    for (int i = 0; i < B; i++) {
        l1 += ce_ls(B, L + (size_t)i * B, i, smoothing);
        for (int j = 0; j < B; j++)
            row[j] = L[(size_t)j * B + i];
        l2 += ce_ls(B, row, i, smoothing);
    }
    free(L);
    free(row);
    return 0.5 * (l1 / B + l2 / B);
}

void s4g_ref_adamw(size_t n, double *p, const double *g, double *m, double *v, double lr,
                   double beta1, double beta2, double eps, double wd, int step)
{
    double bc1 = 1.0 - pow(beta1, step), bc2 = 1.0 - pow(beta2, step);
    for (size_t i = 0; i < n; i++) {
        p[i] *= 1.0 - lr * wd;
        m[i] = beta1 * m[i] + (1.0 - beta1) * g[i];
        v[i] = beta2 * v[i] + (1.0 - beta2) * g[i] * g[i];
        p[i] -= lr / bc1 * m[i] / (sqrt(v[i]) / sqrt(bc2) + eps);
    }
}
