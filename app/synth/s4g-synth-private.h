/* s4g-synth-private.h — what the layout writers of `s4g synth` share. */
#pragma once

#include "s4g-rng.h"
#include "s4g-synth-render.h"
#include "s4g-synth-world.h"
#include "s4g-synth.h"

G_BEGIN_DECLS

/* A side scaled by the image scale, at least 8 pixels. */
int s4g_synth_px(const S4gSynthOptions *o, int base);
/* Generates a world big enough for n road locations min_dist apart and margin metres from
 * the edges; grows it when they do not fit.  *locs receives n points (g_free). */
S4gWorld *s4g_synth_world_with_locations(const S4gSynthOptions *o, uint64_t stream, int n,
                                         double min_dist, double margin, double lat, double lon,
                                         S4gPoint **locs, GError **error);
/* FALSE (with an error naming --locations) when a region of side_m metres would not fit the
 * memory budget of the world grid (about 3.5 GB). */
gboolean s4g_synth_check_region(double side_m, GError **error);
/* Writes packed 8-bit pixels (bands 1, 3 or 4) as .jpg/.jpeg (Q 90) or .png, with fixed
 * encoder options so the bytes depend only on the pixels. */
gboolean s4g_synth_save(const char *path, const uint8_t *px, int w, int h, int bands, GError **error);
GBytes *s4g_synth_encode_png(const uint8_t *px, int w, int h, int bands, GError **error);
/* g_mkdir_with_parents of g_build_filename(dir, sub, NULL) with a clear error. */
gboolean s4g_synth_mkdir(const char *dir, const char *sub, GError **error);
/* The same for each of the NULL-terminated subs, stopping at the first failure. */
gboolean s4g_synth_mkdirs(const char *dir, const char *const *subs, GError **error);
/* Writes a text file (error names it). */
gboolean s4g_synth_write_text(const char *path, const char *text, gsize len, GError **error);
/* A 22-character id in the alphabet of Google pano ids. */
void s4g_synth_pano_id(S4gRng *r, char out[23]);
/* Runs fn over n items with the options' threads, reporting progress under `stage`. */
void s4g_synth_parallel(const S4gSynthOptions *o, const char *stage, int n, S4gParallelFn fn, gpointer data);
/* Collects the per-item errors of a parallel render: the first (lowest item) goes to *error,
 * the rest are freed, and so is the array.  TRUE when no item failed. */
gboolean s4g_synth_take_errors(GError **errors, int n, GError **error);
/* 0…n−1 in the order of a seeded shuffle drawn from r (g_free). */
uint32_t *s4g_synth_shuffled(S4gRng *r, int n);

/* Renders the pyramid of the worlds into DIR/tiles/region.mbtiles. */
gboolean s4g_synth_write_tiles(const S4gSynthOptions *o, S4gWorld **worlds, int n_worlds, int *n_tiles,
                               GError **error);
/* The same for the one world of a single-region layout; also records its side in the summary. */
gboolean s4g_synth_write_world_tiles(const S4gSynthOptions *o, S4gWorld *w, S4gSynthSummary *s, GError **error);

gboolean s4g_synth_write_cvusa(const S4gSynthOptions *o, S4gSynthSummary *s, GError **error);
gboolean s4g_synth_write_cvact(const S4gSynthOptions *o, S4gSynthSummary *s, GError **error);
gboolean s4g_synth_write_vigor(const S4gSynthOptions *o, S4gSynthSummary *s, GError **error);
gboolean s4g_synth_write_university(const S4gSynthOptions *o, S4gSynthSummary *s, GError **error);

G_END_DECLS
