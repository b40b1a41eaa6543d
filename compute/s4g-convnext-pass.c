/* s4g-convnext-pass.c — ConvNeXt forward and backward over the op interface, and batched
 * encoding of host images (NCHW or NHWC) through a cached inference workspace. */
#include "s4g-convnext-impl.h"

#include <stdlib.h>
#include <string.h>

#define LN_EPS 1e-6f

#define PT(off) s4g_at(m->params, (off))
#define GT(off) s4g_at(m->grads, (off))
#define TRY(x)                                                                                 \
    do {                                                                                       \
        if ((x) != 0)                                                                          \
            return -1;                                                                         \
    } while (0)

int s4g_convnext_forward(s4g_convnext *m, s4g_convnext_ws *ws, s4g_err *err)
{
    if (ws->m != m)
        return s4g_fail(err, S4G_E_INVALID, "convnext forward: workspace of another model");
    priv_t *P = m->priv;
    s4g_ctx *c = m->ctx;
    const int *dm = m->cfg.dims;
    int N = ws->N;
    int r0 = (int)ws->rows[0];
    TRY(s4g_patchify(c, N, ws->H, ws->W, 3, 4, ws->input, ws->stem_p, err));
    TRY(s4g_gemm(c, 0, 1, r0, dm[0], 48, 1.0f, ws->stem_p, PT(P->stem_w), 0.0f, ws->stem_y,
                 PT(P->stem_b), err));
    TRY(s4g_layernorm(c, r0, dm[0], LN_EPS, ws->stem_y, PT(P->stem_ln_w), PT(P->stem_ln_b),
                      ws->stage_in[0], ws->stem_mean, ws->stem_rstd, err));
    s4g_t x = ws->stage_in[0];
    for (int i = 0; i < 4; i++) {
        int rows = (int)ws->rows[i], d = dm[i];
        if (i > 0) {
            int rp = (int)ws->rows[i - 1], dp = dm[i - 1];
            TRY(s4g_layernorm(c, rp, dp, LN_EPS, x, PT(P->ds_ln_w[i]), PT(P->ds_ln_b[i]),
                              ws->ds_y[i], ws->ds_mean[i], ws->ds_rstd[i], err));
            TRY(s4g_patchify(c, N, ws->hs[i - 1], ws->wd[i - 1], dp, 2, ws->ds_y[i], ws->ds_p[i],
                             err));
            TRY(s4g_gemm(c, 0, 1, rows, d, 4 * dp, 1.0f, ws->ds_p[i], PT(P->ds_w[i]), 0.0f,
                         ws->stage_in[i], PT(P->ds_b[i]), err));
            x = ws->stage_in[i];
        }
        for (int j = 0; j < m->cfg.depths[i]; j++) {
            const blk_p *bp = &P->blk[i][j];
            blk_a *b = &ws->blk[i][j];
            TRY(s4g_dwconv7(c, N, ws->hs[i], ws->wd[i], d, x, PT(bp->dw_w), PT(bp->dw_b), b->a,
                            err));
            TRY(s4g_layernorm(c, rows, d, LN_EPS, b->a, PT(bp->ln_w), PT(bp->ln_b), b->b,
                              b->mean, b->rstd, err));
            TRY(s4g_gemm_gelu(c, 0, 1, rows, 4 * d, d, 1.0f, b->b, PT(bp->fc1_w), PT(bp->fc1_b),
                              b->h, b->g, err));
            TRY(s4g_gemm(c, 0, 1, rows, d, 4 * d, 1.0f, b->g, PT(bp->fc2_w), 0.0f, b->z,
                         PT(bp->fc2_b), err));
            TRY(s4g_scale_residual(c, rows, d, x, b->z, PT(bp->gamma), b->out, err));
            x = b->out;
        }
    }
    int d3 = dm[3];
    TRY(s4g_avgpool(c, N, ws->hs[3] * ws->wd[3], d3, x, ws->pooled, err));
    TRY(s4g_layernorm(c, N, d3, LN_EPS, ws->pooled, PT(P->head_w), PT(P->head_b), ws->out,
                      ws->head_mean, ws->head_rstd, err));
    return 0;
}

int s4g_convnext_backward(s4g_convnext *m, s4g_convnext_ws *ws, s4g_t dfeat, s4g_err *err)
{
    return s4g_convnext_backward_ready(m, ws, dfeat, NULL, NULL, err);
}

static size_t min_off(const size_t *o, int n)
{
    size_t v = o[0];
    for (int i = 1; i < n; i++)
        v = o[i] < v ? o[i] : v;
    return v;
}

#define READY(from)                                                                            \
    do {                                                                                       \
        if (ready && ready(user, (from), err))                                                 \
            return -1;                                                                         \
    } while (0)

int s4g_convnext_backward_ready(s4g_convnext *m, s4g_convnext_ws *ws, s4g_t dfeat,
                                s4g_grads_ready ready, void *user, s4g_err *err)
{
    if (ws->m != m)
        return s4g_fail(err, S4G_E_INVALID, "convnext backward: workspace of another model");
    if (s4g_convnext_trainable(m, "convnext backward", err))
        return -1;
    if (!ws->train)
        return s4g_fail(err, S4G_E_INVALID,
                        "convnext backward: the workspace was made for inference (train = 0)");
    priv_t *P = m->priv;
    s4g_ctx *c = m->ctx;
    const int *dm = m->cfg.dims;
    int N = ws->N, d3 = dm[3];
    s4g_t D = ws->dD;
    TRY(s4g_layernorm_back(c, N, d3, ws->pooled, PT(P->head_w), ws->head_mean, ws->head_rstd,
                           dfeat, ws->dpool, GT(P->head_w), GT(P->head_b), err));
    TRY(s4g_avgpool_back(c, N, ws->hs[3] * ws->wd[3], d3, ws->dpool, D, err));
    READY(min_off((size_t[]){P->head_w, P->head_b}, 2));
    for (int i = 3; i >= 0; i--) {
        int rows = (int)ws->rows[i], d = dm[i];
        for (int j = m->cfg.depths[i] - 1; j >= 0; j--) {
            const blk_p *bp = &P->blk[i][j];
            blk_a *b = &ws->blk[i][j];
            TRY(s4g_scale_residual_back(c, rows, d, b->z, PT(bp->gamma), D, ws->dZ,
                                        GT(bp->gamma), err));
            /* dG = dZ fc2_w, then dH = gelu'(h) dG chunk by chunk (dG is scratch) */
            TRY(s4g_gemm_gelu_back(c, 0, 0, rows, 4 * d, d, 1.0f, ws->dZ, PT(bp->fc2_w), b->h,
                                   ws->dG, ws->dH, err));
            TRY(s4g_gemm(c, 1, 0, d, 4 * d, rows, 1.0f, ws->dZ, b->g, 1.0f, GT(bp->fc2_w),
                         s4g_none(), err));
            TRY(s4g_colsum(c, rows, d, ws->dZ, 1.0f, GT(bp->fc2_b), err));
            TRY(s4g_gemm(c, 0, 0, rows, d, 4 * d, 1.0f, ws->dH, PT(bp->fc1_w), 0.0f, ws->dB,
                         s4g_none(), err));
            TRY(s4g_gemm(c, 1, 0, 4 * d, d, rows, 1.0f, ws->dH, b->b, 1.0f, GT(bp->fc1_w),
                         s4g_none(), err));
            TRY(s4g_colsum(c, rows, 4 * d, ws->dH, 1.0f, GT(bp->fc1_b), err));
            TRY(s4g_layernorm_back(c, rows, d, b->a, PT(bp->ln_w), b->mean, b->rstd, ws->dB,
                                   ws->dA, GT(bp->ln_w), GT(bp->ln_b), err));
            /* D holds d(out); the residual passes it through, the conv adds its part */
            TRY(s4g_dwconv7_back(c, N, ws->hs[i], ws->wd[i], d, b->x, PT(bp->dw_w), ws->dA, D, 1,
                                 GT(bp->dw_w), GT(bp->dw_b), err));
            READY(min_off((size_t[]){bp->dw_w, bp->dw_b, bp->ln_w, bp->ln_b, bp->fc1_w, bp->fc1_b,
                                     bp->fc2_w, bp->fc2_b, bp->gamma},
                          9));
        }
        if (i > 0) {
            int rp = (int)ws->rows[i - 1], dp = dm[i - 1];
            TRY(s4g_gemm(c, 0, 0, rows, 4 * dp, d, 1.0f, D, PT(P->ds_w[i]), 0.0f, ws->dP,
                         s4g_none(), err));
            TRY(s4g_gemm(c, 1, 0, d, 4 * dp, rows, 1.0f, D, ws->ds_p[i], 1.0f, GT(P->ds_w[i]),
                         s4g_none(), err));
            TRY(s4g_colsum(c, rows, d, D, 1.0f, GT(P->ds_b[i]), err));
            TRY(s4g_patchify_back(c, N, ws->hs[i - 1], ws->wd[i - 1], dp, 2, ws->dP, ws->dY,
                                  err));
            s4g_t xprev = ws->blk[i - 1][m->cfg.depths[i - 1] - 1].out;
            TRY(s4g_layernorm_back(c, rp, dp, xprev, PT(P->ds_ln_w[i]), ws->ds_mean[i],
                                   ws->ds_rstd[i], ws->dY, D, GT(P->ds_ln_w[i]),
                                   GT(P->ds_ln_b[i]), err));
            READY(min_off((size_t[]){P->ds_w[i], P->ds_b[i], P->ds_ln_w[i], P->ds_ln_b[i]}, 4));
        }
    }
    int r0 = (int)ws->rows[0];
    TRY(s4g_layernorm_back(c, r0, dm[0], ws->stem_y, PT(P->stem_ln_w), ws->stem_mean,
                           ws->stem_rstd, D, ws->dZ, GT(P->stem_ln_w), GT(P->stem_ln_b), err));
    TRY(s4g_gemm(c, 1, 0, dm[0], 48, r0, 1.0f, ws->dZ, ws->stem_p, 1.0f, GT(P->stem_w),
                 s4g_none(), err));
    TRY(s4g_colsum(c, r0, dm[0], ws->dZ, 1.0f, GT(P->stem_b), err));
    READY(0);
    return 0;
}

/* ---------------------------------------------------------------- encode */

static int encode(s4g_convnext *m, int N, int H, int W, const float *x, int batch, float *out,
                  int nchw, s4g_err *err)
{
    priv_t *P = m->priv;
    if (N < 1)
        return 0;
    if (batch < 1)
        batch = 1;
    int D = m->cfg.dims[3];
    size_t img = (size_t)H * W * 3;
    float *tmp = nchw ? malloc((size_t)(batch < N ? batch : N) * img * sizeof *tmp) : NULL;
    if (nchw && !tmp)
        return s4g_fail(err, S4G_E_NOMEM, "out of memory");
    int rc = 0;
    for (int s = 0; s < N && !rc; s += batch) {
        int n = N - s < batch ? N - s : batch;
        int cn, ch, cw;
        if (!P->cache || (s4g_convnext_ws_shape(P->cache, &cn, &ch, &cw), cn != n || ch != H ||
                                                                               cw != W)) {
            s4g_convnext_ws_free(P->cache);
            P->cache = s4g_convnext_ws_new(m, n, H, W, 0, err);
            if (!P->cache) {
                rc = -1;
                break;
            }
        }
        const float *src = x + (size_t)s * img;
        if (nchw) {
            size_t hw = (size_t)H * W;
            for (int b = 0; b < n; b++)
                for (int ch = 0; ch < 3; ch++)
                    for (size_t p = 0; p < hw; p++)
                        tmp[(size_t)b * img + p * 3 + ch] = src[(size_t)b * img + ch * hw + p];
            src = tmp;
        }
        rc = s4g_buf_upload(P->cache->input.buf, P->cache->input.off, src, (size_t)n * img, err);
        if (!rc)
            rc = s4g_convnext_forward(m, P->cache, err);
        if (!rc)
            rc = s4g_buf_download(P->cache->out.buf, P->cache->out.off, out + (size_t)s * D,
                                  (size_t)n * D, err);
    }
    free(tmp);
    return rc;
}

int s4g_convnext_encode_nchw(s4g_convnext *m, int N, int H, int W, const float *x, int batch,
                             float *out, s4g_err *err)
{
    return encode(m, N, H, W, x, batch, out, 1, err);
}

int s4g_convnext_encode_nhwc(s4g_convnext *m, int N, int H, int W, const float *x, int batch,
                             float *out, s4g_err *err)
{
    return encode(m, N, H, W, x, batch, out, 0, err);
}
