/* s4g-vk.h — the Vulkan backend's internal dispatch API: what a kernel's host wrapper uses.
 *
 * A kernel is embedded SPIR-V plus its binding shape.  Shader convention:
 *   layout(std430, set = 0, binding = i) buffer Bi { float d[]; } bi;   (i = 0 .. n_buffers-1)
 *   layout(push_constant) uniform P { uint n; uint off_x; ... } p;      (<= 128 bytes)
 * Every buffer is bound WHOLE; tensor element offsets and dims travel as push constants.
 * Shared GLSL helpers live in shaders/common.glsl.
 *
 * s4g_vk_dispatch records into the context's current command batch (a barrier is inserted
 * before it when it touches a buffer an earlier dispatch of the batch touched); the work
 * runs at s4g_ctx_sync(), at a download, or when the batch grows large.
 */
#ifndef S4G_VK_H
#define S4G_VK_H

#include "../s4g-backend.h"
#include "s4g-vk-device.h"

#include <stddef.h>
#include <stdint.h>

#define S4G_VK_MAX_BUFFERS 12
#define S4G_VK_MAX_PUSH 128
#define S4G_VK_MAX_SPEC 16

typedef struct s4g_vk_kernel {
    const char *name;       /* messages + cache key */
    const uint32_t *spirv;  /* from glslc -mfmt=c: static const uint32_t spv_x[] = \n#include "x.spv.h"\n; */
    size_t spirv_size;      /* bytes (sizeof spv_x) */
    int n_buffers;          /* storage buffers, set 0, bindings 0..n-1, each bound WHOLE */
    uint32_t push_size;     /* bytes of push constants (<= 128) */
} s4g_vk_kernel;

/* Records one dispatch of kernel k with bufs[0..k->n_buffers-1] bound to bindings 0..n-1,
 * `push` (k->push_size bytes, may be NULL when 0) as push constants, and `nspec` uint32
 * specialization constants (constant_id 0..nspec-1).  The pipeline is built on first use
 * and cached per (kernel, specialization constants). */
int s4g_vk_dispatch(s4g_ctx *ctx, const s4g_vk_kernel *k, s4g_buf *const *bufs,
                    const void *push, const uint32_t *spec, int nspec,
                    uint32_t gx, uint32_t gy, uint32_t gz, s4g_err *err);

/* Splits n invocations of workgroup size `local` over x (<= 65535 groups) and y.  Shaders
 * compute i = gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * local
 * and return if i >= n. */
void s4g_vk_grid_1d(size_t n, uint32_t local, uint32_t groups[3]);

/* The device this context runs on (features, limits). */
const s4g_vk_device_info *s4g_vk_ctx_device(const s4g_ctx *ctx);

/* The Vulkan op table (compute/vk/s4g-vk-ops.c). */
extern const s4g_backend_ops s4g_vk_ops;
extern const struct s4g_search_ops s4g_vk_search_ops; /* s4g-vk-search.c */

#endif
