/* s4g-defaults.c — the values of the defaults table (s4g-defaults.h). */
#include "s4g-defaults.h"

const S4gDefaults s4g_defaults = {
    .ground = {.h = 64, .w = 384},
    .satellite = {.h = 128, .w = 128},
    .preset = "atto",
    .epochs = 40,
    .batch = 128,
    .lr = 1e-3,
    .warmup_epochs = 1.0,
    .eval_every = 4,
    .seed = 42,
    .neighbour_select = 64,
    .neighbour_range = 128,
    .satellite_shift = 0,
    .encode_batch = 32,
    .loader_threads = 2,
    .refine_radius_m = 50.0,
};
