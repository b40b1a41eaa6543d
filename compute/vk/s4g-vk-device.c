/* s4g-vk-device.c — loading Vulkan, listing physical devices and their features, and the
 * device choice policy (discrete > integrated > virtual; CPU devices such as lavapipe only
 * when allowed or named, because the native CPU backend is much faster than lavapipe). */
#include "s4g-vk-internal.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *s4g_vk_result_str(VkResult r)
{
    switch (r) {
#define R(x)                                                                                   \
    case x:                                                                                    \
        return #x;
        R(VK_SUCCESS)
        R(VK_NOT_READY)
        R(VK_TIMEOUT)
        R(VK_INCOMPLETE)
        R(VK_ERROR_OUT_OF_HOST_MEMORY)
        R(VK_ERROR_OUT_OF_DEVICE_MEMORY)
        R(VK_ERROR_INITIALIZATION_FAILED)
        R(VK_ERROR_DEVICE_LOST)
        R(VK_ERROR_MEMORY_MAP_FAILED)
        R(VK_ERROR_LAYER_NOT_PRESENT)
        R(VK_ERROR_EXTENSION_NOT_PRESENT)
        R(VK_ERROR_FEATURE_NOT_PRESENT)
        R(VK_ERROR_INCOMPATIBLE_DRIVER)
        R(VK_ERROR_TOO_MANY_OBJECTS)
        R(VK_ERROR_FORMAT_NOT_SUPPORTED)
        R(VK_ERROR_FRAGMENTED_POOL)
        R(VK_ERROR_OUT_OF_POOL_MEMORY)
        R(VK_ERROR_INVALID_EXTERNAL_HANDLE)
        R(VK_ERROR_FRAGMENTATION)
        R(VK_ERROR_INVALID_SHADER_NV)
#undef R
    default:
        return "VK_ERROR_UNKNOWN";
    }
}

const char *s4g_vk_type_name(s4g_vk_device_type t)
{
    switch (t) {
    case S4G_VK_TYPE_INTEGRATED:
        return "integrated";
    case S4G_VK_TYPE_DISCRETE:
        return "discrete";
    case S4G_VK_TYPE_VIRTUAL:
        return "virtual";
    case S4G_VK_TYPE_CPU:
        return "cpu";
    default:
        return "other";
    }
}

void s4g_vk_subgroup_ops_str(uint32_t ops, char *buf, size_t size)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {
        {VK_SUBGROUP_FEATURE_BASIC_BIT, "basic"},
        {VK_SUBGROUP_FEATURE_VOTE_BIT, "vote"},
        {VK_SUBGROUP_FEATURE_ARITHMETIC_BIT, "arithmetic"},
        {VK_SUBGROUP_FEATURE_BALLOT_BIT, "ballot"},
        {VK_SUBGROUP_FEATURE_SHUFFLE_BIT, "shuffle"},
        {VK_SUBGROUP_FEATURE_SHUFFLE_RELATIVE_BIT, "shuffle_relative"},
        {VK_SUBGROUP_FEATURE_CLUSTERED_BIT, "clustered"},
        {VK_SUBGROUP_FEATURE_QUAD_BIT, "quad"},
    };
    size_t used = 0;
    if (size)
        buf[0] = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(ops & names[i].bit) || used >= size)
            continue;
        int w = snprintf(buf + used, size - used, "%s%s", used ? " " : "", names[i].name);
        if (w > 0)
            used += (size_t)w;
    }
}

static int has_ext(const VkExtensionProperties *e, uint32_t n, const char *name)
{
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(e[i].extensionName, name) == 0)
            return 1;
    return 0;
}

void s4g_vk_query_device(VkPhysicalDevice pd, int index, s4g_vk_device_info *info)
{
    memset(info, 0, sizeof *info);
    info->index = index;

    VkPhysicalDeviceProperties p0;
    vkGetPhysicalDeviceProperties(pd, &p0);
    info->api_version = p0.apiVersion;
    int v12 = VK_API_VERSION_MAJOR(p0.apiVersion) > 1 || VK_API_VERSION_MINOR(p0.apiVersion) >= 2;

    VkPhysicalDeviceDriverProperties drv = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceSubgroupProperties sg = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES};
    VkPhysicalDeviceProperties2 p2 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2};
    p2.pNext = &sg;
    if (v12)
        sg.pNext = &drv;
    vkGetPhysicalDeviceProperties2(pd, &p2);
    const VkPhysicalDeviceProperties *p = &p2.properties;

    snprintf(info->name, sizeof info->name, "%s", p->deviceName);
    info->type = (s4g_vk_device_type)p->deviceType;
    info->vendor_id = p->vendorID;
    info->device_id = p->deviceID;
    info->driver_version = p->driverVersion;
    if (v12) {
        snprintf(info->driver_name, sizeof info->driver_name, "%s", drv.driverName);
        snprintf(info->driver_info, sizeof info->driver_info, "%s", drv.driverInfo);
    }
    info->subgroup_size = sg.subgroupSize;
    info->subgroup_ops = sg.supportedOperations;
    info->subgroup_in_compute = (sg.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) != 0;

    const VkPhysicalDeviceLimits *l = &p->limits;
    info->max_storage_buffer_range = l->maxStorageBufferRange;
    info->max_compute_shared_memory = l->maxComputeSharedMemorySize;
    info->max_workgroup_invocations = l->maxComputeWorkGroupInvocations;
    for (int i = 0; i < 3; i++) {
        info->max_workgroup_size[i] = l->maxComputeWorkGroupSize[i];
        info->max_workgroup_count[i] = l->maxComputeWorkGroupCount[i];
    }
    info->max_push_constants = l->maxPushConstantsSize;

    VkPhysicalDeviceMaintenance3Properties m3 = {
        VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceProperties2 p2b = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, &m3};
    vkGetPhysicalDeviceProperties2(pd, &p2b);
    info->max_memory_allocation_size = m3.maxMemoryAllocationSize;

    if (v12) {
        VkPhysicalDeviceVulkan11Features f11 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES};
        VkPhysicalDeviceVulkan12Features f12 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
                                                &f11};
        VkPhysicalDeviceFeatures2 f2 = {VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2, &f12};
        vkGetPhysicalDeviceFeatures2(pd, &f2);
        info->shader_float16 = f12.shaderFloat16;
        info->shader_int8 = f12.shaderInt8;
        info->storage_16bit = f11.storageBuffer16BitAccess;
        info->storage_8bit = f12.storageBuffer8BitAccess;
        info->timeline_semaphore = f12.timelineSemaphore;
    }

    uint32_t ne = 0;
    vkEnumerateDeviceExtensionProperties(pd, NULL, &ne, NULL);
    VkExtensionProperties *ext = calloc(ne ? ne : 1, sizeof *ext);
    if (ext && vkEnumerateDeviceExtensionProperties(pd, NULL, &ne, ext) >= 0) {
        info->push_descriptor = has_ext(ext, ne, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME);
        info->coopmat_nv = has_ext(ext, ne, "VK_NV_cooperative_matrix");
        /* not in the 1.3.239 headers, hence the literal */
        info->coopmat_khr = has_ext(ext, ne, "VK_KHR_cooperative_matrix");
    }
    free(ext);

    VkPhysicalDeviceMemoryProperties mp;
    vkGetPhysicalDeviceMemoryProperties(pd, &mp);
    info->n_heaps = (int)(mp.memoryHeapCount < S4G_VK_MAX_HEAPS ? mp.memoryHeapCount
                                                                  : S4G_VK_MAX_HEAPS);
    for (int i = 0; i < info->n_heaps; i++) {
        info->heap_size[i] = mp.memoryHeaps[i].size;
        info->heap_device_local[i] =
            (mp.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0;
    }

    uint32_t nq = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, NULL);
    VkQueueFamilyProperties qf[32];
    if (nq > 32)
        nq = 32;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &nq, qf);
    int compute = 0;
    for (uint32_t i = 0; i < nq; i++)
        if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT)
            compute = 1;
    info->usable = v12 && compute;
    if (!v12)
        snprintf(info->unusable_why, sizeof info->unusable_why,
                 "Vulkan %u.%u < 1.2 (the shaders need SPIR-V 1.5)",
                 VK_API_VERSION_MAJOR(p0.apiVersion), VK_API_VERSION_MINOR(p0.apiVersion));
    else if (!compute)
        snprintf(info->unusable_why, sizeof info->unusable_why, "no compute queue");
}

static VkResult loader_result;
static void loader_init(void)
{
    loader_result = volkInitialize();
}

static int loader_ok(s4g_err *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, loader_init);
    if (loader_result != VK_SUCCESS)
        return s4g_fail(err, S4G_E_NODEVICE,
                        "no Vulkan loader: libvulkan.so.1 could not be loaded (install libvulkan1 "
                        "and a Vulkan driver, or use the CPU backend)");
    return 0;
}

static int layer_present(const char *name)
{
    uint32_t n = 0;
    if (vkEnumerateInstanceLayerProperties(&n, NULL) != VK_SUCCESS || n == 0)
        return 0;
    VkLayerProperties *lp = calloc(n, sizeof *lp);
    int found = 0;
    if (lp && vkEnumerateInstanceLayerProperties(&n, lp) >= 0)
        for (uint32_t i = 0; i < n; i++)
            if (strcmp(lp[i].layerName, name) == 0)
                found = 1;
    free(lp);
    return found;
}

int s4g_vk_create_instance(int validation, VkInstance *out, s4g_err *err)
{
    if (loader_ok(err))
        return -1;
    if (volkGetInstanceVersion() < VK_API_VERSION_1_2)
        return s4g_fail(err, S4G_E_NODEVICE, "the Vulkan loader supports only %u.%u (need 1.2)",
                        VK_API_VERSION_MAJOR(volkGetInstanceVersion()),
                        VK_API_VERSION_MINOR(volkGetInstanceVersion()));
    VkApplicationInfo app = {VK_STRUCTURE_TYPE_APPLICATION_INFO};
    app.pApplicationName = "s4g";
    app.pEngineName = "s4g-compute";
    app.apiVersion = VK_API_VERSION_1_2;
    VkInstanceCreateInfo ci = {VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    ci.pApplicationInfo = &app;
    const char *layers[] = {"VK_LAYER_KHRONOS_validation"};
    const char *exts[] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME};
    if (validation) {
        if (!layer_present(layers[0]))
            return s4g_fail(err, S4G_E_UNSUPPORTED,
                            "validation requested but VK_LAYER_KHRONOS_validation is not "
                            "installed (apt install vulkan-validationlayers)");
        ci.enabledLayerCount = 1;
        ci.ppEnabledLayerNames = layers;
        ci.enabledExtensionCount = 1;
        ci.ppEnabledExtensionNames = exts;
    }
    VkResult r = vkCreateInstance(&ci, NULL, out);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER)
        return s4g_fail(err, S4G_E_NODEVICE,
                        "vkCreateInstance: VK_ERROR_INCOMPATIBLE_DRIVER (no Vulkan driver is "
                        "installed; mesa-vulkan-drivers provides lavapipe)");
    VKCHECK(r, "vkCreateInstance");
    volkLoadInstanceOnly(*out);
    return 0;
}

/* Enumerates physical devices of an instance into a malloc'd info array. */
static int enumerate(VkInstance inst, VkPhysicalDevice **pds, s4g_vk_device_info **infos,
                     int *n, s4g_err *err)
{
    uint32_t count = 0;
    VkResult r = vkEnumeratePhysicalDevices(inst, &count, NULL);
    if (r == VK_ERROR_INITIALIZATION_FAILED)
        count = 0; /* only non-matching ICDs: no device */
    else
        VKCHECK(r, "vkEnumeratePhysicalDevices");
    *n = 0;
    *infos = calloc(count ? count : 1, sizeof **infos);
    VkPhysicalDevice *list = calloc(count ? count : 1, sizeof *list);
    if (!*infos || !list) {
        free(*infos);
        free(list);
        return s4g_fail(err, S4G_E_NOMEM, "out of memory listing Vulkan devices");
    }
    if (count) {
        r = vkEnumeratePhysicalDevices(inst, &count, list);
        if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
            free(*infos);
            free(list);
            return s4g_fail(err, S4G_E_VULKAN, "vkEnumeratePhysicalDevices: %s",
                            s4g_vk_result_str(r));
        }
    }
    for (uint32_t i = 0; i < count; i++)
        s4g_vk_query_device(list[i], (int)i, &(*infos)[i]);
    *n = (int)count;
    if (pds)
        *pds = list;
    else
        free(list);
    return 0;
}

int s4g_vk_enumerate(VkInstance inst, VkPhysicalDevice **pds, s4g_vk_device_info **infos,
                     int *n, s4g_err *err)
{
    return enumerate(inst, pds, infos, n, err);
}

int s4g_vk_list_devices(s4g_vk_device_info **out, int *n, s4g_err *err)
{
    *out = NULL;
    *n = 0;
    VkInstance inst;
    if (s4g_vk_create_instance(0, &inst, err))
        return -1;
    int rc = enumerate(inst, NULL, out, n, err);
    vkDestroyInstance(inst, NULL);
    return rc;
}

static int env_on(const char *name)
{
    const char *v = getenv(name);
    return v && v[0] == '1';
}

static int rank(s4g_vk_device_type t)
{
    switch (t) {
    case S4G_VK_TYPE_DISCRETE:
        return 4;
    case S4G_VK_TYPE_INTEGRATED:
        return 3;
    case S4G_VK_TYPE_VIRTUAL:
        return 2;
    case S4G_VK_TYPE_OTHER:
        return 1;
    default:
        return 0; /* CPU */
    }
}

static int icontains(const char *hay, const char *needle)
{
    size_t nl = strlen(needle);
    for (const char *h = hay; *h; h++)
        if (strncasecmp(h, needle, nl) == 0)
            return 1;
    return nl == 0;
}

int s4g_vk_choose_device(const s4g_vk_device_info *devs, int n, const s4g_ctx_opts *opts,
                         char *why, size_t why_size)
{
    const char *want = opts ? opts->device : NULL;
    if (want && !*want)
        want = NULL;
    if (n == 0) {
        snprintf(why, why_size, "no Vulkan device");
        return -1;
    }
    if (want) {
        int all_digits = 1;
        for (const char *c = want; *c; c++)
            if (!isdigit((unsigned char)*c))
                all_digits = 0;
        for (int i = 0; i < n; i++) {
            if (all_digits ? devs[i].index == atoi(want) : icontains(devs[i].name, want)) {
                if (!devs[i].usable) {
                    snprintf(why, why_size, "device %d (%s) is not usable: %s", i, devs[i].name,
                             devs[i].unusable_why);
                    return -1;
                }
                snprintf(why, why_size, "named by the device option");
                return i;
            }
        }
        snprintf(why, why_size, "no Vulkan device matches \"%s\" (%d device%s listed)", want, n,
                 n == 1 ? "" : "s");
        return -1;
    }
    int allow_cpu = (opts && opts->allow_cpu_device) || env_on("S4G_ALLOW_CPU_DEVICE");
    int best = -1;
    for (int i = 0; i < n; i++) {
        if (!devs[i].usable)
            continue;
        if (devs[i].type == S4G_VK_TYPE_CPU && !allow_cpu)
            continue;
        if (best < 0 || rank(devs[i].type) > rank(devs[best].type))
            best = i;
    }
    if (best >= 0) {
        snprintf(why, why_size, "%s device%s", s4g_vk_type_name(devs[best].type),
                 devs[best].type == S4G_VK_TYPE_CPU ? " allowed (S4G_ALLOW_CPU_DEVICE)" : ", best rank");
        return best;
    }
    for (int i = 0; i < n; i++)
        if (devs[i].usable && devs[i].type == S4G_VK_TYPE_CPU) {
            snprintf(why, why_size,
                     "%s skipped: CPU device; the native CPU backend is faster here "
                     "(S4G_ALLOW_CPU_DEVICE=1 or --device to use it)",
                     devs[i].name);
            return -1;
        }
    snprintf(why, why_size, "no usable Vulkan device");
    return -1;
}

static int has_gpu;
static void gpu_probe(void)
{
    s4g_vk_device_info *d = NULL;
    int n = 0;
    if (s4g_vk_list_devices(&d, &n, NULL) == 0)
        for (int i = 0; i < n; i++)
            if (d[i].usable && d[i].type != S4G_VK_TYPE_CPU)
                has_gpu = 1;
    free(d);
}

/* Cached: the probe creates and destroys an instance once per process. */
int s4g_vk_has_gpu(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, gpu_probe);
    return has_gpu;
}
