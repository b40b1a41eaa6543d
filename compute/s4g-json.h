/* s4g-json.h — a small strict JSON parser (RFC 8259) for file headers such as safetensors'.
 *
 * Parses a byte range (not NUL-terminated) into a tree; every read is bounds-checked, nesting
 * is limited, and errors give the byte offset.  Strings are decoded to UTF-8 (\uXXXX and
 * surrogate pairs included) and NUL-terminated; numbers are kept as double and, when exactly
 * integral, as int64.
 */
#ifndef S4G_JSON_H
#define S4G_JSON_H

#include "s4g-error.h"

#include <stddef.h>
#include <stdint.h>

typedef enum {
    S4G_JSON_NULL,
    S4G_JSON_BOOL,
    S4G_JSON_NUMBER,
    S4G_JSON_STRING,
    S4G_JSON_ARRAY,
    S4G_JSON_OBJECT,
} s4g_json_type;

typedef struct s4g_json s4g_json;
struct s4g_json {
    s4g_json_type type;
    int boolean;
    double number;
    int is_int;     /* number is an integer that fits int64 exactly */
    int64_t integer;
    char *str;      /* STRING: value; NUL-terminated (may contain NUL; see len) */
    size_t len;
    /* ARRAY / OBJECT children; for OBJECT, keys[i] names items[i] */
    size_t count;
    s4g_json **items;
    char **keys;
};

/* Parses exactly one value (surrounding whitespace allowed) from buf[0..len). */
s4g_json *s4g_json_parse(const char *buf, size_t len, s4g_err *err);
void s4g_json_free(s4g_json *j);
/* Member of an object by key, or NULL. */
const s4g_json *s4g_json_get(const s4g_json *obj, const char *key);

#endif
