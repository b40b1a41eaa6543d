/* test-convnext.c — the ConvNeXt encoder and the training step on the CPU backend against the
 * timm-mirror fixture (tools/make-timm-fixture.py): forward embeddings, InfoNCE loss and
 * gradients; weight loading rules; save/load and checkpoint round trips; loss falls when
 * training on a fixed batch; spatial-size arithmetic. */
#include "s4g-convnext.h"
#include "s4g-npy.h"
#include "s4g-safetensors.h"
#include "s4g-test-files.h"
#include "s4g-train-step.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static char *tmpdir;
static s4g_backend_kind backend = S4G_BACKEND_CPU;

static s4g_ctx *new_ctx(void)
{
    s4g_ctx_opts o = {.backend = backend, .allow_cpu_device = 1};
    s4g_err err = {0};
    s4g_ctx *c = s4g_ctx_new(&o, &err);
    if (!c)
        g_error("context: %s", err.msg);
    g_test_message("backend: %s", s4g_ctx_describe(c));
    return c;
}

#define OK(call)                                                                               \
    do {                                                                                       \
        s4g_err_clear(&err);                                                                   \
        if ((call) != 0)                                                                       \
            g_error("%s failed: %s", #call, err.msg);                                          \
    } while (0)

/* max |a-b| / max |b| */
static double rel_err(const float *a, const float *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num = fmax(num, fabs((double)a[i] - b[i]));
        den = fmax(den, fabs((double)b[i]));
    }
    return num / (den > 0 ? den : 1);
}

static float *nchw_to_nhwc(const s4g_npy *a)
{
    int N = (int)a->shape[0], C = (int)a->shape[1], H = (int)a->shape[2], W = (int)a->shape[3];
    float *o = g_new(float, a->count);
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++)
            for (int p = 0; p < H * W; p++)
                o[((size_t)n * H * W + p) * C + c] = a->data[((size_t)n * C + c) * H * W + p];
    return o;
}

static void test_spatial(void)
{
    s4g_err err = {0};
    int h[4], w[4];
    OK(s4g_convnext_spatial(140, 768, h, w, &err));
    int eh[4] = {35, 17, 8, 4}, ew[4] = {192, 96, 48, 24};
    for (int i = 0; i < 4; i++) {
        g_assert_cmpint(h[i], ==, eh[i]);
        g_assert_cmpint(w[i], ==, ew[i]);
    }
    OK(s4g_convnext_spatial(384, 768, h, w, &err));
    g_assert_cmpint(h[3], ==, 12);
    g_assert_cmpint(w[3], ==, 24);
    OK(s4g_convnext_spatial(384, 384, h, w, &err));
    g_assert_cmpint(h[0], ==, 96);
    g_assert_cmpint(w[3], ==, 12);
    g_assert_cmpint(s4g_convnext_spatial(31, 64, h, w, &err), ==, -1);
    g_assert_nonnull(strstr(err.msg, "31x64"));
}

static void test_presets(void)
{
    s4g_err err = {0};
    s4g_convnext_cfg c;
    OK(s4g_convnext_preset("base", &c, &err));
    g_assert_cmpint(c.depths[2], ==, 27);
    g_assert_cmpint(c.dims[3], ==, 1024);
    /* sample4geo-reference.md §1.2: 87,566,464 backbone parameters */
    g_assert_cmpuint(s4g_convnext_cfg_count(&c), ==, 87566464);
    g_assert_cmpstr(s4g_convnext_preset_name(&c), ==, "base");
    OK(s4g_convnext_preset("atto", &c, &err));
    g_assert_cmpint(c.dims[0], ==, 40);
    g_assert_cmpint(c.depths[2], ==, 6);
    /* counted with the timm mirror of tools/make-timm-fixture.py (num_classes=0) */
    g_assert_cmpuint(s4g_convnext_cfg_count(&c), ==, 3374520);
    const char *names[] = {"femto", "pico", "nano", "tiny", "small"};
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        OK(s4g_convnext_preset(names[i], &c, &err));
        g_assert_cmpstr(s4g_convnext_preset_name(&c), ==, names[i]);
    }
    g_assert_cmpint(s4g_convnext_preset("huge", &c, &err), ==, -1);
    g_assert_nonnull(strstr(err.msg, "huge"));
}

typedef struct {
    s4g_ctx *ctx;
    s4g_convnext *m;
    s4g_npy ground, sat;
    s4g_st_file *exp;
} Fx;

static void fx_open(Fx *f)
{
    s4g_err err = {0};
    g_autofree char *w = tf_fixture("convnext-tiny-fixture.safetensors");
    g_autofree char *g = tf_fixture("convnext-tiny-fixture-ground.npy");
    g_autofree char *s = tf_fixture("convnext-tiny-fixture-sat.npy");
    g_autofree char *e = tf_fixture("convnext-tiny-fixture-expected.safetensors");
    s4g_convnext_cfg cfg;
    OK(s4g_convnext_cfg_from_file(w, &cfg, &err));
    const int dep[4] = {1, 1, 2, 1}, dim[4] = {8, 16, 32, 64};
    g_assert_cmpmem(cfg.depths, sizeof dep, dep, sizeof dep);
    g_assert_cmpmem(cfg.dims, sizeof dim, dim, sizeof dim);
    f->ctx = new_ctx();
    f->m = s4g_convnext_new(f->ctx, &cfg, 1, &err);
    g_assert_nonnull(f->m);
    OK(s4g_convnext_load(f->m, w, &err));
    OK(s4g_npy_read(g, &f->ground, &err));
    OK(s4g_npy_read(s, &f->sat, &err));
    f->exp = s4g_st_open(e, &err);
    g_assert_nonnull(f->exp);
}

static void fx_close(Fx *f)
{
    s4g_st_close(f->exp);
    s4g_npy_clear(&f->ground);
    s4g_npy_clear(&f->sat);
    s4g_convnext_free(f->m);
    g_assert_cmpint(s4g_ctx_validation_errors(f->ctx), ==, 0);
    s4g_ctx_free(f->ctx);
}

static float *expected(Fx *f, const char *name, size_t n)
{
    s4g_err err = {0};
    const s4g_st_tensor *t = s4g_st_find(f->exp, name);
    if (!t)
        g_error("fixture lacks %s", name);
    g_assert_cmpuint(t->count, ==, n);
    float *v = g_new(float, n);
    OK(s4g_st_to_f32(t, v, &err));
    return v;
}

static void test_forward(void)
{
    Fx f;
    s4g_err err = {0};
    fx_open(&f);
    float out[2 * 64];
    OK(s4g_convnext_encode_nchw(f.m, 2, 70, 100, f.ground.data, 2, out, &err));
    g_autofree float *eg = expected(&f, "emb.ground", 128);
    double r = rel_err(out, eg, 128);
    g_test_message("ground embeddings rel err %.3g", r);
    g_assert_cmpfloat(r, <=, 1e-4);
    /* batch 1 chunks give the same features (workspace re-made per shape) */
    float out1[2 * 64];
    OK(s4g_convnext_encode_nchw(f.m, 2, 64, 64, f.sat.data, 1, out1, &err));
    g_autofree float *es = expected(&f, "emb.sat", 128);
    r = rel_err(out1, es, 128);
    g_test_message("satellite embeddings rel err %.3g", r);
    g_assert_cmpfloat(r, <=, 1e-4);
    fx_close(&f);
}

static void test_loss_grads(void)
{
    Fx f;
    s4g_err err = {0};
    fx_open(&f);
    s4g_train_cfg tc = s4g_train_cfg_default(0, 10);
    s4g_trainer *t = s4g_trainer_new(f.m, &tc, &err);
    g_assert_nonnull(t);
    g_autofree float *q = nchw_to_nhwc(&f.ground);
    g_autofree float *r = nchw_to_nhwc(&f.sat);
    float loss;
    OK(s4g_trainer_grad(t, 2, 70, 100, q, 64, 64, r, &loss, &err));
    g_autofree float *el = expected(&f, "loss", 1);
    g_test_message("loss %.7f expected %.7f", loss, el[0]);
    g_assert_cmpfloat(fabs(loss - el[0]) / fabs(el[0]), <=, 1e-4);
    int checked = 0;
    for (size_t i = 0; i < f.exp->ntensors; i++) {
        const char *k = f.exp->tensors[i].name;
        if (strncmp(k, "grad.", 5) != 0)
            continue;
        const s4g_param_info *p = s4g_convnext_find(f.m, k + 5);
        g_assert_nonnull(p);
        g_autofree float *e = expected(&f, k, p->n);
        g_autofree float *g = g_new(float, p->n);
        OK(s4g_convnext_get_param(f.m, k + 5, 1, g, p->n, &err));
        double re = rel_err(g, e, p->n);
        g_test_message("%s rel err %.3g", k, re);
        if (re > 1e-3)
            g_error("%s: gradient rel err %.3g > 1e-3", k, re);
        checked++;
    }
    g_assert_cmpint(checked, >=, 8);
    s4g_trainer_free(t);
    fx_close(&f);
}

/* rewrites the fixture with a name transform; drop/extra/reshape one key */
static char *rewrite(Fx *f, const char *out, const char *prefix, const char *drop,
                     const char *extra, const char *reshape, int f16)
{
    s4g_err err = {0};
    g_autofree char *w = tf_fixture("convnext-tiny-fixture.safetensors");
    s4g_st_file *src = s4g_st_open(w, &err);
    g_assert_nonnull(src);
    char *path = g_build_filename(tmpdir, out, NULL);
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *datas = g_ptr_array_new_with_free_func(g_free);
    s4g_st_entry *e = g_new0(s4g_st_entry, src->ntensors + 1);
    size_t n = 0;
    for (size_t i = 0; i < src->ntensors; i++) {
        const s4g_st_tensor *t = &src->tensors[i];
        if (drop && !strcmp(t->name, drop))
            continue;
        char *nm = g_strdup_printf("%s%s", strcmp(t->name, "logit_scale") ? prefix : "", t->name);
        g_ptr_array_add(names, nm);
        float *d = g_new(float, t->count ? t->count : 1);
        OK(s4g_st_to_f32(t, d, &err));
        if (f16) /* round to the values an F16 file would hold (bf16-like truncation) */
            for (size_t k = 0; k < t->count; k++) {
                guint32 u;
                memcpy(&u, &d[k], 4);
                u &= 0xFFFF0000u;
                memcpy(&d[k], &u, 4);
            }
        g_ptr_array_add(datas, d);
        e[n].name = nm;
        e[n].ndim = t->ndim;
        memcpy(e[n].shape, t->shape, sizeof t->shape);
        if (reshape && !strcmp(t->name, reshape))
            e[n].shape[0] = 1, e[n].ndim = 1;
        e[n].data = d;
        n++;
    }
    static float one = 1;
    if (extra)
        e[n++] = (s4g_st_entry){.name = extra, .ndim = 1, .shape = {1}, .data = &one};
    OK(s4g_st_write(path, e, n, NULL, &err));
    g_free(e);
    g_ptr_array_unref(names);
    g_ptr_array_unref(datas);
    s4g_st_close(src);
    (void)f;
    return path;
}

static void test_load_rules(void)
{
    Fx f;
    s4g_err err = {0};
    fx_open(&f);
    float base[128], out[128];
    OK(s4g_convnext_encode_nchw(f.m, 2, 64, 64, f.sat.data, 2, base, &err));

    /* Sample4Geo checkpoint names: "model." prefix + bare logit_scale */
    g_autofree char *pre = rewrite(&f, "s4g.safetensors", "model.", NULL, NULL, NULL, 0);
    s4g_convnext_cfg cfg;
    OK(s4g_convnext_cfg_from_file(pre, &cfg, &err));
    g_assert_cmpint(cfg.depths[2], ==, 2);
    s4g_convnext *m2 = s4g_convnext_new(f.ctx, &cfg, 99, &err);
    OK(s4g_convnext_load(m2, pre, &err));
    OK(s4g_convnext_encode_nchw(m2, 2, 64, 64, f.sat.data, 2, out, &err));
    g_assert_cmpmem(out, sizeof out, base, sizeof base);

    /* save -> load gives bit-identical features and logit_scale */
    g_autofree char *saved = g_build_filename(tmpdir, "saved.safetensors", NULL);
    const char *meta[] = {"arch", "fixture", NULL};
    OK(s4g_convnext_save(f.m, saved, meta, &err));
    s4g_convnext *m3 = s4g_convnext_new(f.ctx, &cfg, 5, &err);
    OK(s4g_convnext_load(m3, saved, &err));
    OK(s4g_convnext_encode_nchw(m3, 2, 64, 64, f.sat.data, 2, out, &err));
    g_assert_cmpmem(out, sizeof out, base, sizeof base);
    float ls;
    OK(s4g_convnext_get_param(m3, "logit_scale", 0, &ls, 1, &err));
    g_assert_cmpfloat(fabs(ls - 2.6592600f), <, 1e-6);
    s4g_convnext_free(m3);

    /* bf16-rounded weights still give features within 2 % */
    g_autofree char *lo = rewrite(&f, "lo.safetensors", "", NULL, NULL, NULL, 1);
    OK(s4g_convnext_load(m2, lo, &err));
    OK(s4g_convnext_encode_nchw(m2, 2, 64, 64, f.sat.data, 2, out, &err));
    g_assert_cmpfloat(rel_err(out, base, 128), <, 0.05);
    g_assert_cmpfloat(rel_err(out, base, 128), >, 0);

    /* missing, unexpected, mis-shaped: errors naming the key, model unchanged */
    struct {
        const char *drop, *extra, *reshape, *expect;
    } bad[] = {
        {"stages.2.blocks.1.mlp.fc1.weight", NULL, NULL, "missing key \"stages.2.blocks.1.mlp.fc1.weight\""},
        {NULL, "head.proj.weight", NULL, "unexpected key \"head.proj.weight\""}, /* head.fc: dropped */
        {NULL, NULL, "stages.1.downsample.1.weight",
         "key \"stages.1.downsample.1.weight\" has shape [1], expected [16, 8, 2, 2]"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *p =
            rewrite(&f, "bad.safetensors", "", bad[i].drop, bad[i].extra, bad[i].reshape, 0);
        s4g_err_clear(&err);
        g_assert_cmpint(s4g_convnext_load(f.m, p, &err), ==, -1);
        if (!strstr(err.msg, bad[i].expect))
            g_error("case %zu: \"%s\" lacks \"%s\"", i, err.msg, bad[i].expect);
    }
    OK(s4g_convnext_encode_nchw(f.m, 2, 64, 64, f.sat.data, 2, out, &err));
    g_assert_cmpmem(out, sizeof out, base, sizeof base);
    /* a model of another shape rejects the file */
    s4g_convnext_cfg atto;
    OK(s4g_convnext_preset("atto", &atto, &err));
    s4g_convnext *ma = s4g_convnext_new(f.ctx, &atto, 1, &err);
    g_autofree char *w = tf_fixture("convnext-tiny-fixture.safetensors");
    g_assert_cmpint(s4g_convnext_load(ma, w, &err), ==, -1);
    g_assert_nonnull(strstr(err.msg, "stem.0.weight"));
    s4g_convnext_free(ma);
    s4g_convnext_free(m2);
    fx_close(&f);
}

static void fill_random(float *x, size_t n, guint32 seed)
{
    GRand *r = g_rand_new_with_seed(seed);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)g_rand_double_range(r, -1.5, 1.5);
    g_rand_free(r);
}

static void test_training(void)
{
    s4g_err err = {0};
    s4g_ctx *ctx = new_ctx();
    s4g_convnext_cfg cfg = {{1, 1, 2, 1}, {8, 16, 32, 64}};
    s4g_convnext *m = s4g_convnext_new(ctx, &cfg, 42, &err);
    g_assert_nonnull(m);
    s4g_train_cfg tc = s4g_train_cfg_default(0, 30);
    s4g_trainer *t = s4g_trainer_new(m, &tc, &err);
    enum { B = 6, HQ = 36, WQ = 68, HR = 32, WR = 32 };
    float *q = g_new(float, B * HQ * WQ * 3), *r = g_new(float, B * HR * WR * 3);
    fill_random(q, B * HQ * WQ * 3, 1);
    fill_random(r, B * HR * WR * 3, 2);
    s4g_train_stats st[12];
    for (int i = 0; i < 12; i++)
        OK(s4g_trainer_step(t, B, HQ, WQ, q, HR, WR, r, &st[i], &err));
    g_test_message("loss %.4f -> %.4f, logit_scale %.4f", st[0].loss, st[11].loss,
                   st[11].logit_scale);
    g_assert_cmpint(st[11].step, ==, 12);
    g_assert_cmpfloat(st[0].lr, ==, 1e-3); /* W = 0: the cosine starts at the base lr */
    g_assert_cmpfloat(st[11].lr, <, 1e-3);
    g_assert_true(isfinite(st[0].loss) && st[0].loss > 0);
    g_assert_cmpfloat(st[11].loss, <, 0.5f * st[0].loss);
    g_assert_cmpfloat(st[11].logit_scale, !=, (float)S4G_LOGIT_SCALE_INIT);

    /* checkpoint: a resumed trainer continues exactly like the original */
    g_autofree char *ck = g_build_filename(tmpdir, "ckpt.safetensors", NULL);
    const char *meta[] = {"run", "test", NULL};
    OK(s4g_trainer_save(t, ck, meta, &err));
    s4g_convnext *m2 = s4g_convnext_new(ctx, &cfg, 7, &err);
    s4g_trainer *t2 = s4g_trainer_new(m2, &tc, &err);
    OK(s4g_trainer_load(t2, ck, &err));
    g_assert_cmpint(s4g_trainer_step_count(t2), ==, 12);
    s4g_train_stats a, b;
    OK(s4g_trainer_step(t, B, HQ, WQ, q, HR, WR, r, &a, &err));
    OK(s4g_trainer_step(t2, B, HQ, WQ, q, HR, WR, r, &b, &err));
    g_assert_cmpfloat(a.loss, ==, b.loss);
    g_assert_cmpfloat(a.logit_scale, ==, b.logit_scale);
    g_assert_cmpfloat(a.lr, ==, b.lr);
    /* a weights-only file is not a checkpoint */
    g_autofree char *wo = g_build_filename(tmpdir, "w.safetensors", NULL);
    OK(s4g_convnext_save(m, wo, NULL, &err));
    g_assert_cmpint(s4g_trainer_load(t2, wo, &err), ==, -1);
    g_assert_nonnull(strstr(err.msg, "not an s4g training checkpoint"));
    /* a batch of one pair has no negatives */
    g_assert_cmpint(s4g_trainer_step(t, 1, HQ, WQ, q, HR, WR, r, &a, &err), ==, -1);
    s4g_trainer_free(t2);
    s4g_convnext_free(m2);
    s4g_trainer_free(t);
    s4g_convnext_free(m);
    g_free(q);
    g_free(r);
    g_assert_cmpint(s4g_ctx_validation_errors(ctx), ==, 0);
    s4g_ctx_free(ctx);
}

/* s4g_convnext_open: the same features and saved bytes as a trainable model loading the same
 * file, no gradient buffer, and every training entry point refuses it. */
static void test_open_inference(void)
{
    Fx f;
    s4g_err err = {0};
    fx_open(&f);
    g_autofree char *w = tf_fixture("convnext-tiny-fixture.safetensors");
    char report[512] = "";
    s4g_convnext *m = s4g_convnext_open(f.ctx, NULL, w, report, sizeof report, &err);
    g_assert_nonnull(m);
    g_assert_null(m->grads);
    g_assert_nonnull(strstr(report, "loaded"));
    float a[128], b[128];
    OK(s4g_convnext_encode_nchw(f.m, 2, 64, 64, f.sat.data, 2, a, &err));
    OK(s4g_convnext_encode_nchw(m, 2, 64, 64, f.sat.data, 2, b, &err));
    g_assert_cmpmem(a, sizeof a, b, sizeof b);
    OK(s4g_convnext_encode_nchw(f.m, 2, 70, 100, f.ground.data, 2, a, &err));
    OK(s4g_convnext_encode_nchw(m, 2, 70, 100, f.ground.data, 2, b, &err));
    g_assert_cmpmem(a, sizeof a, b, sizeof b);

    /* the same bytes saved from either (every parameter, layout and alignment gap) */
    g_autofree char *p1 = g_build_filename(tmpdir, "open-a.safetensors", NULL);
    g_autofree char *p2 = g_build_filename(tmpdir, "open-b.safetensors", NULL);
    OK(s4g_convnext_save(f.m, p1, NULL, &err));
    OK(s4g_convnext_save(m, p2, NULL, &err));
    g_autofree char *c1 = NULL, *c2 = NULL;
    gsize n1 = 0, n2 = 0;
    g_assert_true(g_file_get_contents(p1, &c1, &n1, NULL));
    g_assert_true(g_file_get_contents(p2, &c2, &n2, NULL));
    g_assert_cmpmem(c1, n1, c2, n2);

    /* training refuses it, naming the reason */
    g_assert_cmpint(s4g_convnext_zero_grads(m, &err), ==, -1);
    g_assert_nonnull(strstr(err.msg, "inference only"));
    err = (s4g_err){0};
    g_assert_null(s4g_convnext_ws_new(m, 2, 64, 64, 1, &err));
    g_assert_nonnull(strstr(err.msg, "inference only"));
    err = (s4g_err){0};
    float g;
    g_assert_cmpint(s4g_convnext_get_param(m, "stem.0.bias", 1, &g, 8, &err), ==, -1);
    g_assert_nonnull(strstr(err.msg, "inference only"));
    s4g_convnext_ws *ws = s4g_convnext_ws_new(m, 2, 64, 64, 0, &err); /* inference: fine */
    g_assert_nonnull(ws);
    s4g_convnext_ws_free(ws);
    s4g_convnext_free(m);

    /* a plain timm file (no logit_scale): the initial value */
    g_autofree char *timm = rewrite(&f, "open-timm.safetensors", "", "logit_scale", NULL, NULL, 0);
    m = s4g_convnext_open(f.ctx, NULL, timm, NULL, 0, &err);
    g_assert_nonnull(m);
    float ls = 0;
    OK(s4g_convnext_get_param(m, "logit_scale", 0, &ls, 1, &err));
    g_assert_cmpfloat(ls, ==, (float)S4G_LOGIT_SCALE_INIT);
    OK(s4g_convnext_encode_nchw(m, 2, 64, 64, f.sat.data, 2, b, &err));
    OK(s4g_convnext_encode_nchw(f.m, 2, 64, 64, f.sat.data, 2, a, &err));
    g_assert_cmpmem(a, sizeof a, b, sizeof b);
    s4g_convnext_free(m);

    /* a given architecture the file does not hold: the load's error, no model */
    s4g_convnext_cfg atto;
    OK(s4g_convnext_preset("atto", &atto, &err));
    err = (s4g_err){0};
    g_assert_null(s4g_convnext_open(f.ctx, &atto, w, NULL, 0, &err));
    g_assert_nonnull(strstr(err.msg, "wrong architecture"));
    err = (s4g_err){0};
    g_assert_null(s4g_convnext_open(f.ctx, NULL, "/nonexistent/w.safetensors", NULL, 0, &err));
    g_assert_nonnull(strstr(err.msg, "/nonexistent/w.safetensors"));
    fx_close(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    /* "vulkan" (argument or S4G_TEST_BACKEND) runs everything on the Vulkan backend */
    const char *b = g_getenv("S4G_TEST_BACKEND");
    if ((b && !strcmp(b, "vulkan")) || (argc > 1 && !strcmp(argv[argc - 1], "vulkan")))
        backend = S4G_BACKEND_VULKAN;
    tmpdir = tf_tmpdir_new("s4g-test-convnext-XXXXXX");
    g_test_add_func("/convnext/spatial", test_spatial);
    g_test_add_func("/convnext/presets", test_presets);
    g_test_add_func("/convnext/forward", test_forward);
    g_test_add_func("/convnext/loss-grads", test_loss_grads);
    g_test_add_func("/convnext/load-rules", test_load_rules);
    g_test_add_func("/convnext/open-inference", test_open_inference);
    g_test_add_func("/convnext/training", test_training);
    int rc = g_test_run();
    tf_tmpdir_remove(tmpdir);
    return rc;
}
