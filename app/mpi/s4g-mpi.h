/* s4g-mpi.h — the engine's communicator (s4g_comm, s4g-comm.h) over MPI, for
 * data-parallel training under `mpirun -np N s4g train ...` and the sharded gallery search
 * of `s4g eval`, `s4g predict` and `s4g bench --search` under mpirun.
 *
 * Written to the MPI standard only (MPI-2.2 calls: Allgather(v), Allreduce, Bcast; MPI-3:
 * Iallreduce, Comm_split_type), so Open MPI and MPICH both work.  Errors are returned, not
 * fatal (MPI_ERRORS_RETURN on the communicator): a failed call becomes an s4g_err naming the
 * call and MPI's message.  A process that fails for any other reason calls s4g_mpi_abort so
 * the launcher ends every rank instead of leaving them waiting in a collective.
 *
 * Built only with the meson feature `mpi` (auto: when an MPI is installed); the programs
 * test S4G_HAVE_MPI. */
#pragma once

#include "s4g-comm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Whether an MPI launcher started this process (mpirun/mpiexec of Open MPI, MPICH's Hydra,
 * Slurm's PMI): only then does s4g initialise MPI, so a plain `s4g train` never needs it. */
int s4g_mpi_launched(void);
/* MPI_Init_thread (funneled: only the main thread calls MPI) and *comm over MPI_COMM_WORLD.
 * Returns 0, or -1 with err.  comm stays valid until s4g_mpi_finalize. */
int s4g_mpi_init(int *argc, char ***argv, s4g_comm *comm, s4g_err *err);
/* Rank among the processes of this machine (MPI_COMM_TYPE_SHARED): picks the GPU. */
int s4g_mpi_local_rank(void);
/* Every process must call it once at the end. */
void s4g_mpi_finalize(void);
/* Ends every process of the job with this exit code (MPI_Abort). */
void s4g_mpi_abort(int code);

#ifdef __cplusplus
}
#endif
