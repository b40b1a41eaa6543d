/* test-busy.c — opening a project that needs a write on open (here: a run left by a dead
 * trainer, to be marked interrupted) while another process holds its write lock (an import or
 * a training run writing): s4g_window_open_project returns within a second instead of
 * blocking the main thread, the window keeps repainting and answering actions while the lock
 * is held, a toast says the project is busy and retried, and once the other process commits
 * the project opens by itself (its photos shown). */
#include "s4g-store-private.h"
#include "s4g-store-runs.h"
#include "s4g-test-fixture.h"
#include "s4g-project.h"
#include "s4g-window.h"

#include <adwaita.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static AdwApplication *app;
static char *dir;
static pid_t writer;
static int to_writer[2], from_writer[2];

/* The other process: takes the write lock (plain SQLite: an s4g open would sweep the run
 * below itself), says so, holds it until told to commit. */
static void writer_main(void)
{
    g_autofree char *db_path = g_build_filename(dir, "project.s4g", NULL);
    sqlite3 *db = NULL;
    if (sqlite3_open(db_path, &db) != SQLITE_OK ||
        sqlite3_exec(db, "BEGIN IMMEDIATE; INSERT INTO runs (config, state) VALUES ('{}', 'done')",
                     NULL, NULL, NULL) != SQLITE_OK)
        _exit(1);
    char c = 'L';
    if (write(from_writer[1], &c, 1) != 1) _exit(1);
    if (read(to_writer[0], &c, 1) != 1) _exit(1);
    _exit(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : 1);
}

static gboolean tick(GtkWidget *w, GdkFrameClock *clock, gpointer data)
{
    (*(guint *)data)++;
    return G_SOURCE_CONTINUE;
}

static gboolean beat(gpointer data)
{
    gint64 *last_and_gap = data, now = g_get_monotonic_time();
    if (last_and_gap[0]) last_and_gap[1] = MAX(last_and_gap[1], now - last_and_gap[0]);
    last_and_gap[0] = now;
    return G_SOURCE_CONTINUE;
}

static void test_open_while_busy(void)
{
    char c;
    g_assert_cmpint(read(from_writer[0], &c, 1), ==, 1); /* the writer holds the lock */
    S4gWindow *win = s4g_window_new(GTK_APPLICATION(app));
    gtk_window_set_default_size(GTK_WINDOW(win), 1000, 700);
    gtk_window_present(GTK_WINDOW(win));
    fix_spin(200);

    g_autoptr(GError) error = NULL;
    gint64 t0 = g_get_monotonic_time();
    g_assert_true(s4g_window_open_project(win, dir, &error));
    g_assert_no_error(error);
    gint64 blocked = g_get_monotonic_time() - t0;
    g_test_message("open returned after %.2f s with the lock held", blocked / 1e6);
    g_assert_cmpint(blocked, <, G_USEC_PER_SEC);
    g_assert_null(s4g_window_get_project(win));
    g_assert_nonnull(strstr(s4g_window_get_last_toast(win), "busy"));

    /* 2 s with the lock held: the main loop runs (a 50 ms timer never waits long), the window
     * repaints, and an action answers */
    guint frames = 0;
    guint id = gtk_widget_add_tick_callback(GTK_WIDGET(win), tick, &frames, NULL);
    gint64 beats[2] = {0, 0};
    guint timer = g_timeout_add(50, beat, beats);
    fix_spin(2000);
    g_source_remove(timer);
    gtk_widget_remove_tick_callback(GTK_WIDGET(win), id);
    g_test_message("lock held 2 s: %u frames, longest main-loop gap %.0f ms", frames,
                   beats[1] / 1e3);
    g_assert_cmpuint(frames, >=, 10);
    g_assert_cmpint(beats[1], <, 1000 * 1000); /* blocked, it would be the whole 2 s */
    GtkStack *views = GTK_STACK(s4g_window_get_view_stack(win));
    g_assert_true(gtk_widget_activate_action(GTK_WIDGET(win), "win.show-view", "s", "negatives"));
    fix_spin(50);
    g_assert_cmpstr(gtk_stack_get_visible_child_name(views), ==, "negatives");
    g_assert_true(gtk_widget_activate_action(GTK_WIDGET(win), "win.show-view", "s", "photos"));
    fix_spin(50);
    g_assert_cmpstr(gtk_stack_get_visible_child_name(views), ==, "photos");
    g_assert_null(s4g_window_get_project(win));

    /* the writer commits: the project opens by itself */
    c = 'C';
    g_assert_cmpint(write(to_writer[1], &c, 1), ==, 1);
    int status = 0;
    g_assert_cmpint(waitpid(writer, &status, 0), ==, writer);
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
    while (!s4g_window_get_project(win) && g_get_monotonic_time() < deadline) fix_spin(50);
    g_assert_nonnull(s4g_window_get_project(win));
    g_assert_cmpuint(s4g_window_count_visible_photos(win), ==, FIX_PHOTOS);
    /* the open's sweep ran: the dead trainer's run is interrupted */
    S4gStore *st = s4g_project_get_store(s4g_window_get_project(win));
    g_autoptr(sqlite3_stmt) q = s4g_store_prepare(
        st, "SELECT count(*) FROM runs WHERE state = 'interrupted'", NULL);
    g_assert_nonnull(q);
    g_assert_cmpint(sqlite3_step(q), ==, SQLITE_ROW);
    g_assert_cmpint(sqlite3_column_int(q, 0), ==, 1);
    gtk_window_destroy(GTK_WINDOW(win));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    fix_init(argv[0]);
    dir = fix_make_project();
    {
        /* a run whose trainer is gone: the next open marks it interrupted, a write that has to
         * wait for the writer's lock (an up-to-date project with nothing to sweep opens
         * without the lock at all) */
        g_autoptr(GError) error = NULL;
        g_autoptr(S4gStore) s = s4g_store_open(dir, FALSE, &error);
        g_assert_no_error(error);
        g_assert_cmpint(s4g_store_run_add(s, 0, 0, "{}", &error), >, 0);
    }
    /* the writer forks before this process opens the database or starts GTK */
    g_assert_cmpint(pipe(to_writer), ==, 0);
    g_assert_cmpint(pipe(from_writer), ==, 0);
    writer = fork();
    g_assert_cmpint(writer, >=, 0);
    if (writer == 0) writer_main();
    gtk_init();
    adw_init();
    app = fix_make_app("Busy");
    g_test_add_func("/studio/busy/open-while-writing", test_open_while_busy);
    int rc = g_test_run();
    if (rc) kill(writer, SIGKILL);
    return rc;
}
