/* s4g-vk-dispatch.c — pipelines (built from embedded SPIR-V on first use, cached per kernel
 * and specialization constants) and command batches: dispatches are recorded into one
 * command buffer, separated by a global memory barrier where they share a buffer, and
 * submitted once at sync (or when the batch grows past MAX_BATCH). */
#include "s4g-vk-internal.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define MAX_BATCH 512

void s4g_vk_grid_1d(size_t n, uint32_t local, uint32_t groups[3])
{
    size_t g = local ? (n + local - 1) / local : 0;
    if (g == 0)
        g = 1;
    size_t gx = g < 65535 ? g : 65535;
    size_t gy = (g + gx - 1) / gx;
    groups[0] = (uint32_t)gx;
    groups[1] = (uint32_t)gy;
    groups[2] = 1;
}

const s4g_vk_device_info *s4g_vk_ctx_device(const s4g_ctx *ctx)
{
    return ctx->kind == S4G_BACKEND_VULKAN ? &vk_of(ctx)->info : NULL;
}

void s4g_vk_pipelines_free(vk_state *s)
{
    for (int i = 0; i < s->n_pipes; i++) {
        vk_pipeline *p = &s->pipes[i];
        s->t.vkDestroyPipeline(s->device, p->pipe, NULL);
        s->t.vkDestroyPipelineLayout(s->device, p->layout, NULL);
        s->t.vkDestroyDescriptorSetLayout(s->device, p->dsl, NULL);
    }
    free(s->pipes);
    s->pipes = NULL;
    s->n_pipes = s->cap_pipes = 0;
}

static vk_pipeline *pipeline_get(vk_state *s, const s4g_vk_kernel *k, const uint32_t *spec,
                                 int nspec, s4g_err *err)
{
    for (int i = 0; i < s->n_pipes; i++) {
        vk_pipeline *p = &s->pipes[i];
        if (p->kernel == k && p->nspec == nspec &&
            (nspec == 0 || memcmp(p->spec, spec, (size_t)nspec * sizeof *spec) == 0))
            return p;
    }
    if (s->n_pipes == s->cap_pipes) {
        int cap = s->cap_pipes ? 2 * s->cap_pipes : 32;
        vk_pipeline *np = realloc(s->pipes, (size_t)cap * sizeof *np);
        if (!np) {
            s4g_fail(err, S4G_E_NOMEM, "out of host memory");
            return NULL;
        }
        s->pipes = np;
        s->cap_pipes = cap;
    }
    vk_pipeline p = {.kernel = k, .nspec = nspec};
    snprintf(p.name, sizeof p.name, "%s", k->name);
    if (nspec)
        memcpy(p.spec, spec, (size_t)nspec * sizeof *spec);

    VkDescriptorSetLayoutBinding b[S4G_VK_MAX_BUFFERS];
    for (int i = 0; i < k->n_buffers; i++)
        b[i] = (VkDescriptorSetLayoutBinding){(uint32_t)i, VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1,
                                              VK_SHADER_STAGE_COMPUTE_BIT, NULL};
    VkDescriptorSetLayoutCreateInfo dl = {VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
    dl.bindingCount = (uint32_t)k->n_buffers;
    dl.pBindings = b;
    if (s->use_push_descriptor)
        dl.flags = VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR;
    VkResult r = s->t.vkCreateDescriptorSetLayout(s->device, &dl, NULL, &p.dsl);
    if (r != VK_SUCCESS) {
        s4g_fail(err, S4G_E_VULKAN, "%s: vkCreateDescriptorSetLayout: %s", k->name,
                 s4g_vk_result_str(r));
        return NULL;
    }
    VkPushConstantRange pr = {VK_SHADER_STAGE_COMPUTE_BIT, 0, (k->push_size + 3) & ~3u};
    VkPipelineLayoutCreateInfo pl = {VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
    pl.setLayoutCount = 1;
    pl.pSetLayouts = &p.dsl;
    pl.pushConstantRangeCount = k->push_size ? 1 : 0;
    pl.pPushConstantRanges = &pr;
    r = s->t.vkCreatePipelineLayout(s->device, &pl, NULL, &p.layout);
    if (r != VK_SUCCESS) {
        s->t.vkDestroyDescriptorSetLayout(s->device, p.dsl, NULL);
        s4g_fail(err, S4G_E_VULKAN, "%s: vkCreatePipelineLayout: %s", k->name,
                 s4g_vk_result_str(r));
        return NULL;
    }
    VkShaderModuleCreateInfo sm = {VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
    sm.codeSize = k->spirv_size;
    sm.pCode = k->spirv;
    VkShaderModule mod;
    r = s->t.vkCreateShaderModule(s->device, &sm, NULL, &mod);
    if (r != VK_SUCCESS) {
        s->t.vkDestroyPipelineLayout(s->device, p.layout, NULL);
        s->t.vkDestroyDescriptorSetLayout(s->device, p.dsl, NULL);
        s4g_fail(err, S4G_E_VULKAN, "%s: vkCreateShaderModule: %s", k->name,
                 s4g_vk_result_str(r));
        return NULL;
    }
    VkSpecializationMapEntry me[S4G_VK_MAX_SPEC];
    for (int i = 0; i < nspec; i++)
        me[i] = (VkSpecializationMapEntry){(uint32_t)i, (uint32_t)(i * 4), 4};
    VkSpecializationInfo si = {(uint32_t)nspec, me, (size_t)nspec * 4, p.spec};
    VkComputePipelineCreateInfo ci = {VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
    ci.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
    ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    ci.stage.module = mod;
    ci.stage.pName = "main";
    ci.stage.pSpecializationInfo = nspec ? &si : NULL;
    ci.layout = p.layout;
    r = s->t.vkCreateComputePipelines(s->device, VK_NULL_HANDLE, 1, &ci, NULL, &p.pipe);
    s->t.vkDestroyShaderModule(s->device, mod, NULL);
    if (r != VK_SUCCESS) {
        s->t.vkDestroyPipelineLayout(s->device, p.layout, NULL);
        s->t.vkDestroyDescriptorSetLayout(s->device, p.dsl, NULL);
        s4g_fail(err, S4G_E_VULKAN, "%s: vkCreateComputePipelines: %s", k->name,
                 s4g_vk_result_str(r));
        return NULL;
    }
    s->pipes[s->n_pipes] = p;
    return &s->pipes[s->n_pipes++];
}

int s4g_vk_begin(vk_state *s, s4g_err *err)
{
    if (s->recording)
        return 0;
    if (s->broken[0])
        return s4g_fail(err, S4G_E_VULKAN, "Vulkan context unusable after an earlier failure: %s",
                        s->broken);
    VkCommandBufferBeginInfo bi = {VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    VKCHECK(s->t.vkBeginCommandBuffer(s->cmd, &bi), "vkBeginCommandBuffer");
    s->recording = 1;
    s->batch_id++;
    s->n_dispatches = 0;
    s->n_touched = 0;
    return 0;
}

void s4g_vk_hazard(vk_state *s, VkBuffer const *bufs, int n)
{
    int hit = 0;
    for (int i = 0; i < n && !hit; i++)
        for (int j = 0; j < s->n_touched; j++)
            if (s->touched[j] == bufs[i]) {
                hit = 1;
                break;
            }
    if (hit) {
        VkMemoryBarrier mb = {VK_STRUCTURE_TYPE_MEMORY_BARRIER};
        mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
        mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                           VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
        VkPipelineStageFlags st =
            VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
        s->t.vkCmdPipelineBarrier(s->cmd, st, st, 0, 1, &mb, 0, NULL, 0, NULL);
        s->n_touched = 0;
    }
    if (s->n_touched + n > s->cap_touched) {
        int cap = s->cap_touched ? 2 * s->cap_touched : 256;
        while (cap < s->n_touched + n)
            cap *= 2;
        VkBuffer *nt = realloc(s->touched, (size_t)cap * sizeof *nt);
        if (!nt) {
            /* Cannot track: a barrier now is always correct. */
            VkMemoryBarrier mb = {VK_STRUCTURE_TYPE_MEMORY_BARRIER, NULL,
                                  VK_ACCESS_MEMORY_WRITE_BIT,
                                  VK_ACCESS_MEMORY_READ_BIT | VK_ACCESS_MEMORY_WRITE_BIT};
            s->t.vkCmdPipelineBarrier(s->cmd, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT,
                                      VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, 0, 1, &mb, 0, NULL, 0,
                                      NULL);
            s->n_touched = 0;
            return;
        }
        s->touched = nt;
        s->cap_touched = cap;
    }
    for (int i = 0; i < n; i++)
        s->touched[s->n_touched++] = bufs[i];
}

/* After a failed submit or wait the command buffer and fence are in an unknown state, so
 * the context refuses further work (the message says why). */
static int broken(vk_state *s, s4g_err *err, int code, const char *fmt, const char *what,
                  const char *detail)
{
    snprintf(s->broken, sizeof s->broken, fmt, what, detail);
    return s4g_fail(err, code, "%s", s->broken);
}

int s4g_vk_sync(s4g_ctx *ctx, s4g_err *err)
{
    vk_state *s = vk_of(ctx);
    if (!s->recording)
        return 0;
    s->recording = 0;
    /* Device writes must be visible to host reads of mapped memory after the fence. */
    VkMemoryBarrier mb = {VK_STRUCTURE_TYPE_MEMORY_BARRIER, NULL,
                          VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
                          VK_ACCESS_HOST_READ_BIT};
    s->t.vkCmdPipelineBarrier(s->cmd,
                              VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                              VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
    VkResult r = s->t.vkEndCommandBuffer(s->cmd);
    if (r != VK_SUCCESS)
        return broken(s, err, S4G_E_VULKAN, "%s: %s", "vkEndCommandBuffer", s4g_vk_result_str(r));
    VkSubmitInfo si = {VK_STRUCTURE_TYPE_SUBMIT_INFO};
    si.commandBufferCount = 1;
    si.pCommandBuffers = &s->cmd;
    r = s->t.vkQueueSubmit(s->queue, 1, &si, s->fence);
    if (r != VK_SUCCESS)
        return broken(s, err, S4G_E_VULKAN, "%s: %s", "vkQueueSubmit", s4g_vk_result_str(r));
    r = s->t.vkWaitForFences(s->device, 1, &s->fence, VK_TRUE, s->timeout_ns);
    if (r == VK_TIMEOUT) {
        char d[160];
        snprintf(d, sizeof d, "a batch of %d dispatches did not finish in %llu s (S4G_VK_TIMEOUT_S raises the limit)",
                 s->n_dispatches, (unsigned long long)(s->timeout_ns / 1000000000ull));
        return broken(s, err, S4G_E_TIMEOUT, "%s: %s", "vkWaitForFences", d);
    }
    if (r != VK_SUCCESS)
        return broken(s, err, S4G_E_VULKAN, "%s: %s", "vkWaitForFences", s4g_vk_result_str(r));
    VKCHECK(s->t.vkResetFences(s->device, 1, &s->fence), "vkResetFences");
    VKCHECK(s->t.vkResetCommandPool(s->device, s->pool, 0), "vkResetCommandPool");
    if (s->dpool)
        VKCHECK(s->t.vkResetDescriptorPool(s->device, s->dpool, 0), "vkResetDescriptorPool");
    s4g_vk_release_deferred(s);
    s->n_dispatches = 0;
    s->n_touched = 0;
    return 0;
}

int s4g_vk_dispatch(s4g_ctx *ctx, const s4g_vk_kernel *k, s4g_buf *const *bufs,
                    const void *push, const uint32_t *spec, int nspec,
                    uint32_t gx, uint32_t gy, uint32_t gz, s4g_err *err)
{
    vk_state *s = vk_of(ctx);
    if (k->n_buffers < 0 || k->n_buffers > S4G_VK_MAX_BUFFERS)
        return s4g_fail(err, S4G_E_INVALID, "%s: %d buffers (at most %d)", k->name, k->n_buffers,
                        S4G_VK_MAX_BUFFERS);
    if (k->push_size > S4G_VK_MAX_PUSH || k->push_size > s->info.max_push_constants)
        return s4g_fail(err, S4G_E_INVALID, "%s: %u bytes of push constants (device allows %u)",
                        k->name, k->push_size, s->info.max_push_constants);
    if (nspec < 0 || nspec > S4G_VK_MAX_SPEC)
        return s4g_fail(err, S4G_E_INVALID, "%s: %d specialization constants (at most %d)",
                        k->name, nspec, S4G_VK_MAX_SPEC);
    uint32_t g[3] = {gx, gy, gz};
    for (int i = 0; i < 3; i++)
        if (g[i] > s->info.max_workgroup_count[i])
            return s4g_fail(err, S4G_E_INVALID,
                            "%s: %u workgroups in dimension %d exceed the device limit %u",
                            k->name, g[i], i, s->info.max_workgroup_count[i]);
    if (!gx || !gy || !gz)
        return 0;
    VkBuffer vbufs[S4G_VK_MAX_BUFFERS];
    for (int i = 0; i < k->n_buffers; i++) {
        if (!bufs[i] || bufs[i]->ctx != ctx || !bufs[i]->impl)
            return s4g_fail(err, S4G_E_INVALID, "%s: buffer %d is missing or foreign", k->name,
                            i);
        vbufs[i] = ((vk_buffer *)bufs[i]->impl)->buf;
    }
    vk_pipeline *p = pipeline_get(s, k, spec, nspec, err);
    if (!p)
        return -1;
    if (s->recording && s->n_dispatches >= MAX_BATCH && s4g_vk_sync(ctx, err))
        return -1;
    if (s4g_vk_begin(s, err))
        return -1;
    s4g_vk_hazard(s, vbufs, k->n_buffers);
    s->t.vkCmdBindPipeline(s->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipe);

    VkDescriptorBufferInfo bi[S4G_VK_MAX_BUFFERS];
    VkWriteDescriptorSet w[S4G_VK_MAX_BUFFERS];
    for (int i = 0; i < k->n_buffers; i++) {
        bi[i] = (VkDescriptorBufferInfo){vbufs[i], 0, VK_WHOLE_SIZE};
        w[i] = (VkWriteDescriptorSet){VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
        w[i].dstBinding = (uint32_t)i;
        w[i].descriptorCount = 1;
        w[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
        w[i].pBufferInfo = &bi[i];
    }
    if (k->n_buffers > 0) {
        if (s->use_push_descriptor) {
            s->t.vkCmdPushDescriptorSetKHR(s->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0,
                                           (uint32_t)k->n_buffers, w);
        } else {
            VkDescriptorSetAllocateInfo ai = {VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
            ai.descriptorPool = s->dpool;
            ai.descriptorSetCount = 1;
            ai.pSetLayouts = &p->dsl;
            VkDescriptorSet set;
            VkResult r = s->t.vkAllocateDescriptorSets(s->device, &ai, &set);
            if (r != VK_SUCCESS)
                return s4g_fail(err, S4G_E_VULKAN, "%s: vkAllocateDescriptorSets: %s", k->name,
                                s4g_vk_result_str(r));
            for (int i = 0; i < k->n_buffers; i++)
                w[i].dstSet = set;
            s->t.vkUpdateDescriptorSets(s->device, (uint32_t)k->n_buffers, w, 0, NULL);
            s->t.vkCmdBindDescriptorSets(s->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1,
                                         &set, 0, NULL);
        }
    }
    if (k->push_size) {
        uint8_t pc[S4G_VK_MAX_PUSH] = {0};
        if (push)
            memcpy(pc, push, k->push_size);
        s->t.vkCmdPushConstants(s->cmd, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0,
                                (k->push_size + 3) & ~3u, pc);
    }
    s->t.vkCmdDispatch(s->cmd, gx, gy, gz);
    for (int i = 0; i < k->n_buffers; i++)
        ((vk_buffer *)bufs[i]->impl)->batch_id = s->batch_id;
    s->n_dispatches++;
    return 0;
}
