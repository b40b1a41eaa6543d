/* s4g-vk-context.c — Vulkan backend context. */
#include "../s4g-backend.h"

int s4g_vk_has_gpu(void)
{
    return 0;
}

int s4g_vk_init(s4g_ctx *ctx, const s4g_ctx_opts *opts, s4g_err *err)
{
    (void)ctx;
    (void)opts;
    return s4g_fail(err, S4G_E_UNSUPPORTED, "the Vulkan backend is not built yet");
}
