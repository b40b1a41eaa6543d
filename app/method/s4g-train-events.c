/* s4g-train-events.c — training events as JSON lines (see the header). */
#include "s4g-train-events.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stddef.h>

G_DEFINE_QUARK(s4g - train - events - error - quark, s4g_train_events_error)

typedef enum {
    F_INT64,    /* gint64 */
    F_UINT,     /* guint */
    F_UINT64,   /* guint64 */
    F_DOUBLE,   /* double: null when not finite */
    F_OPTIONAL, /* double: left out when the double at `gate` is NaN */
    F_STRING,   /* const char * */
} FieldType;

typedef struct {
    const char *name;
    FieldType type;
    size_t offset; /* into S4gTrainEvent */
    size_t gate;   /* F_OPTIONAL: the field is present only when this double is not NaN */
} Field;

/* clang-format off */
#define FIELD(name, type, member) {name, type, offsetof(S4gTrainEvent, member), 0}
#define OPTIONAL(name, member, gate) \
    {name, F_OPTIONAL, offsetof(S4gTrainEvent, member), offsetof(S4gTrainEvent, gate)}

static const Field start_fields[] = {
    FIELD("run", F_INT64, run),
    FIELD("model", F_INT64, model),
    FIELD("device", F_STRING, device),
    FIELD("pairs", F_UINT, n_pairs),
    FIELD("references", F_UINT, n_refs),
    FIELD("excluded", F_UINT, n_excluded),
    FIELD("total_steps", F_INT64, total_steps),
    FIELD("warmup_steps", F_DOUBLE, warmup_steps),
    FIELD("epoch", F_UINT, epoch),
};

static const Field step_fields[] = {
    FIELD("step", F_INT64, step),
    FIELD("epoch", F_DOUBLE, epoch_progress),
    FIELD("loss", F_DOUBLE, loss),
    FIELD("lr", F_DOUBLE, lr),
    FIELD("logit_scale", F_DOUBLE, logit_scale),
    FIELD("pairs_per_s", F_DOUBLE, pairs_per_s),
    FIELD("eta_s", F_DOUBLE, eta_s),
};

static const Field eval_fields[] = {
    FIELD("epoch", F_UINT, epoch),
    FIELD("r1", F_DOUBLE, metrics.r1),
    FIELD("r5", F_DOUBLE, metrics.r5),
    FIELD("r10", F_DOUBLE, metrics.r10),
    FIELD("r1pct", F_DOUBLE, metrics.r1pct),
    FIELD("queries", F_UINT64, metrics.queries),
    FIELD("refs", F_UINT64, metrics.refs),
    OPTIONAL("hit_rate", metrics.hit_rate, metrics.hit_rate),
    OPTIONAL("ap", metrics.ap, metrics.ap),
    FIELD("chance_r1", F_DOUBLE, chance_r1),
};

static const Field mined_fields[] = {
    FIELD("kind", F_STRING, what),
    FIELD("epoch", F_UINT, epoch),
    /* a GPS mining has no train recall (r1 NaN, r5 unset) */
    OPTIONAL("train_r1", metrics.r1, metrics.r1),
    OPTIONAL("train_r5", metrics.r5, metrics.r1),
};

static const Field checkpoint_fields[] = {
    FIELD("path", F_STRING, what),
};

static const Field encode_fields[] = {
    FIELD("what", F_STRING, what),
    FIELD("epoch", F_UINT, epoch),
    FIELD("done", F_INT64, step),
    FIELD("total", F_INT64, total_steps),
};

static const Field end_fields[] = {
    FIELD("run", F_INT64, run),
    FIELD("model", F_INT64, model),
    FIELD("state", F_STRING, what),
    FIELD("step", F_INT64, step),
};

static const Field error_fields[] = {
    FIELD("run", F_INT64, run),
    FIELD("message", F_STRING, what),
};

/* clang-format on */

typedef struct {
    const char *name;
    const Field *fields;
    guint n_fields;
} Kind;

#define KIND(k, name, fields) [k] = {name, fields, G_N_ELEMENTS(fields)}

static const Kind kinds[] = {
    KIND(S4G_TRAIN_EVENT_START, "start", start_fields),
    KIND(S4G_TRAIN_EVENT_STEP, "step", step_fields),
    KIND(S4G_TRAIN_EVENT_EVAL, "eval", eval_fields),
    KIND(S4G_TRAIN_EVENT_MINED, "mined", mined_fields),
    KIND(S4G_TRAIN_EVENT_CHECKPOINT, "checkpoint", checkpoint_fields),
    KIND(S4G_TRAIN_EVENT_END, "end", end_fields),
    KIND(S4G_TRAIN_EVENT_ENCODE, "encode", encode_fields),
    KIND(S4G_TRAIN_EVENT_ERROR, "error", error_fields),
};

const char *s4g_train_event_kind_name(S4gTrainEventKind kind)
{
    g_return_val_if_fail((guint)kind < G_N_ELEMENTS(kinds), NULL);
    return kinds[kind].name;
}

/* ---- writer ------------------------------------------------------------------------ */

/* `"name": value`; the name (and a string value) serialised by json-glib. */
static void put_member(GString *s, const char *name, const char *value)
{
    g_autoptr(JsonNode) key = json_node_init_string(json_node_alloc(), name);
    g_autofree char *k = json_to_string(key, FALSE);
    g_string_append_printf(s, "%s%s: %s", s->len > 1 ? ", " : "", k, value);
}

/* The shortest text that reads back as the same double ("2.5224", not json-glib's
 * "2.5224000000000002"), null when not finite (JSON has no NaN). */
static char *number_text(double v)
{
    if (!isfinite(v)) return g_strdup("null");
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    for (int digits = 15; digits < 17; digits++) {
        char format[8];
        g_snprintf(format, sizeof format, "%%.%dg", digits);
        g_ascii_formatd(buf, sizeof buf, format, v);
        if (g_ascii_strtod(buf, NULL) == v) return g_strdup(buf);
    }
    return g_strdup(g_ascii_formatd(buf, sizeof buf, "%.17g", v));
}

static char *string_text(const char *v)
{
    if (!v) return g_strdup("null");
    g_autofree char *valid = g_utf8_make_valid(v, -1);
    g_autoptr(JsonNode) node = json_node_init_string(json_node_alloc(), valid);
    return json_to_string(node, FALSE);
}

char *s4g_train_event_to_json(const S4gTrainEvent *ev)
{
    g_return_val_if_fail(ev && (guint)ev->kind < G_N_ELEMENTS(kinds), NULL);
    const Kind *k = &kinds[ev->kind];
    GString *s = g_string_new("{");
    g_autofree char *event = string_text(k->name);
    put_member(s, "event", event);
    for (guint i = 0; i < k->n_fields; i++) {
        const Field *f = &k->fields[i];
        const char *at = (const char *)ev + f->offset;
        g_autofree char *value = NULL;
        switch (f->type) {
        case F_INT64:
            value = g_strdup_printf("%" G_GINT64_FORMAT, *(const gint64 *)at);
            break;
        case F_UINT:
            value = g_strdup_printf("%u", *(const guint *)at);
            break;
        case F_UINT64:
            value = g_strdup_printf("%" G_GUINT64_FORMAT, *(const guint64 *)at);
            break;
        case F_OPTIONAL:
            if (isnan(*(const double *)((const char *)ev + f->gate))) continue;
            /* fall through */
        case F_DOUBLE:
            value = number_text(*(const double *)at);
            break;
        case F_STRING:
            value = string_text(*(const char *const *)at);
            break;
        }
        put_member(s, f->name, value);
    }
    g_string_append_c(s, '}');
    return g_string_free(s, FALSE);
}

/* ---- parser ------------------------------------------------------------------------ */

static gboolean field_error(GError **error, guint line, const char *field, const char *what)
{
    g_set_error(error, S4G_TRAIN_EVENTS_ERROR, S4G_TRAIN_EVENTS_ERROR_INVALID,
                "training output line %u: field “%s” %s", line, field, what);
    return FALSE;
}

/* An integer field: a JSON integer (or a double with an integral value). */
static gboolean read_integer(JsonNode *n, gint64 *out)
{
    GType t = json_node_get_value_type(n);
    if (t == G_TYPE_INT64) {
        *out = json_node_get_int(n);
        return TRUE;
    }
    if (t != G_TYPE_DOUBLE) return FALSE;
    double d = json_node_get_double(n);
    if (d != floor(d) || fabs(d) > 9007199254740992.0) return FALSE;
    *out = (gint64)d;
    return TRUE;
}

/* Stores member `f` of `o` into `ev`; an absent member or null keeps the default. */
static gboolean read_field(JsonObject *o, const Field *f, S4gTrainEvent *ev, guint line,
                           GError **error)
{
    JsonNode *n = json_object_get_member(o, f->name);
    if (!n || JSON_NODE_HOLDS_NULL(n)) return TRUE;
    char *at = (char *)ev + f->offset;
    gboolean value = JSON_NODE_HOLDS_VALUE(n);
    GType t = value ? json_node_get_value_type(n) : G_TYPE_INVALID;
    gint64 i;
    switch (f->type) {
    case F_INT64:
    case F_UINT:
    case F_UINT64:
        if (!value || !read_integer(n, &i))
            return field_error(error, line, f->name, "is not an integer");
        if (f->type != F_INT64 && i < 0) return field_error(error, line, f->name, "is negative");
        if (f->type == F_INT64) *(gint64 *)at = i;
        if (f->type == F_UINT64) *(guint64 *)at = (guint64)i;
        if (f->type == F_UINT) {
            if (i > G_MAXUINT) return field_error(error, line, f->name, "is out of range");
            *(guint *)at = (guint)i;
        }
        return TRUE;
    case F_DOUBLE:
    case F_OPTIONAL:
        if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64)
            return field_error(error, line, f->name, "is not a number");
        *(double *)at = json_node_get_double(n);
        return TRUE;
    case F_STRING:
        if (t != G_TYPE_STRING) return field_error(error, line, f->name, "is not a string");
        *(char **)at = g_strdup(json_node_get_string(n));
        return TRUE;
    }
    g_assert_not_reached();
}

/* The kind named by "event", or inferred for untagged lines. */
static gboolean event_kind(JsonObject *o, guint line, S4gTrainEventKind *kind, GError **error)
{
    JsonNode *n = json_object_get_member(o, "event");
    if (!n) {
        *kind = json_object_has_member(o, "r1") ? S4G_TRAIN_EVENT_EVAL : S4G_TRAIN_EVENT_STEP;
        return TRUE;
    }
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return field_error(error, line, "event", "is not a string");
    const char *name = json_node_get_string(n);
    for (guint k = 0; k < G_N_ELEMENTS(kinds); k++)
        if (g_strcmp0(kinds[k].name, name) == 0) {
            *kind = (S4gTrainEventKind)k;
            return TRUE;
        }
    g_set_error(error, S4G_TRAIN_EVENTS_ERROR, S4G_TRAIN_EVENTS_ERROR_UNKNOWN,
                "training output line %u: unknown event “%s”", line, name);
    return FALSE;
}

/* What a consumer cannot do without. */
static gboolean check_required(JsonObject *o, const S4gTrainEvent *ev, guint line, GError **error)
{
    if (ev->kind == S4G_TRAIN_EVENT_STEP) {
        JsonNode *step = json_object_get_member(o, "step");
        if (!step || JSON_NODE_HOLDS_NULL(step))
            return field_error(error, line, "step", "missing or not a number");
        if (!isfinite(ev->loss))
            return field_error(error, line, "loss", "missing or not a finite number");
    }
    if (ev->kind == S4G_TRAIN_EVENT_EVAL && isnan(ev->metrics.r1))
        return field_error(error, line, "r1", "missing or not a number");
    return TRUE;
}

S4gTrainEvent *s4g_train_event_parse(const char *line, guint line_number, GError **error)
{
    g_return_val_if_fail(line != NULL, NULL);
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) json_error = NULL;
    if (!json_parser_load_from_data(parser, line, -1, &json_error)) {
        g_set_error(error, S4G_TRAIN_EVENTS_ERROR, S4G_TRAIN_EVENTS_ERROR_INVALID,
                    "training output line %u: %s", line_number, json_error->message);
        return NULL;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, S4G_TRAIN_EVENTS_ERROR, S4G_TRAIN_EVENTS_ERROR_INVALID,
                    "training output line %u: expected a JSON object", line_number);
        return NULL;
    }
    JsonObject *o = json_node_get_object(root);
    S4gTrainEventKind kind;
    if (!event_kind(o, line_number, &kind, error)) return NULL;
    g_autoptr(S4gTrainEvent) ev = g_new0(S4gTrainEvent, 1);
    ev->kind = kind;
    ev->epoch_progress = ev->loss = ev->lr = ev->logit_scale = ev->pairs_per_s = ev->eta_s = NAN;
    ev->metrics.r1 = ev->metrics.r5 = ev->metrics.r10 = ev->metrics.r1pct = NAN;
    ev->metrics.hit_rate = ev->metrics.ap = ev->chance_r1 = ev->warmup_steps = NAN;
    const Kind *k = &kinds[kind];
    for (guint i = 0; i < k->n_fields; i++)
        if (!read_field(o, &k->fields[i], ev, line_number, error)) return NULL;
    if (!check_required(o, ev, line_number, error)) return NULL;
    return g_steal_pointer(&ev);
}

void s4g_train_event_free(S4gTrainEvent *ev)
{
    if (!ev) return;
    g_free((char *)ev->what);
    g_free((char *)ev->device);
    g_free(ev);
}
