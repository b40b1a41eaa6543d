/* bench-pth.c — time and peak RSS of reading a weights file (any format, s4g-weights.h) with
 * every tensor converted to float32 into one buffer, as a model load does; and then of the
 * whole load into a model of the file's shape on the CPU backend: s4g_convnext_open (load
 * only, what import, export, encode, embed and predict use; the default) or, with "train",
 * s4g_convnext_new + s4g_convnext_load (parameters and gradients, as training starts).
 *   bench-pth FILE [open|train] */
#include "s4g-convnext.h"
#include "s4g-weights.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static long peak_kb(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

int main(int argc, char **argv)
{
    int train = argc == 3 && strcmp(argv[2], "train") == 0;
    if (argc < 2 || argc > 3 || (argc == 3 && !train && strcmp(argv[2], "open") != 0)) {
        fprintf(stderr, "usage: bench-pth FILE [open|train]\n");
        return 2;
    }
    s4g_err err = {0};
    double t0 = now();
    s4g_weights *w = s4g_weights_open(argv[1], &err);
    if (!w) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    size_t total = 0;
    for (size_t i = 0; i < w->f->ntensors; i++)
        total += w->f->tensors[i].count;
    float *host = malloc(total * sizeof *host);
    size_t off = 0;
    for (size_t i = 0; host && i < w->f->ntensors; i++) {
        if (s4g_st_to_f32(&w->f->tensors[i], host + off, &err) == 0)
            off += w->f->tensors[i].count;
        if (w->f->release) /* as s4g_convnext_read_tensors does */
            w->f->release(w->f, &w->f->tensors[i]);
    }
    s4g_weights_close(w);
    double t1 = now();
    printf("read %zu floats (%s): %.3f s, peak RSS %ld KB\n", total, argv[1], t1 - t0, peak_kb());
    free(host);
    s4g_convnext_cfg cfg;
    s4g_ctx_opts o = {.backend = S4G_BACKEND_CPU};
    s4g_ctx *ctx = s4g_ctx_new(&o, &err);
    if (!ctx || s4g_convnext_cfg_from_file(argv[1], &cfg, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double t2 = now();
    char rep[512];
    s4g_convnext *m = train ? s4g_convnext_new(ctx, &cfg, 1, &err)
                            : s4g_convnext_open(ctx, &cfg, argv[1], rep, sizeof rep, &err);
    if (!m || (train && s4g_convnext_load_report(m, argv[1], rep, sizeof rep, &err))) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    printf("%s: %.3f s, peak RSS %ld KB (model included); %s\n",
           train ? "s4g_convnext_new + load" : "s4g_convnext_open", now() - t2, peak_kb(), rep);
    s4g_convnext_free(m);
    s4g_ctx_free(ctx);
    return 0;
}
