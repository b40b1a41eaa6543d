/* s4g-store-locks.c — run locks beside the database and the sweep on open (s4g-store-locks.h). */
#include "s4g-store-locks.h"
#include "s4g-store-runs.h"
#include "s4g-store-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct _S4gRunLock {
    int fd;
};

guint64 s4g_process_start_time(gint64 pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%" G_GINT64_FORMAT "/stat", pid);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL)) return 0;
    /* the command name (field 2) is in parentheses and may hold spaces: count from the last ')' */
    const char *p = strrchr(text, ')');
    if (!p) return 0;
    p++;
    for (int field = 2; field < 22 && *p; field++) {
        while (*p == ' ') p++;
        while (*p && *p != ' ') p++;
    }
    return g_ascii_strtoull(p, NULL, 10);
}

static char *lock_path(S4gStore *store, gint64 run, gboolean make_dir)
{
    g_autofree char *dir = g_build_filename(s4g_store_dir(store), ".locks", NULL);
    if (make_dir) g_mkdir_with_parents(dir, 0755);
    g_autofree char *name = g_strdup_printf("run-%" G_GINT64_FORMAT ".lock", run);
    return g_build_filename(dir, name, NULL);
}

/* The pid a lock file records ("pid start-time\n"), 0 when unreadable. */
static gint64 recorded_pid(int fd)
{
    char buf[64] = {0};
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    return n > 0 ? g_ascii_strtoll(buf, NULL, 10) : 0;
}

S4gRunLock *s4g_run_lock_take(S4gStore *store, gint64 run, GError **error)
{
    g_autofree char *path = lock_path(store, run, TRUE);
    int fd = g_open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: cannot open: %s",
                    path, g_strerror(errno));
        return NULL;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        gint64 owner = recorded_pid(fd);
        close(fd);
        if (e == EWOULDBLOCK)
            g_set_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_INVALID,
                        "run %" G_GINT64_FORMAT " is running in process %" G_GINT64_FORMAT
                        " (%s is held)",
                        run, owner, path);
        else
            g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "%s: cannot lock: %s",
                        path, g_strerror(e));
        return NULL;
    }
    gint64 pid = getpid();
    g_autofree char *rec =
        g_strdup_printf("%" G_GINT64_FORMAT " %" G_GUINT64_FORMAT "\n", pid,
                        s4g_process_start_time(pid));
    if (ftruncate(fd, 0) != 0 || pwrite(fd, rec, strlen(rec), 0) != (ssize_t)strlen(rec)) {
        int e = errno;
        close(fd);
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(e), "%s: cannot write: %s",
                    path, g_strerror(e));
        return NULL;
    }
    S4gRunLock *lock = g_new(S4gRunLock, 1);
    lock->fd = fd;
    return lock;
}

void s4g_run_lock_release(S4gRunLock *lock)
{
    if (!lock) return;
    close(lock->fd); /* closing the only descriptor drops the flock */
    g_free(lock);
}

/* -1: no lock file; 0: free; 1: held (*pid = its recorded owner).  When free and keep_fd is
 * given, the lock stays taken on *keep_fd for the caller to close. */
static int probe(S4gStore *store, gint64 run, gint64 *pid, int *keep_fd)
{
    g_autofree char *path = lock_path(store, run, FALSE);
    int fd = g_open(path, O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (pid) *pid = recorded_pid(fd);
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return 1;
    }
    if (keep_fd)
        *keep_fd = fd;
    else
        close(fd);
    return 0;
}

gboolean s4g_run_lock_held(S4gStore *store, gint64 run, gint64 *pid)
{
    return probe(store, run, pid, NULL) == 1;
}

static gboolean pid_alive(gint64 pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

/* Removes a flat folder (its files, then itself); whether it is gone. */
static gboolean remove_flat(const char *dir)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    for (const char *n; d && (n = g_dir_read_name(d));) {
        g_autofree char *f = g_build_filename(dir, n, NULL);
        g_unlink(f);
    }
    return g_rmdir(dir) == 0;
}

/* Removes NAME.tmp-PID files (and flat folders: a gallery's cut) in dir whose PID holds no run
 * lock and is not alive. */
static guint sweep_tmp(const char *dir, GHashTable *held)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    if (!d) return 0;
    guint n = 0;
    const char *name;
    while ((name = g_dir_read_name(d))) {
        const char *t = g_strrstr(name, ".tmp-");
        if (!t || !t[5]) continue;
        char *end = NULL;
        gint64 pid = g_ascii_strtoll(t + 5, &end, 10);
        if (*end || pid <= 0 || pid == getpid()) continue;
        if (g_hash_table_contains(held, &pid) || pid_alive(pid)) continue;
        g_autofree char *path = g_build_filename(dir, name, NULL);
        if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK))
            n += remove_flat(path);
        else if (g_unlink(path) == 0)
            n++;
    }
    return n;
}

/* Names of galleries/ folders that no dataset's root is (a root ends in galleries/NAME). */
static GPtrArray *unrecorded_galleries(S4gStore *store, const char *galleries, GError **error)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) gd = g_dir_open(galleries, 0, NULL);
    if (!gd) return out;
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(
        store, "SELECT 1 FROM datasets WHERE root LIKE '%/galleries/' || ? ESCAPE '\\' "
               "OR root = 'galleries/' || ?", error);
    if (!st) {
        g_ptr_array_unref(out);
        return NULL;
    }
    for (const char *name; (name = g_dir_read_name(gd));) {
        g_autofree char *d = g_build_filename(galleries, name, NULL);
        if (strstr(name, ".tmp-") || !g_file_test(d, G_FILE_TEST_IS_DIR) ||
            g_file_test(d, G_FILE_TEST_IS_SYMLINK))
            continue;
        g_autoptr(GString) esc = g_string_new(NULL);
        for (const char *c = name; *c; c++) {
            if (*c == '%' || *c == '_' || *c == '\\') g_string_append_c(esc, '\\');
            g_string_append_c(esc, *c);
        }
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, esc->str, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            g_ptr_array_add(out, g_strdup(name));
        else if (rc != SQLITE_ROW) {
            s4g_store_fail(store, "looking up galleries", error);
            g_ptr_array_unref(out);
            return NULL;
        }
    }
    return out;
}

/* A gallery's cut is renamed to galleries/NAME inside the write transaction that records it
 * (cmd-gallery.c): a folder there that no dataset refers to, seen while this process holds the
 * write lock, was left by a process killed between the rename and COMMIT.  Only flat folders
 * of PNG patches are removed. */
static gboolean sweep_orphan_galleries(S4gStore *store, const char *galleries, guint *n,
                                       GError **error)
{
    *n = 0;
    g_autoptr(GPtrArray) cand = unrecorded_galleries(store, galleries, error);
    if (!cand) return FALSE;
    if (cand->len == 0) return TRUE;
    if (!s4g_store_begin(store, error)) return FALSE;
    g_autoptr(GPtrArray) sure = unrecorded_galleries(store, galleries, error);
    if (!sure) {
        s4g_store_rollback(store);
        return FALSE;
    }
    for (guint i = 0; i < sure->len; i++) {
        g_autofree char *d = g_build_filename(galleries, (char *)sure->pdata[i], NULL);
        g_autoptr(GDir) dd = g_dir_open(d, 0, NULL);
        gboolean patches = dd != NULL;
        for (const char *f; patches && (f = g_dir_read_name(dd));) {
            g_autofree char *fp = g_build_filename(d, f, NULL);
            patches = g_str_has_suffix(f, ".png") && g_file_test(fp, G_FILE_TEST_IS_REGULAR) &&
                      !g_file_test(fp, G_FILE_TEST_IS_SYMLINK);
        }
        if (patches) *n += remove_flat(d);
    }
    return s4g_store_commit(store, error);
}

gboolean s4g_store_sweep(S4gStore *store, guint *n_interrupted, guint *n_removed,
                         GError **error)
{
    g_autoptr(GPtrArray) runs = s4g_store_run_list(store, error);
    if (!runs) return FALSE;
    g_autoptr(GHashTable) held = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    guint interrupted = 0;
    for (guint i = 0; i < runs->len; i++) {
        const S4gRunRow *r = runs->pdata[i];
        gint64 owner = r->pid;
        int fd = -1;
        int state = probe(store, r->id, &owner, &fd);
        if (state == 1) {
            g_hash_table_add(held, g_memdup2(&owner, sizeof owner));
            continue;
        }
        if (r->state != S4G_RUN_RUNNING && r->state != S4G_RUN_QUEUED) {
            if (fd >= 0) close(fd);
            continue;
        }
        /* Free (or never taken): its owner is gone.  The lock stays taken while the state
         * changes, so a resuming process cannot slip in between. */
        g_autofree char *msg = g_strdup_printf(
            "interrupted: process %" G_GINT64_FORMAT " ended without finishing; resume with "
            "s4g train --resume %" G_GINT64_FORMAT,
            owner, r->id);
        gboolean changed = FALSE;
        gboolean ok = s4g_store_run_interrupt(store, r->id, msg, &changed, error);
        if (fd >= 0) close(fd);
        if (!ok) return FALSE;
        interrupted += changed;
    }
    guint removed = 0;
    const char *subs[] = {"", "models", "tiles"};
    for (guint i = 0; i < G_N_ELEMENTS(subs); i++) {
        g_autofree char *d = g_build_filename(s4g_store_dir(store), subs[i], NULL);
        removed += sweep_tmp(d, held);
    }
    /* and each gallery's patches (galleries/NAME/), the cuts (galleries/NAME.tmp-PID/) and
     * galleries a kill left renamed into place but unrecorded */
    g_autofree char *galleries = g_build_filename(s4g_store_dir(store), "galleries", NULL);
    removed += sweep_tmp(galleries, held);
    g_autoptr(GDir) gd = g_dir_open(galleries, 0, NULL);
    const char *name;
    while (gd && (name = g_dir_read_name(gd))) {
        g_autofree char *d = g_build_filename(galleries, name, NULL);
        if (g_file_test(d, G_FILE_TEST_IS_DIR)) removed += sweep_tmp(d, held);
    }
    guint orphans = 0;
    if (!sweep_orphan_galleries(store, galleries, &orphans, error)) return FALSE;
    removed += orphans;
    if (n_interrupted) *n_interrupted = interrupted;
    if (n_removed) *n_removed = removed;
    return TRUE;
}
