/* s4g-safetensors.c — safetensors reader/writer; see s4g-safetensors.h. */
#define _GNU_SOURCE /* qsort_r */
#include "s4g-safetensors.h"
#include "s4g-file.h"
#include "s4g-half.h"
#include "s4g-json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Headers above this are refused (the reference implementation's limit is 100 MB). */
#define MAX_HEADER (100u * 1024u * 1024u)
/* Zero-size tensors may declare up to this many elements in their other dimensions however
 * small the file (a [0, 768] bias of an empty layer). */
#define MIN_EMPTY_DIMS ((size_t)1 << 16)

static const struct {
    const char *name;
    s4g_dtype dt;
    size_t size;
} dtypes[] = {
    {"F32", S4G_DT_F32, 4}, {"F16", S4G_DT_F16, 2}, {"BF16", S4G_DT_BF16, 2},
    {"F64", S4G_DT_F64, 8}, {"I64", S4G_DT_I64, 8}, {"I32", S4G_DT_I32, 4},
    {"I16", S4G_DT_I16, 2}, {"I8", S4G_DT_I8, 1},   {"U8", S4G_DT_U8, 1},
    {"BOOL", S4G_DT_BOOL, 1},
};

const char *s4g_dtype_name(s4g_dtype dt)
{
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (dtypes[i].dt == dt)
            return dtypes[i].name;
    return "?";
}

void s4g_st_close(s4g_st_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->ntensors; i++)
        free(f->tensors[i].name);
    for (size_t i = 0; i < f->nmeta; i++) {
        free(f->meta_keys[i]);
        free(f->meta_values[i]);
    }
    free(f->tensors);
    free(f->meta_keys);
    free(f->meta_values);
    if (f->mapped)
        munmap(f->image, f->size);
    else
        free(f->image);
    free(f->path);
    free(f);
}

static int parse_meta(s4g_st_file *f, const s4g_json *m, const char *label, s4g_err *err)
{
    if (m->type != S4G_JSON_OBJECT)
        return s4g_fail(err, S4G_E_FORMAT, "%s: __metadata__ is not an object", label);
    f->meta_keys = calloc(m->count ? m->count : 1, sizeof(char *));
    f->meta_values = calloc(m->count ? m->count : 1, sizeof(char *));
    if (!f->meta_keys || !f->meta_values)
        return s4g_fail(err, S4G_E_NOMEM, "%s: out of memory", label);
    for (size_t i = 0; i < m->count; i++) {
        if (m->items[i]->type != S4G_JSON_STRING)
            return s4g_fail(err, S4G_E_FORMAT, "%s: __metadata__ value \"%.100s\" is not a string",
                            label, m->keys[i]);
        f->meta_keys[i] = strdup(m->keys[i]);
        f->meta_values[i] = strdup(m->items[i]->str);
        f->nmeta = i + 1;
        if (!f->meta_keys[i] || !f->meta_values[i])
            return s4g_fail(err, S4G_E_NOMEM, "%s: out of memory", label);
    }
    return 0;
}

static int parse_tensor(s4g_st_tensor *t, const char *name, const s4g_json *v,
                        const uint8_t *data, size_t data_len, const char *label, s4g_err *err)
{
    if (v->type != S4G_JSON_OBJECT)
        return s4g_fail(err, S4G_E_FORMAT, "%s: tensor \"%.100s\": entry is not an object", label,
                        name);
    const s4g_json *dt = s4g_json_get(v, "dtype"), *sh = s4g_json_get(v, "shape"),
                   *of = s4g_json_get(v, "data_offsets");
    if (!dt || dt->type != S4G_JSON_STRING)
        return s4g_fail(err, S4G_E_FORMAT, "%s: tensor \"%.100s\": missing or bad \"dtype\"",
                        label, name);
    size_t esize = 0;
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (strcmp(dt->str, dtypes[i].name) == 0) {
            t->dtype = dtypes[i].dt;
            esize = dtypes[i].size;
        }
    if (!esize)
        return s4g_fail(err, S4G_E_FORMAT, "%s: tensor \"%.100s\": unknown dtype \"%.20s\"", label,
                        name, dt->str);
    if (!sh || sh->type != S4G_JSON_ARRAY || sh->count > S4G_ST_MAX_DIMS)
        return s4g_fail(err, S4G_E_FORMAT,
                        "%s: tensor \"%.100s\": missing or bad \"shape\" (at most %d dims)", label,
                        name, S4G_ST_MAX_DIMS);
    size_t count = 1, nonzero = 1;
    t->ndim = (int)sh->count;
    for (size_t i = 0; i < sh->count; i++) {
        const s4g_json *d = sh->items[i];
        if (d->type != S4G_JSON_NUMBER || !d->is_int || d->integer < 0)
            return s4g_fail(err, S4G_E_FORMAT,
                            "%s: tensor \"%.100s\": shape[%zu] is not a non-negative integer",
                            label, name, i);
        t->shape[i] = d->integer;
        if (d->integer && count > SIZE_MAX / (uint64_t)d->integer)
            return s4g_fail(err, S4G_E_FORMAT, "%s: tensor \"%.100s\": shape overflows", label,
                            name);
        count *= (size_t)d->integer;
        if (d->integer) {
            if (nonzero > SIZE_MAX / (uint64_t)d->integer)
                return s4g_fail(err, S4G_E_FORMAT, "%s: tensor \"%.100s\": shape overflows",
                                label, name);
            nonzero *= (size_t)d->integer;
        }
    }
    /* A zero-size tensor has no data to bound its other dimensions, yet callers size buffers
     * from the shape: those dimensions together may not exceed what the file could hold. */
    if (count == 0 && nonzero > (data_len / esize > MIN_EMPTY_DIMS ? data_len / esize
                                                                   : MIN_EMPTY_DIMS))
        return s4g_fail(err, S4G_E_FORMAT,
                        "%s: tensor \"%.100s\": zero-size tensor with %zu elements in its other "
                        "dimensions, more than the file's %zu data bytes hold",
                        label, name, nonzero, data_len);
    if (count > SIZE_MAX / esize)
        return s4g_fail(err, S4G_E_FORMAT, "%s: tensor \"%.100s\": shape overflows", label, name);
    if (!of || of->type != S4G_JSON_ARRAY || of->count != 2)
        return s4g_fail(err, S4G_E_FORMAT, "%s: tensor \"%.100s\": missing or bad \"data_offsets\"",
                        label, name);
    for (int i = 0; i < 2; i++)
        if (of->items[i]->type != S4G_JSON_NUMBER || !of->items[i]->is_int ||
            of->items[i]->integer < 0)
            return s4g_fail(err, S4G_E_FORMAT,
                            "%s: tensor \"%.100s\": data_offsets are not non-negative integers",
                            label, name);
    uint64_t b = (uint64_t)of->items[0]->integer, e = (uint64_t)of->items[1]->integer;
    if (b > e || e > data_len)
        return s4g_fail(err, S4G_E_FORMAT,
                        "%s: tensor \"%.100s\": data_offsets [%llu, %llu] outside the %zu data "
                        "bytes",
                        label, name, (unsigned long long)b, (unsigned long long)e, data_len);
    if (e - b != count * esize)
        return s4g_fail(err, S4G_E_FORMAT,
                        "%s: tensor \"%.100s\": %llu bytes for %zu elements of %s (expected %zu)",
                        label, name, (unsigned long long)(e - b), count, dt->str, count * esize);
    t->count = count;
    t->nbytes = (size_t)(e - b);
    t->data = data + b;
    t->name = strdup(name);
    if (!t->name)
        return s4g_fail(err, S4G_E_NOMEM, "%s: out of memory", label);
    return 0;
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* s4g_st_parse of a malloc'd image or (mapped) a file mapping of size bytes, taken either
 * way. */
static s4g_st_file *parse_image(uint8_t *image, size_t size, int mapped, const char *label,
                                s4g_err *err)
{
    s4g_st_file *f = calloc(1, sizeof *f);
    if (!f) {
        if (mapped)
            munmap(image, size);
        else
            free(image);
        s4g_fail(err, S4G_E_NOMEM, "%s: out of memory", label);
        return NULL;
    }
    f->image = image;
    f->size = size;
    f->mapped = mapped;
    f->path = strdup(label);
    s4g_json *h = NULL;
    if (size < 8) {
        s4g_fail(err, S4G_E_FORMAT, "%s: truncated: %zu bytes, no 8-byte header length", label,
                 size);
        goto bad;
    }
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--)
        hl = (hl << 8) | image[i];
    if (hl > size - 8) {
        s4g_fail(err, S4G_E_FORMAT, "%s: header length %llu runs past the end of the file (%zu bytes)",
                 label, (unsigned long long)hl, size);
        goto bad;
    }
    if (hl > MAX_HEADER || hl < 2) {
        s4g_fail(err, S4G_E_FORMAT, "%s: implausible header length %llu", label,
                 (unsigned long long)hl);
        goto bad;
    }
    h = s4g_json_parse((const char *)image + 8, (size_t)hl, err);
    if (!h) {
        s4g_err_prefix(err, "%s: header", label);
        goto bad;
    }
    if (h->type != S4G_JSON_OBJECT) {
        s4g_fail(err, S4G_E_FORMAT, "%s: header is not a JSON object", label);
        goto bad;
    }
    const uint8_t *data = image + 8 + hl;
    size_t data_len = size - 8 - (size_t)hl;
    f->tensors = calloc(h->count ? h->count : 1, sizeof *f->tensors);
    if (!f->tensors) {
        s4g_fail(err, S4G_E_NOMEM, "%s: out of memory", label);
        goto bad;
    }
    for (size_t i = 0; i < h->count; i++) {
        const char *k = h->keys[i];
        if (strcmp(k, "__metadata__") == 0) {
            if (f->meta_keys) {
                s4g_fail(err, S4G_E_FORMAT, "%s: duplicate __metadata__", label);
                goto bad;
            }
            if (parse_meta(f, h->items[i], label, err))
                goto bad;
            continue;
        }
        if (parse_tensor(&f->tensors[f->ntensors], k, h->items[i], data, data_len, label, err))
            goto bad;
        f->ntensors++;
    }
    /* Duplicate names: sort a list of them (n log n; a 400k-tensor header stays fast). */
    if (f->ntensors > 1) {
        const char **names = malloc(f->ntensors * sizeof *names);
        if (!names) {
            s4g_fail(err, S4G_E_NOMEM, "%s: out of memory", label);
            goto bad;
        }
        for (size_t i = 0; i < f->ntensors; i++)
            names[i] = f->tensors[i].name;
        qsort(names, f->ntensors, sizeof *names, cmp_strp);
        for (size_t i = 1; i < f->ntensors; i++)
            if (strcmp(names[i - 1], names[i]) == 0) {
                s4g_fail(err, S4G_E_FORMAT, "%s: tensor \"%.100s\" appears twice", label,
                         names[i]);
                free(names);
                goto bad;
            }
        free(names);
    }
    s4g_json_free(h);
    return f;
bad:
    s4g_json_free(h);
    s4g_st_close(f);
    return NULL;
}

s4g_st_file *s4g_st_parse(uint8_t *image, size_t size, const char *label, s4g_err *err)
{
    return parse_image(image, size, 0, label, err);
}

/* MADV_DONTNEED on the whole pages inside a converted tensor of a mapped file: they leave
 * the process's memory (and are read again from the file if touched). */
static void release_pages(const s4g_st_file *f, const s4g_st_tensor *t)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = ((uintptr_t)t->data + page - 1) / page * page,
              hi = ((uintptr_t)t->data + t->nbytes) / page * page;
    if (f->mapped && hi > lo)
        madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

s4g_st_file *s4g_st_open(const char *path, s4g_err *err)
{
    /* O_NONBLOCK: opening a FIFO for reading must not wait for a writer */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        s4g_fail(err, S4G_E_IO, "%.4096s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        s4g_fail(err, S4G_E_IO, "%.4096s: not a regular file", path);
        return NULL;
    }
    if (st.st_size == 0) { /* nothing to map: the parser says what is missing */
        close(fd);
        return parse_image(NULL, 0, 0, path, err);
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        s4g_fail(err, S4G_E_IO, "%.4096s: cannot map: %s", path, strerror(errno));
        return NULL;
    }
    s4g_st_file *f = parse_image(m, (size_t)st.st_size, 1, path, err);
    if (f)
        f->release = release_pages;
    return f;
}

const s4g_st_tensor *s4g_st_find(const s4g_st_file *f, const char *name)
{
    for (size_t i = 0; i < f->ntensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0)
            return &f->tensors[i];
    return NULL;
}

const char *s4g_st_meta(const s4g_st_file *f, const char *key)
{
    for (size_t i = 0; i < f->nmeta; i++)
        if (strcmp(f->meta_keys[i], key) == 0)
            return f->meta_values[i];
    return NULL;
}

/* Weights are never NaN or infinite: such a file (a diverged run's checkpoint, a corrupt
 * download) would only give NaN embeddings, so it is refused with the tensor and element. */
static int check_finite(const s4g_st_tensor *t, const float *dst, s4g_err *err)
{
    for (size_t i = 0; i < t->count; i++)
        if (!isfinite(dst[i]))
            return s4g_fail(err, S4G_E_FORMAT, "tensor \"%.100s\": element %zu is %s", t->name,
                            i, isnan(dst[i]) ? "NaN" : "infinite");
    return 0;
}

static int convert_f32(const s4g_st_tensor *t, float *dst, s4g_err *err);

int s4g_st_to_f32(const s4g_st_tensor *t, float *dst, s4g_err *err)
{
    if (convert_f32(t, dst, err))
        return -1;
    return check_finite(t, dst, err);
}

static int convert_f32(const s4g_st_tensor *t, float *dst, s4g_err *err)
{
    const uint8_t *p = t->data;
    size_t n = t->count;
    switch (t->dtype) {
    case S4G_DT_F32:
        memcpy(dst, p, n * 4); /* little-endian host assumed (x86-64, aarch64) */
        return 0;
    case S4G_DT_F16:
        for (size_t i = 0; i < n; i++)
            dst[i] = s4g_half_to_float((uint16_t)(p[2 * i] | (p[2 * i + 1] << 8)));
        return 0;
    case S4G_DT_BF16:
        for (size_t i = 0; i < n; i++)
            dst[i] = s4g_bf16_to_float((uint16_t)(p[2 * i] | (p[2 * i + 1] << 8)));
        return 0;
    case S4G_DT_F64:
        for (size_t i = 0; i < n; i++) {
            double d;
            memcpy(&d, p + 8 * i, 8);
            dst[i] = (float)d;
        }
        return 0;
    default:
        return s4g_fail(err, S4G_E_FORMAT, "tensor \"%.100s\": dtype %s is not a float type",
                        t->name, s4g_dtype_name(t->dtype));
    }
}

/* ---------------------------------------------------------------- writing */

typedef struct {
    char *s;
    size_t n, cap;
    int oom;
} Sb;

static void sb_add(Sb *b, const char *s, size_t l)
{
    if (b->oom)
        return;
    if (b->n + l + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 4096);
        while (cap < b->n + l + 1)
            cap *= 2;
        char *ns = realloc(b->s, cap);
        if (!ns) {
            b->oom = 1;
            return;
        }
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, l);
    b->n += l;
    b->s[b->n] = '\0';
}

static void sb_fmt(Sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_fmt(Sb *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int l = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (l > 0)
        sb_add(b, tmp, (size_t)l < sizeof tmp ? (size_t)l : sizeof tmp - 1);
}

static void sb_str(Sb *b, const char *s)
{
    sb_add(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            sb_add(b, e, 2);
        } else if (c < 0x20) {
            sb_fmt(b, "\\u%04x", c);
        } else {
            sb_add(b, (const char *)&c, 1);
        }
    }
    sb_add(b, "\"", 1);
}

static int write_all(int fd, const void *p, size_t n)
{
    const uint8_t *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int cmp_idx_name(const void *a, const void *b, void *ctx)
{
    const s4g_st_entry *e = ctx;
    return strcmp(e[*(const size_t *)a].name, e[*(const size_t *)b].name);
}

int s4g_st_write(const char *path, const s4g_st_entry *e, size_t n, const char *const *meta,
                 s4g_err *err)
{
    Sb b = {0};
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    size_t *offs = malloc((n ? n : 1) * sizeof *offs);
    if (!order || !offs) {
        free(order);
        free(offs);
        return s4g_fail(err, S4G_E_NOMEM, "%s: out of memory", path);
    }
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t c = 1;
        for (int d = 0; d < e[i].ndim; d++)
            c *= (size_t)e[i].shape[d];
        offs[i] = off;
        off += c * 4;
        order[i] = i;
    }
    qsort_r(order, n, sizeof *order, cmp_idx_name, (void *)e);
    sb_add(&b, "{", 1);
    int first = 1;
    if (meta && meta[0]) {
        sb_add(&b, "\"__metadata__\":{", 16);
        for (size_t i = 0; meta[i] && meta[i + 1]; i += 2) {
            if (i)
                sb_add(&b, ",", 1);
            sb_str(&b, meta[i]);
            sb_add(&b, ":", 1);
            sb_str(&b, meta[i + 1]);
        }
        sb_add(&b, "}", 1);
        first = 0;
    }
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k];
        if (!first)
            sb_add(&b, ",", 1);
        first = 0;
        sb_str(&b, e[i].name);
        sb_add(&b, ":{\"dtype\":\"F32\",\"shape\":[", 25);
        size_t c = 1;
        for (int d = 0; d < e[i].ndim; d++) {
            sb_fmt(&b, d ? ",%lld" : "%lld", (long long)e[i].shape[d]);
            c *= (size_t)e[i].shape[d];
        }
        sb_fmt(&b, "],\"data_offsets\":[%zu,%zu]}", offs[i], offs[i] + c * 4);
    }
    sb_add(&b, "}", 1);
    while (!b.oom && b.n % 8) /* pad with spaces so the data starts 8-byte aligned */
        sb_add(&b, " ", 1);
    free(order);
    if (b.oom) {
        free(b.s);
        free(offs);
        return s4g_fail(err, S4G_E_NOMEM, "%s: out of memory", path);
    }

    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        free(b.s);
        free(offs);
        return s4g_fail(err, S4G_E_IO, "%s: cannot create: %s", tmp, strerror(errno));
    }
    uint8_t hl[8];
    for (int i = 0; i < 8; i++)
        hl[i] = (uint8_t)((uint64_t)b.n >> (8 * i));
    int rc = write_all(fd, hl, 8) || write_all(fd, b.s, b.n);
    for (size_t i = 0; i < n && !rc; i++) {
        size_t c = 1;
        for (int d = 0; d < e[i].ndim; d++)
            c *= (size_t)e[i].shape[d];
        rc = write_all(fd, e[i].data, c * 4);
    }
    free(b.s);
    free(offs);
    if (rc || fsync(fd) != 0) {
        int er = errno;
        close(fd);
        unlink(tmp);
        return s4g_fail(err, S4G_E_IO, "%s: write failed: %s", tmp, strerror(er));
    }
    if (close(fd) != 0) {
        int er = errno;
        unlink(tmp);
        return s4g_fail(err, S4G_E_IO, "%s: cannot finish writing: %s", path, strerror(er));
    }
    return s4g_file_commit(tmp, path, err);
}
