/* bench-train-step.c — memory and time of one training step (forward, InfoNCE, backward,
 * clamp, AdamW) on the CPU backend, with or without micro-batches.  Not a test:
 *
 *   build/tests/compute/bench-train-step PRESET SIZE B M [THREADS]
 *
 * SIZE is the H×W of both views (e.g. 384x384), B the pairs per step, M the micro-batch
 * (0 = whole batch).  Prints one JSON object: peak resident memory before the step (model,
 * gradients, Adam moments, the host batch) and after it, and the step's seconds. */
#include "s4g-convnext.h"
#include "s4g-train-step.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Peak resident set so far (VmHWM), MiB; -1 when /proc is not there. */
static double peak_rss_mib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6))
            kib = strtod(line + 6, NULL);
    if (f)
        fclose(f);
    return kib < 0 ? -1 : kib / 1024.0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    int H = 0, W = 0;
    if (argc < 5 || sscanf(argv[2], "%dx%d", &H, &W) != 2) {
        fprintf(stderr, "usage: %s PRESET HxW B M [THREADS]\n", argv[0]);
        return 2;
    }
    int B = atoi(argv[3]), M = atoi(argv[4]), threads = argc > 5 ? atoi(argv[5]) : 0;
    s4g_err err = {0};
    s4g_convnext_cfg cfg;
    if (s4g_convnext_preset(argv[1], &cfg, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 2;
    }
    s4g_ctx_opts o = {.backend = S4G_BACKEND_CPU, .threads = threads};
    s4g_ctx *ctx = s4g_ctx_new(&o, &err);
    s4g_convnext *m = ctx ? s4g_convnext_new(ctx, &cfg, 1, &err) : NULL;
    s4g_train_cfg tc = s4g_train_cfg_default(0, 10);
    tc.micro_batch = M;
    s4g_trainer *t = m ? s4g_trainer_new(m, &tc, &err) : NULL;
    size_t n = (size_t)B * H * W * 3;
    float *q = malloc(n * sizeof *q), *r = malloc(n * sizeof *r);
    if (!t || !q || !r) {
        fprintf(stderr, "setup: %s\n", err.msg[0] ? err.msg : "out of memory");
        return 1;
    }
    uint64_t s = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        q[i] = (float)((s >> 40) / 16777216.0 * 3 - 1.5);
        r[i] = (float)((s >> 16 & 0xffffff) / 16777216.0 * 3 - 1.5);
    }
    double before = peak_rss_mib(), t0 = now();
    s4g_train_stats st;
    if (s4g_trainer_step(t, B, H, W, q, H, W, r, &st, &err)) {
        fprintf(stderr, "step: %s\n", err.msg);
        return 1;
    }
    double dt = now() - t0;
    printf("{\"preset\": \"%s\", \"size\": \"%dx%d\", \"batch\": %d, \"micro_batch\": %d, "
           "\"threads\": %d, \"peak_rss_before_step_mib\": %.0f, \"peak_rss_mib\": %.0f, "
           "\"step_s\": %.2f, \"loss\": %.6f}\n",
           argv[1], H, W, B, M, threads, before, peak_rss_mib(), dt, st.loss);
    s4g_trainer_free(t);
    s4g_convnext_free(m);
    s4g_ctx_free(ctx);
    free(q);
    free(r);
    return 0;
}
