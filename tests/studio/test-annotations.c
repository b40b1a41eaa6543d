/* test-annotations.c — the annotations table: add/list/delete/resolve, persistence across
 * close and reopen, CSV and GeoJSON export, and rejection of bad input. */
#include "s4g-store-annotations.h"
#include "s4g-test-fixture.h"

#include <json-glib/json-glib.h>

static void test_roundtrip(void)
{
    g_autofree char *dir = fix_make_project();
    g_autoptr(GError) error = NULL;
    gint64 loc, bad;
    {
        g_autoptr(S4gStore) store = s4g_store_open(dir, FALSE, &error);
        g_assert_no_error(error);
        loc = s4g_store_annotation_add(store, 1, S4G_ANNOTATION_LOCATION, TRUE, 12.5, 13.25,
                                       "moved, \"quoted\"", &error);
        g_assert_no_error(error);
        g_assert_cmpint(loc, >, 0);
        bad = s4g_store_annotation_add(store, 2, S4G_ANNOTATION_BAD_PAIR, FALSE, 0, 0,
                                       "tile shows the sea", &error);
        g_assert_no_error(error);
        /* a location flag without a valid location is refused, naming the image */
        g_assert_cmpint(
            s4g_store_annotation_add(store, 3, S4G_ANNOTATION_LOCATION, TRUE, 95, 0, NULL, &error),
            ==, 0);
        g_assert_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_INVALID);
        g_assert_nonnull(strstr(error->message, "image 3"));
        g_clear_error(&error);
    }
    g_autoptr(S4gStore) store = s4g_store_open(dir, FALSE, &error);
    g_assert_no_error(error);
    g_autoptr(GPtrArray) a1 = s4g_store_annotations_for_image(store, 1, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(a1->len, ==, 1);
    S4gAnnotation *a = a1->pdata[0];
    g_assert_cmpint(a->id, ==, loc);
    g_assert_cmpint(a->flag, ==, S4G_ANNOTATION_LOCATION);
    g_assert_true(a->has_location);
    g_assert_cmpfloat_with_epsilon(a->lat, 12.5, 1e-9);
    g_assert_cmpfloat_with_epsilon(a->lon, 13.25, 1e-9);
    g_assert_false(a->open);
    double lat, lon;
    g_assert_true(s4g_store_annotation_location(store, 1, &lat, &lon));
    g_assert_cmpfloat_with_epsilon(lon, 13.25, 1e-9);
    g_assert_false(s4g_store_annotation_location(store, 2, &lat, &lon));

    g_autoptr(GHashTable) open = s4g_store_annotations_open_images(store, &error);
    g_assert_cmpuint(g_hash_table_size(open), ==, 1);
    gint64 two = 2;
    g_assert_true(g_hash_table_contains(open, &two));
    g_assert_true(s4g_store_annotation_set_open(store, bad, FALSE, &error));
    g_autoptr(GHashTable) open2 = s4g_store_annotations_open_images(store, &error);
    g_assert_cmpuint(g_hash_table_size(open2), ==, 0);

    /* exports */
    g_autofree char *csv = g_build_filename(dir, "a.csv", NULL);
    g_autofree char *gj = g_build_filename(dir, "a.geojson", NULL);
    g_assert_true(s4g_store_annotations_export_csv(store, csv, &error));
    g_assert_no_error(error);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(csv, &text, NULL, NULL));
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 4); /* header, 2 rows, trailing "" */
    g_assert_true(g_str_has_prefix(lines[0], "id,image,path,"));
    g_assert_nonnull(strstr(lines[1], ",location,12.5000000,13.2500000,resolved,"
                                      "\"moved, \"\"quoted\"\"\","));
    g_assert_nonnull(strstr(lines[2], ",bad-pair,,,resolved,tile shows the sea,"));

    g_assert_true(s4g_store_annotations_export_geojson(store, gj, &error));
    g_autoptr(JsonParser) parser = json_parser_new();
    g_assert_true(json_parser_load_from_file(parser, gj, &error));
    g_assert_no_error(error);
    JsonObject *root = json_node_get_object(json_parser_get_root(parser));
    JsonArray *features = json_object_get_array_member(root, "features");
    g_assert_cmpuint(json_array_get_length(features), ==, 2);
    JsonObject *f0 = json_array_get_object_element(features, 0);
    JsonArray *coords =
        json_object_get_array_member(json_object_get_object_member(f0, "geometry"), "coordinates");
    g_assert_cmpfloat_with_epsilon(json_array_get_double_element(coords, 0), 13.25, 1e-6);
    g_assert_cmpfloat_with_epsilon(json_array_get_double_element(coords, 1), 12.5, 1e-6);
    /* the bad-pair flag has no corrected location: it falls back to the image's own */
    JsonObject *f1 = json_array_get_object_element(features, 1);
    JsonArray *c1 =
        json_object_get_array_member(json_object_get_object_member(f1, "geometry"), "coordinates");
    double plat, plon;
    fix_photo_location(1, &plat, &plon);
    g_assert_cmpfloat_with_epsilon(json_array_get_double_element(c1, 1), plat, 1e-6);

    /* delete (undo) and deleting twice names the id */
    g_assert_true(s4g_store_annotation_delete(store, loc, &error));
    g_assert_false(s4g_store_annotation_delete(store, loc, &error));
    g_assert_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_NOT_FOUND);
    g_autofree char *idtext = g_strdup_printf("%" G_GINT64_FORMAT, loc);
    g_assert_nonnull(strstr(error->message, idtext));
    g_clear_error(&error);
    /* an annotation of an image that does not exist breaks the foreign key */
    g_assert_cmpint(
        s4g_store_annotation_add(store, 9999, S4G_ANNOTATION_OK, FALSE, 0, 0, NULL, &error), ==, 0);
    g_assert_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_SQL);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    fix_init(argv[0]);
    g_test_add_func("/studio/annotations/roundtrip", test_roundtrip);
    return g_test_run();
}
