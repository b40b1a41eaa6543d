/* s4g-embedding-view.h — a 2-D map of a model's embeddings, as FiftyOne's embeddings panel:
 * the cached embeddings of ground photos and satellite tiles projected on their first two
 * principal components (power iteration), tiles as small grey dots, photos as discs
 * coloured by their prediction error (green near, red far, grey unknown).  A click on a
 * photo's disc emits "photo-activated" with its image id. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define S4G_TYPE_EMBEDDING_VIEW (s4g_embedding_view_get_type())
G_DECLARE_FINAL_TYPE(S4gEmbeddingView, s4g_embedding_view, S4G, EMBEDDING_VIEW, GtkWidget)

GtkWidget *s4g_embedding_view_new(void);
/* n points: xy[2n] (any scale), their image ids, whether each is a ground photo, and each
 * photo's error in metres (NAN: none).  Copied. */
void s4g_embedding_view_set_points(S4gEmbeddingView *self, const float *xy, const gint64 *ids,
                                   const gboolean *ground, const double *error, guint n);
guint s4g_embedding_view_get_n(S4gEmbeddingView *self, gboolean ground);
/* The widget position of point i (after a layout), for tests. */
gboolean s4g_embedding_view_point_position(S4gEmbeddingView *self, guint i, double *x, double *y);
/* The ground photo nearest to (x, y) within 10 px: its image id, else 0. */
gint64 s4g_embedding_view_pick(S4gEmbeddingView *self, double x, double y);
void s4g_embedding_view_set_selected(S4gEmbeddingView *self, gint64 image);

/* The n rows of X [n × dim] projected on their first two principal components (centred;
 * power iteration with deflation, `iters` steps each, from a fixed start): out[2n]. */
void s4g_pca2(const float *x, guint n, int dim, int iters, float *out);

G_END_DECLS
