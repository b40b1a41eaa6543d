/* s4g-vk-memory.c — device memory: a few large VkDeviceMemory blocks sub-allocated
 * first-fit with coalescing (drivers limit the number of allocations, and each one is
 * slow), one VkBuffer per s4g_buf bound into a block, and host transfers (memcpy into
 * mapped blocks where the memory is host-visible, else through a reused staging buffer). */
#include "s4g-vk-internal.h"

#include <stdlib.h>
#include <string.h>

#define MIB ((VkDeviceSize)1 << 20)
#define BUF_USAGE                                                                              \
    (VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT |                   \
     VK_BUFFER_USAGE_TRANSFER_DST_BIT)

static VkDeviceSize align_up(VkDeviceSize v, VkDeviceSize a)
{
    return a ? (v + a - 1) / a * a : v;
}

static int find_type(const VkPhysicalDeviceMemoryProperties *mp, uint32_t bits,
                     VkMemoryPropertyFlags want, VkMemoryPropertyFlags avoid)
{
    for (uint32_t i = 0; i < mp->memoryTypeCount; i++) {
        VkMemoryPropertyFlags f = mp->memoryTypes[i].propertyFlags;
        if ((bits & (1u << i)) && (f & want) == want && !(f & avoid))
            return (int)i;
    }
    return -1;
}

int s4g_vk_memory_init(vk_state *s, s4g_err *err)
{
    /* The memory types a storage buffer may live in, from a probe buffer. */
    VkBufferCreateInfo bi = {VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bi.size = 4096;
    bi.usage = BUF_USAGE;
    VkBuffer probe;
    VKCHECK(s->t.vkCreateBuffer(s->device, &bi, NULL, &probe), "vkCreateBuffer (probe)");
    VkMemoryRequirements req;
    s->t.vkGetBufferMemoryRequirements(s->device, probe, &req);
    s->t.vkDestroyBuffer(s->device, probe, NULL);

    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(s->phys, &mp);
    /* Device-local without host visibility first: on discrete GPUs the host-visible
     * device-local type is the small BAR window. */
    int t = find_type(&mp, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT,
                      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT);
    if (t < 0)
        t = find_type(&mp, req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
    if (t < 0)
        t = find_type(&mp, req.memoryTypeBits, 0, 0);
    if (t < 0)
        return s4g_fail(err, S4G_E_NODEVICE, "%s: no memory type for storage buffers",
                        s->info.name);
    s->mem_type = (uint32_t)t;
    VkMemoryPropertyFlags f = mp.memoryTypes[t].propertyFlags;
    s->mem_host_visible = (f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
                          (f & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
    /* Tests: exercise the staging path (discrete GPUs) on lavapipe's host-visible memory. */
    const char *staged = getenv("S4G_VK_NO_HOST_MAPPED");
    if (staged && staged[0] == '1')
        s->mem_host_visible = 0;
    VkDeviceSize heap = mp.memoryHeaps[mp.memoryTypes[t].heapIndex].size;
    s->max_alloc = s->info.max_memory_allocation_size ? s->info.max_memory_allocation_size : heap;
    if (s->max_alloc > heap)
        s->max_alloc = heap;
    s->block_size = heap >= 4096 * MIB ? 256 * MIB : heap >= 1024 * MIB ? 128 * MIB : 64 * MIB;
    const char *env = getenv("S4G_VK_BLOCK_MIB"); /* tests: small blocks to cross boundaries */
    if (env && atoi(env) > 0)
        s->block_size = (VkDeviceSize)atoi(env) * MIB;
    if (s->block_size > s->max_alloc)
        s->block_size = s->max_alloc;
    return 0;
}

static void block_destroy(vk_state *s, vk_block *b)
{
    if (b->mem) {
        if (b->mapped)
            s->t.vkUnmapMemory(s->device, b->mem);
        s->t.vkFreeMemory(s->device, b->mem, NULL);
    }
    free(b->free);
    memset(b, 0, sizeof *b);
}

void s4g_vk_memory_free(vk_state *s)
{
    s4g_vk_release_deferred(s);
    for (int i = 0; i < s->n_blocks; i++)
        block_destroy(s, &s->blocks[i]);
    free(s->blocks);
    s->blocks = NULL;
    s->n_blocks = 0;
    if (s->staging)
        s->t.vkDestroyBuffer(s->device, s->staging, NULL);
    if (s->staging_mem)
        s->t.vkFreeMemory(s->device, s->staging_mem, NULL);
    s->staging = VK_NULL_HANDLE;
    s->staging_mem = VK_NULL_HANDLE;
}

static int block_new(vk_state *s, VkDeviceSize need, s4g_err *err)
{
    VkDeviceSize size = need > s->block_size ? align_up(need, MIB) : s->block_size;
    if (size > s->max_alloc)
        size = need;
    if (size > s->max_alloc)
        return s4g_fail(err, S4G_E_NOMEM,
                        "%s: %llu bytes exceed the largest allocation (%llu bytes)", s->info.name,
                        (unsigned long long)need, (unsigned long long)s->max_alloc);
    int slot = -1;
    for (int i = 0; i < s->n_blocks; i++)
        if (!s->blocks[i].mem)
            slot = i;
    if (slot < 0) {
        if (s->n_blocks == s->cap_blocks) {
            int cap = s->cap_blocks ? 2 * s->cap_blocks : 8;
            vk_block *nb = realloc(s->blocks, (size_t)cap * sizeof *nb);
            if (!nb)
                return s4g_fail(err, S4G_E_NOMEM, "out of host memory");
            s->blocks = nb;
            s->cap_blocks = cap;
        }
        slot = s->n_blocks++;
    }
    vk_block *b = &s->blocks[slot];
    memset(b, 0, sizeof *b);
    VkMemoryAllocateInfo ai = {VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    ai.allocationSize = size;
    ai.memoryTypeIndex = s->mem_type;
    VkResult r = s->t.vkAllocateMemory(s->device, &ai, NULL, &b->mem);
    if (r != VK_SUCCESS) {
        b->mem = VK_NULL_HANDLE;
        return s4g_fail(err, r == VK_ERROR_OUT_OF_DEVICE_MEMORY ? S4G_E_NOMEM : S4G_E_VULKAN,
                        "vkAllocateMemory (%llu MiB block): %s", (unsigned long long)(size / MIB),
                        s4g_vk_result_str(r));
    }
    if (s->mem_host_visible) {
        r = s->t.vkMapMemory(s->device, b->mem, 0, VK_WHOLE_SIZE, 0, &b->mapped);
        if (r != VK_SUCCESS) {
            block_destroy(s, b);
            return s4g_fail(err, S4G_E_VULKAN, "vkMapMemory: %s", s4g_vk_result_str(r));
        }
    }
    b->size = size;
    b->free = malloc(8 * sizeof *b->free);
    if (!b->free) {
        block_destroy(s, b);
        return s4g_fail(err, S4G_E_NOMEM, "out of host memory");
    }
    b->cap_free = 8;
    b->n_free = 1;
    b->free[0] = (vk_range){0, size};
    return slot;
}

/* First fit; returns the start of the taken range (the bind offset is aligned inside). */
static int block_take(vk_block *b, VkDeviceSize size, VkDeviceSize align, VkDeviceSize *range_off,
                      VkDeviceSize *range_size, VkDeviceSize *bind_off)
{
    for (int i = 0; i < b->n_free; i++) {
        vk_range *r = &b->free[i];
        VkDeviceSize a = align_up(r->off, align);
        if (a + size > r->off + r->size)
            continue;
        VkDeviceSize end = a + size;
        *range_off = r->off;
        *range_size = end - r->off;
        *bind_off = a;
        r->size = r->off + r->size - end;
        r->off = end;
        if (r->size == 0) {
            memmove(r, r + 1, (size_t)(b->n_free - i - 1) * sizeof *r);
            b->n_free--;
        }
        return 0;
    }
    return -1;
}

/* Returns a range to the free list, merging with its neighbours. */
static int block_give(vk_block *b, VkDeviceSize off, VkDeviceSize size)
{
    int i = 0;
    while (i < b->n_free && b->free[i].off < off)
        i++;
    int merged_prev = i > 0 && b->free[i - 1].off + b->free[i - 1].size == off;
    int merged_next = i < b->n_free && off + size == b->free[i].off;
    if (merged_prev && merged_next) {
        b->free[i - 1].size += size + b->free[i].size;
        memmove(&b->free[i], &b->free[i + 1], (size_t)(b->n_free - i - 1) * sizeof b->free[0]);
        b->n_free--;
    } else if (merged_prev) {
        b->free[i - 1].size += size;
    } else if (merged_next) {
        b->free[i].off = off;
        b->free[i].size += size;
    } else {
        if (b->n_free == b->cap_free) {
            vk_range *nf = realloc(b->free, (size_t)b->cap_free * 2 * sizeof *nf);
            if (!nf)
                return -1; /* the range leaks until the block goes; nothing breaks */
            b->free = nf;
            b->cap_free *= 2;
        }
        memmove(&b->free[i + 1], &b->free[i], (size_t)(b->n_free - i) * sizeof b->free[0]);
        b->free[i] = (vk_range){off, size};
        b->n_free++;
    }
    return 0;
}

static void range_release(vk_state *s, VkBuffer buf, int block, VkDeviceSize off,
                          VkDeviceSize size)
{
    s->t.vkDestroyBuffer(s->device, buf, NULL);
    vk_block *b = &s->blocks[block];
    block_give(b, off, size);
    /* An empty block goes back to the driver unless it is the only one. */
    if (--b->live == 0) {
        int others = 0;
        for (int i = 0; i < s->n_blocks; i++)
            if (i != block && s->blocks[i].mem)
                others++;
        if (others)
            block_destroy(s, b);
    }
}

void s4g_vk_release_deferred(vk_state *s)
{
    for (int i = 0; i < s->n_deferred; i++)
        range_release(s, s->deferred[i].buf, s->deferred[i].block, s->deferred[i].off,
                      s->deferred[i].size);
    s->n_deferred = 0;
}

int s4g_vk_buf_alloc(s4g_ctx *ctx, s4g_buf *buf, s4g_err *err)
{
    vk_state *s = vk_of(ctx);
    vk_buffer *vb = calloc(1, sizeof *vb);
    if (!vb)
        return s4g_fail(err, S4G_E_NOMEM, "out of host memory");
    VkBufferCreateInfo bi = {VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bi.size = (VkDeviceSize)buf->n * sizeof(float);
    bi.usage = BUF_USAGE;
    VkResult r = s->t.vkCreateBuffer(s->device, &bi, NULL, &vb->buf);
    if (r != VK_SUCCESS) {
        free(vb);
        return s4g_fail(err, S4G_E_VULKAN, "vkCreateBuffer (%zu floats): %s", buf->n,
                        s4g_vk_result_str(r));
    }
    VkMemoryRequirements req;
    s->t.vkGetBufferMemoryRequirements(s->device, vb->buf, &req);
    VkDeviceSize bind = 0;
    int blk = -1;
    for (int i = 0; i < s->n_blocks && blk < 0; i++)
        if (s->blocks[i].mem &&
            block_take(&s->blocks[i], req.size, req.alignment, &vb->off, &vb->size, &bind) == 0)
            blk = i;
    if (blk < 0) {
        blk = block_new(s, req.size, err);
        if (blk < 0 ||
            block_take(&s->blocks[blk], req.size, req.alignment, &vb->off, &vb->size, &bind)) {
            s->t.vkDestroyBuffer(s->device, vb->buf, NULL);
            free(vb);
            if (blk >= 0)
                return s4g_fail(err, S4G_E_NOMEM, "a fresh block cannot hold %llu bytes",
                                (unsigned long long)req.size);
            return -1;
        }
    }
    vb->block = blk;
    s->blocks[blk].live++;
    r = s->t.vkBindBufferMemory(s->device, vb->buf, s->blocks[blk].mem, bind);
    if (r != VK_SUCCESS) {
        range_release(s, vb->buf, blk, vb->off, vb->size);
        free(vb);
        return s4g_fail(err, S4G_E_VULKAN, "vkBindBufferMemory: %s", s4g_vk_result_str(r));
    }
    buf->impl = vb;
    vb->bind_off = bind;
    if (s->blocks[blk].mapped) {
        memset((char *)s->blocks[blk].mapped + bind, 0, bi.size);
        return 0;
    }
    /* Zero on the device, ordered with the batch. */
    if (s4g_vk_begin(s, err))
        return -1;
    s4g_vk_hazard(s, &vb->buf, 1);
    s->t.vkCmdFillBuffer(s->cmd, vb->buf, 0, VK_WHOLE_SIZE, 0);
    vb->batch_id = s->batch_id;
    return 0;
}

void s4g_vk_buf_release(s4g_buf *buf)
{
    vk_buffer *vb = buf->impl;
    if (!vb)
        return;
    vk_state *s = vk_of(buf->ctx);
    if (s->recording && vb->batch_id == s->batch_id) {
        /* The pending batch still uses it: free after the fence. */
        if (s->n_deferred == s->cap_deferred) {
            int cap = s->cap_deferred ? 2 * s->cap_deferred : 64;
            vk_deferred *nd = realloc(s->deferred, (size_t)cap * sizeof *nd);
            if (!nd) {
                s4g_vk_sync(buf->ctx, NULL);
                range_release(s, vb->buf, vb->block, vb->off, vb->size);
                goto done;
            }
            s->deferred = nd;
            s->cap_deferred = cap;
        }
        s->deferred[s->n_deferred++] = (vk_deferred){vb->buf, vb->block, vb->off, vb->size};
    } else {
        range_release(s, vb->buf, vb->block, vb->off, vb->size);
    }
done:
    free(vb);
    buf->impl = NULL;
}

static int staging_ensure(vk_state *s, VkDeviceSize size, s4g_err *err)
{
    if (s->staging && s->staging_size >= size)
        return 0;
    if (s->staging) {
        s->t.vkDestroyBuffer(s->device, s->staging, NULL);
        s->t.vkFreeMemory(s->device, s->staging_mem, NULL);
        s->staging = VK_NULL_HANDLE;
        s->staging_mem = VK_NULL_HANDLE;
    }
    VkBufferCreateInfo bi = {VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bi.size = size;
    bi.usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    VKCHECK(s->t.vkCreateBuffer(s->device, &bi, NULL, &s->staging), "vkCreateBuffer (staging)");
    VkMemoryRequirements req;
    s->t.vkGetBufferMemoryRequirements(s->device, s->staging, &req);
    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(s->phys, &mp);
    int t = find_type(&mp, req.memoryTypeBits,
                      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT |
                          VK_MEMORY_PROPERTY_HOST_CACHED_BIT,
                      0);
    if (t < 0)
        t = find_type(&mp, req.memoryTypeBits,
                      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 0);
    if (t < 0)
        return s4g_fail(err, S4G_E_VULKAN, "%s: no host-visible coherent memory for staging",
                        s->info.name);
    VkMemoryAllocateInfo ai = {VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    ai.allocationSize = req.size;
    ai.memoryTypeIndex = (uint32_t)t;
    VKCHECK(s->t.vkAllocateMemory(s->device, &ai, NULL, &s->staging_mem),
            "vkAllocateMemory (staging)");
    VKCHECK(s->t.vkBindBufferMemory(s->device, s->staging, s->staging_mem, 0),
            "vkBindBufferMemory (staging)");
    VKCHECK(s->t.vkMapMemory(s->device, s->staging_mem, 0, VK_WHOLE_SIZE, 0, &s->staging_map),
            "vkMapMemory (staging)");
    s->staging_size = size;
    return 0;
}

#define STAGING_MAX (64 * MIB)

/* Copies between a device buffer and the staging buffer in chunks, in batch order. */
static int staged(vk_state *s, vk_buffer *vb, size_t off, void *host, size_t n, int to_device,
                  s4g_err *err)
{
    VkDeviceSize total = (VkDeviceSize)n * sizeof(float);
    VkDeviceSize chunk = total < STAGING_MAX ? total : STAGING_MAX;
    if (staging_ensure(s, chunk, err))
        return -1;
    for (VkDeviceSize done = 0; done < total; done += chunk) {
        VkDeviceSize len = total - done < chunk ? total - done : chunk;
        if (to_device)
            memcpy(s->staging_map, (char *)host + done, len);
        if (s4g_vk_begin(s, err))
            return -1;
        s4g_vk_hazard(s, &vb->buf, 1);
        VkBufferCopy c = {0, off * sizeof(float) + done, len};
        if (!to_device) {
            c.srcOffset = c.dstOffset;
            c.dstOffset = 0;
        }
        if (to_device)
            s->t.vkCmdCopyBuffer(s->cmd, s->staging, vb->buf, 1, &c);
        else
            s->t.vkCmdCopyBuffer(s->cmd, vb->buf, s->staging, 1, &c);
        vb->batch_id = s->batch_id;
        if (s4g_vk_sync(s->ctx, err))
            return -1;
        if (!to_device)
            memcpy((char *)host + done, s->staging_map, len);
    }
    return 0;
}

int s4g_vk_upload(s4g_buf *buf, size_t off, const float *src, size_t n, s4g_err *err)
{
    vk_state *s = vk_of(buf->ctx);
    vk_buffer *vb = buf->impl;
    vk_block *b = &s->blocks[vb->block];
    if (b->mapped) {
        /* The pending batch may read the old contents: let it finish first. */
        if (s->recording && vb->batch_id == s->batch_id && s4g_vk_sync(buf->ctx, err))
            return -1;
        memcpy((char *)b->mapped + vb->bind_off + off * sizeof(float), src, n * sizeof(float));
        return 0;
    }
    return staged(s, vb, off, (void *)src, n, 1, err);
}

int s4g_vk_download(s4g_buf *buf, size_t off, float *dst, size_t n, s4g_err *err)
{
    vk_state *s = vk_of(buf->ctx);
    vk_buffer *vb = buf->impl;
    vk_block *b = &s->blocks[vb->block];
    if (b->mapped) {
        if (s4g_vk_sync(buf->ctx, err))
            return -1;
        memcpy(dst, (char *)b->mapped + vb->bind_off + off * sizeof(float), n * sizeof(float));
        return 0;
    }
    return staged(s, vb, off, dst, n, 0, err);
}
