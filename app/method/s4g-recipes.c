/* s4g-recipes.c — the paper's recipes (s4g-recipes.h): sample4geo-reference.md §1.3 and §3. */
#include "s4g-recipes.h"

#include <string.h>

/* Common to all (§3): ConvNeXt-Base, B = 128 pairs, AdamW lr 1e-3, cosine with warm-up.
 * CVUSA/CVACT ground 140×768 (H = round(224/1232 · 768)), VIGOR ground 384×768, every
 * satellite and University-1652's drone view 384×384.  Seeds: CVUSA 42, the others 1.
 * Model selection: CVUSA on val-19zl (s4g's "val"), CVACT on its validation split, VIGOR and
 * University-1652 on the test split (drone → satellite). */
#define CVUSA_LIKE .preset = "base", .ground = {.h = 140, .w = 768},                            \
    .satellite = {.h = 384, .w = 384}, .epochs = 40, .batch = 128, .lr = 1e-3,                   \
    .warmup_epochs = 1.0, .eval_every = 4, .gps = TRUE, .dss = TRUE, .neighbour_select = 64,     \
    .neighbour_range = 128
#define VIGOR .preset = "base", .ground = {.h = 384, .w = 768},                                 \
    .satellite = {.h = 384, .w = 384}, .epochs = 40, .batch = 128, .lr = 1e-3,                   \
    .warmup_epochs = 1.0, .eval_every = 4, .seed = 1, .gps = TRUE, .dss = TRUE,                  \
    .neighbour_select = 64, .neighbour_range = 128, .skip_neighbour = -1

const S4gRecipe s4g_recipes[] = {
    {.name = "cvusa", .dataset = "CVUSA", CVUSA_LIKE, .seed = 42,
     .skip_neighbour = 0 /* the CVUSA batch builder never adds id 0 (§4.2) */,
     .train_split = "train", .eval_split = "val"},
    {.name = "cvact", .dataset = "CVACT", CVUSA_LIKE, .seed = 1, .skip_neighbour = -1,
     .train_split = "train", .eval_split = "val"},
    {.name = "vigor-same", .dataset = "VIGOR same-area", VIGOR, .train_split = "same-train",
     .eval_split = "same-test"},
    {.name = "vigor-cross", .dataset = "VIGOR cross-area", VIGOR, .train_split = "cross-train",
     .eval_split = "cross-test"},
    {.name = "university", .dataset = "University-1652", .preset = "base",
     .ground = {.h = 384, .w = 384}, .satellite = {.h = 384, .w = 384}, .epochs = 1,
     .batch = 128, .lr = 1e-3, .warmup_epochs = 0.1, .eval_every = 1, .seed = 1, .gps = FALSE,
     .dss = FALSE, .neighbour_select = 64, .neighbour_range = 128, .skip_neighbour = -1,
     .train_split = "train", .eval_split = "d2s"},
};
const guint s4g_n_recipes = G_N_ELEMENTS(s4g_recipes);

const S4gRecipe *s4g_recipe_find(const char *name)
{
    for (guint i = 0; name && i < s4g_n_recipes; i++)
        if (!strcmp(s4g_recipes[i].name, name)) return &s4g_recipes[i];
    return NULL;
}

S4gDefaults s4g_recipe_defaults(const S4gRecipe *r)
{
    S4gDefaults d = s4g_defaults;
    d.ground = r->ground;
    d.satellite = r->satellite;
    d.preset = r->preset;
    d.epochs = r->epochs;
    d.batch = r->batch;
    d.lr = r->lr;
    d.warmup_epochs = r->warmup_epochs;
    d.eval_every = r->eval_every;
    d.seed = r->seed;
    d.neighbour_select = r->neighbour_select;
    d.neighbour_range = r->neighbour_range;
    return d;
}

char *s4g_recipe_describe(const S4gRecipe *r)
{
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "%s: ConvNeXt-%s, ground %dx%d, satellite %dx%d, %u epoch%s, "
                              "batch %u, lr %g, warm-up %g epoch%s, evaluate every %u epoch%s "
                              "and at the last, seed %" G_GUINT64_FORMAT ", ",
                           r->dataset, r->preset, r->ground.h, r->ground.w, r->satellite.h,
                           r->satellite.w, r->epochs, r->epochs == 1 ? "" : "s", r->batch, r->lr,
                           r->warmup_epochs, r->warmup_epochs == 1 ? "" : "s", r->eval_every,
                           r->eval_every == 1 ? "" : "s", r->seed);
    if (r->gps || r->dss)
        g_string_append_printf(s, "%s%s%s neighbours %u of %u, ", r->gps ? "GPS" : "",
                               r->gps && r->dss ? " then " : "", r->dss ? "DSS" : "",
                               r->neighbour_select, r->neighbour_range);
    else
        g_string_append(s, "no GPS or DSS neighbours (unique classes per batch), ");
    if (r->skip_neighbour >= 0)
        g_string_append_printf(s, "never identity %d as a neighbour, ", r->skip_neighbour);
    g_string_append_printf(s, "splits %s/%s", r->train_split, r->eval_split);
    return g_string_free(s, FALSE);
}

char *s4g_recipe_names(void)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < s4g_n_recipes; i++)
        g_string_append_printf(s, "%s%s", s4g_recipes[i].name,
                               i + 2 == s4g_n_recipes ? " or " : i + 1 < s4g_n_recipes ? ", " : "");
    return g_string_free(s, FALSE);
}
