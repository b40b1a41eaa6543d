/* s4g-photo.c — photo list item (see the header). */
#include "s4g-photo.h"

#include "s4g-thumbnail-cache.h"
#include "s4g-thumbnail.h"

#include <math.h>

#define THUMB_SIZE 128

struct _S4gPhoto {
    GObject parent_instance;
    gint64 id;
    char *path, *dataset, *split;
    double lat, lon, error;
    gboolean flagged;
    /* The decoded thumbnail lives in the shared S4gThumbnailCache under this photo's address
     * (it may be evicted); `load` is the decode in flight, cancelled when the cell goes. */
    GCancellable *load;
};

G_DEFINE_FINAL_TYPE(S4gPhoto, s4g_photo, G_TYPE_OBJECT)

enum { PROP_0, PROP_THUMBNAIL, PROP_ERROR, PROP_FLAGGED, N_PROPS };
static GParamSpec *props[N_PROPS];

static void get_property(GObject *o, guint id, GValue *v, GParamSpec *p)
{
    S4gPhoto *self = S4G_PHOTO(o);
    switch (id) {
    case PROP_THUMBNAIL:
        g_value_set_object(v, s4g_thumbnail_cache_lookup(s4g_thumbnail_cache_get_default(), self));
        break;
    case PROP_ERROR:
        g_value_set_double(v, self->error);
        break;
    case PROP_FLAGGED:
        g_value_set_boolean(v, self->flagged);
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(o, id, p);
    }
}

static void finalize(GObject *o)
{
    S4gPhoto *self = S4G_PHOTO(o);
    g_free(self->path);
    g_free(self->dataset);
    g_free(self->split);
    s4g_photo_cancel_thumbnail(self);
    s4g_thumbnail_cache_remove(s4g_thumbnail_cache_get_default(), self);
    G_OBJECT_CLASS(s4g_photo_parent_class)->finalize(o);
}

static void s4g_photo_class_init(S4gPhotoClass *klass)
{
    G_OBJECT_CLASS(klass)->get_property = get_property;
    G_OBJECT_CLASS(klass)->finalize = finalize;
    props[PROP_THUMBNAIL] = g_param_spec_object("thumbnail", NULL, NULL, GDK_TYPE_TEXTURE,
                                                G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    props[PROP_ERROR] = g_param_spec_double("error", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE,
                                            0, /* NAN at run time: no prediction */
                                            G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    props[PROP_FLAGGED] = g_param_spec_boolean("flagged", NULL, NULL, FALSE,
                                               G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
    g_object_class_install_properties(G_OBJECT_CLASS(klass), N_PROPS, props);
}

static void s4g_photo_init(S4gPhoto *self)
{
    self->error = NAN;
}

S4gPhoto *s4g_photo_new(gint64 id, const char *path, const char *dataset, const char *split,
                        double lat, double lon)
{
    S4gPhoto *self = g_object_new(S4G_TYPE_PHOTO, NULL);
    self->id = id;
    self->path = g_strdup(path);
    self->dataset = g_strdup(dataset);
    self->split = g_strdup(split);
    self->lat = lat;
    self->lon = lon;
    return self;
}

gint64 s4g_photo_get_id(S4gPhoto *self)
{
    return self->id;
}
const char *s4g_photo_get_path(S4gPhoto *self)
{
    return self->path;
}
const char *s4g_photo_get_dataset(S4gPhoto *self)
{
    return self->dataset;
}
const char *s4g_photo_get_split(S4gPhoto *self)
{
    return self->split;
}
double s4g_photo_get_lat(S4gPhoto *self)
{
    return self->lat;
}
double s4g_photo_get_lon(S4gPhoto *self)
{
    return self->lon;
}
double s4g_photo_get_error(S4gPhoto *self)
{
    return self->error;
}
gboolean s4g_photo_get_flagged(S4gPhoto *self)
{
    return self->flagged;
}

void s4g_photo_set_error(S4gPhoto *self, double metres)
{
    if (self->error == metres || (isnan(self->error) && isnan(metres))) return;
    self->error = metres;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_ERROR]);
}

void s4g_photo_set_flagged(S4gPhoto *self, gboolean flagged)
{
    if (self->flagged == !!flagged) return;
    self->flagged = !!flagged;
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_FLAGGED]);
}

GdkTexture *s4g_photo_get_thumbnail(S4gPhoto *self)
{
    return s4g_thumbnail_cache_lookup(s4g_thumbnail_cache_get_default(), self);
}

typedef struct {
    S4gPhoto *photo;
    GCancellable *load; /* which request this was: a newer one may have replaced it */
} Load;

static void thumbnail_done(GObject *source, GAsyncResult *res, gpointer data)
{
    Load *l = data;
    g_autoptr(S4gPhoto) self = l->photo;
    g_autoptr(GCancellable) load = l->load;
    g_free(l);
    if (self->load == load) g_clear_object(&self->load);
    g_autoptr(GError) error = NULL;
    g_autoptr(GdkTexture) t = s4g_thumbnail_load_finish(res, &error);
    if (!t) {
        /* Scrolled away: the result (if any) was dropped unseen by GTask. */
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            s4g_thumbnail_cache_note_cancelled(s4g_thumbnail_cache_get_default());
        else /* a corrupt photo keeps its placeholder; the message names the file */
            g_warning("%s", error->message);
        return;
    }
    if (!s4g_thumbnail_cache_insert(s4g_thumbnail_cache_get_default(), self, t))
        g_warning("%s: thumbnail larger than the whole thumbnail cache", self->path);
    g_object_notify_by_pspec(G_OBJECT(self), props[PROP_THUMBNAIL]);
}

void s4g_photo_ensure_thumbnail(S4gPhoto *self)
{
    if (self->load || s4g_thumbnail_cache_contains(s4g_thumbnail_cache_get_default(), self)) return;
    self->load = g_cancellable_new();
    Load *l = g_new(Load, 1);
    l->photo = g_object_ref(self);
    l->load = g_object_ref(self->load);
    s4g_thumbnail_load_async(self->path, THUMB_SIZE, self->load, thumbnail_done, l);
}

void s4g_photo_cancel_thumbnail(S4gPhoto *self)
{
    if (!self->load) return;
    g_cancellable_cancel(self->load);
    g_clear_object(&self->load);
}

gboolean s4g_photo_is_loading_thumbnail(S4gPhoto *self)
{
    return self->load != NULL;
}
