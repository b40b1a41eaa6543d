/* s4g-convnext-io.c — ConvNeXt parameters between the buffer layout (NHWC kernels) and
 * PyTorch's, and to/from safetensors files with timm or Sample4Geo names. */
#include "s4g-convnext-impl.h"
#include "s4g-pth.h"
#include "s4g-safetensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The largest parameter with a layout to convert (0: none), for an in-place conversion's
 * scratch. */
static size_t largest_converted(const s4g_convnext *m)
{
    size_t n = 0;
    for (int i = 0; i < m->nparams; i++)
        if (m->info[i].layout != S4G_PARAM_PLAIN && m->info[i].n > n)
            n = m->info[i].n;
    return n;
}

/* host, in the buffer layout (pytorch = 0) or PyTorch's (1), to the other one, in place. */
static int convert_in_place(s4g_convnext *m, float *host, int to_pt, s4g_err *err)
{
    size_t n = largest_converted(m);
    float *scratch = n ? malloc(n * sizeof *scratch) : NULL;
    if (n && !scratch)
        return s4g_fail(err, S4G_E_NOMEM, "out of memory");
    for (int i = 0; i < m->nparams; i++) {
        const s4g_param_info *p = &m->info[i];
        if (p->layout == S4G_PARAM_PLAIN)
            continue;
        memcpy(scratch, host + p->off, p->n * sizeof *scratch);
        if (to_pt)
            to_pytorch(p, scratch, host + p->off);
        else
            to_internal(p, scratch, host + p->off);
    }
    free(scratch);
    return 0;
}

int s4g_convnext_to_host(s4g_convnext *m, s4g_buf *buf, float *host, s4g_err *err)
{
    /* straight into host, then each converted parameter through a scratch of its size: one
     * copy of the weights on the host instead of two */
    if (s4g_buf_download(buf, 0, host, m->total, err))
        return -1;
    if (convert_in_place(m, host, 1, err))
        return -1;
    /* the alignment gaps between parameters hold zeros, whatever the buffer holds there */
    for (int i = 0; i < m->nparams; i++) {
        const s4g_param_info *p = &m->info[i];
        size_t end = i + 1 < m->nparams ? m->info[i + 1].off : m->total;
        memset(host + p->off + p->n, 0, (end - p->off - p->n) * sizeof *host);
    }
    return 0;
}

int s4g_convnext_upload_pytorch(s4g_convnext *m, float *host, s4g_err *err)
{
    if (convert_in_place(m, host, 0, err))
        return -1;
    return s4g_buf_upload(m->params, 0, host, m->total, err);
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
    if (from_grads && s4g_convnext_trainable(m, "convnext gradient", err))
        return -1;
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

/* Host copies of every parameter in PyTorch layout, as writer entries named prefix + timm
 * name; Sample4Geo's TimmModel keeps logit_scale outside "model.", first (its own parameters
 * come before its submodule's in state_dict order). */
static int write_weights(s4g_convnext *m, const char *path, const char *prefix, int pth,
                         const char *const *meta, s4g_err *err)
{
    float *host = malloc(m->total * sizeof *host);
    s4g_st_entry *e = calloc((size_t)m->nparams, sizeof *e);
    char (*names)[80] = calloc((size_t)m->nparams, sizeof *names);
    int rc = -1;
    if (!host || !e || !names) {
        s4g_fail(err, S4G_E_NOMEM, "out of memory");
        goto out;
    }
    if (s4g_convnext_to_host(m, m->params, host, err))
        goto out;
    for (int i = 0, k = 0; i < m->nparams; i++) {
        const s4g_param_info *p = &m->info[i];
        int is_logit = p->off == m->logit_scale_off;
        /* the logit scale first when prefixed, the backbone after it in order */
        int slot = !prefix[0] ? i : is_logit ? 0 : ++k;
        snprintf(names[slot], sizeof names[slot], "%s%s", is_logit ? "" : prefix, p->name);
        e[slot].name = names[slot];
        e[slot].ndim = p->ndim;
        for (int d = 0; d < p->ndim; d++)
            e[slot].shape[d] = p->shape[d];
        e[slot].data = host + p->off;
    }
    rc = pth ? s4g_pth_write(path, e, (size_t)m->nparams, err)
             : s4g_st_write(path, e, (size_t)m->nparams, meta, err);
out:
    free(host);
    free(e);
    free(names);
    return rc;
}

int s4g_convnext_save(s4g_convnext *m, const char *path, const char *const *meta, s4g_err *err)
{
    return write_weights(m, path, "", 0, meta, err);
}

int s4g_convnext_save_pth(s4g_convnext *m, const char *path, s4g_err *err)
{
    return write_weights(m, path, "model.", 1, NULL, err);
}
