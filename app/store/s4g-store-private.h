/* s4g-store-private.h — the SQLite handle and statement helpers of the project database, for
 * the table-family files of app/store (and for tests that inspect the database).  Nothing
 * outside app/store includes it: the rest of the program reaches the schema only through the
 * typed queries of s4g-store-<family>.h (a test greps the source tree for that). */
#pragma once

#include "s4g-store.h"

#include <sqlite3.h>

G_BEGIN_DECLS

sqlite3 *s4g_store_db(S4gStore *store);
/* Runs SQL with no result rows; error names the statement. */
gboolean s4g_store_exec(S4gStore *store, const char *sql, GError **error);
/* Prepares a statement; error names it. */
sqlite3_stmt *s4g_store_prepare(S4gStore *store, const char *sql, GError **error);
/* Sets *error from the database's last error, prefixed by `what`; returns FALSE. */
gboolean s4g_store_fail(S4gStore *store, const char *what, GError **error);
/* Sets a NOT_FOUND error; returns FALSE. */
gboolean s4g_store_not_found(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Steps a statement that returns no rows; FALSE (error names `what`) unless done. */
gboolean s4g_store_step_done(S4gStore *store, sqlite3_stmt *st, const char *what, GError **error);

/* Column i as a new string (NULL for NULL) or as a double (NAN for NULL). */
char *s4g_store_col_text(sqlite3_stmt *st, int i);
double s4g_store_col_real(sqlite3_stmt *st, int i);
/* Binds id (0 or less = NULL), v (NaN = NULL). */
void s4g_store_bind_id(sqlite3_stmt *st, int i, gint64 id);
void s4g_store_bind_real(sqlite3_stmt *st, int i, double v);
/* Binds t (NULL = NULL) as a transient copy. */
void s4g_store_bind_text(sqlite3_stmt *st, int i, const char *t);

typedef void (*S4gStoreReadRow)(sqlite3_stmt *st, gpointer out);
/* Steps st to its end, reading each row with read into a new array of elt-sized items
 * (freed with clear).  NULL with an error about `what` ("listing images") on failure. */
/* The first column of every row as a NULL-ended string vector (g_strfreev). */
char **s4g_store_read_strings(S4gStore *store, sqlite3_stmt *st, const char *what, GError **error);
GArray *s4g_store_read_rows(S4gStore *store, sqlite3_stmt *st, gsize elt, GDestroyNotify clear,
                            S4gStoreReadRow read, const char *what, GError **error);
/* Steps st once: 1 with the row read into out, 0 when there is none (error unset: the caller
 * names what was not found), -1 with an error about `what` when the query failed. */
int s4g_store_read_one(S4gStore *store, sqlite3_stmt *st, S4gStoreReadRow read, gpointer out,
                       const char *what, GError **error);

/* Reads an S4gStoreHit (s4g-store-datasets.h) from the columns rank, image, dataset root,
 * path, score, lat, lon. */
void s4g_store_read_hit(sqlite3_stmt *st, gpointer out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(sqlite3_stmt, sqlite3_finalize)

G_END_DECLS
