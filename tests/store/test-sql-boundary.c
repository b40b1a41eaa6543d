/* test-sql-boundary.c — the schema stays inside app/store: no file of app/ outside it calls
 * SQLite (an sqlite3 identifier, or the store's private s4g_store_prepare/db/exec) or holds
 * SQL text (a SELECT, INSERT INTO, UPDATE … SET, DELETE FROM, CREATE TABLE/INDEX/TRIGGER/VIEW
 * or PRAGMA statement in a string literal).  The source root comes from meson as argv[1].
 *
 * The same scan holds the settings boundary of issue 11: the environment is read at the edge
 * and never written — S4G_DEVICE is read by exactly one file (app/cli/s4g-cli.c) and no file
 * of app/ or compute/ sets a variable, except compute/cpu/s4g-cpu-isa.c, which sets
 * OPENBLAS_CORETYPE for the length of OpenBLAS's own kernel selection and restores it (issue
 * 16; explained there). */
#include <glib.h>
#include <string.h>

static const char *source_root;

/* Splits C source into code (comments and literals blanked) and the text of its string
 * literals (one per line), so a word in a comment is not a hit. */
static void split_source(const char *src, GString *code, GString *strings)
{
    for (const char *p = src; *p;) {
        if (p[0] == '/' && p[1] == '/') {
            while (*p && *p != '\n')
                p++;
        } else if (p[0] == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");
            p = end ? end + 2 : p + strlen(p);
            g_string_append_c(code, ' ');
        } else if (*p == '"' || *p == '\'') {
            char q = *p++;
            while (*p && *p != q) {
                if (*p == '\\' && p[1]) p++;
                if (q == '"') g_string_append_c(strings, *p);
                p++;
            }
            if (*p) p++;
            if (q == '"') g_string_append_c(strings, '\n');
            g_string_append_c(code, ' ');
        } else {
            g_string_append_c(code, *p++);
        }
    }
}

static const char code_pattern[] = "\\b(sqlite3\\w*|s4g_store_(prepare|db|exec|fail))\\b";
static const char sql_pattern[] =
    "\\b(SELECT\\s+(DISTINCT\\s+)?[\\w*(]|INSERT\\s+(OR\\s+\\w+\\s+)?INTO\\b|UPDATE\\s+\\w+\\s+"
    "SET\\b|"
    "DELETE\\s+FROM\\b|CREATE\\s+(UNIQUE\\s+)?(TABLE|INDEX|TRIGGER|VIEW)\\b|PRAGMA\\s+\\w)";

/* Appends "file: what `match`" for each hit of the two patterns in src to out. */
static void scan(const char *file, const char *src, GString *out)
{
    g_autoptr(GString) code = g_string_new(NULL);
    g_autoptr(GString) strings = g_string_new(NULL);
    split_source(src, code, strings);
    g_autoptr(GRegex) calls = g_regex_new(code_pattern, 0, 0, NULL);
    g_autoptr(GRegex) sql = g_regex_new(sql_pattern, G_REGEX_MULTILINE, 0, NULL);
    g_assert_nonnull(calls);
    g_assert_nonnull(sql);
    const struct {
        GRegex *re;
        const char *text, *what;
    } checks[] = {{calls, code->str, "SQLite call"}, {sql, strings->str, "SQL text"}};
    for (guint c = 0; c < G_N_ELEMENTS(checks); c++) {
        g_autoptr(GMatchInfo) m = NULL;
        g_regex_match(checks[c].re, checks[c].text, 0, &m);
        while (g_match_info_matches(m)) {
            g_autofree char *w = g_match_info_fetch(m, 0);
            g_string_append_printf(out, "%s: %s “%s”\n", file, checks[c].what, w);
            g_match_info_next(m, NULL);
        }
    }
}

/* Scans every .c/.h file under dir (relative to the source root), skipping app/store. */
static void scan_tree(const char *rel, GString *out, guint *files)
{
    if (!g_strcmp0(rel, "app/store")) return;
    g_autofree char *dir = g_build_filename(source_root, rel, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, &error);
    g_assert_no_error(error);
    const char *name;
    while ((name = g_dir_read_name(d))) {
        g_autofree char *child = g_build_filename(rel, name, NULL);
        g_autofree char *path = g_build_filename(source_root, child, NULL);
        if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
            scan_tree(child, out, files);
        } else if (g_str_has_suffix(name, ".c") || g_str_has_suffix(name, ".h")) {
            g_autofree char *src = NULL;
            g_assert_true(g_file_get_contents(path, &src, NULL, &error));
            g_assert_no_error(error);
            scan(child, src, out);
            (*files)++;
        }
    }
}

/* The scanner finds what it should and nothing else. */
static void test_scanner(void)
{
    const struct {
        const char *src;
        gboolean hit;
    } cases[] = {
        {"sqlite3_step(st);", TRUE},
        {"g_autoptr(sqlite3_stmt) st = NULL;", TRUE},
        {"x = s4g_store_prepare(store, q, NULL);", TRUE},
        {"const char *q = \"SELECT id FROM images WHERE x = ?\";", TRUE},
        {"q = \"SELECT DISTINCT split \" \"FROM pairs\";", TRUE},
        {"q = \"SELECT * FROM t\";", TRUE},
        {"q = \"INSERT INTO t VALUES (1)\";", TRUE},
        {"q = \"UPDATE runs SET state = 1\";", TRUE},
        {"q = \"DELETE FROM predictions\";", TRUE},
        {"q = \"CREATE INDEX i ON t(a)\";", TRUE},
        {"q = \"PRAGMA user_version\";", TRUE},
        {"/* SELECT a FROM b; sqlite3_step */ int x;", FALSE},
        {"// DELETE FROM t and sqlite3_exec\nint y;", FALSE},
        {"gtk_widget_set(GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER);", FALSE},
        {"#define SELECTED_RADIUS 7.0", FALSE},
        {"label = _(\"Select a folder\");", FALSE},
        {"s4g_store_model_list(store, NULL); s4g_store_dir(store);", FALSE},
        {"c = '\"'; s = \"a \\\" SELECT\";", FALSE},
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GString) out = g_string_new(NULL);
        scan("case.c", cases[i].src, out);
        if ((out->len > 0) != cases[i].hit)
            g_error("case %u (%s): expected %s, got “%s”", i, cases[i].src,
                    cases[i].hit ? "a hit" : "none", out->str);
    }
}

/* Every code line of the .c/.h files under rel (comments removed, literals kept) that matches
 * re, as "file: line". */
static void grep_tree(const char *rel, GRegex *re, GString *out)
{
    g_autofree char *dir = g_build_filename(source_root, rel, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GDir) d = g_dir_open(dir, 0, &error);
    g_assert_no_error(error);
    const char *name;
    while ((name = g_dir_read_name(d))) {
        g_autofree char *child = g_build_filename(rel, name, NULL);
        g_autofree char *path = g_build_filename(source_root, child, NULL);
        if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
            grep_tree(child, re, out);
            continue;
        }
        if (!g_str_has_suffix(name, ".c") && !g_str_has_suffix(name, ".h")) continue;
        g_autofree char *src = NULL;
        g_assert_true(g_file_get_contents(path, &src, NULL, &error));
        g_autoptr(GRegex) comments = g_regex_new("/\\*.*?\\*/|//[^\n]*", G_REGEX_DOTALL, 0, NULL);
        g_autofree char *code = g_regex_replace_literal(comments, src, -1, 0, "", 0, NULL);
        g_auto(GStrv) lines = g_strsplit(code, "\n", -1);
        for (guint i = 0; lines[i]; i++)
            if (g_regex_match(re, lines[i], 0, NULL))
                g_string_append_printf(out, "%s: %s\n", child, g_strstrip(lines[i]));
    }
}

static void test_side_channels(void)
{
    g_autoptr(GRegex) device = g_regex_new("getenv\\s*\\(\\s*\"S4G_DEVICE\"", 0, 0, NULL);
    g_autoptr(GRegex) set = g_regex_new("\\b(g_)?(setenv|putenv|unsetenv)\\s*\\(", 0, 0, NULL);
    g_autoptr(GString) reads = g_string_new(NULL), sets = g_string_new(NULL);
    for (guint i = 0; i < 2; i++) {
        const char *rel = i ? "compute" : "app";
        grep_tree(rel, device, reads);
        grep_tree(rel, set, sets);
    }
    g_test_message("S4G_DEVICE read at:\n%s", reads->str);
    g_auto(GStrv) r = g_strsplit(g_strstrip(reads->str), "\n", -1);
    g_assert_cmpuint(g_strv_length(r), ==, 1);
    g_assert_true(g_str_has_prefix(r[0], "app/cli/s4g-cli.c: "));
    g_auto(GStrv) w = g_strsplit(g_strstrip(sets->str), "\n", -1);
    for (guint i = 0; w[i] && *w[i]; i++)
        if (!g_str_has_prefix(w[i], "compute/cpu/s4g-cpu-isa.c: "))
            g_error("the environment is set outside the one documented place: %s", w[i]);
}

static void test_tree(void)
{
    g_autoptr(GString) out = g_string_new(NULL);
    guint files = 0;
    scan_tree("app", out, &files);
    g_assert_cmpuint(files, >, 50); /* the tree was found */
    if (out->len) g_error("SQL outside app/store:\n%s", out->str);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (argc < 2) g_error("usage: %s SOURCE-ROOT", argv[0]);
    source_root = argv[1];
    g_test_add_func("/store/sql-boundary/scanner", test_scanner);
    g_test_add_func("/store/sql-boundary/tree", test_tree);
    g_test_add_func("/store/sql-boundary/side-channels", test_side_channels);
    return g_test_run();
}
