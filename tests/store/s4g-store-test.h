/* s4g-store-test.h — helpers the store and crash tests share: a fresh project folder and one
 * number read back with SQL. */
#pragma once

#include "s4g-store-private.h"

/* A new empty folder under the temporary directory (the caller frees the path). */
static inline char *tmp_project(void)
{
    g_autoptr(GError) error = NULL;
    char *dir = g_dir_make_tmp("s4g-store-XXXXXX", &error);
    g_assert_no_error(error);
    return dir;
}

/* The first column of the first row of `sql` as an integer (the query must return a row). */
static inline gint64 count(S4gStore *s, const char *sql)
{
    g_autoptr(sqlite3_stmt) st = s4g_store_prepare(s, sql, NULL);
    g_assert_nonnull(st);
    g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
    return sqlite3_column_int64(st, 0);
}
