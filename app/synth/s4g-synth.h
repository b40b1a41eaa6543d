/* s4g-synth.h — `s4g synth`: builds a deterministic synthetic region (s4g-synth-world.h),
 * renders satellite patches, street panoramas or drone views of it and writes them as a
 * dataset in the on-disk layout of one of the four benchmarks, plus an MBTiles pyramid of the
 * region at DIR/tiles/region.mbtiles and a DIR/synth.json summary.
 *
 * Image sizes at --image-scale 1.0 (each side is multiplied by the scale):
 *   cvusa      satellite 128×128 (80 m), panorama 64×352 (1:5.5, ±32.7° about the horizon)
 *   cvact      satellite 128×128 (80 m), panorama 128×256 (1:2, full sphere)
 *   vigor      satellite 128×128 (72 m, tiles every 36 m), panorama 128×256
 *   university satellite 128×128 (90 m around the building), drone 128×128, 18 views per class
 * Same options → byte-identical files. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef enum {
    S4G_SYNTH_CVUSA,
    S4G_SYNTH_CVACT,
    S4G_SYNTH_VIGOR,
    S4G_SYNTH_UNIVERSITY,
} S4gSynthLayout;

typedef struct {
    S4gSynthLayout layout;
    const char *out_dir;
    uint64_t seed;
    int locations;      /* panoramas (cvusa/cvact/vigor) or building classes (university) */
    double image_scale; /* > 0 */
    gboolean origin_set;
    double origin_lat, origin_lon; /* region centre; default 48.137, 11.575 (Munich) */
    int threads;                   /* <= 0: number of processors */
    /* Called on the calling thread while rendering; may be NULL. */
    void (*progress)(const char *stage, int done, int total, gpointer data);
    gpointer progress_data;
} S4gSynthOptions;

typedef struct {
    int ground_images, satellite_images, drone_images, tiles;
    double region_side_m;
} S4gSynthSummary;

void s4g_synth_options_init(S4gSynthOptions *o);
gboolean s4g_synth_layout_parse(const char *name, S4gSynthLayout *out, GError **error);
const char *s4g_synth_layout_name(S4gSynthLayout layout);
gboolean s4g_synth_run(const S4gSynthOptions *o, S4gSynthSummary *summary, GError **error);

G_END_DECLS
