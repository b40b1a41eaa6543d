/* cmd-synth.c — s4g synth: write a synthetic cross-view dataset in a benchmark's layout. */
#include "s4g-cli.h"
#include "s4g-json-out.h"
#include "s4g-synth.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
    S4gProgress *bar;
    char *stage;
    gboolean enabled;
} Progress;

static void on_progress(const char *stage, int done, int total, gpointer data)
{
    Progress *p = data;
    if (!p->stage || g_strcmp0(p->stage, stage)) {
        if (p->bar)
            s4g_progress_finish(p->bar);
        g_free(p->stage);
        p->stage = g_strdup(stage);
        p->bar = s4g_progress_new(stage, total, p->enabled);
    }
    s4g_progress_update(p->bar, done, NULL);
}

int s4g_cmd_synth(int argc, char **argv)
{
    g_autofree char *layout = NULL, *out = NULL, *origin = NULL;
    gint64 seed = 1;
    int locations = 200, threads = 0;
    double scale = 1.0;
    gboolean json = FALSE;
    GOptionEntry entries[] = {
        {"layout", 'l', 0, G_OPTION_ARG_STRING, &layout, "Dataset layout: cvusa, cvact, vigor or university", "NAME"},
        {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Output folder (the dataset root)", "DIR"},
        {"seed", 's', 0, G_OPTION_ARG_INT64, &seed, "World seed (default 1); same seed, same bytes", "N"},
        {"locations", 'n', 0, G_OPTION_ARG_INT, &locations,
         "Panoramas (cvusa, cvact, vigor: split over 4 cities) or building classes (university); default 200", "N"},
        {"image-scale", 0, 0, G_OPTION_ARG_DOUBLE, &scale,
         "Multiply image sides (1.0: satellite 128², CVUSA panorama 64×352, CVACT/VIGOR 128×256)", "F"},
        {"origin", 0, 0, G_OPTION_ARG_STRING, &origin, "Region centre (default 48.137,11.575)", "LAT,LON"},
        {"threads", 'j', 0, G_OPTION_ARG_INT, &threads, "Render threads (default: all processors)", "N"},
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "Print a JSON summary", NULL},
        {NULL},
    };
    if (!s4g_cli_parse("synth", NULL,
                       "build a deterministic synthetic region and write it as a CVUSA, CVACT, VIGOR or "
                       "University-1652 dataset, with an MBTiles map of it in DIR/tiles/region.mbtiles",
                       entries, &argc, &argv))
        return 2;
    g_autoptr(GError) error = NULL;
    S4gSynthOptions o;
    s4g_synth_options_init(&o);
    if (argc > 1) {
        fprintf(stderr, "s4g synth: unexpected argument “%s”\n", argv[1]);
        return 2;
    }
    if (!layout) {
        fprintf(stderr, "s4g synth: --layout is required (cvusa, cvact, vigor or university)\n");
        return 2;
    }
    if (!s4g_synth_layout_parse(layout, &o.layout, &error))
        return s4g_cli_fail("synth", error);
    if (!out) {
        fprintf(stderr, "s4g synth: --out DIR is required\n");
        return 2;
    }
    if (seed < 0) {
        fprintf(stderr, "s4g synth: --seed must not be negative\n");
        return 2;
    }
    if (origin) {
        g_auto(GStrv) parts = g_strsplit(origin, ",", -1);
        char *e1 = NULL, *e2 = NULL;
        if (g_strv_length(parts) != 2 || (o.origin_lat = g_ascii_strtod(g_strstrip(parts[0]), &e1), *e1) ||
            e1 == parts[0] || (o.origin_lon = g_ascii_strtod(g_strstrip(parts[1]), &e2), *e2) || e2 == parts[1]) {
            fprintf(stderr, "s4g synth: --origin: expected LAT,LON, got “%s”\n", origin);
            return 2;
        }
        o.origin_set = TRUE;
    }
    o.out_dir = out;
    o.seed = (uint64_t)seed;
    o.locations = locations;
    o.image_scale = scale;
    o.threads = threads;
    Progress p = {.enabled = !json};
    o.progress = on_progress;
    o.progress_data = &p;
    gint64 t0 = g_get_monotonic_time();
    S4gSynthSummary s;
    gboolean ok = s4g_synth_run(&o, &s, &error);
    if (p.bar)
        s4g_progress_finish(p.bar);
    g_free(p.stage);
    if (!ok)
        return s4g_cli_fail("synth", error);
    double secs = (g_get_monotonic_time() - t0) / 1e6;
    if (json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        s4g_json_add_string(b, "layout", s4g_synth_layout_name(o.layout));
        s4g_json_add_string(b, "out", out);
        s4g_json_add_int(b, "seed", seed);
        s4g_json_add_int(b, "ground_images", s.ground_images);
        s4g_json_add_int(b, "satellite_images", s.satellite_images);
        s4g_json_add_int(b, "drone_images", s.drone_images);
        s4g_json_add_int(b, "tiles", s.tiles);
        s4g_json_add_double(b, "region_side_m", s.region_side_m);
        s4g_json_add_double(b, "seconds", secs);
        json_builder_end_object(b);
        s4g_json_print(b, stdout);
    } else
        printf("%s dataset in %s: %d ground, %d satellite, %d drone images, %d map tiles; region %.0f m; %.1f s\n",
               s4g_synth_layout_name(o.layout), out, s.ground_images, s.satellite_images, s.drone_images, s.tiles,
               s.region_side_m, secs);
    return 0;
}
