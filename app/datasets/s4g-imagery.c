/* s4g-imagery.c — GDAL sources read as windows of the Web-Mercator pixel grid (warped VRT). */
#include "s4g-imagery.h"
#include "s4g-mbtiles.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#ifdef S4G_HAVE_GDAL
#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_minixml.h>
#include <cpl_string.h>
#include <gdal.h>
#include <gdal_alg.h>
#include <gdal_utils.h>
#include <ogr_srs_api.h>
#endif

#define TILE 256
/* half the Web-Mercator world width, metres */
#define MERC_R 20037508.342789244

gboolean s4g_imagery_available(void)
{
#ifdef S4G_HAVE_GDAL
    return TRUE;
#else
    return FALSE;
#endif
}

gboolean s4g_imagery_parse_bounds(const char *text, double b[4])
{
    g_auto(GStrv) f = g_strsplit(text, ",", -1);
    if (g_strv_length(f) != 4) return FALSE;
    for (int i = 0; i < 4; i++) {
        char *end;
        b[i] = g_ascii_strtod(g_strstrip(f[i]), &end);
        if (end == f[i] || *end || !isfinite(b[i])) return FALSE;
    }
    return b[0] < b[2] && b[1] < b[3] && b[0] >= -180 && b[2] <= 180 && b[1] >= -85.0511 &&
           b[3] <= 85.0511;
}

GBytes *s4g_imagery_encode(const S4gImage *tile, const char *format, GError **error)
{
    if (!s4g_image_init(error)) return NULL;
    VipsImage *v = vips_image_new_from_memory(tile->data, (size_t)tile->width * tile->height * 3,
                                              tile->width, tile->height, 3, VIPS_FORMAT_UCHAR);
    void *buf = NULL;
    size_t len = 0;
    int rc = -1;
    if (v && !g_strcmp0(format, "jpg"))
        rc = vips_jpegsave_buffer(v, &buf, &len, "Q", 90, "strip", TRUE, NULL);
    else if (v)
        rc = vips_pngsave_buffer(v, &buf, &len, "compression", 6, "strip", TRUE, NULL);
    if (v) g_object_unref(v);
    if (rc != 0) {
        g_autofree char *msg = s4g_image_vips_error();
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "cannot encode a %dx%d %s tile: %s",
                    tile->width, tile->height, format, msg);
        return NULL;
    }
    return g_bytes_new_with_free_func(buf, len, g_free, buf);
}

#ifndef S4G_HAVE_GDAL

S4gImagery *s4g_imagery_open(const char *src, int zoom, GError **error)
{
    g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                "%s: this s4g was built without GDAL (meson -Dgdal=enabled), so only MBTiles "
                "imagery (--tiles) can be read",
                src);
    return NULL;
}

void s4g_imagery_free(S4gImagery *im) {}

const char *s4g_imagery_get_source(S4gImagery *im)
{
    return NULL;
}

gboolean s4g_imagery_get_bounds(S4gImagery *im, double bounds[4], GError **error)
{
    return FALSE;
}

int s4g_imagery_get_native_zoom(S4gImagery *im)
{
    return 0;
}

gboolean s4g_imagery_read(S4gImagery *im, int z, gint64 x, gint64 y, S4gImage *out,
                          GError **error)
{
    return FALSE;
}

gboolean s4g_imagery_read_alpha(S4gImagery *im, int z, gint64 x, gint64 y, S4gImage *out,
                                guint8 *alpha, GError **error)
{
    return FALSE;
}

#else

struct _S4gImagery {
    char *src;
    GDALDatasetH ds;    /* the source (a VRT for folders and URL templates) */
    double merc[4];     /* its footprint in EPSG:3857: minx, miny, maxx, maxy */
    double bounds[4];   /* west, south, east, north */
    int native_zoom;
    int zoom;           /* zoom of the warped VRT below, -1 before the first read */
    GDALDatasetH warped;
    gint64 wx0, wy0;    /* its top-left pixel on the zoom's global grid */
    int ww, wh;
    int bands[4], nb;   /* bands read (RGB or grey ×3) and alpha (4th, when present) */
    gboolean alpha;
    char *url_template; /* an XYZ template's own text, NULL for other sources */
    int fetch_zoom;     /* the zoom its tiles are fetched at */
    GDALDatasetH strict; /* the template with 404 an error (opened on demand) */
};

/* GDAL's pending error text, cleaned for a user (and reset). */
static char *gdal_message(void)
{
    g_autofree char *msg = g_strdup(CPLGetLastErrorMsg());
    CPLErrorReset();
    /* GDAL 3.6's WMS driver writes the server's response body after "URL:" (not the URL) and a
     * hint about its XML options: neither helps an s4g user, the HTTP status does */
    const char *code = strstr(msg, "HTTP status code: ");
    int status = code ? atoi(code + strlen("HTTP status code: ")) : 0;
    const char *why = code ? strstr(code, "error: ") : NULL;
    g_autofree char *reason = why ? g_strdup(why + strlen("error: ")) : NULL;
    if (reason) {
        char *nl = strchr(reason, '\n');
        if (nl) *nl = 0;
        g_strchomp(reason);
    }
    char *cut = strstr(msg, "\nURL:");
    if (!cut) cut = strstr(msg, "\nAdd the HTTP status code");
    if (cut) *cut = 0;
    g_strchomp(msg);
    if (status > 0) return g_strdup_printf("%s (HTTP status %d)", msg, status);
    if (reason && *reason) return g_strdup_printf("%s (%s)", msg, reason);
    return g_steal_pointer(&msg);
}

/* GDAL's pending error text for an error of ours. */
static void set_gdal_error(GError **error, const char *src, const char *what)
{
    g_autofree char *msg = gdal_message();
    g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE, "%s: %s%s%s", src, what,
                *msg ? ": " : "", msg);
}

/* GDAL_HTTP_TIMEOUT in seconds: the user's (environment or GDAL configuration) or ours. */
static int http_timeout_s(void)
{
    int t = atoi(CPLGetConfigOption("GDAL_HTTP_TIMEOUT", G_STRINGIFY(S4G_IMAGERY_HTTP_TIMEOUT_S)));
    return t >= 1 ? t : S4G_IMAGERY_HTTP_TIMEOUT_S;
}

static gpointer gdal_init_once(gpointer data)
{
    GDALAllRegister();
    /* defaults set in code (a user's own GDAL_* environment still wins): a slow or dead
     * server is an error after the timeout, never a hang */
    static const char *const defaults[][2] = {
        {"GDAL_HTTP_TIMEOUT", G_STRINGIFY(S4G_IMAGERY_HTTP_TIMEOUT_S)},
        {"GDAL_HTTP_CONNECTTIMEOUT", "10"},
        {"GDAL_HTTP_MAX_RETRY", "1"},
        {"GDAL_HTTP_RETRY_DELAY", "1"},
        {"GDAL_CACHEMAX", "64"}, /* MB of GDAL's block cache: memory stays bounded */
    };
    for (gsize i = 0; i < G_N_ELEMENTS(defaults); i++)
        if (defaults[i][1] && !CPLGetConfigOption(defaults[i][0], NULL))
            CPLSetConfigOption(defaults[i][0], defaults[i][1]);
    /* The WMS driver (behind XYZ, WMTS, TMS and GDAL XML sources) passes its own <Timeout>
     * (300 s unless the XML sets one) to every request, overriding GDAL_HTTP_TIMEOUT.  A
     * transfer that stalls below 1 byte/s for this long is still cut off, whatever the XML
     * says: the same seconds as GDAL_HTTP_TIMEOUT (the user's, when set). */
    if (!CPLGetConfigOption("GDAL_HTTP_LOW_SPEED_TIME", NULL)) {
        g_autofree char *t = g_strdup_printf("%d", http_timeout_s());
        CPLSetConfigOption("GDAL_HTTP_LOW_SPEED_TIME", t);
    }
    return NULL;
}

static void gdal_init(void)
{
    static GOnce once = G_ONCE_INIT;
    g_once(&once, gdal_init_once, NULL);
}

static gboolean is_url_template(const char *src)
{
    return (g_str_has_prefix(src, "http://") || g_str_has_prefix(src, "https://")) &&
           strstr(src, "{z}") && strstr(src, "{x}") && strstr(src, "{y}");
}

/* An XYZ template (http://host/{z}/{x}/{y}.png) as GDAL's TMS description at `zoom`. */
static char *xyz_description(const char *src, int zoom, const char *zero_codes)
{
    /* the WMS driver's own <Timeout> (300 s unless given) bounds each request, so it gets
     * GDAL_HTTP_TIMEOUT's value */
    int timeout = http_timeout_s();
    g_autoptr(GString) url = g_string_new(NULL);
    for (const char *p = src; *p; p++) {
        if (*p == '{' && (p[1] == 'x' || p[1] == 'y' || p[1] == 'z') && p[2] == '}') {
            g_string_append_printf(url, "${%c}", p[1]);
            p += 2;
        } else if (*p == '&') {
            g_string_append(url, "&amp;");
        } else if (*p == '<') {
            g_string_append(url, "&lt;");
        } else {
            g_string_append_c(url, *p);
        }
    }
    return g_strdup_printf(
        "<GDAL_WMS><Service name=\"TMS\"><ServerUrl>%s</ServerUrl></Service>"
        "<DataWindow><UpperLeftX>%.9f</UpperLeftX><UpperLeftY>%.9f</UpperLeftY>"
        "<LowerRightX>%.9f</LowerRightX><LowerRightY>%.9f</LowerRightY>"
        "<TileLevel>%d</TileLevel><TileCountX>1</TileCountX><TileCountY>1</TileCountY>"
        "<YOrigin>top</YOrigin></DataWindow><Projection>EPSG:3857</Projection>"
        "<BlockSizeX>256</BlockSizeX><BlockSizeY>256</BlockSizeY><BandsCount>3</BandsCount>"
        "<MaxConnections>4</MaxConnections><Timeout>%d</Timeout>"
        /* 204 No Content reads as black; a 404 reads as black here too, and a black tile
         * inside a window read is checked (check_missing_tiles) */
        "<ZeroBlockHttpCodes>%s</ZeroBlockHttpCodes></GDAL_WMS>",
        url->str, -MERC_R, MERC_R, MERC_R, -MERC_R, zoom, timeout, zero_codes);
}

/* A GDAL WMS XML description (the text itself, or a file holding it) without a <Timeout>
 * of its own, given GDAL_HTTP_TIMEOUT's: the driver would wait 300 s per request.  NULL when
 * `src` is no such description or sets its timeout. */
static char *wms_xml_with_timeout(const char *src)
{
    g_autofree char *text = NULL;
    const char *p = src;
    while (g_ascii_isspace(*p)) p++;
    if (*p == '<') {
        text = g_strdup(p);
    } else if (g_file_test(src, G_FILE_TEST_IS_REGULAR)) {
        /* only small text files are looked at (a description is a few hundred bytes) */
        g_autoptr(GMappedFile) f = g_mapped_file_new(src, FALSE, NULL);
        gsize n = f ? g_mapped_file_get_length(f) : 0;
        const char *c = f ? g_mapped_file_get_contents(f) : NULL;
        if (!c || n > (1 << 20) || !g_strstr_len(c, MIN(n, 4096), "<GDAL_WMS")) return NULL;
        text = g_strndup(c, n);
    }
    if (!text || !strstr(text, "<GDAL_WMS")) return NULL;
    CPLXMLNode *root = CPLParseXMLString(text);
    CPLErrorReset();
    CPLXMLNode *wms = root ? CPLGetXMLNode(root, "=GDAL_WMS") : NULL;
    char *out = NULL;
    if (wms && !CPLGetXMLNode(wms, "Timeout")) {
        g_autofree char *t = g_strdup_printf("%d", http_timeout_s());
        CPLCreateXMLElementAndValue(wms, "Timeout", t);
        char *xml = CPLSerializeXMLTree(wms);
        out = g_strdup(xml);
        CPLFree(xml);
    }
    if (root) CPLDestroyXMLNode(root);
    return out;
}

static gboolean raster_name(const char *name)
{
    g_autofree char *l = g_ascii_strdown(name, -1);
    return g_str_has_suffix(l, ".tif") || g_str_has_suffix(l, ".tiff") ||
           g_str_has_suffix(l, ".jp2") || g_str_has_suffix(l, ".vrt");
}

/* A folder of georeferenced rasters (GeoTIFF, COG, JPEG 2000, VRT) in one CRS as one
 * in-memory mosaic VRT. */
static GDALDatasetH open_folder(const char *dir, GError **error)
{
    g_autoptr(GDir) d = g_dir_open(dir, 0, error);
    if (!d) return NULL;
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    for (const char *n; (n = g_dir_read_name(d));)
        if (raster_name(n)) g_ptr_array_add(files, g_build_filename(dir, n, NULL));
    if (files->len == 0) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO,
                    "%s: no GeoTIFF, JPEG 2000 or VRT files (.tif, .tiff, .jp2, .vrt) in the folder",
                    dir);
        return NULL;
    }
    g_ptr_array_sort(files, (GCompareFunc)g_strcmp0);
    OGRSpatialReferenceH first = NULL;
    char *first_file = NULL;
    gboolean ok = TRUE;
    for (guint i = 0; ok && i < files->len; i++) {
        const char *f = g_ptr_array_index(files, i);
        GDALDatasetH ds = GDALOpen(f, GA_ReadOnly);
        OGRSpatialReferenceH srs = ds ? GDALGetSpatialRef(ds) : NULL;
        if (!ds) {
            set_gdal_error(error, f, "not a readable raster");
            ok = FALSE;
        } else if (!srs) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                        "%s: no coordinate reference system (a mosaic needs one CRS for all files)",
                        f);
            ok = FALSE;
        } else if (!first) {
            first = OSRClone(srs);
            first_file = (char *)f;
        } else if (!OSRIsSame(first, srs)) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                        "%s: its coordinate reference system differs from %s's; a folder mosaic "
                        "needs one CRS (reproject with gdalwarp, or list them in a VRT)",
                        f, first_file);
            ok = FALSE;
        }
        if (ds) GDALClose(ds);
    }
    if (first) OSRDestroySpatialReference(first);
    if (!ok) return NULL;
    g_ptr_array_add(files, NULL);
    GDALBuildVRTOptions *o = GDALBuildVRTOptionsNew(NULL, NULL);
    int usage = 0;
    GDALDatasetH vrt = GDALBuildVRT("", (int)files->len - 1, NULL,
                                    (const char *const *)files->pdata, o, &usage);
    GDALBuildVRTOptionsFree(o);
    if (!vrt) set_gdal_error(error, dir, "cannot mosaic the folder");
    return vrt;
}

static void merc_to_lonlat(double mx, double my, double *lon, double *lat)
{
    *lon = mx / MERC_R * 180.0;
    *lat = atan(sinh(my / MERC_R * G_PI)) * 180.0 / G_PI;
}

/* The source's footprint in EPSG:3857 (bounding box of its reprojected edges). */
static gboolean footprint(S4gImagery *im, GError **error)
{
    OGRSpatialReferenceH merc = OSRNewSpatialReference(NULL);
    OSRImportFromEPSG(merc, 3857);
    char *wkt = NULL;
    OSRExportToWkt(merc, &wkt);
    OSRDestroySpatialReference(merc);
    char **to = CSLSetNameValue(NULL, "DST_SRS", wkt);
    CPLFree(wkt);
    void *tr = GDALCreateGenImgProjTransformer2(im->ds, NULL, to);
    CSLDestroy(to);
    if (!tr) {
        set_gdal_error(error, im->src, "cannot be reprojected to Web Mercator");
        return FALSE;
    }
    double gt[6], ext[4];
    int px, ln;
    CPLErr e = GDALSuggestedWarpOutput2(im->ds, GDALGenImgProjTransform, tr, gt, &px, &ln, ext, 0);
    GDALDestroyGenImgProjTransformer(tr);
    if (e != CE_None) {
        set_gdal_error(error, im->src, "cannot be reprojected to Web Mercator");
        return FALSE;
    }
    im->merc[0] = MAX(ext[0], -MERC_R), im->merc[1] = MAX(ext[1], -MERC_R);
    im->merc[2] = MIN(ext[2], MERC_R), im->merc[3] = MIN(ext[3], MERC_R);
    /* gt[1]: the source's pixel size in Web-Mercator metres, matched against zoom levels */
    double z = log2(2 * MERC_R / (TILE * fabs(gt[1])));
    im->native_zoom = CLAMP((int)lround(z), 0, 24);
    merc_to_lonlat(im->merc[0], im->merc[1], &im->bounds[0], &im->bounds[1]);
    merc_to_lonlat(im->merc[2], im->merc[3], &im->bounds[2], &im->bounds[3]);
    return TRUE;
}

S4gImagery *s4g_imagery_open(const char *src, int zoom, GError **error)
{
    gdal_init();
    g_autoptr(S4gImagery) im = g_new0(S4gImagery, 1);
    im->src = g_strdup(src);
    im->zoom = -1;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
    gboolean mbtiles = FALSE;
    if (is_url_template(src)) {
        im->fetch_zoom = CLAMP(zoom, 0, 24);
        im->url_template = g_strdup(src);
        g_autofree char *xml = xyz_description(src, im->fetch_zoom, "204,404");
        im->ds = GDALOpen(xml, GA_ReadOnly);
        if (!im->ds) set_gdal_error(error, src, "cannot open the tile server template");
    } else if (g_file_test(src, G_FILE_TEST_IS_DIR)) {
        im->ds = open_folder(src, error);
    } else if (!strstr(src, "://") && !strchr(src, '<') && !g_str_has_prefix(src, "WMTS:") &&
               !g_file_test(src, G_FILE_TEST_EXISTS)) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO, "%s: no such file or folder",
                    src);
    } else {
        g_autofree char *wms = wms_xml_with_timeout(src);
        im->ds = GDALOpenEx(wms ? wms : src, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
        if (!im->ds) set_gdal_error(error, src, "not an imagery source GDAL can read");
        else {
            GDALDriverH drv = GDALGetDatasetDriver(im->ds);
            mbtiles = drv && !g_strcmp0(GDALGetDriverShortName(drv), "MBTiles");
        }
        if (mbtiles) {
            /* whole tiles, on the zoom's pixel grid (not clipped to the bounds row, which
             * would shift the grid by a fraction of a pixel) */
            const char *oo[] = {"USE_BOUNDS=NO", NULL};
            GDALDatasetH whole = GDALOpenEx(src, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, oo, NULL);
            if (whole) GDALClose(im->ds), im->ds = whole;
        }
    }
    gboolean ok = im->ds != NULL;
    if (ok) {
        double gt[6];
        if (GDALGetRasterCount(im->ds) < 1) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE, "%s: has no raster bands", src);
            ok = FALSE;
        } else if (GDALGetGeoTransform(im->ds, gt) != CE_None && GDALGetGCPCount(im->ds) == 0) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                        "%s: has no georeferencing (no geotransform, world file or ground control "
                        "points), so its place on the map is unknown",
                        src);
            ok = FALSE;
        } else if (!GDALGetSpatialRef(im->ds) && !GDALGetGCPSpatialRef(im->ds)) {
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                        "%s: has no coordinate reference system (add one with "
                        "gdal_edit.py -a_srs EPSG:…)",
                        src);
            ok = FALSE;
        }
    }
    ok = ok && footprint(im, error);
    if (ok && mbtiles) {
        /* the tile set's own bounds row is the region (GDAL's extent is whole tiles) */
        g_autoptr(S4gMbtiles) mb = s4g_mbtiles_open(src, NULL);
        double b[4];
        if (mb && s4g_mbtiles_get_bounds(mb, b) && b[0] < b[2] && b[1] < b[3])
            memcpy(im->bounds, b, sizeof b);
    }
    if (ok) {
        /* the bands read: palette expanded, grey tripled, alpha used to flatten onto black */
        GDALRasterBandH b1 = GDALGetRasterBand(im->ds, 1);
        if (GDALGetRasterColorTable(b1)) {
            GDALTranslateOptions *o = GDALTranslateOptionsNew(
                (char *[]){"-of", "VRT", "-expand", "rgba", NULL}, NULL);
            GDALDatasetH ex = GDALTranslate("", im->ds, o, NULL);
            GDALTranslateOptionsFree(o);
            if (!ex) {
                set_gdal_error(error, src, "cannot expand its palette");
                ok = FALSE;
            } else {
                GDALClose(im->ds);
                im->ds = ex;
            }
        }
    }
    CPLPopErrorHandler();
    if (!ok) return NULL;
    return g_steal_pointer(&im);
}

void s4g_imagery_free(S4gImagery *im)
{
    if (!im) return;
    if (im->warped) GDALClose(im->warped);
    if (im->ds) GDALClose(im->ds);
    if (im->strict) GDALClose(im->strict);
    g_free(im->url_template);
    g_free(im->src);
    g_free(im);
}

const char *s4g_imagery_get_source(S4gImagery *im)
{
    return im->src;
}

gboolean s4g_imagery_get_bounds(S4gImagery *im, double bounds[4], GError **error)
{
    bounds[0] = im->bounds[0], bounds[1] = MAX(im->bounds[1], -85.0511);
    bounds[2] = im->bounds[2], bounds[3] = MIN(im->bounds[3], 85.0511);
    if (!(bounds[0] < bounds[2]) || !(bounds[1] < bounds[3])) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_PARSE,
                    "%s: its footprint in Web Mercator is empty", im->src);
        return FALSE;
    }
    return TRUE;
}

int s4g_imagery_get_native_zoom(S4gImagery *im)
{
    return im->native_zoom;
}

/* The warped VRT of the source's footprint on zoom z's pixel grid. */
static gboolean prepare_zoom(S4gImagery *im, int z, GError **error)
{
    if (im->warped && im->zoom == z) return TRUE;
    if (im->warped) GDALClose(im->warped), im->warped = NULL;
    double res = 2 * MERC_R / (TILE * (double)((gint64)1 << z));
    double world = TILE * (double)((gint64)1 << z);
    gint64 x0 = (gint64)floor((im->merc[0] + MERC_R) / res);
    gint64 x1 = (gint64)ceil((im->merc[2] + MERC_R) / res);
    gint64 y0 = (gint64)floor((MERC_R - im->merc[3]) / res);
    gint64 y1 = (gint64)ceil((MERC_R - im->merc[1]) / res);
    x0 = MAX(x0, 0), y0 = MAX(y0, 0), x1 = MIN(x1, (gint64)world), y1 = MIN(y1, (gint64)world);
    if (x1 - x0 < 1 || y1 - y0 < 1 || x1 - x0 > G_MAXINT || y1 - y0 > G_MAXINT) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                    "%s: its footprint is %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                    " pixels at zoom %d, which cannot be read",
                    im->src, x1 - x0, y1 - y0, z);
        return FALSE;
    }
    g_autoptr(GPtrArray) a = g_ptr_array_new_with_free_func(g_free);
#define ARG(...) g_ptr_array_add(a, g_strdup_printf(__VA_ARGS__))
    ARG("-of"), ARG("VRT"), ARG("-t_srs"), ARG("EPSG:3857"), ARG("-r"), ARG("cubic");
    /* cubic (GDAL's Catmull-Rom kernel, scaled when down-sampling): sharper than bilinear near
     * the source's own scale and when down-sampling, exact on an identical grid; a GeoTIFF in
     * EPSG:4326 made pixel for pixel from an MBTiles gives a gallery within 7.6e-4 of the
     * MBTiles' (bilinear: 2.0e-3), a rotated UTM copy within 3.2e-2 (bilinear: 5.1e-2) */
    ARG("-te"), ARG("%.10f", -MERC_R + x0 * res), ARG("%.10f", MERC_R - y1 * res);
    ARG("%.10f", -MERC_R + x1 * res), ARG("%.10f", MERC_R - y0 * res);
    ARG("-ts"), ARG("%" G_GINT64_FORMAT, x1 - x0), ARG("%" G_GINT64_FORMAT, y1 - y0);
    ARG("-wo"), ARG("INIT_DEST=0"), ARG("-multi"), ARG("-wo"), ARG("NUM_THREADS=2");
#undef ARG
    g_ptr_array_add(a, NULL);
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
    GDALWarpAppOptions *o = GDALWarpAppOptionsNew((char **)a->pdata, NULL);
    GDALDatasetH src = im->ds;
    im->warped = o ? GDALWarp("", NULL, 1, &src, o, NULL) : NULL;
    if (o) GDALWarpAppOptionsFree(o);
    if (!im->warped) {
        g_autofree char *what = g_strdup_printf("cannot reproject to Web Mercator at zoom %d", z);
        set_gdal_error(error, im->src, what);
        CPLPopErrorHandler();
        return FALSE;
    }
    CPLPopErrorHandler();
    im->zoom = z, im->wx0 = x0, im->wy0 = y0, im->ww = (int)(x1 - x0), im->wh = (int)(y1 - y0);
    int n = GDALGetRasterCount(im->warped), colour = 0, alpha = 0;
    for (int i = 1; i <= n; i++) {
        GDALColorInterp ci = GDALGetRasterColorInterpretation(GDALGetRasterBand(im->warped, i));
        if (ci == GCI_AlphaBand) alpha = alpha ? alpha : i;
        else colour++;
    }
    if (colour >= 3) im->bands[0] = 1, im->bands[1] = 2, im->bands[2] = 3;
    else im->bands[0] = im->bands[1] = im->bands[2] = 1;
    im->alpha = alpha > 0;
    im->bands[3] = alpha;
    im->nb = im->alpha ? 4 : 3;
    return TRUE;
}

/* An XYZ template's tiles that read as all black in a window just read: were they black
 * tiles, or tiles the server does not have (404, read as zeros so that the warper's
 * block-aligned reads past the region do not fail)?  Each is fetched again through a strict
 * description; a missing tile under the window is an error naming its URL — never black
 * patches in a gallery. */
static gboolean check_missing_tiles(S4gImagery *im, int z, gint64 x, gint64 y, const S4gImage *out,
                                    GError **error)
{
    if (!im->url_template) return TRUE;
    double f = ldexp(1.0, im->fetch_zoom - z); /* fetch-zoom pixels per pixel of z */
    gint64 n = (gint64)1 << im->fetch_zoom;
    gint64 tx0 = MAX((gint64)floor(x * f / TILE), 0);
    gint64 ty0 = MAX((gint64)floor(y * f / TILE), 0);
    gint64 tx1 = MIN((gint64)floor((x + out->width) * f / TILE), n - 1);
    gint64 ty1 = MIN((gint64)floor((y + out->height) * f / TILE), n - 1);
    for (gint64 ty = ty0; ty <= ty1; ty++)
        for (gint64 tx = tx0; tx <= tx1; tx++) {
            /* the tile's inner pixels in the window (two pixels in from its edges, which the
             * cubic warp blends with its neighbours) */
            gint64 px0 = MAX((gint64)ceil(tx * TILE / f) + 2, x);
            gint64 py0 = MAX((gint64)ceil(ty * TILE / f) + 2, y);
            gint64 px1 = MIN((gint64)floor((tx + 1) * TILE / f) - 2, x + out->width);
            gint64 py1 = MIN((gint64)floor((ty + 1) * TILE / f) - 2, y + out->height);
            gboolean black = px1 > px0 && py1 > py0;
            for (gint64 r = py0; black && r < py1; r++) {
                const guint8 *row = out->data + ((gsize)(r - y) * out->width + (px0 - x)) * 3;
                for (gsize i = 0; i < (gsize)(px1 - px0) * 3; i++)
                    if (row[i]) {
                        black = FALSE;
                        break;
                    }
            }
            if (!black) continue;
            CPLPushErrorHandler(CPLQuietErrorHandler);
            CPLErrorReset();
            if (!im->strict) {
                g_autofree char *xml = xyz_description(im->url_template, im->fetch_zoom, "204");
                im->strict = GDALOpen(xml, GA_ReadOnly);
            }
            /* at full size: a smaller buffer would read an overview's tile instead */
            g_autofree guint8 *px = g_malloc(TILE * TILE);
            CPLErr e = im->strict ? GDALRasterIO(GDALGetRasterBand(im->strict, 1), GF_Read,
                                                 (int)(tx * TILE), (int)(ty * TILE), TILE, TILE,
                                                 px, TILE, TILE, GDT_Byte, 0, 0)
                                  : CE_Failure;
            g_autofree char *msg = e != CE_None ? gdal_message() : NULL;
            /* the reason alone: GDAL's block offsets mean nothing to a user */
            char *why = msg ? strrchr(msg, '(') : NULL;
            if (why && g_str_has_suffix(why, ")")) {
                char *reason = g_strndup(why + 1, strlen(why + 1) - 1);
                g_free(msg), msg = reason;
            }
            CPLPopErrorHandler();
            if (e == CE_None) continue;
            g_autoptr(GString) url = g_string_new(im->url_template);
            g_autofree char *zs = g_strdup_printf("%d", im->fetch_zoom);
            g_autofree char *xs = g_strdup_printf("%" G_GINT64_FORMAT, tx);
            g_autofree char *ys = g_strdup_printf("%" G_GINT64_FORMAT, ty);
            g_string_replace(url, "{z}", zs, 0);
            g_string_replace(url, "{x}", xs, 0);
            g_string_replace(url, "{y}", ys, 0);
            g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_IO,
                        "%s: tile %s inside the region could not be read (%s); the region must "
                        "lie where the server has tiles (choose --bounds inside it)",
                        im->src, url->str, msg);
            return FALSE;
        }
    return TRUE;
}

gboolean s4g_imagery_read(S4gImagery *im, int z, gint64 x, gint64 y, S4gImage *out,
                          GError **error)
{
    return s4g_imagery_read_alpha(im, z, x, y, out, NULL, error);
}

gboolean s4g_imagery_read_alpha(S4gImagery *im, int z, gint64 x, gint64 y, S4gImage *out,
                                guint8 *alpha, GError **error)
{
    if (z < 0 || z > 24) {
        g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID, "zoom %d outside 0..24", z);
        return FALSE;
    }
    if (!prepare_zoom(im, z, error)) return FALSE;
    int w = out->width, h = out->height;
    memset(out->data, 0, (gsize)w * h * 3);
    if (alpha) memset(alpha, 0, (gsize)w * h);
    /* the part of the window the source covers */
    gint64 ix0 = MAX(x, im->wx0), iy0 = MAX(y, im->wy0);
    gint64 ix1 = MIN(x + w, im->wx0 + im->ww), iy1 = MIN(y + h, im->wy0 + im->wh);
    if (ix1 <= ix0 || iy1 <= iy0) return TRUE;
    int cw = (int)(ix1 - ix0), ch = (int)(iy1 - iy0);
    g_autofree guint8 *buf = g_malloc((gsize)cw * ch * im->nb);
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLErrorReset();
    CPLErr e = GDALDatasetRasterIO(im->warped, GF_Read, (int)(ix0 - im->wx0), (int)(iy0 - im->wy0),
                                   cw, ch, buf, cw, ch, GDT_Byte, im->nb, im->bands, im->nb,
                                   (GSpacing)cw * im->nb, 1);
    if (e != CE_None) {
        g_autofree char *what = g_strdup_printf(
            "cannot read the %dx%d window at pixel (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
            ") of zoom %d",
            cw, ch, ix0, iy0, z);
        set_gdal_error(error, im->src, what);
        CPLPopErrorHandler();
        return FALSE;
    }
    CPLPopErrorHandler();
    for (int r = 0; r < ch; r++) {
        const guint8 *s = buf + (gsize)r * cw * im->nb;
        guint8 *d = out->data + ((gsize)(iy0 - y + r) * w + (ix0 - x)) * 3;
        if (alpha)
            for (int c = 0; c < cw; c++)
                alpha[(gsize)(iy0 - y + r) * w + (ix0 - x) + c] =
                    im->alpha ? s[(gsize)c * im->nb + 3] : 255;
        for (int c = 0; c < cw; c++, s += im->nb, d += 3)
            if (im->alpha) /* flattened onto black, as the image pipeline does */
                for (int k = 0; k < 3; k++) d[k] = (guint8)((s[k] * s[3] + 127) / 255);
            else
                d[0] = s[0], d[1] = s[1], d[2] = s[2];
    }
    return check_missing_tiles(im, z, x, y, out, error);
}

#endif
