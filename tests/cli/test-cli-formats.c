/* test-cli-formats.c — predictions written by s4g predict (--json, --csv, --geojson, --kml)
 * and s4g export --predictions (.csv, .geojson, .kml) read back with real parsers for photos
 * whose names need escaping: a tiny synthetic CVUSA world whose val split names two
 * panoramas “café.jpg” and “a,b "c".jpg” (a quoted CSV field, in a split file with a UTF-8
 * BOM and CRLF line ends), and a photo outside the project named with a line break and
 * XML's special characters (no truth: its error is null).  JSON and GeoJSON are parsed by
 * json-glib's JsonParser, KML by GLib's GMarkup parser (well-formed XML or an error), CSV by
 * the app's RFC 4180 reader, and each agrees with the JSON lines. */
#include "s4g-csv.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

#include "../compute/s4g-test-files.h"
#include "s4g-test-json.h"

static const char *s4g_path;

/* ---- KML through GMarkup ---- */

typedef struct {
    guint folder; /* 1-based index of its Folder */
    char *style;  /* estimate, truth or candidate (styleUrl without '#') */
    char *name;
    double lon, lat;
} Mark;

typedef struct {
    GPtrArray *stack; /* element names */
    GString *text;
    gboolean kml_ns;  /* the root is <kml xmlns="http://www.opengis.net/kml/2.2"> */
    GPtrArray *folder_names;
    GArray *marks;    /* Mark */
    Mark cur;
} Kml;

static const char *parent_of(Kml *k)
{
    return k->stack->len >= 2 ? k->stack->pdata[k->stack->len - 2] : "";
}

static void kml_start(GMarkupParseContext *c, const char *el, const char **names,
                      const char **values, gpointer data, GError **error)
{
    (void)c, (void)error;
    Kml *k = data;
    if (k->stack->len == 0 && !strcmp(el, "kml"))
        for (guint i = 0; names[i]; i++)
            k->kml_ns |= !strcmp(names[i], "xmlns") &&
                         !strcmp(values[i], "http://www.opengis.net/kml/2.2");
    if (!strcmp(el, "Placemark")) memset(&k->cur, 0, sizeof k->cur);
    g_ptr_array_add(k->stack, g_strdup(el));
    g_string_truncate(k->text, 0);
}

static void kml_end(GMarkupParseContext *c, const char *el, gpointer data, GError **error)
{
    (void)c;
    Kml *k = data;
    const char *parent = parent_of(k);
    if (!strcmp(el, "name") && !strcmp(parent, "Folder"))
        g_ptr_array_add(k->folder_names, g_strdup(k->text->str));
    else if (!strcmp(el, "name") && !strcmp(parent, "Placemark"))
        k->cur.name = g_strdup(k->text->str);
    else if (!strcmp(el, "styleUrl"))
        k->cur.style = g_strdup(k->text->str + (k->text->str[0] == '#'));
    else if (!strcmp(el, "coordinates")) {
        char *end = NULL;
        k->cur.lon = g_ascii_strtod(k->text->str, &end);
        if (*end != ',') {
            g_set_error(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                        "coordinates “%s” are not lon,lat", k->text->str);
            return;
        }
        k->cur.lat = g_ascii_strtod(end + 1, NULL);
    } else if (!strcmp(el, "Placemark")) {
        k->cur.folder = k->folder_names->len;
        g_array_append_val(k->marks, k->cur);
        memset(&k->cur, 0, sizeof k->cur);
    }
    g_ptr_array_remove_index(k->stack, k->stack->len - 1);
}

static void kml_text(GMarkupParseContext *c, const char *text, gsize len, gpointer data,
                     GError **error)
{
    (void)c, (void)error;
    g_string_append_len(((Kml *)data)->text, text, (gssize)len);
}

static void mark_clear(gpointer p)
{
    Mark *m = p;
    g_free(m->style), g_free(m->name);
}

static void kml_parse(const char *path, Kml *k)
{
    k->stack = g_ptr_array_new_with_free_func(g_free);
    k->text = g_string_new(NULL);
    k->folder_names = g_ptr_array_new_with_free_func(g_free);
    k->marks = g_array_new(FALSE, TRUE, sizeof(Mark));
    g_array_set_clear_func(k->marks, mark_clear);
    g_autofree char *xml = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(path, &xml, &len, NULL));
    g_assert_true(g_str_has_prefix(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
    GMarkupParser parser = {kml_start, kml_end, kml_text, NULL, NULL};
    g_autoptr(GMarkupParseContext) ctx = g_markup_parse_context_new(&parser, 0, k, NULL);
    g_autoptr(GError) error = NULL;
    gboolean ok = g_markup_parse_context_parse(ctx, xml, (gssize)len, &error) &&
                  g_markup_parse_context_end_parse(ctx, &error);
    if (!ok) g_error("%s is not well-formed XML: %s", path, error->message);
    g_assert_true(k->kml_ns);
}

static void kml_clear(Kml *k)
{
    g_ptr_array_unref(k->stack);
    g_string_free(k->text, TRUE);
    g_ptr_array_unref(k->folder_names);
    g_array_unref(k->marks);
}

/* The placemarks of folder f (1-based) with a style. */
static guint kml_count(Kml *k, guint f, const char *style)
{
    guint n = 0;
    for (guint i = 0; i < k->marks->len; i++) {
        Mark *m = &g_array_index(k->marks, Mark, i);
        n += m->folder == f && !g_strcmp0(m->style, style);
    }
    return n;
}

static const Mark *kml_first(Kml *k, guint f, const char *style)
{
    for (guint i = 0; i < k->marks->len; i++) {
        Mark *m = &g_array_index(k->marks, Mark, i);
        if (m->folder == f && !g_strcmp0(m->style, style)) return m;
    }
    return NULL;
}

/* ---- CSV ---- */

/* The records of a CSV file (GPtrArray of GStrv); its bytes also equal what the app's writer
 * makes of those records (the round trip is exact). */
static GPtrArray *csv_records(const char *path)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gCsvReader) r = s4g_csv_reader_open(path, NULL, &error);
    g_assert_no_error(error);
    GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    S4gCsvWriter w;
    s4g_csv_writer_init(&w);
    char **f;
    while ((f = s4g_csv_reader_next(r, &error))) {
        g_ptr_array_add(rows, g_strdupv(f));
        for (guint i = 0; f[i]; i++) s4g_csv_write(&w, f[i]);
        s4g_csv_end_row(&w);
    }
    g_assert_no_error(error);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_cmpstr(w.text->str, ==, text);
    s4g_csv_writer_clear(&w);
    return rows;
}

/* ---- the world ---- */

/* Renames the val split's first two panoramas to names that need quoting and writes the
 * split file back with a BOM and CRLF line ends; their new absolute paths go to out. */
static void odd_names(const char *world, char *out[2])
{
    g_autofree char *val = g_build_filename(world, "splits", "val-19zl.csv", NULL);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(val, &text, NULL, NULL));
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    const char *names[2] = {"café.jpg", "a,b \"c\".jpg"};
    const char *fields[2] = {"streetview/panos/café.jpg", "\"streetview/panos/a,b \"\"c\"\".jpg\""};
    g_autoptr(GString) s = g_string_new("\xEF\xBB\xBF");
    for (guint i = 0; lines[i] && *lines[i]; i++) {
        g_auto(GStrv) col = g_strsplit(lines[i], ",", 3);
        g_assert_cmpuint(g_strv_length(col), ==, 3);
        if (i < 2) {
            g_autofree char *from = g_build_filename(world, col[1], NULL);
            out[i] = g_build_filename(world, "streetview", "panos", names[i], NULL);
            g_assert_cmpint(g_rename(from, out[i]), ==, 0);
            g_string_append_printf(s, "%s,%s,%s\r\n", col[0], fields[i], col[2]);
        } else {
            g_string_append_printf(s, "%s,%s,%s\r\n", col[0], col[1], col[2]);
        }
    }
    g_assert_nonnull(out[1]);
    g_assert_true(g_file_set_contents(val, s->str, (gssize)s->len, NULL));
}

static void test_formats(void)
{
    const char *s4g = s4g_path;
    g_autofree char *tmp = tf_tmpdir_new("s4g-formats-XXXXXX");
    g_autofree char *world = g_build_filename(tmp, "w", NULL);
    g_autofree char *proj = g_build_filename(tmp, "p", NULL);
    const char *synth[] = {s4g, "synth", "--layout", "cvusa", "--out", world, "-n", "40",
                           "--image-scale", "0.5", "-j", "2", NULL};
    g_free(tf_run_ok(synth));
    char *photos[3] = {NULL, NULL, NULL};
    odd_names(world, photos);
    /* a photo the project does not know, named with a line break and XML's specials */
    photos[2] = g_build_filename(tmp, "new\nline <&> 'x'.jpg", NULL);
    g_autofree char *bytes = NULL;
    gsize blen = 0;
    g_assert_true(g_file_get_contents(photos[0], &bytes, &blen, NULL));
    g_assert_true(g_file_set_contents(photos[2], bytes, (gssize)blen, NULL));

    const char *imp[] = {s4g, "import", "-p", proj, "-k", "cvusa", "-n", "w", "--json",
                         world, NULL};
    g_autofree char *io = tf_run_ok(imp);
    g_autoptr(JsonParser) ip = json_parser_new();
    g_assert_cmpint(tj_int(tj_object(ip, io), "new_images"), ==, 80);
    const char *train[] = {s4g, "train", "-p", proj, "-d", "w", "-m", "m", "--ground-size",
                           "32x96", "--satellite-size", "32x32", "--epochs", "1", "--batch",
                           "8", "--backend", "cpu", "--threads", "2", NULL};
    g_free(tf_run_ok(train));

    g_autofree char *csv = g_build_filename(tmp, "p.csv", NULL);
    g_autofree char *gj = g_build_filename(tmp, "p.geojson", NULL);
    g_autofree char *kml = g_build_filename(tmp, "p.kml", NULL);
    const char *pred[] = {s4g, "predict", "-p", proj, "-d", "w", "-m", "m", "-k", "3",
                          "--backend", "cpu", "--json", "--csv", csv, "--geojson", gj, "--kml",
                          kml, photos[0], photos[1], photos[2], NULL};
    g_autofree char *po = tf_run_ok(pred);

    /* JSON lines: one object per photo, its name exactly as given */
    g_auto(GStrv) lines = g_strsplit(po, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 4); /* and the "" after the last newline */
    JsonParser *jp[3];
    JsonObject *jo[3];
    for (guint i = 0; i < 3; i++) {
        jp[i] = json_parser_new();
        jo[i] = tj_object(jp[i], lines[i]);
        g_assert_cmpstr(tj_str(jo[i], "image"), ==, photos[i]);
        g_assert_cmpuint(json_array_get_length(json_object_get_array_member(jo[i], "top")), ==, 3);
        gboolean known = i < 2;
        g_assert_cmpint(json_object_get_null_member(jo[i], "error_m"), ==, !known);
        g_assert_cmpint(json_object_get_null_member(jo[i], "true_lat"), ==, !known);
        if (known) g_assert_cmpfloat(tj_double(jo[i], "error_m"), >=, 0);
    }

    /* CSV: the header, a row per photo that agrees with the JSON */
    g_autoptr(GPtrArray) rows = csv_records(csv);
    g_assert_cmpuint(rows->len, ==, 4);
    g_autofree char *header = g_strjoinv(",", rows->pdata[0]);
    g_assert_cmpstr(header, ==, "image,lat,lon,confidence,error_m,tile,score");
    for (guint i = 0; i < 3; i++) {
        char **f = rows->pdata[i + 1];
        g_assert_cmpuint(g_strv_length(f), ==, 7);
        g_assert_cmpstr(f[0], ==, photos[i]);
        g_assert_cmpfloat(fabs(g_ascii_strtod(f[1], NULL) - tj_double(jo[i], "lat")), <, 1e-7);
        g_assert_cmpfloat(fabs(g_ascii_strtod(f[2], NULL) - tj_double(jo[i], "lon")), <, 1e-7);
        g_assert_cmpint(*f[4] == '\0', ==, i == 2); /* no truth, no error */
        JsonObject *t0 = json_array_get_object_element(json_object_get_array_member(jo[i], "top"), 0);
        g_assert_cmpstr(f[5], ==, tj_str(t0, "tile"));
    }

    /* GeoJSON */
    g_autoptr(JsonParser) gp = json_parser_new();
    g_autoptr(GError) error = NULL;
    g_assert_true(json_parser_load_from_file(gp, gj, &error));
    g_assert_no_error(error);
    JsonObject *fc = json_node_get_object(json_parser_get_root(gp));
    g_assert_cmpstr(tj_str(fc, "type"), ==, "FeatureCollection");
    JsonArray *feats = json_object_get_array_member(fc, "features");
    g_assert_cmpuint(json_array_get_length(feats), ==, 3);
    for (guint i = 0; i < 3; i++) {
        JsonObject *f = json_array_get_object_element(feats, i);
        JsonObject *props = json_object_get_object_member(f, "properties");
        g_assert_cmpstr(tj_str(props, "image"), ==, photos[i]);
        g_assert_cmpint(json_object_get_null_member(props, "error_m"), ==, i == 2);
        JsonArray *c = json_object_get_array_member(json_object_get_object_member(f, "geometry"),
                                                    "coordinates");
        g_assert_cmpfloat(json_array_get_double_element(c, 0), ==, tj_double(jo[i], "lon"));
        g_assert_cmpfloat(json_array_get_double_element(c, 1), ==, tj_double(jo[i], "lat"));
    }

    /* KML: a folder per photo with its estimate, its truth when known and the top 3 */
    Kml k = {0};
    kml_parse(kml, &k);
    g_assert_cmpuint(k.folder_names->len, ==, 3);
    for (guint i = 0; i < 3; i++) {
        g_assert_cmpstr(k.folder_names->pdata[i], ==, photos[i]);
        g_assert_cmpuint(kml_count(&k, i + 1, "estimate"), ==, 1);
        g_assert_cmpuint(kml_count(&k, i + 1, "truth"), ==, i < 2);
        g_assert_cmpuint(kml_count(&k, i + 1, "candidate"), ==, 3);
        const Mark *e = kml_first(&k, i + 1, "estimate");
        g_assert_cmpfloat(fabs(e->lat - tj_double(jo[i], "lat")), <, 1e-7);
        g_assert_cmpfloat(fabs(e->lon - tj_double(jo[i], "lon")), <, 1e-7);
        if (i < 2) {
            const Mark *t = kml_first(&k, i + 1, "truth");
            g_assert_cmpfloat(fabs(t->lat - tj_double(jo[i], "true_lat")), <, 1e-7);
            g_assert_cmpfloat(fabs(t->lon - tj_double(jo[i], "true_lon")), <, 1e-7);
        }
        const Mark *c = kml_first(&k, i + 1, "candidate");
        JsonObject *t0 = json_array_get_object_element(json_object_get_array_member(jo[i], "top"), 0);
        g_assert_cmpstr(c->name, ==, "top 1");
        g_assert_cmpfloat(fabs(c->lat - tj_double(t0, "lat")), <, 1e-7);
    }
    kml_clear(&k);

    /* export --predictions: the two photos the project knows, stored by predict */
    g_autofree char *ecsv = g_build_filename(tmp, "e.csv", NULL);
    g_autofree char *egj = g_build_filename(tmp, "e.geojson", NULL);
    g_autofree char *ekml = g_build_filename(tmp, "e.kml", NULL);
    const char *outs[3] = {ecsv, egj, ekml};
    for (guint o = 0; o < 3; o++) {
        const char *exp[] = {s4g, "export", "-p", proj, "-m", "m", "--predictions", outs[o],
                             "--refine-radius", "50", "--json", NULL};
        g_autofree char *xo = tf_run_ok(exp);
        g_autoptr(JsonParser) xp = json_parser_new();
        JsonObject *x = tj_object(xp, xo);
        g_assert_cmpstr(tj_str(x, "file"), ==, outs[o]);
        g_assert_cmpint(tj_int(x, "predictions"), ==, 2);
    }
    g_autoptr(GPtrArray) erows = csv_records(ecsv);
    g_assert_cmpuint(erows->len, ==, 3);
    g_autoptr(JsonParser) egp = json_parser_new();
    g_assert_true(json_parser_load_from_file(egp, egj, &error));
    JsonArray *efeats = json_object_get_array_member(
        json_node_get_object(json_parser_get_root(egp)), "features");
    g_assert_cmpuint(json_array_get_length(efeats), ==, 2);
    Kml ek = {0};
    kml_parse(ekml, &ek);
    g_assert_cmpuint(ek.folder_names->len, ==, 2);
    for (guint i = 0; i < 2; i++) {
        /* in image order: find the photo whose row this is */
        char **f = erows->pdata[i + 1];
        guint which = !g_strcmp0(f[0], photos[0]) ? 0 : 1;
        g_assert_cmpstr(f[0], ==, photos[which]); /* root/path, as stored */
        g_assert_cmpfloat(fabs(g_ascii_strtod(f[2], NULL) - tj_double(jo[which], "lat")), <,
                          1e-7);
        g_assert_cmpstr(f[1], ==, "w/*");
        JsonObject *props = json_object_get_object_member(
            json_array_get_object_element(efeats, i), "properties");
        g_assert_cmpstr(tj_str(props, "image"), ==, photos[which]);
        g_assert_cmpstr(ek.folder_names->pdata[i], ==, photos[which]);
        g_assert_cmpuint(kml_count(&ek, i + 1, "truth"), ==, 1);
        g_assert_cmpuint(kml_count(&ek, i + 1, "candidate"), ==, 3);
    }
    kml_clear(&ek);
    for (guint i = 0; i < 3; i++) {
        g_object_unref(jp[i]);
        g_free(photos[i]);
    }
    tf_rmtree(tmp);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_assert_cmpint(argc, >=, 2);
    s4g_path = argv[1];
    g_test_add_func("/cli/formats/predictions", test_formats);
    return g_test_run();
}
