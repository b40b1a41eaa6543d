/* s4g-convnext.c — ConvNeXt (timm): presets, the parameters in one flat buffer with a
 * timm-named table, timm's initialisation.  Layouts and safetensors: s4g-convnext-io.c;
 * workspaces: s4g-convnext-ws.c; forward/backward/encode: s4g-convnext-pass.c. */
#include "s4g-convnext-impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LS_INIT 1e-6f

/* ---------------------------------------------------------------- config */

static const struct {
    const char *name;
    s4g_convnext_cfg cfg;
} presets[] = {
    {"atto", {{2, 2, 6, 2}, {40, 80, 160, 320}}},
    {"femto", {{2, 2, 6, 2}, {48, 96, 192, 384}}},
    {"pico", {{2, 2, 6, 2}, {64, 128, 256, 512}}},
    {"nano", {{2, 2, 8, 2}, {80, 160, 320, 640}}},
    {"tiny", {{3, 3, 9, 3}, {96, 192, 384, 768}}},
    {"small", {{3, 3, 27, 3}, {96, 192, 384, 768}}},
    {"base", {{3, 3, 27, 3}, {128, 256, 512, 1024}}},
};

int s4g_convnext_preset(const char *name, s4g_convnext_cfg *cfg, s4g_err *err)
{
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (strcmp(presets[i].name, name) == 0) {
            *cfg = presets[i].cfg;
            return 0;
        }
    return s4g_fail(err, S4G_E_INVALID,
                    "unknown ConvNeXt preset \"%s\" (atto, femto, pico, nano, tiny, small, base)",
                    name);
}

const char *s4g_convnext_preset_name(const s4g_convnext_cfg *cfg)
{
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (memcmp(&presets[i].cfg, cfg, sizeof *cfg) == 0)
            return presets[i].name;
    return NULL;
}

int s4g_convnext_spatial(int H, int W, int hs[4], int ws[4], s4g_err *err)
{
    int h = H / 4, w = W / 4;
    for (int i = 0; i < 4; i++) {
        if (i > 0) {
            h /= 2;
            w /= 2;
        }
        if (h < 1 || w < 1)
            return s4g_fail(err, S4G_E_INVALID,
                            "input %dx%d is too small: stage %d would be %dx%d (need >= 32x32)",
                            H, W, i, h, w);
        hs[i] = h;
        ws[i] = w;
    }
    return 0;
}

static int cfg_ok(const s4g_convnext_cfg *c, s4g_err *err)
{
    for (int i = 0; i < 4; i++)
        if (c->depths[i] < 1 || c->depths[i] > 256 || c->dims[i] < 1 || c->dims[i] > 65536)
            return s4g_fail(err, S4G_E_INVALID, "ConvNeXt stage %d: depth %d / dim %d invalid", i,
                            c->depths[i], c->dims[i]);
    return 0;
}

/* ---------------------------------------------------------------- parameter table */
static size_t add_param(s4g_convnext *m, int cap, const char *name, int layout, int ndim, int s0,
                        int s1, int s2, int s3)
{
    s4g_param_info *p = &m->info[m->nparams++];
    if (m->nparams > cap)
        abort(); /* table sized exactly below; an overflow is a programming error */
    snprintf(p->name, sizeof p->name, "%s", name);
    p->ndim = ndim;
    p->shape[0] = s0;
    p->shape[1] = s1;
    p->shape[2] = s2;
    p->shape[3] = s3;
    p->n = 1;
    for (int i = 0; i < ndim; i++)
        p->n *= (size_t)p->shape[i];
    p->layout = layout;
    p->decay = 1;
    /* 64-float alignment keeps every parameter at a GPU-friendly offset */
    p->off = m->total;
    m->total += (p->n + 63) & ~(size_t)63;
    return p->off;
}

static int build_table(s4g_convnext *m, priv_t *P)
{
    const s4g_convnext_cfg *c = &m->cfg;
    int cap = 4 + 1 + 2 + 2;
    for (int i = 0; i < 4; i++)
        cap += 4 + 9 * c->depths[i];
    m->info = calloc((size_t)cap, sizeof *m->info);
    if (!m->info)
        return -1;
    char nm[64];
    P->stem_w = add_param(m, cap, "stem.0.weight", S4G_PARAM_CONV_PATCH, 4, c->dims[0], 3, 4, 4);
    P->stem_b = add_param(m, cap, "stem.0.bias", 0, 1, c->dims[0], 0, 0, 0);
    P->stem_ln_w = add_param(m, cap, "stem.1.weight", 0, 1, c->dims[0], 0, 0, 0);
    P->stem_ln_b = add_param(m, cap, "stem.1.bias", 0, 1, c->dims[0], 0, 0, 0);
    for (int i = 0; i < 4; i++) {
        int d = c->dims[i];
        if (i > 0) {
            int dp = c->dims[i - 1];
            snprintf(nm, sizeof nm, "stages.%d.downsample.0.weight", i);
            P->ds_ln_w[i] = add_param(m, cap, nm, 0, 1, dp, 0, 0, 0);
            snprintf(nm, sizeof nm, "stages.%d.downsample.0.bias", i);
            P->ds_ln_b[i] = add_param(m, cap, nm, 0, 1, dp, 0, 0, 0);
            snprintf(nm, sizeof nm, "stages.%d.downsample.1.weight", i);
            P->ds_w[i] = add_param(m, cap, nm, S4G_PARAM_CONV_PATCH, 4, d, dp, 2, 2);
            snprintf(nm, sizeof nm, "stages.%d.downsample.1.bias", i);
            P->ds_b[i] = add_param(m, cap, nm, 0, 1, d, 0, 0, 0);
        }
        P->blk[i] = calloc((size_t)c->depths[i], sizeof(blk_p));
        if (!P->blk[i])
            return -1;
        for (int j = 0; j < c->depths[i]; j++) {
            blk_p *b = &P->blk[i][j];
#define BP(field, suffix, layout, nd, a0, a1, a2, a3)                                           \
    snprintf(nm, sizeof nm, "stages.%d.blocks.%d.%s", i, j, suffix);                            \
    b->field = add_param(m, cap, nm, layout, nd, a0, a1, a2, a3)
            BP(gamma, "gamma", 0, 1, d, 0, 0, 0);
            BP(dw_w, "conv_dw.weight", S4G_PARAM_CONV_DW, 4, d, 1, 7, 7);
            BP(dw_b, "conv_dw.bias", 0, 1, d, 0, 0, 0);
            BP(ln_w, "norm.weight", 0, 1, d, 0, 0, 0);
            BP(ln_b, "norm.bias", 0, 1, d, 0, 0, 0);
            BP(fc1_w, "mlp.fc1.weight", 0, 2, 4 * d, d, 0, 0);
            BP(fc1_b, "mlp.fc1.bias", 0, 1, 4 * d, 0, 0, 0);
            BP(fc2_w, "mlp.fc2.weight", 0, 2, d, 4 * d, 0, 0);
            BP(fc2_b, "mlp.fc2.bias", 0, 1, d, 0, 0, 0);
#undef BP
        }
    }
    P->head_w = add_param(m, cap, "head.norm.weight", 0, 1, c->dims[3], 0, 0, 0);
    P->head_b = add_param(m, cap, "head.norm.bias", 0, 1, c->dims[3], 0, 0, 0);
    m->logit_scale_off = add_param(m, cap, "logit_scale", 0, 0, 0, 0, 0, 0);
    return 0;
}

const s4g_param_info *s4g_convnext_find(const s4g_convnext *m, const char *name)
{
    for (int i = 0; i < m->nparams; i++)
        if (strcmp(m->info[i].name, name) == 0)
            return &m->info[i];
    return NULL;
}

size_t s4g_convnext_count(const s4g_convnext *m)
{
    size_t n = 0;
    for (int i = 0; i < m->nparams; i++)
        if (m->info[i].off != m->logit_scale_off)
            n += m->info[i].n;
    return n;
}

size_t s4g_convnext_cfg_count(const s4g_convnext_cfg *cfg)
{
    if (cfg_ok(cfg, NULL))
        return 0;
    s4g_convnext m = {.cfg = *cfg};
    priv_t P = {0};
    size_t n = build_table(&m, &P) == 0 ? s4g_convnext_count(&m) : 0;
    for (int i = 0; i < 4; i++)
        free(P.blk[i]);
    free(m.info);
    return n;
}

/* ---------------------------------------------------------------- init */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double unif(uint64_t *s)
{
    return ((double)(splitmix(s) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* timm's trunc_normal_(std=.02) truncates at absolute ±2, i.e. ±100 std: in practice a normal. */
static float trunc_normal(uint64_t *s, double std)
{
    for (;;) {
        double z = sqrt(-2.0 * log(unif(s))) * cos(2.0 * M_PI * unif(s)) * std;
        if (z >= -2.0 && z <= 2.0)
            return (float)z;
    }
}

static void init_host(s4g_convnext *m, uint64_t seed, float *h)
{
    uint64_t s = seed ^ 0x5A4D3C2B1A098877ull;
    for (int i = 0; i < m->nparams; i++) {
        const s4g_param_info *p = &m->info[i];
        const char *nm = p->name;
        size_t l = strlen(nm);
        float *d = h + p->off;
        if (p->off == m->logit_scale_off) {
            d[0] = (float)S4G_LOGIT_SCALE_INIT;
        } else if (l > 5 && strcmp(nm + l - 5, "gamma") == 0) {
            for (size_t k = 0; k < p->n; k++)
                d[k] = LS_INIT;
        } else if (l > 4 && strcmp(nm + l - 4, "bias") == 0) {
            memset(d, 0, p->n * sizeof *d);
        } else if (p->ndim == 1) { /* LayerNorm weight */
            for (size_t k = 0; k < p->n; k++)
                d[k] = 1.0f;
        } else { /* conv / linear weight: layout does not matter for i.i.d. values */
            for (size_t k = 0; k < p->n; k++)
                d[k] = trunc_normal(&s, 0.02);
        }
    }
}

/* The table and the parameter buffer (and, with grads, the gradient buffer), values unset. */
static s4g_convnext *alloc_model(s4g_ctx *ctx, const s4g_convnext_cfg *cfg, int grads,
                                 s4g_err *err)
{
    if (cfg_ok(cfg, err))
        return NULL;
    s4g_convnext *m = calloc(1, sizeof *m);
    priv_t *P = calloc(1, sizeof *P);
    if (!m || !P) {
        free(m);
        free(P);
        s4g_fail(err, S4G_E_NOMEM, "out of memory");
        return NULL;
    }
    m->ctx = ctx;
    m->cfg = *cfg;
    m->priv = P;
    if (build_table(m, P)) {
        s4g_fail(err, S4G_E_NOMEM, "out of memory");
        goto bad;
    }
    m->params = s4g_buf_new(ctx, m->total, err);
    if (!m->params)
        goto bad;
    if (grads && !(m->grads = s4g_buf_new(ctx, m->total, err)))
        goto bad;
    return m;
bad:
    s4g_convnext_free(m);
    return NULL;
}

s4g_convnext *s4g_convnext_new(s4g_ctx *ctx, const s4g_convnext_cfg *cfg, uint64_t seed,
                               s4g_err *err)
{
    s4g_convnext *m = alloc_model(ctx, cfg, 1, err);
    if (!m)
        return NULL;
    float *h = calloc(m->total, sizeof *h);
    if (!h) {
        s4g_fail(err, S4G_E_NOMEM, "out of memory for %zu parameters", m->total);
        goto bad;
    }
    init_host(m, seed, h);
    if (s4g_buf_upload(m->params, 0, h, m->total, err))
        goto bad;
    free(h);
    return m;
bad:
    free(h);
    s4g_convnext_free(m);
    return NULL;
}

s4g_convnext *s4g_convnext_open(s4g_ctx *ctx, const s4g_convnext_cfg *cfg, const char *path,
                                char *report, size_t cap, s4g_err *err)
{
    s4g_convnext_cfg fc;
    if (!cfg) {
        if (s4g_convnext_cfg_from_file(path, &fc, err))
            return NULL;
        cfg = &fc;
    }
    s4g_convnext *m = alloc_model(ctx, cfg, 0, err);
    if (m && s4g_convnext_load_fresh(m, path, report, cap, err)) {
        s4g_convnext_free(m);
        return NULL;
    }
    return m;
}

int s4g_convnext_trainable(const s4g_convnext *m, const char *what, s4g_err *err)
{
    if (m->grads)
        return 0;
    return s4g_fail(err, S4G_E_INVALID,
                    "%s: the model was opened for inference only (s4g_convnext_open: no "
                    "gradient buffer); train a model made by s4g_convnext_new",
                    what);
}

void s4g_convnext_free(s4g_convnext *m)
{
    if (!m)
        return;
    priv_t *P = m->priv;
    if (P) {
        s4g_convnext_ws_free(P->cache);
        for (int i = 0; i < 4; i++)
            free(P->blk[i]);
        free(P);
    }
    s4g_buf_free(m->params);
    s4g_buf_free(m->grads);
    free(m->info);
    free(m);
}

int s4g_convnext_zero_grads(s4g_convnext *m, s4g_err *err)
{
    if (s4g_convnext_trainable(m, "convnext zero_grads", err))
        return -1;
    return s4g_fill(m->ctx, m->total, s4g_at(m->grads, 0), 0.0f, err);
}
