/* s4g-devices.h — the compute devices of this machine as the engine sees them: every Vulkan
 * physical device with its identity, features and limits, and which one a context with given
 * options would take (and why).  Public: `s4g info` shows it without reaching into vk/. */
#ifndef S4G_DEVICES_H
#define S4G_DEVICES_H

#include "s4g-compute.h"

#include <stdint.h>

typedef enum {
    S4G_VK_TYPE_OTHER = 0,
    S4G_VK_TYPE_INTEGRATED = 1,
    S4G_VK_TYPE_DISCRETE = 2,
    S4G_VK_TYPE_VIRTUAL = 3,
    S4G_VK_TYPE_CPU = 4,
} s4g_vk_device_type; /* same numbering as VkPhysicalDeviceType */

#define S4G_VK_MAX_HEAPS 16

typedef struct s4g_vk_device_info {
    int index;                 /* position in vkEnumeratePhysicalDevices */
    char name[256];
    s4g_vk_device_type type;
    uint32_t vendor_id, device_id;
    char driver_name[256];     /* VkPhysicalDeviceDriverProperties (empty before 1.2) */
    char driver_info[256];
    uint32_t api_version;      /* VK_MAKE_API_VERSION form */
    uint32_t driver_version;

    /* features */
    int shader_float16, shader_int8;
    int storage_16bit, storage_8bit;
    int timeline_semaphore;
    int push_descriptor;       /* VK_KHR_push_descriptor */
    int coopmat_nv;            /* VK_NV_cooperative_matrix */
    int coopmat_khr;           /* VK_KHR_cooperative_matrix */

    /* subgroups */
    uint32_t subgroup_size;
    uint32_t subgroup_ops;     /* VkSubgroupFeatureFlags */
    int subgroup_in_compute;

    /* limits */
    uint64_t max_storage_buffer_range;
    uint64_t max_memory_allocation_size;
    uint32_t max_compute_shared_memory;
    uint32_t max_workgroup_invocations;
    uint32_t max_workgroup_size[3];
    uint32_t max_workgroup_count[3];
    uint32_t max_push_constants;

    /* memory heaps */
    int n_heaps;
    uint64_t heap_size[S4G_VK_MAX_HEAPS];
    int heap_device_local[S4G_VK_MAX_HEAPS];

    int usable;                /* apiVersion >= 1.2 and a compute queue */
    char unusable_why[128];
} s4g_vk_device_info;

const char *s4g_vk_type_name(s4g_vk_device_type t);
/* "basic vote arithmetic ballot shuffle ..." */
void s4g_vk_subgroup_ops_str(uint32_t ops, char *buf, size_t size);

/* Lists every Vulkan physical device without creating a logical device.  *out is malloc'd
 * (free() it); *n may be 0.  No loader/driver: returns -1 with S4G_E_NODEVICE. */
int s4g_vk_list_devices(s4g_vk_device_info **out, int *n, s4g_err *err);

/* Which device a context with these options would take, as an index into the list of
 * s4g_vk_list_devices, or -1 with a reason in why[] (e.g. lavapipe skipped). */
int s4g_vk_choose_device(const s4g_vk_device_info *devs, int n, const s4g_ctx_opts *opts,
                         char *why, size_t why_size);

#endif
