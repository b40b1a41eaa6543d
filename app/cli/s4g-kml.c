/* s4g-kml.c — predictions as KML 2.2 (s4g-kml.h). */
#include "s4g-kml.h"

#include <math.h>

/* text as XML character data: valid UTF-8, the C0 controls XML 1.0 forbids replaced by
 * U+FFFD, markup escaped. */
static void text(GString *kml, const char *t)
{
    g_autofree char *valid = g_utf8_make_valid(t ? t : "", -1);
    g_autoptr(GString) clean = g_string_new(NULL);
    for (const char *c = valid; *c; c++) {
        if ((unsigned char)*c < 0x20 && *c != '\t' && *c != '\n' && *c != '\r')
            g_string_append(clean, "\xEF\xBF\xBD");
        else
            g_string_append_c(clean, *c);
    }
    g_autofree char *esc = g_markup_escape_text(clean->str, -1);
    g_string_append(kml, esc);
}

static void data(GString *kml, const char *name, const char *value)
{
    g_string_append_printf(kml, "        <Data name=\"%s\"><value>", name);
    text(kml, value);
    g_string_append(kml, "</value></Data>\n");
}

static void data_num(GString *kml, const char *name, const char *format, double v)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    if (isfinite(v)) data(kml, name, g_ascii_formatd(buf, sizeof buf, format, v));
}

/* Opens a Placemark named `name` with a style; ExtendedData follows, then placemark_end. */
static void placemark_begin(GString *kml, const char *name, const char *style)
{
    g_string_append(kml, "    <Placemark>\n      <name>");
    text(kml, name);
    g_string_append_printf(kml, "</name>\n      <styleUrl>#%s</styleUrl>\n      <ExtendedData>\n",
                           style);
}

static void placemark_end(GString *kml, double lat, double lon)
{
    char a[G_ASCII_DTOSTR_BUF_SIZE], b[G_ASCII_DTOSTR_BUF_SIZE];
    g_string_append_printf(kml,
                           "      </ExtendedData>\n      <Point><coordinates>%s,%s</coordinates>"
                           "</Point>\n    </Placemark>\n",
                           g_ascii_formatd(a, sizeof a, "%.7f", lon),
                           g_ascii_formatd(b, sizeof b, "%.7f", lat));
}

static void style(GString *kml, const char *id, const char *colour, double scale)
{
    char s[G_ASCII_DTOSTR_BUF_SIZE];
    g_string_append_printf(kml,
                           "  <Style id=\"%s\"><IconStyle><color>%s</color><scale>%s</scale>"
                           "</IconStyle></Style>\n",
                           id, colour, g_ascii_formatd(s, sizeof s, "%.1f", scale));
}

void s4g_kml_begin(GString *kml, const char *title)
{
    g_string_append(kml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                         "<kml xmlns=\"http://www.opengis.net/kml/2.2\">\n<Document>\n  <name>");
    text(kml, title);
    g_string_append(kml, "</name>\n");
    /* KML colours are aabbggrr */
    style(kml, "estimate", "ff0000ff", 1.2); /* red */
    style(kml, "truth", "ff00ff00", 1.2);    /* green */
    style(kml, "candidate", "ffffaa00", 0.7); /* blue */
}

void s4g_kml_add(GString *kml, const S4gKmlPrediction *p)
{
    g_string_append(kml, "  <Folder>\n    <name>");
    text(kml, p->photo);
    g_string_append(kml, "</name>\n");
    if (isfinite(p->lat) && isfinite(p->lon)) {
        placemark_begin(kml, "estimate", "estimate");
        data(kml, "image", p->photo);
        if (p->gallery) data(kml, "gallery", p->gallery);
        data_num(kml, "confidence", "%.4f", p->confidence);
        data_num(kml, "error_m", "%.1f", p->error_m);
        placemark_end(kml, p->lat, p->lon);
    }
    if (isfinite(p->true_lat) && isfinite(p->true_lon)) {
        placemark_begin(kml, "truth", "truth");
        data(kml, "image", p->photo);
        placemark_end(kml, p->true_lat, p->true_lon);
    }
    for (guint i = 0; i < p->k; i++) {
        const S4gKmlCandidate *c = &p->top[i];
        if (!isfinite(c->lat) || !isfinite(c->lon)) continue;
        g_autofree char *name = g_strdup_printf("top %u", i + 1);
        placemark_begin(kml, name, "candidate");
        data_num(kml, "rank", "%.0f", i + 1);
        data(kml, "tile", c->path);
        data_num(kml, "score", "%.5f", c->score);
        placemark_end(kml, c->lat, c->lon);
    }
    g_string_append(kml, "  </Folder>\n");
}

void s4g_kml_end(GString *kml)
{
    g_string_append(kml, "</Document>\n</kml>\n");
}
