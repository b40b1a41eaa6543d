/* s4g-cli-model.h — what embed, mine and export share: opening a project, one of its
 * datasets and one of its models (a models row, since cached embeddings and mining runs
 * refer to it) on the chosen compute backend, and the image list of a split/view. */
#pragma once

#include "s4g-cli.h"
#include "s4g-model.h"
#include "s4g-store-datasets.h"

typedef struct {
    S4gStore *store;
    S4gStoreDataset ds;
    s4g_ctx *ctx;
    s4g_convnext *m;
    gint64 model_id;
    S4gModelSpec spec;
} S4gCliModel;

/* Opens o->project's store, the dataset (non-NULL) and the model (non-NULL, a models row) on
 * the backend and device of o.  Prints the error as "s4g CMD: ..." and returns FALSE on
 * failure. */
gboolean s4g_cli_model_open(const char *cmd, const S4gCliOptions *o, const char *dataset,
                            const char *model, S4gCliModel *out);
void s4g_cli_model_close(S4gCliModel *cm);

/* The dataset's images of split/view (NULL = any), printing errors. */
GArray *s4g_cli_model_images(const char *cmd, S4gCliModel *cm, const char *split,
                             const char *view);

/* Encodes the images (paths relative to root; NULL = cm's dataset root) that have no cached
 * embedding by cm's model into the embeddings table, with an "embed" progress bar unless
 * quiet; *encoded (may be NULL) gets how many were encoded. */
gboolean s4g_cli_model_embed(S4gCliModel *cm, const char *root, GArray *images, int batch,
                             gboolean quiet, guint *encoded, GError **error);
