/* s4g-train-step.c — one Sample4Geo step (both views, InfoNCE, clamp, AdamW) and training
 * checkpoints; see s4g-train-step.h. */
#include "s4g-train-step.h"
#include "s4g-safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct s4g_trainer {
    s4g_convnext *m;
    s4g_train_cfg cfg;
    long step;
    s4g_buf *mom_m, *mom_v;
    s4g_convnext_ws *wq, *wr;
    int B;
    /* qn, rn, dqn, drn, dfq, dfr [B,D]; normq, normr [B]; loss [1] */
    s4g_buf *scratch;
    s4g_t qn, rn, dqn, drn, dfq, dfr, normq, normr, loss;
};

s4g_train_cfg s4g_train_cfg_default(double warmup_steps, long total_steps)
{
    s4g_train_cfg c = {
        .lr = 1e-3,
        .warmup_steps = warmup_steps,
        .total_steps = total_steps,
        .weight_decay = 0.01f,
        .smoothing = 0.1f,
        .clip = 100.0f,
        .beta1 = 0.9f,
        .beta2 = 0.999f,
        .eps = 1e-8f,
    };
    return c;
}

s4g_trainer *s4g_trainer_new(s4g_convnext *model, const s4g_train_cfg *cfg, s4g_err *err)
{
    s4g_trainer *t = calloc(1, sizeof *t);
    if (!t)
        return s4g_fail(err, S4G_E_NOMEM, "out of memory"), NULL;
    t->m = model;
    t->cfg = *cfg;
    t->mom_m = s4g_buf_new(model->ctx, model->total, err);
    t->mom_v = t->mom_m ? s4g_buf_new(model->ctx, model->total, err) : NULL;
    if (!t->mom_v) {
        s4g_trainer_free(t);
        return NULL;
    }
    return t;
}

void s4g_trainer_free(s4g_trainer *t)
{
    if (!t)
        return;
    s4g_buf_free(t->mom_m);
    s4g_buf_free(t->mom_v);
    s4g_convnext_ws_free(t->wq);
    s4g_convnext_ws_free(t->wr);
    s4g_buf_free(t->scratch);
    free(t);
}

long s4g_trainer_step_count(const s4g_trainer *t)
{
    return t->step;
}

void s4g_trainer_set_step(s4g_trainer *t, long step)
{
    t->step = step;
}

/* (Re)makes a training workspace when the batch shape changes. */
static int ensure_ws(s4g_trainer *t, s4g_convnext_ws **ws, int B, int H, int W, s4g_err *err)
{
    int n, h, w;
    if (*ws && (s4g_convnext_ws_shape(*ws, &n, &h, &w), n == B && h == H && w == W))
        return 0;
    s4g_convnext_ws_free(*ws);
    *ws = s4g_convnext_ws_new(t->m, B, H, W, 1, err);
    return *ws ? 0 : -1;
}

static int ensure_scratch(s4g_trainer *t, int B, s4g_err *err)
{
    if (t->scratch && t->B == B)
        return 0;
    s4g_buf_free(t->scratch);
    size_t D = (size_t)t->m->cfg.dims[3], bd = ((size_t)B * D + 63) & ~(size_t)63,
           bb = ((size_t)B + 63) & ~(size_t)63;
    t->scratch = s4g_buf_new(t->m->ctx, 6 * bd + 2 * bb + 64, err);
    if (!t->scratch)
        return -1;
    t->B = B;
    s4g_t *slots[] = {&t->qn, &t->rn, &t->dqn, &t->drn, &t->dfq, &t->dfr};
    for (int i = 0; i < 6; i++)
        *slots[i] = s4g_at(t->scratch, (size_t)i * bd);
    t->normq = s4g_at(t->scratch, 6 * bd);
    t->normr = s4g_at(t->scratch, 6 * bd + bb);
    t->loss = s4g_at(t->scratch, 6 * bd + 2 * bb);
    return 0;
}

int s4g_trainer_grad(s4g_trainer *t, int B, int Hq, int Wq, const float *query, int Hr, int Wr,
                     const float *ref, float *loss, s4g_err *err)
{
    s4g_convnext *m = t->m;
    s4g_ctx *c = m->ctx;
    int D = m->cfg.dims[3];
    if (B < 2)
        return s4g_fail(err, S4G_E_INVALID, "train step: a batch needs at least 2 pairs, got %d",
                        B);
    if (ensure_ws(t, &t->wq, B, Hq, Wq, err) || ensure_ws(t, &t->wr, B, Hr, Wr, err) ||
        ensure_scratch(t, B, err))
        return -1;
    s4g_t iq = s4g_convnext_ws_input(t->wq), ir = s4g_convnext_ws_input(t->wr);
    s4g_t fq = s4g_convnext_ws_output(t->wq), fr = s4g_convnext_ws_output(t->wr);
    s4g_t ls = s4g_at(m->params, m->logit_scale_off), dls = s4g_at(m->grads, m->logit_scale_off);
    if (s4g_convnext_zero_grads(m, err) ||
        s4g_buf_upload(iq.buf, iq.off, query, (size_t)B * Hq * Wq * 3, err) ||
        s4g_buf_upload(ir.buf, ir.off, ref, (size_t)B * Hr * Wr * 3, err) ||
        s4g_convnext_forward(m, t->wq, err) || s4g_convnext_forward(m, t->wr, err) ||
        s4g_l2norm(c, B, D, fq, t->qn, t->normq, err) ||
        s4g_l2norm(c, B, D, fr, t->rn, t->normr, err) ||
        s4g_infonce(c, B, D, t->cfg.smoothing, t->qn, t->rn, ls, t->loss, t->dqn, t->drn, dls,
                    err) ||
        s4g_l2norm_back(c, B, D, t->qn, t->normq, t->dqn, t->dfq, err) ||
        s4g_l2norm_back(c, B, D, t->rn, t->normr, t->drn, t->dfr, err) ||
        s4g_convnext_backward(m, t->wq, t->dfq, err) ||
        s4g_convnext_backward(m, t->wr, t->dfr, err))
        return -1;
    float l;
    if (s4g_buf_download(t->loss.buf, t->loss.off, &l, 1, err))
        return -1;
    if (loss)
        *loss = l;
    return 0;
}

int s4g_trainer_step(s4g_trainer *t, int B, int Hq, int Wq, const float *query, int Hr, int Wr,
                     const float *ref, s4g_train_stats *stats, s4g_err *err)
{
    s4g_convnext *m = t->m;
    float loss;
    if (s4g_trainer_grad(t, B, Hq, Wq, query, Hr, Wr, ref, &loss, err))
        return -1;
    if (t->cfg.clip > 0 &&
        s4g_clamp(m->ctx, m->total, s4g_at(m->grads, 0), -t->cfg.clip, t->cfg.clip, err))
        return -1;
    double lr = s4g_cosine_lr(t->cfg.lr, t->step, t->cfg.warmup_steps, t->cfg.total_steps);
    s4g_adamw_hp hp = {
        .lr = (float)lr,
        .beta1 = t->cfg.beta1,
        .beta2 = t->cfg.beta2,
        .eps = t->cfg.eps,
        .weight_decay = t->cfg.weight_decay,
        .step = (int)(t->step + 1),
    };
    /* Padding between parameters holds zeros in p, g, m and v, and stays zero. */
    if (s4g_adamw(m->ctx, m->total, s4g_at(m->params, 0), s4g_at(m->grads, 0),
                  s4g_at(t->mom_m, 0), s4g_at(t->mom_v, 0), &hp, err))
        return -1;
    t->step++;
    if (stats) {
        stats->step = t->step;
        stats->lr = lr;
        stats->loss = loss;
        if (s4g_buf_download(m->params, m->logit_scale_off, &stats->logit_scale, 1, err))
            return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- checkpoints */

static const char *const kPrefix[3] = {"", "adam_m.", "adam_v."};

int s4g_trainer_save(s4g_trainer *t, const char *path, const char *const *meta, s4g_err *err)
{
    s4g_convnext *m = t->m;
    int np = m->nparams, rc = -1;
    float *host = malloc(3 * m->total * sizeof *host);
    s4g_st_entry *e = calloc(3 * (size_t)np, sizeof *e);
    char **names = calloc(3 * (size_t)np, sizeof *names);
    const char **md = NULL;
    size_t nmeta = 0;
    while (meta && meta[nmeta] && meta[nmeta + 1])
        nmeta += 2;
    md = calloc(nmeta + 9, sizeof *md);
    char stepbuf[32], dep[64], dim[64];
    if (!host || !e || !names || !md) {
        s4g_fail(err, S4G_E_NOMEM, "out of memory");
        goto out;
    }
    s4g_buf *src[3] = {m->params, t->mom_m, t->mom_v};
    for (int k = 0; k < 3; k++)
        if (s4g_convnext_to_host(m, src[k], host + (size_t)k * m->total, err))
            goto out;
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < np; i++) {
            const s4g_param_info *p = &m->info[i];
            size_t q = (size_t)k * np + i;
            size_t l = strlen(kPrefix[k]) + strlen(p->name) + 1;
            names[q] = malloc(l);
            if (!names[q]) {
                s4g_fail(err, S4G_E_NOMEM, "out of memory");
                goto out;
            }
            snprintf(names[q], l, "%s%s", kPrefix[k], p->name);
            e[q].name = names[q];
            e[q].ndim = p->ndim;
            for (int d = 0; d < p->ndim; d++)
                e[q].shape[d] = p->shape[d];
            e[q].data = host + (size_t)k * m->total + p->off;
        }
    snprintf(stepbuf, sizeof stepbuf, "%ld", t->step);
    snprintf(dep, sizeof dep, "%d,%d,%d,%d", m->cfg.depths[0], m->cfg.depths[1],
             m->cfg.depths[2], m->cfg.depths[3]);
    snprintf(dim, sizeof dim, "%d,%d,%d,%d", m->cfg.dims[0], m->cfg.dims[1], m->cfg.dims[2],
             m->cfg.dims[3]);
    size_t k = 0;
    md[k++] = "format";
    md[k++] = "s4g-checkpoint";
    md[k++] = "step";
    md[k++] = stepbuf;
    md[k++] = "depths";
    md[k++] = dep;
    md[k++] = "dims";
    md[k++] = dim;
    for (size_t i = 0; i < nmeta; i++)
        md[k++] = meta[i];
    md[k] = NULL;
    rc = s4g_st_write(path, e, 3 * (size_t)np, md, err);
out:
    if (names)
        for (size_t i = 0; i < 3 * (size_t)np; i++)
            free(names[i]);
    free(names);
    free(md);
    free(e);
    free(host);
    return rc;
}

int s4g_trainer_load(s4g_trainer *t, const char *path, s4g_err *err)
{
    s4g_convnext *m = t->m;
    s4g_st_file *f = s4g_st_open(path, err);
    if (!f)
        return -1;
    int rc = -1;
    float *host = NULL;
    const char *fmt = s4g_st_meta(f, "format"), *st = s4g_st_meta(f, "step");
    char *endp = NULL;
    long step = st ? strtol(st, &endp, 10) : -1;
    if (!fmt || strcmp(fmt, "s4g-checkpoint") != 0 || !st || !*st || *endp || step < 0) {
        s4g_fail(err, S4G_E_FORMAT,
                 "%s: not an s4g training checkpoint (__metadata__ needs format "
                 "\"s4g-checkpoint\" and a step)",
                 path);
        goto out;
    }
    for (size_t i = 0; i < f->ntensors; i++) {
        const char *k = f->tensors[i].name;
        if (!s4g_convnext_owns_key(m, kPrefix[0], k) && !s4g_convnext_owns_key(m, kPrefix[1], k) &&
            !s4g_convnext_owns_key(m, kPrefix[2], k)) {
            s4g_fail(err, S4G_E_FORMAT, "%s: unexpected key \"%s\"", path, k);
            goto out;
        }
    }
    host = malloc(3 * m->total * sizeof *host);
    if (!host) {
        s4g_fail(err, S4G_E_NOMEM, "out of memory");
        goto out;
    }
    memset(host, 0, 3 * m->total * sizeof *host);
    for (int k = 0; k < 3; k++)
        if (s4g_convnext_read_tensors(m, f, kPrefix[k], 0, host + (size_t)k * m->total, err))
            goto out;
    s4g_buf *dst[3] = {m->params, t->mom_m, t->mom_v};
    for (int k = 0; k < 3; k++)
        if (s4g_convnext_from_host(m, host + (size_t)k * m->total, dst[k], err))
            goto out;
    t->step = step;
    rc = 0;
out:
    free(host);
    s4g_st_close(f);
    return rc;
}
