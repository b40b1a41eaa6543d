/* s4g-store.c — opening a project, migrations, transactions. */
#include "s4g-store.h"
#include "s4g-store-private.h"

#include "s4g-store-locks.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct _S4gStore {
    sqlite3 *db;
    char *dir;
    gint64 busy_since, busy_told; /* on_busy's wait */
    gint64 busy_limit_us;         /* < 0: wait as long as it takes */
    gboolean gave_up;             /* on_busy stopped waiting (busy_limit_us) */
};

G_DEFINE_QUARK(s4g-store-error-quark, s4g_store_error)

/* Migration N takes the database from user_version N-1 to N.  Never edit a shipped
 * migration: add a new one. */
static const char *const migrations[] = {
    /* 1: the schema of architecture.md §4.1 */
    "CREATE TABLE datasets ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  kind TEXT NOT NULL CHECK (kind IN ('cvusa','cvact','vigor','university','photos','synthetic')),"
    "  root TEXT NOT NULL,"
    "  options TEXT NOT NULL DEFAULT '{}',"
    "  created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')));"
    "CREATE TABLE images ("
    "  id INTEGER PRIMARY KEY,"
    "  dataset INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,"
    "  view TEXT NOT NULL CHECK (view IN ('ground','satellite','drone')),"
    "  path TEXT NOT NULL,"
    "  split TEXT NOT NULL,"
    "  identity INTEGER,"          /* the dataset's own label/identity, -1 if none */
    "  lat REAL, lon REAL,"
    "  width INTEGER, height INTEGER,"
    "  UNIQUE (dataset, view, path, split));"
    "CREATE INDEX images_dataset_split ON images(dataset, split, view);"
    "CREATE TABLE pairs ("
    "  id INTEGER PRIMARY KEY,"
    "  dataset INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,"
    "  ground INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  satellite INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  relation TEXT NOT NULL CHECK (relation IN ('positive','semi-positive')),"
    "  split TEXT NOT NULL,"
    "  dx REAL, dy REAL,"          /* pixel offset of the ground location from the tile centre */
    "  UNIQUE (ground, satellite));"
    "CREATE INDEX pairs_dataset_split ON pairs(dataset, split, relation);"
    "CREATE INDEX pairs_satellite ON pairs(satellite);"
    "CREATE TABLE models ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  architecture TEXT NOT NULL,"  /* JSON: {"depths":[..],"dims":[..],"input":{..}} */
    "  weights TEXT NOT NULL,"       /* path relative to the project folder */
    "  parent INTEGER REFERENCES models(id) ON DELETE SET NULL,"
    "  created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')));"
    "CREATE TABLE runs ("
    "  id INTEGER PRIMARY KEY,"
    "  model INTEGER REFERENCES models(id) ON DELETE SET NULL,"
    "  dataset INTEGER REFERENCES datasets(id) ON DELETE SET NULL,"
    "  config TEXT NOT NULL DEFAULT '{}',"
    "  state TEXT NOT NULL CHECK (state IN ('queued','running','stopped','failed','done')),"
    "  checkpoint TEXT,"
    "  pid INTEGER,"
    "  started TEXT, finished TEXT, message TEXT);"
    "CREATE TABLE metrics ("
    "  run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  step INTEGER NOT NULL, epoch REAL NOT NULL,"
    "  loss REAL, lr REAL, logit_scale REAL, images_per_s REAL, wall REAL,"
    "  PRIMARY KEY (run, step));"
    "CREATE TABLE evaluations ("
    "  id INTEGER PRIMARY KEY,"
    "  model INTEGER REFERENCES models(id) ON DELETE CASCADE,"
    "  run INTEGER REFERENCES runs(id) ON DELETE SET NULL,"
    "  dataset INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,"
    "  split TEXT NOT NULL, epoch INTEGER,"
    "  r1 REAL, r5 REAL, r10 REAL, r1pct REAL, hit_rate REAL, ap REAL,"
    "  queries INTEGER, refs INTEGER,"
    "  created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')));"
    "CREATE TABLE embeddings ("
    "  model INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,"
    "  image INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  dim INTEGER NOT NULL, dtype TEXT NOT NULL CHECK (dtype IN ('f32','f16')),"
    "  normalized INTEGER NOT NULL,"
    "  vector BLOB NOT NULL,"
    "  PRIMARY KEY (model, image));"
    "CREATE TABLE mining_runs ("
    "  id INTEGER PRIMARY KEY,"
    "  kind TEXT NOT NULL CHECK (kind IN ('gps','dss')),"
    "  model INTEGER REFERENCES models(id) ON DELETE SET NULL,"
    "  run INTEGER REFERENCES runs(id) ON DELETE SET NULL,"
    "  dataset INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,"
    "  epoch INTEGER,"
    "  parameters TEXT NOT NULL DEFAULT '{}',"
    "  created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')));"
    "CREATE TABLE hard_negatives ("
    "  mining_run INTEGER NOT NULL REFERENCES mining_runs(id) ON DELETE CASCADE,"
    "  anchor INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  rank INTEGER NOT NULL,"
    "  negative INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  score REAL,"                /* similarity (dss) or distance in metres (gps) */
    "  PRIMARY KEY (mining_run, anchor, rank));"
    "CREATE TABLE predictions ("
    "  model INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,"
    "  image INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  gallery TEXT NOT NULL DEFAULT '',"
    "  rank INTEGER NOT NULL,"
    "  reference INTEGER REFERENCES images(id) ON DELETE CASCADE,"
    "  score REAL, lat REAL, lon REAL,"
    "  PRIMARY KEY (model, image, gallery, rank));"
    "CREATE TABLE annotations ("
    "  id INTEGER PRIMARY KEY,"
    "  image INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,"
    "  lat REAL, lon REAL,"
    "  flag TEXT NOT NULL CHECK (flag IN ('bad-pair','wrong-location','ok','location')),"
    "  note TEXT NOT NULL DEFAULT '',"
    "  state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open','resolved')),"
    "  created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')));"
    "CREATE INDEX annotations_image ON annotations(image);",
    /* 2: projected coordinates of images (CVACT ships UTM metres, not lat/lon) */
    "ALTER TABLE images ADD COLUMN x REAL;"
    "ALTER TABLE images ADD COLUMN y REAL;",
    /* 3: where an imported model's weights came from (s4g model import) */
    "ALTER TABLE models ADD COLUMN source TEXT;"  /* the file imported, as given */
    "ALTER TABLE models ADD COLUMN sha256 TEXT;", /* of that file's bytes */
    /* 4: runs may be `interrupted` (their process ended without finishing).  SQLite cannot
     * change a CHECK, so the table is rebuilt (foreign keys are off while migrating). */
    "CREATE TABLE runs_new ("
    "  id INTEGER PRIMARY KEY,"
    "  model INTEGER REFERENCES models(id) ON DELETE SET NULL,"
    "  dataset INTEGER REFERENCES datasets(id) ON DELETE SET NULL,"
    "  config TEXT NOT NULL DEFAULT '{}',"
    "  state TEXT NOT NULL CHECK (state IN ('queued','running','stopped','failed','done',"
    "                                       'interrupted')),"
    "  checkpoint TEXT,"
    "  pid INTEGER,"
    "  started TEXT, finished TEXT, message TEXT);"
    "INSERT INTO runs_new SELECT id, model, dataset, config, state, checkpoint, pid, started, "
    "  finished, message FROM runs;"
    "DROP TABLE runs;"
    "ALTER TABLE runs_new RENAME TO runs;",
};

int s4g_store_latest_version(void)
{
    return (int)G_N_ELEMENTS(migrations);
}

gboolean s4g_store_fail(S4gStore *store, const char *what, GError **error)
{
    g_set_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_SQL, "%s: %s: %s", store->dir, what,
                sqlite3_errmsg(store->db));
    return FALSE;
}

gboolean s4g_store_exec(S4gStore *store, const char *sql, GError **error)
{
    char *msg = NULL;
    if (sqlite3_exec(store->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        g_set_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_SQL, "%s: %.80s…: %s", store->dir,
                    sql, msg ? msg : sqlite3_errmsg(store->db));
        sqlite3_free(msg);
        return FALSE;
    }
    return TRUE;
}

sqlite3_stmt *s4g_store_prepare(S4gStore *store, const char *sql, GError **error)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(store->db, sql, -1, &st, NULL) != SQLITE_OK) {
        g_set_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_SQL, "%s: preparing “%.80s”: %s",
                    store->dir, sql, sqlite3_errmsg(store->db));
        return NULL;
    }
    return st;
}

gboolean s4g_store_begin(S4gStore *store, GError **error)
{
    return s4g_store_exec(store, "BEGIN IMMEDIATE", error);
}

gboolean s4g_store_commit(S4gStore *store, GError **error)
{
    return s4g_store_exec(store, "COMMIT", error);
}

void s4g_store_rollback(S4gStore *store)
{
    if (!sqlite3_get_autocommit(store->db))
        sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
}

int s4g_store_schema_version(S4gStore *store)
{
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_prepare_v2(store->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Each step reads the version and applies the next migration inside one BEGIN IMMEDIATE
 * transaction, so processes opening a new project at the same time take turns: the first
 * migrates, the others find the version already bumped.  A database already at the latest
 * version (read in a read transaction: the version only grows) needs no write lock, so
 * opening it never waits for another process's writing. */
static gboolean migrate(S4gStore *store, GError **error)
{
    int want = s4g_store_latest_version();
    if (s4g_store_schema_version(store) == want) return TRUE;
    for (;;) {
        if (!s4g_store_begin(store, error)) return FALSE;
        int have = s4g_store_schema_version(store);
        if (have > want) {
            s4g_store_rollback(store);
            g_set_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_VERSION,
                        "%s: database schema version %d is newer than this program (%d); "
                        "upgrade Sample4Geo Studio",
                        store->dir, have, want);
            return FALSE;
        }
        if (have < 0 || have == want) {
            s4g_store_rollback(store);
            if (have < 0) return s4g_store_fail(store, "reading the schema version", error);
            return TRUE;
        }
        /* The migration and its version bump commit together, or not at all. */
        g_autofree char *bump = g_strdup_printf("PRAGMA user_version = %d", have + 1);
        if (!s4g_store_exec(store, migrations[have], error) ||
            !s4g_store_exec(store, bump, error)) {
            s4g_store_rollback(store);
            g_prefix_error(error, "migration %d: ", have + 1);
            return FALSE;
        }
        if (!s4g_store_commit(store, error)) return FALSE;
    }
}

/* Switches a new database to WAL.  The switch needs the database to itself, and SQLite answers
 * SQLITE_BUSY at once, without the busy handler, when another process opening the same new
 * project at the same moment holds a lock (the handler would deadlock there): so it is retried
 * until the others are through — the first one to succeed makes it WAL for everybody. */
static gboolean set_wal(S4gStore *store, GError **error)
{
    for (int attempt = 0;; attempt++) {
        int rc = sqlite3_exec(store->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
        if (rc == SQLITE_OK) return TRUE;
        gboolean bounded = store->busy_limit_us >= 0 && attempt * 5000 >= store->busy_limit_us;
        if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || attempt >= 6000 || bounded) {
            store->gave_up = rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
            return s4g_store_exec(store, "PRAGMA journal_mode=WAL", error); /* names the error */
        }
        g_usleep(5000);
    }
}

/* SQLite's busy handler: another connection holds the write lock.  Waits as long as it takes
 * (a long import or training step is no error), sleeping up to 100 ms per try, and says so
 * on a terminal every 5 s. */
static int on_busy(void *data, int count)
{
    S4gStore *store = data;
    gint64 now = g_get_monotonic_time();
    if (count == 0) store->busy_since = now, store->gave_up = FALSE;
    if (store->busy_limit_us >= 0 && now - store->busy_since >= store->busy_limit_us) {
        store->gave_up = TRUE;
        return 0;
    }
    g_usleep(MIN(100, 1 + count) * 1000);
    gint64 waited = (now - store->busy_since) / G_USEC_PER_SEC;
    if (waited >= 5 && waited / 5 != store->busy_told && isatty(STDERR_FILENO)) {
        store->busy_told = waited / 5;
        fprintf(stderr, "%s: waiting for another process to finish writing (%" G_GINT64_FORMAT
                " s)\n", store->dir, waited);
    }
    return 1;
}

S4gStore *s4g_store_open(const char *dir, gboolean create, GError **error)
{
    return s4g_store_open_within(dir, create, -1, error);
}

S4gStore *s4g_store_open_within(const char *dir, gboolean create, gint64 max_wait_ms,
                                GError **error)
{
    g_return_val_if_fail(dir != NULL, NULL);
    g_autofree char *path = g_build_filename(dir, "project.s4g", NULL);
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        if (!create) {
            g_set_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_NOT_FOUND,
                        "%s: not a Sample4Geo project (no project.s4g); create one with "
                        "s4g import --project %s …",
                        dir, dir);
            return NULL;
        }
        const char *subs[] = {"", "models", "tiles"};
        for (guint i = 0; i < G_N_ELEMENTS(subs); i++) {
            g_autofree char *d = g_build_filename(dir, subs[i], NULL);
            if (g_mkdir_with_parents(d, 0755) != 0) {
                g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                            "%s: cannot create folder: %s", d, g_strerror(errno));
                return NULL;
            }
        }
    }
    S4gStore *store = g_new0(S4gStore, 1);
    store->dir = g_strdup(dir);
    store->busy_limit_us = max_wait_ms < 0 ? -1 : max_wait_ms * 1000;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &store->db, flags, NULL) != SQLITE_OK) {
        g_set_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_SQL, "%s: %s", path,
                    store->db ? sqlite3_errmsg(store->db) : "cannot open");
        s4g_store_close(store);
        return NULL;
    }
    sqlite3_busy_handler(store->db, on_busy, store);
    /* foreign keys are switched on after migrating: a migration that rebuilds a table must
     * not cascade its implicit DELETE into the tables that refer to it */
    if (!set_wal(store, error) ||
        !s4g_store_exec(store, "PRAGMA synchronous=NORMAL", error) || !migrate(store, error) ||
        !s4g_store_exec(store, "PRAGMA foreign_keys=ON", error) ||
        !s4g_store_sweep(store, NULL, NULL, error)) {
        if (store->gave_up) {
            g_clear_error(error);
            g_set_error(error, S4G_STORE_ERROR, S4G_STORE_ERROR_BUSY,
                        "%s: busy: another process is writing the project", dir);
        }
        s4g_store_close(store);
        return NULL;
    }
    return store;
}

void s4g_store_close(S4gStore *store)
{
    if (!store)
        return;
    sqlite3_close_v2(store->db);
    g_free(store->dir);
    g_free(store);
}

sqlite3 *s4g_store_db(S4gStore *store)
{
    return store->db;
}

const char *s4g_store_dir(S4gStore *store)
{
    return store->dir;
}

char *s4g_store_models_dir(S4gStore *store)
{
    return g_build_filename(store->dir, "models", NULL);
}

char *s4g_store_tiles_dir(S4gStore *store)
{
    return g_build_filename(store->dir, "tiles", NULL);
}

gboolean s4g_store_not_found(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, S4G_STORE_ERROR, S4G_STORE_ERROR_NOT_FOUND, msg);
    return FALSE;
}

gboolean s4g_store_step_done(S4gStore *store, sqlite3_stmt *st, const char *what, GError **error)
{
    if (sqlite3_step(st) != SQLITE_DONE) return s4g_store_fail(store, what, error);
    return TRUE;
}

char *s4g_store_col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? g_strdup((const char *)t) : NULL;
}

double s4g_store_col_real(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

void s4g_store_bind_id(sqlite3_stmt *st, int i, gint64 id)
{
    if (id > 0)
        sqlite3_bind_int64(st, i, id);
    else
        sqlite3_bind_null(st, i);
}

void s4g_store_bind_real(sqlite3_stmt *st, int i, double v)
{
    if (isnan(v))
        sqlite3_bind_null(st, i);
    else
        sqlite3_bind_double(st, i, v);
}

void s4g_store_bind_text(sqlite3_stmt *st, int i, const char *t)
{
    if (t)
        sqlite3_bind_text(st, i, t, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* Steps st to its end, reading each row with read into a new array of elt-sized items
 * (freed with clear).  NULL with an error about `what` ("listing images") on failure. */
GArray *s4g_store_read_rows(S4gStore *store, sqlite3_stmt *st, gsize elt, GDestroyNotify clear,
                            S4gStoreReadRow read, const char *what, GError **error)
{
    GArray *out = g_array_new(FALSE, TRUE, elt);
    g_array_set_clear_func(out, clear);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        g_array_set_size(out, out->len + 1);
        read(st, out->data + (gsize)(out->len - 1) * elt);
    }
    if (rc != SQLITE_DONE) {
        g_array_unref(out);
        s4g_store_fail(store, what, error);
        return NULL;
    }
    return out;
}

/* Steps st once: 1 with the row read into out, 0 when there is none (error unset: the caller
 * names what was not found), -1 with an error about `what` when the query failed. */
int s4g_store_read_one(S4gStore *store, sqlite3_stmt *st, S4gStoreReadRow read, gpointer out,
                       const char *what, GError **error)
{
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        read(st, out);
        return 1;
    }
    if (rc != SQLITE_DONE) {
        s4g_store_fail(store, what, error);
        return -1;
    }
    return 0;
}
