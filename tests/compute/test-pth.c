/* test-pth.c — weights in every format and layout (compute/s4g-weights.h): PyTorch checkpoints
 * written by the real torch.save (tools/make-pth-fixtures.py) in timm, Sample4Geo TimmModel,
 * DataParallel, Facebook and ImageNet layouts, F16/BF16 storages, non-contiguous views and
 * nested checkpoints give the same features as the safetensors reference; every bad file
 * (legacy format, compressed entry, pickled object, refused global, short storage, truncated
 * archive, damaged CRC, wrong prefix or architecture, hostile pickles) gives an error naming
 * the file and the entry. */
#define _GNU_SOURCE /* memmem */
#include "s4g-convnext.h"
#include "s4g-npy.h"
#include "s4g-pickle.h"
#include "s4g-pth.h"
#include "s4g-safetensors.h"
#include "s4g-test-files.h"
#include "s4g-weights.h"
#include "s4g-zip.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static char *tmpdir;
static s4g_ctx *ctx;

#define OK(call)                                                                               \
    do {                                                                                       \
        s4g_err_clear(&err);                                                                   \
        if ((call) != 0)                                                                       \
            g_error("%s failed: %s", #call, err.msg);                                          \
    } while (0)

static char *pth(const char *name)
{
    g_autofree char *rel = g_build_filename("pth", name, NULL);
    return tf_fixture(rel);
}

/* Loads `file` into a model of the file's own architecture; features of the fixture's two
 * ground images into out (2 x dims[3]); the load report into report. */
static s4g_convnext *load(const char *file, float *out, char *report, size_t cap)
{
    s4g_err err = {0};
    s4g_convnext_cfg cfg;
    OK(s4g_convnext_cfg_from_file(file, &cfg, &err));
    s4g_convnext *m = s4g_convnext_new(ctx, &cfg, 7, &err);
    g_assert_nonnull(m);
    OK(s4g_convnext_load_report(m, file, report, cap, &err));
    g_autofree char *g = tf_fixture("convnext-tiny-fixture-ground.npy");
    s4g_npy img;
    OK(s4g_npy_read(g, &img, &err));
    OK(s4g_convnext_encode_nchw(m, 2, 70, 100, img.data, 2, out, &err));
    s4g_npy_clear(&img);
    return m;
}

typedef struct {
    const char *file, *reference;
    const char *report[3]; /* substrings the load report must hold */
} layout_case;

static const layout_case layouts[] = {
    {"timm.pth", "reference.safetensors",
     {"loaded 54 of 54 tensors", "PyTorch checkpoint, timm names"}},
    {"s4g-timmmodel.pth", "reference.safetensors",
     {"loaded 55 of 55 tensors", "Sample4Geo TimmModel"}},
    {"dataparallel.pth", "reference.safetensors",
     {"loaded 55 of 55", "DataParallel, Sample4Geo TimmModel"}},
    {"facebook.pth", "reference.safetensors",
     {"loaded 54 of 56", "Facebook ConvNeXt names", "dropped head.weight, head.bias (ImageNet classifier)"}},
    {"timm-imagenet.pth", "reference.safetensors",
     {"loaded 54 of 56", "dropped head.fc.weight, head.fc.bias (ImageNet classifier)"}},
    {"timm-imagenet.safetensors", "reference.safetensors",
     {"loaded 54 of 56", "safetensors, timm names", "dropped head.fc.bias, head.fc.weight (ImageNet"}},
    {"f16.pth", "reference-f16.safetensors", {"loaded 54 of 54"}},
    {"bf16.pth", "reference-bf16.safetensors", {"loaded 54 of 54"}},
    {"noncontig.pth", "reference.safetensors", {"loaded 54 of 54"}},
    {"nested.pth", "reference.safetensors",
     {"loaded 55 of 55", "ignored optimizer, epoch (checkpoint entries besides \"model\")"}},
    {"state-dict-args.pth", "reference.safetensors",
     {"loaded 54 of 54", "ignored args (checkpoint entries besides \"state_dict\")"}},
    {"zip64.pth", "reference.safetensors", {"loaded 54 of 54", "PyTorch checkpoint"}},
};

static void test_layout(gconstpointer data)
{
    const layout_case *c = data;
    g_autofree char *f = pth(c->file), *r = pth(c->reference);
    if (!strcmp(c->file, "zip64.pth")) { /* the fixture keeps its ZIP64 end record */
        g_autofree char *bytes = NULL;
        gsize n = 0;
        g_assert_true(g_file_get_contents(f, &bytes, &n, NULL));
        g_assert_nonnull(memmem(bytes, n, "PK\6\6", 4));
        g_assert_nonnull(memmem(bytes, n, "PK\6\7", 4));
    }
    int D = 32;
    float want[64], got[64];
    char rep[512], rep_ref[512];
    s4g_convnext *mr = load(r, want, rep_ref, sizeof rep_ref);
    s4g_convnext *m = load(f, got, rep, sizeof rep);
    g_test_message("%s: %s", c->file, rep);
    g_assert_cmpint(m->cfg.dims[3], ==, D);
    double num = 0, den = 0;
    for (int i = 0; i < 2 * D; i++) {
        num = fmax(num, fabs((double)got[i] - want[i]));
        den = fmax(den, fabs((double)want[i]));
    }
    g_assert_cmpfloat(den, >, 0.1); /* the features are not trivially zero */
    g_assert_cmpfloat(num / den, <=, 1e-6);
    for (int i = 0; i < 3 && c->report[i]; i++)
        if (!strstr(rep, c->report[i]))
            g_error("%s: report \"%s\" lacks \"%s\"", c->file, rep, c->report[i]);
    /* parameters bit for bit (logit_scale only where the file has it) */
    s4g_err err = {0};
    for (int i = 0; i < m->nparams; i++) {
        const s4g_param_info *p = &m->info[i];
        float *a = g_new(float, p->n), *b = g_new(float, p->n);
        OK(s4g_convnext_get_param(m, p->name, 0, a, p->n, &err));
        OK(s4g_convnext_get_param(mr, p->name, 0, b, p->n, &err));
        if (p->off != m->logit_scale_off || strstr(rep, "Sample4Geo"))
            g_assert_cmpmem(a, p->n * sizeof *a, b, p->n * sizeof *b);
        g_free(a);
        g_free(b);
    }
    s4g_convnext_free(m);
    s4g_convnext_free(mr);
}

/* s4g_pth_write -> s4g_pth_open: names in order, shapes (a scalar, a storage of more than
 * 65535 elements), bytes; the archive's layout (aligned entries, version record). */
static void test_write_raw(void)
{
    s4g_err err = {0};
    float scalar = 2.5f, *big = g_new(float, 70000), small[6] = {1, -2, 3.5f, 0, 1e-30f, -7};
    for (int i = 0; i < 70000; i++)
        big[i] = (float)i * 0.25f - 3;
    s4g_st_entry e[3] = {
        {.name = "logit_scale", .ndim = 0, .data = &scalar},
        {.name = "model.a.weight", .ndim = 3, .shape = {2, 1, 3}, .data = small},
        {.name = "model.big", .ndim = 2, .shape = {7, 10000}, .data = big},
    };
    g_autofree char *f = g_build_filename(tmpdir, "raw.pth", NULL);
    OK(s4g_pth_write(f, e, 3, &err));
    s4g_pth *p = s4g_pth_open(f, &err);
    if (!p)
        g_error("%s", err.msg);
    g_assert_cmpuint(p->f->ntensors, ==, 3);
    for (int i = 0; i < 3; i++) {
        const s4g_st_tensor *t = &p->f->tensors[i];
        g_assert_cmpstr(t->name, ==, e[i].name);
        g_assert_cmpint(t->dtype, ==, S4G_DT_F32);
        g_assert_cmpint(t->ndim, ==, e[i].ndim);
        size_t c = 1;
        for (int d = 0; d < t->ndim; d++) {
            g_assert_cmpint(t->shape[d], ==, e[i].shape[d]);
            c *= (size_t)e[i].shape[d];
        }
        g_assert_cmpmem(t->data, t->nbytes, e[i].data, c * 4);
        g_assert_cmpuint((uintptr_t)t->data % 64, ==, 0); /* aligned as torch aligns */
    }
    s4g_pth_close(p);
    /* a folder that does not exist: the error names the file */
    g_autofree char *bad = g_build_filename(tmpdir, "no-such-dir", "x.pth", NULL);
    g_assert_cmpint(s4g_pth_write(bad, e, 3, &err), !=, 0);
    g_assert_nonnull(strstr(err.msg, "no-such-dir"));
    g_free(big);
}

/* A model exported as .pth (Sample4Geo TimmModel names) reads back identical, logit_scale
 * included, and is recognised as Sample4Geo's layout. */
static void test_write_model(void)
{
    g_autofree char *r = pth("s4g-timmmodel.pth");
    float feats[64], again[64];
    char rep[512];
    s4g_convnext *m = load(r, feats, NULL, 0);
    s4g_err err = {0};
    g_autofree char *f = g_build_filename(tmpdir, "export.pth", NULL);
    OK(s4g_convnext_save_pth(m, f, &err));
    s4g_convnext *m2 = load(f, again, rep, sizeof rep);
    g_assert_nonnull(strstr(rep, "loaded 55 of 55 tensors"));
    g_assert_nonnull(strstr(rep, "Sample4Geo TimmModel"));
    g_assert_cmpmem(feats, sizeof feats, again, sizeof again);
    for (int i = 0; i < m->nparams; i++) {
        const s4g_param_info *p = &m->info[i];
        float *a = g_new(float, p->n), *b = g_new(float, p->n);
        OK(s4g_convnext_get_param(m, p->name, 0, a, p->n, &err));
        OK(s4g_convnext_get_param(m2, p->name, 0, b, p->n, &err));
        g_assert_cmpmem(a, p->n * sizeof *a, b, p->n * sizeof *b);
        g_free(a);
        g_free(b);
    }
    /* the key order of TimmModel.state_dict(): its own logit_scale, then model.* */
    s4g_pth *p = s4g_pth_open(f, &err);
    g_assert_nonnull(p);
    g_assert_cmpstr(p->f->tensors[0].name, ==, "logit_scale");
    g_assert_cmpstr(p->f->tensors[1].name, ==, "model.stem.0.weight");
    s4g_pth_close(p);
    s4g_convnext_free(m);
    s4g_convnext_free(m2);
}

/* logit_scale of a Sample4Geo checkpoint becomes the run's learnable scale */
static void test_logit_scale(void)
{
    g_autofree char *f = pth("s4g-timmmodel.pth");
    float feats[64], v;
    s4g_convnext *m = load(f, feats, NULL, 0);
    s4g_err err = {0};
    OK(s4g_convnext_get_param(m, "logit_scale", 0, &v, 1, &err));
    g_assert_cmpfloat(fabs(v - (2.659260036932778 + 0.25)), <, 1e-6);
    s4g_convnext_free(m);
}

static void expect_fail(const char *file, const char *const *needles)
{
    s4g_err err = {0};
    s4g_convnext_cfg cfg = {{1, 1, 1, 1}, {8, 16, 24, 32}};
    s4g_convnext *m = s4g_convnext_new(ctx, &cfg, 1, &err);
    g_assert_nonnull(m);
    g_assert_cmpint(s4g_convnext_load(m, file, &err), ==, -1);
    g_test_message("%s", err.msg);
    if (!strstr(err.msg, file))
        g_error("error does not name the file %s: %s", file, err.msg);
    for (int i = 0; needles[i]; i++)
        if (!strstr(err.msg, needles[i]))
            g_error("expected \"%s\" in: %s", needles[i], err.msg);
    s4g_convnext_free(m);
}

#define FAILS(file, ...)                                                                       \
    do {                                                                                       \
        const char *const nd_[] = {__VA_ARGS__, NULL};                                         \
        expect_fail(file, nd_);                                                                \
    } while (0)

static void test_bad_fixtures(void)
{
    g_autofree char *legacy = pth("legacy.pth"), *comp = pth("compressed.pth"),
                    *obj = pth("module-object.pth"), *glob = pth("refused-global.pth"),
                    *shortst = pth("short-storage.pth");
    FAILS(legacy, "legacy format", "torch.save(torch.load(");
    FAILS(comp, "entry \"timm/data.pkl\" is compressed");
    FAILS(obj, "torch.nn.modules.linear.Linear", "never allowed to run code");
    FAILS(glob, "entry \"stem.0.bias\" is a argparse.Namespace", "never runs code");
    FAILS(shortst, "storage \"timm/data/0\" holds 768 bytes", "stem.0.weight");
}

static char *write_tmp(const char *name, const void *data, size_t n)
{
    char *p = g_build_filename(tmpdir, name, NULL);
    g_autoptr(GError) e = NULL;
    if (!g_file_set_contents(p, data, (gssize)n, &e))
        g_error("%s", e->message);
    return p;
}

static void test_damaged_archives(void)
{
    g_autofree char *src = pth("timm.pth");
    g_autofree char *buf = NULL;
    gsize n;
    g_assert_true(g_file_get_contents(src, &buf, &n, NULL));
    /* truncated: every cut gives an error naming the file, never a crash */
    for (gsize cut = 0; cut < n; cut += n / 97 + 1) {
        g_autofree char *p = write_tmp("cut.pth", buf, cut);
        s4g_err err = {0};
        s4g_weights *w = s4g_weights_open(p, &err);
        g_assert_null(w);
        g_assert_nonnull(strstr(err.msg, p));
    }
    g_autofree char *tp = write_tmp("cut.pth", buf, n - 10);
    FAILS(tp, "no zip end-of-central-directory record");
    /* one flipped byte inside storage data/3 (CRC check) */
    s4g_zip z;
    s4g_err err = {0};
    OK(s4g_zip_open(&z, (const uint8_t *)buf, n, "x", &err));
    const s4g_zip_entry *e = s4g_zip_find(&z, "timm/data/3");
    g_assert_nonnull(e);
    const uint8_t *d = s4g_zip_data(&z, e, 1, &err);
    g_assert_nonnull(d);
    size_t at = (size_t)(d - (const uint8_t *)buf) + 5;
    s4g_zip_close(&z);
    buf[at] ^= 0x40;
    g_autofree char *cp = write_tmp("crc.pth", buf, n);
    FAILS(cp, "entry \"timm/data/3\": CRC-32");
    buf[at] ^= 0x40;
    /* a central directory claiming an entry larger than the file */
    g_autofree char *big = g_memdup2(buf, n);
    OK(s4g_zip_open(&z, (const uint8_t *)big, n, "x", &err));
    size_t cd = 0;
    for (size_t i = n - 22; i-- > 0;)
        if (memcmp(big + i, "PK\1\2", 4) == 0 && big[i + 28] == 11 && big[i + 29] == 0 &&
            memcmp(big + i + 46, "timm/data/3", 11) == 0) {
            cd = i;
            break;
        }
    s4g_zip_close(&z);
    g_assert_cmpuint(cd, >, 0);
    memcpy(big + cd + 20, "\xff\xff\xff\x7f", 4); /* compressed size */
    memcpy(big + cd + 24, "\xff\xff\xff\x7f", 4); /* size */
    g_autofree char *hp = write_tmp("huge.pth", big, n);
    FAILS(hp, "timm/data/3");
    /* neither format */
    g_autofree char *np = write_tmp("text.pth", "hello world, not weights", 24);
    FAILS(np, "neither a safetensors file nor a PyTorch checkpoint");
}

static void test_hints(void)
{
    s4g_err err = {0};
    g_autofree char *ref = pth("reference.safetensors");
    s4g_st_file *f = s4g_st_open(ref, &err);
    g_assert_nonnull(f);
    s4g_st_entry *e = g_new0(s4g_st_entry, f->ntensors);
    float **bufs = g_new0(float *, f->ntensors);
    char **names = g_new0(char *, f->ntensors);
    for (size_t i = 0; i < f->ntensors; i++) {
        const s4g_st_tensor *t = &f->tensors[i];
        bufs[i] = g_new(float, t->count ? t->count : 1);
        OK(s4g_st_to_f32(t, bufs[i], &err));
        names[i] = g_strdup_printf("encoder.%s", t->name);
        e[i] = (s4g_st_entry){.name = names[i], .ndim = t->ndim, .data = bufs[i]};
        memcpy(e[i].shape, t->shape, sizeof e[i].shape);
    }
    g_autofree char *out = g_build_filename(tmpdir, "prefixed.safetensors", NULL);
    OK(s4g_st_write(out, e, f->ntensors, NULL, &err));
    for (size_t i = 0; i < f->ntensors; i++) {
        g_free(bufs[i]);
        g_free(names[i]);
    }
    g_free(bufs);
    g_free(names);
    g_free(e);
    s4g_st_close(f);
    FAILS(out, "unexpected key \"encoder.", "prefix \"encoder.\"");
    /* the right layout, the wrong model */
    s4g_convnext_cfg atto;
    OK(s4g_convnext_preset("atto", &atto, &err));
    s4g_convnext *m = s4g_convnext_new(ctx, &atto, 1, &err);
    g_autofree char *timm = pth("timm.pth");
    g_assert_cmpint(s4g_convnext_load(m, timm, &err), ==, -1);
    g_test_message("%s", err.msg);
    g_assert_nonnull(strstr(err.msg, timm));
    g_assert_nonnull(strstr(err.msg, "wrong architecture: the file holds ConvNeXt depths 1,1,1,1 "
                                     "dims 8,16,24,32, the model is ConvNeXt-atto"));
    s4g_convnext_free(m);
}

/* Hand-made pickles: hostile or unsupported input is an error naming the label, never a
 * crash or an unbounded allocation. */
static void test_pickle_limits(void)
{
    struct {
        const char *what;
        GByteArray *b;
    } cases[6];
    int nc = 0;
    GByteArray *b = g_byte_array_new(); /* a million MARKs */
    g_byte_array_append(b, (const guint8 *)"\x80\x02", 2);
    for (int i = 0; i < 1000000; i++)
        g_byte_array_append(b, (const guint8 *)"(", 1);
    cases[nc++] = (typeof(cases[0])){"nesting too deep", b};
    b = g_byte_array_new(); /* nested empty lists appended into each other, 2^21 deep */
    g_byte_array_append(b, (const guint8 *)"\x80\x02", 2);
    for (int i = 0; i < (1 << 21); i++)
        g_byte_array_append(b, (const guint8 *)"]", 1);
    cases[nc++] = (typeof(cases[0])){"stack too deep", b};
    b = g_byte_array_new();
    g_byte_array_append(b, (const guint8 *)"\x80\x02j\xff\xff\xff\x7f.", 8);
    cases[nc++] = (typeof(cases[0])){"memo entry read before it was written", b};
    b = g_byte_array_new();
    g_byte_array_append(b, (const guint8 *)"\x80\x02}r\xff\xff\xff\x7f.", 9);
    cases[nc++] = (typeof(cases[0])){"memo index out of range", b};
    b = g_byte_array_new();
    g_byte_array_append(b, (const guint8 *)"\x80\x02X\xff\xff\xff\x00" "ab.", 10);
    cases[nc++] = (typeof(cases[0])){"string runs past the end", b};
    b = g_byte_array_new();
    g_byte_array_append(b, (const guint8 *)"\x80\x02" "cos\nsystem\nX\x02\x00\x00\x00ls\x85R.", 23);
    cases[nc++] = (typeof(cases[0])){NULL, b}; /* parses: os.system is never called */
    for (int i = 0; i < nc; i++) {
        s4g_pickle pk;
        s4g_err err = {0};
        int rc = s4g_pickle_load(&pk, cases[i].b->data, cases[i].b->len, "t.pth: data.pkl", &err);
        if (cases[i].what) {
            g_assert_cmpint(rc, ==, -1);
            g_assert_nonnull(strstr(err.msg, "t.pth: data.pkl"));
            if (!strstr(err.msg, cases[i].what))
                g_error("expected \"%s\" in: %s", cases[i].what, err.msg);
        } else {
            g_assert_cmpint(rc, ==, 0);
            g_assert_cmpint(pk.root->kind, ==, S4G_PK_OPAQUE);
            g_assert_cmpstr(s4g_pk_describe(pk.root), ==, "os.system");
            s4g_pickle_free(&pk);
        }
        g_byte_array_unref(cases[i].b);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmpdir = tf_tmpdir_new("s4g-test-pth-XXXXXX");
    s4g_ctx_opts o = {.backend = S4G_BACKEND_CPU};
    s4g_err err = {0};
    ctx = s4g_ctx_new(&o, &err);
    if (!ctx)
        g_error("context: %s", err.msg);
    for (size_t i = 0; i < G_N_ELEMENTS(layouts); i++) {
        g_autofree char *name = g_strdup_printf("/pth/layout/%s", layouts[i].file);
        g_test_add_data_func(name, &layouts[i], test_layout);
    }
    g_test_add_func("/pth/logit-scale", test_logit_scale);
    g_test_add_func("/pth/write-raw", test_write_raw);
    g_test_add_func("/pth/write-model", test_write_model);
    g_test_add_func("/pth/bad-fixtures", test_bad_fixtures);
    g_test_add_func("/pth/damaged-archives", test_damaged_archives);
    g_test_add_func("/pth/hints", test_hints);
    g_test_add_func("/pth/pickle-limits", test_pickle_limits);
    int rc = g_test_run();
    s4g_ctx_free(ctx);
    tf_tmpdir_remove(tmpdir);
    return rc;
}
