/* s4g-test-json.h — what the CLI tests share to read the commands' --json output: one line
 * parsed by json-glib's JsonParser (a real parser: what does not parse fails the test). */
#ifndef S4G_TEST_JSON_H
#define S4G_TEST_JSON_H

#include <json-glib/json-glib.h>

/* The object `text` holds (its parser p owns it); the test fails when it is not one. */
static inline JsonObject *tj_object(JsonParser *p, const char *text)
{
    g_autoptr(GError) error = NULL;
    if (!json_parser_load_from_data(p, text, -1, &error))
        g_error("not JSON (%s): %s", error->message, text);
    JsonNode *root = json_parser_get_root(p);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) g_error("not a JSON object: %s", text);
    return json_node_get_object(root);
}

/* A member of an object that must be there, as an integer, double or string. */
static inline gint64 tj_int(JsonObject *o, const char *member)
{
    g_assert_true(json_object_has_member(o, member));
    return json_object_get_int_member(o, member);
}

static inline double tj_double(JsonObject *o, const char *member)
{
    g_assert_true(json_object_has_member(o, member));
    return json_object_get_double_member(o, member);
}

static inline const char *tj_str(JsonObject *o, const char *member)
{
    g_assert_true(json_object_has_member(o, member));
    return json_object_get_string_member(o, member);
}

#endif
