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
 *
 * Exact large batches in bounded memory (cfg.micro_batch = M > 0, the cached-embedding-
 * gradient method of GradCache, Gao et al. 2021).  In-batch InfoNCE couples every pair with
 * every other, so plain gradient accumulation would change the loss.  Instead:
 *   1. each view is embedded in chunks of M pairs through one training workspace of M
 *      (each chunk overwrites the previous one's activations), the features go to [B,D];
 *   2. L2 normalisation, InfoNCE and their backward run over the whole batch, giving the
 *      loss and dloss/dfeature of every pair (the cached embedding gradients);
 *   3. each chunk is run forward again, with activations, and back-propagated from its rows
 *      of the cached gradients; parameter gradients accumulate over the chunks (the last
 *      chunk of each view is still in its workspace and is not re-run).
 * Loss and gradients equal the full batch's up to fp32 rounding (tests: <= 1e-5 relative),
 * activation memory is that of M pairs instead of B.  The re-run is exact because the
 * inputs are the same host arrays (augmentations are drawn on the host by the loader before
 * the step, from a generator seeded by (seed, position in the epoch list), so no random
 * number is drawn inside the step), ConvNeXt has no dropout and drop-path is 0, and the
 * re-run uses the same workspace shape and kernels as the embedding pass, so it reproduces
 * the same features bit for bit.  When M does not divide the batch the last chunk is
 * smaller and its workspace is rebuilt (freed first, so the bound holds) twice per step.
 *
 * Data parallel (s4g_trainer_set_comm): each process passes its own share of the global
 * batch (s4g_comm_share); the features of every share are all-gathered so every process
 * computes the loss of the whole global batch (the same value everywhere), back-propagates
 * its own rows, and the parameter gradients are summed with allreduce before the clamp and
 * AdamW, so every process applies the same update.  Combines with micro_batch (M chunks of
 * the local share).  The engine knows nothing of MPI: the caller supplies the callbacks.
 */
#ifndef S4G_TRAIN_STEP_H
#define S4G_TRAIN_STEP_H

#include "s4g-comm.h"
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
    int micro_batch;    /* 0: the whole batch at once; M > 0: GradCache chunks of M pairs */
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
/* Data-parallel group (not owned; must outlive the trainer's use); NULL: one process. */
void s4g_trainer_set_comm(s4g_trainer *t, const s4g_comm *comm);
/* Copies weights, Adam moments and the step counter of process `root` to every process of
 * the group (after init or resume, so every process starts identical). */
int s4g_trainer_broadcast(s4g_trainer *t, int root, s4g_err *err);

/* Forward + loss + backward only: zeroes model->grads, fills them with dloss/dparams (no
 * clamp, no update).  query [B,Hq,Wq,3] and ref [B,Hr,Wr,3] are NHWC host floats.  Used by
 * tests and gradient checks; *loss gets the batch loss.  With a communicator, B is this
 * process's share (>= 1) and the loss and the (all-reduced) gradients are the global
 * batch's; the shares must sum to at least 2 pairs. */
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
