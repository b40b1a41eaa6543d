/* s4g-synth.c — `s4g synth` driver and the helpers the layout writers share (world sizing,
 * deterministic image encoding, folders). */
#include "s4g-synth-private.h"
#include "s4g-geo.h"
#include "s4g-json-out.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <vips/vips.h>

void s4g_synth_options_init(S4gSynthOptions *o)
{
    memset(o, 0, sizeof *o);
    o->layout = S4G_SYNTH_CVUSA;
    o->seed = 1;
    o->locations = 200;
    o->image_scale = 1.0;
    o->origin_lat = 48.137;
    o->origin_lon = 11.575;
}

static const char *layout_names[] = {"cvusa", "cvact", "vigor", "university"};

gboolean s4g_synth_layout_parse(const char *name, S4gSynthLayout *out, GError **error)
{
    for (guint i = 0; i < G_N_ELEMENTS(layout_names); i++)
        if (name && !g_ascii_strcasecmp(name, layout_names[i])) {
            *out = (S4gSynthLayout)i;
            return TRUE;
        }
    g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                "--layout: unknown layout “%s” (expected cvusa, cvact, vigor or university)",
                name ? name : "");
    return FALSE;
}

const char *s4g_synth_layout_name(S4gSynthLayout layout)
{
    return (guint)layout < G_N_ELEMENTS(layout_names) ? layout_names[layout] : "?";
}

int s4g_synth_px(const S4gSynthOptions *o, int base)
{
    return MAX(8, (int)lround(base * o->image_scale));
}

gboolean s4g_synth_check_region(double side_m, GError **error)
{
    /* 0.5 m cells, 14 bytes each (cover, building id, height, canopy, light, ortho). */
    double cells = (side_m / 0.5) * (side_m / 0.5), gb = cells * 14 / 1e9;
    if (cells > 256e6) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "--locations: the region would be %.1f km wide and need %.1f GB; use fewer locations",
                    side_m / 1000, gb);
        return FALSE;
    }
    return TRUE;
}

S4gWorld *s4g_synth_world_with_locations(const S4gSynthOptions *o, uint64_t stream, int n,
                                         double min_dist, double margin, double lat, double lon,
                                         S4gPoint **locs, GError **error)
{
    /* About 400 road locations fit per km² at 35 m spacing; start a little generous. */
    double side = sqrt((double)n) * min_dist * 1.45 + 2 * margin + 60;
    uint64_t seed = s4g_rng_hash64(o->seed ^ (stream * 0x9e3779b97f4a7c15ull));
    g_autofree S4gPoint *pts = g_new(S4gPoint, MAX(1, n));
    for (int attempt = 0; attempt < 8; attempt++) {
        if (!s4g_synth_check_region(side, error))
            return NULL;
        gint64 t0 = g_get_monotonic_time();
        if (o->progress)
            o->progress("world", 0, 1, o->progress_data);
        S4gWorld *w = s4g_world_generate(seed, side, lat, lon);
        if (o->progress)
            o->progress("world", 1, 1, o->progress_data);
        gint64 t1 = g_get_monotonic_time();
        int got = s4g_world_pick_road_locations(w, seed, n, min_dist, margin, pts);
        g_debug("world %.0f m: generated in %.2f s, %d/%d locations in %.2f s", side, (t1 - t0) / 1e6, got, n,
                (g_get_monotonic_time() - t1) / 1e6);
        if (got == n) {
            *locs = g_steal_pointer(&pts);
            return w;
        }
        g_debug("region of %.0f m holds %d of %d locations; growing", side, got, n);
        s4g_world_free(w);
        side *= 1.3;
    }
    g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                "synth: could not place %d locations %.0f m apart (region %.0f m)", n, min_dist, side);
    return NULL;
}

gboolean s4g_synth_write_text(const char *path, const char *text, gsize len, GError **error)
{
    g_autoptr(GError) e = NULL;
    if (!g_file_set_contents_full(path, text, (gssize)len, G_FILE_SET_CONTENTS_NONE, 0644, &e)) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "%s", e->message);
        return FALSE;
    }
    return TRUE;
}

static gboolean encode(const char *what, const uint8_t *px, int w, int h, int bands, gboolean jpeg,
                       void **buf, size_t *len, GError **error)
{
    VipsImage *img = vips_image_new_from_memory(px, (size_t)w * h * bands, w, h, bands, VIPS_FORMAT_UCHAR);
    if (!img) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "%s: %s", what, vips_error_buffer());
        vips_error_clear();
        return FALSE;
    }
    int rc;
    if (jpeg)
        rc = vips_jpegsave_buffer(img, buf, len, "Q", 90, "strip", TRUE, "optimize_coding", TRUE,
                                  "interlace", FALSE, NULL);
    else
        rc = vips_pngsave_buffer(img, buf, len, "compression", 6, "strip", TRUE, "interlace", FALSE, NULL);
    g_object_unref(img);
    if (rc != 0) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "%s: encoding failed: %s", what, vips_error_buffer());
        vips_error_clear();
        return FALSE;
    }
    return TRUE;
}

gboolean s4g_synth_save(const char *path, const uint8_t *px, int w, int h, int bands, GError **error)
{
    gboolean jpeg = g_str_has_suffix(path, ".jpg") || g_str_has_suffix(path, ".jpeg");
    if (!jpeg && !g_str_has_suffix(path, ".png")) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID, "%s: unsupported image type", path);
        return FALSE;
    }
    void *buf = NULL;
    size_t len = 0;
    if (!encode(path, px, w, h, bands, jpeg, &buf, &len, error))
        return FALSE;
    gboolean ok = s4g_synth_write_text(path, buf, len, error);
    g_free(buf);
    return ok;
}

GBytes *s4g_synth_encode_png(const uint8_t *px, int w, int h, int bands, GError **error)
{
    void *buf = NULL;
    size_t len = 0;
    if (!encode("tile", px, w, h, bands, FALSE, &buf, &len, error))
        return NULL;
    return g_bytes_new_take(buf, len);
}

gboolean s4g_synth_mkdir(const char *dir, const char *sub, GError **error)
{
    g_autofree char *p = g_build_filename(dir, sub, NULL);
    if (g_mkdir_with_parents(p, 0755) != 0) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "%s: cannot create folder: %s", p, g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

gboolean s4g_synth_mkdirs(const char *dir, const char *const *subs, GError **error)
{
    for (int k = 0; subs[k]; k++)
        if (!s4g_synth_mkdir(dir, subs[k], error))
            return FALSE;
    return TRUE;
}

void s4g_synth_pano_id(S4gRng *r, char out[23])
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    /* Never a leading '-': file names starting with one read as options to command-line tools. */
    out[0] = alphabet[s4g_rng_below(r, 62)];
    for (int i = 1; i < 22; i++)
        out[i] = alphabet[s4g_rng_below(r, 64)];
    out[22] = '\0';
}

typedef struct {
    const S4gSynthOptions *o;
    const char *stage;
} ProgressCtx;

static void progress_cb(int done, int total, gpointer p)
{
    ProgressCtx *c = p;
    c->o->progress(c->stage, done, total, c->o->progress_data);
}

void s4g_synth_parallel(const S4gSynthOptions *o, const char *stage, int n, S4gParallelFn fn, gpointer data)
{
    ProgressCtx c = {o, stage};
    s4g_parallel_for(n, o->threads, fn, data, o->progress ? progress_cb : NULL, &c);
}

gboolean s4g_synth_take_errors(GError **errors, int n, GError **error)
{
    gboolean ok = TRUE;
    for (int i = 0; i < n; i++)
        if (errors[i]) {
            if (ok)
                g_propagate_error(error, errors[i]);
            else
                g_error_free(errors[i]);
            ok = FALSE;
        }
    g_free(errors);
    return ok;
}

uint32_t *s4g_synth_shuffled(S4gRng *r, int n)
{
    uint32_t *perm = g_new(uint32_t, n);
    for (int i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    s4g_rng_shuffle_u32(r, perm, (uint32_t)n);
    return perm;
}

gboolean s4g_synth_write_world_tiles(const S4gSynthOptions *o, S4gWorld *w, S4gSynthSummary *s, GError **error)
{
    S4gWorld *worlds[1] = {w};
    if (!s4g_synth_write_tiles(o, worlds, 1, &s->tiles, error))
        return FALSE;
    s->region_side_m = w->w * w->cell;
    return TRUE;
}

gboolean s4g_synth_run(const S4gSynthOptions *o, S4gSynthSummary *summary, GError **error)
{
    g_return_val_if_fail(o != NULL, FALSE);
    g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
    if (!o->out_dir || !*o->out_dir) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID, "--out: an output folder is required");
        return FALSE;
    }
    if (o->locations < 1 || o->locations > 200000) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID, "--locations: %d is not in 1…200000",
                    o->locations);
        return FALSE;
    }
    if (!(o->image_scale >= 0.05 && o->image_scale <= 16)) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID, "--image-scale: %g is not in 0.05…16",
                    o->image_scale);
        return FALSE;
    }
    if (fabs(o->origin_lat) > 80 || fabs(o->origin_lon) > 180) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "--origin: %g,%g is outside latitude ±80°, longitude ±180°", o->origin_lat, o->origin_lon);
        return FALSE;
    }
    if (VIPS_INIT("s4g")) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "libvips: %s", vips_error_buffer());
        return FALSE;
    }
    if (!s4g_synth_mkdir(o->out_dir, "tiles", error))
        return FALSE;
    S4gSynthSummary s = {0};
    gboolean ok = FALSE;
    switch (o->layout) {
    case S4G_SYNTH_CVUSA:
        ok = s4g_synth_write_cvusa(o, &s, error);
        break;
    case S4G_SYNTH_CVACT:
        ok = s4g_synth_write_cvact(o, &s, error);
        break;
    case S4G_SYNTH_VIGOR:
        ok = s4g_synth_write_vigor(o, &s, error);
        break;
    case S4G_SYNTH_UNIVERSITY:
        ok = s4g_synth_write_university(o, &s, error);
        break;
    }
    if (!ok)
        return FALSE;
    /* A summary for people and tools; no time stamps, so reruns stay byte-identical. */
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    s4g_json_add_string(b, "generator", "s4g synth");
    s4g_json_add_string(b, "layout", s4g_synth_layout_name(o->layout));
    s4g_json_add_int(b, "seed", (gint64)o->seed);
    s4g_json_add_int(b, "locations", o->locations);
    s4g_json_add_double(b, "image_scale", o->image_scale);
    s4g_json_begin_array(b, "origin");
    s4g_json_add_double(b, NULL, o->origin_lat);
    s4g_json_add_double(b, NULL, o->origin_lon);
    json_builder_end_array(b);
    s4g_json_add_double(b, "region_side_m", s.region_side_m);
    s4g_json_add_int(b, "ground_images", s.ground_images);
    s4g_json_add_int(b, "satellite_images", s.satellite_images);
    s4g_json_add_int(b, "drone_images", s.drone_images);
    s4g_json_add_int(b, "tiles", s.tiles);
    s4g_json_add_string(b, "mbtiles", "tiles/region.mbtiles");
    json_builder_end_object(b);
    g_autofree char *json = s4g_json_to_pretty_string(b);
    g_autofree char *jp = g_build_filename(o->out_dir, "synth.json", NULL);
    if (!s4g_synth_write_text(jp, json, strlen(json), error))
        return FALSE;
    if (summary)
        *summary = s;
    return TRUE;
}
