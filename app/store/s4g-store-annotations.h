/* s4g-store-annotations.h — typed access to the `annotations` table: corrected locations,
 * bad-pair / wrong-location flags with notes, review marks, and their CSV/GeoJSON export.
 * The Studio writes every change at once, so a crash never loses a reviewer's work. */
#pragma once

#include "s4g-store.h"

G_BEGIN_DECLS

typedef enum {
    S4G_ANNOTATION_OK,             /* "ok": reviewed, nothing wrong */
    S4G_ANNOTATION_BAD_PAIR,       /* "bad-pair" */
    S4G_ANNOTATION_WRONG_LOCATION, /* "wrong-location" */
    S4G_ANNOTATION_LOCATION,       /* "location": a corrected lat/lon */
} S4gAnnotationFlag;

typedef struct {
    gint64 id;
    gint64 image;
    gboolean has_location;
    double lat, lon;
    S4gAnnotationFlag flag;
    char *note;
    gboolean open; /* state = 'open' (TRUE) or 'resolved' */
    char *created;
} S4gAnnotation;

void s4g_annotation_free(S4gAnnotation *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(S4gAnnotation, s4g_annotation_free)

const char *s4g_annotation_flag_to_string(S4gAnnotationFlag flag);
gboolean s4g_annotation_flag_from_string(const char *s, S4gAnnotationFlag *flag);

/* Inserts one annotation; returns its id, or 0 with *error set.  Location flags need
 * has_location.  Flags other than "ok" start open. */
gint64 s4g_store_annotation_add(S4gStore *store, gint64 image, S4gAnnotationFlag flag,
                                gboolean has_location, double lat, double lon, const char *note,
                                GError **error);
/* Removes one annotation (the Studio's undo of an add). */
gboolean s4g_store_annotation_delete(S4gStore *store, gint64 id, GError **error);
gboolean s4g_store_annotation_set_open(S4gStore *store, gint64 id, gboolean open, GError **error);
/* All annotations of an image, oldest first (GPtrArray of S4gAnnotation*). */
GPtrArray *s4g_store_annotations_for_image(S4gStore *store, gint64 image, GError **error);
/* The newest corrected location of an image; FALSE when there is none. */
gboolean s4g_store_annotation_location(S4gStore *store, gint64 image, double *lat, double *lon);
/* Ids of images with at least one open flag. */
GHashTable *s4g_store_annotations_open_images(S4gStore *store, GError **error);

/* Exports every annotation, joined with the image path and original location. */
gboolean s4g_store_annotations_export_csv(S4gStore *store, const char *path, GError **error);
gboolean s4g_store_annotations_export_geojson(S4gStore *store, const char *path, GError **error);

G_END_DECLS
