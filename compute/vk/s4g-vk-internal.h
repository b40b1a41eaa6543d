/* s4g-vk-internal.h — private state of the Vulkan backend shared by its .c files. */
#ifndef S4G_VK_INTERNAL_H
#define S4G_VK_INTERNAL_H

#include <volk.h>

#include "s4g-vk.h"

/* One VkDeviceMemory block, sub-allocated first-fit; free ranges sorted and coalesced. */
typedef struct vk_range {
    VkDeviceSize off, size;
} vk_range;

typedef struct vk_block {
    VkDeviceMemory mem;
    VkDeviceSize size;
    void *mapped;        /* persistently mapped when the memory type is host-visible+coherent */
    vk_range *free;      /* sorted by offset */
    int n_free, cap_free;
    int live;            /* buffers placed in this block */
} vk_block;

/* A buffer record (s4g_buf->impl). */
typedef struct vk_buffer {
    VkBuffer buf;
    int block;
    VkDeviceSize off, size; /* range taken in the block (size includes alignment padding) */
    VkDeviceSize bind_off;  /* where the VkBuffer is bound in the block */
    uint64_t batch_id;      /* last batch that bound it */
} vk_buffer;

typedef struct vk_pipeline {
    const s4g_vk_kernel *kernel;
    char name[64];
    uint32_t spec[S4G_VK_MAX_SPEC];
    int nspec;
    VkDescriptorSetLayout dsl;
    VkPipelineLayout layout;
    VkPipeline pipe;
} vk_pipeline;

/* A buffer released while the batch may still use it; freed after the next fence. */
typedef struct vk_deferred {
    VkBuffer buf;
    int block;
    VkDeviceSize off, size;
} vk_deferred;

typedef struct vk_state {
    s4g_ctx *ctx;
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice phys;
    VkDevice device;
    struct VolkDeviceTable t;
    VkQueue queue;
    uint32_t queue_family;
    s4g_vk_device_info info;
    int use_push_descriptor;

    /* memory */
    uint32_t mem_type;
    int mem_host_visible;   /* blocks are mapped: uploads/downloads are memcpy */
    VkDeviceSize block_size;
    VkDeviceSize max_alloc;
    vk_block *blocks;
    int n_blocks, cap_blocks;
    /* staging (only when the device memory is not host-visible) */
    VkBuffer staging;
    VkDeviceMemory staging_mem;
    void *staging_map;
    VkDeviceSize staging_size;

    /* pipelines */
    vk_pipeline *pipes;
    int n_pipes, cap_pipes;

    /* recording */
    VkCommandPool pool;
    VkCommandBuffer cmd;
    VkFence fence;
    VkDescriptorPool dpool;  /* fallback when push descriptors are missing */
    int recording;
    int n_dispatches;        /* in the current batch */
    uint64_t batch_id;
    VkBuffer *touched;       /* buffers bound since the last barrier */
    int n_touched, cap_touched;
    vk_deferred *deferred;
    int n_deferred, cap_deferred;
    uint64_t timeout_ns;
    char broken[512];        /* set when a submit failed: the context cannot record again */
} vk_state;

static inline vk_state *vk_of(const s4g_ctx *ctx)
{
    return (vk_state *)ctx->impl;
}

const char *s4g_vk_result_str(VkResult r);
/* Fills info from a physical device (no logical device needed). */
void s4g_vk_query_device(VkPhysicalDevice pd, int index, s4g_vk_device_info *info);
/* volkInitialize + vkCreateInstance (validation optional). */
int s4g_vk_create_instance(int validation, VkInstance *out, s4g_err *err);
/* Physical devices of an instance with their info (both arrays malloc'd). */
int s4g_vk_enumerate(VkInstance inst, VkPhysicalDevice **pds, s4g_vk_device_info **infos,
                     int *n, s4g_err *err);

/* memory (s4g-vk-memory.c) */
int s4g_vk_memory_init(vk_state *s, s4g_err *err);
void s4g_vk_memory_free(vk_state *s);
int s4g_vk_buf_alloc(s4g_ctx *ctx, s4g_buf *buf, s4g_err *err);
void s4g_vk_buf_release(s4g_buf *buf);
int s4g_vk_upload(s4g_buf *buf, size_t off, const float *src, size_t n, s4g_err *err);
int s4g_vk_download(s4g_buf *buf, size_t off, float *dst, size_t n, s4g_err *err);
void s4g_vk_release_deferred(vk_state *s);

/* recording (s4g-vk-dispatch.c) */
int s4g_vk_begin(vk_state *s, s4g_err *err);
int s4g_vk_sync(s4g_ctx *ctx, s4g_err *err);
/* Inserts a global barrier when any of bufs was bound since the last barrier. */
void s4g_vk_hazard(vk_state *s, VkBuffer const *bufs, int n);
void s4g_vk_pipelines_free(vk_state *s);
void s4g_vk_ctx_free_impl(s4g_ctx *ctx);

#define VKCHECK(call_, what_)                                                                  \
    do {                                                                                       \
        VkResult r_ = (call_);                                                                 \
        if (r_ != VK_SUCCESS)                                                                  \
            return s4g_fail(err, S4G_E_VULKAN, "%s: %s", what_, s4g_vk_result_str(r_));       \
    } while (0)

#endif
