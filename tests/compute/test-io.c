/* test-io.c — JSON, safetensors and .npy readers/writers: round trips and every kind of bad
 * file (each must give a clear error, never a crash or an out-of-bounds read). */
#define _GNU_SOURCE /* memmem */
#include "s4g-json.h"
#include "s4g-npy.h"
#include "s4g-safetensors.h"
#include "s4g-convnext.h"
#include "s4g-test-files.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

static char *tmpdir;

static char *tmp(const char *name)
{
    return g_build_filename(tmpdir, name, NULL);
}

/* a safetensors image from a header string and n data bytes (value i & 0xff) */
static GByteArray *st_image(const char *header, size_t ndata)
{
    GByteArray *b = g_byte_array_new();
    guint64 hl = strlen(header);
    guint8 le[8];
    for (int i = 0; i < 8; i++)
        le[i] = (guint8)(hl >> (8 * i));
    g_byte_array_append(b, le, 8);
    g_byte_array_append(b, (const guint8 *)header, (guint)hl);
    for (size_t i = 0; i < ndata; i++) {
        guint8 v = (guint8)i;
        g_byte_array_append(b, &v, 1);
    }
    return b;
}

static void test_json(void)
{
    s4g_err err = {0};
    const char *ok = " {\"a\": [1, -2.5e3, true, false, null], \"b\\u00e9\\ud83d\\ude00\": "
                     "\"x\\n\\\"y\", \"n\": 9007199254740993} ";
    s4g_json *j = s4g_json_parse(ok, strlen(ok), &err);
    g_assert_nonnull(j);
    const s4g_json *a = s4g_json_get(j, "a");
    g_assert_nonnull(a);
    g_assert_cmpint(a->count, ==, 5);
    g_assert_true(a->items[0]->is_int);
    g_assert_cmpint(a->items[0]->integer, ==, 1);
    g_assert_cmpfloat(a->items[1]->number, ==, -2500.0);
    g_assert_false(a->items[1]->is_int);
    g_assert_true(a->items[2]->boolean);
    g_assert_cmpint(a->items[4]->type, ==, S4G_JSON_NULL);
    g_assert_cmpstr(j->keys[1], ==, "b\xc3\xa9\xf0\x9f\x98\x80");
    g_assert_cmpstr(j->items[1]->str, ==, "x\n\"y");
    g_assert_cmpint(s4g_json_get(j, "n")->integer, ==, 9007199254740993LL);
    s4g_json_free(j);

    const char *bad[] = {"",        "{",          "{\"a\":1,}", "[1 2]",     "{\"a\" 1}",
                         "01",      "1.",         "-",          "\"abc",     "\"\\x\"",
                         "tru",     "[1]x",       "\"\\ud800\"", "{\"a\":\"\x01\"}", "1e",
                         "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                         "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        s4g_err_clear(&err);
        j = s4g_json_parse(bad[i], strlen(bad[i]), &err);
        if (j)
            g_error("accepted bad JSON #%zu: %s", i, bad[i]);
        g_assert_cmpint(err.code, ==, S4G_E_FORMAT);
        g_assert_nonnull(strstr(err.msg, "JSON"));
    }
}

static void test_safetensors_roundtrip(void)
{
    s4g_err err = {0};
    g_autofree char *p = tmp("rt.safetensors");
    float a[6] = {1, -2, 3.5f, 4, 5, 6}, b[1] = {7.25f};
    s4g_st_entry e[2] = {
        {.name = "zeta", .ndim = 2, .shape = {2, 3}, .data = a},
        {.name = "alpha \"q\"", .ndim = 0, .data = b},
    };
    const char *meta[] = {"step", "12", "note", "a\"b\\c", NULL};
    g_assert_cmpint(s4g_st_write(p, e, 2, meta, &err), ==, 0);
    s4g_st_file *f = s4g_st_open(p, &err);
    g_assert_nonnull(f);
    g_assert_cmpint(f->ntensors, ==, 2);
    g_assert_cmpstr(s4g_st_meta(f, "step"), ==, "12");
    g_assert_cmpstr(s4g_st_meta(f, "note"), ==, "a\"b\\c");
    const s4g_st_tensor *t = s4g_st_find(f, "zeta");
    g_assert_nonnull(t);
    g_assert_cmpint(t->ndim, ==, 2);
    g_assert_cmpint(t->shape[1], ==, 3);
    float got[6];
    g_assert_cmpint(s4g_st_to_f32(t, got, &err), ==, 0);
    g_assert_cmpmem(got, sizeof got, a, sizeof a);
    t = s4g_st_find(f, "alpha \"q\"");
    g_assert_nonnull(t);
    g_assert_cmpint(t->ndim, ==, 0);
    g_assert_cmpint(s4g_st_to_f32(t, got, &err), ==, 0);
    g_assert_cmpfloat(got[0], ==, 7.25f);
    /* data starts 8-byte aligned */
    g_assert_cmpint((f->tensors[0].data - f->image) % 8, ==, 0);
    s4g_st_close(f);
    /* no temporary file is left behind */
    g_autoptr(GDir) d = g_dir_open(tmpdir, 0, NULL);
    const char *n;
    while ((n = g_dir_read_name(d)))
        g_assert_null(strstr(n, ".tmp-"));
}

static void test_safetensors_dtypes(void)
{
    s4g_err err = {0};
    /* F16: 1.0 = 0x3c00, -2.0 = 0xc000, 65504 = 0x7bff, 2^-24 = 0x0001 (subnormal);
     * BF16: 1.5 = 0x3fc0, -0.25 = 0xbe80 */
    const char *h = "{\"h\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]},"
                    "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[8,12]},"
                    "\"i\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[12,20]}}";
    GByteArray *img = st_image(h, 0);
    const guint8 data[20] = {0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00, 0xc0, 0x3f,
                             0x80, 0xbe, 1,    0,    0,    0,    0,    0,    0,    0};
    g_byte_array_append(img, data, sizeof data);
    guint len = img->len;
    s4g_st_file *f = s4g_st_parse(g_byte_array_free(img, FALSE), len, "mem", &err);
    g_assert_nonnull(f);
    float v[4];
    g_assert_cmpint(s4g_st_to_f32(s4g_st_find(f, "h"), v, &err), ==, 0);
    g_assert_cmpfloat(v[0], ==, 1.0f);
    g_assert_cmpfloat(v[1], ==, -2.0f);
    g_assert_cmpfloat(v[2], ==, 65504.0f);
    g_assert_cmpfloat(v[3], ==, 5.9604644775390625e-8f);
    g_assert_cmpint(s4g_st_to_f32(s4g_st_find(f, "b"), v, &err), ==, 0);
    g_assert_cmpfloat(v[0], ==, 1.5f);
    g_assert_cmpfloat(v[1], ==, -0.25f);
    g_assert_cmpint(s4g_st_to_f32(s4g_st_find(f, "i"), v, &err), ==, -1);
    g_assert_nonnull(strstr(err.msg, "I64"));
    s4g_st_close(f);
}

typedef struct {
    const char *header;
    size_t ndata;
    const char *expect; /* substring of the message */
} BadCase;

static void test_safetensors_bad(void)
{
    const BadCase cases[] = {
        {"{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}", 8, "JSON"},
        {"[1,2]", 0, "not a JSON object"},
        {"{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "outside"},
        {"{\"t\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "expected 12"},
        {"{\"t\":{\"dtype\":\"F33\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "unknown dtype"},
        {"{\"t\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "shape[0]"},
        {"{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "outside"},
        {"{\"t\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "data_offsets"},
        {"{\"t\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "dtype"},
        {"{\"t\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],"
         "\"data_offsets\":[0,8]}}",
         8, "overflows"},
        {"{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,18446744073709551615]}}", 8,
         "non-negative integers"},
        {"{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}",
         8, "appears twice"},
        {"{\"__metadata__\":{\"a\":1}}", 0, "__metadata__"},
        {"{\"t\":7}", 0, "not an object"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        s4g_err err = {0};
        GByteArray *img = st_image(cases[i].header, cases[i].ndata);
        guint len = img->len;
        s4g_st_file *f = s4g_st_parse(g_byte_array_free(img, FALSE), len, "case.safetensors", &err);
        if (f)
            g_error("bad safetensors case %zu accepted", i);
        g_assert_cmpint(err.code, ==, S4G_E_FORMAT);
        if (!strstr(err.msg, cases[i].expect) || !strstr(err.msg, "case.safetensors"))
            g_error("case %zu: message \"%s\" lacks \"%s\"", i, err.msg, cases[i].expect);
        if (strstr(cases[i].header, "\"t\":{") && !strstr(cases[i].expect, "JSON") &&
            !strstr(cases[i].expect, "twice"))
            g_assert_nonnull(strstr(err.msg, "\"t\""));
    }
    /* truncated: fewer than 8 bytes; header length past EOF; huge header length */
    s4g_err err = {0};
    guint8 *few = g_memdup2("\x10\x00\x00", 3);
    g_assert_null(s4g_st_parse(few, 3, "short", &err));
    g_assert_nonnull(strstr(err.msg, "truncated"));
    GByteArray *img = st_image("{}", 0);
    img->data[0] = 200;
    guint len = img->len;
    g_assert_null(s4g_st_parse(g_byte_array_free(img, FALSE), len, "past", &err));
    g_assert_nonnull(strstr(err.msg, "past the end"));
    img = st_image("{}", 0);
    memset(img->data, 0xff, 8);
    len = img->len;
    g_assert_null(s4g_st_parse(g_byte_array_free(img, FALSE), len, "huge", &err));
    g_assert_nonnull(strstr(err.msg, "past the end"));
    /* missing file */
    g_assert_null(s4g_st_open("/nonexistent/x.safetensors", &err));
    g_assert_cmpint(err.code, ==, S4G_E_IO);
    g_assert_nonnull(strstr(err.msg, "/nonexistent/x.safetensors"));
}

/* Every prefix and many single-byte corruptions of a real file: errors, never crashes. */
static void test_safetensors_corpus(void)
{
    g_autofree char *path = tf_fixture("convnext-tiny-fixture-expected.safetensors");
    gchar *data;
    gsize len;
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    guint64 hl = 0;
    for (int i = 7; i >= 0; i--)
        hl = (hl << 8) | (guint8)data[i];
    int accepted = 0, rejected = 0;
    /* truncations: every length inside the header, then a stride through the data */
    for (gsize n = 0; n < len; n += n < hl + 16 ? 1 : 997) {
        s4g_err err = {0};
        s4g_st_file *f = s4g_st_parse(g_memdup2(data, n ? n : 1), n, "trunc", &err);
        if (f) {
            accepted++;
            s4g_st_close(f);
        } else {
            rejected++;
            g_assert_cmpint(err.code, ==, S4G_E_FORMAT);
        }
    }
    g_assert_cmpint(accepted, ==, 0); /* every truncation loses data some tensor needs */
    /* corruptions: set header bytes to characters that break structure or numbers */
    GRand *r = g_rand_new_with_seed(7);
    const char subst[] = "{}[]\",:0919-e\\ x";
    for (int k = 0; k < 3000; k++) {
        guint8 *c = g_memdup2(data, len);
        gsize pos = 8 + (gsize)g_rand_int_range(r, 0, (gint32)hl);
        c[pos] = (guint8)subst[g_rand_int_range(r, 0, (gint32)sizeof subst - 1)];
        if (k % 10 == 0)
            c[g_rand_int_range(r, 0, 8)] ^= (guint8)(1u << g_rand_int_range(r, 0, 8));
        s4g_err err = {0};
        s4g_st_file *f = s4g_st_parse(c, len, "corrupt", &err);
        if (f) {
            /* accepted files must be self-consistent */
            for (size_t i = 0; i < f->ntensors; i++)
                g_assert_true(f->tensors[i].data + f->tensors[i].nbytes <= f->image + f->size);
            s4g_st_close(f);
        } else {
            g_assert_cmpint(err.code, !=, 0);
            g_assert_cmpuint(strlen(err.msg), >, 0);
        }
    }
    g_rand_free(r);
    g_free(data);
    g_assert_cmpint(rejected, >, 0);
}

static void test_npy(void)
{
    s4g_err err = {0};
    g_autofree char *p = tmp("a.npy");
    float a[2 * 3 * 5];
    for (int i = 0; i < 30; i++)
        a[i] = (float)i * 0.5f - 3;
    int64_t shape[3] = {2, 3, 5};
    g_assert_cmpint(s4g_npy_write(p, 3, shape, a, &err), ==, 0);
    gchar *raw;
    gsize rawlen;
    g_assert_true(g_file_get_contents(p, &raw, &rawlen, NULL));
    g_assert_cmpint((rawlen - 30 * 4) % 64, ==, 0);
    g_assert_nonnull(memmem(raw, 128, "'shape': (2, 3, 5)", 18));
    g_free(raw);
    s4g_npy n;
    g_assert_cmpint(s4g_npy_read(p, &n, &err), ==, 0);
    g_assert_cmpint(n.ndim, ==, 3);
    g_assert_cmpint(n.shape[2], ==, 5);
    g_assert_cmpmem(n.data, 30 * 4, a, sizeof a);
    s4g_npy_clear(&n);
    int64_t one = 4;
    g_assert_cmpint(s4g_npy_write(p, 1, &one, a, &err), ==, 0);
    g_assert_cmpint(s4g_npy_read(p, &n, &err), ==, 0);
    g_assert_cmpint(n.ndim, ==, 1);
    g_assert_cmpint(n.count, ==, 4);
    s4g_npy_clear(&n);

    /* the fixture written by NumPy itself */
    g_autofree char *fx = tf_fixture("convnext-tiny-fixture-sat.npy");
    g_assert_cmpint(s4g_npy_read(fx, &n, &err), ==, 0);
    g_assert_cmpint(n.ndim, ==, 4);
    g_assert_cmpint(n.shape[0], ==, 2);
    g_assert_cmpint(n.shape[3], ==, 64);
    s4g_npy_clear(&n);

    /* float64 is converted */
    const char h64[] = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
    GByteArray *b = g_byte_array_new();
    guint8 pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, sizeof h64 - 1, 0};
    g_byte_array_append(b, pre, 10);
    g_byte_array_append(b, (const guint8 *)h64, sizeof h64 - 1);
    double dv[2] = {1.5, -8};
    g_byte_array_append(b, (const guint8 *)dv, sizeof dv);
    g_assert_cmpint(s4g_npy_parse(b->data, b->len, "f8", &n, &err), ==, 0);
    g_assert_cmpfloat(n.data[1], ==, -8.0f);
    s4g_npy_clear(&n);
    g_byte_array_free(b, TRUE);

    struct {
        const char *header;
        size_t ndata;
        const char *expect;
    } bad[] = {
        {"{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", 8, "'<i4'"},
        {"{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8, "'>f4'"},
        {"{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }", 8, "Fortran"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 8, "truncated"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 8, "file has 8"},
        {"{'descr': '<f4', 'fortran_order': False}", 8, "lacks"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,x), }", 8, "shape"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, ", 8, "shape"},
        {"['descr']", 8, "not a dict"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", 8,
         "too large"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 64), }", 8,
         "overflows"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        b = g_byte_array_new();
        size_t hl = strlen(bad[i].header);
        guint8 pr[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (guint8)hl, 0};
        g_byte_array_append(b, pr, 10);
        g_byte_array_append(b, (const guint8 *)bad[i].header, (guint)hl);
        for (size_t k = 0; k < bad[i].ndata; k++)
            g_byte_array_append(b, (const guint8 *)"\0", 1);
        s4g_err_clear(&err);
        int rc = s4g_npy_parse(b->data, b->len, "bad.npy", &n, &err);
        if (rc == 0 || !strstr(err.msg, bad[i].expect) || !strstr(err.msg, "bad.npy"))
            g_error("npy case %zu: rc %d message \"%s\" lacks \"%s\"", i, rc, err.msg,
                    bad[i].expect);
        g_byte_array_free(b, TRUE);
    }
    /* bad magic, truncated prefix, header length past EOF, version 9 */
    g_assert_cmpint(s4g_npy_parse((const guint8 *)"PK\x03\x04xxxxxxxx", 12, "zip", &n, &err), ==,
                    -1);
    g_assert_nonnull(strstr(err.msg, "not a .npy"));
    g_assert_cmpint(s4g_npy_parse((const guint8 *)"\x93NUMPY\x01", 7, "t", &n, &err), ==, -1);
    g_assert_cmpint(
        s4g_npy_parse((const guint8 *)"\x93NUMPY\x01\x00\xff\x00{}", 12, "past", &n, &err), ==, -1);
    g_assert_nonnull(strstr(err.msg, "past the end"));
    g_assert_cmpint(s4g_npy_parse((const guint8 *)"\x93NUMPY\x09\x00\x02\x00{}", 12, "v9", &n, &err),
                    ==, -1);
    g_assert_nonnull(strstr(err.msg, "version 9"));
    g_assert_cmpint(s4g_npy_read("/nonexistent.npy", &n, &err), ==, -1);
    g_assert_cmpint(err.code, ==, S4G_E_IO);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmpdir = tf_tmpdir_new("s4g-test-io-XXXXXX");
    g_test_add_func("/io/json", test_json);
    g_test_add_func("/io/safetensors/roundtrip", test_safetensors_roundtrip);
    g_test_add_func("/io/safetensors/dtypes", test_safetensors_dtypes);
    g_test_add_func("/io/safetensors/bad", test_safetensors_bad);
    g_test_add_func("/io/safetensors/corpus", test_safetensors_corpus);
    g_test_add_func("/io/npy", test_npy);
    int rc = g_test_run();
    tf_tmpdir_remove(tmpdir);
    return rc;
}
