/* s4g-mpi.c — s4g_comm over MPI; see s4g-mpi.h. */
#include "s4g-mpi.h"

#include <limits.h>
#include <mpi.h>
#include <stdint.h>
#include <stdlib.h>

/* Calls move at most this many elements at once (MPI counts are int). */
#define CHUNK ((size_t)1 << 30)

static MPI_Comm world = MPI_COMM_NULL;
static int local_rank;

static int mpi_fail(s4g_err *err, const char *call, int rc)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS)
        len = 0;
    msg[len] = 0;
    return s4g_fail(err, S4G_E_IO, "%s failed: %s (MPI error %d)", call, len ? msg : "?", rc);
}

static int comm_allgather(void *user, const float *send, size_t n, float *recv, s4g_err *err)
{
    if (n > INT_MAX)
        return s4g_fail(err, S4G_E_INVALID, "MPI_Allgather: %zu floats per process", n);
    int rc = MPI_Allgather(send, (int)n, MPI_FLOAT, recv, (int)n, MPI_FLOAT, world);
    return rc == MPI_SUCCESS ? 0 : mpi_fail(err, "MPI_Allgather", rc);
}

static int comm_allgatherv(void *user, const float *send, float *recv, const size_t *counts,
                           s4g_err *err)
{
    int size, rank;
    MPI_Comm_size(world, &size);
    MPI_Comm_rank(world, &rank);
    int *cnt = malloc(2 * (size_t)size * sizeof *cnt), *displ = cnt + size;
    if (!cnt)
        return s4g_fail(err, S4G_E_NOMEM, "out of memory");
    size_t at = 0;
    for (int i = 0; i < size; i++) {
        if (counts[i] > INT_MAX || at > INT_MAX) {
            free(cnt);
            return s4g_fail(err, S4G_E_INVALID, "MPI_Allgatherv: %zu floats from process %d",
                            counts[i], i);
        }
        cnt[i] = (int)counts[i];
        displ[i] = (int)at;
        at += counts[i];
    }
    /* a send range inside recv must be passed as MPI_IN_PLACE (MPI forbids aliasing) */
    const void *s = send == recv + displ[rank] ? MPI_IN_PLACE : (const void *)send;
    int rc = MPI_Allgatherv(s, cnt[rank], MPI_FLOAT, recv, cnt, displ, MPI_FLOAT, world);
    free(cnt);
    return rc == MPI_SUCCESS ? 0 : mpi_fail(err, "MPI_Allgatherv", rc);
}

static int comm_allreduce_sum(void *user, float *buf, size_t n, s4g_err *err)
{
    for (size_t at = 0; at < n; at += CHUNK) {
        int c = (int)(n - at < CHUNK ? n - at : CHUNK);
        int rc = MPI_Allreduce(MPI_IN_PLACE, buf + at, c, MPI_FLOAT, MPI_SUM, world);
        if (rc != MPI_SUCCESS)
            return mpi_fail(err, "MPI_Allreduce", rc);
    }
    return 0;
}

static int comm_allgather_bytes(void *user, const void *send, size_t bytes, void *recv,
                                s4g_err *err)
{
    if (bytes > INT_MAX)
        return s4g_fail(err, S4G_E_INVALID, "MPI_Allgather: %zu bytes per process", bytes);
    int rc = MPI_Allgather(send, (int)bytes, MPI_BYTE, recv, (int)bytes, MPI_BYTE, world);
    return rc == MPI_SUCCESS ? 0 : mpi_fail(err, "MPI_Allgather", rc);
}

/* A non-blocking reduction of at most CHUNK floats per request (buckets are far smaller). */
static int comm_iallreduce_sum(void *user, float *buf, size_t n, void **req, s4g_err *err)
{
    if (n > INT_MAX)
        return s4g_fail(err, S4G_E_INVALID, "MPI_Iallreduce: %zu floats", n);
    MPI_Request *r = malloc(sizeof *r);
    if (!r)
        return s4g_fail(err, S4G_E_NOMEM, "out of memory");
    int rc = MPI_Iallreduce(MPI_IN_PLACE, buf, (int)n, MPI_FLOAT, MPI_SUM, world, r);
    if (rc != MPI_SUCCESS) {
        free(r);
        return mpi_fail(err, "MPI_Iallreduce", rc);
    }
    *req = r;
    return 0;
}

static int comm_wait(void *user, void *req, s4g_err *err)
{
    MPI_Request *r = req;
    int rc = MPI_Wait(r, MPI_STATUS_IGNORE);
    free(r);
    return rc == MPI_SUCCESS ? 0 : mpi_fail(err, "MPI_Wait", rc);
}

static int comm_broadcast(void *user, void *buf, size_t bytes, int root, s4g_err *err)
{
    for (size_t at = 0; at < bytes; at += CHUNK) {
        int c = (int)(bytes - at < CHUNK ? bytes - at : CHUNK);
        int rc = MPI_Bcast((char *)buf + at, c, MPI_BYTE, root, world);
        if (rc != MPI_SUCCESS)
            return mpi_fail(err, "MPI_Bcast", rc);
    }
    return 0;
}

int s4g_mpi_launched(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK",
                                       "MPI_LOCALNRANKS"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        if (getenv(vars[i]))
            return 1;
    return 0;
}

int s4g_mpi_init(int *argc, char ***argv, s4g_comm *comm, s4g_err *err)
{
    int provided = 0, rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS)
        return s4g_fail(err, S4G_E_IO, "MPI_Init_thread failed (MPI error %d)", rc);
    if ((rc = MPI_Comm_dup(MPI_COMM_WORLD, &world)) != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Comm_dup", rc);
    MPI_Comm_set_errhandler(world, MPI_ERRORS_RETURN);
    *comm = (s4g_comm){.allgather = comm_allgather,
                       .allgatherv = comm_allgatherv,
                       .allreduce_sum = comm_allreduce_sum,
                       .broadcast = comm_broadcast,
                       .allgather_bytes = comm_allgather_bytes,
                       .iallreduce_sum = comm_iallreduce_sum,
                       .wait = comm_wait};
    MPI_Comm_rank(world, &comm->rank);
    MPI_Comm_size(world, &comm->size);
    MPI_Comm node;
    if ((rc = MPI_Comm_split_type(world, MPI_COMM_TYPE_SHARED, comm->rank, MPI_INFO_NULL,
                                  &node)) != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Comm_split_type", rc);
    MPI_Comm_rank(node, &local_rank);
    MPI_Comm_free(&node);
    return 0;
}

int s4g_mpi_local_rank(void)
{
    return local_rank;
}

void s4g_mpi_finalize(void)
{
    if (world != MPI_COMM_NULL)
        MPI_Comm_free(&world);
    MPI_Finalize();
}

void s4g_mpi_abort(int code)
{
    MPI_Abort(MPI_COMM_WORLD, code);
}
