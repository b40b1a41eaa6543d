/* s4g-json-out.c — JSON through json-glib's builder and generator (s4g-json-out.h). */
#include "s4g-json-out.h"

#include <math.h>

static void key_of(JsonBuilder *b, const char *key)
{
    if (key) json_builder_set_member_name(b, key);
}

void s4g_json_add_string(JsonBuilder *b, const char *key, const char *value)
{
    key_of(b, key);
    if (!value) {
        json_builder_add_null_value(b);
    } else if (g_utf8_validate(value, -1, NULL)) {
        json_builder_add_string_value(b, value);
    } else {
        g_autofree char *valid = g_utf8_make_valid(value, -1);
        json_builder_add_string_value(b, valid);
    }
}

void s4g_json_add_double(JsonBuilder *b, const char *key, double value)
{
    key_of(b, key);
    if (isfinite(value))
        json_builder_add_double_value(b, value);
    else
        json_builder_add_null_value(b);
}

void s4g_json_add_int(JsonBuilder *b, const char *key, gint64 value)
{
    key_of(b, key);
    json_builder_add_int_value(b, value);
}

void s4g_json_add_bool(JsonBuilder *b, const char *key, gboolean value)
{
    key_of(b, key);
    json_builder_add_boolean_value(b, value);
}

void s4g_json_add_null(JsonBuilder *b, const char *key)
{
    key_of(b, key);
    json_builder_add_null_value(b);
}

void s4g_json_begin_object(JsonBuilder *b, const char *key)
{
    key_of(b, key);
    json_builder_begin_object(b);
}

void s4g_json_begin_array(JsonBuilder *b, const char *key)
{
    key_of(b, key);
    json_builder_begin_array(b);
}

void s4g_geojson_begin_collection(JsonBuilder *b)
{
    json_builder_begin_object(b);
    s4g_json_add_string(b, "type", "FeatureCollection");
    s4g_json_begin_array(b, "features");
}

void s4g_geojson_end_collection(JsonBuilder *b)
{
    json_builder_end_array(b);
    json_builder_end_object(b);
}

void s4g_geojson_begin_point(JsonBuilder *b, double lon, double lat)
{
    json_builder_begin_object(b);
    s4g_json_add_string(b, "type", "Feature");
    s4g_json_begin_object(b, "geometry");
    s4g_json_add_string(b, "type", "Point");
    s4g_json_begin_array(b, "coordinates");
    s4g_json_add_double(b, NULL, lon);
    s4g_json_add_double(b, NULL, lat);
    json_builder_end_array(b);
    json_builder_end_object(b);
    s4g_json_begin_object(b, "properties");
}

void s4g_geojson_end_feature(JsonBuilder *b)
{
    json_builder_end_object(b); /* properties */
    json_builder_end_object(b);
}

static char *generate(JsonBuilder *b, gboolean pretty)
{
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, pretty);
    json_generator_set_indent(gen, 2);
    return json_generator_to_data(gen, NULL);
}

char *s4g_json_to_string(JsonBuilder *b)
{
    return generate(b, FALSE);
}

char *s4g_json_to_pretty_string(JsonBuilder *b)
{
    g_autofree char *s = generate(b, TRUE);
    return g_strconcat(s, "\n", NULL);
}

void s4g_json_print(JsonBuilder *b, FILE *out)
{
    g_autofree char *s = s4g_json_to_string(b);
    fprintf(out, "%s\n", s);
    fflush(out);
}

gboolean s4g_json_save(JsonBuilder *b, const char *path, GError **error)
{
    g_autofree char *s = s4g_json_to_string(b);
    g_autofree char *line = g_strconcat(s, "\n", NULL);
    return g_file_set_contents(path, line, -1, error);
}
