/* s4g-npy.c — .npy reader/writer; see s4g-npy.h.  The header is a Python dict literal such
 * as {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }; only that grammar is
 * accepted. */
#include "s4g-npy.h"
#include "s4g-file.h"
#include "s4g-readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    const char *s;
    size_t n, i;
} Lx;

static void skip(Lx *l)
{
    while (l->i < l->n && (l->s[l->i] == ' ' || l->s[l->i] == '\n' || l->s[l->i] == '\t'))
        l->i++;
}

static int eat(Lx *l, char c)
{
    skip(l);
    if (l->i < l->n && l->s[l->i] == c) {
        l->i++;
        return 1;
    }
    return 0;
}

/* a quoted Python string without escapes */
static int pystr(Lx *l, char *out, size_t cap)
{
    skip(l);
    if (l->i >= l->n || (l->s[l->i] != '\'' && l->s[l->i] != '"'))
        return -1;
    char q = l->s[l->i++];
    size_t k = 0;
    while (l->i < l->n && l->s[l->i] != q) {
        if (k + 1 >= cap || l->s[l->i] == '\\')
            return -1;
        out[k++] = l->s[l->i++];
    }
    if (l->i >= l->n)
        return -1;
    l->i++;
    out[k] = '\0';
    return 0;
}

int s4g_npy_parse(const uint8_t *buf, size_t len, const char *label, s4g_npy *out,
                  s4g_err *err)
{
    memset(out, 0, sizeof *out);
    if (len < 10 || memcmp(buf, "\x93NUMPY", 6) != 0)
        return s4g_fail(err, S4G_E_FORMAT, "%s: not a .npy file (bad magic or truncated)", label);
    int major = buf[6];
    size_t hl, hstart;
    if (major == 1) {
        hl = (size_t)buf[8] | ((size_t)buf[9] << 8);
        hstart = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12)
            return s4g_fail(err, S4G_E_FORMAT, "%s: truncated header", label);
        hl = (size_t)buf[8] | ((size_t)buf[9] << 8) | ((size_t)buf[10] << 16) |
             ((size_t)buf[11] << 24);
        hstart = 12;
    } else {
        return s4g_fail(err, S4G_E_FORMAT, "%s: unsupported .npy format version %d.%d", label,
                        major, buf[7]);
    }
    if (hl > len - hstart)
        return s4g_fail(err, S4G_E_FORMAT, "%s: header length %zu runs past the end of the file",
                        label, hl);
    Lx l = {(const char *)buf + hstart, hl, 0};
    char descr[32] = "", key[32];
    int fortran = -1, have_shape = 0;
    if (!eat(&l, '{'))
        return s4g_fail(err, S4G_E_FORMAT, "%s: header is not a dict", label);
    while (!eat(&l, '}')) {
        if (pystr(&l, key, sizeof key) || !eat(&l, ':'))
            return s4g_fail(err, S4G_E_FORMAT, "%s: malformed header near byte %zu", label,
                            hstart + l.i);
        if (!strcmp(key, "descr")) {
            if (pystr(&l, descr, sizeof descr))
                return s4g_fail(err, S4G_E_FORMAT, "%s: bad 'descr'", label);
        } else if (!strcmp(key, "fortran_order")) {
            skip(&l);
            if (l.n - l.i >= 4 && !memcmp(l.s + l.i, "True", 4)) {
                fortran = 1;
                l.i += 4;
            } else if (l.n - l.i >= 5 && !memcmp(l.s + l.i, "False", 5)) {
                fortran = 0;
                l.i += 5;
            } else {
                return s4g_fail(err, S4G_E_FORMAT, "%s: bad 'fortran_order'", label);
            }
        } else if (!strcmp(key, "shape")) {
            if (!eat(&l, '('))
                return s4g_fail(err, S4G_E_FORMAT, "%s: bad 'shape'", label);
            while (!eat(&l, ')')) {
                skip(&l);
                if (out->ndim >= S4G_NPY_MAX_DIMS)
                    return s4g_fail(err, S4G_E_FORMAT, "%s: more than %d dimensions", label,
                                    S4G_NPY_MAX_DIMS);
                int64_t v = 0;
                size_t d0 = l.i;
                while (l.i < l.n && l.s[l.i] >= '0' && l.s[l.i] <= '9') {
                    if (v > (INT64_MAX - 9) / 10)
                        return s4g_fail(err, S4G_E_FORMAT, "%s: shape value too large", label);
                    v = v * 10 + (l.s[l.i++] - '0');
                }
                if (l.i == d0)
                    return s4g_fail(err, S4G_E_FORMAT, "%s: bad 'shape'", label);
                while (l.i < l.n && l.s[l.i] == 'L') /* Python 2 longs */
                    l.i++;
                out->shape[out->ndim++] = v;
                if (!eat(&l, ',')) {
                    if (!eat(&l, ')'))
                        return s4g_fail(err, S4G_E_FORMAT, "%s: bad 'shape'", label);
                    break;
                }
            }
            have_shape = 1;
        } else {
            return s4g_fail(err, S4G_E_FORMAT, "%s: unknown header key '%s'", label, key);
        }
        if (!eat(&l, ',')) {
            if (!eat(&l, '}'))
                return s4g_fail(err, S4G_E_FORMAT, "%s: malformed header near byte %zu", label,
                                hstart + l.i);
            break;
        }
    }
    if (!descr[0] || fortran < 0 || !have_shape)
        return s4g_fail(err, S4G_E_FORMAT, "%s: header lacks descr, fortran_order or shape",
                        label);
    if (fortran)
        return s4g_fail(err, S4G_E_FORMAT, "%s: Fortran-order arrays are not supported", label);
    size_t es;
    if (!strcmp(descr, "<f4"))
        es = 4;
    else if (!strcmp(descr, "<f8"))
        es = 8;
    else
        return s4g_fail(err, S4G_E_FORMAT, "%s: dtype '%s' is not supported (need '<f4' float32)",
                        label, descr);
    size_t count = 1;
    for (int i = 0; i < out->ndim; i++) {
        if (out->shape[i] && count > SIZE_MAX / 8 / (uint64_t)out->shape[i])
            return s4g_fail(err, S4G_E_FORMAT, "%s: shape overflows", label);
        count *= (size_t)out->shape[i];
    }
    size_t data_off = hstart + hl, have = len - data_off;
    if (have != count * es)
        return s4g_fail(err, S4G_E_FORMAT,
                        "%s: shape needs %zu data bytes but the file has %zu%s", label,
                        count * es, have, have < count * es ? " (truncated)" : "");
    out->data = malloc((count ? count : 1) * sizeof(float));
    if (!out->data)
        return s4g_fail(err, S4G_E_NOMEM, "%s: out of memory", label);
    const uint8_t *p = buf + data_off;
    if (es == 4) {
        memcpy(out->data, p, count * 4);
    } else {
        for (size_t i = 0; i < count; i++) {
            double d;
            memcpy(&d, p + 8 * i, 8);
            out->data[i] = (float)d;
        }
    }
    out->count = count;
    return 0;
}

int s4g_npy_read(const char *path, s4g_npy *out, s4g_err *err)
{
    memset(out, 0, sizeof *out);
    uint8_t *buf = NULL;
    size_t size = 0;
    if (s4g_read_regular_file(path, &buf, &size, err))
        return -1;
    int rc = s4g_npy_parse(buf, size, path, out, err);
    free(buf);
    return rc;
}

void s4g_npy_clear(s4g_npy *a)
{
    free(a->data);
    memset(a, 0, sizeof *a);
}

int s4g_npy_write(const char *path, int ndim, const int64_t *shape, const float *data,
                  s4g_err *err)
{
    if (ndim < 0 || ndim > S4G_NPY_MAX_DIMS)
        return s4g_fail(err, S4G_E_INVALID, "%s: %d dimensions", path, ndim);
    char h[512];
    int l = snprintf(h, sizeof h, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    size_t count = 1;
    for (int i = 0; i < ndim; i++) {
        l += snprintf(h + l, sizeof h - (size_t)l, "%lld,%s", (long long)shape[i],
                      i + 1 < ndim ? " " : "");
        count *= (size_t)shape[i];
    }
    if (ndim > 1)
        l--; /* numpy writes (2, 3) but (5,) */
    l += snprintf(h + l, sizeof h - (size_t)l, "), }");
    /* pad with spaces + '\n' so that magic(6)+ver(2)+len(2)+header is a multiple of 64 */
    size_t total = 10 + (size_t)l + 1;
    size_t pad = (64 - total % 64) % 64;
    for (size_t i = 0; i < pad; i++)
        h[l++] = ' ';
    h[l++] = '\n';
    uint8_t pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (uint8_t)(l & 0xFF),
                       (uint8_t)(l >> 8)};
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    FILE *fp = fopen(tmp, "wb");
    if (!fp)
        return s4g_fail(err, S4G_E_IO, "%s: cannot create: %s", tmp, strerror(errno));
    int ok = fwrite(pre, 1, 10, fp) == 10 && fwrite(h, 1, (size_t)l, fp) == (size_t)l &&
             fwrite(data, 4, count, fp) == count && fflush(fp) == 0 && fsync(fileno(fp)) == 0;
    int er = errno;
    if (fclose(fp) != 0)
        ok = 0;
    if (!ok) {
        unlink(tmp);
        return s4g_fail(err, S4G_E_IO, "%s: write failed: %s", path, strerror(er));
    }
    return s4g_file_commit(tmp, path, err);
}
