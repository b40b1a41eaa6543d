/* test-mpi-train.c — data-parallel training over MPI (app/mpi's communicator), run by the
 * suite as `mpirun -np 2 test-mpi-train`: every rank trains on its share of each global batch;
 * rank 0 then trains the same global batches alone (no communicator) and checks the losses
 * step by step, the final weights and the gradients at the start (<= 1e-5), without and
 * with micro-batches, for an even and an uneven split.  A failure on rank 0 aborts the job. */
#include "s4g-mpi.h"
#include "s4g-train-test.h"

#include <stdio.h>

static s4g_comm comm;

static void check(int M, int B)
{
    enum { S = 3 };
    float lp[S], l1[S], *gp = NULL, *g1 = NULL;
    float *wp = train_share(&comm, M, B, S, lp, &gp);
    /* every rank holds the same weights: compare a checksum over the group */
    double sum = 0;
    for (size_t i = 0; i < s4g_convnext_cfg_count(&kCfg); i++)
        sum += wp[i] * (double)(i % 7 + 1);
    float mine[2] = {(float)sum, lp[S - 1]}, all[2 * 16];
    s4g_err err = {0};
    OK(comm.allgather(comm.user, mine, 2, all, &err));
    for (int r = 0; r < comm.size; r++) {
        g_assert_cmpfloat(all[2 * r], ==, mine[0]);
        g_assert_cmpfloat(all[2 * r + 1], ==, mine[1]);
    }
    if (comm.rank == 0) {
        float *w1 = train_share(NULL, 0, B, S, l1, &g1);
        assert_same_training(comm.size, M, B, S, l1, lp, w1, wp, g1, gp);
        g_free(w1);
        g_free(g1);
    }
    g_free(wp);
    g_free(gp);
}

static void test_even(void)
{
    check(0, 6);
}

static void test_uneven_micro(void)
{
    check(2, 7); /* shares 4+3, chunks of 2 */
}

int main(int argc, char **argv)
{
    s4g_err err = {0};
    if (s4g_mpi_init(&argc, &argv, &comm, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    g_test_init(&argc, &argv, NULL);
    g_assert_cmpint(comm.size, >=, 2);
    g_assert_cmpint(comm.size, <=, 16);
    g_test_add_func("/mpi-train/even", test_even);
    g_test_add_func("/mpi-train/uneven-micro-batch", test_uneven_micro);
    int rc = g_test_run();
    s4g_mpi_finalize();
    return rc;
}
