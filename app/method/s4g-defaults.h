/* s4g-defaults.h — the one table of training and inference defaults: model input sizes, the
 * preset, epochs, batch sizes, learning rate and schedule, seed.  `s4g train` and the other
 * commands take their defaults (and the values their --help shows) from it, the trainer's
 * s4g_train_options_init too, and the Studio's training form starts from the same values. */
#pragma once

#include "s4g-size.h"

G_BEGIN_DECLS

typedef struct {
    S4gSize ground;         /* query view input: 64×384 */
    S4gSize satellite;      /* reference view input: 128×128 */
    const char *preset;     /* ConvNeXt preset of a new model: "atto" */
    guint epochs;           /* 40 */
    guint batch;            /* pairs per training step: 128 */
    double lr;              /* peak learning rate: 1e-3 */
    double warmup_epochs;   /* 1 */
    guint eval_every;       /* epochs between evaluations: 4 */
    guint64 seed;           /* 42 */
    guint neighbour_select; /* GPS/DSS neighbours per anchor: 64 */
    guint neighbour_range;  /* candidates per anchor: 128 */
    guint satellite_shift;  /* training translation of the satellite images, pixels: 0 */
    int encode_batch;       /* images per encode batch (eval, embed, predict…): 32 */
    int loader_threads;     /* decoding threads while training: 2 */
    double refine_radius_m; /* predict/export: top-k centres averaged within it: 50 */
} S4gDefaults;

extern const S4gDefaults s4g_defaults;

G_END_DECLS
