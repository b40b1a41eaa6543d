/* s4g-mat-check.c — see s4g-mat-check.h.  Layout (MATLAB "MAT-File Format", v5): a 128-byte
 * header (text, subsystem offset, version 0x0100, endian indicator "IM"/"MI"), then data
 * elements: an 8-byte tag (type, byte count; or a 4-byte "small element" tag with the count in
 * its upper half) followed by the data padded to 8 bytes.  A variable is a miMATRIX element
 * (array flags, dimensions, name, then the class's parts) or a miCOMPRESSED one (zlib) that
 * inflates to a miMATRIX element. */
#include "s4g-mat-check.h"

#include <string.h>
#include <zlib.h>

enum {
    MI_INT8 = 1, MI_UINT8 = 2, MI_INT16 = 3, MI_UINT16 = 4, MI_INT32 = 5, MI_UINT32 = 6,
    MI_SINGLE = 7, MI_DOUBLE = 9, MI_INT64 = 12, MI_UINT64 = 13, MI_MATRIX = 14,
    MI_COMPRESSED = 15, MI_UTF8 = 16, MI_UTF16 = 17, MI_UTF32 = 18,
};
enum { MX_CELL = 1, MX_STRUCT = 2, MX_OBJECT = 3, MX_CHAR = 4, MX_SPARSE = 5,
       MX_DOUBLE = 6, MX_UINT64 = 15 };

#define MAX_DEPTH 16
/* zlib's deflate cannot exceed ~1032:1; anything inflating further is not a zlib stream
 * MATLAB wrote, and the bound keeps a 4 KB file from declaring gigabytes. */
#define MAX_INFLATE_RATIO 1100

typedef struct {
    gboolean swap;
    const char *what;
    char var[64]; /* current top-level variable, for messages */
    GError **error;
} Ctx;

typedef struct {
    const guint8 *p;
    gsize n;
} Buf;

static guint32 u32(const Ctx *c, const guint8 *p)
{
    guint32 v;
    memcpy(&v, p, 4);
    return c->swap ? GUINT32_SWAP_LE_BE(v) : v;
}

static gboolean fail(Ctx *c, const char *field, const char *why)
{
    if (c->error && !*c->error)
        g_set_error(c->error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE, "%s: %s%s%s: %s", c->what,
                    c->var[0] ? c->var : "header", field ? ": " : "", field ? field : "", why);
    return FALSE;
}

/* Next element of `b` (advancing past its padding): type, data. */
static gboolean next_element(Ctx *c, Buf *b, guint32 *type, Buf *data, gboolean pad,
                             const char *field)
{
    if (b->n < 8)
        return fail(c, field, "element tag cut short (file truncated?)");
    guint32 t0 = u32(c, b->p);
    if (t0 >> 16) { /* small data element: 2-byte count, 2-byte type, 4 bytes of data */
        guint32 cnt = t0 >> 16;
        if (cnt > 4)
            return fail(c, field, "small element longer than 4 bytes");
        *type = t0 & 0xFFFF;
        data->p = b->p + 4;
        data->n = cnt;
        b->p += 8, b->n -= 8;
        return TRUE;
    }
    guint32 nbytes = u32(c, b->p + 4);
    if (nbytes > b->n - 8)
        return fail(c, field, "element larger than the bytes present (file truncated?)");
    *type = t0;
    data->p = b->p + 8;
    data->n = nbytes;
    gsize step = 8 + (gsize)nbytes;
    if (pad)
        step = MIN(b->n, (step + 7) & ~(gsize)7);
    b->p += step, b->n -= step;
    return TRUE;
}

static gsize type_size(guint32 t)
{
    switch (t) {
    case MI_INT8: case MI_UINT8: case MI_UTF8: return 1;
    case MI_INT16: case MI_UINT16: case MI_UTF16: return 2;
    case MI_INT32: case MI_UINT32: case MI_SINGLE: case MI_UTF32: return 4;
    case MI_DOUBLE: case MI_INT64: case MI_UINT64: return 8;
    default: return 0;
    }
}

static gboolean check_matrix(Ctx *c, Buf m, int depth, const char *field);

/* A numeric or char part: its stored type and byte count must match nelems exactly. */
static gboolean check_part(Ctx *c, Buf *b, guint64 nelems, gboolean is_char, const char *field,
                           const char *part)
{
    g_autofree char *f = g_strdup_printf("%s%s%s", field ? field : "", field ? " " : "", part);
    guint32 t;
    Buf d;
    if (!next_element(c, b, &t, &d, TRUE, f))
        return FALSE;
    gsize ts = type_size(t);
    if (!ts || (is_char && t == MI_DOUBLE))
        return fail(c, f, "unknown data type");
    if (is_char && t == MI_UTF8) {
        /* UTF-8 text: at least one byte per character, at most four */
        if (d.n < nelems || d.n / 4 > nelems)
            return fail(c, f, "character count does not match the dimensions");
        return TRUE;
    }
    if (d.n % ts || d.n / ts != nelems) {
        g_autofree char *why = g_strdup_printf(
            "%zu bytes of data for %" G_GUINT64_FORMAT " elements of %zu bytes", (size_t)d.n,
            nelems, (size_t)ts);
        return fail(c, f, why);
    }
    return TRUE;
}

static gboolean check_matrix(Ctx *c, Buf m, int depth, const char *field)
{
    if (depth > MAX_DEPTH)
        return fail(c, field, "nested more than 16 deep");
    if (m.n == 0)
        return TRUE; /* an empty matrix (allowed as a cell element) */
    guint32 t;
    Buf d;
    if (!next_element(c, &m, &t, &d, TRUE, field))
        return FALSE;
    if (t != MI_UINT32 || d.n != 8)
        return fail(c, field, "array flags missing");
    guint32 flags = u32(c, d.p);
    guint32 cls = flags & 0xFF;
    gboolean complex = (flags & 0x800) != 0;
    if (!next_element(c, &m, &t, &d, TRUE, field))
        return FALSE;
    if (t != MI_INT32 || d.n < 8 || d.n % 4)
        return fail(c, field, "dimensions missing (need at least 2)");
    Buf dims = d;
    if (!next_element(c, &m, &t, &d, TRUE, field))
        return FALSE;
    if (t != MI_INT8)
        return fail(c, field, "array name missing");
    if (depth == 0 && !field && d.n) {
        gsize k = MIN(d.n, sizeof c->var - 1);
        memcpy(c->var, d.p, k);
        c->var[k] = '\0';
        for (gsize i = 0; i < k; i++)
            if (!g_ascii_isprint(c->var[i]))
                c->var[i] = '?';
    }
    guint64 nelems = 1;
    gboolean overflow = FALSE;
    for (gsize i = 0; i < dims.n / 4; i++) {
        gint32 dim = (gint32)u32(c, dims.p + 4 * i);
        if (dim < 0)
            return fail(c, field, "negative dimension");
        if (dim && nelems > G_MAXUINT64 / (guint64)dim)
            overflow = TRUE;
        nelems *= (guint64)dim;
    }
    if (overflow)
        return fail(c, field, "dimensions overflow");
    if (complex && (cls == MX_CHAR || cls == MX_CELL || cls == MX_STRUCT))
        return fail(c, field, "complex flag on a char, cell or struct array");
    switch (cls) {
    case MX_CELL:
        if (nelems > m.n / 8)
            return fail(c, field, "more cells declared than the bytes present can hold");
        for (guint64 i = 0; i < nelems; i++) {
            g_autofree char *f = g_strdup_printf("%s{%" G_GUINT64_FORMAT "}", field ? field : "",
                                                 i + 1);
            if (!next_element(c, &m, &t, &d, TRUE, f))
                return FALSE;
            if (t != MI_MATRIX)
                return fail(c, f, "cell element is not a matrix");
            if (!check_matrix(c, d, depth + 1, f))
                return FALSE;
        }
        return TRUE;
    case MX_STRUCT:
    case MX_OBJECT: {
        if (cls == MX_OBJECT) {
            if (!next_element(c, &m, &t, &d, TRUE, field))
                return FALSE;
            if (t != MI_INT8)
                return fail(c, field, "class name missing");
        }
        if (!next_element(c, &m, &t, &d, TRUE, field))
            return FALSE;
        if (t != MI_INT32 || d.n != 4)
            return fail(c, field, "field name length missing");
        guint32 fnl = u32(c, d.p);
        if (fnl == 0 || fnl > 64)
            return fail(c, field, "field name length outside 1..64");
        if (!next_element(c, &m, &t, &d, TRUE, field))
            return FALSE;
        if (t != MI_INT8 || d.n % fnl)
            return fail(c, field, "field names missing");
        guint64 nfields = d.n / fnl;
        if (nfields && nelems > m.n / 8 / nfields)
            return fail(c, field, "more fields declared than the bytes present can hold");
        for (guint64 i = 0; i < nelems * nfields; i++) {
            const guint8 *nm = d.p + (i % nfields) * fnl;
            g_autofree char *f = g_strdup_printf("%s(%" G_GUINT64_FORMAT ").%.*s",
                                                 field ? field : "", i / nfields + 1,
                                                 (int)strnlen((const char *)nm, fnl), nm);
            Buf e;
            guint32 et;
            if (!next_element(c, &m, &et, &e, TRUE, f))
                return FALSE;
            if (et != MI_MATRIX)
                return fail(c, f, "field is not a matrix");
            if (!check_matrix(c, e, depth + 1, f))
                return FALSE;
        }
        return TRUE;
    }
    case MX_SPARSE:
        /* never read by the readers; its parts only have to fit (checked by the walk) */
        while (m.n) {
            if (!next_element(c, &m, &t, &d, TRUE, field))
                return FALSE;
        }
        return TRUE;
    default:
        if (cls != MX_CHAR && (cls < MX_DOUBLE || cls > MX_UINT64))
            return fail(c, field, "unsupported array class");
        if (!check_part(c, &m, nelems, cls == MX_CHAR, field, "real part"))
            return FALSE;
        if (complex && !check_part(c, &m, nelems, FALSE, field, "imaginary part"))
            return FALSE;
        return TRUE;
    }
}

static gboolean check_compressed(Ctx *c, Buf z, gsize file_len)
{
    /* Inflate the whole stream into a buffer bounded by the ratio (and by a header read
     * first, the matrix tag, which says how much there is). */
    guint64 cap = (guint64)z.n * MAX_INFLATE_RATIO + 64;
    z_stream s = {0};
    if (inflateInit(&s) != Z_OK)
        return fail(c, NULL, "zlib failed to start");
    guint8 tag[8];
    s.next_in = (Bytef *)z.p;
    s.avail_in = (uInt)MIN(z.n, G_MAXUINT);
    s.next_out = tag;
    s.avail_out = 8;
    int r = inflate(&s, Z_SYNC_FLUSH);
    if ((r != Z_OK && r != Z_STREAM_END) || s.avail_out) {
        inflateEnd(&s);
        return fail(c, NULL, "compressed variable unreadable (bad zlib data)");
    }
    guint32 t = u32(c, tag), nbytes = u32(c, tag + 4);
    if (t != MI_MATRIX) {
        inflateEnd(&s);
        return fail(c, NULL, "compressed element does not hold a matrix");
    }
    if ((guint64)nbytes > cap) {
        inflateEnd(&s);
        return fail(c, NULL, "compressed variable declares more data than it can hold");
    }
    guint8 *out = g_try_malloc(nbytes ? nbytes : 1);
    if (!out) {
        inflateEnd(&s);
        return fail(c, NULL, "out of memory");
    }
    s.next_out = out;
    s.avail_out = nbytes;
    r = nbytes ? inflate(&s, Z_FINISH) : Z_STREAM_END;
    gboolean full = s.avail_out == 0 && (r == Z_STREAM_END || r == Z_OK || r == Z_BUF_ERROR);
    inflateEnd(&s);
    (void)file_len;
    if (!full) {
        g_free(out);
        return fail(c, NULL, "compressed variable cut short (file truncated?)");
    }
    gboolean ok = check_matrix(c, (Buf){out, nbytes}, 0, NULL);
    g_free(out);
    return ok;
}

/* The HDF5 superblock of a v7.3 file (at byte 512, after MATLAB's user block): a known
 * version, 8-byte addresses and lengths, and an end-of-file address within the bytes present
 * (what a truncated file fails).  The rest — object headers, B-trees, heaps — is parsed by
 * libhdf5 in a child process with budgets (s4g-reader-cvact.c). */
static gboolean check_hdf5_superblock(Ctx *c, const guint8 *buf, gsize len)
{
    const guint8 *sb = buf + 512;
    gsize n = len - 512;
    g_strlcpy(c->var, "HDF5 superblock", sizeof c->var);
    if (n < 9) return fail(c, NULL, "truncated");
    guint v = sb[8];
    gsize off_size_at = v <= 1 ? 13 : v <= 3 ? 9 : 0;
    gsize base_at = v == 0 ? 24 : v == 1 ? 28 : 12;
    if (!off_size_at) {
        g_autofree char *why = g_strdup_printf("unknown version %u", v);
        return fail(c, NULL, why);
    }
    if (n < base_at + 24) return fail(c, NULL, "truncated");
    if (sb[off_size_at] != 8 || sb[off_size_at + 1] != 8) {
        g_autofree char *why = g_strdup_printf("%u-byte addresses and %u-byte lengths (8 expected)",
                                               sb[off_size_at], sb[off_size_at + 1]);
        return fail(c, NULL, why);
    }
    guint64 base, eof;
    memcpy(&base, sb + base_at, 8);
    memcpy(&eof, sb + base_at + 16, 8);
    base = GUINT64_FROM_LE(base), eof = GUINT64_FROM_LE(eof);
    if (base != 512 && base != 0) {
        g_autofree char *why = g_strdup_printf("base address %" G_GUINT64_FORMAT " (512 expected)", base);
        return fail(c, NULL, why);
    }
    if (eof > len) {
        g_autofree char *why = g_strdup_printf(
            "truncated: the file should be %" G_GUINT64_FORMAT " bytes long but has %zu", eof,
            (size_t)len);
        return fail(c, NULL, why);
    }
    c->var[0] = 0;
    return TRUE;
}

gboolean s4g_mat_check(const guint8 *buf, gsize len, const char *what, S4gMatVersion *version,
                       GError **error)
{
    Ctx c = {.what = what, .error = error};
    if (len < 128)
        return fail(&c, NULL, "not a MATLAB file: shorter than a MAT-file header (truncated?)");
    if (buf[126] == 'I' && buf[127] == 'M')
        c.swap = G_BYTE_ORDER == G_BIG_ENDIAN;
    else if (buf[126] == 'M' && buf[127] == 'I')
        c.swap = G_BYTE_ORDER == G_LITTLE_ENDIAN;
    else
        return fail(&c, NULL, "not a MATLAB file (no v5 or v7.3 endian indicator)");
    /* the version field decides, as it does for matio: 0x0100 v5, 0x0200 v7.3 (HDF5) */
    guint16 ver;
    memcpy(&ver, buf + 124, 2);
    if (c.swap)
        ver = GUINT16_SWAP_LE_BE(ver);
    if (ver == 0x0200) {
        if (len < 520 || memcmp(buf + 512, "\x89HDF\r\n\x1a\n", 8))
            return fail(&c, NULL, "v7.3 header without the HDF5 signature at byte 512");
        *version = S4G_MAT_V73;
        return check_hdf5_superblock(&c, buf, len);
    }
    if (ver != 0x0100)
        return fail(&c, NULL, "not a MATLAB v5 or v7.3 file (unknown version field)");
    *version = S4G_MAT_V5;
    Buf b = {buf + 128, len - 128};
    while (b.n) {
        g_snprintf(c.var, sizeof c.var, "variable at byte %zu", (size_t)(b.p - buf));
        guint32 t;
        Buf d;
        if (!next_element(&c, &b, &t, &d, FALSE, NULL))
            return FALSE;
        if (t == MI_COMPRESSED) {
            if (!check_compressed(&c, d, len))
                return FALSE;
        } else if (t == MI_MATRIX) {
            if (!check_matrix(&c, d, 0, NULL))
                return FALSE;
            /* uncompressed top-level elements are padded to 8 bytes */
            gsize pad = MIN(b.n, ((d.n + 7) & ~(gsize)7) - d.n);
            b.p += pad, b.n -= pad;
        } else {
            return fail(&c, NULL, "top-level element is not a variable");
        }
    }
    return TRUE;
}
