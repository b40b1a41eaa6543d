/* test-gallery-align.c — a gallery cut from s4g synth's MBTiles (s4g_tilegrid_cut at the
 * finest zoom, patches of the 80 m satellite footprint resized to the training size) shows
 * what the CVUSA-layout satellite image of the same place shows: north-up, same scale, same
 * centre to within half the grid stride.  The patch nearest each location is much closer in
 * pixels to that location's satellite image than to another location's, and closer than its
 * own upside-down copy. */
#include "s4g-geo.h"
#include "s4g-image.h"
#include "s4g-mbtiles.h"
#include "s4g-synth.h"
#include "s4g-tilegrid.h"

#include <glib/gstdio.h>
#include <math.h>

static double mad(const S4gImage *a, const S4gImage *b)
{
    g_assert_cmpint(a->width, ==, b->width);
    g_assert_cmpint(a->height, ==, b->height);
    double s = 0;
    gsize n = (gsize)a->width * a->height * 3;
    for (gsize i = 0; i < n; i++)
        s += fabs((double)a->data[i] - b->data[i]);
    return s / n;
}

static S4gImage *flip_rows(const S4gImage *im)
{
    S4gImage *o = s4g_image_new(im->width, im->height);
    for (int y = 0; y < im->height; y++)
        memcpy(o->data + (gsize)y * im->width * 3,
               im->data + (gsize)(im->height - 1 - y) * im->width * 3, (gsize)im->width * 3);
    return o;
}

static void test_align(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("s4g-galign-XXXXXX", &error);
    g_assert_no_error(error);
    S4gSynthOptions o;
    s4g_synth_options_init(&o);
    o.layout = S4G_SYNTH_CVUSA;
    o.out_dir = dir;
    o.locations = 24;
    o.image_scale = 0.5;
    o.threads = 2;
    o.seed = 7;
    g_assert_true(s4g_synth_run(&o, NULL, &error));
    g_assert_no_error(error);
    g_autofree char *tiles = g_build_filename(dir, "tiles", "region.mbtiles", NULL);
    g_autoptr(S4gMbtiles) mb = s4g_mbtiles_open(tiles, &error);
    g_assert_no_error(error);
    int z = s4g_mbtiles_get_max_zoom(mb);
    double b[4];
    g_assert_true(s4g_mbtiles_get_bounds(mb, b));
    /* as s4g gallery --footprint 80 */
    double mpp = 156543.03392804097 * cos((b[1] + b[3]) / 2 * G_PI / 180) / (double)(1 << z);
    int pw = (int)lround(80.0 / mpp), stride = 8;
    g_autofree char *gdir = g_build_filename(dir, "gallery", NULL);
    g_autoptr(GArray) patches = s4g_tilegrid_cut(mb, z, pw, pw, stride, gdir, &error);
    g_assert_no_error(error);
    g_assert_nonnull(patches);
    /* locations: split_locations/all.csv row id−1 */
    g_autofree char *csv = g_build_filename(dir, "split_locations", "all.csv", NULL);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(csv, &text, NULL, &error));
    g_auto(GStrv) rows = g_strsplit(text, "\n", -1);
    int n = 0;
    double match = 0, other = 0, flipped = 0, worst_offset = 0;
    int wins = 0;
    for (int i = 0; rows[i] && *rows[i]; i++) {
        g_auto(GStrv) f = g_strsplit(rows[i], ",", -1);
        double lat = g_ascii_strtod(f[0], NULL), lon = g_ascii_strtod(f[1], NULL);
        guint best = 0;
        double bd = INFINITY;
        for (guint j = 0; j < patches->len; j++) {
            const S4gTilePatch *p = &g_array_index(patches, S4gTilePatch, j);
            double d = s4g_geo_haversine_m(lat, lon, p->lat, p->lon);
            if (d < bd) bd = d, best = j;
        }
        worst_offset = MAX(worst_offset, bd);
        g_autofree char *sp = g_strdup_printf("%s/bingmap/19/%07d.jpg", dir, i + 1);
        g_autoptr(S4gImage) sat = s4g_image_load(sp, &error);
        g_assert_no_error(error);
        /* the patch of this place, and that of a place at least 150 m away */
        const S4gTilePatch *p = &g_array_index(patches, S4gTilePatch, best);
        const S4gTilePatch *q = NULL;
        for (guint j = 0; j < patches->len && !q; j += 97) {
            const S4gTilePatch *c = &g_array_index(patches, S4gTilePatch, j);
            if (s4g_geo_haversine_m(lat, lon, c->lat, c->lon) > 150) q = c;
        }
        g_assert_nonnull(q);
        g_autofree char *pp = g_build_filename(gdir, p->file, NULL);
        g_autofree char *qp = g_build_filename(gdir, q->file, NULL);
        g_autoptr(S4gImage) pi = s4g_image_load(pp, &error);
        g_autoptr(S4gImage) qi = s4g_image_load(qp, &error);
        g_assert_no_error(error);
        g_autoptr(S4gImage) pr = s4g_image_resize(pi, sat->width, sat->height);
        g_autoptr(S4gImage) qr = s4g_image_resize(qi, sat->width, sat->height);
        g_autoptr(S4gImage) pf = flip_rows(pr);
        double m = mad(pr, sat), ot = mad(qr, sat), fl = mad(pf, sat);
        match += m, other += ot, flipped += fl;
        wins += m < ot && m < fl;
        n++;
    }
    match /= n, other /= n, flipped /= n;
    g_test_message("%d places, %u patches of %d px at z%d: mean abs difference %.1f (own patch), "
                   "%.1f (another place), %.1f (own, upside down); nearest centre ≤ %.1f m",
                   n, patches->len, pw, z, match, other, flipped, worst_offset);
    g_assert_cmpint(n, ==, 24);
    /* the grid: centres every 8 px ≈ 6.4 m, so the nearest is within half a diagonal */
    g_assert_cmpfloat(worst_offset, <=, stride * mpp * M_SQRT1_2 + 0.5);
    g_assert_cmpfloat(match, <, 0.6 * other);
    g_assert_cmpfloat(match, <, 0.7 * flipped);
    g_assert_cmpint(wins, >=, 22);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/gallery/align-with-satellite", test_align);
    return g_test_run();
}
