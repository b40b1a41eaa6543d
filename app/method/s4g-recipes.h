/* s4g-recipes.h — the paper's training recipes, one per dataset: exactly the settings of
 * sample4geo-reference.md §1.3 (image sizes) and §3 (optimiser, schedule, evaluation cadence,
 * seed, GPS/DSS neighbour sampling) with ConvNeXt-Base.  `s4g train --recipe NAME` starts from
 * a recipe instead of the defaults table (s4g-defaults.h, small CPU values for the demo);
 * explicit flags still override it, and the run's stored config names the recipe.  The
 * --help text and the man page list what each recipe sets (s4g_recipe_describe). */
#pragma once

#include "s4g-defaults.h"

G_BEGIN_DECLS

typedef struct {
    const char *name;         /* "cvusa", "cvact", "vigor-same", "vigor-cross", "university" */
    const char *dataset;      /* "CVUSA" … for messages */
    const char *preset;       /* "base" */
    S4gSize ground;           /* query view (panorama / drone) H×W */
    S4gSize satellite;        /* reference view H×W */
    guint epochs, batch;      /* batch: pairs per step */
    double lr, warmup_epochs; /* peak lr; warm-up in epochs (University-1652: 0.1) */
    guint eval_every;         /* evaluation (and DSS re-mining) cadence; the last epoch too */
    guint64 seed;
    gboolean gps, dss;        /* GPS neighbours before the first DSS; DSS after evaluations */
    guint neighbour_select, neighbour_range;
    int skip_neighbour;       /* identity never added as a neighbour (CVUSA's 0), -1 none */
    const char *train_split, *eval_split; /* the split names s4g import gives that dataset */
} S4gRecipe;

extern const S4gRecipe s4g_recipes[];
extern const guint s4g_n_recipes;

/* By name, NULL when there is none. */
const S4gRecipe *s4g_recipe_find(const char *name);
/* The defaults table with the recipe's values in its fields (the others kept). */
S4gDefaults s4g_recipe_defaults(const S4gRecipe *r);
/* One line of what the recipe sets: "CVUSA: ConvNeXt-base, ground 140x768, satellite 384x384,
 * 40 epochs, batch 128, lr 0.001, warm-up 1 epoch, evaluate every 4 epochs and at the last,
 * seed 42, GPS then DSS neighbours 64 of 128, never identity 0, splits train/val". */
char *s4g_recipe_describe(const S4gRecipe *r);
/* "cvusa, cvact, vigor-same, vigor-cross or university" */
char *s4g_recipe_names(void);

G_END_DECLS
