/* s4g-pth.c — PyTorch checkpoint reader; see s4g-pth.h. */
#include "s4g-pth.h"
#include "s4g-pickle.h"
#include "s4g-zip.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* torch's legacy format starts with a pickled magic number 0x1950a86a20f9469cfc6c */
static const uint8_t legacy_magic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                       0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

int s4g_pth_sniff(const uint8_t *head, size_t n) { return s4g_zip_sniff(head, n); }

int s4g_pth_sniff_legacy(const uint8_t *head, size_t n)
{
    if (n >= sizeof legacy_magic && memcmp(head, legacy_magic, sizeof legacy_magic) == 0)
        return 1;
    /* the even older tar container */
    return n >= 262 && memcmp(head + 257, "ustar", 5) == 0;
}

/* MADV_DONTNEED on the whole pages inside [p, p+n) of a private read-only file mapping: the
 * pages leave this process's memory and are read again from the file if touched. */
static void drop_pages(const s4g_pth *pth, const uint8_t *p, size_t n)
{
    const uint8_t *base = pth->map;
    if (pth->borrowed || !base || p < base || n > pth->map_len || p - base > (ptrdiff_t)(pth->map_len - n))
        return;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = ((uintptr_t)p + page - 1) / page * page, hi = ((uintptr_t)p + n) / page * page;
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

static void release_tensor(const s4g_st_file *f, const s4g_st_tensor *t)
{
    drop_pages(f->release_data, t->data, t->nbytes);
}

static size_t dtype_size(s4g_dtype dt)
{
    switch (dt) {
    case S4G_DT_F64: case S4G_DT_I64: return 8;
    case S4G_DT_F32: case S4G_DT_I32: return 4;
    case S4G_DT_F16: case S4G_DT_BF16: case S4G_DT_I16: return 2;
    default: return 1;
    }
}

void s4g_pth_close(s4g_pth *p)
{
    if (!p)
        return;
    s4g_st_close(p->f);
    for (size_t i = 0; i < p->nbufs; i++)
        free(p->bufs[i]);
    free(p->bufs);
    if (p->map && !p->borrowed)
        munmap(p->map, p->map_len);
    free(p);
}

typedef struct {
    s4g_pth *p;
    s4g_zip zip;
    const char *label;
    char prefix[512]; /* "archive/" */
} ctx;

static const uint8_t *storage_bytes(ctx *c, s4g_pk *st, const char *tname, s4g_err *err)
{
    if (st->user)
        return st->user; /* checked already (storages are shared between views) */
    char name[1024];
    snprintf(name, sizeof name, "%sdata/%s", c->prefix, st->str);
    const s4g_zip_entry *e = s4g_zip_find(&c->zip, name);
    if (!e) {
        s4g_fail(err, S4G_E_FORMAT, "%s: tensor \"%.200s\": storage entry \"%.300s\" is missing",
                 c->label, tname, name);
        return NULL;
    }
    uint64_t want = (uint64_t)st->i * dtype_size(st->dtype);
    if (st->i < 0 || (uint64_t)st->i > UINT64_MAX / 8 || e->size < want) {
        s4g_fail(err, S4G_E_FORMAT,
                 "%s: tensor \"%.200s\": storage \"%.300s\" holds %llu bytes, its %lld %s "
                 "elements need %llu",
                 c->label, tname, name, (unsigned long long)e->size, (long long)st->i,
                 s4g_dtype_name(st->dtype), (unsigned long long)want);
        return NULL;
    }
    const uint8_t *b = s4g_zip_data(&c->zip, e, 1, err);
    st->user = b;
    if (b) /* the CRC pass touched every page: let them go until the tensor is read */
        drop_pages(c->p, b, (size_t)e->size);
    return b;
}

/* Fills t from the view v: checks the extent against the storage, points into it when the
 * view is contiguous, gathers it otherwise. */
static int make_tensor(ctx *c, const char *name, const s4g_pk *v, s4g_st_tensor *t, s4g_err *err)
{
    s4g_pk *st = v->storage;
    size_t es = dtype_size(st->dtype);
    t->dtype = st->dtype;
    t->ndim = v->ndim;
    uint64_t count = 1, last = (uint64_t)v->i; /* highest element index touched */
    int contiguous = 1;
    uint64_t expect = 1;
    for (int d = v->ndim - 1; d >= 0; d--) {
        t->shape[d] = v->shape[d];
        if (v->shape[d] != 1 && (uint64_t)v->stride[d] != expect)
            contiguous = 0;
        expect *= (uint64_t)v->shape[d];
    }
    for (int d = 0; d < v->ndim; d++) {
        if (v->shape[d] && count > (UINT64_MAX >> 4) / (uint64_t)v->shape[d])
            return s4g_fail(err, S4G_E_FORMAT, "%s: tensor \"%.200s\": size overflows", c->label,
                            name);
        count *= (uint64_t)v->shape[d];
    }
    if (count)
        for (int d = 0; d < v->ndim; d++) {
            if ((uint64_t)v->stride[d] > (UINT64_MAX >> 8) / (uint64_t)v->shape[d])
                return s4g_fail(err, S4G_E_FORMAT, "%s: tensor \"%.200s\": stride overflows",
                                c->label, name);
            last += (uint64_t)(v->shape[d] - 1) * (uint64_t)v->stride[d];
            if (last > (UINT64_MAX >> 8))
                return s4g_fail(err, S4G_E_FORMAT, "%s: tensor \"%.200s\": stride overflows",
                                c->label, name);
        }
    if (count && last >= (uint64_t)st->i)
        return s4g_fail(err, S4G_E_FORMAT,
                        "%s: tensor \"%.200s\": view (offset %lld) reaches element %llu of a "
                        "storage of %lld elements",
                        c->label, name, (long long)v->i, (unsigned long long)last,
                        (long long)st->i);
    if (count && count > SIZE_MAX / es)
        return s4g_fail(err, S4G_E_FORMAT, "%s: tensor \"%.200s\": too large", c->label, name);
    t->count = (size_t)count;
    t->nbytes = (size_t)count * es;
    const uint8_t *base = storage_bytes(c, st, name, err);
    if (!base)
        return -1;
    if (contiguous || count == 0) {
        t->data = base + (size_t)v->i * es;
        return 0;
    }
    uint8_t *buf = malloc(t->nbytes);
    void **nb = realloc(c->p->bufs, (c->p->nbufs + 1) * sizeof *nb);
    if (!buf || !nb) {
        free(buf);
        if (nb)
            c->p->bufs = nb;
        return s4g_fail(err, S4G_E_NOMEM, "%s: tensor \"%.200s\": out of memory", c->label, name);
    }
    c->p->bufs = nb;
    c->p->bufs[c->p->nbufs++] = buf;
    int64_t idx[S4G_PK_MAX_DIMS] = {0};
    for (size_t k = 0; k < t->count; k++) {
        uint64_t src = (uint64_t)v->i;
        for (int d = 0; d < v->ndim; d++)
            src += (uint64_t)idx[d] * (uint64_t)v->stride[d];
        memcpy(buf + k * es, base + src * es, es);
        for (int d = v->ndim - 1; d >= 0; d--) {
            if (++idx[d] < v->shape[d])
                break;
            idx[d] = 0;
        }
    }
    t->data = buf;
    return 0;
}

static void append_list(char *dst, size_t cap, const char *item)
{
    size_t l = strlen(dst);
    if (l + 2 + strlen(item) + 4 >= cap) {
        if (l + 4 < cap && !strstr(dst, "..."))
            snprintf(dst + l, cap - l, ", ...");
        return;
    }
    snprintf(dst + l, cap - l, "%s%s", l ? ", " : "", item);
}

static int all_tensors(const s4g_pk *d)
{
    if (d->kind != S4G_PK_DICT || d->n == 0)
        return 0;
    for (size_t i = 0; i < d->n; i++)
        if (d->items[i]->kind != S4G_PK_TENSOR)
            return 0;
    return 1;
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(const s4g_st_tensor *const *)a)->name, (*(const s4g_st_tensor *const *)b)->name);
}

/* a name given twice is an error (sorting: linear-logarithmic even for hostile files) */
static int find_duplicate(const s4g_st_file *f, s4g_err *err)
{
    const s4g_st_tensor **o = malloc(f->ntensors * sizeof *o);
    if (!o)
        return s4g_fail(err, S4G_E_NOMEM, "%s: out of memory", f->path);
    for (size_t i = 0; i < f->ntensors; i++)
        o[i] = &f->tensors[i];
    qsort(o, f->ntensors, sizeof *o, by_name);
    int rc = 0;
    for (size_t i = 1; i < f->ntensors && !rc; i++)
        if (strcmp(o[i - 1]->name, o[i]->name) == 0)
            rc = s4g_fail(err, S4G_E_FORMAT, "%s: tensor \"%.200s\" appears twice", f->path,
                          o[i]->name);
    free(o);
    return rc;
}

static int read_archive(ctx *c, s4g_err *err)
{
    const char *L = c->label;
    if (s4g_zip_open(&c->zip, c->p->map, c->p->map_len, L, err))
        return -1;
    const s4g_zip_entry *pkl = NULL;
    for (size_t i = 0; i < c->zip.n; i++) {
        const char *n = c->zip.entries[i].name, *s = strrchr(n, '/');
        if (s && s == strchr(n, '/') && strcmp(s, "/data.pkl") == 0) {
            if (pkl)
                return s4g_fail(err, S4G_E_FORMAT, "%s: two data.pkl entries (\"%.200s\", \"%.200s\")",
                                L, pkl->name, n);
            pkl = &c->zip.entries[i];
        }
    }
    if (!pkl)
        return s4g_fail(err, S4G_E_FORMAT,
                        "%s: a zip archive without \"<name>/data.pkl\": not a PyTorch checkpoint",
                        L);
    size_t pl = strlen(pkl->name) - strlen("data.pkl");
    if (pl >= sizeof c->prefix)
        return s4g_fail(err, S4G_E_FORMAT, "%s: archive name too long", L);
    memcpy(c->prefix, pkl->name, pl);
    c->prefix[pl] = 0;
    char name[600], label[1200];
    snprintf(name, sizeof name, "%sbyteorder", c->prefix);
    const s4g_zip_entry *bo = s4g_zip_find(&c->zip, name);
    if (bo) {
        const uint8_t *b = s4g_zip_data(&c->zip, bo, 1, err);
        if (!b)
            return -1;
        if (!(bo->size == 6 && memcmp(b, "little", 6) == 0))
            return s4g_fail(err, S4G_E_UNSUPPORTED,
                            "%s: entry \"%.300s\": only little-endian checkpoints are read", L,
                            name);
    }
    const uint8_t *data = s4g_zip_data(&c->zip, pkl, 1, err);
    if (!data)
        return -1;
    snprintf(label, sizeof label, "%s: entry \"%s\"", L, pkl->name);
    s4g_pickle pk;
    if (s4g_pickle_load(&pk, data, (size_t)pkl->size, label, err))
        return -1;
    int rc = -1;
    const s4g_pk *root = pk.root, *sd = NULL;
    if (root->kind != S4G_PK_DICT) {
        s4g_fail(err, S4G_E_FORMAT, "%s: the checkpoint holds a %s, not a dict of tensors%s", L,
                 s4g_pk_describe(root),
                 root->kind == S4G_PK_OPAQUE
                     ? " (a pickled object: refused, a checkpoint is never allowed to run code; "
                       "save model.state_dict() instead)"
                     : "");
        goto out;
    }
    static const char *const wrappers[] = {"state_dict", "model", "module", "net"};
    if (!all_tensors(root))
        for (size_t w = 0; w < sizeof wrappers / sizeof *wrappers && !sd; w++) {
            const s4g_pk *x = s4g_pk_get(root, wrappers[w]);
            if (x && x->kind == S4G_PK_DICT) {
                sd = x;
                snprintf(c->p->where, sizeof c->p->where, "%s", wrappers[w]);
            }
        }
    if (!sd)
        sd = root;
    else
        for (size_t i = 0; i < root->n; i++)
            if (root->items[i] != sd)
                append_list(c->p->ignored, sizeof c->p->ignored,
                            root->keys[i]->kind == S4G_PK_STR ? root->keys[i]->str : "(non-string key)");
    s4g_st_file *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(L)) || !(f->tensors = calloc(sd->n ? sd->n : 1, sizeof *f->tensors))) {
        if (f)
            free(f->path);
        free(f);
        s4g_fail(err, S4G_E_NOMEM, "%s: out of memory", L);
        goto out;
    }
    c->p->f = f;
    f->release = release_tensor;
    f->release_data = c->p;
    for (size_t i = 0; i < sd->n; i++) {
        const s4g_pk *k = sd->keys[i], *v = sd->items[i];
        if (k->kind != S4G_PK_STR) {
            s4g_fail(err, S4G_E_FORMAT, "%s: %s%s%sentry %zu has a %s key, not a string", L,
                     c->p->where[0] ? "\"" : "", c->p->where, c->p->where[0] ? "\": " : "", i,
                     s4g_pk_describe(k));
            goto out;
        }
        if (v->kind != S4G_PK_TENSOR) {
            s4g_fail(err, S4G_E_FORMAT, "%s: state dict entry \"%.200s\" is a %s, not a tensor%s", L,
                     k->str, s4g_pk_describe(v),
                     v->kind == S4G_PK_OPAQUE ? " (refused: reading a checkpoint never runs code)"
                                              : "");
            goto out;
        }
        s4g_st_tensor *t = &f->tensors[f->ntensors];
        if (!(t->name = strdup(k->str))) {
            s4g_fail(err, S4G_E_NOMEM, "%s: out of memory", L);
            goto out;
        }
        f->ntensors++;
        if (make_tensor(c, k->str, v, t, err))
            goto out;
    }
    if (f->ntensors == 0) {
        s4g_fail(err, S4G_E_FORMAT, "%s: the checkpoint holds no tensors", L);
        goto out;
    }
    if (find_duplicate(f, err) == 0)
        rc = 0;
out:
    s4g_pickle_free(&pk);
    return rc;
}

static s4g_pth *parse(s4g_pth *p, const char *label, s4g_err *err)
{
    const uint8_t *img = p->map;
    if (s4g_pth_sniff_legacy(img, p->map_len)) {
        s4g_fail(err, S4G_E_UNSUPPORTED,
                 "%s: a PyTorch checkpoint in the legacy format of torch < 1.6, which is not read; "
                 "re-save it with torch >= 1.6: python3 -c \"import torch; "
                 "torch.save(torch.load('OLD.pth', map_location='cpu'), 'NEW.pth')\"",
                 label);
        goto bad;
    }
    if (!s4g_pth_sniff(img, p->map_len)) {
        s4g_fail(err, S4G_E_FORMAT, "%s: not a PyTorch checkpoint (no zip archive)", label);
        goto bad;
    }
    ctx c = {.p = p, .label = label};
    int rc = read_archive(&c, err);
    s4g_zip_close(&c.zip);
    if (rc == 0)
        return p;
bad:
    s4g_pth_close(p);
    return NULL;
}

s4g_pth *s4g_pth_parse(const uint8_t *image, size_t size, const char *label, s4g_err *err)
{
    s4g_pth *p = calloc(1, sizeof *p);
    if (!p) {
        s4g_fail(err, S4G_E_NOMEM, "%s: out of memory", label);
        return NULL;
    }
    p->map = (void *)image;
    p->map_len = size;
    p->borrowed = 1;
    return parse(p, label, err);
}

s4g_pth *s4g_pth_open(const char *path, s4g_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        s4g_fail(err, S4G_E_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
        close(fd);
        s4g_fail(err, S4G_E_IO, "%s: not a regular, non-empty file", path);
        return NULL;
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        s4g_fail(err, S4G_E_IO, "%s: cannot map: %s", path, strerror(errno));
        return NULL;
    }
    s4g_pth *p = calloc(1, sizeof *p);
    if (!p) {
        munmap(m, (size_t)st.st_size);
        s4g_fail(err, S4G_E_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    p->map = m;
    p->map_len = (size_t)st.st_size;
    return parse(p, path, err);
}
