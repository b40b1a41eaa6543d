/* bench-mpi-train.c — data-parallel training throughput over MPI.  Not a test:
 *
 *   mpirun -np N build/tests/compute/bench-mpi-train PRESET SIZE B M STEPS [THREADS]
 *
 * Every rank trains STEPS steps of the global batch B (its share of it; micro-batch M, 0 =
 * whole share) of random images SIZE (H×W, both views) on the CPU backend with THREADS
 * threads (1).  Rank 0 prints one JSON object: pairs/s of the global batch (after one warm-up
 * step), and the payload each rank hands to the collectives per step — the features it
 * gathers, the gradients it sums — in bytes (an MPI ring allreduce moves about 2 (N-1)/N times
 * the summed size over the wire). */
#include "s4g-convnext.h"
#include "s4g-mpi.h"
#include "s4g-train-step.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* The MPI communicator, counting the payload of each call. */
static s4g_comm mpi;
static double payload;

static int count_allgather(void *u, const float *send, size_t n, float *recv, s4g_err *err)
{
    payload += (double)n * mpi.size * sizeof(float);
    return mpi.allgather(u, send, n, recv, err);
}

static int count_allgatherv(void *u, const float *send, float *recv, const size_t *counts,
                            s4g_err *err)
{
    for (int i = 0; i < mpi.size; i++)
        payload += (double)counts[i] * sizeof(float);
    return mpi.allgatherv(u, send, recv, counts, err);
}

static int count_allreduce(void *u, float *buf, size_t n, s4g_err *err)
{
    payload += (double)n * sizeof(float);
    return mpi.allreduce_sum(u, buf, n, err);
}

static int count_broadcast(void *u, void *buf, size_t bytes, int root, s4g_err *err)
{
    payload += (double)bytes;
    return mpi.broadcast(u, buf, bytes, root, err);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int fail(const char *what, const s4g_err *err)
{
    fprintf(stderr, "bench-mpi-train (rank %d): %s: %s\n", mpi.rank, what, err->msg);
    s4g_mpi_abort(1);
    return 1;
}

int main(int argc, char **argv)
{
    s4g_err err = {0};
    if (s4g_mpi_init(&argc, &argv, &mpi, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    int H = 0, W = 0;
    if (argc < 6 || sscanf(argv[2], "%dx%d", &H, &W) != 2) {
        if (mpi.rank == 0)
            fprintf(stderr, "usage: mpirun -np N %s PRESET HxW B M STEPS [THREADS]\n", argv[0]);
        s4g_mpi_finalize();
        return 2;
    }
    int B = atoi(argv[3]), M = atoi(argv[4]), steps = atoi(argv[5]);
    int threads = argc > 6 ? atoi(argv[6]) : 1;
    s4g_comm comm = mpi;
    comm.allgather = count_allgather;
    comm.allgatherv = count_allgatherv;
    comm.allreduce_sum = count_allreduce;
    comm.broadcast = count_broadcast;
    s4g_convnext_cfg cfg;
    if (s4g_convnext_preset(argv[1], &cfg, &err))
        return fail("preset", &err);
    s4g_ctx_opts o = {.backend = S4G_BACKEND_CPU, .threads = threads};
    s4g_ctx *ctx = s4g_ctx_new(&o, &err);
    s4g_convnext *m = ctx ? s4g_convnext_new(ctx, &cfg, 1, &err) : NULL;
    s4g_train_cfg tc = s4g_train_cfg_default(0, 1000);
    tc.micro_batch = M;
    s4g_trainer *t = m ? s4g_trainer_new(m, &tc, &err) : NULL;
    if (!t)
        return fail("setup", &err);
    s4g_trainer_set_comm(t, &comm);
    int lo, n;
    s4g_comm_share(B, mpi.rank, mpi.size, &lo, &n);
    /* every rank makes the same global batch and trains on its rows */
    size_t img = (size_t)H * W * 3;
    float *q = malloc((size_t)B * img * sizeof *q), *r = malloc((size_t)B * img * sizeof *r);
    if (!q || !r)
        return fail("inputs", &(s4g_err){.msg = "out of memory"});
    uint64_t s = 88172645463325252ull;
    for (size_t i = 0; i < (size_t)B * img; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        q[i] = (float)((s >> 40) / 16777216.0 * 3 - 1.5);
        r[i] = (float)((s >> 16 & 0xffffff) / 16777216.0 * 3 - 1.5);
    }
    s4g_train_stats st;
    double t0 = 0, per_step = 0;
    for (int k = 0; k <= steps; k++) {
        if (k == 1) { /* the first step builds the workspaces */
            t0 = now();
            payload = 0;
        }
        if (s4g_trainer_step(t, n, H, W, q + (size_t)lo * img, H, W, r + (size_t)lo * img, &st,
                             &err))
            return fail("step", &err);
    }
    per_step = (now() - t0) / steps;
    if (mpi.rank == 0)
        printf("{\"preset\": \"%s\", \"size\": \"%dx%d\", \"processes\": %d, \"threads\": %d, "
               "\"batch\": %d, \"micro_batch\": %d, \"steps\": %d, \"pairs_per_s\": %.3f, "
               "\"payload_bytes_per_step\": %.0f, \"loss\": %.6f}\n",
               argv[1], H, W, mpi.size, threads, B, M, steps, B / per_step, payload / steps,
               st.loss);
    free(q);
    free(r);
    s4g_trainer_free(t);
    s4g_convnext_free(m);
    s4g_ctx_free(ctx);
    s4g_mpi_finalize();
    return 0;
}
