/* photo-fixture.h — a large phone-like JPEG made with libvips: smooth colour fields (three
 * bands of Gaussian noise at 1/40 of the size, enlarged with a cubic kernel) with fine
 * grain on top, saved at quality 90 with an EXIF orientation. */
#pragma once

#include <glib.h>
#include <vips/vips.h>

static inline void photo_fixture_make(const char *path, int w, int h, int orientation)
{
    VipsImage *b[3] = {NULL, NULL, NULL}, *rgb = NULL, *big = NULL, *grain = NULL, *sum = NULL,
              *u8 = NULL;
    for (int i = 0; i < 3; i++)
        g_assert_cmpint(vips_gaussnoise(&b[i], w / 40 + 2, h / 40 + 2, "mean", 128.0, "sigma",
                                        45.0, "seed", 11 + i, NULL),
                        ==, 0);
    g_assert_cmpint(vips_bandjoin(b, &rgb, 3, NULL), ==, 0);
    g_assert_cmpint(vips_resize(rgb, &big, 40.0, "kernel", VIPS_KERNEL_CUBIC, NULL), ==, 0);
    VipsImage *crop = NULL;
    g_assert_cmpint(vips_crop(big, &crop, 0, 0, w, h, NULL), ==, 0);
    /* sensor grain: ±4 grey levels per pixel */
    g_assert_cmpint(vips_gaussnoise(&grain, w, h, "mean", 0.0, "sigma", 4.0, "seed", 5, NULL), ==,
                    0);
    g_assert_cmpint(vips_add(crop, grain, &sum, NULL), ==, 0);
    g_assert_cmpint(vips_cast_uchar(sum, &u8, NULL), ==, 0);
    vips_image_set_int(u8, VIPS_META_ORIENTATION, orientation);
    g_assert_cmpint(vips_jpegsave(u8, path, "Q", 90, NULL), ==, 0);
    for (int i = 0; i < 3; i++) g_object_unref(b[i]);
    g_object_unref(rgb), g_object_unref(big), g_object_unref(crop), g_object_unref(grain);
    g_object_unref(sum), g_object_unref(u8);
}
