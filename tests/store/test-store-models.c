/* test-store-models.c — the models table's provenance columns (migration 3: source, sha256):
 * recorded and read back by the queries the CLI and the Studio's model list use; a project
 * written before the migration gains the columns (NULL: trained here) and keeps its rows. */
#include "s4g-store-models.h"
#include "s4g-store-private.h"

#include "../compute/s4g-test-files.h"

static void test_source(void)
{
    g_autofree char *dir = tf_tmpdir_new("s4g-store-models-XXXXXX");
    g_autoptr(GError) error = NULL;
    {
        g_autoptr(S4gStore) s = s4g_store_open(dir, TRUE, &error);
        g_assert_no_error(error);
        gint64 trained = s4g_store_model_add(s, "trained", "{}", "models/t.safetensors", 0, &error);
        gint64 imported = s4g_store_model_add(s, "imported", "{}", "models/i.safetensors", 0, &error);
        g_assert_no_error(error);
        g_assert_true(s4g_store_model_set_source(s, imported, "/data/w.pth", "ab12", &error));
        g_assert_false(s4g_store_model_set_source(s, 4242, "/x", "00", &error));
        g_assert_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_NOT_FOUND);
        g_clear_error(&error);
        g_autoptr(GPtrArray) rows = s4g_store_model_list(s, &error); /* the Studio's list */
        g_assert_cmpuint(rows->len, ==, 2);
        S4gModelRow *t = rows->pdata[0], *i = rows->pdata[1];
        g_assert_cmpint(t->id, ==, trained);
        g_assert_null(t->source);
        g_assert_null(t->sha256);
        g_assert_cmpstr(i->source, ==, "/data/w.pth");
        g_assert_cmpstr(i->sha256, ==, "ab12");
        /* back to a project of schema 2: without the columns */
        g_assert_true(s4g_store_exec(s, "ALTER TABLE models DROP COLUMN source;"
                                        "ALTER TABLE models DROP COLUMN sha256;"
                                        "PRAGMA user_version = 2", &error));
    }
    g_autoptr(S4gStore) s = s4g_store_open(dir, FALSE, &error);
    g_assert_no_error(error);
    g_assert_cmpint(s4g_store_schema_version(s), ==, s4g_store_latest_version());
    g_autoptr(S4gModelRow) r = s4g_store_model_get(s, 0, "imported", &error);
    g_assert_no_error(error);
    g_assert_null(r->source); /* the old project never recorded it */
    g_assert_true(s4g_store_model_set_source(s, r->id, "/data/w.pth", "ab12", &error));
    g_autoptr(S4gModelRow) r2 = s4g_store_model_get(s, r->id, NULL, &error);
    g_assert_cmpstr(r2->sha256, ==, "ab12");
    tf_rmtree(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/store/models/source", test_source);
    return g_test_run();
}
