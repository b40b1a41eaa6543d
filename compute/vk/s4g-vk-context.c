/* s4g-vk-context.c — the Vulkan backend context: instance (with the validation layer and a
 * debug messenger on request), device choice, logical device, command pool and fence. */
#include "s4g-vk-internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT sev,
                                                 VkDebugUtilsMessageTypeFlagsEXT type,
                                                 const VkDebugUtilsMessengerCallbackDataEXT *d,
                                                 void *user)
{
    (void)type;
    s4g_ctx *ctx = user;
    fprintf(stderr, "s4g vulkan validation (%s): %s\n",
            sev & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT ? "error" : "warning",
            d && d->pMessage ? d->pMessage : "(no message)");
    if (ctx)
        ctx->validation_errors++;
    return VK_FALSE;
}

static void vk_ctx_free(s4g_ctx *ctx)
{
    vk_state *s = vk_of(ctx);
    if (!s)
        return;
    if (s->device) {
        if (s->recording)
            s4g_vk_sync(ctx, NULL);
        s->t.vkDeviceWaitIdle(s->device);
        s4g_vk_memory_free(s);
        s4g_vk_pipelines_free(s);
        if (s->dpool)
            s->t.vkDestroyDescriptorPool(s->device, s->dpool, NULL);
        if (s->fence)
            s->t.vkDestroyFence(s->device, s->fence, NULL);
        if (s->pool)
            s->t.vkDestroyCommandPool(s->device, s->pool, NULL);
        s->t.vkDestroyDevice(s->device, NULL);
    }
    if (s->messenger)
        vkDestroyDebugUtilsMessengerEXT(s->instance, s->messenger, NULL);
    if (s->instance)
        vkDestroyInstance(s->instance, NULL);
    free(s->touched);
    free(s->deferred);
    free(s);
    ctx->impl = NULL;
}

static int create_device(vk_state *s, s4g_err *err)
{
    uint32_t nq = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(s->phys, &nq, NULL);
    VkQueueFamilyProperties qf[32];
    if (nq > 32)
        nq = 32;
    vkGetPhysicalDeviceQueueFamilyProperties(s->phys, &nq, qf);
    int fam = -1;
    /* A compute-only family first (async compute on discrete GPUs), else any with compute. */
    for (uint32_t i = 0; i < nq && fam < 0; i++)
        if ((qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && !(qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT))
            fam = (int)i;
    for (uint32_t i = 0; i < nq && fam < 0; i++)
        if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT)
            fam = (int)i;
    if (fam < 0)
        return s4g_fail(err, S4G_E_NODEVICE, "%s: no compute queue", s->info.name);
    s->queue_family = (uint32_t)fam;

    const char *no_push = getenv("S4G_VK_NO_PUSH_DESCRIPTOR"); /* exercises the fallback */
    s->use_push_descriptor = s->info.push_descriptor && !(no_push && no_push[0] == '1');
    const char *exts[4];
    uint32_t ne = 0;
    if (s->use_push_descriptor)
        exts[ne++] = VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME;

    float prio = 1.0f;
    VkDeviceQueueCreateInfo qi = {VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    qi.queueFamilyIndex = s->queue_family;
    qi.queueCount = 1;
    qi.pQueuePriorities = &prio;
    VkDeviceCreateInfo di = {VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
    di.queueCreateInfoCount = 1;
    di.pQueueCreateInfos = &qi;
    di.enabledExtensionCount = ne;
    di.ppEnabledExtensionNames = exts;
    VKCHECK(vkCreateDevice(s->phys, &di, NULL, &s->device), "vkCreateDevice");
    volkLoadDeviceTable(&s->t, s->device);
    s->t.vkGetDeviceQueue(s->device, s->queue_family, 0, &s->queue);

    VkCommandPoolCreateInfo pi = {VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pi.flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT;
    pi.queueFamilyIndex = s->queue_family;
    VKCHECK(s->t.vkCreateCommandPool(s->device, &pi, NULL, &s->pool), "vkCreateCommandPool");
    VkCommandBufferAllocateInfo ai = {VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    ai.commandPool = s->pool;
    ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    ai.commandBufferCount = 1;
    VKCHECK(s->t.vkAllocateCommandBuffers(s->device, &ai, &s->cmd), "vkAllocateCommandBuffers");
    VkFenceCreateInfo fi = {VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VKCHECK(s->t.vkCreateFence(s->device, &fi, NULL, &s->fence), "vkCreateFence");
    if (!s->use_push_descriptor) {
        /* One set per dispatch; a batch holds at most 512 dispatches (then it is submitted). */
        VkDescriptorPoolSize ps = {VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 520 * S4G_VK_MAX_BUFFERS};
        VkDescriptorPoolCreateInfo dp = {VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
        dp.maxSets = 520;
        dp.poolSizeCount = 1;
        dp.pPoolSizes = &ps;
        VKCHECK(s->t.vkCreateDescriptorPool(s->device, &dp, NULL, &s->dpool),
                "vkCreateDescriptorPool");
    }
    return 0;
}

int s4g_vk_init(s4g_ctx *ctx, const s4g_ctx_opts *opts, s4g_err *err)
{
    vk_state *s = calloc(1, sizeof *s);
    if (!s)
        return s4g_fail(err, S4G_E_NOMEM, "out of host memory");
    s->ctx = ctx;
    s->batch_id = 1;
    ctx->impl = s;
    ctx->ops = &s4g_vk_ops;
    const char *tenv = getenv("S4G_VK_TIMEOUT_S");
    s->timeout_ns = (uint64_t)(tenv && atoi(tenv) > 0 ? atoi(tenv) : 300) * 1000000000ull;

    if (s4g_vk_create_instance(opts->validation, &s->instance, err))
        goto fail;
    if (opts->validation) {
        VkDebugUtilsMessengerCreateInfoEXT mi = {
            VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
        mi.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                             VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
        mi.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                         VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                         VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
        mi.pfnUserCallback = on_message;
        mi.pUserData = ctx;
        VkResult r = vkCreateDebugUtilsMessengerEXT(s->instance, &mi, NULL, &s->messenger);
        if (r != VK_SUCCESS) {
            s4g_fail(err, S4G_E_VULKAN, "vkCreateDebugUtilsMessengerEXT: %s",
                     s4g_vk_result_str(r));
            goto fail;
        }
    }
    VkPhysicalDevice *pds = NULL;
    s4g_vk_device_info *infos = NULL;
    int n = 0;
    if (s4g_vk_enumerate(s->instance, &pds, &infos, &n, err))
        goto fail;
    char why[512];
    int pick = s4g_vk_choose_device(infos, n, opts, why, sizeof why);
    if (pick < 0) {
        s4g_fail(err, S4G_E_NODEVICE, "no Vulkan device chosen: %s", why);
        free(pds);
        free(infos);
        goto fail;
    }
    s->phys = pds[pick];
    s->info = infos[pick];
    free(pds);
    free(infos);
    if (create_device(s, err) || s4g_vk_memory_init(s, err))
        goto fail;

    uint64_t range = s->info.max_storage_buffer_range;
    if (range > s->max_alloc)
        range = s->max_alloc;
    /* uint32 element offsets in push constants */
    if (range / sizeof(float) > (1ull << 31))
        range = (1ull << 31) * sizeof(float);
    ctx->max_buffer_floats = (size_t)(range / sizeof(float));
    snprintf(ctx->desc, sizeof ctx->desc, "vulkan: %.200s (%s)", s->info.name,
             s4g_vk_type_name(s->info.type));
    return 0;
fail:
    vk_ctx_free(ctx);
    ctx->ops = NULL;
    return -1;
}

/* Backend-table entries implemented here. */
void s4g_vk_ctx_free_impl(s4g_ctx *ctx)
{
    vk_ctx_free(ctx);
}
