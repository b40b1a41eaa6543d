/* s4g-store-models.h — typed access to the models table: named weights files with their
 * architecture (JSON) and parent. */
#pragma once

#include "s4g-store.h"

G_BEGIN_DECLS

typedef struct {
    gint64 id;
    char *name;
    char *architecture; /* JSON */
    char *weights;      /* relative to the project folder */
    gint64 parent;      /* 0 = none */
    char *created;
    char *source;       /* imported models: the file imported (NULL: trained here) */
    char *sha256;       /* of the source file's bytes, hex (NULL: trained here) */
} S4gModelRow;

void s4g_model_row_free(S4gModelRow *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(S4gModelRow, s4g_model_row_free)

/* Inserts a model (name unique); returns its id or 0 on error. */
gint64 s4g_store_model_add(S4gStore *store, const char *name, const char *architecture,
                           const char *weights, gint64 parent, GError **error);
/* Changes the weights file of a model (e.g. the best checkpoint so far). */
gboolean s4g_store_model_set_weights(S4gStore *store, gint64 id, const char *weights,
                                     GError **error);
/* Records where an imported model's weights came from: the file as given and its SHA-256. */
gboolean s4g_store_model_set_source(S4gStore *store, gint64 id, const char *source,
                                    const char *sha256, GError **error);
/* By id (name NULL) or by name (id 0).  NOT_FOUND when absent. */
S4gModelRow *s4g_store_model_get(S4gStore *store, gint64 id, const char *name, GError **error);
/* All models, oldest first (GPtrArray of S4gModelRow). */
GPtrArray *s4g_store_model_list(S4gStore *store, GError **error);

G_END_DECLS
