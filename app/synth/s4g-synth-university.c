/* s4g-synth-university.c — the University-1652 layout (sample4geo-reference.md §6.4).  Each
 * class is one building of the region (at least 60 m² and 4 m tall, 25 m from any other
 * class), seen from the satellite (north-up, 90 m around it) and from a drone orbiting it:
 * 3 rings (radius/height 60/55, 45/38, 32/24 m) × 6 azimuths = 18 views, looking at the
 * building's mid-height.  Classes are split 45 % train, 40 % test and the rest gallery-only
 * distractors (as the real test gallery has classes no query asks for):
 *   train/satellite/{class}/{class}.jpg     train/drone/{class}/image-NN.jpeg
 *   test/query_satellite/{class}/…          test/gallery_drone/{class}/…       (S2D)
 *   test/query_drone/{class}/…              test/gallery_satellite/{class}/…   (D2S)
 * Class folders are 4-digit numbers from 0001. */
#include "s4g-geo.h"
#include "s4g-synth-private.h"

#include <math.h>

#define UNI_FOOTPRINT_M 90.0
#define UNI_MIN_DIST_M 25.0
#define UNI_RINGS 3
#define UNI_AZIMUTHS 6

static const double rings[UNI_RINGS][2] = {{60, 55}, {45, 38}, {32, 24}};

typedef enum { ROLE_TRAIN, ROLE_TEST, ROLE_DISTRACTOR } Role;

typedef struct {
    double x, y, h;
    double az0;
    Role role;
} Target;

typedef struct {
    const S4gSynthOptions *o;
    const S4gWorld *w;
    const Target *targets;
    int sat, drone;
    GError **errors;
} Job;

static gboolean save_to(const S4gSynthOptions *o, const char *const *dirs, const char *cls, const char *file,
                        const uint8_t *px, int size, GError **error)
{
    for (int k = 0; dirs[k]; k++) {
        g_autofree char *sub = g_build_filename(dirs[k], cls, NULL);
        if (!s4g_synth_mkdir(o->out_dir, sub, error))
            return FALSE;
        g_autofree char *p = g_build_filename(o->out_dir, sub, file, NULL);
        if (!s4g_synth_save(p, px, size, size, 3, error))
            return FALSE;
    }
    return TRUE;
}

static void render_one(int i, gpointer data)
{
    Job *j = data;
    const Target *t = &j->targets[i];
    char cls[16], file[32];
    g_snprintf(cls, sizeof cls, "%04d", i + 1);
    const char *sat_train[] = {"train/satellite", NULL}, *drone_train[] = {"train/drone", NULL};
    const char *sat_test[] = {"test/query_satellite", "test/gallery_satellite", NULL};
    const char *drone_test[] = {"test/query_drone", "test/gallery_drone", NULL};
    const char *sat_dis[] = {"test/gallery_satellite", NULL}, *drone_dis[] = {"test/gallery_drone", NULL};
    const char *const *sd = t->role == ROLE_TRAIN ? sat_train : t->role == ROLE_TEST ? sat_test : sat_dis;
    const char *const *dd = t->role == ROLE_TRAIN ? drone_train : t->role == ROLE_TEST ? drone_test : drone_dis;
    g_autofree uint8_t *px = g_malloc((gsize)MAX(j->sat, j->drone) * MAX(j->sat, j->drone) * 3);
    s4g_synth_render_satellite(j->w, t->x, t->y, UNI_FOOTPRINT_M, j->sat, px);
    g_snprintf(file, sizeof file, "%s.jpg", cls);
    if (!save_to(j->o, sd, cls, file, px, j->sat, &j->errors[i]))
        return;
    int v = 0;
    for (int r = 0; r < UNI_RINGS; r++)
        for (int a = 0; a < UNI_AZIMUTHS; a++) {
            double az = t->az0 + a * 2 * G_PI / UNI_AZIMUTHS + r * G_PI / UNI_AZIMUTHS;
            double cam[3] = {t->x + rings[r][0] * sin(az), t->y + rings[r][0] * cos(az), rings[r][1]};
            double tgt[3] = {t->x, t->y, t->h / 2};
            s4g_synth_render_perspective(j->w, cam, tgt, 60.0, j->drone, j->drone, px);
            g_snprintf(file, sizeof file, "image-%02d.jpeg", ++v);
            if (!save_to(j->o, dd, cls, file, px, j->drone, &j->errors[i]))
                return;
        }
}

/* Chooses n buildings as classes, in a seeded random order; returns how many were found. */
static int pick_targets(const S4gWorld *w, uint64_t seed, int n, double margin, Target *out)
{
    int nb = (int)w->buildings->len;
    g_autofree uint32_t *order = g_new(uint32_t, MAX(1, nb));
    for (int i = 0; i < nb; i++)
        order[i] = (uint32_t)i;
    S4gRng r = s4g_rng_derive(seed, 0x01652ull);
    s4g_rng_shuffle_u32(&r, order, (uint32_t)nb);
    double side = w->w * w->cell;
    int got = 0;
    for (int k = 0; k < nb && got < n; k++) {
        const S4gBuilding *b = &g_array_index(w->buildings, S4gBuilding, order[k]);
        double x = (b->x0 + b->x1) / 2.0 * w->cell, y = (b->y0 + b->y1) / 2.0 * w->cell;
        double area = (b->x1 - b->x0) * (b->y1 - b->y0) * w->cell * w->cell;
        if (b->height < 4 || area < 60 || x < margin || y < margin || x > side - margin || y > side - margin)
            continue;
        gboolean ok = TRUE;
        for (int q = 0; q < got && ok; q++)
            ok = hypot(out[q].x - x, out[q].y - y) >= UNI_MIN_DIST_M;
        if (!ok)
            continue;
        out[got] = (Target){.x = x, .y = y, .h = b->height, .az0 = s4g_rng_uniform(&r) * 2 * G_PI};
        got++;
    }
    return got;
}

gboolean s4g_synth_write_university(const S4gSynthOptions *o, S4gSynthSummary *s, GError **error)
{
    int n = o->locations;
    if (n < 3) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "--locations: university needs at least 3 classes (train, test, distractor), got %d", n);
        return FALSE;
    }
    double margin = UNI_FOOTPRINT_M / 2 + 5;
    double side = sqrt((double)n) * 45 + 2 * margin + 60;
    uint64_t seed = s4g_rng_hash64(o->seed ^ (4 * 0x9e3779b97f4a7c15ull));
    g_autofree Target *targets = g_new0(Target, n);
    g_autoptr(S4gWorld) w = NULL;
    for (int attempt = 0; attempt < 8 && !w; attempt++) {
        if (!s4g_synth_check_region(side, error))
            return FALSE;
        S4gWorld *cand = s4g_world_generate(seed, side, o->origin_lat, o->origin_lon);
        if (pick_targets(cand, seed, n, margin, targets) == n)
            w = cand;
        else
            s4g_world_free(cand);
        side *= 1.3;
    }
    if (!w) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID, "university: could not find %d buildings", n);
        return FALSE;
    }
    int n_train = MAX(1, (int)lround(n * 0.45)), n_test = MAX(1, (int)lround(n * 0.40));
    if (n_train + n_test >= n)
        n_train = n - n_test - 1;
    for (int i = 0; i < n; i++)
        targets[i].role = i < n_train ? ROLE_TRAIN : i < n_train + n_test ? ROLE_TEST : ROLE_DISTRACTOR;
    Job job = {o, w, targets, s4g_synth_px(o, 128), s4g_synth_px(o, 128), g_new0(GError *, n)};
    s4g_synth_parallel(o, "university", n, render_one, &job);
    if (!s4g_synth_take_errors(job.errors, n, error))
        return FALSE;
    if (!s4g_synth_write_world_tiles(o, w, s, error))
        return FALSE;
    s->satellite_images = n;
    s->drone_images = n * UNI_RINGS * UNI_AZIMUTHS;
    return TRUE;
}
