/* s4g-convnext.h — the ConvNeXt encoder (timm's definition) on the op interface.
 *
 * One model = a config (depths, dims) plus ALL trainable values in one flat float buffer
 * (`params`), so AdamW is one op over every parameter; gradients (`grads`) share the same
 * layout.  A name table maps timm's parameter names (stem.0.weight, stages.2.blocks.5.gamma,
 * head.norm.bias, ...) to (offset, PyTorch shape).  The last entry is Sample4Geo's scalar
 * `logit_scale` (init ln(1/0.07)); it is part of the flat buffer so it is trained and decayed
 * like every other parameter.
 *
 * Inside the buffer, convolution weights are stored in the layout the ops want, converted
 * at load/save: patchify convs OIHW [O,C,k,k] -> (o, kh, kw, c); depthwise [C,1,7,7] ->
 * [7,7,C].  Linear weights stay [out,in].
 *
 * Activations are NHWC.  A workspace holds every tensor of one forward pass for one input
 * shape (N, H, W); a training workspace keeps each block's activations for the backward,
 * an inference workspace reuses a few buffers.  Workspaces are made once per shape and
 * reused, so a step allocates nothing.
 */
#ifndef S4G_CONVNEXT_H
#define S4G_CONVNEXT_H

#include "s4g-compute.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct s4g_convnext_cfg {
    int depths[4];
    int dims[4];
} s4g_convnext_cfg;

/* Presets: atto femto pico nano tiny small base. */
int s4g_convnext_preset(const char *name, s4g_convnext_cfg *cfg, s4g_err *err);
/* Name of the preset matching cfg, or NULL. */
const char *s4g_convnext_preset_name(const s4g_convnext_cfg *cfg);
/* Spatial size after the stem (stage 0) and each downsample (stages 1..3), floor arithmetic:
 * 140x768 -> 35x192, 17x96, 8x48, 4x24.  Returns -1 when the input is too small for any
 * stage (a size would be 0). */
int s4g_convnext_spatial(int H, int W, int hs[4], int ws[4], s4g_err *err);

#define S4G_LOGIT_SCALE_INIT 2.659260036932778 /* ln(1 / 0.07) */

enum { S4G_PARAM_PLAIN = 0, S4G_PARAM_CONV_PATCH = 1, S4G_PARAM_CONV_DW = 2 };

typedef struct s4g_param_info {
    char name[64];  /* timm name, e.g. "stages.1.downsample.1.weight" */
    size_t off;     /* element offset in the flat buffer */
    size_t n;       /* number of elements */
    int ndim;       /* of the PyTorch shape */
    int shape[4];   /* PyTorch shape (OIHW for convs) */
    int layout;     /* S4G_PARAM_*: how the flat buffer stores it */
    int decay;      /* 1 for every parameter (Sample4Geo decays all) */
} s4g_param_info;

typedef struct s4g_convnext {
    s4g_ctx *ctx;
    s4g_convnext_cfg cfg;
    int nparams;            /* entries in `info` (backbone tensors + logit_scale) */
    s4g_param_info *info;
    size_t total;           /* floats in params/grads, logit_scale included */
    size_t logit_scale_off; /* offset of logit_scale in params */
    s4g_buf *params;
    s4g_buf *grads;         /* same layout; parameter gradients are accumulated (NULL in a
                             * model made by s4g_convnext_open: inference only) */
    void *priv;             /* offsets of each layer, cached inference workspace */
} s4g_convnext;

/* A model with timm's initialisation from `seed` (trunc-normal std .02 for conv/linear
 * weights, zero biases, LayerNorm 1/0, layer scale 1e-6, logit_scale ln(1/0.07)). */
s4g_convnext *s4g_convnext_new(s4g_ctx *ctx, const s4g_convnext_cfg *cfg, uint64_t seed,
                               s4g_err *err);
/* A model for inference only (encode, embed, predict, import, export): the weights of `path`
 * (any format and layout s4g_convnext_load_report takes; report as there) in the parameter
 * buffer, and no gradient buffer — one device copy of the weights, and the load converts
 * through one host copy, so a load peaks near twice the weights instead of four to five
 * times.  Backward, zero_grads and training workspaces refuse such a model.  cfg: the
 * architecture the file must hold; NULL: the file's (s4g_convnext_cfg_from_file). */
s4g_convnext *s4g_convnext_open(s4g_ctx *ctx, const s4g_convnext_cfg *cfg, const char *path,
                                char *report, size_t cap, s4g_err *err);
void s4g_convnext_free(s4g_convnext *m);
const s4g_param_info *s4g_convnext_find(const s4g_convnext *m, const char *name);
/* Backbone parameter count (logit_scale excluded). */
size_t s4g_convnext_count(const s4g_convnext *m);
/* The same from a config alone (no buffers allocated); 0 for an invalid config. */
size_t s4g_convnext_cfg_count(const s4g_convnext_cfg *cfg);

/* Infers depths/dims from the keys of a weights file of any format/layout (s4g-weights.h). */
int s4g_convnext_cfg_from_file(const char *path, s4g_convnext_cfg *cfg, s4g_err *err);
/* Loads a weights file of any format and layout s4g-weights.h detects (safetensors or
 * PyTorch checkpoint; timm, Sample4Geo, DataParallel or Facebook names; F32/F16/BF16/F64);
 * ImageNet classifier heads are dropped.  Every backbone key must be present with its exact
 * shape and no other tensor may appear; otherwise an error naming the file's key, with a hint
 * when a prefix or the architecture is the cause.  logit_scale is optional (plain timm files
 * lack it).  `report` (may be NULL) receives the one-line account of s4g_weights_report. */
int s4g_convnext_load(s4g_convnext *m, const char *path, s4g_err *err);
int s4g_convnext_load_report(s4g_convnext *m, const char *path, char *report, size_t cap,
                             s4g_err *err);
/* Writes the weights with timm names (+ logit_scale), F32, atomically (temp + fsync +
 * rename).  meta: NULL-terminated key, value, key, value, ... list for __metadata__. */
int s4g_convnext_save(s4g_convnext *m, const char *path, const char *const *meta,
                      s4g_err *err);
/* Writes the weights as a PyTorch checkpoint (s4g_pth_write) in Sample4Geo's TimmModel names:
 * "logit_scale", then "model." + timm name, F32 — what the original's
 * model.load_state_dict(torch.load(path), strict=True) takes.  Atomic. */
int s4g_convnext_save_pth(s4g_convnext *m, const char *path, s4g_err *err);
/* Host copy of one parameter (or its gradient) in PyTorch layout; n must equal its size. */
int s4g_convnext_get_param(s4g_convnext *m, const char *name, int from_grads, float *dst,
                           size_t n, s4g_err *err);
/* Whole flat buffers (params, grads, Adam moments: same layout) to/from host arrays of
 * m->total floats in PyTorch layout at the same offsets (what safetensors files hold). */
int s4g_convnext_to_host(s4g_convnext *m, s4g_buf *buf, float *host, s4g_err *err);
int s4g_convnext_from_host(s4g_convnext *m, const float *host, s4g_buf *buf, s4g_err *err);

struct s4g_st_file;
/* Reads every parameter "<prefix><name>" of f into host (PyTorch layout, m->total floats),
 * converting F16/BF16; a missing or mis-shaped key is an error naming it.  logit_scale may be
 * absent when logit_optional (host keeps its value).  Unexpected keys are the caller's check
 * (s4g_convnext_owns_key). */
int s4g_convnext_read_tensors(s4g_convnext *m, const struct s4g_st_file *f, const char *prefix,
                              int logit_optional, float *host, s4g_err *err);
/* Whether key == prefix + a parameter name of m. */
int s4g_convnext_owns_key(const s4g_convnext *m, const char *prefix, const char *key);

typedef struct s4g_convnext_ws s4g_convnext_ws;

/* Workspace for inputs [N,H,W,3]; train = keep activations for backward. */
s4g_convnext_ws *s4g_convnext_ws_new(s4g_convnext *m, int N, int H, int W, int train,
                                     s4g_err *err);
void s4g_convnext_ws_free(s4g_convnext_ws *ws);
/* The input tensor [N,H,W,3] of the workspace (upload the batch here). */
s4g_t s4g_convnext_ws_input(s4g_convnext_ws *ws);
/* The output tensor [N, dims[3]]: pre-L2 features (after the head LayerNorm). */
s4g_t s4g_convnext_ws_output(s4g_convnext_ws *ws);
int s4g_convnext_ws_shape(const s4g_convnext_ws *ws, int *N, int *H, int *W);

int s4g_convnext_forward(s4g_convnext *m, s4g_convnext_ws *ws, s4g_err *err);
/* Backward from dfeat [N, dims[3]] (gradient w.r.t. the output) through a train workspace
 * whose forward just ran; parameter gradients are ADDED to m->grads. */
int s4g_convnext_backward(s4g_convnext *m, s4g_convnext_ws *ws, s4g_t dfeat, s4g_err *err);
/* The same, telling `ready` as it goes back through the network: ready(user, from) after the
 * head, after every block and every downsampling layer, and ready(user, 0) at the end.  The
 * flat layout is in forward order (stem, stages, head, logit_scale), so when ready(from) is
 * called this pass has added its last contribution to every gradient at offset >= from
 * (ops on a backend that queues work must still be synchronised before reading them).  A
 * non-zero return stops the pass with that error.  Used by the data-parallel trainer to
 * start reducing buckets of finished gradients while the backward goes on. */
typedef int (*s4g_grads_ready)(void *user, size_t from, s4g_err *err);
int s4g_convnext_backward_ready(s4g_convnext *m, s4g_convnext_ws *ws, s4g_t dfeat,
                                s4g_grads_ready ready, void *user, s4g_err *err);
int s4g_convnext_zero_grads(s4g_convnext *m, s4g_err *err);

/* Convenience: encode N host images NCHW float32 (PyTorch layout) into out [N, dims[3]],
 * in chunks of at most `batch` images, reusing a cached inference workspace. */
int s4g_convnext_encode_nchw(s4g_convnext *m, int N, int H, int W, const float *x, int batch,
                             float *out, s4g_err *err);
/* The same for NHWC host images. */
int s4g_convnext_encode_nhwc(s4g_convnext *m, int N, int H, int W, const float *x, int batch,
                             float *out, s4g_err *err);

#ifdef __cplusplus
}
#endif
#endif
