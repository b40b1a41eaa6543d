/* s4g-train.h — the Sample4Geo training loop (sample4geo-reference.md §3–§4, architecture.md
 * §5 "Train"): per epoch the batch builder orders the train split's pairs (GPS neighbours
 * in the first evaluation cycle, DSS neighbours mined from the model after each
 * evaluation), the loader decodes and augments batches ahead, the trainer runs forward,
 * symmetric InfoNCE, backward and AdamW at the per-step cosine-with-warm-up learning rate.
 * Every `eval_every` epochs and at the last one the eval split is evaluated (R@1 selects
 * the best weights) and DSS is re-mined.  Everything is recorded in the project: a models
 * row, a runs row moving queued → running → done|stopped|failed, metrics rows, evaluation
 * rows, GPS/DSS mining runs with their hard negatives, and the checkpoints in models/.
 *
 * A stop request (SIGINT/SIGTERM in `s4g train`) is honoured after the current step: the
 * last checkpoint (weights, Adam moments, step, epoch position) is written and the run is
 * left `stopped`; resuming replays the same epoch order and augmentations from there. */
#pragma once

#include "s4g-defaults.h"
#include "s4g-augment.h"
#include "s4g-evaluate.h"
#include "s4g-gps.h"
#include "s4g-sampler.h"
#include "s4g-store.h"
#include "s4g-train-step.h"

G_BEGIN_DECLS

typedef enum {
    S4G_TEST_KILL_NONE,
    S4G_TEST_KILL_STEP,
    S4G_TEST_KILL_EVAL,
    S4G_TEST_KILL_MINE,
    S4G_TEST_KILL_CHECKPOINT_WRITE,
} S4gTestKillPoint;

typedef struct {
    S4gTestKillPoint point;
    guint nth; /* 1-based */
} S4gTestKill;

typedef struct {
    gint64 dataset;
    const char *train_split, *eval_split;
    const char *model_name; /* models row name (unique); NULL: "run-<id>" */
    S4gModelSpec spec;
    /* s4g_train_options_init takes the defaults from s4g-defaults.h */
    guint epochs;
    guint batch_size; /* pairs per step */
    double lr;
    double warmup_epochs;
    guint eval_every;
    guint64 seed;
    gboolean gps_sample, dss_sample, augment;
    int satellite_shift; /* training translation of the satellite view, pixels (0: as the
                          * reference; S4gAugmentView.shift) */
    S4gJpegOrder jpeg_order; /* JPEG augmentation channel order (REFERENCE by default) */
    double ground_fov;   /* degrees of a random-heading view each training panorama is cropped
                          * to (S4gLoaderOptions.ground_fov); 0 = the whole panorama */
    S4gGpsMetric gps_metric;
    S4gSamplerParams sampler; /* batch_size is taken from above; skip_neighbour is a dataset
                               * identity (images.identity, CVUSA's 0), not an index */
    int eval_batch;           /* images per encode batch */
    int loader_threads;
    s4g_backend_kind backend;
    const char *device; /* Vulkan device index or name substring; NULL: the engine picks */
    int threads;       /* CPU backend threads, 0 = all */
    gint64 resume_run; /* continue this stopped, failed or interrupted run (its config wins)
                        * from its last checkpoint, or from the start when it has none */
    const char *init_weights; /* start from these weights: any format/layout of
                               * compute/s4g-weights.h; NULL: timm's random init */
    gboolean exclude_flagged; /* leave out train pairs with open bad-pair/wrong-location flags */
    int micro_batch; /* > 0: run each step in chunks of this many pairs with the same loss and
                      * gradients (s4g-train-step.h); memory only, not part of the config */
    const s4g_comm *comm; /* data parallel (mpirun): every process runs s4g_train_run with the
                           * same options; each trains on its share of every global batch
                           * (batch_size must divide by comm->size), the stop request is agreed
                           * on collectively, DSS and evaluation images are encoded in slices
                           * and gathered, and only rank 0 ranks the evaluation and writes the
                           * store and the checkpoints.  NULL: one process. */
    const char *recipe; /* the s4g-recipes.h recipe the settings started from, or NULL */
    S4gTestKill test_kill;    /* TEST ONLY: SIGKILL this process at a chosen point */
} S4gTrainOptions;

void s4g_train_options_init(S4gTrainOptions *o);

/* The pairs a run trains on: split `split` of `dataset` less the pairs open flags leave out
 * when exclude_flagged — what s4g_train_run checks the batch against (a batch holds at most
 * this many pairs).  The Studio's form uses it to fit its batch to the dataset. */
gboolean s4g_train_count_pairs(S4gStore *store, gint64 dataset, const char *split,
                               gboolean exclude_flagged, guint *n_pairs, GError **error);

/* TEST ONLY (the crash-consistency test): "POINT:N" kills the trainer with SIGKILL the N-th
 * time it reaches POINT — step (after a training step), eval (after an evaluation row is
 * stored), mine (after a mining run is stored), checkpoint-write (after the checkpoint file
 * is renamed into place, before its row is updated).  Parsed from S4G_TEST_KILL_AT by the
 * CLI only; never set it otherwise.  NULL or "" leaves *out off. */
gboolean s4g_test_kill_parse(const char *text, S4gTestKill *out, GError **error);

typedef enum {
    S4G_TRAIN_EVENT_START,
    S4G_TRAIN_EVENT_STEP,
    S4G_TRAIN_EVENT_EVAL,
    S4G_TRAIN_EVENT_MINED,
    S4G_TRAIN_EVENT_CHECKPOINT,
    S4G_TRAIN_EVENT_END,
    S4G_TRAIN_EVENT_ENCODE, /* embedding images for an evaluation or DSS: step of total_steps */
    S4G_TRAIN_EVENT_ERROR,  /* never emitted by the loop: `s4g train --json` reports its failure
                             * with it (what: the message; s4g-train-events.h) */
} S4gTrainEventKind;

typedef struct {
    S4gTrainEventKind kind;
    gint64 run, model;
    gint64 step, total_steps;
    guint epoch;           /* 1-based epoch in progress / just finished */
    double epoch_progress; /* fractional epochs done */
    double loss, lr, logit_scale, pairs_per_s, eta_s;
    S4gRetrievalMetrics metrics; /* EVAL; MINED "dss": the train split's recall (r1 NaN for gps) */
    double chance_r1;            /* EVAL: 100/R */
    const char *what; /* MINED: "gps"/"dss"; CHECKPOINT: path; ENCODE: "eval"/"dss";
                       * END: final state; ERROR: message; START: the --init weights' load
                       * report, or NULL (stderr only, not in the JSON line) */
    const char *device;          /* START */
    guint n_pairs, n_refs;       /* START */
    guint n_excluded;            /* START: pairs left out by open flags */
    double warmup_steps;         /* START: the schedule's W, fractional (steps × epochs) */
} S4gTrainEvent;

typedef void (*S4gTrainCallback)(const S4gTrainEvent *ev, gpointer user_data);

/* Runs (or resumes) a training run.  *stop (may be NULL) is polled after every step.
 * Returns FALSE on failure (the run is marked failed with the message); *run_id gets the
 * run's id either way once it exists. */
gboolean s4g_train_run(S4gStore *store, const S4gTrainOptions *opts, volatile gint *stop,
                       S4gTrainCallback cb, gpointer user_data, gint64 *run_id, GError **error);

G_END_DECLS
