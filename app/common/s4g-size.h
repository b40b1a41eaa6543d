/* s4g-size.h — an image size, height first as tensors are laid out and as the command line
 * writes it (H×W: a panorama 384 wide and 64 high is {.h = 64, .w = 384}).  Every size that
 * travels between the app's layers is one of these, so width and height cannot swap. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    int h, w;
} S4gSize;

static inline gboolean s4g_size_equal(S4gSize a, S4gSize b)
{
    return a.h == b.h && a.w == b.w;
}

G_END_DECLS
