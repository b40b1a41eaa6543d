/* s4g-store-locks.h — which process owns a run: a lock file beside the database
 * (PROJECT/.locks/run-N.lock) that the trainer holds with flock(2) for as long as it runs,
 * recording its pid and the process start time from /proc/PID/stat.  A run is alive exactly
 * while its lock is held: the kernel drops a flock when its owner dies, however it dies, so a
 * stale pid (or a pid reused by another program) never keeps a run "running".  Opening a
 * project (s4g_store_open) turns every queued or running run whose lock is free into
 * `interrupted` and removes `*.tmp-PID` leftovers of processes that hold no lock. */
#pragma once

#include "s4g-store.h"

G_BEGIN_DECLS

typedef struct _S4gRunLock S4gRunLock;

/* Takes run `run`'s lock without waiting; NULL with an error naming the lock file and its
 * recorded owner when another process (or another open of this one) holds it. */
S4gRunLock *s4g_run_lock_take(S4gStore *store, gint64 run, GError **error);
/* Releases the lock (NULL is ignored). */
void s4g_run_lock_release(S4gRunLock *lock);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(S4gRunLock, s4g_run_lock_release)

/* TRUE when some process holds run `run`'s lock; *pid (may be NULL) gets the pid it recorded. */
gboolean s4g_run_lock_held(S4gStore *store, gint64 run, gint64 *pid);

/* The sweep s4g_store_open runs: queued/running runs whose lock is free become interrupted
 * (message names the pid that owned them); `*.tmp-PID` files in the project folder, models/,
 * tiles/ and galleries/NAME/ whose PID holds no run lock and is not alive are removed.
 * *n_interrupted / *n_removed may be NULL. */
gboolean s4g_store_sweep(S4gStore *store, guint *n_interrupted, guint *n_removed,
                         GError **error);

/* This process's start time (field 22 of /proc/self/stat, clock ticks since boot), 0 when
 * unknown: with the pid it names the process even after the pid is reused. */
guint64 s4g_process_start_time(gint64 pid);

G_END_DECLS
