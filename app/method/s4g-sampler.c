/* s4g-sampler.c — the epoch builders of sample4geo-reference.md §4.2–§4.4, line by line. */
#include "s4g-sampler.h"
#include "s4g-defaults.h"
#include "s4g-geo.h"

#include <string.h>

S4gSamplerParams s4g_sampler_params_default(void)
{
    return (S4gSamplerParams){.batch_size = s4g_defaults.batch,
                              .neighbour_select = s4g_defaults.neighbour_select,
                              .neighbour_range = s4g_defaults.neighbour_range,
                              .break_limit = 1024,
                              .skip_neighbour = -1};
}

void s4g_sampler_shuffle(GRand *rng, guint32 *items, gsize n)
{
    for (gsize i = n; i > 1; i--) {
        gsize j = (gsize)g_rand_int_range(rng, 0, (gint32)i);
        guint32 t = items[i - 1];
        items[i - 1] = items[j];
        items[j] = t;
    }
}

/* The pool: a FIFO (pop front, push back) that never holds more than its initial n items. */
typedef struct {
    guint32 *buf;
    gsize cap, head, len;
} Pool;

static void pool_init(Pool *q, GRand *rng, gsize n)
{
    q->buf = g_new(guint32, MAX(n, 1));
    q->cap = MAX(n, 1);
    q->head = 0;
    q->len = n;
    for (gsize i = 0; i < n; i++)
        q->buf[i] = (guint32)i;
    s4g_sampler_shuffle(rng, q->buf, n);
}

static guint32 pool_pop(Pool *q)
{
    guint32 v = q->buf[q->head];
    q->head = (q->head + 1) % q->cap;
    q->len--;
    return v;
}

static void pool_push(Pool *q, guint32 v)
{
    g_assert(q->len < q->cap);
    q->buf[(q->head + q->len) % q->cap] = v;
    q->len++;
}

static gboolean check_params(const S4gSamplerParams *p, GError **error)
{
    if (p->batch_size < 1 || p->break_limit < 1 || p->neighbour_select > p->neighbour_range) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "sampler: need batch size ≥ 1, break limit ≥ 1 and neighbour select ≤ range "
                    "(B %u, break %u, select %u, range %u)",
                    p->batch_size, p->break_limit, p->neighbour_select, p->neighbour_range);
        return FALSE;
    }
    return TRUE;
}

/* The candidate order of §4.2: the `select/2` nearest, then `select/2` drawn at random from
 * the rest of the first `range` entries of the row ids[0..count).  Writes into cand, returns
 * the count. */
static guint candidates_of(const gint32 *ids, guint count, const S4gSamplerParams *p, GRand *rng,
                           guint32 *cand)
{
    guint split = p->neighbour_select / 2;
    guint have = MIN(count, p->neighbour_range);
    guint near = MIN(split, have), m = 0;
    for (guint i = 0; i < near; i++)
        cand[m++] = (guint32)ids[i];
    guint nfar = have - near;
    for (guint i = 0; i < nfar; i++)
        cand[m + i] = (guint32)ids[near + i];
    s4g_sampler_shuffle(rng, cand + m, nfar);
    return m + MIN(nfar, split);
}

static guint candidates(const S4gNeighbours *nb, guint row, const S4gSamplerParams *p, GRand *rng,
                        guint32 *cand)
{
    return candidates_of(s4g_neighbours_row(nb, row), nb->count[row], p, rng, cand);
}

/* VIGOR's per-epoch copy of the neighbour rows (`sim`): a satellite that anchors again in
 * the same epoch (it has two panoramas) draws from its row without the neighbours it already
 * brought into a batch (`sim[sat].remove(n)`), so its window of the nearest shifts on. */
typedef struct {
    gint32 *ids;  /* rows, nb->k apart */
    guint *count; /* entries left in each row */
    guint k;
} SimRows;

static void sim_rows_init(SimRows *s, const S4gNeighbours *nb)
{
    s->k = nb->k;
    s->ids = g_memdup2(nb->ids, (gsize)nb->n * nb->k * sizeof *nb->ids);
    s->count = g_memdup2(nb->count, (gsize)MAX(nb->n, 1) * sizeof *nb->count);
}

static void sim_rows_remove(SimRows *s, guint32 row, guint32 id)
{
    gint32 *r = s->ids + (gsize)row * s->k;
    for (guint i = 0; i < s->count[row]; i++) {
        if (r[i] == (gint32)id) {
            memmove(r + i, r + i + 1, (s->count[row] - i - 1) * sizeof *r);
            s->count[row]--;
            return;
        }
    }
}

GArray *s4g_sampler_epoch_identities(guint n, const S4gNeighbours *nb, const S4gSamplerParams *p,
                                     GRand *rng, GError **error)
{
    if (!check_params(p, error)) return NULL;
    if (nb && nb->n != n) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "sampler: neighbour table has %u rows for %u identities", nb->n, n);
        return NULL;
    }
    GArray *out = g_array_new(FALSE, FALSE, sizeof(guint32));
    g_autofree guint8 *used = g_new0(guint8, MAX(n, 1));     /* used this epoch */
    g_autofree guint8 *in_batch = g_new0(guint8, MAX(n, 1)); /* in the current batch */
    g_autofree guint32 *batch = g_new(guint32, p->batch_size);
    g_autofree guint32 *cand = g_new(guint32, MAX(p->neighbour_range, 1));
    guint blen = 0, breaks = 0;
    Pool pool;
    pool_init(&pool, rng, n);
    while (pool.len > 0) {
        guint32 id = pool_pop(&pool);
        if (!in_batch[id] && !used[id] && blen < p->batch_size) {
            batch[blen++] = id;
            in_batch[id] = used[id] = 1;
            breaks = 0;
            if (nb && blen < p->batch_size) {
                guint nc = candidates(nb, id, p, rng, cand);
                for (guint c = 0; c < nc && blen < p->batch_size; c++) {
                    guint32 x = cand[c];
                    if (x >= n || in_batch[x] || used[x] || (gint)x == p->skip_neighbour) continue;
                    batch[blen++] = x;
                    in_batch[x] = used[x] = 1;
                    breaks = 0;
                }
            }
        } else {
            if (!in_batch[id] && !used[id]) pool_push(&pool, id);
            breaks++;
        }
        if (breaks >= p->break_limit) break;
        if (blen >= p->batch_size) {
            g_array_append_vals(out, batch, blen);
            for (guint b = 0; b < blen; b++)
                in_batch[batch[b]] = 0;
            blen = 0;
        }
    }
    g_free(pool.buf);
    return out;
}

/* remaining[sat]: the unused pairs of each satellite, as index lists into one array. */
typedef struct {
    guint32 *start; /* [n_sats+1] offsets */
    guint32 *items; /* pairs grouped by satellite, dataset order */
    guint32 *len;   /* [n_sats] how many are still unused (kept at the front) */
} Remaining;

static void remaining_remove(Remaining *r, guint32 sat, guint32 pair)
{
    guint32 *it = r->items + r->start[sat];
    for (guint32 i = 0; i < r->len[sat]; i++) {
        if (it[i] == pair) {
            memmove(it + i, it + i + 1, (r->len[sat] - i - 1) * sizeof(guint32));
            r->len[sat]--;
            return;
        }
    }
}

GArray *s4g_sampler_epoch_vigor(guint n_pairs, const guint32 *pair_sat, guint n_sats,
                                const S4gNeighbours *nb, const S4gSamplerParams *p, GRand *rng,
                                GError **error)
{
    if (!check_params(p, error)) return NULL;
    if (nb && nb->n != n_sats) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "sampler: neighbour table has %u rows for %u satellites", nb->n, n_sats);
        return NULL;
    }
    for (guint i = 0; i < n_pairs; i++) {
        if (pair_sat[i] >= n_sats) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                        "sampler: pair %u has satellite %u of %u", i, pair_sat[i], n_sats);
            return NULL;
        }
    }
    Remaining rem = {g_new0(guint32, n_sats + 1), g_new(guint32, MAX(n_pairs, 1)),
                     g_new0(guint32, MAX(n_sats, 1))};
    for (guint i = 0; i < n_pairs; i++)
        rem.start[pair_sat[i] + 1]++;
    for (guint s = 0; s < n_sats; s++)
        rem.start[s + 1] += rem.start[s];
    for (guint i = 0; i < n_pairs; i++) {
        guint32 s = pair_sat[i];
        rem.items[rem.start[s] + rem.len[s]++] = i;
    }

    GArray *out = g_array_new(FALSE, FALSE, sizeof(guint32));
    g_autofree guint8 *used = g_new0(guint8, MAX(n_pairs, 1));
    g_autofree guint8 *sat_in = g_new0(guint8, MAX(n_sats, 1));
    g_autofree guint32 *batch = g_new(guint32, p->batch_size);
    g_autofree guint32 *cand = g_new(guint32, MAX(p->neighbour_range, 1));
    guint blen = 0, breaks = 0;
    SimRows sim = {0};
    if (nb) sim_rows_init(&sim, nb);
    Pool pool;
    pool_init(&pool, rng, n_pairs);
    while (pool.len > 0) {
        guint32 pr = pool_pop(&pool), sat = pair_sat[pr];
        if (!sat_in[sat] && !used[pr] && blen < p->batch_size) {
            batch[blen++] = pr;
            sat_in[sat] = used[pr] = 1;
            remaining_remove(&rem, sat, pr);
            if (nb && blen < p->batch_size) {
                guint nc = candidates_of(sim.ids + (gsize)sat * sim.k, sim.count[sat], p, rng,
                                         cand);
                for (guint c = 0; c < nc && blen < p->batch_size; c++) {
                    guint32 ns = cand[c];
                    if (ns >= n_sats || sat_in[ns] || rem.len[ns] == 0) continue;
                    /* "shuffled copy of remaining[n], take the first" = a uniform pick */
                    guint32 pick = rem.items[rem.start[ns] + (guint32)g_rand_int_range(
                                                                 rng, 0, (gint32)rem.len[ns])];
                    batch[blen++] = pick;
                    sat_in[ns] = used[pick] = 1;
                    remaining_remove(&rem, ns, pick);
                    sim_rows_remove(&sim, sat, ns);
                }
            }
            breaks = 0;
        } else {
            if (!used[pr]) pool_push(&pool, pr);
            breaks++;
        }
        if (breaks >= p->break_limit) break;
        if (blen >= p->batch_size) {
            g_array_append_vals(out, batch, blen);
            for (guint b = 0; b < blen; b++)
                sat_in[pair_sat[batch[b]]] = 0;
            blen = 0;
        }
    }
    g_free(pool.buf);
    g_free(sim.ids);
    g_free(sim.count);
    g_free(rem.start);
    g_free(rem.items);
    g_free(rem.len);
    return out;
}

GArray *s4g_sampler_epoch_classes(guint n_items, const guint32 *item_class, guint n_classes,
                                  const S4gSamplerParams *p, GRand *rng, GError **error)
{
    if (!check_params(p, error)) return NULL;
    for (guint i = 0; i < n_items; i++) {
        if (item_class[i] >= n_classes) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                        "sampler: item %u has class %u of %u", i, item_class[i], n_classes);
            return NULL;
        }
    }
    GArray *out = g_array_new(FALSE, FALSE, sizeof(guint32));
    g_autofree guint8 *used = g_new0(guint8, MAX(n_items, 1));
    g_autofree guint8 *cls_in = g_new0(guint8, MAX(n_classes, 1));
    g_autofree guint32 *batch = g_new(guint32, p->batch_size);
    guint blen = 0, breaks = 0;
    Pool pool;
    pool_init(&pool, rng, n_items);
    while (pool.len > 0) {
        guint32 it = pool_pop(&pool), c = item_class[it];
        if (!cls_in[c] && !used[it] && blen < p->batch_size) {
            batch[blen++] = it;
            cls_in[c] = used[it] = 1;
            breaks = 0;
        } else {
            if (!used[it]) pool_push(&pool, it);
            breaks++;
        }
        if (breaks >= p->break_limit) break;
        if (blen >= p->batch_size) {
            g_array_append_vals(out, batch, blen);
            for (guint b = 0; b < blen; b++)
                cls_in[item_class[batch[b]]] = 0;
            blen = 0;
        }
    }
    g_free(pool.buf);
    return out;
}
