/* s4g-json.c — strict recursive-descent JSON parser; see s4g-json.h. */
#include "s4g-json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

typedef struct {
    const char *s;
    size_t n, i;
    s4g_err *err;
} P;

static int fail(P *p, const char *what)
{
    return s4g_fail(p->err, S4G_E_FORMAT, "JSON: %s at byte %zu", what, p->i);
}

static void ws(P *p)
{
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' ||
                           p->s[p->i] == '\r'))
        p->i++;
}

static s4g_json *node(P *p, s4g_json_type t)
{
    s4g_json *j = calloc(1, sizeof *j);
    if (!j)
        s4g_fail(p->err, S4G_E_NOMEM, "JSON: out of memory");
    else
        j->type = t;
    return j;
}

static int lit(P *p, const char *word)
{
    size_t l = strlen(word);
    if (p->n - p->i < l || memcmp(p->s + p->i, word, l) != 0)
        return fail(p, "invalid literal");
    p->i += l;
    return 0;
}

static int hex4(P *p, unsigned *out)
{
    if (p->n - p->i < 4)
        return fail(p, "truncated \\u escape");
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p->s[p->i++];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return fail(p, "bad hex digit in \\u escape");
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Parses a string starting at '"'; result malloc'd (decoded length <= raw length + 1). */
static int str(P *p, char **out, size_t *outlen)
{
    if (p->i >= p->n || p->s[p->i] != '"')
        return fail(p, "expected string");
    p->i++;
    size_t start = p->i, end = start;
    /* find the closing quote to size the buffer */
    while (end < p->n && p->s[end] != '"') {
        if (p->s[end] == '\\')
            end++;
        end++;
    }
    if (end >= p->n)
        return fail(p, "unterminated string");
    char *o = malloc(end - start + 1);
    if (!o)
        return s4g_fail(p->err, S4G_E_NOMEM, "JSON: out of memory");
    size_t k = 0;
    while (p->i < p->n && p->s[p->i] != '"') {
        unsigned char c = (unsigned char)p->s[p->i];
        if (c < 0x20) {
            free(o);
            return fail(p, "control character in string");
        }
        if (c != '\\') {
            o[k++] = (char)c;
            p->i++;
            continue;
        }
        p->i++;
        if (p->i >= p->n) {
            free(o);
            return fail(p, "truncated escape");
        }
        char e = p->s[p->i++];
        unsigned cp;
        switch (e) {
        case '"': o[k++] = '"'; break;
        case '\\': o[k++] = '\\'; break;
        case '/': o[k++] = '/'; break;
        case 'b': o[k++] = '\b'; break;
        case 'f': o[k++] = '\f'; break;
        case 'n': o[k++] = '\n'; break;
        case 'r': o[k++] = '\r'; break;
        case 't': o[k++] = '\t'; break;
        case 'u':
            if (hex4(p, &cp)) {
                free(o);
                return -1;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (p->n - p->i < 2 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u') {
                    free(o);
                    return fail(p, "unpaired surrogate");
                }
                p->i += 2;
                if (hex4(p, &lo)) {
                    free(o);
                    return -1;
                }
                if (lo < 0xDC00 || lo > 0xDFFF) {
                    free(o);
                    return fail(p, "bad low surrogate");
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                free(o);
                return fail(p, "unpaired surrogate");
            }
            /* 6 escape bytes (12 for a pair) always cover the <= 4 UTF-8 bytes */
            k += put_utf8(o + k, cp);
            break;
        default:
            free(o);
            return fail(p, "invalid escape");
        }
    }
    p->i++; /* closing quote */
    o[k] = '\0';
    *out = o;
    *outlen = k;
    return 0;
}

static int num(P *p, s4g_json *j)
{
    size_t st = p->i;
    if (p->i < p->n && p->s[p->i] == '-')
        p->i++;
    if (p->i >= p->n)
        return fail(p, "truncated number");
    if (p->s[p->i] == '0')
        p->i++;
    else if (p->s[p->i] >= '1' && p->s[p->i] <= '9')
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
            p->i++;
    else
        return fail(p, "invalid number");
    int integral = 1;
    if (p->i < p->n && p->s[p->i] == '.') {
        integral = 0;
        p->i++;
        size_t d = p->i;
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
            p->i++;
        if (p->i == d)
            return fail(p, "digit expected after '.'");
    }
    if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        integral = 0;
        p->i++;
        if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
            p->i++;
        size_t d = p->i;
        while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
            p->i++;
        if (p->i == d)
            return fail(p, "digit expected in exponent");
    }
    size_t l = p->i - st;
    if (l > 63)
        return fail(p, "number too long");
    char tmp[64];
    memcpy(tmp, p->s + st, l);
    tmp[l] = '\0';
    j->number = strtod(tmp, NULL);
    if (integral) {
        /* exact int64 parse, rejecting overflow */
        int neg = tmp[0] == '-';
        uint64_t v = 0;
        int ok = 1;
        for (const char *c = tmp + neg; *c; c++) {
            uint64_t d = (uint64_t)(*c - '0');
            if (v > (UINT64_MAX - d) / 10) {
                ok = 0;
                break;
            }
            v = v * 10 + d;
        }
        if (ok && (neg ? v <= (uint64_t)INT64_MAX + 1 : v <= (uint64_t)INT64_MAX)) {
            j->is_int = 1;
            j->integer = neg ? (int64_t)(0 - v) : (int64_t)v;
        }
    }
    return 0;
}

static s4g_json *value(P *p, int depth);

static int push(P *p, s4g_json *parent, s4g_json *child, char *key)
{
    size_t c = parent->count;
    if ((c & (c - 1)) == 0) { /* grow at powers of two */
        size_t cap = c ? 2 * c : 1;
        s4g_json **it = realloc(parent->items, cap * sizeof *it);
        if (!it)
            return s4g_fail(p->err, S4G_E_NOMEM, "JSON: out of memory");
        parent->items = it;
        if (parent->type == S4G_JSON_OBJECT) {
            char **ks = realloc(parent->keys, cap * sizeof *ks);
            if (!ks)
                return s4g_fail(p->err, S4G_E_NOMEM, "JSON: out of memory");
            parent->keys = ks;
        }
    }
    parent->items[c] = child;
    if (parent->type == S4G_JSON_OBJECT)
        parent->keys[c] = key;
    parent->count = c + 1;
    return 0;
}

static s4g_json *container(P *p, int depth, int is_obj)
{
    s4g_json *j = node(p, is_obj ? S4G_JSON_OBJECT : S4G_JSON_ARRAY);
    if (!j)
        return NULL;
    char close = is_obj ? '}' : ']';
    p->i++;
    ws(p);
    if (p->i < p->n && p->s[p->i] == close) {
        p->i++;
        return j;
    }
    for (;;) {
        char *key = NULL;
        size_t klen;
        ws(p);
        if (is_obj) {
            if (str(p, &key, &klen))
                goto bad;
            ws(p);
            if (p->i >= p->n || p->s[p->i] != ':') {
                free(key);
                fail(p, "expected ':'");
                goto bad;
            }
            p->i++;
        }
        s4g_json *v = value(p, depth + 1);
        if (!v || push(p, j, v, key)) {
            free(key);
            s4g_json_free(v);
            goto bad;
        }
        ws(p);
        if (p->i >= p->n) {
            fail(p, "unterminated container");
            goto bad;
        }
        if (p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->s[p->i] == close) {
            p->i++;
            return j;
        }
        fail(p, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
        goto bad;
    }
bad:
    s4g_json_free(j);
    return NULL;
}

static s4g_json *value(P *p, int depth)
{
    if (depth > MAX_DEPTH) {
        fail(p, "nesting too deep");
        return NULL;
    }
    ws(p);
    if (p->i >= p->n) {
        fail(p, "unexpected end of input");
        return NULL;
    }
    char c = p->s[p->i];
    s4g_json *j;
    switch (c) {
    case '{': return container(p, depth, 1);
    case '[': return container(p, depth, 0);
    case '"':
        j = node(p, S4G_JSON_STRING);
        if (j && str(p, &j->str, &j->len)) {
            free(j);
            return NULL;
        }
        return j;
    case 't':
    case 'f':
        j = node(p, S4G_JSON_BOOL);
        if (j && lit(p, c == 't' ? "true" : "false")) {
            free(j);
            return NULL;
        }
        if (j)
            j->boolean = c == 't';
        return j;
    case 'n':
        j = node(p, S4G_JSON_NULL);
        if (j && lit(p, "null")) {
            free(j);
            return NULL;
        }
        return j;
    default:
        j = node(p, S4G_JSON_NUMBER);
        if (j && num(p, j)) {
            free(j);
            return NULL;
        }
        return j;
    }
}

s4g_json *s4g_json_parse(const char *buf, size_t len, s4g_err *err)
{
    P p = {buf, len, 0, err};
    s4g_json *j = value(&p, 0);
    if (!j)
        return NULL;
    ws(&p);
    if (p.i != p.n) {
        fail(&p, "trailing characters after the value");
        s4g_json_free(j);
        return NULL;
    }
    return j;
}

void s4g_json_free(s4g_json *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->count; i++) {
        s4g_json_free(j->items[i]);
        if (j->keys)
            free(j->keys[i]);
    }
    free(j->items);
    free(j->keys);
    free(j->str);
    free(j);
}

const s4g_json *s4g_json_get(const s4g_json *obj, const char *key)
{
    if (!obj || obj->type != S4G_JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < obj->count; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return obj->items[i];
    return NULL;
}
