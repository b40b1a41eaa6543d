/* s4g-convnext.c — ConvNeXt (timm) forward/backward over the op interface; parameters in one
 * flat buffer with a timm-named table; safetensors load/save.  See s4g-convnext.h. */
#include "s4g-convnext.h"
#include "s4g-safetensors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LN_EPS 1e-6f
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

typedef struct {
    size_t dw_w, dw_b, ln_w, ln_b, fc1_w, fc1_b, fc2_w, fc2_b, gamma;
} blk_p;

typedef struct {
    size_t stem_w, stem_b, stem_ln_w, stem_ln_b;
    size_t ds_ln_w[4], ds_ln_b[4], ds_w[4], ds_b[4];
    blk_p *blk[4];
    size_t head_w, head_b;
    s4g_convnext_ws *cache; /* inference workspace of encode_* */
} priv_t;

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

s4g_convnext *s4g_convnext_new(s4g_ctx *ctx, const s4g_convnext_cfg *cfg, uint64_t seed,
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
    float *h = NULL;
    if (build_table(m, P)) {
        s4g_fail(err, S4G_E_NOMEM, "out of memory");
        goto bad;
    }
    m->params = s4g_buf_new(ctx, m->total, err);
    m->grads = m->params ? s4g_buf_new(ctx, m->total, err) : NULL;
    if (!m->grads)
        goto bad;
    h = calloc(m->total, sizeof *h);
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
    return s4g_fill(m->ctx, m->total, s4g_at(m->grads, 0), 0.0f, err);
}

/* ---------------------------------------------------------------- layouts */

/* PyTorch layout (src) -> buffer layout (dst), one parameter */
static void to_internal(const s4g_param_info *p, const float *src, float *dst)
{
    if (p->layout == S4G_PARAM_CONV_PATCH) { /* [O,C,k,k] -> [O,k,k,C] */
        int O = p->shape[0], C = p->shape[1], k = p->shape[2];
        for (int o = 0; o < O; o++)
            for (int c = 0; c < C; c++)
                for (int y = 0; y < k; y++)
                    for (int x = 0; x < k; x++)
                        dst[(((size_t)o * k + y) * k + x) * C + c] =
                            src[(((size_t)o * C + c) * k + y) * k + x];
    } else if (p->layout == S4G_PARAM_CONV_DW) { /* [C,1,7,7] -> [7,7,C] */
        int C = p->shape[0];
        for (int c = 0; c < C; c++)
            for (int t = 0; t < 49; t++)
                dst[(size_t)t * C + c] = src[(size_t)c * 49 + t];
    } else {
        memcpy(dst, src, p->n * sizeof *dst);
    }
}

static void to_pytorch(const s4g_param_info *p, const float *src, float *dst)
{
    if (p->layout == S4G_PARAM_CONV_PATCH) {
        int O = p->shape[0], C = p->shape[1], k = p->shape[2];
        for (int o = 0; o < O; o++)
            for (int c = 0; c < C; c++)
                for (int y = 0; y < k; y++)
                    for (int x = 0; x < k; x++)
                        dst[(((size_t)o * C + c) * k + y) * k + x] =
                            src[(((size_t)o * k + y) * k + x) * C + c];
    } else if (p->layout == S4G_PARAM_CONV_DW) {
        int C = p->shape[0];
        for (int c = 0; c < C; c++)
            for (int t = 0; t < 49; t++)
                dst[(size_t)c * 49 + t] = src[(size_t)t * C + c];
    } else {
        memcpy(dst, src, p->n * sizeof *dst);
    }
}

int s4g_convnext_to_host(s4g_convnext *m, s4g_buf *buf, float *host, s4g_err *err)
{
    float *tmp = malloc(m->total * sizeof *tmp);
    if (!tmp)
        return s4g_fail(err, S4G_E_NOMEM, "out of memory");
    if (s4g_buf_download(buf, 0, tmp, m->total, err)) {
        free(tmp);
        return -1;
    }
    memset(host, 0, m->total * sizeof *host);
    for (int i = 0; i < m->nparams; i++)
        to_pytorch(&m->info[i], tmp + m->info[i].off, host + m->info[i].off);
    free(tmp);
    return 0;
}

int s4g_convnext_from_host(s4g_convnext *m, const float *host, s4g_buf *buf, s4g_err *err)
{
    float *tmp = calloc(m->total, sizeof *tmp);
    if (!tmp)
        return s4g_fail(err, S4G_E_NOMEM, "out of memory");
    for (int i = 0; i < m->nparams; i++)
        to_internal(&m->info[i], host + m->info[i].off, tmp + m->info[i].off);
    int rc = s4g_buf_upload(buf, 0, tmp, m->total, err);
    free(tmp);
    return rc;
}

int s4g_convnext_get_param(s4g_convnext *m, const char *name, int from_grads, float *dst,
                           size_t n, s4g_err *err)
{
    const s4g_param_info *p = s4g_convnext_find(m, name);
    if (!p)
        return s4g_fail(err, S4G_E_INVALID, "no parameter named \"%s\"", name);
    if (n != p->n)
        return s4g_fail(err, S4G_E_INVALID, "parameter \"%s\" has %zu elements, not %zu", name,
                        p->n, n);
    float *tmp = malloc(p->n * sizeof *tmp);
    if (!tmp)
        return s4g_fail(err, S4G_E_NOMEM, "out of memory");
    int rc = s4g_buf_download(from_grads ? m->grads : m->params, p->off, tmp, p->n, err);
    if (!rc)
        to_pytorch(p, tmp, dst);
    free(tmp);
    return rc;
}

/* ---------------------------------------------------------------- safetensors */

int s4g_convnext_owns_key(const s4g_convnext *m, const char *prefix, const char *key)
{
    size_t pl = strlen(prefix);
    if (strncmp(key, prefix, pl) != 0)
        return 0;
    return s4g_convnext_find(m, key + pl) != NULL;
}

static void shape_str(char *o, size_t cap, int nd, const int64_t *s64, const int *s32)
{
    size_t l = (size_t)snprintf(o, cap, "[");
    for (int i = 0; i < nd && l < cap; i++)
        l += (size_t)snprintf(o + l, cap - l, i ? ", %lld" : "%lld",
                              s64 ? (long long)s64[i] : (long long)s32[i]);
    if (l < cap)
        snprintf(o + l, cap - l, "]");
}

int s4g_convnext_read_tensors(s4g_convnext *m, const struct s4g_st_file *f, const char *prefix,
                              int logit_optional, float *host, s4g_err *err)
{
    char key[160];
    for (int i = 0; i < m->nparams; i++) {
        const s4g_param_info *p = &m->info[i];
        int is_logit = p->off == m->logit_scale_off;
        snprintf(key, sizeof key, "%s%s", prefix, p->name);
        const s4g_st_tensor *t = s4g_st_find(f, key);
        if (!t && is_logit && strcmp(prefix, "model.") == 0) {
            /* Sample4Geo keeps logit_scale outside the "model." prefix */
            snprintf(key, sizeof key, "%s", p->name);
            t = s4g_st_find(f, key);
        }
        if (!t) {
            if (is_logit && logit_optional)
                continue;
            return s4g_fail(err, S4G_E_FORMAT, "%s: missing key \"%s\"", f->path, key);
        }
        int same = t->ndim == p->ndim;
        for (int d = 0; same && d < p->ndim; d++)
            same = t->shape[d] == p->shape[d];
        if (is_logit && t->ndim == 1 && t->shape[0] == 1)
            same = 1; /* [1] is as good as a scalar */
        if (!same) {
            char a[96], b[96];
            shape_str(a, sizeof a, t->ndim, t->shape, NULL);
            shape_str(b, sizeof b, p->ndim, NULL, p->shape);
            return s4g_fail(err, S4G_E_FORMAT, "%s: key \"%s\" has shape %s, expected %s",
                            f->path, key, a, b);
        }
        if (s4g_st_to_f32(t, host + p->off, err)) {
            s4g_err_prefix(err, "%s", f->path);
            return -1;
        }
        if (f->release)
            f->release(f, t);
    }
    return 0;
}

/* s4g_convnext_load and s4g_convnext_cfg_from_file: s4g-weights.c (every format/layout) */

int s4g_convnext_save(s4g_convnext *m, const char *path, const char *const *meta, s4g_err *err)
{
    float *host = malloc(m->total * sizeof *host);
    s4g_st_entry *e = calloc((size_t)m->nparams, sizeof *e);
    int rc = -1;
    if (!host || !e) {
        s4g_fail(err, S4G_E_NOMEM, "out of memory");
        goto out;
    }
    if (s4g_convnext_to_host(m, m->params, host, err))
        goto out;
    for (int i = 0; i < m->nparams; i++) {
        const s4g_param_info *p = &m->info[i];
        e[i].name = p->name;
        e[i].ndim = p->ndim;
        for (int d = 0; d < p->ndim; d++)
            e[i].shape[d] = p->shape[d];
        e[i].data = host + p->off;
    }
    rc = s4g_st_write(path, e, (size_t)m->nparams, meta, err);
out:
    free(host);
    free(e);
    return rc;
}

/* ---------------------------------------------------------------- workspaces */

typedef struct {
    s4g_t x, a, b, mean, rstd, h, g, z, out;
} blk_a;

typedef struct {
    s4g_t *slot;
    size_t n;
} req_t;

struct s4g_convnext_ws {
    s4g_convnext *m;
    int N, H, W, train;
    int hs[4], wd[4];
    size_t rows[4];
    s4g_buf **bufs;
    int nbufs;
    req_t *req;
    int nreq, capreq;
    int oom;

    s4g_t input, stem_p, stem_y, stem_mean, stem_rstd;
    s4g_t stage_in[4], ds_y[4], ds_mean[4], ds_rstd[4], ds_p[4];
    blk_a *blk[4];
    s4g_t last, pooled, head_mean, head_rstd, out;
    /* backward scratch (train only) */
    s4g_t dD, dZ, dA, dB, dG, dH, dP, dY, dpool;
};

static void want(s4g_convnext_ws *ws, s4g_t *slot, size_t n)
{
    if (ws->nreq == ws->capreq) {
        int cap = ws->capreq ? 2 * ws->capreq : 256;
        req_t *r = realloc(ws->req, (size_t)cap * sizeof *r);
        if (!r) {
            ws->oom = 1;
            return;
        }
        ws->req = r;
        ws->capreq = cap;
    }
    ws->req[ws->nreq].slot = slot;
    ws->req[ws->nreq].n = n ? n : 1;
    ws->nreq++;
}

/* Packs the requested tensors into as few buffers as the device allows (one on the CPU),
 * each tensor at a 64-float aligned offset. */
static int place(s4g_convnext_ws *ws, s4g_err *err)
{
    if (ws->oom)
        return s4g_fail(err, S4G_E_NOMEM, "out of memory planning a workspace");
    size_t lim = s4g_ctx_max_buffer_floats(ws->m->ctx);
    if (!lim)
        lim = (size_t)1 << 40;
    ws->bufs = calloc((size_t)ws->nreq, sizeof *ws->bufs);
    if (!ws->bufs)
        return s4g_fail(err, S4G_E_NOMEM, "out of memory");
    int i = 0;
    while (i < ws->nreq) {
        size_t used = 0;
        int j = i;
        while (j < ws->nreq) {
            size_t n = (ws->req[j].n + 63) & ~(size_t)63;
            if (used && used + n > lim)
                break;
            if (n > lim)
                return s4g_fail(err, S4G_E_INVALID,
                                "workspace tensor of %zu floats exceeds the device's largest "
                                "buffer binding (%zu floats): use a smaller batch or image",
                                ws->req[j].n, lim);
            used += n;
            j++;
        }
        s4g_buf *b = s4g_buf_new(ws->m->ctx, used, err);
        if (!b)
            return -1;
        ws->bufs[ws->nbufs++] = b;
        size_t off = 0;
        for (int k = i; k < j; k++) {
            *ws->req[k].slot = s4g_at(b, off);
            off += (ws->req[k].n + 63) & ~(size_t)63;
        }
        i = j;
    }
    return 0;
}

s4g_convnext_ws *s4g_convnext_ws_new(s4g_convnext *m, int N, int H, int W, int train,
                                     s4g_err *err)
{
    int hs[4], wd[4];
    if (N < 1)
        return s4g_fail(err, S4G_E_INVALID, "batch of %d images", N), NULL;
    if (s4g_convnext_spatial(H, W, hs, wd, err))
        return NULL;
    s4g_convnext_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        return s4g_fail(err, S4G_E_NOMEM, "out of memory"), NULL;
    const int *dm = m->cfg.dims, *dp = m->cfg.depths;
    ws->m = m;
    ws->N = N;
    ws->H = H;
    ws->W = W;
    ws->train = train;
    size_t maxrd = 0, maxp = 0, maxrows = 0;
    for (int i = 0; i < 4; i++) {
        ws->hs[i] = hs[i];
        ws->wd[i] = wd[i];
        ws->rows[i] = (size_t)N * hs[i] * wd[i];
        if (ws->rows[i] * dm[i] > maxrd)
            maxrd = ws->rows[i] * dm[i];
        if (ws->rows[i] > maxrows)
            maxrows = ws->rows[i];
        size_t p = ws->rows[i] * (i ? 4 * (size_t)dm[i - 1] : 48);
        if (p > maxp)
            maxp = p;
        ws->blk[i] = calloc((size_t)dp[i], sizeof(blk_a));
        if (!ws->blk[i]) {
            s4g_convnext_ws_free(ws);
            return s4g_fail(err, S4G_E_NOMEM, "out of memory"), NULL;
        }
    }
    want(ws, &ws->input, (size_t)N * H * W * 3);
    want(ws, &ws->stem_p, ws->rows[0] * 48);
    want(ws, &ws->pooled, (size_t)N * dm[3]);
    want(ws, &ws->head_mean, (size_t)N);
    want(ws, &ws->head_rstd, (size_t)N);
    want(ws, &ws->out, (size_t)N * dm[3]);
    if (train) {
        want(ws, &ws->stem_y, ws->rows[0] * dm[0]);
        want(ws, &ws->stem_mean, ws->rows[0]);
        want(ws, &ws->stem_rstd, ws->rows[0]);
        for (int i = 0; i < 4; i++) {
            size_t r = ws->rows[i], d = (size_t)dm[i];
            want(ws, &ws->stage_in[i], r * d);
            if (i > 0) {
                size_t rp = ws->rows[i - 1], dpv = (size_t)dm[i - 1];
                want(ws, &ws->ds_y[i], rp * dpv);
                want(ws, &ws->ds_mean[i], rp);
                want(ws, &ws->ds_rstd[i], rp);
                want(ws, &ws->ds_p[i], r * 4 * dpv);
            }
            for (int j = 0; j < dp[i]; j++) {
                blk_a *b = &ws->blk[i][j];
                want(ws, &b->a, r * d);
                want(ws, &b->b, r * d);
                want(ws, &b->mean, r);
                want(ws, &b->rstd, r);
                want(ws, &b->h, r * 4 * d);
                want(ws, &b->g, r * 4 * d);
                want(ws, &b->z, r * d);
                want(ws, &b->out, r * d);
            }
        }
        want(ws, &ws->dD, maxrd);
        want(ws, &ws->dZ, maxrd);
        want(ws, &ws->dA, maxrd);
        want(ws, &ws->dB, maxrd);
        want(ws, &ws->dY, maxrd);
        want(ws, &ws->dG, 4 * maxrd);
        want(ws, &ws->dH, 4 * maxrd);
        want(ws, &ws->dP, maxp);
        want(ws, &ws->dpool, (size_t)N * dm[3]);
    } else {
        /* shared scratch: two ping-pong activations plus one of each intermediate */
        want(ws, &ws->stem_y, maxrd);
        want(ws, &ws->stem_mean, maxrows);
        want(ws, &ws->stem_rstd, maxrows);
        want(ws, &ws->dD, maxrd); /* XA */
        want(ws, &ws->dZ, maxrd); /* XB */
        want(ws, &ws->dA, maxrd); /* a, ds_y */
        want(ws, &ws->dB, maxrd); /* b */
        want(ws, &ws->dG, 4 * maxrd); /* h */
        want(ws, &ws->dH, 4 * maxrd); /* g */
        want(ws, &ws->dY, maxrd);     /* z */
        want(ws, &ws->dP, maxp);      /* downsample patches */
    }
    if (place(ws, err)) {
        s4g_convnext_ws_free(ws);
        return NULL;
    }
    if (!train) {
        s4g_t X[2] = {ws->dD, ws->dZ};
        int cur = 0;
        ws->stage_in[0] = X[cur];
        for (int i = 0; i < 4; i++) {
            if (i > 0) {
                ws->ds_y[i] = ws->dA;
                ws->ds_mean[i] = ws->stem_mean;
                ws->ds_rstd[i] = ws->stem_rstd;
                ws->ds_p[i] = ws->dP;
                cur ^= 1;
                ws->stage_in[i] = X[cur];
            }
            for (int j = 0; j < dp[i]; j++) {
                blk_a *b = &ws->blk[i][j];
                b->a = ws->dA;
                b->b = ws->dB;
                b->mean = ws->stem_mean;
                b->rstd = ws->stem_rstd;
                b->h = ws->dG;
                b->g = ws->dH;
                b->z = ws->dY;
                cur ^= 1;
                b->out = X[cur];
            }
        }
    }
    /* chain block inputs */
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < dp[i]; j++)
            ws->blk[i][j].x = j ? ws->blk[i][j - 1].out : ws->stage_in[i];
    ws->last = ws->blk[3][dp[3] - 1].out;
    return ws;
}

void s4g_convnext_ws_free(s4g_convnext_ws *ws)
{
    if (!ws)
        return;
    for (int i = 0; i < ws->nbufs; i++)
        s4g_buf_free(ws->bufs[i]);
    free(ws->bufs);
    free(ws->req);
    for (int i = 0; i < 4; i++)
        free(ws->blk[i]);
    free(ws);
}

s4g_t s4g_convnext_ws_input(s4g_convnext_ws *ws)
{
    return ws->input;
}

s4g_t s4g_convnext_ws_output(s4g_convnext_ws *ws)
{
    return ws->out;
}

int s4g_convnext_ws_shape(const s4g_convnext_ws *ws, int *N, int *H, int *W)
{
    if (N)
        *N = ws->N;
    if (H)
        *H = ws->H;
    if (W)
        *W = ws->W;
    return ws->train;
}

/* ---------------------------------------------------------------- forward / backward */

#define PT(off) s4g_at(m->params, (off))
#define GT(off) s4g_at(m->grads, (off))
#define TRY(x)                                                                                 \
    do {                                                                                       \
        if ((x) != 0)                                                                          \
            return -1;                                                                         \
    } while (0)

int s4g_convnext_forward(s4g_convnext *m, s4g_convnext_ws *ws, s4g_err *err)
{
    if (ws->m != m)
        return s4g_fail(err, S4G_E_INVALID, "convnext forward: workspace of another model");
    priv_t *P = m->priv;
    s4g_ctx *c = m->ctx;
    const int *dm = m->cfg.dims;
    int N = ws->N;
    int r0 = (int)ws->rows[0];
    TRY(s4g_patchify(c, N, ws->H, ws->W, 3, 4, ws->input, ws->stem_p, err));
    TRY(s4g_gemm(c, 0, 1, r0, dm[0], 48, 1.0f, ws->stem_p, PT(P->stem_w), 0.0f, ws->stem_y,
                 PT(P->stem_b), err));
    TRY(s4g_layernorm(c, r0, dm[0], LN_EPS, ws->stem_y, PT(P->stem_ln_w), PT(P->stem_ln_b),
                      ws->stage_in[0], ws->stem_mean, ws->stem_rstd, err));
    s4g_t x = ws->stage_in[0];
    for (int i = 0; i < 4; i++) {
        int rows = (int)ws->rows[i], d = dm[i];
        if (i > 0) {
            int rp = (int)ws->rows[i - 1], dp = dm[i - 1];
            TRY(s4g_layernorm(c, rp, dp, LN_EPS, x, PT(P->ds_ln_w[i]), PT(P->ds_ln_b[i]),
                              ws->ds_y[i], ws->ds_mean[i], ws->ds_rstd[i], err));
            TRY(s4g_patchify(c, N, ws->hs[i - 1], ws->wd[i - 1], dp, 2, ws->ds_y[i], ws->ds_p[i],
                             err));
            TRY(s4g_gemm(c, 0, 1, rows, d, 4 * dp, 1.0f, ws->ds_p[i], PT(P->ds_w[i]), 0.0f,
                         ws->stage_in[i], PT(P->ds_b[i]), err));
            x = ws->stage_in[i];
        }
        for (int j = 0; j < m->cfg.depths[i]; j++) {
            const blk_p *bp = &P->blk[i][j];
            blk_a *b = &ws->blk[i][j];
            TRY(s4g_dwconv7(c, N, ws->hs[i], ws->wd[i], d, x, PT(bp->dw_w), PT(bp->dw_b), b->a,
                            err));
            TRY(s4g_layernorm(c, rows, d, LN_EPS, b->a, PT(bp->ln_w), PT(bp->ln_b), b->b,
                              b->mean, b->rstd, err));
            TRY(s4g_gemm(c, 0, 1, rows, 4 * d, d, 1.0f, b->b, PT(bp->fc1_w), 0.0f, b->h,
                         PT(bp->fc1_b), err));
            TRY(s4g_gelu(c, (size_t)rows * 4 * d, b->h, b->g, err));
            TRY(s4g_gemm(c, 0, 1, rows, d, 4 * d, 1.0f, b->g, PT(bp->fc2_w), 0.0f, b->z,
                         PT(bp->fc2_b), err));
            TRY(s4g_scale_residual(c, rows, d, x, b->z, PT(bp->gamma), b->out, err));
            x = b->out;
        }
    }
    int d3 = dm[3];
    TRY(s4g_avgpool(c, N, ws->hs[3] * ws->wd[3], d3, x, ws->pooled, err));
    TRY(s4g_layernorm(c, N, d3, LN_EPS, ws->pooled, PT(P->head_w), PT(P->head_b), ws->out,
                      ws->head_mean, ws->head_rstd, err));
    return 0;
}

int s4g_convnext_backward(s4g_convnext *m, s4g_convnext_ws *ws, s4g_t dfeat, s4g_err *err)
{
    if (ws->m != m)
        return s4g_fail(err, S4G_E_INVALID, "convnext backward: workspace of another model");
    if (!ws->train)
        return s4g_fail(err, S4G_E_INVALID,
                        "convnext backward: the workspace was made for inference (train = 0)");
    priv_t *P = m->priv;
    s4g_ctx *c = m->ctx;
    const int *dm = m->cfg.dims;
    int N = ws->N, d3 = dm[3];
    s4g_t D = ws->dD;
    TRY(s4g_layernorm_back(c, N, d3, ws->pooled, PT(P->head_w), ws->head_mean, ws->head_rstd,
                           dfeat, ws->dpool, GT(P->head_w), GT(P->head_b), err));
    TRY(s4g_avgpool_back(c, N, ws->hs[3] * ws->wd[3], d3, ws->dpool, D, err));
    for (int i = 3; i >= 0; i--) {
        int rows = (int)ws->rows[i], d = dm[i];
        for (int j = m->cfg.depths[i] - 1; j >= 0; j--) {
            const blk_p *bp = &P->blk[i][j];
            blk_a *b = &ws->blk[i][j];
            TRY(s4g_scale_residual_back(c, rows, d, b->z, PT(bp->gamma), D, ws->dZ,
                                        GT(bp->gamma), err));
            TRY(s4g_gemm(c, 0, 0, rows, 4 * d, d, 1.0f, ws->dZ, PT(bp->fc2_w), 0.0f, ws->dG,
                         s4g_none(), err));
            TRY(s4g_gemm(c, 1, 0, d, 4 * d, rows, 1.0f, ws->dZ, b->g, 1.0f, GT(bp->fc2_w),
                         s4g_none(), err));
            TRY(s4g_colsum(c, rows, d, ws->dZ, 1.0f, GT(bp->fc2_b), err));
            TRY(s4g_gelu_back(c, (size_t)rows * 4 * d, b->h, ws->dG, ws->dH, err));
            TRY(s4g_gemm(c, 0, 0, rows, d, 4 * d, 1.0f, ws->dH, PT(bp->fc1_w), 0.0f, ws->dB,
                         s4g_none(), err));
            TRY(s4g_gemm(c, 1, 0, 4 * d, d, rows, 1.0f, ws->dH, b->b, 1.0f, GT(bp->fc1_w),
                         s4g_none(), err));
            TRY(s4g_colsum(c, rows, 4 * d, ws->dH, 1.0f, GT(bp->fc1_b), err));
            TRY(s4g_layernorm_back(c, rows, d, b->a, PT(bp->ln_w), b->mean, b->rstd, ws->dB,
                                   ws->dA, GT(bp->ln_w), GT(bp->ln_b), err));
            /* D holds d(out); the residual passes it through, the conv adds its part */
            TRY(s4g_dwconv7_back(c, N, ws->hs[i], ws->wd[i], d, b->x, PT(bp->dw_w), ws->dA, D, 1,
                                 GT(bp->dw_w), GT(bp->dw_b), err));
        }
        if (i > 0) {
            int rp = (int)ws->rows[i - 1], dp = dm[i - 1];
            TRY(s4g_gemm(c, 0, 0, rows, 4 * dp, d, 1.0f, D, PT(P->ds_w[i]), 0.0f, ws->dP,
                         s4g_none(), err));
            TRY(s4g_gemm(c, 1, 0, d, 4 * dp, rows, 1.0f, D, ws->ds_p[i], 1.0f, GT(P->ds_w[i]),
                         s4g_none(), err));
            TRY(s4g_colsum(c, rows, d, D, 1.0f, GT(P->ds_b[i]), err));
            TRY(s4g_patchify_back(c, N, ws->hs[i - 1], ws->wd[i - 1], dp, 2, ws->dP, ws->dY,
                                  err));
            s4g_t xprev = ws->blk[i - 1][m->cfg.depths[i - 1] - 1].out;
            TRY(s4g_layernorm_back(c, rp, dp, xprev, PT(P->ds_ln_w[i]), ws->ds_mean[i],
                                   ws->ds_rstd[i], ws->dY, D, GT(P->ds_ln_w[i]),
                                   GT(P->ds_ln_b[i]), err));
        }
    }
    int r0 = (int)ws->rows[0];
    TRY(s4g_layernorm_back(c, r0, dm[0], ws->stem_y, PT(P->stem_ln_w), ws->stem_mean,
                           ws->stem_rstd, D, ws->dZ, GT(P->stem_ln_w), GT(P->stem_ln_b), err));
    TRY(s4g_gemm(c, 1, 0, dm[0], 48, r0, 1.0f, ws->dZ, ws->stem_p, 1.0f, GT(P->stem_w),
                 s4g_none(), err));
    TRY(s4g_colsum(c, r0, dm[0], ws->dZ, 1.0f, GT(P->stem_b), err));
    return 0;
}

/* ---------------------------------------------------------------- encode */

static int encode(s4g_convnext *m, int N, int H, int W, const float *x, int batch, float *out,
                  int nchw, s4g_err *err)
{
    priv_t *P = m->priv;
    if (N < 1)
        return 0;
    if (batch < 1)
        batch = 1;
    int D = m->cfg.dims[3];
    size_t img = (size_t)H * W * 3;
    float *tmp = nchw ? malloc((size_t)(batch < N ? batch : N) * img * sizeof *tmp) : NULL;
    if (nchw && !tmp)
        return s4g_fail(err, S4G_E_NOMEM, "out of memory");
    int rc = 0;
    for (int s = 0; s < N && !rc; s += batch) {
        int n = N - s < batch ? N - s : batch;
        int cn, ch, cw;
        if (!P->cache || (s4g_convnext_ws_shape(P->cache, &cn, &ch, &cw), cn != n || ch != H ||
                                                                               cw != W)) {
            s4g_convnext_ws_free(P->cache);
            P->cache = s4g_convnext_ws_new(m, n, H, W, 0, err);
            if (!P->cache) {
                rc = -1;
                break;
            }
        }
        const float *src = x + (size_t)s * img;
        if (nchw) {
            size_t hw = (size_t)H * W;
            for (int b = 0; b < n; b++)
                for (int ch = 0; ch < 3; ch++)
                    for (size_t p = 0; p < hw; p++)
                        tmp[(size_t)b * img + p * 3 + ch] = src[(size_t)b * img + ch * hw + p];
            src = tmp;
        }
        rc = s4g_buf_upload(P->cache->input.buf, P->cache->input.off, src, (size_t)n * img, err);
        if (!rc)
            rc = s4g_convnext_forward(m, P->cache, err);
        if (!rc)
            rc = s4g_buf_download(P->cache->out.buf, P->cache->out.off, out + (size_t)s * D,
                                  (size_t)n * D, err);
    }
    free(tmp);
    return rc;
}

int s4g_convnext_encode_nchw(s4g_convnext *m, int N, int H, int W, const float *x, int batch,
                             float *out, s4g_err *err)
{
    return encode(m, N, H, W, x, batch, out, 1, err);
}

int s4g_convnext_encode_nhwc(s4g_convnext *m, int N, int H, int W, const float *x, int batch,
                             float *out, s4g_err *err)
{
    return encode(m, N, H, W, x, batch, out, 0, err);
}
