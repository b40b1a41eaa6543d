/* s4g-sampler.h — the Sample4Geo batch builders (sample4geo-reference.md §4.2–§4.4).
 *
 * A builder orders one epoch of training items so that consecutive blocks of B items are
 * the batches: no reference identity twice in a batch (InfoNCE's positives are positional),
 * each item at most once per epoch, and — when a neighbour table (GPS or DSS) is given —
 * each anchor's batch filled with its 32 nearest neighbours and 32 random ones of ranks
 * 33–128.  The result's length is a multiple of B; leftovers are dropped for the epoch, as in
 * the reference.
 *
 * Randomness comes from a seeded GRand (Mersenne Twister) with a Python-style Fisher–Yates
 * shuffle, so a seed reproduces an epoch exactly; it does not reproduce Python's `random`.
 *
 * The reference's `pool_sim[id].remove(n)` edits a per-epoch copy of the anchor's row.  For
 * CVUSA/CVACT that row is never read again in the epoch (each identity anchors once), so it
 * is not mirrored there.  VIGOR's satellites anchor once per panorama (up to two), and the
 * second time the reference draws from the row without the neighbours already used
 * (`sim[sat].remove(n)` in vigor.py): s4g_sampler_epoch_vigor mirrors that. */
#pragma once

#include "s4g-neighbours.h"

G_BEGIN_DECLS

typedef struct {
    guint batch_size;       /* B: 128 */
    guint neighbour_select; /* 64: half nearest, half random from the rest of the range */
    guint neighbour_range;  /* 128: how many table entries are candidates */
    guint break_limit;      /* consecutive rejections that end the epoch: 1024 (U1652: 512) */
    /* CVUSA quirk: the reference never adds identity id 0 as a neighbour (`n != 0`).
     * The dense index of that identity, or -1 (default) to add every neighbour. */
    gint skip_neighbour;
} S4gSamplerParams;

/* B 128, select 64, range 128, break 1024, skip -1. */
S4gSamplerParams s4g_sampler_params_default(void);

/* Python's random.shuffle algorithm on a GRand. */
void s4g_sampler_shuffle(GRand *rng, guint32 *items, gsize n);

/* CVUSA / CVACT: items are identities 0..n-1 (ground i pairs with satellite i).
 * nb (n rows) may be NULL: plain unique shuffle.  Returns guint32 identity indices. */
GArray *s4g_sampler_epoch_identities(guint n, const S4gNeighbours *nb, const S4gSamplerParams *p,
                                     GRand *rng, GError **error);

/* VIGOR: items are pairs 0..n_pairs-1, pair_sat[i] = the positive satellite of pair i
 * (< n_sats).  Uniqueness is on the satellite; nb (n_sats rows, keyed by satellite) may be
 * NULL; at most one pair is drawn per neighbour satellite.  Returns guint32 pair indices. */
GArray *s4g_sampler_epoch_vigor(guint n_pairs, const guint32 *pair_sat, guint n_sats,
                                const S4gNeighbours *nb, const S4gSamplerParams *p, GRand *rng,
                                GError **error);

/* University-1652: items 0..n_items-1 with item_class[i]; one item per class per batch,
 * no neighbours; use break_limit 512 as the reference does. */
GArray *s4g_sampler_epoch_classes(guint n_items, const guint32 *item_class, guint n_classes,
                                  const S4gSamplerParams *p, GRand *rng, GError **error);

G_END_DECLS
