/* test-vk-device.c — Vulkan device layer on lavapipe: enumeration and features, device
 * choice policy, buffer round trips (including buffers spanning several memory blocks and
 * block reuse after frees), bad ranges, and a clean validation log. */
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "s4g-compute.h"
#include "vk/s4g-vk-device.h"
#include "vk/s4g-vk.h"

static s4g_ctx *vk_ctx(void)
{
    s4g_ctx_opts o = {.backend = S4G_BACKEND_VULKAN, .allow_cpu_device = 1};
    s4g_err err = {0};
    s4g_ctx *ctx = s4g_ctx_new(&o, &err);
    if (!ctx)
        g_error("vulkan context: %s", err.msg);
    return ctx;
}

static void test_list(void)
{
    s4g_vk_device_info *d = NULL;
    int n = 0;
    s4g_err err = {0};
    g_assert_cmpint(s4g_vk_list_devices(&d, &n, &err), ==, 0);
    g_assert_cmpint(n, >=, 1);
    int lvp = -1;
    for (int i = 0; i < n; i++)
        if (strstr(d[i].name, "llvmpipe"))
            lvp = i;
    g_assert_cmpint(lvp, >=, 0);
    const s4g_vk_device_info *l = &d[lvp];
    g_assert_cmpint(l->type, ==, S4G_VK_TYPE_CPU);
    g_assert_true(l->usable);
    g_assert_cmpuint(l->api_version, >=, (1u << 22) | (2u << 12));
    g_assert_cmpuint(l->subgroup_size, >=, 1);
    g_assert_cmpuint(l->subgroup_ops & 1u, ==, 1u); /* basic */
    g_assert_cmpuint(l->max_storage_buffer_range, >=, 1u << 27);
    g_assert_cmpuint(l->max_compute_shared_memory, >=, 16384);
    g_assert_cmpuint(l->max_workgroup_invocations, >=, 128);
    g_assert_cmpuint(l->max_workgroup_count[0], >=, 65535);
    g_assert_cmpuint(l->max_push_constants, >=, 128);
    g_assert_cmpint(l->n_heaps, >=, 1);
    g_assert_cmpuint(l->heap_size[0], >, 0);
    g_assert_true(l->push_descriptor);
    g_assert_false(l->coopmat_nv);
    g_assert_cmpstr(s4g_vk_type_name(l->type), ==, "cpu");

    /* Policy: lavapipe only when allowed or named. */
    char why[512];
    s4g_ctx_opts none = {0};
    g_unsetenv("S4G_ALLOW_CPU_DEVICE");
    int only_cpu = 1;
    for (int i = 0; i < n; i++)
        if (d[i].usable && d[i].type != S4G_VK_TYPE_CPU)
            only_cpu = 0;
    int pick = s4g_vk_choose_device(d, n, &none, why, sizeof why);
    if (only_cpu) {
        g_assert_cmpint(pick, ==, -1);
        g_assert_nonnull(strstr(why, "CPU device"));
    }
    s4g_ctx_opts named = {.device = "llvmpipe"};
    g_assert_cmpint(s4g_vk_choose_device(d, n, &named, why, sizeof why), ==, lvp);
    s4g_ctx_opts bogus = {.device = "no-such-gpu"};
    g_assert_cmpint(s4g_vk_choose_device(d, n, &bogus, why, sizeof why), ==, -1);
    g_assert_nonnull(strstr(why, "no-such-gpu"));
    s4g_ctx_opts allowed = {.allow_cpu_device = 1};
    g_assert_cmpint(s4g_vk_choose_device(d, n, &allowed, why, sizeof why), >=, 0);
    g_setenv("S4G_ALLOW_CPU_DEVICE", "1", TRUE);
    free(d);

    /* A named device that does not exist is a clear error, not a crash. */
    s4g_err e2 = {0};
    s4g_ctx_opts o = {.backend = S4G_BACKEND_VULKAN, .device = "no-such-gpu"};
    g_assert_null(s4g_ctx_new(&o, &e2));
    g_assert_cmpint(e2.code, ==, S4G_E_NODEVICE);
    g_assert_nonnull(strstr(e2.msg, "no-such-gpu"));
}

static void fill_pattern(float *x, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (float)((i * 2654435761u + seed) % 100003) * 0.001f - 50.0f;
}

static void test_roundtrip(void)
{
    s4g_ctx *ctx = vk_ctx();
    g_assert_cmpint(s4g_ctx_backend(ctx), ==, S4G_BACKEND_VULKAN);
    g_assert_nonnull(strstr(s4g_ctx_describe(ctx), "vulkan"));
    const s4g_vk_device_info *info = s4g_vk_ctx_device(ctx);
    g_assert_nonnull(info);
    g_assert_cmpuint(s4g_ctx_max_buffer_floats(ctx), ==, info->max_storage_buffer_range / 4);
    s4g_err err = {0};

    /* S4G_VK_BLOCK_MIB=1 (set in main): these buffers fill, cross and exceed 1 MiB blocks. */
    size_t sizes[] = {1, 7, 33, 129, 100000, 262144, 262145, 300001, 1};
    enum { NB = sizeof sizes / sizeof sizes[0] };
    s4g_buf *b[NB];
    for (int i = 0; i < NB; i++) {
        b[i] = s4g_buf_new(ctx, sizes[i], &err);
        g_assert_nonnull(b[i]);
        /* zero-initialised */
        float *z = g_new(float, sizes[i]);
        memset(z, 0xff, sizes[i] * sizeof(float));
        g_assert_cmpint(s4g_buf_download(b[i], 0, z, sizes[i], &err), ==, 0);
        for (size_t k = 0; k < sizes[i]; k++)
            g_assert_cmpfloat(z[k], ==, 0.0f);
        g_free(z);
        float *x = g_new(float, sizes[i]);
        fill_pattern(x, sizes[i], (unsigned)i);
        g_assert_cmpint(s4g_buf_upload(b[i], 0, x, sizes[i], &err), ==, 0);
        g_free(x);
    }
    for (int i = 0; i < NB; i++) {
        float *x = g_new(float, sizes[i]), *y = g_new(float, sizes[i]);
        fill_pattern(x, sizes[i], (unsigned)i);
        g_assert_cmpint(s4g_buf_download(b[i], 0, y, sizes[i], &err), ==, 0);
        g_assert_cmpmem(x, sizes[i] * sizeof(float), y, sizes[i] * sizeof(float));
        g_free(x);
        g_free(y);
    }
    /* Free every other buffer, reallocate: freed ranges are reused and contents stay. */
    for (int i = 0; i < NB; i += 2) {
        s4g_buf_free(b[i]);
        b[i] = s4g_buf_new(ctx, sizes[i] + 3, &err);
        g_assert_nonnull(b[i]);
        float *z = g_new(float, sizes[i] + 3);
        g_assert_cmpint(s4g_buf_download(b[i], 0, z, sizes[i] + 3, &err), ==, 0);
        for (size_t k = 0; k < sizes[i] + 3; k++)
            g_assert_cmpfloat(z[k], ==, 0.0f);
        g_free(z);
    }
    for (int i = 1; i < NB; i += 2) {
        float *x = g_new(float, sizes[i]), *y = g_new(float, sizes[i]);
        fill_pattern(x, sizes[i], (unsigned)i);
        g_assert_cmpint(s4g_buf_download(b[i], 0, y, sizes[i], &err), ==, 0);
        g_assert_cmpmem(x, sizes[i] * sizeof(float), y, sizes[i] * sizeof(float));
        g_free(x);
        g_free(y);
    }
    /* Partial upload/download at an offset. */
    float part[5] = {1, 2, 3, 4, 5}, back[7];
    g_assert_cmpint(s4g_buf_upload(b[3], 100, part, 5, &err), ==, 0);
    g_assert_cmpint(s4g_buf_download(b[3], 99, back, 7, &err), ==, 0);
    g_assert_cmpfloat(back[1], ==, 1.0f);
    g_assert_cmpfloat(back[5], ==, 5.0f);
    /* Out of range: an error naming the range, nothing touched. */
    g_assert_cmpint(s4g_buf_upload(b[3], 127, part, 5, &err), ==, -1);
    g_assert_cmpint(err.code, ==, S4G_E_INVALID);
    g_assert_nonnull(strstr(err.msg, "outside buffer of 129"));
    /* Larger than one binding may hold. */
    s4g_err e3 = {0};
    g_assert_null(s4g_buf_new(ctx, s4g_ctx_max_buffer_floats(ctx) + 1, &e3));
    g_assert_cmpint(e3.code, ==, S4G_E_INVALID);

    /* Upload/download ordered with recorded dispatches: fill, then download, then upload
     * over a buffer a pending op reads. */
    s4g_buf *a = s4g_buf_new(ctx, 1000, &err), *c = s4g_buf_new(ctx, 1000, &err);
    g_assert_cmpint(s4g_fill(ctx, 1000, s4g_at(a, 0), 2.5f, &err), ==, 0);
    g_assert_cmpint(s4g_copy(ctx, 1000, s4g_at(a, 0), s4g_at(c, 0), &err), ==, 0);
    float ones[1000];
    for (int i = 0; i < 1000; i++)
        ones[i] = 1.0f;
    g_assert_cmpint(s4g_buf_upload(a, 0, ones, 1000, &err), ==, 0); /* after the copy */
    float got[1000];
    g_assert_cmpint(s4g_buf_download(c, 0, got, 1000, &err), ==, 0);
    g_assert_cmpfloat(got[0], ==, 2.5f);
    g_assert_cmpfloat(got[999], ==, 2.5f);
    g_assert_cmpint(s4g_buf_download(a, 0, got, 1000, &err), ==, 0);
    g_assert_cmpfloat(got[500], ==, 1.0f);
    /* Freeing a buffer the pending batch uses is deferred, not a use-after-free. */
    g_assert_cmpint(s4g_fill(ctx, 1000, s4g_at(c, 0), 7.0f, &err), ==, 0);
    s4g_buf_free(c);
    /* Many dispatches: the batch is submitted automatically past its cap. */
    for (int i = 0; i < 1200; i++)
        g_assert_cmpint(s4g_scale(ctx, 1000, 1.001f, s4g_at(a, 0), &err), ==, 0);
    g_assert_cmpint(s4g_ctx_sync(ctx, &err), ==, 0);
    g_assert_cmpint(s4g_buf_download(a, 0, got, 1000, &err), ==, 0);
    g_assert_cmpfloat_with_epsilon(got[3], powf(1.001f, 1200), 1e-3);
    s4g_buf_free(a);

    for (int i = 0; i < NB; i++)
        s4g_buf_free(b[i]);
    g_assert_cmpint(s4g_ctx_validation_errors(ctx), ==, 0);
    s4g_ctx_free(ctx);
}

/* Device memory that is not host-visible (discrete GPUs): staging copies and device-side
 * zeroing, ordered with the batch. */
static void test_roundtrip_staged(void)
{
    g_setenv("S4G_VK_NO_HOST_MAPPED", "1", TRUE);
    test_roundtrip();
    g_unsetenv("S4G_VK_NO_HOST_MAPPED");
}

/* AUTO takes Vulkan only for a real GPU (or a named device): on a lavapipe-only machine
 * it is the CPU backend, even with S4G_ALLOW_CPU_DEVICE. */
static void test_auto_backend(void)
{
    s4g_vk_device_info *d = NULL;
    int n = 0;
    s4g_err err = {0};
    g_assert_cmpint(s4g_vk_list_devices(&d, &n, &err), ==, 0);
    int gpu = 0;
    for (int i = 0; i < n; i++)
        if (d[i].usable && d[i].type != S4G_VK_TYPE_CPU)
            gpu = 1;
    free(d);
    g_assert_cmpint(s4g_vk_has_gpu(), ==, gpu);
    s4g_ctx_opts o = {.backend = S4G_BACKEND_AUTO};
    s4g_ctx *ctx = s4g_ctx_new(&o, &err);
    g_assert_nonnull(ctx);
    g_assert_cmpint(s4g_ctx_backend(ctx), ==, gpu ? S4G_BACKEND_VULKAN : S4G_BACKEND_CPU);
    s4g_ctx_free(ctx);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    /* 1 MiB memory blocks: the round-trip buffers fill, cross and exceed blocks. */
    g_setenv("S4G_VK_BLOCK_MIB", "1", TRUE);
    g_test_add_func("/vk/device/list", test_list);
    g_test_add_func("/vk/device/roundtrip", test_roundtrip);
    g_test_add_func("/vk/device/roundtrip-staged", test_roundtrip_staged);
    g_test_add_func("/vk/device/auto-backend", test_auto_backend);
    return g_test_run();
}
