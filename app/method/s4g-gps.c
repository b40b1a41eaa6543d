/* s4g-gps.c — GPS neighbour selection.
 *
 * Each row is a scan over all N identities keeping the best M = k + 32 candidates in a
 * bounded max-heap under a cheap form of the metric (the haversine term from precomputed
 * half-angle sines/cosines: no trig per pair).  The candidates are then re-scored with the
 * plain formula and sorted by (distance, index), so the final order and tie-breaking are
 * those of the direct formula; the 32 spare candidates absorb rounding differences between
 * the two forms. */
#include "s4g-gps.h"
#include "s4g-geo.h"

#include <math.h>
#include <string.h>

#define EARTH_RADIUS_M 6371008.8
#define SPARE 32

gboolean s4g_gps_metric_parse(const char *name, S4gGpsMetric *out, GError **error)
{
    if (!g_strcmp0(name, "haversine"))
        *out = S4G_GPS_HAVERSINE;
    else if (!g_strcmp0(name, "haversine-degrees"))
        *out = S4G_GPS_HAVERSINE_DEGREES;
    else if (!g_strcmp0(name, "euclidean"))
        *out = S4G_GPS_EUCLIDEAN;
    else {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "unknown GPS metric “%s” (expected haversine, haversine-degrees or euclidean)",
                    name ? name : "");
        return FALSE;
    }
    return TRUE;
}

const char *s4g_gps_metric_name(S4gGpsMetric m)
{
    switch (m) {
    case S4G_GPS_HAVERSINE:
        return "haversine";
    case S4G_GPS_HAVERSINE_DEGREES:
        return "haversine-degrees";
    case S4G_GPS_EUCLIDEAN:
        return "euclidean";
    }
    return "?";
}

static double unit_scale(S4gGpsMetric m)
{
    return m == S4G_GPS_HAVERSINE ? G_PI / 180.0 : 1.0;
}

double s4g_gps_distance(S4gGpsMetric m, double a0, double a1, double b0, double b1)
{
    if (m == S4G_GPS_EUCLIDEAN) return hypot(a0 - b0, a1 - b1);
    double s = unit_scale(m);
    double p1 = a0 * s, p2 = b0 * s, dp = (b0 - a0) * s, dl = (b1 - a1) * s;
    double h = sin(dp / 2) * sin(dp / 2) + cos(p1) * cos(p2) * sin(dl / 2) * sin(dl / 2);
    return 2 * EARTH_RADIUS_M * asin(fmin(1.0, sqrt(fmax(0.0, h))));
}

/* Per point: what the cheap form needs. */
typedef struct {
    double x, y;      /* Euclidean */
    double sp, cp, c; /* sin(φ/2), cos(φ/2), cos φ */
    double sl, cl;    /* sin(λ/2), cos(λ/2) */
} Point;

typedef struct {
    double key;
    gint32 idx;
} Cand;

static inline gboolean cand_less(const Cand *a, const Cand *b)
{
    return a->key < b->key || (a->key == b->key && a->idx < b->idx);
}

/* Max-heap on (key, idx): the root is the worst kept candidate. */
static void heap_sift_down(Cand *h, guint n, guint i)
{
    for (;;) {
        guint l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && cand_less(&h[m], &h[l])) m = l;
        if (r < n && cand_less(&h[m], &h[r])) m = r;
        if (m == i) return;
        Cand t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void heap_push(Cand *h, guint *n, guint cap, Cand c)
{
    if (*n < cap) {
        guint i = (*n)++;
        h[i] = c;
        while (i > 0) {
            guint p = (i - 1) / 2;
            if (!cand_less(&h[p], &h[i])) break;
            Cand t = h[i];
            h[i] = h[p];
            h[p] = t;
            i = p;
        }
    } else if (cand_less(&c, &h[0])) {
        h[0] = c;
        heap_sift_down(h, *n, 0);
    }
}

static int cand_cmp(const void *a, const void *b)
{
    const Cand *x = a, *y = b;
    return cand_less(x, y) ? -1 : cand_less(y, x) ? 1 : 0;
}

typedef struct {
    const double *coords;
    const Point *pts;
    guint n, k, row_begin, row_end;
    S4gGpsMetric metric;
    S4gNeighbours *out;
} Job;

static inline double cheap_key(const Job *j, const Point *a, const Point *b)
{
    if (j->metric == S4G_GPS_EUCLIDEAN) {
        double dx = a->x - b->x, dy = a->y - b->y;
        return dx * dx + dy * dy;
    }
    double sdp = b->sp * a->cp - b->cp * a->sp; /* sin((φb-φa)/2) */
    double sdl = b->sl * a->cl - b->cl * a->sl; /* sin((λb-λa)/2) */
    return sdp * sdp + a->c * b->c * sdl * sdl;
}

static gpointer run_rows(gpointer data)
{
    Job *j = data;
    guint cap = MIN(j->k + SPARE, j->n - 1);
    g_autofree Cand *heap = g_new(Cand, MAX(cap, 1));
    for (guint i = j->row_begin; i < j->row_end; i++) {
        guint hn = 0;
        const Point *a = &j->pts[i];
        for (guint o = 0; o < j->n; o++) {
            if (o == i) continue;
            Cand c = {cheap_key(j, a, &j->pts[o]), (gint32)o};
            heap_push(heap, &hn, cap, c);
        }
        for (guint h = 0; h < hn; h++) {
            const double *p = &j->coords[2 * (gsize)i], *q = &j->coords[2 * (gsize)heap[h].idx];
            heap[h].key = s4g_gps_distance(j->metric, p[0], p[1], q[0], q[1]);
        }
        qsort(heap, hn, sizeof(Cand), cand_cmp);
        guint take = MIN(hn, j->k);
        gint32 *ids = j->out->ids + (gsize)i * j->out->k;
        float *vals = j->out->values + (gsize)i * j->out->k;
        for (guint t = 0; t < take; t++) {
            ids[t] = heap[t].idx;
            vals[t] = (float)heap[t].key;
        }
        j->out->count[i] = take;
    }
    return NULL;
}

S4gNeighbours *s4g_gps_neighbours(const double *coords, guint n, guint k, S4gGpsMetric metric,
                                  guint threads, GError **error)
{
    if (k == 0 || n > G_MAXINT32) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "gps neighbours: need k ≥ 1 and n < 2^31 (k %u, n %u)", k, n);
        return NULL;
    }
    for (guint i = 0; i < n; i++) {
        if (!isfinite(coords[2 * (gsize)i]) || !isfinite(coords[2 * (gsize)i + 1])) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                        "gps neighbours: identity %u has no finite coordinates (%g, %g)", i,
                        coords[2 * (gsize)i], coords[2 * (gsize)i + 1]);
            return NULL;
        }
    }
    S4gNeighbours *out = s4g_neighbours_new(n, k);
    if (n < 2) return out;
    g_autofree Point *pts = g_new(Point, n);
    double s = unit_scale(metric);
    for (guint i = 0; i < n; i++) {
        double a = coords[2 * (gsize)i], b = coords[2 * (gsize)i + 1];
        pts[i].x = a;
        pts[i].y = b;
        pts[i].sp = sin(a * s / 2);
        pts[i].cp = cos(a * s / 2);
        pts[i].c = cos(a * s);
        pts[i].sl = sin(b * s / 2);
        pts[i].cl = cos(b * s / 2);
    }
    if (threads == 0) threads = g_get_num_processors();
    threads = CLAMP(threads, 1, MAX(1u, n / 64));
    g_autofree Job *jobs = g_new0(Job, threads);
    g_autofree GThread **th = g_new0(GThread *, threads);
    for (guint t = 0; t < threads; t++) {
        jobs[t] = (Job){coords,
                        pts,
                        n,
                        k,
                        (guint)((guint64)n * t / threads),
                        (guint)((guint64)n * (t + 1) / threads),
                        metric,
                        out};
        if (t > 0) th[t] = g_thread_new("s4g-gps", run_rows, &jobs[t]);
    }
    run_rows(&jobs[0]);
    for (guint t = 1; t < threads; t++)
        g_thread_join(th[t]);
    return out;
}
