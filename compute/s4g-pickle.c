/* s4g-pickle.c — restricted unpickler for state dicts; see s4g-pickle.h. */
#include "s4g-pickle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STACK (1u << 20)
#define MAX_MARKS (1u << 16)

typedef struct {
    s4g_pickle *pk;
    const uint8_t *p, *end, *start;
    const char *label;
    s4g_err *err;
    s4g_pk **stack;
    size_t sp, scap;
    size_t *marks;
    size_t nmarks, mcap;
    s4g_pk **memo;
    size_t nmemo, memo_limit;
} vm;

static int fail_at(vm *v, const char *what)
{
    return s4g_fail(v->err, S4G_E_FORMAT, "%s: %s at byte %zu", v->label, what,
                    (size_t)(v->p - v->start));
}

static s4g_pk *node(vm *v, s4g_pk_kind k)
{
    s4g_pk *x = calloc(1, sizeof *x);
    if (!x) {
        s4g_fail(v->err, S4G_E_NOMEM, "%s: out of memory", v->label);
        return NULL;
    }
    x->kind = k;
    x->next_alloc = v->pk->nodes;
    v->pk->nodes = x;
    return x;
}

static int push(vm *v, s4g_pk *x)
{
    if (!x)
        return -1;
    if (v->sp == v->scap) {
        if (v->scap >= MAX_STACK)
            return fail_at(v, "pickle stack too deep");
        size_t nc = v->scap ? v->scap * 2 : 64;
        s4g_pk **s = realloc(v->stack, nc * sizeof *s);
        if (!s)
            return s4g_fail(v->err, S4G_E_NOMEM, "%s: out of memory", v->label);
        v->stack = s;
        v->scap = nc;
    }
    v->stack[v->sp++] = x;
    return 0;
}

static size_t floor_sp(const vm *v) { return v->nmarks ? v->marks[v->nmarks - 1] : 0; }

static s4g_pk *pop(vm *v)
{
    if (v->sp <= floor_sp(v)) {
        fail_at(v, "pickle stack underflow");
        return NULL;
    }
    return v->stack[--v->sp];
}

static s4g_pk *top(vm *v)
{
    if (v->sp <= floor_sp(v)) {
        fail_at(v, "pickle stack underflow");
        return NULL;
    }
    return v->stack[v->sp - 1];
}

static int pop_mark(vm *v, size_t *from)
{
    if (!v->nmarks)
        return fail_at(v, "pickle MARK missing");
    *from = v->marks[--v->nmarks];
    return 0;
}

/* the object below the items of a MARK popped at `from` (SETITEMS, APPENDS) */
static s4g_pk *below_mark(vm *v, size_t from)
{
    if (from <= floor_sp(v)) {
        fail_at(v, "pickle stack underflow");
        return NULL;
    }
    return v->stack[from - 1];
}

static int add_item(vm *v, s4g_pk *c, s4g_pk *key, s4g_pk *val)
{
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 8;
        s4g_pk **it = realloc(c->items, nc * sizeof *it);
        if (!it)
            return s4g_fail(v->err, S4G_E_NOMEM, "%s: out of memory", v->label);
        c->items = it;
        if (c->kind == S4G_PK_DICT) {
            s4g_pk **k = realloc(c->keys, nc * sizeof *k);
            if (!k)
                return s4g_fail(v->err, S4G_E_NOMEM, "%s: out of memory", v->label);
            c->keys = k;
        }
        c->cap = nc;
    }
    if (c->kind == S4G_PK_DICT)
        c->keys[c->n] = key; /* a repeated key is kept twice: consumers refuse it */
    c->items[c->n++] = val;
    return 0;
}

static int need(vm *v, size_t n)
{
    if ((size_t)(v->end - v->p) < n)
        return fail_at(v, "pickle truncated");
    return 0;
}

static uint64_t le(const uint8_t *p, int n)
{
    uint64_t x = 0;
    for (int i = n - 1; i >= 0; i--)
        x = x << 8 | p[i];
    return x;
}

static s4g_pk *make_str(vm *v, s4g_pk_kind k, const uint8_t *s, size_t n)
{
    s4g_pk *x = node(v, k);
    if (!x)
        return NULL;
    x->str = malloc(n + 1);
    if (!x->str) {
        s4g_fail(v->err, S4G_E_NOMEM, "%s: out of memory", v->label);
        return NULL;
    }
    memcpy(x->str, s, n);
    x->str[n] = 0;
    x->slen = n;
    return x;
}

static const struct {
    const char *name;
    s4g_dtype dt;
} storages[] = {
    {"torch.FloatStorage", S4G_DT_F32},  {"torch.HalfStorage", S4G_DT_F16},
    {"torch.BFloat16Storage", S4G_DT_BF16}, {"torch.DoubleStorage", S4G_DT_F64},
    {"torch.LongStorage", S4G_DT_I64},   {"torch.IntStorage", S4G_DT_I32},
    {"torch.ShortStorage", S4G_DT_I16},  {"torch.CharStorage", S4G_DT_I8},
    {"torch.ByteStorage", S4G_DT_U8},    {"torch.BoolStorage", S4G_DT_BOOL},
};

static const char *const known_globals[] = {
    "collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_parameter", "torch.Size",
};

static int is_known(const char *name)
{
    for (size_t i = 0; i < sizeof known_globals / sizeof *known_globals; i++)
        if (strcmp(name, known_globals[i]) == 0)
            return 1;
    for (size_t i = 0; i < sizeof storages / sizeof *storages; i++)
        if (strcmp(name, storages[i].name) == 0)
            return 1;
    return 0;
}

static s4g_pk *make_global(vm *v, const char *mod, size_t ml, const char *name, size_t nl)
{
    s4g_pk *x = node(v, S4G_PK_GLOBAL);
    if (!x)
        return NULL;
    x->str = malloc(ml + nl + 2);
    if (!x->str) {
        s4g_fail(v->err, S4G_E_NOMEM, "%s: out of memory", v->label);
        return NULL;
    }
    memcpy(x->str, mod, ml);
    x->str[ml] = '.';
    memcpy(x->str + ml + 1, name, nl);
    x->str[ml + nl + 1] = 0;
    x->slen = ml + nl + 1;
    if (strlen(x->str) != x->slen || !is_known(x->str))
        x->kind = S4G_PK_OPAQUE;
    return x;
}

static s4g_pk *opaque_from(vm *v, const s4g_pk *f)
{
    s4g_pk *x = node(v, S4G_PK_OPAQUE);
    if (x)
        x->str = f->str; /* shared with the global node; freed once with it */
    if (x)
        x->slen = (size_t)-1; /* marks a borrowed name */
    return x;
}

static int int_of(const s4g_pk *x, int64_t *out)
{
    if (x->kind != S4G_PK_INT && x->kind != S4G_PK_BOOL)
        return -1;
    *out = x->i;
    return 0;
}

static s4g_pk *rebuild_tensor(vm *v, const s4g_pk *a)
{
    if (a->kind != S4G_PK_TUPLE || a->n < 6 || a->items[0]->kind != S4G_PK_STORAGE ||
        a->items[2]->kind != S4G_PK_TUPLE || a->items[3]->kind != S4G_PK_TUPLE ||
        a->items[2]->n != a->items[3]->n) {
        fail_at(v, "_rebuild_tensor_v2 with arguments other than (storage, offset, size, "
                   "stride, ...)");
        return NULL;
    }
    if (a->items[2]->n > S4G_PK_MAX_DIMS) {
        fail_at(v, "tensor with more than 8 dimensions");
        return NULL;
    }
    s4g_pk *t = node(v, S4G_PK_TENSOR);
    if (!t)
        return NULL;
    t->storage = a->items[0];
    t->dtype = t->storage->dtype;
    t->ndim = (int)a->items[2]->n;
    if (int_of(a->items[1], &t->i) || t->i < 0) {
        fail_at(v, "tensor storage offset is not a non-negative integer");
        return NULL;
    }
    for (int d = 0; d < t->ndim; d++)
        if (int_of(a->items[2]->items[d], &t->shape[d]) ||
            int_of(a->items[3]->items[d], &t->stride[d]) || t->shape[d] < 0 ||
            t->stride[d] < 0) {
            fail_at(v, "tensor size/stride is not a tuple of non-negative integers");
            return NULL;
        }
    return t;
}

/* REDUCE: f(*args) for the few known callables */
static s4g_pk *apply(vm *v, s4g_pk *f, s4g_pk *args)
{
    if (f->kind == S4G_PK_OPAQUE)
        return opaque_from(v, f);
    if (f->kind != S4G_PK_GLOBAL || args->kind != S4G_PK_TUPLE) {
        fail_at(v, "REDUCE of something that is not a global");
        return NULL;
    }
    const char *g = f->str;
    if (strcmp(g, "collections.OrderedDict") == 0) {
        if (args->n != 0) {
            fail_at(v, "OrderedDict built from arguments");
            return NULL;
        }
        return node(v, S4G_PK_DICT);
    }
    if (strcmp(g, "torch._utils._rebuild_tensor_v2") == 0)
        return rebuild_tensor(v, args);
    if (strcmp(g, "torch._utils._rebuild_parameter") == 0) {
        if (args->n < 1 || args->items[0]->kind != S4G_PK_TENSOR) {
            fail_at(v, "_rebuild_parameter of something that is not a tensor");
            return NULL;
        }
        return args->items[0];
    }
    if (strcmp(g, "torch.Size") == 0) {
        if (args->n != 1 || args->items[0]->kind != S4G_PK_TUPLE) {
            fail_at(v, "torch.Size of something that is not a tuple");
            return NULL;
        }
        return args->items[0];
    }
    fail_at(v, "a storage type called like a function");
    return NULL;
}

static s4g_pk *persistent(vm *v, const s4g_pk *pid)
{
    if (pid->kind != S4G_PK_TUPLE || pid->n != 5 || pid->items[0]->kind != S4G_PK_STR ||
        strcmp(pid->items[0]->str, "storage") != 0 || pid->items[2]->kind != S4G_PK_STR ||
        pid->items[4]->kind != S4G_PK_INT || pid->items[4]->i < 0) {
        fail_at(v, "persistent id is not ('storage', type, key, location, numel)");
        return NULL;
    }
    const s4g_pk *ty = pid->items[1];
    if (ty->kind == S4G_PK_GLOBAL)
        for (size_t i = 0; i < sizeof storages / sizeof *storages; i++)
            if (strcmp(ty->str, storages[i].name) == 0) {
                s4g_pk *s = node(v, S4G_PK_STORAGE);
                if (!s)
                    return NULL;
                s->dtype = storages[i].dt;
                s->str = pid->items[2]->str; /* borrowed from the key string node */
                s->slen = (size_t)-1;
                s->i = pid->items[4]->i;
                return s;
            }
    s4g_fail(v->err, S4G_E_FORMAT, "%s: storage of unsupported type \"%s\" at byte %zu",
             v->label, (ty->kind == S4G_PK_GLOBAL || ty->kind == S4G_PK_OPAQUE) ? ty->str : "?",
             (size_t)(v->p - v->start));
    return NULL;
}

static int memo_put(vm *v, uint64_t idx)
{
    s4g_pk *x = top(v);
    if (!x)
        return -1;
    if (idx >= v->memo_limit)
        return fail_at(v, "pickle memo index out of range");
    if (idx >= v->nmemo) {
        size_t nn = (size_t)idx + 1;
        if (nn < v->nmemo * 2)
            nn = v->nmemo * 2;
        if (nn > v->memo_limit)
            nn = v->memo_limit;
        s4g_pk **m = realloc(v->memo, nn * sizeof *m);
        if (!m)
            return s4g_fail(v->err, S4G_E_NOMEM, "%s: out of memory", v->label);
        memset(m + v->nmemo, 0, (nn - v->nmemo) * sizeof *m);
        v->memo = m;
        v->nmemo = nn;
    }
    v->memo[idx] = x;
    return 0;
}

static int run(vm *v)
{
    size_t next_memo = 0; /* MEMOIZE index = number of memo entries made so far */
    for (;;) {
        if (need(v, 1))
            return -1;
        uint8_t op = *v->p++;
        size_t from = 0;
        s4g_pk *a, *b, *c, *x;
        uint64_t n;
        switch (op) {
        case 0x80: /* PROTO */
            if (need(v, 1))
                return -1;
            if (*v->p < 2 || *v->p > 5)
                return fail_at(v, "unsupported pickle protocol (2 to 5 are read)");
            v->p++;
            break;
        case 0x95: /* FRAME: a length hint only */
            if (need(v, 8))
                return -1;
            v->p += 8;
            break;
        case '.': /* STOP */
            v->pk->root = pop(v);
            if (!v->pk->root)
                return -1;
            return 0;
        case '(':
            if (v->nmarks == v->mcap) {
                if (v->mcap >= MAX_MARKS)
                    return fail_at(v, "pickle nesting too deep");
                size_t nc = v->mcap ? v->mcap * 2 : 16;
                size_t *m = realloc(v->marks, nc * sizeof *m);
                if (!m)
                    return s4g_fail(v->err, S4G_E_NOMEM, "%s: out of memory", v->label);
                v->marks = m;
                v->mcap = nc;
            }
            v->marks[v->nmarks++] = v->sp;
            break;
        case '}':
        case ']':
        case ')':
        case 0x8f: /* EMPTY_SET: kept as a list */
            if (push(v, node(v, op == '}' ? S4G_PK_DICT : op == ')' ? S4G_PK_TUPLE : S4G_PK_LIST)))
                return -1;
            break;
        case 't':  /* TUPLE */
        case 0x91: /* FROZENSET */
            if (pop_mark(v, &from) || !(x = node(v, op == 't' ? S4G_PK_TUPLE : S4G_PK_LIST)))
                return -1;
            for (size_t i = from; i < v->sp; i++)
                if (add_item(v, x, NULL, v->stack[i]))
                    return -1;
            v->sp = from;
            if (push(v, x))
                return -1;
            break;
        case 0x85:
        case 0x86:
        case 0x87: { /* TUPLE1..3 */
            size_t k = (size_t)(op - 0x84);
            if (v->sp < floor_sp(v) + k)
                return fail_at(v, "pickle stack underflow");
            if (!(x = node(v, S4G_PK_TUPLE)))
                return -1;
            for (size_t i = v->sp - k; i < v->sp; i++)
                if (add_item(v, x, NULL, v->stack[i]))
                    return -1;
            v->sp -= k;
            if (push(v, x))
                return -1;
            break;
        }
        case 'X': case 0x8c: case 0x8d: case 'T': case 'U': case 'B': case 'C': case 0x8e: {
            int w = (op == 0x8c || op == 'U' || op == 'C') ? 1 : (op == 0x8d || op == 0x8e) ? 8 : 4;
            if (need(v, (size_t)w))
                return -1;
            n = le(v->p, w);
            v->p += w;
            if (n > (uint64_t)(v->end - v->p))
                return fail_at(v, "pickle string runs past the end");
            if (push(v, make_str(v, (op == 'B' || op == 'C' || op == 0x8e) ? S4G_PK_BYTES : S4G_PK_STR,
                                 v->p, (size_t)n)))
                return -1;
            v->p += n;
            break;
        }
        case 'J': case 'K': case 'M': {
            int w = op == 'J' ? 4 : op == 'K' ? 1 : 2;
            if (need(v, (size_t)w) || !(x = node(v, S4G_PK_INT)))
                return -1;
            n = le(v->p, w);
            x->i = op == 'J' ? (int64_t)(int32_t)(uint32_t)n : (int64_t)n;
            v->p += w;
            if (push(v, x))
                return -1;
            break;
        }
        case 0x8a: case 0x8b: { /* LONG1, LONG4: little-endian two's complement */
            int w = op == 0x8a ? 1 : 4;
            if (need(v, (size_t)w))
                return -1;
            n = le(v->p, w);
            v->p += w;
            if (n > 8)
                return fail_at(v, "integer wider than 64 bits");
            if (need(v, (size_t)n) || !(x = node(v, S4G_PK_INT)))
                return -1;
            uint64_t u = le(v->p, (int)n);
            if (n && n < 8 && (v->p[n - 1] & 0x80))
                u |= ~(uint64_t)0 << (8 * n);
            memcpy(&x->i, &u, 8);
            v->p += n;
            if (push(v, x))
                return -1;
            break;
        }
        case 'G': { /* BINFLOAT: big-endian double */
            if (need(v, 8) || !(x = node(v, S4G_PK_FLOAT)))
                return -1;
            uint64_t u = 0;
            for (int i = 0; i < 8; i++)
                u = u << 8 | v->p[i];
            memcpy(&x->f, &u, 8);
            v->p += 8;
            if (push(v, x))
                return -1;
            break;
        }
        case 'N':
            if (push(v, node(v, S4G_PK_NONE)))
                return -1;
            break;
        case 0x88: case 0x89:
            if (!(x = node(v, S4G_PK_BOOL)))
                return -1;
            x->i = op == 0x88;
            if (push(v, x))
                return -1;
            break;
        case 'q': case 'r':
            if (need(v, op == 'q' ? 1 : 4))
                return -1;
            n = le(v->p, op == 'q' ? 1 : 4);
            v->p += op == 'q' ? 1 : 4;
            if (memo_put(v, n))
                return -1;
            break;
        case 0x94: /* MEMOIZE */
            if (memo_put(v, next_memo))
                return -1;
            break;
        case 'h': case 'j':
            if (need(v, op == 'h' ? 1 : 4))
                return -1;
            n = le(v->p, op == 'h' ? 1 : 4);
            v->p += op == 'h' ? 1 : 4;
            if (n >= v->nmemo || !v->memo[n])
                return fail_at(v, "pickle memo entry read before it was written");
            if (push(v, v->memo[n]))
                return -1;
            break;
        case 'c': { /* GLOBAL "module\nname\n" */
            const uint8_t *m = v->p, *nl1 = memchr(m, '\n', (size_t)(v->end - m));
            if (!nl1)
                return fail_at(v, "GLOBAL without a newline");
            const uint8_t *nm = nl1 + 1, *nl2 = memchr(nm, '\n', (size_t)(v->end - nm));
            if (!nl2)
                return fail_at(v, "GLOBAL without a newline");
            v->p = nl2 + 1;
            if (push(v, make_global(v, (const char *)m, (size_t)(nl1 - m), (const char *)nm,
                                    (size_t)(nl2 - nm))))
                return -1;
            break;
        }
        case 0x93: /* STACK_GLOBAL */
            if (!(b = pop(v)) || !(a = pop(v)))
                return -1;
            if (a->kind != S4G_PK_STR || b->kind != S4G_PK_STR)
                return fail_at(v, "STACK_GLOBAL of something that is not two strings");
            if (push(v, make_global(v, a->str, a->slen, b->str, b->slen)))
                return -1;
            break;
        case 'R': /* REDUCE */
            if (!(b = pop(v)) || !(a = pop(v)) || push(v, apply(v, a, b)))
                return -1;
            break;
        case 0x81: /* NEWOBJ cls args */
            if (!(b = pop(v)) || !(a = pop(v)))
                return -1;
            if (a->kind != S4G_PK_OPAQUE && !(a->kind == S4G_PK_GLOBAL &&
                                              strcmp(a->str, "collections.OrderedDict") == 0))
                return fail_at(v, "NEWOBJ of something that is not a class");
            if (push(v, a->kind == S4G_PK_OPAQUE ? opaque_from(v, a) : node(v, S4G_PK_DICT)))
                return -1;
            break;
        case 'Q': /* BINPERSID */
            if (!(a = pop(v)) || push(v, persistent(v, a)))
                return -1;
            break;
        case 's': /* SETITEM */
            if (!(c = pop(v)) || !(b = pop(v)) || !(a = top(v)))
                return -1;
            if (a->kind == S4G_PK_OPAQUE)
                break;
            if (a->kind != S4G_PK_DICT)
                return fail_at(v, "SETITEM on something that is not a dict");
            if (add_item(v, a, b, c))
                return -1;
            break;
        case 'u': /* SETITEMS */
            if (pop_mark(v, &from) || !(a = below_mark(v, from)))
                return -1;
            if (a->kind != S4G_PK_DICT && a->kind != S4G_PK_OPAQUE)
                return fail_at(v, "SETITEMS on something that is not a dict");
            if ((v->sp - from) % 2)
                return fail_at(v, "SETITEMS with an odd number of values");
            for (size_t i = from; a->kind == S4G_PK_DICT && i < v->sp; i += 2)
                if (add_item(v, a, v->stack[i], v->stack[i + 1]))
                    return -1;
            v->sp = from;
            break;
        case 'a': /* APPEND */
            if (!(b = pop(v)) || !(a = top(v)))
                return -1;
            if (a->kind == S4G_PK_OPAQUE)
                break;
            if (a->kind != S4G_PK_LIST)
                return fail_at(v, "APPEND on something that is not a list");
            if (add_item(v, a, NULL, b))
                return -1;
            break;
        case 'e':  /* APPENDS */
        case 0x90: /* ADDITEMS */
            if (pop_mark(v, &from) || !(a = below_mark(v, from)))
                return -1;
            if (a->kind != S4G_PK_LIST && a->kind != S4G_PK_OPAQUE)
                return fail_at(v, "APPENDS on something that is not a list");
            for (size_t i = from; a->kind == S4G_PK_LIST && i < v->sp; i++)
                if (add_item(v, a, NULL, v->stack[i]))
                    return -1;
            v->sp = from;
            break;
        case 'b': /* BUILD: state set on an object; ignored (OrderedDict's _metadata) */
            if (!(b = pop(v)) || !(a = top(v)))
                return -1;
            if (a->kind != S4G_PK_DICT && a->kind != S4G_PK_OPAQUE && a->kind != S4G_PK_TENSOR)
                return fail_at(v, "BUILD on a value that takes no state");
            break;
        case '0':
            if (!pop(v))
                return -1;
            break;
        case '1':
            if (pop_mark(v, &from))
                return -1;
            v->sp = from;
            break;
        case '2':
            if (!(a = top(v)) || push(v, a))
                return -1;
            break;
        default: {
            char what[64];
            snprintf(what, sizeof what, "unsupported pickle opcode 0x%02x", op);
            v->p--;
            return fail_at(v, what);
        }
        }
        if (op == 0x94 || op == 'q' || op == 'r')
            next_memo++;
    }
}

int s4g_pickle_load(s4g_pickle *pk, const uint8_t *data, size_t n, const char *label,
                    s4g_err *err)
{
    memset(pk, 0, sizeof *pk);
    vm v = {.pk = pk, .p = data, .start = data, .end = data + n, .label = label, .err = err,
            .memo_limit = n + 16};
    int rc = run(&v);
    if (rc == 0 && v.p != v.end)
        rc = fail_at(&v, "bytes after the pickle's STOP");
    free(v.stack);
    free(v.marks);
    free(v.memo);
    if (rc)
        s4g_pickle_free(pk);
    return rc;
}

void s4g_pickle_free(s4g_pickle *pk)
{
    s4g_pk *x = pk->nodes;
    while (x) {
        s4g_pk *nx = x->next_alloc;
        if (x->slen != (size_t)-1)
            free(x->str);
        free(x->items);
        free(x->keys);
        free(x);
        x = nx;
    }
    pk->nodes = NULL;
    pk->root = NULL;
}

s4g_pk *s4g_pk_get(const s4g_pk *d, const char *key)
{
    if (!d || d->kind != S4G_PK_DICT)
        return NULL;
    for (size_t i = 0; i < d->n; i++)
        if (d->keys[i]->kind == S4G_PK_STR && strcmp(d->keys[i]->str, key) == 0)
            return d->items[i];
    return NULL;
}

const char *s4g_pk_describe(const s4g_pk *v)
{
    static const char *const names[] = {"None", "bool", "int", "float", "str", "bytes",
                                        "tuple", "list", "dict", "global", "object", "storage",
                                        "tensor"};
    if (v->kind == S4G_PK_GLOBAL || v->kind == S4G_PK_OPAQUE)
        return v->str;
    return names[v->kind];
}
