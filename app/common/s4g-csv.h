/* s4g-csv.h — CSV as RFC 4180 has it, read and written by one module for every CSV of the app
 * (the dataset readers' split and location files, predict's and export's CSVs, the demo's
 * held-out lists).  Fields are separated by commas; a field holding a comma, a double quote,
 * CR or LF (or leading/trailing spaces) is written in double quotes with its quotes doubled.
 *
 * Reading streams the input one line at a time (a quoted field may span lines: its line
 * breaks are kept as they are, CRLF included); records may end in LF or CRLF; a UTF-8 byte
 * order mark at the start is skipped; lines that are empty or hold only blanks are skipped.
 * Errors are S4G_GEO_ERROR_PARSE naming the input, its line and the column: a quoted field
 * still open at the end of the input, text between a closing quote and the next comma,
 * a NUL byte (binary data); S4G_GEO_ERROR_IO for a file that cannot be read.
 *
 * Writing appends to a GString: records end in LF (RFC 4180's CRLF is accepted on reading
 * by this module and by every common reader). */
#pragma once

#include <gio/gio.h>
#include <glib.h>

G_BEGIN_DECLS

typedef struct S4gCsvReader S4gCsvReader;

/* Reads records from in (taken: a reference is added); name is what errors call it. */
S4gCsvReader *s4g_csv_reader_new(GInputStream *in, const char *name);
/* Opens the file path; errors call it name (path when NULL).  "PATH: file not found" when
 * it does not exist. */
S4gCsvReader *s4g_csv_reader_open(const char *path, const char *name, GError **error);
void s4g_csv_reader_free(S4gCsvReader *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(S4gCsvReader, s4g_csv_reader_free)

/* The next record's fields, NULL-terminated, owned by r and valid until the next call (the
 * strings may be changed in place, e.g. g_strstrip); NULL at the end of the input (error
 * not set) or on an error. */
char **s4g_csv_reader_next(S4gCsvReader *r, GError **error);
/* The 1-based line on which the record last returned starts. */
guint s4g_csv_reader_line(const S4gCsvReader *r);
/* How many fields the record last returned has. */
guint s4g_csv_reader_n_fields(const S4gCsvReader *r);

/* A CSV being written: rows of fields appended to text. */
typedef struct {
    GString *text;
    guint fields; /* fields in the row being written */
} S4gCsvWriter;

void s4g_csv_writer_init(S4gCsvWriter *w);
void s4g_csv_writer_clear(S4gCsvWriter *w);
/* One field, quoted when it must be; NULL is an empty field. */
void s4g_csv_write(S4gCsvWriter *w, const char *value);
/* A number formatted with printf format `format` in the C locale (g_ascii_formatd, e.g.
 * "%.7f"); an empty field when it is NaN or infinite. */
void s4g_csv_write_double(S4gCsvWriter *w, const char *format, double value);
void s4g_csv_write_int(S4gCsvWriter *w, gint64 value);
/* Ends the row. */
void s4g_csv_end_row(S4gCsvWriter *w);
/* A header row: names separated by commas ("image,lat,lon"). */
void s4g_csv_write_header(S4gCsvWriter *w, const char *names);
/* Writes the text to path (g_file_set_contents). */
gboolean s4g_csv_writer_save(const S4gCsvWriter *w, const char *path, GError **error);

G_END_DECLS
