/* test-formats.c — the formats every output and CSV input goes through: RFC 4180 CSV written
 * and read back field for field (commas, quotes, line breaks, CRLF, a UTF-8 BOM, blank lines)
 * with errors that name the file, line and column; JSON from the builder helpers parsed back
 * by json-glib's JsonParser (non-ASCII, quotes, control characters, NaN and ±inf as null,
 * invalid UTF-8 replaced); and the photos and CVUSA readers on CSVs with quoted paths. */
#include "s4g-csv.h"
#include "s4g-dataset.h"
#include "s4g-geo.h"
#include "s4g-json-out.h"

#include <math.h>
#include <vips/vips.h>
#include <string.h>

#include "../compute/s4g-test-files.h"

static char *tmp;

static S4gCsvReader *reader_of(const char *text)
{
    g_autoptr(GInputStream) in = g_memory_input_stream_new_from_data(g_strdup(text), -1, g_free);
    return s4g_csv_reader_new(in, "t.csv");
}

/* The records of text, each as its fields joined by "|". */
static char *records(const char *text, GError **error)
{
    g_autoptr(S4gCsvReader) r = reader_of(text);
    g_autoptr(GString) s = g_string_new(NULL);
    char **f;
    while ((f = s4g_csv_reader_next(r, error))) {
        g_autofree char *j = g_strjoinv("|", f);
        g_string_append_printf(s, "[%s]@%u", j, s4g_csv_reader_line(r));
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}

static void test_csv_roundtrip(void)
{
    const char *rows[][4] = {
        {"café.jpg", "a,b \"c\".jpg", "line\nbreak", "crlf\r\nbreak"},
        {"", " lead", "trail ", "\"\""},
        {"plain", "ünïcødé/日本.png", ",", "\""},
    };
    S4gCsvWriter w;
    s4g_csv_writer_init(&w);
    s4g_csv_write_header(&w, "a,b,c,d");
    for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
        for (guint j = 0; j < 4; j++) s4g_csv_write(&w, rows[i][j]);
        s4g_csv_end_row(&w);
    }
    s4g_csv_write_double(&w, "%.3f", 1.5);
    s4g_csv_write_double(&w, "%.3f", NAN);
    s4g_csv_write_double(&w, "%.3f", INFINITY);
    s4g_csv_write_int(&w, -42);
    s4g_csv_end_row(&w);
    /* only what must be quoted is */
    g_assert_true(g_str_has_prefix(w.text->str, "a,b,c,d\ncafé.jpg,\"a,b \"\"c\"\".jpg\","));
    g_assert_nonnull(strstr(w.text->str, "\n1.500,,,-42\n"));

    g_autoptr(GError) error = NULL;
    g_autoptr(S4gCsvReader) r = reader_of(w.text->str);
    char **f = s4g_csv_reader_next(r, &error);
    g_assert_nonnull(f);
    g_assert_cmpstr(f[0], ==, "a");
    for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
        f = s4g_csv_reader_next(r, &error);
        g_assert_no_error(error);
        g_assert_nonnull(f);
        g_assert_cmpuint(s4g_csv_reader_n_fields(r), ==, 4);
        for (guint j = 0; j < 4; j++) g_assert_cmpstr(f[j], ==, rows[i][j]);
        g_assert_null(f[4]);
    }
    /* header on line 1, the first row on lines 2-4 (two line breaks), then 5, 6 and 7 */
    f = s4g_csv_reader_next(r, &error);
    g_assert_cmpuint(s4g_csv_reader_line(r), ==, 7);
    g_assert_cmpstr(f[0], ==, "1.500");
    g_assert_cmpstr(f[1], ==, "");
    g_assert_cmpstr(f[2], ==, "");
    g_assert_cmpstr(f[3], ==, "-42");
    g_assert_null(s4g_csv_reader_next(r, &error));
    g_assert_no_error(error);
    s4g_csv_writer_clear(&w);
}

static void test_csv_read(void)
{
    g_autoptr(GError) error = NULL;
    /* BOM, CRLF, blank lines (skipped), a quoted field spanning a CRLF, empty fields */
    g_autofree char *a =
        records("\xEF\xBB\xBFpath,lat\r\n\r\n  \r\n\"x\r\ny\",1\r\n,\r\n\"\",\"\"\"\"\n", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(a, ==, "[path|lat]@1[x\r\ny|1]@4[|]@6[|\"]@7");
    /* no newline at the end; a bare quote inside an unquoted field is a character */
    g_autofree char *b = records("a\"b,c", &error);
    g_assert_no_error(error);
    g_assert_cmpstr(b, ==, "[a\"b|c]@1");

    g_autofree char *c = records("ok,1\n\"open,2\nmore\n", &error);
    g_assert_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE);
    g_assert_nonnull(strstr(error->message, "t.csv:2: column 1"));
    g_assert_nonnull(strstr(error->message, "not closed"));
    g_clear_error(&error);
    g_autofree char *d = records("a,b\nc,\"d\"x,e\n", &error);
    g_assert_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE);
    g_assert_nonnull(strstr(error->message, "t.csv:2: column 2"));
    g_clear_error(&error);

    g_autofree char *missing = g_build_filename(tmp, "nope.csv", NULL);
    g_assert_null(s4g_csv_reader_open(missing, NULL, &error));
    g_assert_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO);
    g_assert_nonnull(strstr(error->message, "nope.csv: file not found"));
    g_clear_error(&error);
    /* binary data in a file */
    g_autofree char *bin = g_build_filename(tmp, "bin.csv", NULL);
    g_assert_true(g_file_set_contents(bin, "a,b\nc\0d\n", 8, NULL));
    g_autoptr(S4gCsvReader) r = s4g_csv_reader_open(bin, "bin.csv", &error);
    g_assert_nonnull(r);
    g_assert_nonnull(s4g_csv_reader_next(r, &error));
    g_assert_null(s4g_csv_reader_next(r, &error));
    g_assert_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE);
    g_assert_nonnull(strstr(error->message, "bin.csv:2: binary data"));
}

static JsonObject *parse_object(JsonParser *p, const char *text)
{
    g_autoptr(GError) error = NULL;
    g_assert_true(json_parser_load_from_data(p, text, -1, &error));
    g_assert_no_error(error);
    return json_node_get_object(json_parser_get_root(p));
}

static void test_json(void)
{
    const char *odd = "café \"q\" back\\slash\ttab\nnl \x01\x1f 日本";
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    s4g_json_add_string(b, "s", odd);
    s4g_json_add_string(b, "none", NULL);
    s4g_json_add_string(b, "latin1", "caf\xe9.jpg"); /* not UTF-8 */
    s4g_json_add_double(b, "x", 47.1234567);
    s4g_json_add_double(b, "nan", NAN);
    s4g_json_add_double(b, "inf", INFINITY);
    s4g_json_add_double(b, "ninf", -INFINITY);
    s4g_json_add_int(b, "big", G_GINT64_CONSTANT(9007199254740993));
    s4g_json_add_bool(b, "yes", TRUE);
    s4g_json_begin_array(b, "a");
    s4g_json_add_double(b, NULL, NAN);
    s4g_json_add_int(b, NULL, 3);
    json_builder_end_array(b);
    json_builder_end_object(b);
    g_autofree char *text = s4g_json_to_string(b);
    g_assert_null(strchr(text, '\n')); /* one line */
    g_assert_nonnull(strstr(text, "\"nan\":null,\"inf\":null,\"ninf\":null"));
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o = parse_object(p, text);
    g_assert_cmpstr(json_object_get_string_member(o, "s"), ==, odd);
    g_assert_true(json_object_get_null_member(o, "none"));
    g_assert_cmpstr(json_object_get_string_member(o, "latin1"), ==, "caf\xef\xbf\xbd.jpg");
    g_assert_cmpfloat(json_object_get_double_member(o, "x"), ==, 47.1234567);
    g_assert_true(json_object_get_null_member(o, "nan"));
    g_assert_true(json_object_get_null_member(o, "inf"));
    g_assert_true(json_object_get_null_member(o, "ninf"));
    g_assert_cmpint(json_object_get_int_member(o, "big"), ==, G_GINT64_CONSTANT(9007199254740993));
    g_assert_true(json_object_get_boolean_member(o, "yes"));
    JsonArray *a = json_object_get_array_member(o, "a");
    g_assert_true(json_array_get_null_element(a, 0));
    g_assert_cmpint(json_array_get_int_element(a, 1), ==, 3);

    /* GeoJSON: a Point feature with lon first, NaN properties as null */
    g_autoptr(JsonBuilder) g = json_builder_new();
    s4g_geojson_begin_collection(g);
    s4g_geojson_begin_point(g, 11.5, 48.25);
    s4g_json_add_string(g, "image", odd);
    s4g_json_add_double(g, "error_m", NAN);
    s4g_geojson_end_feature(g);
    s4g_geojson_end_collection(g);
    g_autofree char *path = g_build_filename(tmp, "f.geojson", NULL);
    g_autoptr(GError) error = NULL;
    g_assert_true(s4g_json_save(g, path, &error));
    g_autoptr(JsonParser) gp = json_parser_new();
    g_assert_true(json_parser_load_from_file(gp, path, &error));
    JsonObject *fc = json_node_get_object(json_parser_get_root(gp));
    g_assert_cmpstr(json_object_get_string_member(fc, "type"), ==, "FeatureCollection");
    JsonObject *f = json_array_get_object_element(json_object_get_array_member(fc, "features"), 0);
    g_assert_cmpstr(json_object_get_string_member(f, "type"), ==, "Feature");
    JsonObject *geom = json_object_get_object_member(f, "geometry");
    g_assert_cmpstr(json_object_get_string_member(geom, "type"), ==, "Point");
    JsonArray *c = json_object_get_array_member(geom, "coordinates");
    g_assert_cmpfloat(json_array_get_double_element(c, 0), ==, 11.5);
    g_assert_cmpfloat(json_array_get_double_element(c, 1), ==, 48.25);
    JsonObject *props = json_object_get_object_member(f, "properties");
    g_assert_cmpstr(json_object_get_string_member(props, "image"), ==, odd);
    g_assert_true(json_object_get_null_member(props, "error_m"));
}

/* A 16×8 JPEG at dir/name. */
static void write_jpeg(const char *dir, const char *name)
{
    g_autofree char *p = g_build_filename(dir, name, NULL);
    g_autofree char *d = g_path_get_dirname(p);
    g_mkdir_with_parents(d, 0755);
    VipsImage *im = vips_image_new_from_memory_copy((guint8[16 * 8 * 3]){0}, 16 * 8 * 3, 16, 8,
                                                    3, VIPS_FORMAT_UCHAR);
    g_assert_cmpint(vips_jpegsave(im, p, NULL), ==, 0);
    g_object_unref(im);
}

static void test_photos_csv(void)
{
    g_autofree char *dir = g_build_filename(tmp, "photos", NULL);
    write_jpeg(dir, "café.jpg");
    write_jpeg(dir, "a,b \"c\".jpg");
    write_jpeg(dir, "plain.jpg");
    g_autofree char *csv = g_build_filename(dir, "list.csv", NULL);
    const char *text = "\xEF\xBB\xBFpath,lat,lon\r\n"
                       "café.jpg,48.1,11.5\r\n"
                       "\"a,b \"\"c\"\".jpg\",48.2,11.6\r\n"
                       "\r\n"
                       "plain.jpg,,\r\n";
    g_assert_true(g_file_set_contents(csv, text, -1, NULL));
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gDataset) ds = s4g_dataset_new(S4G_DATASET_PHOTOS, csv, FALSE);
    g_assert_true(s4g_dataset_read(ds, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(ds->images->len, ==, 3);
    S4gDatasetImage *a = s4g_dataset_image(ds, 0), *b = s4g_dataset_image(ds, 1),
                    *c = s4g_dataset_image(ds, 2);
    g_assert_cmpstr(a->path, ==, "café.jpg");
    g_assert_cmpfloat(a->lat, ==, 48.1);
    g_assert_cmpstr(b->path, ==, "a,b \"c\".jpg");
    g_assert_cmpfloat(b->lon, ==, 11.6);
    g_assert_cmpstr(c->path, ==, "plain.jpg");
    g_assert_true(isnan(c->lat));

    /* an unclosed quote names the file and line */
    g_assert_true(g_file_set_contents(csv, "path,lat,lon\nplain.jpg,1,2\n\"café.jpg,3,4\n", -1,
                                      NULL));
    g_autoptr(S4gDataset) bad = s4g_dataset_new(S4G_DATASET_PHOTOS, csv, FALSE);
    g_assert_false(s4g_dataset_read(bad, &error));
    g_assert_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE);
    g_assert_nonnull(strstr(error->message, "photos: list.csv:3: column 1"));
}

static void test_cvusa_csv(void)
{
    g_autofree char *root = g_build_filename(tmp, "cvusa", NULL);
    write_jpeg(root, "bingmap/19/0000001.jpg");
    write_jpeg(root, "bingmap/19/0000002.jpg");
    write_jpeg(root, "streetview/panos/a,b \"c\".jpg");
    write_jpeg(root, "streetview/panos/café.jpg");
    g_autofree char *splits = g_build_filename(root, "splits", NULL);
    g_mkdir_with_parents(splits, 0755);
    g_autofree char *train = g_build_filename(splits, "train-19zl.csv", NULL);
    g_autofree char *val = g_build_filename(splits, "val-19zl.csv", NULL);
    g_autofree char *all = g_build_filename(root, "all.csv", NULL);
    g_assert_true(g_file_set_contents(
        train,
        "\xEF\xBB\xBF" "bingmap/19/0000001.jpg,\"streetview/panos/a,b \"\"c\"\".jpg\",x.png\r\n",
        -1, NULL));
    g_assert_true(
        g_file_set_contents(val, "bingmap/19/0000002.jpg,streetview/panos/café.jpg,y.png\n", -1,
                            NULL));
    g_assert_true(g_file_set_contents(all, "\xEF\xBB\xBF" "1,2,3,4,0\r\n5,6,7,8,0\r\n", -1, NULL));
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gDataset) ds = s4g_dataset_new(S4G_DATASET_CVUSA, root, FALSE);
    g_assert_true(s4g_dataset_read(ds, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(ds->images->len, ==, 4);
    gint64 g = s4g_dataset_find_image(ds, S4G_VIEW_GROUND, "train",
                                      "streetview/panos/a,b \"c\".jpg");
    g_assert_cmpint(g, >=, 0);
    g_assert_cmpfloat(s4g_dataset_image(ds, (guint)g)->lat, ==, 3);
    gint64 v = s4g_dataset_find_image(ds, S4G_VIEW_GROUND, "val", "streetview/panos/café.jpg");
    g_assert_cmpint(v, >=, 0);
    g_assert_cmpfloat(s4g_dataset_image(ds, (guint)v)->lon, ==, 8);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (VIPS_INIT(argv[0])) g_error("vips_init failed");
    tmp = tf_tmpdir_new("s4g-test-formats-XXXXXX");
    g_test_add_func("/formats/csv/roundtrip", test_csv_roundtrip);
    g_test_add_func("/formats/csv/read", test_csv_read);
    g_test_add_func("/formats/json", test_json);
    g_test_add_func("/formats/readers/photos-csv", test_photos_csv);
    g_test_add_func("/formats/readers/cvusa-csv", test_cvusa_csv);
    int rc = g_test_run();
    tf_rmtree(tmp);
    g_free(tmp);
    return rc;
}
