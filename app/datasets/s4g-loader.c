/* s4g-loader.c — workers claim batch numbers in order, but never more than `prefetch` ahead
 * of the consumer; finished batches wait in slots until the consumer takes them in order. */
#include "s4g-loader.h"

#include <string.h>

struct S4gLoader {
    S4gLoaderOptions o;
    char **ground, **satellite;
    guint n_pairs, n_batches;
    GThread **threads;
    int n_threads;

    GMutex lock;
    GCond changed;
    guint next_claim;   /* next batch number a worker may build */
    guint next_deliver; /* next batch number the consumer gets */
    S4gBatch **ready;   /* by batch number, NULL until built */
    GError *failure;    /* fatal error of the lowest failed batch (stops new claims) */
    guint failure_batch;
    gboolean stop;
    guint skipped;
    char *first_skip;
    gint64 waited_us;
};

void s4g_batch_free(S4gBatch *b)
{
    if (!b)
        return;
    g_free(b->ground);
    g_free(b->satellite);
    g_free(b->pairs);
    g_free(b);
}

static gsize ground_floats(const S4gLoaderOptions *o)
{
    return (gsize)o->ground.w * o->ground.h * 3;
}

static gsize sat_floats(const S4gLoaderOptions *o)
{
    return (gsize)o->satellite.w * o->satellite.h * 3;
}

/* Decodes one pair and writes its tensors; FALSE with error on a corrupt/missing image. */
static gboolean load_pair(S4gLoader *l, guint p, float *g_out, float *s_out, GError **error)
{
    const S4gLoaderOptions *o = &l->o;
    g_autoptr(S4gImage) g = s4g_image_load(l->ground[p], error);
    if (!g)
        return FALSE;
    g_autoptr(S4gImage) s = s4g_image_load(l->satellite[p], error);
    if (!s)
        return FALSE;
    if (o->augment) {
        S4gAugRng r;
        s4g_aug_rng_init(&r, o->seed, p);
        S4gAugmentView gv = s4g_augment_view_spec(o->ground, o->ground_is_panorama);
        S4gAugmentView sv = s4g_augment_view_spec(o->satellite, FALSE);
        sv.shift = o->satellite_shift;
        gv.jpeg_order = sv.jpeg_order = o->jpeg_order;
        if (!s4g_augment_pair(&g, &s, &gv, &sv, o->mode, &r, error))
            return FALSE;
        if (s->width != o->satellite.w || s->height != o->satellite.h) {
            /* a rot90 of a non-square satellite input: bring it back to the asked size */
            S4gImage *t = s4g_image_resize(s, o->satellite.w, o->satellite.h);
            s4g_image_free(s);
            s = t;
        }
    } else {
        S4gImage *t = s4g_image_resize(g, o->ground.w, o->ground.h);
        s4g_image_free(g);
        g = t;
        t = s4g_image_resize(s, o->satellite.w, o->satellite.h);
        s4g_image_free(s);
        s = t;
    }
    s4g_image_normalize(g, g_out, o->nchw);
    s4g_image_normalize(s, s_out, o->nchw);
    return TRUE;
}

static S4gBatch *build(S4gLoader *l, guint b, GError **error)
{
    guint first = b * (guint)l->o.batch_size;
    guint count = MIN((guint)l->o.batch_size, l->n_pairs - first);
    S4gBatch *batch = g_new0(S4gBatch, 1);
    batch->index = b;
    batch->ground = g_new(float, ground_floats(&l->o) * count);
    batch->satellite = g_new(float, sat_floats(&l->o) * count);
    batch->pairs = g_new(guint, count);
    for (guint i = 0; i < count; i++) {
        guint p = first + i;
        g_autoptr(GError) e = NULL;
        if (!load_pair(l, p, batch->ground + ground_floats(&l->o) * batch->n,
                       batch->satellite + sat_floats(&l->o) * batch->n, &e)) {
            if (!l->o.skip_corrupt) {
                g_propagate_error(error, g_steal_pointer(&e));
                s4g_batch_free(batch);
                return NULL;
            }
            batch->skipped++;
            g_mutex_lock(&l->lock);
            l->skipped++;
            if (!l->first_skip)
                l->first_skip = g_strdup(e->message);
            g_mutex_unlock(&l->lock);
            g_info("skipping pair %u: %s", p, e->message);
            continue;
        }
        batch->pairs[batch->n++] = p;
    }
    return batch;
}

static gpointer worker(gpointer data)
{
    S4gLoader *l = data;
    g_mutex_lock(&l->lock);
    for (;;) {
        while (!l->stop && !l->failure && l->next_claim < l->n_batches &&
               l->next_claim >= l->next_deliver + (guint)l->o.prefetch)
            g_cond_wait(&l->changed, &l->lock);
        if (l->stop || l->failure || l->next_claim >= l->n_batches)
            break;
        guint b = l->next_claim++;
        g_mutex_unlock(&l->lock);
        GError *e = NULL;
        S4gBatch *batch = build(l, b, &e);
        g_mutex_lock(&l->lock);
        if (!batch) {
            /* batches before it are still delivered; the error comes in its place */
            if (!l->failure || b < l->failure_batch) {
                g_clear_error(&l->failure);
                l->failure = e;
                l->failure_batch = b;
            } else {
                g_error_free(e);
            }
        } else {
            l->ready[b] = batch;
        }
        g_cond_broadcast(&l->changed);
    }
    g_cond_broadcast(&l->changed);
    g_mutex_unlock(&l->lock);
    return NULL;
}

S4gLoader *s4g_loader_new(const S4gLoaderOptions *opts, const char *const *ground,
                          const char *const *satellite, guint n_pairs)
{
    g_return_val_if_fail(opts && opts->batch_size > 0, NULL);
    S4gLoader *l = g_new0(S4gLoader, 1);
    l->o = *opts;
    if (l->o.threads <= 0)
        l->o.threads = 2;
    if (l->o.prefetch <= 0)
        l->o.prefetch = 2 * l->o.threads;
    l->n_pairs = n_pairs;
    l->ground = g_new0(char *, n_pairs + 1);
    l->satellite = g_new0(char *, n_pairs + 1);
    for (guint i = 0; i < n_pairs; i++) {
        l->ground[i] = g_strdup(ground[i]);
        l->satellite[i] = g_strdup(satellite[i]);
    }
    l->n_batches = (n_pairs + (guint)opts->batch_size - 1) / (guint)opts->batch_size;
    l->ready = g_new0(S4gBatch *, l->n_batches + 1);
    g_mutex_init(&l->lock);
    g_cond_init(&l->changed);
    s4g_image_init(NULL); /* once, before threads race to it */
    l->n_threads = l->o.threads;
    l->threads = g_new0(GThread *, l->n_threads);
    for (int i = 0; i < l->n_threads; i++)
        l->threads[i] = g_thread_new("s4g-loader", worker, l);
    return l;
}

guint s4g_loader_n_batches(S4gLoader *l)
{
    return l->n_batches;
}

S4gBatch *s4g_loader_next(S4gLoader *l, GError **error)
{
    g_mutex_lock(&l->lock);
    S4gBatch *b = NULL;
    for (;;) {
        if (l->next_deliver >= l->n_batches)
            break;
        if (l->ready[l->next_deliver]) {
            b = l->ready[l->next_deliver];
            l->ready[l->next_deliver] = NULL;
            l->next_deliver++;
            g_cond_broadcast(&l->changed);
            break;
        }
        if (l->failure && l->next_deliver >= l->failure_batch) {
            g_set_error_literal(error, l->failure->domain, l->failure->code,
                                l->failure->message);
            break;
        }
        gint64 t0 = g_get_monotonic_time();
        g_cond_wait(&l->changed, &l->lock);
        l->waited_us += g_get_monotonic_time() - t0;
    }
    g_mutex_unlock(&l->lock);
    return b;
}

guint s4g_loader_skipped(S4gLoader *l)
{
    g_mutex_lock(&l->lock);
    guint n = l->skipped;
    g_mutex_unlock(&l->lock);
    return n;
}

double s4g_loader_wait_seconds(S4gLoader *l)
{
    g_mutex_lock(&l->lock);
    double s = l->waited_us / 1e6;
    g_mutex_unlock(&l->lock);
    return s;
}

const char *s4g_loader_first_skip(S4gLoader *l)
{
    return l->first_skip;
}

void s4g_loader_free(S4gLoader *l)
{
    if (!l)
        return;
    g_mutex_lock(&l->lock);
    l->stop = TRUE;
    g_cond_broadcast(&l->changed);
    g_mutex_unlock(&l->lock);
    for (int i = 0; i < l->n_threads; i++)
        g_thread_join(l->threads[i]);
    g_free(l->threads);
    for (guint i = 0; i < l->n_batches; i++)
        s4g_batch_free(l->ready[i]);
    g_free(l->ready);
    g_strfreev(l->ground);
    g_strfreev(l->satellite);
    g_clear_error(&l->failure);
    g_free(l->first_skip);
    g_mutex_clear(&l->lock);
    g_cond_clear(&l->changed);
    g_free(l);
}
