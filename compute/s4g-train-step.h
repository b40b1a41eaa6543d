/* s4g-train-step.h — one Sample4Geo optimisation step over a batch of B pairs.
 *
 * The shared encoder runs the query (ground) view and the reference (satellite) view, each
 * output is L2-normalised, the symmetric InfoNCE loss with label smoothing and the learnable
 * logit scale compares them, the backward runs through both views (parameter gradients
 * accumulate), every gradient is clamped element-wise to ±clip, and AdamW updates the flat
 * parameter buffer (logit_scale included, decayed like everything else).  The learning rate
 * comes from the cosine-with-warm-up schedule at the trainer's step counter, so the first
 * step uses lr 0 exactly as the reference code does.
 *
 * The training loop (app/method/s4g-train.c) feeds host batches and reads back the loss; checkpoints hold
 * weights, Adam moments, step and logit_scale in one safetensors file.
 */
#ifndef S4G_TRAIN_STEP_H
#define S4G_TRAIN_STEP_H

#include "s4g-convnext.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct s4g_train_cfg {
    double lr;          /* base lr (1e-3) */
    double warmup_steps; /* W of the schedule (fractional: steps/epoch × warm-up epochs) */
    long total_steps;   /* T of the schedule */
    float weight_decay; /* 0.01 */
    float smoothing;    /* 0.1 */
    float clip;         /* 100: element-wise gradient clamp; <= 0 disables */
    float beta1, beta2, eps; /* 0.9, 0.999, 1e-8 */
} s4g_train_cfg;

/* Sample4Geo's values: lr 1e-3, wd 0.01, smoothing 0.1, clip 100, betas .9/.999, eps 1e-8;
 * warmup/total given. */
s4g_train_cfg s4g_train_cfg_default(double warmup_steps, long total_steps);

typedef struct s4g_train_stats {
    long step;         /* steps done after this one (1 after the first) */
    double lr;         /* lr used by this step */
    float loss;        /* InfoNCE loss of this batch (before the update) */
    float logit_scale; /* after the update */
} s4g_train_stats;

typedef struct s4g_trainer s4g_trainer;

/* The trainer does not own the model; it allocates m/v moments and per-shape workspaces. */
s4g_trainer *s4g_trainer_new(s4g_convnext *model, const s4g_train_cfg *cfg, s4g_err *err);
void s4g_trainer_free(s4g_trainer *t);
long s4g_trainer_step_count(const s4g_trainer *t);
/* Sets the step counter (resume at a given scheduler position). */
void s4g_trainer_set_step(s4g_trainer *t, long step);

/* Forward + loss + backward only: zeroes model->grads, fills them with dloss/dparams (no
 * clamp, no update).  query [B,Hq,Wq,3] and ref [B,Hr,Wr,3] are NHWC host floats.  Used by
 * tests and gradient checks; *loss gets the batch loss. */
int s4g_trainer_grad(s4g_trainer *t, int B, int Hq, int Wq, const float *query, int Hr, int Wr,
                     const float *ref, float *loss, s4g_err *err);
/* One full step: grad, clamp ±clip, AdamW at lr = cosine(step), step += 1. */
int s4g_trainer_step(s4g_trainer *t, int B, int Hq, int Wq, const float *query, int Hr, int Wr,
                     const float *ref, s4g_train_stats *stats, s4g_err *err);

/* Checkpoint: every parameter (timm names, PyTorch layout), "adam_m.<name>", "adam_v.<name>",
 * and __metadata__ {"format": "s4g-checkpoint", "step": "<n>", arch, + caller's meta}.
 * Written atomically.  meta: NULL-terminated key, value, ... list (may be NULL). */
int s4g_trainer_save(s4g_trainer *t, const char *path, const char *const *meta, s4g_err *err);
/* Restores weights, moments and step (the model's config must match the file). */
int s4g_trainer_load(s4g_trainer *t, const char *path, s4g_err *err);

#ifdef __cplusplus
}
#endif
#endif
