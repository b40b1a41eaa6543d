/* s4g-pth-write.c — writing a state dict the way torch.save does; see s4g-pth.h. */
#include "s4g-pth.h"
#include "s4g-zip.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---------------------------------------------------------------- a growable byte buffer */

typedef struct {
    uint8_t *p;
    size_t n, cap;
    int oom;
} Buf;

static void put(Buf *b, const void *d, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n)
            cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void put1(Buf *b, uint8_t v) { put(b, &v, 1); }

static void put_le(Buf *b, uint64_t v, int bytes)
{
    uint8_t t[8];
    for (int i = 0; i < bytes; i++)
        t[i] = (uint8_t)(v >> (8 * i));
    put(b, t, (size_t)bytes);
}

/* ---------------------------------------------------------------- pickle (protocol 2) */

static void pk_str(Buf *b, const char *s) /* BINUNICODE */
{
    put1(b, 'X');
    put_le(b, strlen(s), 4);
    put(b, s, strlen(s));
}

static void pk_global(Buf *b, const char *module, const char *name) /* GLOBAL */
{
    put1(b, 'c');
    put(b, module, strlen(module));
    put1(b, '\n');
    put(b, name, strlen(name));
    put1(b, '\n');
}

static void pk_int(Buf *b, int64_t v) /* the smallest of BININT1/2, BININT, LONG1 */
{
    if (v >= 0 && v < 256) {
        put1(b, 'K');
        put1(b, (uint8_t)v);
    } else if (v >= 0 && v < 65536) {
        put1(b, 'M');
        put_le(b, (uint64_t)v, 2);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        put1(b, 'J');
        put_le(b, (uint64_t)v, 4);
    } else {
        put1(b, 0x8a);
        put1(b, 8);
        put_le(b, (uint64_t)v, 8);
    }
}

static void pk_ints(Buf *b, const int64_t *v, int n) /* a tuple of ints */
{
    if (n == 0) {
        put1(b, ')');
        return;
    }
    put1(b, '(');
    for (int i = 0; i < n; i++)
        pk_int(b, v[i]);
    put1(b, 't');
}

static void pk_ordered_dict(Buf *b) /* collections.OrderedDict() */
{
    pk_global(b, "collections", "OrderedDict");
    put1(b, ')');
    put1(b, 'R');
}

/* OrderedDict{name: _rebuild_tensor_v2(('storage', FloatStorage, "i", "cpu", numel), 0,
 * shape, contiguous stride, False, OrderedDict())} */
static void pickle_state_dict(Buf *b, const s4g_st_entry *e, size_t n)
{
    put1(b, 0x80);
    put1(b, 2);
    pk_ordered_dict(b);
    if (n)
        put1(b, '(');
    for (size_t i = 0; i < n; i++) {
        int64_t numel = 1, stride[S4G_ST_MAX_DIMS];
        for (int d = e[i].ndim - 1; d >= 0; d--) {
            stride[d] = numel;
            numel *= e[i].shape[d];
        }
        char key[32];
        snprintf(key, sizeof key, "%zu", i);
        pk_str(b, e[i].name);
        pk_global(b, "torch._utils", "_rebuild_tensor_v2");
        put1(b, '(');
        put1(b, '(');
        pk_str(b, "storage");
        pk_global(b, "torch", "FloatStorage");
        pk_str(b, key);
        pk_str(b, "cpu");
        pk_int(b, numel);
        put1(b, 't');
        put1(b, 'Q'); /* BINPERSID */
        pk_int(b, 0);
        pk_ints(b, e[i].shape, e[i].ndim);
        pk_ints(b, stride, e[i].ndim);
        put1(b, 0x89); /* requires_grad False */
        pk_ordered_dict(b); /* backward hooks */
        put1(b, 't');
        put1(b, 'R');
    }
    if (n)
        put1(b, 'u'); /* SETITEMS */
    put1(b, '.');
}

/* ---------------------------------------------------------------- zip (stored entries) */

#define ALIGN 64 /* torch aligns every entry's data to 64 bytes with an "FB" extra field */

typedef struct {
    char name[64];
    uint32_t crc;
    uint64_t size, header_off;
} Entry;

typedef struct {
    FILE *f;
    uint64_t off;
    Entry *e;
    size_t n;
    int fail;
} Zip;

static void zwrite(Zip *z, const void *p, size_t n)
{
    if (!z->fail && n && fwrite(p, 1, n, z->f) != n)
        z->fail = errno ? errno : EIO;
    z->off += n;
}

static void zwrite_buf(Zip *z, Buf *b)
{
    zwrite(z, b->p, b->n);
    b->n = 0;
}

static void zip_entry(Zip *z, const char *name, const void *data, uint64_t size)
{
    Entry *e = &z->e[z->n++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->crc = s4g_crc32(0, data, (size_t)size);
    e->size = size;
    e->header_off = z->off;
    size_t nl = strlen(name);
    uint64_t data_at = z->off + 30 + nl + 4;
    size_t pad = (size_t)((ALIGN - data_at % ALIGN) % ALIGN);
    Buf h = {0};
    put_le(&h, 0x04034b50, 4);
    put_le(&h, 20, 2); /* version needed */
    put_le(&h, 0, 2);  /* flags */
    put_le(&h, 0, 2);  /* method: stored */
    put_le(&h, 0, 2);  /* time */
    put_le(&h, 0x21, 2); /* date: 1980-01-01 */
    put_le(&h, e->crc, 4);
    put_le(&h, size, 4);
    put_le(&h, size, 4);
    put_le(&h, nl, 2);
    put_le(&h, 4 + pad, 2);
    put(&h, name, nl);
    put_le(&h, 0x4246, 2); /* "FB": padding */
    put_le(&h, pad, 2);
    static const uint8_t zeros[ALIGN];
    put(&h, zeros, pad);
    if (h.oom)
        z->fail = ENOMEM;
    zwrite_buf(z, &h);
    free(h.p);
    zwrite(z, data, (size_t)size);
}

static void zip_finish(Zip *z)
{
    uint64_t cd_off = z->off;
    Buf c = {0};
    for (size_t i = 0; i < z->n; i++) {
        const Entry *e = &z->e[i];
        size_t nl = strlen(e->name);
        put_le(&c, 0x02014b50, 4);
        put_le(&c, 20, 2); /* made by */
        put_le(&c, 20, 2); /* needed */
        put_le(&c, 0, 2);
        put_le(&c, 0, 2);
        put_le(&c, 0, 2);
        put_le(&c, 0x21, 2);
        put_le(&c, e->crc, 4);
        put_le(&c, e->size, 4);
        put_le(&c, e->size, 4);
        put_le(&c, nl, 2);
        put_le(&c, 0, 2); /* extra */
        put_le(&c, 0, 2); /* comment */
        put_le(&c, 0, 2); /* disk */
        put_le(&c, 0, 2); /* internal attributes */
        put_le(&c, 0, 4); /* external attributes */
        put_le(&c, e->header_off, 4);
        put(&c, e->name, nl);
    }
    uint64_t cd_size = c.n;
    put_le(&c, 0x06054b50, 4);
    put_le(&c, 0, 2);
    put_le(&c, 0, 2);
    put_le(&c, z->n, 2);
    put_le(&c, z->n, 2);
    put_le(&c, cd_size, 4);
    put_le(&c, cd_off, 4);
    put_le(&c, 0, 2);
    if (c.oom)
        z->fail = ENOMEM;
    zwrite_buf(z, &c);
    free(c.p);
}

int s4g_pth_write(const char *path, const s4g_st_entry *e, size_t n, s4g_err *err)
{
    /* Offsets and sizes are 32-bit without ZIP64, which this writer does not emit: refuse an
     * archive that would need it (a ConvNeXt-XLarge is 1.4 GB). */
    uint64_t total = 4096;
    for (size_t i = 0; i < n; i++) {
        uint64_t c = 1;
        for (int d = 0; d < e[i].ndim; d++)
            c *= (uint64_t)e[i].shape[d];
        total += c * 4 + 2 * ALIGN + 128 + 2 * strlen(e[i].name);
        if (strlen(e[i].name) > UINT16_MAX)
            return s4g_fail(err, S4G_E_INVALID, "%s: tensor name too long", path);
    }
    if (total >= 0xFFFFFFFFull || n > 65000)
        return s4g_fail(err, S4G_E_UNSUPPORTED,
                        "%s: %zu tensors, about %llu bytes: past the 4 GiB a zip archive without "
                        "ZIP64 holds; export as safetensors instead",
                        path, n, (unsigned long long)total);
    Buf pk = {0};
    pickle_state_dict(&pk, e, n);
    Zip z = {0};
    z.e = calloc(n + 3, sizeof *z.e);
    if (pk.oom || !z.e) {
        free(pk.p);
        free(z.e);
        return s4g_fail(err, S4G_E_NOMEM, "%s: out of memory", path);
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    z.f = fopen(tmp, "wbe");
    if (!z.f) {
        int er = errno;
        free(pk.p);
        free(z.e);
        return s4g_fail(err, S4G_E_IO, "%s: cannot create: %s", tmp, strerror(er));
    }
    /* the entries of torch.save, in its order */
    zip_entry(&z, "archive/data.pkl", pk.p, pk.n);
    zip_entry(&z, "archive/byteorder", "little", 6);
    for (size_t i = 0; i < n; i++) {
        uint64_t c = 1;
        for (int d = 0; d < e[i].ndim; d++)
            c *= (uint64_t)e[i].shape[d];
        char name[64];
        snprintf(name, sizeof name, "archive/data/%zu", i);
        zip_entry(&z, name, e[i].data, c * 4);
    }
    zip_entry(&z, "archive/version", "3\n", 2);
    zip_finish(&z);
    free(pk.p);
    free(z.e);
    if (!z.fail && (fflush(z.f) != 0 || fsync(fileno(z.f)) != 0))
        z.fail = errno;
    if (fclose(z.f) != 0 && !z.fail)
        z.fail = errno;
    if (z.fail) {
        unlink(tmp);
        return s4g_fail(err, S4G_E_IO, "%s: write failed: %s", tmp, strerror(z.fail));
    }
    if (rename(tmp, path) != 0) {
        int er = errno;
        unlink(tmp);
        return s4g_fail(err, S4G_E_IO, "%s: cannot finish writing: %s", path, strerror(er));
    }
    return 0;
}
