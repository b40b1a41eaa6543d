/* s4g-csv.c — RFC 4180 CSV reading (streamed line by line) and writing (s4g-csv.h). */
#include "s4g-csv.h"
#include "s4g-geo.h"

#include <math.h>
#include <string.h>

struct S4gCsvReader {
    GDataInputStream *in;
    char *name;
    guint line;        /* lines read so far */
    guint record_line; /* where the record last returned starts */
    GPtrArray *fields; /* char *, NULL-terminated */
    GString *field;
};

S4gCsvReader *s4g_csv_reader_new(GInputStream *in, const char *name)
{
    S4gCsvReader *r = g_new0(S4gCsvReader, 1);
    r->in = g_data_input_stream_new(in);
    g_data_input_stream_set_newline_type(r->in, G_DATA_STREAM_NEWLINE_TYPE_LF);
    r->name = g_strdup(name);
    r->fields = g_ptr_array_new_with_free_func(g_free);
    r->field = g_string_new(NULL);
    return r;
}

S4gCsvReader *s4g_csv_reader_open(const char *path, const char *name, GError **error)
{
    g_autoptr(GFile) f = g_file_new_for_path(path);
    g_autoptr(GError) e = NULL;
    g_autoptr(GFileInputStream) in = g_file_read(f, NULL, &e);
    if (!in) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "%s: %s", path,
                    g_error_matches(e, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ? "file not found"
                                                                          : e->message);
        return NULL;
    }
    return s4g_csv_reader_new(G_INPUT_STREAM(in), name ? name : path);
}

void s4g_csv_reader_free(S4gCsvReader *r)
{
    if (!r) return;
    g_object_unref(r->in);
    g_free(r->name);
    g_ptr_array_unref(r->fields);
    g_string_free(r->field, TRUE);
    g_free(r);
}

guint s4g_csv_reader_line(const S4gCsvReader *r)
{
    return r->record_line;
}

guint s4g_csv_reader_n_fields(const S4gCsvReader *r)
{
    return r->fields->len ? r->fields->len - 1 : 0;
}

static gboolean blank(const char *s, gsize n)
{
    for (gsize i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t') return FALSE;
    return TRUE;
}

static void push_field(S4gCsvReader *r)
{
    g_ptr_array_add(r->fields, g_strndup(r->field->str, r->field->len));
    g_string_truncate(r->field, 0);
}

char **s4g_csv_reader_next(S4gCsvReader *r, GError **error)
{
    g_ptr_array_set_size(r->fields, 0);
    g_string_truncate(r->field, 0);
    gboolean in_quotes = FALSE, closed = FALSE; /* inside a quoted field; just after one */
    for (;;) {
        gsize len = 0;
        g_autoptr(GError) e = NULL;
        g_autofree char *l = g_data_input_stream_read_line(r->in, &len, NULL, &e);
        if (!l) {
            if (e)
                g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "%s: %s", r->name,
                            e->message);
            else if (in_quotes)
                g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                            "%s:%u: column %u: a quoted field is not closed before the end of "
                            "the file",
                            r->name, r->record_line, r->fields->len + 1);
            return NULL;
        }
        r->line++;
        if (memchr(l, '\0', len)) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                        "%s:%u: binary data in a text file", r->name, r->line);
            return NULL;
        }
        const char *p = l;
        if (r->line == 1 && len >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3)) p += 3, len -= 3;
        gboolean cr = len && p[len - 1] == '\r';
        gsize n = len - cr;
        if (!in_quotes) {
            if (blank(p, n)) continue;
            r->record_line = r->line;
        }
        for (gsize i = 0; i < n; i++) {
            char c = p[i];
            if (in_quotes) {
                if (c != '"')
                    g_string_append_c(r->field, c);
                else if (i + 1 < n && p[i + 1] == '"')
                    g_string_append_c(r->field, '"'), i++;
                else
                    in_quotes = FALSE, closed = TRUE;
            } else if (c == ',') {
                push_field(r);
                closed = FALSE;
            } else if (closed) {
                g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                            "%s:%u: column %u: “%c” after the closing quote of a quoted field "
                            "(a quote inside a field is written twice)",
                            r->name, r->line, r->fields->len + 1, c);
                return NULL;
            } else if (c == '"' && r->field->len == 0) {
                in_quotes = TRUE;
            } else {
                g_string_append_c(r->field, c);
            }
        }
        if (in_quotes) {
            g_string_append(r->field, cr ? "\r\n" : "\n"); /* a line break inside the field */
            continue;
        }
        push_field(r);
        g_ptr_array_add(r->fields, NULL);
        return (char **)r->fields->pdata;
    }
}

void s4g_csv_writer_init(S4gCsvWriter *w)
{
    w->text = g_string_new(NULL);
    w->fields = 0;
}

void s4g_csv_writer_clear(S4gCsvWriter *w)
{
    if (w->text) g_string_free(g_steal_pointer(&w->text), TRUE);
}

void s4g_csv_write(S4gCsvWriter *w, const char *value)
{
    if (w->fields++) g_string_append_c(w->text, ',');
    if (!value) return;
    size_t n = strlen(value);
    gboolean quote = strpbrk(value, ",\"\r\n") != NULL ||
                     (n && (g_ascii_isspace(value[0]) || g_ascii_isspace(value[n - 1])));
    if (!quote) {
        g_string_append_len(w->text, value, (gssize)n);
        return;
    }
    g_string_append_c(w->text, '"');
    for (const char *c = value; *c; c++) {
        if (*c == '"') g_string_append_c(w->text, '"');
        g_string_append_c(w->text, *c);
    }
    g_string_append_c(w->text, '"');
}

void s4g_csv_write_double(S4gCsvWriter *w, const char *format, double value)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    s4g_csv_write(w, isfinite(value) ? g_ascii_formatd(buf, sizeof buf, format, value) : NULL);
}

void s4g_csv_write_int(S4gCsvWriter *w, gint64 value)
{
    char buf[32];
    g_snprintf(buf, sizeof buf, "%" G_GINT64_FORMAT, value);
    s4g_csv_write(w, buf);
}

void s4g_csv_end_row(S4gCsvWriter *w)
{
    g_string_append_c(w->text, '\n');
    w->fields = 0;
}

void s4g_csv_write_header(S4gCsvWriter *w, const char *names)
{
    g_auto(GStrv) v = g_strsplit(names, ",", -1);
    for (guint i = 0; v[i]; i++)
        s4g_csv_write(w, v[i]);
    s4g_csv_end_row(w);
}

gboolean s4g_csv_writer_save(const S4gCsvWriter *w, const char *path, GError **error)
{
    return g_file_set_contents(path, w->text->str, (gssize)w->text->len, error);
}
