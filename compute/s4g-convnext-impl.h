/* s4g-convnext-impl.h — private to the ConvNeXt files: the layer offsets behind
 * s4g_convnext.priv and the workspace record.
 *
 *   s4g-convnext.c        presets, the timm-named parameter table, initialisation
 *   s4g-convnext-io.c     PyTorch <-> buffer layouts, safetensors load/save
 *   s4g-convnext-ws.c     workspaces: which activations a pass keeps, packed into buffers
 *   s4g-convnext-pass.c   forward, backward, batched encoding
 */
#ifndef S4G_CONVNEXT_IMPL_H
#define S4G_CONVNEXT_IMPL_H

#include "s4g-convnext.h"

/* Offsets (in floats, into params/grads) of one block's tensors and of the whole network. */
typedef struct {
    size_t dw_w, dw_b, ln_w, ln_b, fc1_w, fc1_b, fc2_w, fc2_b, gamma;
} blk_p;

typedef struct {
    size_t stem_w, stem_b, stem_ln_w, stem_ln_b;
    size_t ds_ln_w[4], ds_ln_b[4], ds_w[4], ds_b[4];
    blk_p *blk[4];
    size_t head_w, head_b;
    s4g_convnext_ws *cache; /* inference workspace of encode_* */
} priv_t;

/* Activations of one block kept for backward. */
typedef struct {
    s4g_t x, a, b, mean, rstd, h, g, z, out;
} blk_a;

/* One tensor a workspace asked for, placed into a buffer by s4g-convnext-ws.c. */
typedef struct {
    s4g_t *slot;
    size_t n;
} req_t;

struct s4g_convnext_ws {
    s4g_convnext *m;
    int N, H, W, train;
    int hs[4], wd[4];
    size_t rows[4];
    s4g_buf **bufs;
    int nbufs;
    req_t *req;
    int nreq, capreq;
    int oom;

    s4g_t input, stem_p, stem_y, stem_mean, stem_rstd;
    s4g_t stage_in[4], ds_y[4], ds_mean[4], ds_rstd[4], ds_p[4];
    blk_a *blk[4];
    s4g_t last, pooled, head_mean, head_rstd, out;
    /* backward scratch (train only) */
    s4g_t dD, dZ, dA, dB, dG, dH, dP, dY, dpool;
};

/* 0 when m has a gradient buffer (s4g_convnext_new), else -1 with an error saying `what`
 * needs one (s4g_convnext_open's models are for inference only). */
int s4g_convnext_trainable(const s4g_convnext *m, const char *what, s4g_err *err);
/* s4g_convnext_load_report into a model whose parameters hold nothing worth keeping (just
 * allocated): every backbone tensor comes from the file, logit_scale from it or its initial
 * value; uses one host copy of the weights instead of two (s4g-weights.c). */
/* host (m->total floats, PyTorch layout, every parameter at its offset) into the parameter
 * buffer; host is converted to the buffer layout in place (its contents are lost). */
int s4g_convnext_upload_pytorch(s4g_convnext *m, float *host, s4g_err *err);
int s4g_convnext_load_fresh(s4g_convnext *m, const char *path, char *report, size_t cap,
                            s4g_err *err);

#endif
