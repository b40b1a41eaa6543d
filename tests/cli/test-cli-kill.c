/* test-cli-kill.c — crash consistency of embed, mine, import and gallery (issue 17), like
 * cli-crash for train: each command is killed with SIGKILL at a chosen point by the test-only
 * hook S4G_TEST_KILL_AT (s4g-test-kill.h: mid-way — after N batches encoded, N image rows
 * written, N patches cut — and inside the final transaction, after the rows and the gallery's
 * folder rename, before COMMIT).  Then: the next open passes PRAGMA integrity_check, shows
 * nothing half-recorded (no dataset, mining run or gallery of the killed command; embeddings
 * only of whole committed batches), has removed the leftovers (a gallery's cut folder, or its
 * unrecorded folder renamed into place), and the same command run again succeeds with results
 * equal to an uninterrupted run's: the same image rows, hard negatives, gallery patches (byte
 * for byte) and embeddings (within 1e-5: a resumed embed encodes in other batches). */
#include "s4g-store-private.h"

#include <gio/gio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "../compute/s4g-test-files.h"
#include "../store/s4g-store-test.h"

static const char *s4g_path;
static char *tmp, *world, *mbt, *base, *ref;

/* Runs argv (NULL-terminated, argv[0] the program) with S4G_TEST_KILL_AT=kill_at and asserts
 * that it was killed by SIGKILL. */
static void run_killed(const char *const *argv, const char *kill_at)
{
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(
        G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
    g_subprocess_launcher_setenv(l, "S4G_TEST_KILL_AT", kill_at, TRUE);
    g_autoptr(GError) error = NULL;
    g_autoptr(GSubprocess) p = g_subprocess_launcher_spawnv(l, argv, &error);
    g_assert_no_error(error);
    g_assert_true(g_subprocess_wait(p, NULL, &error));
    int status = g_subprocess_get_status(p);
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
        g_error("%s %s with S4G_TEST_KILL_AT=%s was not killed (status %d)", argv[1], argv[2],
                kill_at, status);
}

/* Runs argv killed at kill_at, or (NULL) to the end, asserting success. */
static void run(const char *const *argv, const char *kill_at)
{
    if (kill_at)
        run_killed(argv, kill_at);
    else
        g_free(tf_run_ok(argv));
}

/* Copies a folder tree (files and folders). */
static void copy_tree(const char *from, const char *to)
{
    g_assert_cmpint(g_mkdir_with_parents(to, 0755), ==, 0);
    g_autoptr(GDir) d = g_dir_open(from, 0, NULL);
    g_assert_nonnull(d);
    for (const char *n; (n = g_dir_read_name(d));) {
        g_autofree char *a = g_build_filename(from, n, NULL);
        g_autofree char *b = g_build_filename(to, n, NULL);
        if (g_file_test(a, G_FILE_TEST_IS_DIR)) {
            copy_tree(a, b);
            continue;
        }
        g_autofree char *text = NULL;
        gsize len = 0;
        g_assert_true(g_file_get_contents(a, &text, &len, NULL));
        g_assert_true(g_file_set_contents(b, text, (gssize)len, NULL));
    }
}

/* Every row of `sql`, columns as text, one line per row. */
static char *dump(S4gStore *s, const char *sql)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(s, sql, NULL);
    g_assert_nonnull(st);
    GString *out = g_string_new(NULL);
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const char *t = (const char *)sqlite3_column_text(st, c);
            g_string_append_printf(out, "%s%s", c ? "|" : "", t ? t : "NULL");
        }
        g_string_append_c(out, '\n');
    }
    return g_string_free(out, FALSE);
}

static S4gStore *open_checked(const char *proj)
{
    g_autoptr(GError) error = NULL;
    S4gStore *s = s4g_store_open(proj, FALSE, &error);
    g_assert_no_error(error);
    g_assert_cmpint(count(s, "SELECT count(*) FROM pragma_integrity_check WHERE "
                             "integrity_check != 'ok'"),
                    ==, 0);
    return s;
}

/* Whether `dir` holds an entry whose name contains `part`. */
static gboolean has_entry(const char *dir, const char *part)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    for (const char *n; d && (n = g_dir_read_name(d));)
        if (strstr(n, part)) return TRUE;
    return FALSE;
}

/* The embeddings of `proj` and of the reference, image by image (same dataset rows: image ids
 * match), within 1e-5. */
static void assert_same_embeddings(S4gStore *a, S4gStore *b, const char *where)
{
    g_autofree char *sql = g_strdup_printf("SELECT e.image, e.dim, e.vector FROM embeddings e "
                                           "JOIN images i ON i.id = e.image %s ORDER BY e.image",
                                           where);
    g_autoptr(sqlite3_stmt) sa = s4g_store_prepare(a, sql, NULL);
    g_autoptr(sqlite3_stmt) sb = s4g_store_prepare(b, sql, NULL);
    g_assert_nonnull(sa);
    g_assert_nonnull(sb);
    guint n = 0;
    for (;;) {
        int ra = sqlite3_step(sa), rb = sqlite3_step(sb);
        g_assert_cmpint(ra, ==, rb);
        if (ra != SQLITE_ROW) break;
        g_assert_cmpint(sqlite3_column_int64(sa, 0), ==, sqlite3_column_int64(sb, 0));
        int dim = sqlite3_column_int(sa, 1);
        g_assert_cmpint(dim, ==, sqlite3_column_int(sb, 1));
        g_assert_cmpint(sqlite3_column_bytes(sa, 2), ==, dim * 4);
        g_assert_cmpint(sqlite3_column_bytes(sb, 2), ==, dim * 4);
        const float *va = sqlite3_column_blob(sa, 2), *vb = sqlite3_column_blob(sb, 2);
        for (int d = 0; d < dim; d++) g_assert_cmpfloat(fabsf(va[d] - vb[d]), <, 1e-5f);
        n++;
    }
    g_assert_cmpuint(n, >, 0);
}

/* --- the commands, each on project `proj` --------------------------------------------------- */

static void cmd_import(const char *proj, const char *kill_at)
{
    const char *argv[] = {s4g_path, "import", "--project", proj,  "--kind",
                          "cvusa",  "--name", "w",         world, NULL};
    run(argv, kill_at);
}

static void cmd_embed(const char *proj, const char *kill_at)
{
    const char *argv[] = {s4g_path, "embed", "-p",      proj,      "-d",        "w",
                          "-m",     "m",     "--batch", "8",       "--backend", "cpu",
                          "--json",  NULL};
    run(argv, kill_at);
}

static void cmd_mine(const char *proj, gboolean dss, const char *kill_at)
{
    const char *argv[] = {s4g_path, "mine", "-p",    proj,      "-d", "w", "--k", "5", "--json",
                          dss ? "--dss" : "--gps",   "-m",      "m",  "--batch",  "8",
                          "--backend", "cpu",        NULL};
    if (!dss) argv[10] = NULL; /* --gps needs no model */
    run(argv, kill_at);
}

static void cmd_gallery(const char *proj, const char *kill_at)
{
    const char *argv[] = {s4g_path, "gallery", "-p",      proj,   "--tiles",   mbt,
                          "--zoom", "17",      "--stride", "48",  "-m",        "m",
                          "--name", "g",       "--batch",  "8",   "--backend", "cpu",
                          "--json", NULL};
    run(argv, kill_at);
}

static const char *const image_rows =
    "SELECT d.name, i.view, i.path, i.split, i.identity, i.lat, i.lon, i.x, i.y, i.width, "
    "i.height FROM images i JOIN datasets d ON d.id = i.dataset WHERE d.name = 'w' "
    "ORDER BY i.path, i.view";
static const char *const pair_rows =
    "SELECT g.path, s.path, p.relation, p.split FROM pairs p JOIN images g ON g.id = p.ground "
    "JOIN images s ON s.id = p.satellite ORDER BY g.path, s.path";
static void assert_same_rows(S4gStore *a, S4gStore *b, const char *sql)
{
    g_autofree char *da = dump(a, sql), *db = dump(b, sql);
    g_assert_cmpstr(da, ==, db);
    g_assert_cmpuint(strlen(da), >, 0);
}

/* --- the cases -------------------------------------------------------------------------------- */

typedef struct {
    const char *command; /* import, embed, mine-gps, mine-dss, gallery */
    const char *kill_at;
} Case;

static void run_case(const Case *c, const char *proj, const char *kill_at)
{
    if (!strcmp(c->command, "import"))
        cmd_import(proj, kill_at);
    else if (!strcmp(c->command, "embed"))
        cmd_embed(proj, kill_at);
    else if (!strcmp(c->command, "mine-gps"))
        cmd_mine(proj, FALSE, kill_at);
    else if (!strcmp(c->command, "mine-dss"))
        cmd_mine(proj, TRUE, kill_at);
    else
        cmd_gallery(proj, kill_at);
}

static void test_kill(gconstpointer data)
{
    const Case *c = data;
    g_autofree char *name = g_strdup_printf("%s-%s", c->command, c->kill_at);
    g_autofree char *proj = g_build_filename(tmp, name, NULL);
    gboolean import = !strcmp(c->command, "import");
    if (!import) copy_tree(base, proj);
    g_autoptr(S4gStore) before = import ? NULL : open_checked(proj);
    gint64 emb0[2] = {0, 0}; /* embeddings before, of ground and of satellite images */
    for (int v = 0; before && v < 2; v++)
        emb0[v] = count(before, v ? "SELECT count(*) FROM embeddings e JOIN images i ON "
                                    "i.id = e.image WHERE i.view = 'satellite'"
                                  : "SELECT count(*) FROM embeddings e JOIN images i ON "
                                    "i.id = e.image WHERE i.view != 'satellite'");
    g_clear_pointer(&before, s4g_store_close);

    run_case(c, proj, c->kill_at);

    g_autofree char *galleries = g_build_filename(proj, "galleries", NULL);
    g_autofree char *gdir = g_build_filename(galleries, "g", NULL);
    if (!strcmp(c->kill_at, "gallery-patch:5"))
        g_assert_true(has_entry(galleries, ".tmp-")); /* the cut, under its temporary name */
    if (!strcmp(c->kill_at, "gallery-commit:1"))
        g_assert_true(g_file_test(gdir, G_FILE_TEST_IS_DIR)); /* renamed, not recorded */
    {
        /* the next open: whole, nothing half-recorded, leftovers gone */
        g_autoptr(S4gStore) s = open_checked(proj);
        g_assert_false(has_entry(galleries, ".tmp-"));
        if (import) {
            g_assert_cmpint(count(s, "SELECT count(*) FROM datasets"), ==, 0);
            g_assert_cmpint(count(s, "SELECT count(*) FROM images"), ==, 0);
            g_assert_cmpint(count(s, "SELECT count(*) FROM pairs"), ==, 0);
        }
        if (g_str_has_prefix(c->command, "mine")) {
            g_assert_cmpint(count(s, "SELECT count(*) FROM mining_runs WHERE run IS NULL"), ==, 0);
        }
        if (!strcmp(c->command, "embed")) {
            /* whole passes only (ground images, then satellite images): per view, none or all */
            for (int v = 0; v < 2; v++) {
                g_autofree char *e = g_strdup_printf(
                    "SELECT count(*) FROM embeddings e JOIN images i ON i.id = e.image WHERE "
                    "i.view %s 'satellite'", v ? "=" : "!=");
                g_autofree char *all = g_strdup_printf(
                    "SELECT count(*) FROM images WHERE view %s 'satellite'", v ? "=" : "!=");
                gint64 n = count(s, e);
                g_assert_true(n == emb0[v] || n == count(s, all));
            }
        }
        if (!strcmp(c->command, "gallery") && strcmp(c->kill_at, "encode-batch:2")) {
            g_assert_cmpint(count(s, "SELECT count(*) FROM datasets WHERE name = 'g'"), ==, 0);
            g_assert_false(g_file_test(gdir, G_FILE_TEST_EXISTS));
        }
        if (!strcmp(c->kill_at, "encode-batch:2") && !strcmp(c->command, "gallery")) {
            /* recorded, then killed while embedding: the rerun embeds the rest */
            g_assert_cmpint(count(s, "SELECT count(*) FROM datasets WHERE name = 'g'"), ==, 1);
            g_assert_true(g_file_test(gdir, G_FILE_TEST_IS_DIR));
        }
    }

    run_case(c, proj, NULL);

    g_autoptr(S4gStore) s = open_checked(proj);
    g_autoptr(S4gStore) r = open_checked(ref);
    assert_same_rows(s, r,
                     import ? image_rows
                            : "SELECT d.name, i.path, i.lat, i.lon FROM images i JOIN datasets d "
                              "ON d.id = i.dataset WHERE d.name = 'w' ORDER BY i.path, i.view");
    if (import) assert_same_rows(s, r, pair_rows);
    if (!strcmp(c->command, "embed"))
        assert_same_embeddings(s, r, "WHERE i.dataset = (SELECT id FROM datasets WHERE name='w')");
    if (g_str_has_prefix(c->command, "mine")) {
        g_autofree char *sql = g_strdup_printf(
            "SELECT a.path, h.rank, n.path, h.score FROM hard_negatives h JOIN mining_runs m ON "
            "m.id = h.mining_run JOIN images a ON a.id = h.anchor JOIN images n ON "
            "n.id = h.negative WHERE m.run IS NULL AND m.kind = '%s' ORDER BY a.path, h.rank",
            c->command + 5);
        assert_same_rows(s, r, sql);
        g_assert_cmpint(count(s, "SELECT count(*) FROM mining_runs WHERE run IS NULL"), ==, 1);
    }
    if (!strcmp(c->command, "gallery")) {
        const char *g_rows = "SELECT i.path, i.identity, i.lat, i.lon FROM images i JOIN "
                             "datasets d ON d.id = i.dataset WHERE d.name = 'g' ORDER BY i.path";
        assert_same_rows(s, r, g_rows);
        assert_same_embeddings(s, r, "WHERE i.dataset = (SELECT id FROM datasets WHERE name='g')");
        g_autofree char *rdir = g_build_filename(ref, "galleries", "g", NULL);
        g_autoptr(GDir) d = g_dir_open(rdir, 0, NULL);
        g_assert_nonnull(d);
        guint files = 0;
        for (const char *n; (n = g_dir_read_name(d)); files++) {
            g_autofree char *a = g_build_filename(rdir, n, NULL);
            g_autofree char *b = g_build_filename(gdir, n, NULL);
            g_autofree char *ta = NULL, *tb = NULL;
            gsize la = 0, lb = 0;
            g_assert_true(g_file_get_contents(a, &ta, &la, NULL));
            g_assert_true(g_file_get_contents(b, &tb, &lb, NULL));
            g_assert_true(la == lb && memcmp(ta, tb, la) == 0);
        }
        g_assert_cmpuint(files, ==, count(s, "SELECT count(*) FROM images i JOIN datasets d ON "
                                             "d.id = i.dataset WHERE d.name = 'g'"));
    }
    g_assert_false(has_entry(galleries, ".tmp-"));
}

/* A malformed hook value is refused before the command runs. */
static void test_hook_parse(void)
{
    g_autofree char *proj = g_build_filename(tmp, "hook", NULL);
    const char *argv[] = {s4g_path, "import", "--project", proj, "--kind", "cvusa", world, NULL};
    g_setenv("S4G_TEST_KILL_AT", "import-rows:1", TRUE);
    tf_run_fails(argv, "S4G_TEST_KILL_AT=import-rows:1: expected POINT:N");
    g_setenv("S4G_TEST_KILL_AT", "import-row:0", TRUE);
    tf_run_fails(argv, "S4G_TEST_KILL_AT=import-row:0: expected POINT:N");
    g_unsetenv("S4G_TEST_KILL_AT");
    g_assert_false(g_file_test(proj, G_FILE_TEST_EXISTS));
}

static void setup(void)
{
    g_autoptr(GError) error = NULL;
    tmp = g_dir_make_tmp("s4g-kill-XXXXXX", &error);
    g_assert_no_error(error);
    world = g_build_filename(tmp, "w", NULL);
    mbt = g_build_filename(world, "tiles", "region.mbtiles", NULL);
    const char *synth[] = {s4g_path, "synth",         "--layout", "cvusa", "--out", world, "-n",
                           "40",     "--image-scale", "0.5",      "-j",    "2",     NULL};
    g_free(tf_run_ok(synth));
    /* base: the dataset and a briefly trained model */
    base = g_build_filename(tmp, "base", NULL);
    cmd_import(base, NULL);
    const char *train[] = {s4g_path,     "train",   "--project",       base,    "--dataset",
                           "w",          "--model", "m",               "--ground-size",
                           "32x96",      "--satellite-size", "32x32",  "--epochs", "1",
                           "--batch",    "8",       "--no-gps",        "--backend", "cpu",
                           "--threads",  "2",       "--json",          NULL};
    g_free(tf_run_ok(train));
    /* ref: every command once, uninterrupted */
    ref = g_build_filename(tmp, "ref", NULL);
    copy_tree(base, ref);
    cmd_embed(ref, NULL);
    cmd_mine(ref, FALSE, NULL);
    cmd_mine(ref, TRUE, NULL);
    cmd_gallery(ref, NULL);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    s4g_path = tf_s4g_argument(argc, argv);
    setup();
    static const Case cases[] = {
        {"import", "import-row:30"},      /* mid-way: 30 image rows written */
        {"import", "import-commit:1"},    /* every row written, before COMMIT */
        {"embed", "encode-batch:2"},      /* mid-way: 2 batches encoded */
        {"embed", "embeddings-rows:1"},   /* the first pass's rows written, before COMMIT */
        {"embed", "embeddings-rows:2"},   /* the first pass committed, the second not */
        {"mine-gps", "mining-rows:1"},    /* hard negatives written, before COMMIT */
        {"mine-dss", "encode-batch:3"},   /* mid-way through encoding */
        {"mine-dss", "mining-rows:1"},
        {"gallery", "gallery-patch:5"},   /* mid-way: 5 patches cut */
        {"gallery", "gallery-commit:1"},  /* folder renamed, rows written, before COMMIT */
        {"gallery", "encode-batch:2"},    /* recorded, killed while embedding */
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *path =
            g_strdup_printf("/cli/kill/%s/%s", cases[i].command, cases[i].kill_at);
        g_test_add_data_func(path, &cases[i], test_kill);
    }
    g_test_add_func("/cli/kill/hook-parse", test_hook_parse);
    int rc = g_test_run();
    tf_rmtree(tmp);
    return rc;
}
