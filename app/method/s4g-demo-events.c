/* s4g-demo-events.c — `s4g demo --json` progress events (see the header). */
#include "s4g-demo-events.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>

const char *const S4G_DEMO_STEPS[S4G_DEMO_N_STEPS] = {"synth",   "import",  "train", "eval",
                                                      "predict", "gallery", "locate"};

char *s4g_demo_event_to_json(const S4gDemoEvent *ev)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "event");
    if (ev->kind == S4G_DEMO_EVENT_STEP) {
        json_builder_add_string_value(b, "demo-step");
        json_builder_set_member_name(b, "step");
        json_builder_add_int_value(b, ev->step);
        json_builder_set_member_name(b, "steps");
        json_builder_add_int_value(b, ev->steps);
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, ev->name ? ev->name : "");
    } else {
        json_builder_add_string_value(b, "demo-done");
        json_builder_set_member_name(b, "project");
        g_autofree char *p = g_utf8_make_valid(ev->project ? ev->project : "", -1);
        json_builder_add_string_value(b, p);
    }
    json_builder_end_object(b);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

static gboolean bad(GError **error, guint line, const char *what, const char *field)
{
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "demo output line %u: field “%s” missing or not %s", line, field, what);
    return FALSE;
}

static gboolean get_int(JsonObject *o, const char *field, guint line, int *out, GError **error)
{
    JsonNode *n = json_object_get_member(o, field);
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
        return bad(error, line, "an integer", field);
    *out = (int)json_node_get_int(n);
    return TRUE;
}

static gboolean get_string(JsonObject *o, const char *field, guint line, char **out,
                           GError **error)
{
    JsonNode *n = json_object_get_member(o, field);
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return bad(error, line, "a string", field);
    *out = g_strdup(json_node_get_string(n));
    return TRUE;
}

gboolean s4g_demo_event_parse(const char *line, guint line_number, S4gDemoEvent *ev,
                              GError **error)
{
    *ev = (S4gDemoEvent){0};
    g_autoptr(JsonParser) p = json_parser_new();
    g_autoptr(GError) jerr = NULL;
    if (!json_parser_load_from_data(p, line, -1, &jerr)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "demo output line %u: %s",
                    line_number, jerr->message);
        return FALSE;
    }
    JsonNode *root = json_parser_get_root(p);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "demo output line %u: not a JSON object", line_number);
        return FALSE;
    }
    JsonObject *o = json_node_get_object(root);
    g_autofree char *kind = NULL;
    if (!get_string(o, "event", line_number, &kind, error)) return FALSE;
    gboolean ok;
    if (g_str_equal(kind, "demo-step")) {
        ev->kind = S4G_DEMO_EVENT_STEP;
        ok = get_int(o, "step", line_number, &ev->step, error) &&
             get_int(o, "steps", line_number, &ev->steps, error) &&
             get_string(o, "name", line_number, &ev->name, error);
        if (ok && (ev->steps < 1 || ev->step < 1 || ev->step > ev->steps)) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        "demo output line %u: step %d of %d is out of range", line_number,
                        ev->step, ev->steps);
            ok = FALSE;
        }
    } else if (g_str_equal(kind, "demo-done")) {
        ev->kind = S4G_DEMO_EVENT_DONE;
        ok = get_string(o, "project", line_number, &ev->project, error);
    } else {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "demo output line %u: unknown event “%s”", line_number, kind);
        ok = FALSE;
    }
    if (!ok) s4g_demo_event_clear(ev);
    return ok;
}

void s4g_demo_event_clear(S4gDemoEvent *ev)
{
    g_clear_pointer(&ev->name, g_free);
    g_clear_pointer(&ev->project, g_free);
}
