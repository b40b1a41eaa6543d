/* test-cli-model.c — models as project objects (s4g model import/list/info/export) and the
 * paper's recipes (s4g train --recipe), as subprocesses of the s4g given as argv[1]:
 *   - import of a Sample4Geo .pth fixture: the row the Studio's model list reads (source,
 *     SHA-256 of the file's bytes, sizes from the flags), the weights copied into models/,
 *     list/info in text and JSON;
 *   - export --format pth: read back by our reader into identical weights (an import of the
 *     export writes the same file byte for byte), and accepted by the real torch's
 *     TimmModel.load_state_dict(strict=True) with the same values (skipped only when no
 *     python3 with torch is found);
 *   - bad input: missing file, non-weights file, taken name, bad name, unknown model/format;
 *   - the recipes table against sample4geo-reference.md §1.3/§3, and a run started with
 *     --recipe cvusa, explicit flags and --init by model name: the stored config holds the
 *     recipe's values, the flags' values where given, and the recipe's name; embed and eval
 *     take the imported model by name. */
#include "s4g-recipes.h"
#include "s4g-store-models.h"
#include "s4g-store-private.h"

#include "../compute/s4g-test-files.h"

#include <json-glib/json-glib.h>
#include <sqlite3.h>
#include <string.h>

static const char *s4g;
static char *tmp;

static JsonObject *parse_obj(JsonParser *p, const char *json)
{
    g_autoptr(GError) error = NULL;
    if (!json_parser_load_from_data(p, json, -1, &error)) g_error("%s: %s", error->message, json);
    JsonNode *root = json_parser_get_root(p);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
    return json_node_get_object(root);
}

static char *file_sha256(const char *path)
{
    g_autofree char *bytes = NULL;
    gsize n = 0;
    g_assert_true(g_file_get_contents(path, &bytes, &n, NULL));
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)bytes, n);
}

static gboolean same_bytes(const char *a, const char *b)
{
    g_autofree char *x = NULL, *y = NULL;
    gsize nx = 0, ny = 0;
    g_assert_true(g_file_get_contents(a, &x, &nx, NULL));
    g_assert_true(g_file_get_contents(b, &y, &ny, NULL));
    return nx == ny && memcmp(x, y, nx) == 0;
}

/* A python3 that imports torch: $S4G_TEST_PYTHON, python3 on PATH, /usr/bin/python3. */
static char *python_with_torch(void)
{
    const char *cands[] = {g_getenv("S4G_TEST_PYTHON"), "python3", "/usr/bin/python3"};
    for (gsize i = 0; i < G_N_ELEMENTS(cands); i++) {
        if (!cands[i]) continue;
        g_autofree char *exe = g_find_program_in_path(cands[i]);
        if (!exe) continue;
        const char *args[] = {"-c", "import torch", NULL};
        if (tf_run(exe, args, NULL, NULL) == 0) return g_steal_pointer(&exe);
    }
    return NULL;
}

static void test_import_export(void)
{
    g_autofree char *proj = g_build_filename(tmp, "p1", NULL);
    g_autofree char *fixture = tf_fixture("pth/s4g-timmmodel.pth");
    g_autofree char *reference = tf_fixture("pth/reference.safetensors");
    const char *imp[] = {s4g, "model", "import", fixture, "--project", proj, "--name", "s4g",
                         "--ground-size", "32x96", "--satellite-size", "32x32", "--json", NULL};
    g_autofree char *out = tf_run_ok(imp);
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = parse_obj(p, out);
    g_autofree char *sha = file_sha256(fixture);
    g_autofree char *canon = g_canonicalize_filename(fixture, NULL);
    g_assert_cmpstr(json_object_get_string_member(o, "sha256"), ==, sha);
    g_assert_cmpstr(json_object_get_string_member(o, "source"), ==, canon);
    g_assert_cmpstr(json_object_get_string_member(o, "weights"), ==, "models/s4g.safetensors");
    /* depths 1,1,1,1 dims 8,16,24,32: 25,760 backbone parameters */
    g_assert_cmpint(json_object_get_int_member(o, "parameters"), ==, 25760);
    g_assert_nonnull(strstr(json_object_get_string_member(o, "report"),
                            "loaded 55 of 55 tensors"));

    /* the store row the Studio's model list reads (s4g_store_model_list) */
    g_autoptr(GError) error = NULL;
    {
        g_autoptr(S4gStore) st = s4g_store_open(proj, FALSE, &error);
        g_assert_no_error(error);
        g_autoptr(GPtrArray) rows = s4g_store_model_list(st, &error);
        g_assert_no_error(error);
        g_assert_cmpuint(rows->len, ==, 1);
        S4gModelRow *r = rows->pdata[0];
        g_assert_cmpstr(r->name, ==, "s4g");
        g_assert_cmpstr(r->source, ==, canon);
        g_assert_cmpstr(r->sha256, ==, sha);
        g_assert_nonnull(strstr(r->architecture, "\"ground\": [96, 32]")); /* stored W, H */
    }
    g_autofree char *copy = g_build_filename(proj, "models", "s4g.safetensors", NULL);
    g_assert_true(g_file_test(copy, G_FILE_TEST_IS_REGULAR));

    /* list: a table row and JSON; info: text and JSON */
    const char *list[] = {s4g, "model", "list", "-p", proj, NULL};
    g_autofree char *lt = tf_run_ok(list);
    g_assert_nonnull(strstr(lt, "s4g "));
    g_assert_nonnull(strstr(lt, "imported"));
    g_assert_nonnull(strstr(lt, "32x96"));
    const char *listj[] = {s4g, "model", "list", "-p", proj, "--json", NULL};
    g_autofree char *lj = tf_run_ok(listj);
    g_autoptr(JsonParser) p2 = json_parser_new();
    JsonArray *models = json_object_get_array_member(parse_obj(p2, lj), "models");
    g_assert_cmpuint(json_array_get_length(models), ==, 1);
    JsonObject *m0 = json_array_get_object_element(models, 0);
    g_assert_cmpstr(json_object_get_string_member(m0, "origin"), ==, "imported");
    const char *info[] = {s4g, "model", "info", "s4g", "-p", proj, NULL};
    g_autofree char *it = tf_run_ok(info);
    g_assert_nonnull(strstr(it, sha));
    g_assert_nonnull(strstr(it, "25760"));
    const char *infoj[] = {s4g, "model", "info", "s4g", "-p", proj, "--json", NULL};
    g_autofree char *ij = tf_run_ok(infoj);
    g_autoptr(JsonParser) p3 = json_parser_new();
    JsonObject *io = parse_obj(p3, ij);
    g_autofree char *copy_sha = file_sha256(copy);
    g_assert_cmpstr(json_object_get_string_member(io, "weights_sha256"), ==, copy_sha);
    g_assert_false(json_object_has_member(io, "best")); /* never trained here */

    /* export: .pth and .safetensors */
    g_autofree char *pth = g_build_filename(tmp, "export.pth", NULL);
    g_autofree char *st = g_build_filename(tmp, "export.safetensors", NULL);
    const char *ex1[] = {s4g, "model", "export", "s4g", "-p", proj, "--format", "pth", "--out",
                         pth, NULL};
    g_free(tf_run_ok(ex1));
    const char *ex2[] = {s4g, "model", "export", "s4g", "-p", proj, "--out", st, "--json", NULL};
    g_autofree char *e2 = tf_run_ok(ex2);
    g_assert_nonnull(strstr(e2, "\"format\":\"safetensors\""));
    /* round trip through our reader: importing the export writes the same weights file */
    const char *imp2[] = {s4g, "model", "import", pth, "-p", proj, "-n", "again", NULL};
    g_free(tf_run_ok(imp2));
    g_autofree char *copy2 = g_build_filename(proj, "models", "again.safetensors", NULL);
    g_assert_true(same_bytes(copy, copy2));

    /* the real torch: strict load into TimmModel names, values equal to the fixture's and to
     * our safetensors export */
    g_autofree char *py = python_with_torch();
    if (!py) {
        g_test_skip("no python3 with torch (python3-torch): the strict-load check is skipped");
        return;
    }
    g_autofree char *script = g_test_build_filename(G_TEST_DIST, "cli", "check-torch-strict.py",
                                                    NULL);
    const char *chk[] = {py, script, pth, "1,1,1,1", "8,16,24,32", reference, st, NULL};
    g_autofree char *co = tf_run_ok(chk);
    g_test_message("%s", co);
    g_assert_nonnull(strstr(co, "accepted 55 tensors; 110 compared equal"));
}

static void test_errors(void)
{
    g_autofree char *proj = g_build_filename(tmp, "p2", NULL);
    g_autofree char *fixture = tf_fixture("pth/timm.pth");
    g_autofree char *junk = g_build_filename(tmp, "junk.pth", NULL);
    g_assert_true(g_file_set_contents(junk, "not a checkpoint at all", -1, NULL));
    const char *missing[] = {s4g, "model", "import", "/nonexistent/w.pth", "-p", proj, "-n", "a",
                             NULL};
    tf_run_fails(missing, "/nonexistent/w.pth");
    const char *bad[] = {s4g, "model", "import", junk, "-p", proj, "-n", "a", NULL};
    tf_run_fails(bad, "junk.pth");
    const char *badname[] = {s4g, "model", "import", fixture, "-p", proj, "-n", "../x", NULL};
    tf_run_fails(badname, "--name");
    const char *ok[] = {s4g, "model", "import", fixture, "-p", proj, "-n", "a", NULL};
    g_free(tf_run_ok(ok));
    tf_run_fails(ok, "exists already");
    /* nothing half-written: one row, one weights file, no temporary left */
    g_autofree char *models = g_build_filename(proj, "models", NULL);
    g_autoptr(GDir) d = g_dir_open(models, 0, NULL);
    guint n = 0;
    while (g_dir_read_name(d))
        n++;
    g_assert_cmpuint(n, ==, 1);
    const char *unknown[] = {s4g, "model", "info", "nope", "-p", proj, NULL};
    tf_run_fails(unknown, "nope");
    g_autofree char *out = g_build_filename(tmp, "x.bin", NULL);
    const char *fmt[] = {s4g, "model", "export", "a", "-p", proj, "--out", out, NULL};
    tf_run_fails(fmt, "--format");
    const char *fmt2[] = {s4g, "model", "export", "a", "-p", proj, "-f", "onnx", "--out", out,
                          NULL};
    tf_run_fails(fmt2, "onnx");
    const char *sub[] = {s4g, "model", "frobnicate", NULL};
    tf_run_fails(sub, "frobnicate");
    const char *help[] = {s4g, "model", "export", "--help", NULL};
    g_autofree char *h = tf_run_ok(help);
    g_assert_nonnull(strstr(h, "--format"));
}

/* sample4geo-reference.md §1.3 and §3, value by value */
static void test_recipe_table(void)
{
    struct {
        const char *name;
        int gh, gw;
        guint epochs, eval_every;
        double warmup;
        guint64 seed;
        gboolean gps, dss;
        int skip;
        const char *train, *eval;
    } want[] = {
        {"cvusa", 140, 768, 40, 4, 1.0, 42, TRUE, TRUE, 0, "train", "val"},
        {"cvact", 140, 768, 40, 4, 1.0, 1, TRUE, TRUE, -1, "train", "val"},
        {"vigor-same", 384, 768, 40, 4, 1.0, 1, TRUE, TRUE, -1, "same-train", "same-test"},
        {"vigor-cross", 384, 768, 40, 4, 1.0, 1, TRUE, TRUE, -1, "cross-train", "cross-test"},
        {"university", 384, 384, 1, 1, 0.1, 1, FALSE, FALSE, -1, "train", "d2s"},
    };
    g_assert_cmpuint(s4g_n_recipes, ==, G_N_ELEMENTS(want));
    for (gsize i = 0; i < G_N_ELEMENTS(want); i++) {
        const S4gRecipe *r = s4g_recipe_find(want[i].name);
        g_assert_nonnull(r);
        g_assert_cmpstr(r->preset, ==, "base");
        g_assert_cmpint(r->ground.h, ==, want[i].gh);
        g_assert_cmpint(r->ground.w, ==, want[i].gw);
        g_assert_cmpint(r->satellite.h, ==, 384);
        g_assert_cmpint(r->satellite.w, ==, 384);
        g_assert_cmpuint(r->batch, ==, 128);
        g_assert_cmpfloat(r->lr, ==, 1e-3);
        g_assert_cmpuint(r->epochs, ==, want[i].epochs);
        g_assert_cmpuint(r->eval_every, ==, want[i].eval_every);
        g_assert_cmpfloat(r->warmup_epochs, ==, want[i].warmup);
        g_assert_cmpuint(r->seed, ==, want[i].seed);
        g_assert_cmpint(r->gps, ==, want[i].gps);
        g_assert_cmpint(r->dss, ==, want[i].dss);
        g_assert_cmpint(r->skip_neighbour, ==, want[i].skip);
        g_assert_cmpstr(r->train_split, ==, want[i].train);
        g_assert_cmpstr(r->eval_split, ==, want[i].eval);
        if (r->gps) {
            g_assert_cmpuint(r->neighbour_select, ==, 64);
            g_assert_cmpuint(r->neighbour_range, ==, 128);
        }
        S4gDefaults d = s4g_recipe_defaults(r);
        g_assert_cmpuint(d.epochs, ==, r->epochs);
        g_assert_cmpint(d.encode_batch, ==, s4g_defaults.encode_batch); /* kept */
    }
    g_assert_null(s4g_recipe_find("cvusa-typo"));
    /* the small CPU defaults stay for the demo */
    g_assert_cmpstr(s4g_defaults.preset, !=, "base");
    /* --help lists what each recipe sets, from the table */
    const char *help[] = {s4g, "train", "--help", NULL};
    g_autofree char *h = tf_run_ok(help);
    for (guint i = 0; i < s4g_n_recipes; i++) {
        g_autofree char *line = s4g_recipe_describe(&s4g_recipes[i]);
        g_assert_nonnull(strstr(h, line));
    }
    g_assert_nonnull(strstr(h, "ground 140x768"));
    const char *typo[] = {s4g, "train", "--recipe", "cvusa-typo", "-p", tmp, "-d", "x", NULL};
    tf_run_fails(typo, "vigor-cross");
}

static double cfg_num(S4gStore *st, gint64 run, const char *path)
{
    g_autofree char *sql = g_strdup_printf(
        "SELECT json_extract(config, '%s') FROM runs WHERE id = %" G_GINT64_FORMAT, path, run);
    g_autoptr(sqlite3_stmt) s = s4g_store_prepare(st, sql, NULL);
    g_assert_nonnull(s);
    g_assert_cmpint(sqlite3_step(s), ==, SQLITE_ROW);
    g_assert_cmpint(sqlite3_column_type(s, 0), !=, SQLITE_NULL);
    return sqlite3_column_double(s, 0);
}

static char *cfg_str(S4gStore *st, gint64 run, const char *path)
{
    g_autofree char *sql = g_strdup_printf(
        "SELECT json_extract(config, '%s') FROM runs WHERE id = %" G_GINT64_FORMAT, path, run);
    g_autoptr(sqlite3_stmt) s = s4g_store_prepare(st, sql, NULL);
    g_assert_nonnull(s);
    g_assert_cmpint(sqlite3_step(s), ==, SQLITE_ROW);
    return s4g_store_col_text(s, 0);
}

static void test_recipe_run(void)
{
    g_autofree char *world = g_build_filename(tmp, "w", NULL);
    g_autofree char *proj = g_build_filename(tmp, "p3", NULL);
    g_autofree char *fixture = tf_fixture("pth/s4g-timmmodel.pth");
    const char *synth[] = {s4g, "synth", "--layout", "cvusa", "--out", world, "-n", "40",
                           "--image-scale", "0.5", "-j", "2", NULL};
    g_free(tf_run_ok(synth));
    const char *imp[] = {s4g, "import", "--project", proj, "--kind", "cvusa", "--name", "w",
                         world, NULL};
    g_free(tf_run_ok(imp));
    const char *mimp[] = {s4g, "model", "import", fixture, "-p", proj, "-n", "outside",
                          "--ground-size", "32x96", "--satellite-size", "32x32", NULL};
    g_free(tf_run_ok(mimp));
    /* commands taking --model take the imported one by name */
    const char *embed[] = {s4g, "embed", "-p", proj, "-d", "w", "-m", "outside", "--split",
                           "train", "--backend", "cpu", "--json", NULL};
    g_autofree char *eo = tf_run_ok(embed);
    g_assert_nonnull(strstr(eo, "\"encoded\": 64"));
    const char *eval[] = {s4g, "eval", "-p", proj, "-d", "w", "-m", "outside", "--backend",
                          "cpu", "--json", NULL};
    g_autofree char *vo = tf_run_ok(eval);
    g_assert_nonnull(strstr(vo, "\"r1\""));
    /* --recipe cvusa with explicit overrides of what a CPU test cannot afford, and --init by
     * model name (its architecture: the imported model's) */
    const char *train[] = {s4g, "train", "-p", proj, "-d", "w", "-m", "tuned", "--recipe",
                           "cvusa", "--init", "outside", "--ground-size", "32x96",
                           "--satellite-size", "32x32", "--epochs", "1", "--batch", "8",
                           "--backend", "cpu", "--threads", "2", "--json", NULL};
    g_autofree char *to = tf_run_ok(train);
    g_assert_nonnull(strstr(to, "\"event\": \"end\""));
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gStore) st = s4g_store_open(proj, FALSE, &error);
    g_assert_no_error(error);
    g_autoptr(S4gModelRow) tuned = s4g_store_model_get(st, 0, "tuned", &error);
    g_assert_no_error(error);
    g_autoptr(sqlite3_stmt) q =
        s4g_store_prepare(st, "SELECT id FROM runs WHERE model = ?", NULL);
    sqlite3_bind_int64(q, 1, tuned->id);
    g_assert_cmpint(sqlite3_step(q), ==, SQLITE_ROW);
    gint64 run = sqlite3_column_int64(q, 0);
    g_autofree char *recipe = cfg_str(st, run, "$.recipe");
    g_assert_cmpstr(recipe, ==, "cvusa");
    /* the flags win */
    g_assert_cmpfloat(cfg_num(st, run, "$.epochs"), ==, 1);
    g_assert_cmpfloat(cfg_num(st, run, "$.batch_size"), ==, 8);
    g_assert_cmpfloat(cfg_num(st, run, "$.architecture.ground[0]"), ==, 96);
    g_assert_cmpfloat(cfg_num(st, run, "$.architecture.dims[3]"), ==, 32); /* --init's shape */
    /* the recipe sets the rest */
    g_assert_cmpfloat(cfg_num(st, run, "$.lr"), ==, 1e-3);
    g_assert_cmpfloat(cfg_num(st, run, "$.warmup_epochs"), ==, 1);
    g_assert_cmpfloat(cfg_num(st, run, "$.eval_every"), ==, 4);
    g_assert_cmpfloat(cfg_num(st, run, "$.seed"), ==, 42);
    g_assert_cmpfloat(cfg_num(st, run, "$.neighbour_select"), ==, 64);
    g_assert_cmpfloat(cfg_num(st, run, "$.neighbour_range"), ==, 128);
    g_assert_cmpfloat(cfg_num(st, run, "$.skip_neighbour"), ==, 0);
    g_assert_cmpfloat(cfg_num(st, run, "$.gps_sample"), ==, 1);
    g_assert_cmpfloat(cfg_num(st, run, "$.dss_sample"), ==, 1);
    g_autofree char *es = cfg_str(st, run, "$.eval_split");
    g_assert_cmpstr(es, ==, "val");
    /* the trained model's info has its best R@1 */
    const char *info[] = {s4g, "model", "info", "tuned", "-p", proj, "--json", NULL};
    g_autofree char *io = tf_run_ok(info);
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = parse_obj(p, io);
    g_assert_true(json_object_has_member(o, "best"));
    g_assert_cmpstr(json_object_get_string_member(o, "origin"), ==, "trained");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    s4g = tf_s4g_argument(argc, argv);
    tmp = tf_tmpdir_new("s4g-cli-model-XXXXXX");
    g_test_add_func("/cli/model/import-export", test_import_export);
    g_test_add_func("/cli/model/errors", test_errors);
    g_test_add_func("/cli/model/recipe-table", test_recipe_table);
    g_test_add_func("/cli/model/recipe-run", test_recipe_run);
    int rc = g_test_run();
    tf_rmtree(tmp);
    g_free(tmp);
    return rc;
}
