/* s4g-test-fixture.c — test projects (see the header). */
#include "s4g-test-fixture.h"

#include "s4g-store-annotations.h"
#include "s4g-store-private.h"

#include "s4g-config.h"
#include "s4g-store.h"

#include <adwaita.h>
#include <gtk/gtk.h>

#include <glib/gstdio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <vips/vips.h>

void fix_init(const char *argv0)
{
    g_assert_cmpint(VIPS_INIT(argv0), ==, 0);
}

void fix_write_png(const char *path, int w, int h, guint8 r, guint8 g, guint8 b)
{
    g_autofree guint8 *px = g_malloc((gsize)w * h * 3);
    for (int i = 0; i < w * h; i++) {
        px[3 * i] = r;
        px[3 * i + 1] = g;
        px[3 * i + 2] = b;
    }
    VipsImage *img =
        vips_image_new_from_memory_copy(px, (size_t)w * h * 3, w, h, 3, VIPS_FORMAT_UCHAR);
    g_assert_nonnull(img);
    g_assert_cmpint(vips_pngsave(img, path, NULL), ==, 0);
    g_object_unref(img);
}

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        g_error("fixture SQL failed: %s: %s", sql, msg);
}

void fix_write_mbtiles(const char *path)
{
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
    exec_ok(db, "PRAGMA application_id = 0x4d504258;"
                "CREATE TABLE metadata (name text, value text);"
                "CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer,"
                " tile_data blob);"
                "CREATE UNIQUE INDEX tile_index on tiles (zoom_level, tile_column, tile_row);"
                "INSERT INTO metadata VALUES ('name','fixture'),('format','png'),"
                "('minzoom','0'),('maxzoom','1'),('bounds','-180,-85,180,85'),"
                "('center','10,10,1');");
    const guint8 colours[5][3] = {
        {128, 128, 128}, {255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 0}};
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "INSERT INTO tiles VALUES (?,?,?,?)", -1, &st, NULL);
    for (int t = 0; t < 5; t++) {
        int z = t == 0 ? 0 : 1, x = t == 0 ? 0 : (t - 1) % 2, y = t == 0 ? 0 : (t - 1) / 2;
        g_autofree char *tmp = g_strdup_printf("%s.%d.png", path, t);
        fix_write_png(tmp, 256, 256, colours[t][0], colours[t][1], colours[t][2]);
        gchar *data;
        gsize len;
        g_assert_true(g_file_get_contents(tmp, &data, &len, NULL));
        g_unlink(tmp);
        sqlite3_reset(st);
        sqlite3_bind_int(st, 1, z);
        sqlite3_bind_int(st, 2, x);
        sqlite3_bind_int(st, 3, (1 << z) - 1 - y); /* TMS row */
        sqlite3_bind_blob(st, 4, data, (int)len, g_free);
        g_assert_cmpint(sqlite3_step(st), ==, SQLITE_DONE);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

void fix_photo_location(int i, double *lat, double *lon)
{
    /* far apart, so the markers separate at the fixture's zoom levels 0..1 */
    *lat = 10.0 + 12.0 * i;
    *lon = 10.0 + 25.0 * i;
}

void fix_candidate_location(int i, int r, double *lat, double *lon)
{
    fix_photo_location(i, lat, lon);
    *lat += 2.0 * r * (i + 1);
    *lon -= 6.0 * r;
}

char *fix_make_project(void)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp("s4g-studio-test-XXXXXX", &error);
    g_assert_no_error(error);
    g_autoptr(S4gStore) store = s4g_store_open(dir, TRUE, &error);
    g_assert_no_error(error);
    g_autofree char *root = g_build_filename(dir, "data", NULL);
    g_mkdir_with_parents(root, 0755);
    sqlite3 *db = s4g_store_db(store);
    char *ins = sqlite3_mprintf("INSERT INTO datasets (id, name, kind, root) VALUES "
                                "(1, 'fixture', 'synthetic', %Q);"
                                "INSERT INTO models (id, name, architecture, weights)"
                                " VALUES (1, 'm1', '{}', 'models/m1.safetensors');"
                                "INSERT INTO mining_runs (id, kind, model, dataset, "
                                "epoch) VALUES (1, 'dss', 1, 1, 2);",
                                root);
    exec_ok(db, ins);
    sqlite3_free(ins);
    /* ground photo i = image id 1+i; its satellite tile = 100+i; candidate tiles reuse the
     * satellite images of the other photos (as retrieval over a gallery does). */
    for (int i = 0; i < FIX_PHOTOS; i++) {
        double lat, lon;
        fix_photo_location(i, &lat, &lon);
        g_autofree char *gname = g_strdup_printf("ground-%d.png", i);
        g_autofree char *sname = g_strdup_printf("sat-%d.png", i);
        g_autofree char *gpath = g_build_filename(root, gname, NULL);
        g_autofree char *spath = g_build_filename(root, sname, NULL);
        fix_write_png(gpath, 64, 32, 40 * i, 200, 100);
        fix_write_png(spath, 32, 32, 200, 40 * i, 60);
        g_autofree char *sql = g_strdup_printf(
            "INSERT INTO images (id, dataset, view, path, split, lat, lon) VALUES "
            "(%d, 1, 'ground', '%s', '%s', %.6f, %.6f), (%d, 1, 'satellite', '%s', 'test', "
            "%.6f, %.6f);"
            "INSERT INTO pairs (dataset, ground, satellite, relation, split) VALUES "
            "(1, %d, %d, 'positive', 'test');",
            1 + i, gname, i % 2 ? "train" : "test", lat, lon, 100 + i, sname, lat, lon, 1 + i,
            100 + i);
        exec_ok(db, sql);
    }
    for (int i = 0; i < FIX_PHOTOS; i++)
        for (int r = 1; r <= FIX_K; r++) {
            double lat, lon;
            fix_candidate_location(i, r, &lat, &lon);
            g_autofree char *sql = g_strdup_printf(
                "INSERT INTO predictions (model, image, rank, reference, score, lat, lon) VALUES "
                "(1, %d, %d, %d, %.3f, %.6f, %.6f);",
                1 + i, r - 1 /* 0-based, as s4g predict writes */, 100 + (i + r) % FIX_PHOTOS,
                0.9 - 0.1 * r, lat, lon);
            exec_ok(db, sql);
        }
    /* Mining run 1: anchor photo 1 and 2, each with FIX_NEGATIVES negatives drawn from the
     * satellite images that are not its own. */
    for (int a = 0; a < 2; a++)
        for (int r = 1; r <= FIX_NEGATIVES; r++) {
            g_autofree char *sql = g_strdup_printf(
                "INSERT INTO hard_negatives (mining_run, anchor, rank, negative, score) VALUES "
                "(1, %d, %d, %d, %.3f);",
                1 + a, r, 100 + (a + 1 + (r - 1) % (FIX_PHOTOS - 1)) % FIX_PHOTOS, 0.8 - 0.05 * r);
            exec_ok(db, sql);
        }
    /* where s4g synth puts it: <dataset root>/tiles (the project's own tiles/ stays empty) */
    g_autofree char *tiles_dir = g_build_filename(root, "tiles", NULL);
    g_mkdir_with_parents(tiles_dir, 0755);
    g_autofree char *tiles = g_build_filename(tiles_dir, "world.mbtiles", NULL);
    fix_write_mbtiles(tiles);
    return dir;
}

void fix_add_many_photos(const char *dir, int n)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gStore) store = s4g_store_open(dir, FALSE, &error);
    g_assert_no_error(error);
    sqlite3 *db = s4g_store_db(store);
    exec_ok(db, "BEGIN");
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db,
                       "INSERT INTO images (dataset, view, path, split, lat, lon) VALUES "
                       "(1, 'ground', ?, 'train', ?, ?)",
                       -1, &st, NULL);
    for (int i = 0; i < n; i++) {
        /* Distinct rows (paths are UNIQUE), one real file: each name is a symlink. */
        g_autofree char *name = g_strdup_printf("many/p%05d.png", i);
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 2, 10 + (i % 100) * 0.01);
        sqlite3_bind_double(st, 3, 10 + (i / 100) * 0.01);
        g_assert_cmpint(sqlite3_step(st), ==, SQLITE_DONE);
    }
    sqlite3_finalize(st);
    exec_ok(db, "COMMIT");
    g_autofree char *many = g_build_filename(dir, "data", "many", NULL);
    g_mkdir_with_parents(many, 0755);
    g_autofree char *target = g_build_filename(dir, "data", "ground-0.png", NULL);
    for (int i = 0; i < n; i++) {
        g_autofree char *link = g_strdup_printf("%s/p%05d.png", many, i);
        g_assert_cmpint(symlink(target, link), ==, 0);
    }
}

void fix_screenshot(gpointer window, const char *name)
{
    const char *dir = g_getenv("S4G_SCREENSHOT_DIR");
    if (!dir) dir = g_get_tmp_dir();
    g_mkdir_with_parents(dir, 0755);
    gtk_test_widget_wait_for_draw(window); /* a never-drawn window snapshots to nothing */
    GdkPaintable *p = gtk_widget_paintable_new(window);
    int w = gtk_widget_get_width(window), h = gtk_widget_get_height(window);
    GtkSnapshot *snap = gtk_snapshot_new();
    gdk_paintable_snapshot(p, snap, w, h);
    GskRenderNode *node = gtk_snapshot_free_to_node(snap);
    g_assert_nonnull(node);
    GskRenderer *r = gtk_native_get_renderer(GTK_NATIVE(window));
    GdkTexture *t = gsk_renderer_render_texture(r, node, &GRAPHENE_RECT_INIT(0, 0, w, h));
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_assert_true(gdk_texture_save_to_png(t, path));
    g_test_message("screenshot: %s", path);
    g_object_unref(t);
    gsk_render_node_unref(node);
    g_object_unref(p);
}

double fix_cpu_seconds(void)
{
    struct timespec ts;
    g_assert_cmpint(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts), ==, 0);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double fix_children_cpu_seconds(void)
{
    struct rusage ru;
    g_assert_cmpint(getrusage(RUSAGE_CHILDREN, &ru), ==, 0);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void fix_spin(int ms)
{
    gint64 end = g_get_monotonic_time() + ms * 1000;
    while (g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, FALSE);
}

void fix_wait_drawn(gpointer widget)
{
    GtkWidget *w = widget;
    gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while ((!gtk_widget_get_mapped(w) || gtk_widget_get_width(w) == 0) &&
           g_get_monotonic_time() < end)
        g_main_context_iteration(NULL, TRUE);
    g_assert_true(gtk_widget_get_mapped(w));
}

void fix_run_s4g(const char *args)
{
    g_autofree char *cmd = g_strdup_printf("%s %s", g_getenv("S4G_PROGRAM"), args);
    g_autofree char *out = NULL, *err = NULL;
    int status = 0;
    g_autoptr(GError) error = NULL;
    g_assert_true(g_spawn_command_line_sync(cmd, &out, &err, &status, &error));
    g_assert_no_error(error);
    if (!g_spawn_check_wait_status(status, NULL)) g_error("%s failed:\n%s%s", cmd, out, err);
}

char *fix_make_tiny_trainable_project(const char *dir)
{
    g_autofree char *world = g_build_filename(dir, "world", NULL);
    char *project = g_build_filename(dir, "project", NULL);
    g_autofree char *synth = g_strdup_printf(
        "synth --layout cvusa --out %s --locations 40 --seed 3 --image-scale 0.5", world);
    fix_run_s4g(synth);
    g_autofree char *import =
        g_strdup_printf("import --project %s --kind cvusa --name tiny %s", project, world);
    fix_run_s4g(import);
    return project;
}

gpointer fix_make_app(const char *suffix)
{
    g_autofree char *id = g_strdup_printf("%s.%s", S4G_APP_ID, suffix);
    AdwApplication *app =
        g_object_new(ADW_TYPE_APPLICATION, "application-id", id, "flags", G_APPLICATION_NON_UNIQUE,
                     "resource-base-path", "/org/sample4geo/Studio", NULL);
    g_assert_true(g_application_register(G_APPLICATION(app), NULL, NULL));
    return app;
}

static void frame_before_paint(GdkFrameClock *c, FixFrameTimes *ft)
{
    (void)c;
    ft->start = g_get_monotonic_time();
}

static void frame_after_paint(GdkFrameClock *c, FixFrameTimes *ft)
{
    (void)c;
    if (!ft->start) return;
    ft->total += g_get_monotonic_time() - ft->start;
    ft->frames++;
    ft->start = 0;
}

void fix_frame_times_connect(gpointer clock, FixFrameTimes *ft, gulong ids[2])
{
    ids[0] = g_signal_connect(clock, "before-paint", G_CALLBACK(frame_before_paint), ft);
    ids[1] = g_signal_connect(clock, "after-paint", G_CALLBACK(frame_after_paint), ft);
}

guint fix_count_annotations(const char *dir, gint64 image)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gStore) store = s4g_store_open(dir, FALSE, &error);
    g_assert_no_error(error);
    g_autoptr(GPtrArray) a = s4g_store_annotations_for_image(store, image, &error);
    g_assert_no_error(error);
    return a->len;
}
