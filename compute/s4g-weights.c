/* s4g-weights.c — weights files of every format and layout, and loading them into a ConvNeXt;
 * see s4g-weights.h. */
#include "s4g-weights.h"
#include "s4g-convnext-impl.h"
#include "s4g-pth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void s4g_weights_close(s4g_weights *w)
{
    if (!w)
        return;
    if (w->orig)
        for (size_t i = 0; i < w->nfile; i++)
            free(w->orig[i]);
    free(w->orig);
    if (w->pth)
        s4g_pth_close(w->pth); /* owns w->f */
    else
        s4g_st_close(w->f);
    free(w);
}

static void add_to(char *dst, size_t cap, const char *item)
{
    size_t l = strlen(dst);
    if (l + strlen(item) + 8 >= cap) {
        if (l + 6 < cap && (l < 3 || strcmp(dst + l - 3, "...") != 0))
            snprintf(dst + l, cap - l, ", ...");
        return;
    }
    snprintf(dst + l, cap - l, "%s%s", l ? ", " : "", item);
}

static void add_layout(s4g_weights *w, const char *what)
{
    add_to(w->layout, sizeof w->layout, what);
}

static int has_prefix(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

static int rename_to(s4g_st_tensor *t, const char *name, s4g_err *err)
{
    char *n = strdup(name);
    if (!n)
        return s4g_fail(err, S4G_E_NOMEM, "out of memory");
    free(t->name);
    t->name = n;
    return 0;
}

/* Facebook's ConvNeXt (facebookresearch/ConvNeXt models/convnext.py) -> timm; "" = drop */
static int facebook_name(const char *k, char *out, size_t cap)
{
    int i, j, n = 0;
    char rest[128];
    if (sscanf(k, "downsample_layers.%d.%d.%127s%n", &i, &j, rest, &n) == 3 && !k[n] && i >= 0 &&
        i < 4 && (j == 0 || j == 1)) {
        if (i == 0)
            snprintf(out, cap, "stem.%d.%s", j, rest);
        else
            snprintf(out, cap, "stages.%d.downsample.%d.%s", i, j, rest);
        return 1;
    }
    char part[32];
    if (sscanf(k, "stages.%d.%d.%31[a-z0-9_]%n", &i, &j, part, &n) == 3 && i >= 0 && i < 4 &&
        j >= 0) {
        static const char *const map[][2] = {
            {"dwconv", "conv_dw"}, {"norm", "norm"}, {"pwconv1", "mlp.fc1"},
            {"pwconv2", "mlp.fc2"}, {"gamma", "gamma"}};
        for (size_t m = 0; m < sizeof map / sizeof *map; m++)
            if (strcmp(part, map[m][0]) == 0) {
                snprintf(out, cap, "stages.%d.blocks.%d.%s%s", i, j, map[m][1], k + n);
                return 1;
            }
        return 0;
    }
    if (has_prefix(k, "norm.")) {
        snprintf(out, cap, "head.%s", k);
        return 1;
    }
    if (strcmp(k, "head.weight") == 0 || strcmp(k, "head.bias") == 0) {
        out[0] = 0;
        return 1;
    }
    return 0;
}

/* Rewrites w->f's names to timm's, drops classifiers; orig keeps the file's names. */
static int normalise(s4g_weights *w, s4g_err *err)
{
    s4g_st_file *f = w->f;
    w->nfile = f->ntensors;
    w->orig = calloc(f->ntensors ? f->ntensors : 1, sizeof *w->orig);
    if (!w->orig)
        return s4g_fail(err, S4G_E_NOMEM, "%s: out of memory", f->path);
    for (size_t i = 0; i < f->ntensors; i++)
        if (!(w->orig[i] = strdup(f->tensors[i].name)))
            return s4g_fail(err, S4G_E_NOMEM, "%s: out of memory", f->path);
    /* DataParallel: every key under "module." */
    size_t nmod = 0, nmodel = 0, nfb = 0;
    for (size_t i = 0; i < f->ntensors; i++)
        nmod += has_prefix(f->tensors[i].name, "module.");
    if (nmod && nmod == f->ntensors) {
        add_layout(w, "DataParallel");
        for (size_t i = 0; i < f->ntensors; i++)
            if (rename_to(&f->tensors[i], f->tensors[i].name + 7, err))
                return -1;
    }
    /* Sample4Geo's TimmModel: the backbone under "model.", logit_scale beside it */
    for (size_t i = 0; i < f->ntensors; i++)
        nmodel += has_prefix(f->tensors[i].name, "model.");
    if (nmodel) {
        add_layout(w, "Sample4Geo TimmModel");
        for (size_t i = 0; i < f->ntensors; i++)
            if (has_prefix(f->tensors[i].name, "model.") &&
                rename_to(&f->tensors[i], f->tensors[i].name + 6, err))
                return -1;
    }
    char nm[256];
    for (size_t i = 0; i < f->ntensors; i++)
        nfb += has_prefix(f->tensors[i].name, "downsample_layers.");
    if (nfb)
        add_layout(w, "Facebook ConvNeXt names");
    else if (!nmodel)
        add_layout(w, "timm names");
    size_t kept = 0;
    char dropped[sizeof w->dropped] = "";
    for (size_t i = 0; i < f->ntensors; i++) {
        s4g_st_tensor *t = &f->tensors[i];
        int drop = 0;
        if (nfb && facebook_name(t->name, nm, sizeof nm)) {
            if (!nm[0])
                drop = 1;
            else if (rename_to(t, nm, err))
                return -1;
        } else if (strcmp(t->name, "head.fc.weight") == 0 || strcmp(t->name, "head.fc.bias") == 0) {
            drop = 1;
        }
        if (drop) {
            add_to(dropped, sizeof dropped, w->orig[i]);
            free(t->name);
            free(w->orig[i]);
            continue;
        }
        w->orig[kept] = w->orig[i];
        f->tensors[kept++] = *t;
    }
    for (size_t i = kept; i < f->ntensors; i++)
        w->orig[i] = NULL;
    f->ntensors = kept;
    if (dropped[0])
        snprintf(w->dropped, sizeof w->dropped, "%s (ImageNet classifier)", dropped);
    return 0;
}

s4g_weights *s4g_weights_open(const char *path, s4g_err *err)
{
    uint8_t head[512];
    size_t n = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        s4g_fail(err, S4G_E_IO, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    n = fread(head, 1, sizeof head, fp);
    fclose(fp);
    s4g_weights *w = calloc(1, sizeof *w);
    if (!w) {
        s4g_fail(err, S4G_E_NOMEM, "out of memory");
        return NULL;
    }
    if (s4g_pth_sniff(head, n) || s4g_pth_sniff_legacy(head, n)) {
        w->format = "PyTorch checkpoint";
        w->pth = s4g_pth_open(path, err);
        if (!w->pth)
            goto bad;
        w->f = w->pth->f;
        snprintf(w->ignored, sizeof w->ignored, "%s", w->pth->ignored);
    } else if (n >= 9 && head[8] == '{') {
        w->format = "safetensors";
        if (!(w->f = s4g_st_open(path, err)))
            goto bad;
    } else {
        s4g_fail(err, S4G_E_FORMAT,
                 "%s: neither a safetensors file nor a PyTorch checkpoint (first bytes "
                 "%02x %02x %02x %02x)",
                 path, n > 0 ? head[0] : 0, n > 1 ? head[1] : 0, n > 2 ? head[2] : 0,
                 n > 3 ? head[3] : 0);
        goto bad;
    }
    if (normalise(w, err) == 0)
        return w;
bad:
    s4g_weights_close(w);
    return NULL;
}

void s4g_weights_report(const s4g_weights *w, size_t loaded, const char *arch, char *out,
                        size_t cap)
{
    size_t l = (size_t)snprintf(out, cap, "loaded %zu of %zu tensors (%s; %s, %s)", loaded,
                                w->nfile, arch, w->format, w->layout);
    if (w->dropped[0] && l < cap)
        l += (size_t)snprintf(out + l, cap - l, "; dropped %s", w->dropped);
    if (w->ignored[0] && l < cap)
        snprintf(out + l, cap - l, "; ignored %s (checkpoint entries besides \"%s\")", w->ignored,
                 w->pth->where);
}

/* ---------------------------------------------------------------- ConvNeXt */

static void arch_name(const s4g_convnext_cfg *c, char *out, size_t cap)
{
    const char *p = s4g_convnext_preset_name(c);
    if (p)
        snprintf(out, cap, "ConvNeXt-%s", p);
    else
        snprintf(out, cap, "ConvNeXt depths %d,%d,%d,%d dims %d,%d,%d,%d", c->depths[0],
                 c->depths[1], c->depths[2], c->depths[3], c->dims[0], c->dims[1], c->dims[2],
                 c->dims[3]);
}

static int cfg_of(const s4g_weights *w, s4g_convnext_cfg *cfg, s4g_err *err)
{
    const s4g_st_file *f = w->f;
    s4g_convnext_cfg c = {{0}, {0}};
    for (size_t t = 0; t < f->ntensors; t++) {
        const char *k = f->tensors[t].name;
        int i, j, n = 0;
        if (sscanf(k, "stages.%d.blocks.%d.conv_dw.weight%n", &i, &j, &n) == 2 && !k[n] &&
            i >= 0 && i < 4 && j >= 0 && j < 256 && f->tensors[t].ndim == 4) {
            if (j + 1 > c.depths[i])
                c.depths[i] = j + 1;
            if (f->tensors[t].shape[0] > 0 && f->tensors[t].shape[0] <= 65536)
                c.dims[i] = (int)f->tensors[t].shape[0];
        }
    }
    for (int i = 0; i < 4; i++)
        if (!c.depths[i] || !c.dims[i]) {
            const char *any = f->ntensors ? w->orig[0] : "(none)";
            return s4g_fail(err, S4G_E_FORMAT,
                            "%s: no ConvNeXt stage %d (no \"stages.%d.blocks.N.conv_dw.weight\" "
                            "in timm, Sample4Geo, DataParallel or Facebook names; the file's "
                            "first key is \"%.100s\"): not a ConvNeXt checkpoint",
                            f->path, i, i, any);
        }
    *cfg = c;
    return 0;
}

int s4g_convnext_cfg_from_file(const char *path, s4g_convnext_cfg *cfg, s4g_err *err)
{
    s4g_weights *w = s4g_weights_open(path, err);
    if (!w)
        return -1;
    int rc = cfg_of(w, cfg, err);
    s4g_weights_close(w);
    return rc;
}

/* A hint for a key the model does not have: a prefix in front of a real name. */
static void key_hint(const s4g_convnext *m, const char *key, char *out, size_t cap)
{
    out[0] = 0;
    for (const char *p = strchr(key, '.'); p; p = strchr(p + 1, '.'))
        if (s4g_convnext_find(m, p + 1)) {
            snprintf(out, cap, "; the keys seem to carry the prefix \"%.*s\", which is not one "
                               "of the known layouts (timm, \"model.\", \"module.\", Facebook)",
                     (int)(p + 1 - key), key);
            return;
        }
}

/* fresh: m's parameters hold nothing to keep (s4g_convnext_open): host starts from the
 * initial logit_scale instead of a download of them.  Either way host is the one host copy:
 * converted in place for the upload. */
static int load(s4g_convnext *m, const char *path, int fresh, char *report, size_t cap,
                s4g_err *err)
{
    s4g_weights *w = s4g_weights_open(path, err);
    if (!w)
        return -1;
    const s4g_st_file *f = w->f;
    char arch[96], farch[96] = "", hint[256] = "";
    arch_name(&m->cfg, arch, sizeof arch);
    s4g_convnext_cfg fc;
    s4g_err e2 = {0};
    if (cfg_of(w, &fc, &e2) == 0 && memcmp(&fc, &m->cfg, sizeof fc) != 0) {
        arch_name(&fc, farch, sizeof farch);
        snprintf(hint, sizeof hint, "; wrong architecture: the file holds %s, the model is %s",
                 farch, arch);
    }
    int rc = -1;
    size_t loaded = 0;
    for (size_t i = 0; i < f->ntensors; i++) {
        const char *k = f->tensors[i].name;
        if (!s4g_convnext_owns_key(m, "", k)) {
            if (!hint[0])
                key_hint(m, w->orig[i], hint, sizeof hint);
            s4g_fail(err, S4G_E_FORMAT, "%s: unexpected key \"%s\" (not a parameter of %s)%s",
                     path, w->orig[i], arch, hint);
            goto out;
        }
        loaded++;
    }
    float *host = fresh ? calloc(m->total, sizeof *host) : malloc(m->total * sizeof *host);
    if (!host) {
        s4g_fail(err, S4G_E_NOMEM, "out of memory");
        goto out;
    }
    if (fresh)
        host[m->logit_scale_off] = (float)S4G_LOGIT_SCALE_INIT;
    if (fresh || s4g_convnext_to_host(m, m->params, host, err) == 0) {
        if (s4g_convnext_read_tensors(m, f, "", 1, host, err) == 0)
            rc = s4g_convnext_upload_pytorch(m, host, err);
        else if (hint[0] && strlen(err->msg) + strlen(hint) < sizeof err->msg)
            strcat(err->msg, hint);
    }
    free(host);
    if (rc == 0 && report)
        s4g_weights_report(w, loaded, arch, report, cap);
out:
    s4g_weights_close(w);
    return rc;
}

int s4g_convnext_load_report(s4g_convnext *m, const char *path, char *report, size_t cap,
                             s4g_err *err)
{
    return load(m, path, 0, report, cap, err);
}

int s4g_convnext_load_fresh(s4g_convnext *m, const char *path, char *report, size_t cap,
                            s4g_err *err)
{
    return load(m, path, 1, report, cap, err);
}

int s4g_convnext_load(s4g_convnext *m, const char *path, s4g_err *err)
{
    return s4g_convnext_load_report(m, path, NULL, 0, err);
}
