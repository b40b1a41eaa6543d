/* s4g-comm.h — the collective operations data-parallel work needs (training, sharded
 * search), as callbacks the caller implements: app/mpi with MPI, tests with threads or a
 * single process.  compute/ never links MPI.  Every process of the group calls the same
 * operations in the same order.  Callbacks return 0, or -1 with a message in *err. */
#ifndef S4G_COMM_H
#define S4G_COMM_H

#include "s4g-error.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct s4g_comm {
    int rank, size; /* this process, number of processes (size >= 1) */
    void *user;
    /* recv[size*n] = concatenation by rank of every process's send[n] */
    int (*allgather)(void *user, const float *send, size_t n, float *recv, s4g_err *err);
    /* recv = concatenation by rank of counts[i] floats from process i (send has
     * counts[rank] floats) */
    int (*allgatherv)(void *user, const float *send, float *recv, const size_t *counts,
                      s4g_err *err);
    /* buf[n] = element-wise sum over the processes, the same result on every process */
    int (*allreduce_sum)(void *user, float *buf, size_t n, s4g_err *err);
    /* bytes of buf from process root to every other */
    int (*broadcast)(void *user, void *buf, size_t bytes, int root, s4g_err *err);
    /* Optional (NULL: not offered).  recv[size*bytes] = every process's send[bytes], by rank
     * (any data: top-k lists with their int64 indices, counts). */
    int (*allgather_bytes)(void *user, const void *send, size_t bytes, void *recv,
                           s4g_err *err);
    /* Optional (both or neither): starts allreduce_sum of buf[n] in place and returns a
     * handle in *req; buf must not be touched until wait(*req) returned.  Lets the trainer
     * reduce a bucket of gradients while the backward pass goes on. */
    int (*iallreduce_sum)(void *user, float *buf, size_t n, void **req, s4g_err *err);
    int (*wait)(void *user, void *req, s4g_err *err);
} s4g_comm;

/* Process `rank` of `size` holds pairs [*lo, *lo + *n) of a global batch of B: contiguous
 * shares, the first B % size processes one pair more. */
void s4g_comm_share(int B, int rank, int size, int *lo, int *n);

#ifdef __cplusplus
}
#endif
#endif
