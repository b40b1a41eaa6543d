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
    /* training workspaces of the query and reference view (a chunk of M pairs, or the
     * whole local share) */
    s4g_convnext_ws *wq, *wr;
    const s4g_comm *comm;
    int B; /* global batch the scratch was made for */
    /* fq, fr (features), qn, rn, dqn, drn, dfq, dfr [B,D]; normq, normr [B]; loss, dls [1] */
    s4g_buf *scratch;
    s4g_t fq, fr, qn, rn, dqn, drn, dfq, dfr, normq, normr, loss, dls;
    float *host;      /* [B,D] gather buffer (data parallel) */
    float *host_grads; /* m->total floats: the gradient allreduce (data parallel) */
    /* bucketed reduce: gradients at offsets >= issued are being summed by reqs[0..nreq) */
    size_t issued;
    void **reqs;
    int nreq;
    size_t *counts;    /* per process: pairs, then floats of its share */
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
        .micro_batch = 0,
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
    free(t->host);
    free(t->host_grads);
    free(t->reqs);
    free(t->counts);
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

void s4g_trainer_set_comm(s4g_trainer *t, const s4g_comm *comm)
{
    t->comm = comm && comm->size > 1 ? comm : NULL;
}

void s4g_comm_share(int B, int rank, int size, int *lo, int *n)
{
    int q = B / size, r = B % size;
    *n = q + (rank < r);
    *lo = rank * q + (rank < r ? rank : r);
}

/* (Re)makes a training workspace when the batch shape changes. */
static int ensure_ws(s4g_trainer *t, s4g_convnext_ws **ws, int B, int H, int W, s4g_err *err)
{
    int n, h, w;
    if (*ws && (s4g_convnext_ws_shape(*ws, &n, &h, &w), n == B && h == H && w == W))
        return 0;
    /* Let pending work finish so the old workspace is released before the new one exists
     * (Vulkan defers the free of a buffer in use): the memory bound of micro-batches. */
    if (*ws && s4g_ctx_sync(t->m->ctx, err))
        return -1;
    s4g_convnext_ws_free(*ws);
    *ws = s4g_convnext_ws_new(t->m, B, H, W, 1, err);
    return *ws ? 0 : -1;
}

static int ensure_scratch(s4g_trainer *t, int B, s4g_err *err)
{
    if (t->scratch && t->B == B)
        return 0;
    s4g_buf_free(t->scratch);
    free(t->host); /* the gather buffer follows B (made by gather_rows) */
    t->host = NULL;
    t->B = 0;
    size_t D = (size_t)t->m->cfg.dims[3], bd = ((size_t)B * D + 63) & ~(size_t)63,
           bb = ((size_t)B + 63) & ~(size_t)63;
    t->scratch = s4g_buf_new(t->m->ctx, 8 * bd + 2 * bb + 128, err);
    if (!t->scratch)
        return -1;
    t->B = B;
    s4g_t *slots[] = {&t->fq, &t->fr, &t->qn, &t->rn, &t->dqn, &t->drn, &t->dfq, &t->dfr};
    for (int i = 0; i < 8; i++)
        *slots[i] = s4g_at(t->scratch, (size_t)i * bd);
    t->normq = s4g_at(t->scratch, 8 * bd);
    t->normr = s4g_at(t->scratch, 8 * bd + bb);
    t->loss = s4g_at(t->scratch, 8 * bd + 2 * bb);
    t->dls = s4g_at(t->scratch, 8 * bd + 2 * bb + 64);
    return 0;
}

/* The global batch: every process's share n (gathered), this one's first row *lo. */
static int global_batch(s4g_trainer *t, int n, int *B, int *lo, s4g_err *err)
{
    const s4g_comm *c = t->comm;
    *B = n;
    *lo = 0;
    if (!c)
        return 0;
    if (!t->counts && !(t->counts = malloc(2 * (size_t)c->size * sizeof *t->counts)))
        return s4g_fail(err, S4G_E_NOMEM, "out of memory");
    float mine = (float)n, *all = malloc((size_t)c->size * sizeof *all);
    if (!all)
        return s4g_fail(err, S4G_E_NOMEM, "out of memory");
    if (c->allgather(c->user, &mine, 1, all, err)) {
        free(all);
        s4g_err_prefix(err, "train step: gathering the share sizes: ");
        return -1;
    }
    *B = 0;
    for (int i = 0; i < c->size; i++) {
        t->counts[i] = (size_t)all[i];
        if (i < c->rank)
            *lo += (int)all[i];
        *B += (int)all[i];
    }
    free(all);
    for (int i = 0; i < c->size; i++)
        if (t->counts[i] < 1)
            return s4g_fail(err, S4G_E_INVALID,
                            "train step: process %d of %d has no pairs (global batch %d)", i,
                            c->size, *B);
    return 0;
}

/* Chunk k of a share of n pairs in chunks of M: first pair and count. */
static void chunk(int n, int M, int k, int *first, int *count)
{
    *first = k * M;
    *count = n - *first < M ? n - *first : M;
}

/* Forward of chunk k of one view through its training workspace (activations kept). */
static int view_forward(s4g_trainer *t, s4g_convnext_ws **ws, int n, int M, int k, int H, int W,
                        const float *x, s4g_err *err)
{
    int first, count;
    chunk(n, M, k, &first, &count);
    size_t img = (size_t)H * W * 3;
    if (ensure_ws(t, ws, count, H, W, err))
        return -1;
    s4g_t in = s4g_convnext_ws_input(*ws);
    return s4g_buf_upload(in.buf, in.off, x + (size_t)first * img, (size_t)count * img, err) ||
                   s4g_convnext_forward(t->m, *ws, err)
               ? -1
               : 0;
}

/* Step 1: the features of the local share of one view into rows lo.. of feat [B,D]. */
static int view_embed(s4g_trainer *t, s4g_convnext_ws **ws, int n, int M, int H, int W,
                      const float *x, s4g_t feat, int lo, s4g_err *err)
{
    size_t D = (size_t)t->m->cfg.dims[3];
    for (int k = 0; k * M < n; k++) {
        int first, count;
        chunk(n, M, k, &first, &count);
        if (view_forward(t, ws, n, M, k, H, W, x, err) ||
            s4g_copy(t->m->ctx, (size_t)count * D, s4g_convnext_ws_output(*ws),
                     s4g_at(feat.buf, feat.off + ((size_t)lo + first) * D), err))
            return -1;
    }
    return 0;
}

/* Step 3: back-propagates rows lo.. of dfeat [B,D] through the local share of one view.  The
 * last chunk's activations are still in the workspace; the others are recomputed. */
static int view_backward(s4g_trainer *t, s4g_convnext_ws **ws, int n, int M, int H, int W,
                         const float *x, s4g_t dfeat, int lo, s4g_grads_ready ready,
                         s4g_err *err)
{
    size_t D = (size_t)t->m->cfg.dims[3];
    int last = (n - 1) / M;
    for (int i = 0; i <= last; i++) {
        int k = i == 0 ? last : i - 1, first, count;
        chunk(n, M, k, &first, &count);
        /* `ready` follows the step's final pass only: before it no gradient is final */
        if ((k != last && view_forward(t, ws, n, M, k, H, W, x, err)) ||
            s4g_convnext_backward_ready(
                t->m, *ws, s4g_at(dfeat.buf, dfeat.off + ((size_t)lo + first) * D),
                i == last ? ready : NULL, t, err))
            return -1;
    }
    return 0;
}

/* Data parallel: rows lo..lo+n of feat [B,D] from every process, so all hold the whole. */
static int gather_rows(s4g_trainer *t, s4g_t feat, int B, int lo, int n, s4g_err *err)
{
    const s4g_comm *c = t->comm;
    size_t D = (size_t)t->m->cfg.dims[3];
    size_t *fcount = t->counts + c->size;
    for (int i = 0; i < c->size; i++)
        fcount[i] = t->counts[i] * D;
    if (!t->host && !(t->host = malloc((size_t)B * D * sizeof *t->host)))
        return s4g_fail(err, S4G_E_NOMEM, "train step: out of memory for %d features", B);
    if (s4g_buf_download(feat.buf, feat.off + (size_t)lo * D, t->host + (size_t)lo * D,
                         (size_t)n * D, err))
        return -1;
    if (c->allgatherv(c->user, t->host + (size_t)lo * D, t->host, fcount, err)) {
        s4g_err_prefix(err, "train step: gathering the features: ");
        return -1;
    }
    return s4g_buf_upload(feat.buf, feat.off, t->host, (size_t)B * D, err);
}

/* Data parallel: the parameter gradients summed over the processes.
 *
 * Bucketed: the flat gradient buffer is summed in buckets of BUCKET floats from its end (the
 * head, the last layers) back to the stem, each with a non-blocking allreduce
 * (comm->iallreduce_sum) issued as soon as the step's final backward pass has finished every
 * gradient of the bucket (s4g_convnext_backward_ready) — on the CPU backend, whose ops have
 * completed when they return, while the backward goes on through the earlier layers; on a
 * backend that queues work, after the pass.  All are waited for before the clamp and AdamW.
 * The sum of each element is the same as one allreduce of the whole buffer.  A communicator
 * without iallreduce sums the whole buffer at once after the pass. */
enum { BUCKET = 1 << 20 }; /* 4 MiB of fp32 gradients */

static int bucket_init(s4g_trainer *t, s4g_err *err)
{
    s4g_convnext *m = t->m;
    if (!t->host_grads && !(t->host_grads = malloc(m->total * sizeof *t->host_grads)))
        return s4g_fail(err, S4G_E_NOMEM, "train step: out of memory for the gradient reduce");
    if (!t->reqs && !(t->reqs = calloc(m->total / BUCKET + 2, sizeof *t->reqs)))
        return s4g_fail(err, S4G_E_NOMEM, "train step: out of memory for the gradient reduce");
    t->issued = m->total;
    t->nreq = 0;
    return 0;
}

/* s4g_grads_ready: starts the reduce of every whole bucket at offsets >= from (all that is
 * left when from is 0). */
static int bucket_ready(void *user, size_t from, s4g_err *err)
{
    s4g_trainer *t = user;
    const s4g_comm *c = t->comm;
    while (t->issued > from && (t->issued - from >= BUCKET || from == 0)) {
        size_t lo = t->issued - from > BUCKET ? t->issued - BUCKET : from, n = t->issued - lo;
        if (s4g_buf_download(t->m->grads, lo, t->host_grads + lo, n, err))
            return -1;
        if (c->iallreduce_sum(c->user, t->host_grads + lo, n, &t->reqs[t->nreq], err)) {
            s4g_err_prefix(err, "train step: summing the gradients: ");
            return -1;
        }
        t->nreq++;
        t->issued = lo;
    }
    return 0;
}

/* Waits for every bucket started (all of them, even after an error; rc the error so far). */
static int bucket_wait(s4g_trainer *t, int rc, s4g_err *err)
{
    const s4g_comm *c = t->comm;
    for (int i = 0; i < t->nreq; i++)
        if (c->wait(c->user, t->reqs[i], rc ? NULL : err) && !rc) {
            s4g_err_prefix(err, "train step: summing the gradients: ");
            rc = -1;
        }
    t->nreq = 0;
    return rc;
}

static int reduce_grads(s4g_trainer *t, s4g_err *err)
{
    s4g_convnext *m = t->m;
    const s4g_comm *c = t->comm;
    int rc = 0;
    if (c->iallreduce_sum && c->wait) {
        rc = bucket_wait(t, bucket_ready(t, 0, err), err); /* what the pass did not start */
    } else {
        if (!t->host_grads && !(t->host_grads = malloc(m->total * sizeof *t->host_grads)))
            return s4g_fail(err, S4G_E_NOMEM,
                            "train step: out of memory for the gradient reduce");
        if (s4g_buf_download(m->grads, 0, t->host_grads, m->total, err))
            return -1;
        if (c->allreduce_sum(c->user, t->host_grads, m->total, err)) {
            s4g_err_prefix(err, "train step: summing the gradients: ");
            return -1;
        }
    }
    return rc ? -1 : s4g_buf_upload(m->grads, 0, t->host_grads, m->total, err);
}

int s4g_trainer_grad(s4g_trainer *t, int n, int Hq, int Wq, const float *query, int Hr, int Wr,
                     const float *ref, float *loss, s4g_err *err)
{
    s4g_convnext *m = t->m;
    s4g_ctx *c = m->ctx;
    int D = m->cfg.dims[3], B, lo;
    if (global_batch(t, n, &B, &lo, err))
        return -1;
    if (B < 2)
        return s4g_fail(err, S4G_E_INVALID, "train step: a batch needs at least 2 pairs, got %d",
                        B);
    int M = t->cfg.micro_batch > 0 && t->cfg.micro_batch < n ? t->cfg.micro_batch : n;
    if (ensure_scratch(t, B, err))
        return -1;
    /* The logit scale's gradient is the same on every process: one of them adds it. */
    s4g_t ls = s4g_at(m->params, m->logit_scale_off),
          dls = t->comm && t->comm->rank != 0 ? t->dls : s4g_at(m->grads, m->logit_scale_off);
    if (s4g_convnext_zero_grads(m, err) ||
        view_embed(t, &t->wq, n, M, Hq, Wq, query, t->fq, lo, err) ||
        view_embed(t, &t->wr, n, M, Hr, Wr, ref, t->fr, lo, err))
        return -1;
    if (t->comm &&
        (gather_rows(t, t->fq, B, lo, n, err) || gather_rows(t, t->fr, B, lo, n, err)))
        return -1;
    if (s4g_l2norm(c, B, D, t->fq, t->qn, t->normq, err) ||
        s4g_l2norm(c, B, D, t->fr, t->rn, t->normr, err) ||
        s4g_infonce(c, B, D, t->cfg.smoothing, t->qn, t->rn, ls, t->loss, t->dqn, t->drn, dls,
                    err) ||
        s4g_l2norm_back(c, B, D, t->qn, t->normq, t->dqn, t->dfq, err) ||
        s4g_l2norm_back(c, B, D, t->rn, t->normr, t->drn, t->dfr, err) ||
        view_backward(t, &t->wr, n, M, Hr, Wr, ref, t->dfr, lo, NULL, err))
        return -1;
    /* the query view's last pass finishes the gradients: buckets overlap it on the CPU */
    int buckets = t->comm && t->comm->iallreduce_sum && t->comm->wait;
    if (buckets && bucket_init(t, err))
        return -1;
    s4g_grads_ready ready = buckets && s4g_ctx_backend(c) == S4G_BACKEND_CPU ? bucket_ready : NULL;
    if (view_backward(t, &t->wq, n, M, Hq, Wq, query, t->dfq, lo, ready, err)) {
        bucket_wait(t, -1, NULL); /* the buckets started complete before returning */
        return -1;
    }
    if (t->comm && reduce_grads(t, err))
        return -1;
    float l;
    if (s4g_buf_download(t->loss.buf, t->loss.off, &l, 1, err))
        return -1;
    if (loss)
        *loss = l;
    return 0;
}

int s4g_trainer_broadcast(s4g_trainer *t, int root, s4g_err *err)
{
    const s4g_comm *c = t->comm;
    s4g_convnext *m = t->m;
    if (!c)
        return 0;
    float *host = malloc(m->total * sizeof *host);
    if (!host)
        return s4g_fail(err, S4G_E_NOMEM, "out of memory");
    s4g_buf *bufs[3] = {m->params, t->mom_m, t->mom_v};
    int rc = 0;
    for (int k = 0; k < 3 && !rc; k++) {
        rc = s4g_buf_download(bufs[k], 0, host, m->total, err);
        if (!rc && (rc = c->broadcast(c->user, host, m->total * sizeof *host, root, err)))
            s4g_err_prefix(err, "broadcasting the weights: ");
        if (!rc && c->rank != root)
            rc = s4g_buf_upload(bufs[k], 0, host, m->total, err);
    }
    if (!rc && (rc = c->broadcast(c->user, &t->step, sizeof t->step, root, err)))
        s4g_err_prefix(err, "broadcasting the step: ");
    free(host);
    return rc;
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
