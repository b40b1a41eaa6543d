/* s4g-synth-cvusa.c — the CVUSA layout (sample4geo-reference.md §6.1):
 *   bingmap/19/NNNNNNN.jpg            satellite, north-up, centred on the location
 *   streetview/panos/NNNNNNN.jpg      panorama, north at the centre column
 *   streetview/annotations/NNNNNNN.png  per-pixel class of the panorama (S4gPixelClass × 40)
 *   splits/train-19zl.csv, splits/val-19zl.csv   "sat,pano,annotation" (80 % / 20 %)
 *   split_locations/all.csv           row id−1: sat_lat,sat_lon,ground_lat,ground_lon,0
 * Ids run 1…N; the panorama and its satellite image share the location exactly. */
#include "s4g-synth-private.h"

#include <math.h>

#define CVUSA_FOOTPRINT_M 80.0
#define CVUSA_SPACING_M 35.0

typedef struct {
    const S4gSynthOptions *o;
    const S4gWorld *w;
    const S4gPoint *locs;
    int sat, pw, ph;
    GError **errors;
} Job;

static void render_one(int i, gpointer data)
{
    Job *j = data;
    const S4gPoint *p = &j->locs[i];
    g_autofree uint8_t *sat = g_malloc((gsize)j->sat * j->sat * 3);
    g_autofree uint8_t *pano = g_malloc((gsize)j->pw * j->ph * 3);
    g_autofree uint8_t *cls = g_malloc((gsize)j->pw * j->ph);
    s4g_synth_render_satellite(j->w, p->x, p->y, CVUSA_FOOTPRINT_M, j->sat, sat);
    s4g_synth_render_panorama(j->w, p->x, p->y, j->pw, j->ph, pano, cls);
    for (gsize k = 0; k < (gsize)j->pw * j->ph; k++)
        cls[k] = (uint8_t)(cls[k] * 40);
    char name[32];
    g_snprintf(name, sizeof name, "%07d", i + 1);
    g_autofree char *sp = g_strdup_printf("%s/bingmap/19/%s.jpg", j->o->out_dir, name);
    g_autofree char *gp = g_strdup_printf("%s/streetview/panos/%s.jpg", j->o->out_dir, name);
    g_autofree char *ap = g_strdup_printf("%s/streetview/annotations/%s.png", j->o->out_dir, name);
    if (!s4g_synth_save(sp, sat, j->sat, j->sat, 3, &j->errors[i]) ||
        !s4g_synth_save(gp, pano, j->pw, j->ph, 3, &j->errors[i]) ||
        !s4g_synth_save(ap, cls, j->pw, j->ph, 1, &j->errors[i]))
        return;
}

gboolean s4g_synth_write_cvusa(const S4gSynthOptions *o, S4gSynthSummary *s, GError **error)
{
    int n = o->locations;
    g_autofree S4gPoint *locs = NULL;
    g_autoptr(S4gWorld) w = s4g_synth_world_with_locations(o, 1, n, CVUSA_SPACING_M, CVUSA_FOOTPRINT_M / 2 + 5,
                                                           o->origin_lat, o->origin_lon, &locs, error);
    if (!w)
        return FALSE;
    const char *dirs[] = {"bingmap/19", "streetview/panos", "streetview/annotations", "splits", "split_locations",
                          NULL};
    if (!s4g_synth_mkdirs(o->out_dir, dirs, error))
        return FALSE;
    Job job = {o, w, locs, s4g_synth_px(o, 128), s4g_synth_px(o, 352), s4g_synth_px(o, 64), g_new0(GError *, n)};
    s4g_synth_parallel(o, "cvusa", n, render_one, &job);
    if (!s4g_synth_take_errors(job.errors, n, error))
        return FALSE;

    /* Splits: a seeded 80/20 partition, each file in id order. */
    S4gRng r = s4g_rng_derive(o->seed, 0xc5a0001ull);
    g_autofree uint32_t *perm = s4g_synth_shuffled(&r, n);
    int n_train = n >= 2 ? MAX(1, (int)lround(n * 0.8)) : n;
    if (n >= 2 && n_train == n)
        n_train = n - 1;
    g_autofree gboolean *is_train = g_new0(gboolean, n);
    for (int k = 0; k < n_train; k++)
        is_train[perm[k]] = TRUE;
    g_autoptr(GString) train = g_string_new(NULL), val = g_string_new(NULL), all = g_string_new(NULL);
    for (int i = 0; i < n; i++) {
        g_string_append_printf(is_train[i] ? train : val,
                               "bingmap/19/%07d.jpg,streetview/panos/%07d.jpg,streetview/annotations/%07d.png\n",
                               i + 1, i + 1, i + 1);
        double lat, lon;
        s4g_world_to_latlon(w, locs[i].x, locs[i].y, &lat, &lon);
        g_string_append_printf(all, "%.8f,%.8f,%.8f,%.8f,0\n", lat, lon, lat, lon);
    }
    g_autofree char *tp = g_build_filename(o->out_dir, "splits", "train-19zl.csv", NULL);
    g_autofree char *vp = g_build_filename(o->out_dir, "splits", "val-19zl.csv", NULL);
    g_autofree char *ap = g_build_filename(o->out_dir, "split_locations", "all.csv", NULL);
    if (!s4g_synth_write_text(tp, train->str, train->len, error) ||
        !s4g_synth_write_text(vp, val->str, val->len, error) ||
        !s4g_synth_write_text(ap, all->str, all->len, error))
        return FALSE;
    if (!s4g_synth_write_world_tiles(o, w, s, error))
        return FALSE;
    s->ground_images = n;
    s->satellite_images = n;
    return TRUE;
}
