/* bench-photo-load — a photo decoded for the model's input, whole then resized (the old
 * path) or shrunk on load then resized (s4g_image_load_tensor).  Peak RSS with
 * /usr/bin/time -v:
 *   bench-photo-load make photo.jpg 8000 6000      (a 48 Mpx JPEG, tests/geo/photo-fixture.h)
 *   bench-photo-load whole|shrink photo.jpg 384 384 */
#include "photo-fixture.h"
#include "s4g-image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s make|whole|shrink PHOTO W H\n", argv[0]);
        return 2;
    }
    g_assert_true(s4g_image_init(NULL));
    int w = atoi(argv[3]), h = atoi(argv[4]);
    if (!strcmp(argv[1], "make")) {
        photo_fixture_make(argv[2], w, h, 1);
        return 0;
    }
    g_autoptr(GError) error = NULL;
    gint64 t0 = g_get_monotonic_time();
    g_autofree float *x = g_new(float, (gsize)w * h * 3);
    if (!strcmp(argv[1], "shrink")) {
        if (!s4g_image_load_tensor(argv[2], (S4gSize){.w = w, .h = h}, FALSE, x, &error))
            g_error("%s", error->message);
    } else {
        g_autoptr(S4gImage) im = s4g_image_load(argv[2], &error);
        if (!im) g_error("%s", error->message);
        g_autoptr(S4gImage) r = s4g_image_resize(im, w, h);
        s4g_image_normalize(r, x, FALSE);
    }
    printf("%s: %.1f ms\n", argv[1], (g_get_monotonic_time() - t0) / 1e3);
    return 0;
}
