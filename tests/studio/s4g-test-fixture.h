/* s4g-test-fixture.h — builds small but real projects for the Studio tests: a store with a
 * dataset, ground photos and satellite tiles written as PNGs by libvips, positive pairs, a
 * model with top-k predictions (ranks from 0, as s4g predict writes them), a mining run with
 * hard negatives, and a 5-tile MBTiles file in the dataset root's tiles/. */
#pragma once

#include <glib.h>

#define FIX_PHOTOS 4
#define FIX_K 3
#define FIX_NEGATIVES 5

/* Solid-colour PNG of w×h. */
void fix_write_png(const char *path, int w, int h, guint8 r, guint8 g, guint8 b);
/* MBTiles with zoom 0..1: z0 grey, z1 tiles (x,y) red (0,0), green (1,0), blue (0,1),
 * yellow (1,1) in XYZ order, stored TMS-flipped. */
void fix_write_mbtiles(const char *path);
/* The project in a new temporary folder; returns its path (g_free). */
char *fix_make_project(void);
/* Ground photo i's true location and its rank-r candidate location (r = 1..FIX_K). */
void fix_photo_location(int i, double *lat, double *lon);
void fix_candidate_location(int i, int r, double *lat, double *lon);
/* Adds n extra ground photos (all pointing at small real PNGs) for the load-time test. */
void fix_add_many_photos(const char *dir, int n);
/* Renders `window` (a GtkWidget*) to <$S4G_SCREENSHOT_DIR>/<name> (PNG). */
void fix_screenshot(gpointer window, const char *name);
/* Runs the main loop for `ms` milliseconds without blocking. */
void fix_spin(int ms);

/* CPU seconds this process has used (all its threads) and that its waited-for children have
 * used: what performance checks compare, since wall-clock time depends on what else runs on
 * the machine while CPU time hardly does. */
double fix_cpu_seconds(void);
double fix_children_cpu_seconds(void);
/* Iterates the main loop until `widget` (a GtkWidget*) is mapped and laid out (at most 5 s). */
void fix_wait_drawn(gpointer widget);
/* Runs `$S4G_PROGRAM args` and fails the test with its output unless it succeeds. */
void fix_run_s4g(const char *args);
/* A tiny CVUSA world (40 places, seed 3, half-size images) synthesised under `dir` and imported
 * as dataset "tiny" into the project it returns (g_free), for tests that train for real. */
char *fix_make_tiny_trainable_project(const char *dir);
/* A registered, non-unique AdwApplication "<app id>.<suffix>" with the Studio's resources (for
 * widget tests; call after gtk_init() and adw_init()); returns an AdwApplication*. */
gpointer fix_make_app(const char *suffix);
/* Frame work on a GdkFrameClock (before-paint → after-paint), summed over frames. */
typedef struct {
    gint64 start, total;
    int frames;
} FixFrameTimes;
/* Connects `ft` to `clock` (a GdkFrameClock*); returns the two handler ids in `ids`. */
void fix_frame_times_connect(gpointer clock, FixFrameTimes *ft, gulong ids[2]);
/* How many annotations the project in `dir` holds for `image` (read from its store). */
guint fix_count_annotations(const char *dir, gint64 image);
/* Initialise libvips once per test program. */
void fix_init(const char *argv0);
