/* s4g-thumbnail-cache.c — byte-bounded LRU of thumbnails (see the header).  A hash table
 * finds an entry, a doubly linked queue orders them (head = most recently used), so lookup,
 * insert and eviction are O(1). */
#include "s4g-thumbnail-cache.h"

typedef struct {
    gconstpointer key;
    GdkTexture *texture;
    gsize bytes;
    GList link; /* in self->lru; data = this entry */
} Entry;

struct _S4gThumbnailCache {
    GObject parent_instance;
    GHashTable *entries; /* key → Entry* */
    GQueue lru;
    gsize bytes, budget;
    guint64 inserted, evicted, cancelled;
};

G_DEFINE_FINAL_TYPE(S4gThumbnailCache, s4g_thumbnail_cache, G_TYPE_OBJECT)

static void entry_free(Entry *e)
{
    g_object_unref(e->texture);
    g_free(e);
}

static void unlink_entry(S4gThumbnailCache *self, Entry *e)
{
    g_queue_unlink(&self->lru, &e->link);
    self->bytes -= e->bytes;
    g_hash_table_remove(self->entries, e->key); /* frees e */
}

static void evict_to(S4gThumbnailCache *self, gsize limit)
{
    while (self->bytes > limit && self->lru.tail) {
        unlink_entry(self, self->lru.tail->data);
        self->evicted++;
    }
}

static void finalize(GObject *o)
{
    S4gThumbnailCache *self = S4G_THUMBNAIL_CACHE(o);
    g_queue_init(&self->lru); /* its links live inside the entries, freed with the table */
    g_hash_table_destroy(self->entries);
    G_OBJECT_CLASS(s4g_thumbnail_cache_parent_class)->finalize(o);
}

static void s4g_thumbnail_cache_class_init(S4gThumbnailCacheClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = finalize;
}

static void s4g_thumbnail_cache_init(S4gThumbnailCache *self)
{
    self->entries =
        g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)entry_free);
    g_queue_init(&self->lru);
    self->budget = S4G_THUMBNAIL_CACHE_DEFAULT_BUDGET;
}

S4gThumbnailCache *s4g_thumbnail_cache_new(gsize budget)
{
    S4gThumbnailCache *self = g_object_new(S4G_TYPE_THUMBNAIL_CACHE, NULL);
    self->budget = budget;
    return self;
}

S4gThumbnailCache *s4g_thumbnail_cache_get_default(void)
{
    static S4gThumbnailCache *cache;
    if (!cache) {
        gsize budget = S4G_THUMBNAIL_CACHE_DEFAULT_BUDGET;
        const char *env = g_getenv("S4G_THUMBNAIL_CACHE_MIB");
        if (env && *env) {
            char *end = NULL;
            guint64 mib = g_ascii_strtoull(env, &end, 10);
            if (end && *end == '\0' && mib > 0 && mib < (G_MAXSIZE >> 20))
                budget = (gsize)mib << 20;
            else
                g_warning("S4G_THUMBNAIL_CACHE_MIB=%s: expected a positive whole number of MiB; "
                          "using %zu MiB",
                          env, budget >> 20);
        }
        cache = s4g_thumbnail_cache_new(budget);
    }
    return cache;
}

gsize s4g_thumbnail_cache_texture_bytes(GdkTexture *texture)
{
    return (gsize)gdk_texture_get_width(texture) * (gsize)gdk_texture_get_height(texture) * 4;
}

GdkTexture *s4g_thumbnail_cache_lookup(S4gThumbnailCache *self, gconstpointer key)
{
    g_return_val_if_fail(S4G_IS_THUMBNAIL_CACHE(self), NULL);
    Entry *e = g_hash_table_lookup(self->entries, key);
    if (!e) return NULL;
    g_queue_unlink(&self->lru, &e->link);
    g_queue_push_head_link(&self->lru, &e->link);
    return e->texture;
}

gboolean s4g_thumbnail_cache_contains(S4gThumbnailCache *self, gconstpointer key)
{
    g_return_val_if_fail(S4G_IS_THUMBNAIL_CACHE(self), FALSE);
    return g_hash_table_contains(self->entries, key);
}

gboolean s4g_thumbnail_cache_insert(S4gThumbnailCache *self, gconstpointer key, GdkTexture *texture)
{
    g_return_val_if_fail(S4G_IS_THUMBNAIL_CACHE(self), FALSE);
    g_return_val_if_fail(GDK_IS_TEXTURE(texture), FALSE);
    s4g_thumbnail_cache_remove(self, key);
    gsize bytes = s4g_thumbnail_cache_texture_bytes(texture);
    if (bytes > self->budget) return FALSE;
    evict_to(self, self->budget - bytes);
    Entry *e = g_new0(Entry, 1);
    e->key = key;
    e->texture = g_object_ref(texture);
    e->bytes = bytes;
    e->link.data = e;
    g_queue_push_head_link(&self->lru, &e->link);
    g_hash_table_insert(self->entries, (gpointer)key, e);
    self->bytes += bytes;
    self->inserted++;
    return TRUE;
}

void s4g_thumbnail_cache_remove(S4gThumbnailCache *self, gconstpointer key)
{
    g_return_if_fail(S4G_IS_THUMBNAIL_CACHE(self));
    Entry *e = g_hash_table_lookup(self->entries, key);
    if (e) unlink_entry(self, e);
}

void s4g_thumbnail_cache_clear(S4gThumbnailCache *self)
{
    g_return_if_fail(S4G_IS_THUMBNAIL_CACHE(self));
    while (self->lru.tail)
        unlink_entry(self, self->lru.tail->data);
}

gsize s4g_thumbnail_cache_get_bytes(S4gThumbnailCache *self)
{
    g_return_val_if_fail(S4G_IS_THUMBNAIL_CACHE(self), 0);
    return self->bytes;
}

gsize s4g_thumbnail_cache_get_budget(S4gThumbnailCache *self)
{
    g_return_val_if_fail(S4G_IS_THUMBNAIL_CACHE(self), 0);
    return self->budget;
}

void s4g_thumbnail_cache_set_budget(S4gThumbnailCache *self, gsize budget)
{
    g_return_if_fail(S4G_IS_THUMBNAIL_CACHE(self));
    self->budget = budget;
    evict_to(self, budget);
}

guint s4g_thumbnail_cache_get_n_entries(S4gThumbnailCache *self)
{
    g_return_val_if_fail(S4G_IS_THUMBNAIL_CACHE(self), 0);
    return g_hash_table_size(self->entries);
}

void s4g_thumbnail_cache_note_cancelled(S4gThumbnailCache *self)
{
    g_return_if_fail(S4G_IS_THUMBNAIL_CACHE(self));
    self->cancelled++;
}

void s4g_thumbnail_cache_get_stats(S4gThumbnailCache *self, guint64 *inserted, guint64 *evicted,
                                   guint64 *cancelled)
{
    g_return_if_fail(S4G_IS_THUMBNAIL_CACHE(self));
    if (inserted) *inserted = self->inserted;
    if (evicted) *evicted = self->evicted;
    if (cancelled) *cancelled = self->cancelled;
}
