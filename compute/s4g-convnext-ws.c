/* s4g-convnext-ws.c — ConvNeXt workspaces: every activation a forward pass (and, when
 * training, the backward pass) needs, planned per image size and packed into as few
 * buffers as the device's binding limit allows. */
#include "s4g-convnext-impl.h"

#include <stdlib.h>
#include <string.h>

static void want(s4g_convnext_ws *ws, s4g_t *slot, size_t n)
{
    if (ws->nreq == ws->capreq) {
        int cap = ws->capreq ? 2 * ws->capreq : 256;
        req_t *r = realloc(ws->req, (size_t)cap * sizeof *r);
        if (!r) {
            ws->oom = 1;
            return;
        }
        ws->req = r;
        ws->capreq = cap;
    }
    ws->req[ws->nreq].slot = slot;
    ws->req[ws->nreq].n = n ? n : 1;
    ws->nreq++;
}

/* Packs the requested tensors into as few buffers as the device allows (one on the CPU),
 * each tensor at a 64-float aligned offset. */
static int place(s4g_convnext_ws *ws, s4g_err *err)
{
    if (ws->oom)
        return s4g_fail(err, S4G_E_NOMEM, "out of memory planning a workspace");
    size_t lim = s4g_ctx_max_buffer_floats(ws->m->ctx);
    if (!lim)
        lim = (size_t)1 << 40;
    ws->bufs = calloc((size_t)ws->nreq, sizeof *ws->bufs);
    if (!ws->bufs)
        return s4g_fail(err, S4G_E_NOMEM, "out of memory");
    int i = 0;
    while (i < ws->nreq) {
        size_t used = 0;
        int j = i;
        while (j < ws->nreq) {
            size_t n = (ws->req[j].n + 63) & ~(size_t)63;
            if (used && used + n > lim)
                break;
            if (n > lim)
                return s4g_fail(err, S4G_E_INVALID,
                                "workspace tensor of %zu floats exceeds the device's largest "
                                "buffer binding (%zu floats): use a smaller batch or image",
                                ws->req[j].n, lim);
            used += n;
            j++;
        }
        s4g_buf *b = s4g_buf_new(ws->m->ctx, used, err);
        if (!b)
            return -1;
        ws->bufs[ws->nbufs++] = b;
        size_t off = 0;
        for (int k = i; k < j; k++) {
            *ws->req[k].slot = s4g_at(b, off);
            off += (ws->req[k].n + 63) & ~(size_t)63;
        }
        i = j;
    }
    return 0;
}

s4g_convnext_ws *s4g_convnext_ws_new(s4g_convnext *m, int N, int H, int W, int train,
                                     s4g_err *err)
{
    int hs[4], wd[4];
    if (N < 1)
        return s4g_fail(err, S4G_E_INVALID, "batch of %d images", N), NULL;
    if (s4g_convnext_spatial(H, W, hs, wd, err))
        return NULL;
    if (train && s4g_convnext_trainable(m, "convnext training workspace", err))
        return NULL;
    s4g_convnext_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        return s4g_fail(err, S4G_E_NOMEM, "out of memory"), NULL;
    const int *dm = m->cfg.dims, *dp = m->cfg.depths;
    ws->m = m;
    ws->N = N;
    ws->H = H;
    ws->W = W;
    ws->train = train;
    size_t maxrd = 0, maxp = 0, maxrows = 0;
    for (int i = 0; i < 4; i++) {
        ws->hs[i] = hs[i];
        ws->wd[i] = wd[i];
        ws->rows[i] = (size_t)N * hs[i] * wd[i];
        if (ws->rows[i] * dm[i] > maxrd)
            maxrd = ws->rows[i] * dm[i];
        if (ws->rows[i] > maxrows)
            maxrows = ws->rows[i];
        size_t p = ws->rows[i] * (i ? 4 * (size_t)dm[i - 1] : 48);
        if (p > maxp)
            maxp = p;
        ws->blk[i] = calloc((size_t)dp[i], sizeof(blk_a));
        if (!ws->blk[i]) {
            s4g_convnext_ws_free(ws);
            return s4g_fail(err, S4G_E_NOMEM, "out of memory"), NULL;
        }
    }
    want(ws, &ws->input, (size_t)N * H * W * 3);
    want(ws, &ws->stem_p, ws->rows[0] * 48);
    want(ws, &ws->pooled, (size_t)N * dm[3]);
    want(ws, &ws->head_mean, (size_t)N);
    want(ws, &ws->head_rstd, (size_t)N);
    want(ws, &ws->out, (size_t)N * dm[3]);
    if (train) {
        want(ws, &ws->stem_y, ws->rows[0] * dm[0]);
        want(ws, &ws->stem_mean, ws->rows[0]);
        want(ws, &ws->stem_rstd, ws->rows[0]);
        for (int i = 0; i < 4; i++) {
            size_t r = ws->rows[i], d = (size_t)dm[i];
            want(ws, &ws->stage_in[i], r * d);
            if (i > 0) {
                size_t rp = ws->rows[i - 1], dpv = (size_t)dm[i - 1];
                want(ws, &ws->ds_y[i], rp * dpv);
                want(ws, &ws->ds_mean[i], rp);
                want(ws, &ws->ds_rstd[i], rp);
                want(ws, &ws->ds_p[i], r * 4 * dpv);
            }
            for (int j = 0; j < dp[i]; j++) {
                blk_a *b = &ws->blk[i][j];
                want(ws, &b->a, r * d);
                want(ws, &b->b, r * d);
                want(ws, &b->mean, r);
                want(ws, &b->rstd, r);
                want(ws, &b->h, r * 4 * d);
                want(ws, &b->g, r * 4 * d);
                want(ws, &b->z, r * d);
                want(ws, &b->out, r * d);
            }
        }
        want(ws, &ws->dD, maxrd);
        want(ws, &ws->dZ, maxrd);
        want(ws, &ws->dA, maxrd);
        want(ws, &ws->dB, maxrd);
        want(ws, &ws->dY, maxrd);
        want(ws, &ws->dG, 4 * maxrd);
        want(ws, &ws->dH, 4 * maxrd);
        want(ws, &ws->dP, maxp);
        want(ws, &ws->dpool, (size_t)N * dm[3]);
    } else {
        /* shared scratch: two ping-pong activations plus one of each intermediate */
        want(ws, &ws->stem_y, maxrd);
        want(ws, &ws->stem_mean, maxrows);
        want(ws, &ws->stem_rstd, maxrows);
        want(ws, &ws->dD, maxrd); /* XA */
        want(ws, &ws->dZ, maxrd); /* XB */
        want(ws, &ws->dA, maxrd); /* a, ds_y */
        want(ws, &ws->dB, maxrd); /* b */
        want(ws, &ws->dG, 4 * maxrd); /* h */
        want(ws, &ws->dH, 4 * maxrd); /* g */
        want(ws, &ws->dY, maxrd);     /* z */
        want(ws, &ws->dP, maxp);      /* downsample patches */
    }
    if (place(ws, err)) {
        s4g_convnext_ws_free(ws);
        return NULL;
    }
    if (!train) {
        s4g_t X[2] = {ws->dD, ws->dZ};
        int cur = 0;
        ws->stage_in[0] = X[cur];
        for (int i = 0; i < 4; i++) {
            if (i > 0) {
                ws->ds_y[i] = ws->dA;
                ws->ds_mean[i] = ws->stem_mean;
                ws->ds_rstd[i] = ws->stem_rstd;
                ws->ds_p[i] = ws->dP;
                cur ^= 1;
                ws->stage_in[i] = X[cur];
            }
            for (int j = 0; j < dp[i]; j++) {
                blk_a *b = &ws->blk[i][j];
                b->a = ws->dA;
                b->b = ws->dB;
                b->mean = ws->stem_mean;
                b->rstd = ws->stem_rstd;
                b->h = ws->dG;
                b->g = ws->dH;
                b->z = ws->dY;
                cur ^= 1;
                b->out = X[cur];
            }
        }
    }
    /* chain block inputs */
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < dp[i]; j++)
            ws->blk[i][j].x = j ? ws->blk[i][j - 1].out : ws->stage_in[i];
    ws->last = ws->blk[3][dp[3] - 1].out;
    return ws;
}

void s4g_convnext_ws_free(s4g_convnext_ws *ws)
{
    if (!ws)
        return;
    for (int i = 0; i < ws->nbufs; i++)
        s4g_buf_free(ws->bufs[i]);
    free(ws->bufs);
    free(ws->req);
    for (int i = 0; i < 4; i++)
        free(ws->blk[i]);
    free(ws);
}

s4g_t s4g_convnext_ws_input(s4g_convnext_ws *ws)
{
    return ws->input;
}

s4g_t s4g_convnext_ws_output(s4g_convnext_ws *ws)
{
    return ws->out;
}

int s4g_convnext_ws_shape(const s4g_convnext_ws *ws, int *N, int *H, int *W)
{
    if (N)
        *N = ws->N;
    if (H)
        *H = ws->H;
    if (W)
        *W = ws->W;
    return ws->train;
}
