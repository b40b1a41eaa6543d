/* s4g-store.h — the project database: a project is a folder holding project.s4g (SQLite,
 * WAL), models/ and tiles/.  This module opens/creates it, applies numbered migrations keyed
 * by PRAGMA user_version, and offers transactions.  Typed access for each table family lives
 * in its own file (s4g-store-<table>.c) with its own header; the SQLite handle and statements
 * stay inside app/store (s4g-store-private.h). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define S4G_STORE_ERROR (s4g_store_error_quark())
GQuark s4g_store_error_quark(void);

typedef enum {
    S4G_STORE_ERROR_NOT_FOUND,  /* no project at that path, or no such row */
    S4G_STORE_ERROR_SQL,        /* SQLite reported an error (message names the statement) */
    S4G_STORE_ERROR_VERSION,    /* database is newer than this program */
    S4G_STORE_ERROR_INVALID,    /* bad argument or inconsistent data */
    S4G_STORE_ERROR_BUSY,       /* another process held the write lock longer than the
                                 * caller would wait (s4g_store_open_within) */
} S4gStoreError;

typedef struct _S4gStore S4gStore;

/* Opens the project folder `dir`.  With `create`, makes the folder, models/ and tiles/ and a
 * fresh database if absent; without it, a folder lacking project.s4g is an error. */
S4gStore *s4g_store_open(const char *dir, gboolean create, GError **error);
/* s4g_store_open waiting at most max_wait_ms for another process's write lock (the opening
 * migrates and sweeps, which writes), then failing with S4G_STORE_ERROR_BUSY; the handle
 * keeps that bound for its later writes.  For a caller that must not block (the Studio's main
 * thread); s4g_store_open waits as long as it takes. */
S4gStore *s4g_store_open_within(const char *dir, gboolean create, gint64 max_wait_ms,
                                GError **error);
void s4g_store_close(S4gStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(S4gStore, s4g_store_close)

const char *s4g_store_dir(S4gStore *store);
/* <project>/models and <project>/tiles */
char *s4g_store_models_dir(S4gStore *store);
char *s4g_store_tiles_dir(S4gStore *store);
int s4g_store_schema_version(S4gStore *store);
/* The newest migration this program knows. */
int s4g_store_latest_version(void);

/* Transactions (BEGIN IMMEDIATE, so a concurrent writer waits in the busy handler, as long
 * as the other writer takes, with progress on a terminal every 5 s). */
gboolean s4g_store_begin(S4gStore *store, GError **error);
gboolean s4g_store_commit(S4gStore *store, GError **error);
void s4g_store_rollback(S4gStore *store);

G_END_DECLS
