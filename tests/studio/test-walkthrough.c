/* test-walkthrough.c — a user's walk through the real Studio with real X input.
 *
 * A small `s4g demo` project is made, then the built s4g-studio runs on it as its own process
 * and is driven only through XTest (xdotool): a mouse click on a photo of the grid, Alt+P
 * (Predict All), Alt+2 (Hard Negatives), typing a note and Ctrl+B (flag bad pair), Ctrl+T
 * (Train), Alt+S (Start), Alt+C (Cancel Run), Escape and Ctrl+Q.  Nothing inside the app is
 * called: each step is checked by what the app leaves behind in the project's database
 * (opened read-only) and by a screenshot of the window that must not be blank (and must differ
 * from the one before where the view changes).  The screenshots (walkthrough-*.png in
 * S4G_SCREENSHOT_DIR) are the README's pictures.  Runs on a 1280×1024 screen so that the
 * training window (820×980) fits. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>

static char *tmp, *project, *shots;

static char *run_capture(const char *const *argv)
{
    g_autofree char *out = NULL, *err = NULL;
    int status = 0;
    g_autoptr(GError) error = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                               &err, &status, &error));
    g_assert_no_error(error);
    if (!g_spawn_check_wait_status(status, NULL))
        g_error("%s %s failed (status %d):\n%s\n%s", argv[0], argv[1] ? argv[1] : "", status, out,
                err);
    return g_steal_pointer(&out);
}

/* xdotool with the given arguments (NULL-terminated), its output dropped. */
static void xdo(const char *first, ...)
{
    const char *argv[16] = {"xdotool", first};
    guint n = 2;
    va_list ap;
    va_start(ap, first);
    for (const char *a; (a = va_arg(ap, const char *)) && n < G_N_ELEMENTS(argv) - 1;)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    g_free(run_capture(argv));
}

static void key(const char *keys)
{
    xdo("key", "--delay", "60", keys, NULL);
    g_usleep(G_USEC_PER_SEC / 2);
}

static void click(int x, int y)
{
    g_autofree char *xs = g_strdup_printf("%d", x), *ys = g_strdup_printf("%d", y);
    xdo("mousemove", "--sync", xs, ys, NULL);
    g_usleep(G_USEC_PER_SEC / 5);
    xdo("click", "1", NULL);
    g_usleep(G_USEC_PER_SEC / 2);
}

/* One integer from the project's database, opened read-only for each query. */
static gint64 db_int(const char *sql)
{
    g_autofree char *file = g_build_filename(project, "project.s4g", NULL);
    sqlite3 *db = NULL;
    g_assert_cmpint(sqlite3_open_v2(file, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        g_error("%s: %s", sql, sqlite3_errmsg(db));
    int rc = sqlite3_step(st);
    gint64 v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* Waits (at most `seconds`) until `sql` gives at least `want`; returns its last value. */
static gint64 wait_db(const char *sql, gint64 want, double seconds)
{
    gint64 v = db_int(sql);
    for (gint64 end = g_get_monotonic_time() + (gint64)(seconds * G_USEC_PER_SEC);
         v < want && g_get_monotonic_time() < end; v = db_int(sql))
        g_usleep(G_USEC_PER_SEC / 4);
    return v;
}

/* Mean level (0..1) of a PNG. */
static double mean_of(const char *png)
{
    const char *measure[] = {"convert", png, "-format", "%[fx:mean]", "info:", NULL};
    g_autofree char *m = run_capture(measure);
    return g_ascii_strtod(m, NULL);
}

/* A screenshot of the X window `win` as `name`; fails when it is blank (mean level < 2 %). */
static char *shot(const char *win, const char *name)
{
    g_usleep(3 * G_USEC_PER_SEC / 2); /* the map's fit animation ends, the last frame drawn */
    char *png = g_build_filename(shots, name, NULL);
    const char *imp[] = {"import", "-window", win, png, NULL};
    g_free(run_capture(imp));
    double mean = mean_of(png);
    g_test_message("%s: mean level %.3f", name, mean);
    g_assert_cmpfloat(mean, >=, 0.02);
    return png;
}

/* The share of pixels that differ between two screenshots (by more than 10 %). */
static double changed(const char *a, const char *b)
{
    const char *cmp[] = {"convert", a, b, "-compose", "difference", "-composite", "-colorspace",
                         "gray", "-threshold", "10%", "-format", "%[fx:mean]", "info:", NULL};
    g_autofree char *m = run_capture(cmp);
    double d = g_ascii_strtod(m, NULL);
    g_test_message("%s -> %s: %.3f of the pixels changed", a, b, d);
    return d;
}

/* The first visible window of process `pid` whose name contains `name`, waiting for it. */
static char *find_window(GPid pid, const char *name)
{
    g_autofree char *pidstr = g_strdup_printf("%d", (int)pid);
    const char *search[] = {"timeout", "60", "xdotool", "search", "--sync", "--all", "--onlyvisible",
                            "--pid", pidstr, "--name", name, NULL};
    g_autofree char *wins = run_capture(search);
    g_assert_true(g_ascii_isdigit(wins[0]));
    return g_strndup(wins, strspn(wins, "0123456789"));
}

/* Counts of the demo's region gallery (the search space the Studio opens with). */
#define REGION_PREDICTED "SELECT count(DISTINCT image) FROM predictions WHERE gallery = 'region/*'"
#define FIRST_PREDICTED                                                                            \
    "SELECT count(*) FROM predictions p JOIN images i ON i.id = p.image "                          \
    "WHERE p.gallery = 'region/*' AND i.path LIKE '%/0000001.jpg'"

/* Without a window manager both windows sit at 0,0 at their default sizes (main 1280×800,
 * training 820×980), so these positions are stable; each is checked by its effect. */
enum {
    FIRST_PHOTO_X = 75, FIRST_PHOTO_Y = 412, /* 0000001.jpg, the grid's first cell */
    ANCHOR_X = 70, ANCHOR_Y = 225,           /* the first anchor: the tile of 0000001.jpg */
    NOTE_X = 1104, NOTE_Y = 352,             /* the Note field (Hard Negatives side panel) */
    BATCH_X = 700, BATCH_Y = 296,            /* the training form's batch size */
};

static void test_walkthrough(void)
{
    const char *s4g = g_getenv("S4G_PROGRAM");
    const char *studio = g_getenv("S4G_STUDIO_PROGRAM");
    g_assert_nonnull(s4g);
    g_assert_nonnull(studio);
    g_autoptr(GError) error = NULL;
    tmp = g_dir_make_tmp("s4g-walkthrough-XXXXXX", &error);
    g_assert_no_error(error);
    g_autofree char *dir = g_build_filename(tmp, "demo", NULL);
    project = g_build_filename(dir, "project", NULL);
    shots = g_strdup(g_getenv("S4G_SCREENSHOT_DIR") ? g_getenv("S4G_SCREENSHOT_DIR") : tmp);
    g_mkdir_with_parents(shots, 0755);

    const char *demo[] = {s4g, "demo", "--project", dir, "--locations", "48", "--epochs", "2",
                          "--batch", "16", "--gallery-stride", "24", "--backend", "cpu", NULL};
    g_free(run_capture(demo));
    gint64 photos = db_int("SELECT count(*) FROM images WHERE view = 'ground'");
    gint64 stored = db_int(REGION_PREDICTED);
    g_test_message("demo: %" G_GINT64_FORMAT " photos, %" G_GINT64_FORMAT " predicted", photos,
                   stored);
    g_assert_cmpint(stored, >, 0);
    g_assert_cmpint(stored, <, photos);             /* Predict all has work to do */
    g_assert_cmpint(db_int(FIRST_PREDICTED), ==, 0); /* a training photo: not predicted */
    g_assert_cmpint(db_int("SELECT count(*) FROM annotations"), ==, 0);

    /* 1. open */
    const char *argv[] = {studio, project, NULL};
    GPid pid = 0;
    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                &pid, &error));
    g_assert_no_error(error);
    g_autofree char *win = find_window(pid, "Sample4Geo Studio");
    /* the pointer over the side panel's empty top, not the map (no cursor coordinates shown) */
    xdo("mousemove", "--sync", "1100", "150", NULL);
    xdo("windowfocus", "--sync", win, NULL);
    g_usleep(2 * G_USEC_PER_SEC); /* the photos' thumbnails and the map's tiles load */
    g_autofree char *open = shot(win, "walkthrough-1-open.png");
    int status = 0;
    g_assert_cmpint(waitpid(pid, &status, WNOHANG), ==, 0);

    /* 2. a click on the first photo, a training photo without a stored prediction: the app
     * predicts it on demand in the region gallery and stores the prediction */
    click(FIRST_PHOTO_X, FIRST_PHOTO_Y);
    g_assert_cmpint(wait_db(FIRST_PREDICTED, 1, 60), >=, 1);
    g_autofree char *photo = shot(win, "walkthrough-2-photo.png");
    g_assert_cmpfloat(changed(open, photo), >, 0.01);

    /* 3. Predict All (Alt+P): every photo of the filter gets a stored prediction */
    key("alt+p");
    g_assert_cmpint(wait_db(REGION_PREDICTED, photos, 120), ==, photos);
    g_autofree char *all = shot(win, "walkthrough-3-predict-all.png");
    g_assert_cmpfloat(changed(photo, all), >, 0.005); /* the grid's labels gained errors */

    /* 4. Hard Negatives (Alt+2), the selected photo's tile picked from the anchor list */
    key("alt+2");
    click(ANCHOR_X, ANCHOR_Y);
    g_autofree char *neg = shot(win, "walkthrough-4-hard-negatives.png");
    g_assert_cmpfloat(changed(all, neg), >, 0.05);

    /* 5. annotate the selected photo: a note typed into the Note field, then Ctrl+B */
    click(NOTE_X, NOTE_Y);
    xdo("type", "--delay", "40", "walkthrough note", NULL);
    key("ctrl+b");
    g_assert_cmpint(wait_db("SELECT count(*) FROM annotations a JOIN images i ON i.id = a.image "
                            "WHERE a.flag = 'bad-pair' AND a.state = 'open' "
                            "AND a.note = 'walkthrough note' AND i.path LIKE '%/0000001.jpg'",
                            1, 10),
                    ==, 1);
    g_assert_cmpint(db_int("SELECT count(*) FROM annotations"), ==, 1);
    shot(win, "walkthrough-5-annotate.png");

    /* 6. Train (Ctrl+T): batch size 16 typed in (the form offers 37, the demo's training
     * pairs less the one flagged in step 5), Start (Alt+S); after the first evaluation
     * (epoch 4) Cancel Run (Alt+C): the run ends stopped */
    gint64 runs = db_int("SELECT count(*) FROM runs");
    key("ctrl+t");
    g_autofree char *train = find_window(pid, "Train Model");
    xdo("mousemove", "--sync", "400", "400", NULL);
    xdo("windowfocus", "--sync", train, NULL);
    g_usleep(G_USEC_PER_SEC);
    click(BATCH_X, BATCH_Y);
    key("ctrl+a");
    xdo("type", "--delay", "40", "16", NULL);
    key("Tab");
    key("alt+s");
    g_assert_cmpint(wait_db("SELECT count(*) FROM runs", runs + 1, 30), ==, runs + 1);
    g_assert_cmpint(db_int("SELECT json_extract(config, '$.batch_size') FROM runs ORDER BY id DESC "
                           "LIMIT 1"),
                    ==, 16);
    g_assert_cmpint(wait_db("SELECT count(*) FROM evaluations WHERE run = (SELECT max(id) FROM "
                            "runs)",
                            1, 180),
                    >=, 1);
    key("alt+c");
    g_assert_cmpint(wait_db("SELECT state = 'stopped' FROM runs ORDER BY id DESC LIMIT 1", 1, 60),
                    ==, 1);
    g_assert_cmpint(db_int("SELECT count(*) FROM metrics WHERE run = (SELECT max(id) FROM runs)"),
                    >=, 4); /* the steps of four epochs were logged (two each: 37 pairs, batch 16) */
    shot(train, "walkthrough-6-train.png");

    /* 7. close: Escape closes the training window, Ctrl+Q quits; the app exits cleanly */
    key("Escape");
    xdo("mousemove", "--sync", "1100", "400", NULL);
    xdo("windowfocus", "--sync", win, NULL);
    key("ctrl+q");
    for (int i = 0; i < 100 && waitpid(pid, &status, WNOHANG) == 0; i++)
        g_usleep(G_USEC_PER_SEC / 10);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", tmp);
    g_assert_cmpint(system(rm), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/studio/walkthrough", test_walkthrough);
    return g_test_run();
}
