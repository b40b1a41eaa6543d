/* cmd-info.c — s4g info: every Vulkan device with its features and limits, which one a
 * compute context would take (and why), and the CPU backend. */

#include "s4g-cli.h"
#include "s4g-compute.h"
#include "s4g-devices.h"
#include "s4g-json-out.h"

#include <stdio.h>
#include <stdlib.h>

static char *api_str(uint32_t v)
{
    return g_strdup_printf("%u.%u.%u", v >> 22, (v >> 12) & 0x3ffu, v & 0xfffu);
}

static void device_json(JsonBuilder *b, const s4g_vk_device_info *d, gboolean chosen)
{
    g_autofree char *api = api_str(d->api_version);
    char ops[256];
    s4g_vk_subgroup_ops_str(d->subgroup_ops, ops, sizeof ops);
    json_builder_begin_object(b);
    s4g_json_add_int(b, "index", d->index);
    s4g_json_add_string(b, "name", d->name);
    s4g_json_add_string(b, "type", s4g_vk_type_name(d->type));
    s4g_json_add_int(b, "vendor_id", d->vendor_id);
    s4g_json_add_int(b, "device_id", d->device_id);
    s4g_json_add_string(b, "driver", d->driver_name);
    s4g_json_add_string(b, "driver_info", d->driver_info);
    s4g_json_add_string(b, "api_version", api);
    s4g_json_add_bool(b, "usable", d->usable);
    s4g_json_add_bool(b, "chosen", chosen);
    if (!d->usable) s4g_json_add_string(b, "unusable_why", d->unusable_why);
    s4g_json_begin_object(b, "features");
    s4g_json_add_int(b, "shader_float16", d->shader_float16);
    s4g_json_add_int(b, "shader_int8", d->shader_int8);
    s4g_json_add_int(b, "storage_16bit", d->storage_16bit);
    s4g_json_add_int(b, "storage_8bit", d->storage_8bit);
    s4g_json_add_int(b, "timeline_semaphore", d->timeline_semaphore);
    s4g_json_add_int(b, "push_descriptor", d->push_descriptor);
    s4g_json_add_int(b, "coopmat_nv", d->coopmat_nv);
    s4g_json_add_int(b, "coopmat_khr", d->coopmat_khr);
    json_builder_end_object(b);
    s4g_json_begin_object(b, "subgroup");
    s4g_json_add_int(b, "size", d->subgroup_size);
    s4g_json_add_int(b, "in_compute", d->subgroup_in_compute);
    s4g_json_add_string(b, "ops", ops);
    json_builder_end_object(b);
    s4g_json_begin_object(b, "limits");
    s4g_json_add_int(b, "max_storage_buffer_range", (gint64)d->max_storage_buffer_range);
    s4g_json_add_int(b, "max_memory_allocation_size", (gint64)d->max_memory_allocation_size);
    s4g_json_add_int(b, "max_compute_shared_memory", d->max_compute_shared_memory);
    s4g_json_add_int(b, "max_workgroup_invocations", d->max_workgroup_invocations);
    s4g_json_begin_array(b, "max_workgroup_size");
    for (int i = 0; i < 3; i++) s4g_json_add_int(b, NULL, d->max_workgroup_size[i]);
    json_builder_end_array(b);
    s4g_json_begin_array(b, "max_workgroup_count");
    for (int i = 0; i < 3; i++) s4g_json_add_int(b, NULL, d->max_workgroup_count[i]);
    json_builder_end_array(b);
    s4g_json_add_int(b, "max_push_constants", d->max_push_constants);
    json_builder_end_object(b);
    s4g_json_begin_array(b, "heaps");
    for (int h = 0; h < d->n_heaps; h++) {
        json_builder_begin_object(b);
        s4g_json_add_int(b, "size", (gint64)d->heap_size[h]);
        s4g_json_add_bool(b, "device_local", d->heap_device_local[h]);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
}

static void device_text(const s4g_vk_device_info *d, gboolean chosen)
{
    g_autofree char *api = api_str(d->api_version);
    char ops[256];
    s4g_vk_subgroup_ops_str(d->subgroup_ops, ops, sizeof ops);
    printf("%s [%d] %s (%s)\n", chosen ? "*" : " ", d->index, d->name, s4g_vk_type_name(d->type));
    printf("      vendor 0x%04x device 0x%04x, driver %s %s, Vulkan %s%s%s\n", d->vendor_id,
           d->device_id, d->driver_name[0] ? d->driver_name : "?", d->driver_info, api,
           d->usable ? "" : " — unusable: ", d->usable ? "" : d->unusable_why);
    printf("      features: float16 %s, int8 %s, 16-bit storage %s, 8-bit storage %s, "
           "timeline semaphores %s, push descriptors %s\n",
           d->shader_float16 ? "yes" : "no", d->shader_int8 ? "yes" : "no",
           d->storage_16bit ? "yes" : "no", d->storage_8bit ? "yes" : "no",
           d->timeline_semaphore ? "yes" : "no", d->push_descriptor ? "yes" : "no");
    printf("      cooperative matrix: NV %s, KHR %s\n", d->coopmat_nv ? "yes" : "no",
           d->coopmat_khr ? "yes" : "no");
    printf("      subgroup: size %u, ops %s%s\n", d->subgroup_size, ops,
           d->subgroup_in_compute ? "" : " (not in compute)");
    printf("      limits: storage buffer range %" G_GUINT64_FORMAT " MiB, allocation %" G_GUINT64_FORMAT
           " MiB, shared memory %u KiB, workgroup %u invocations (%u x %u x %u), "
           "count %u x %u x %u, push constants %u B\n",
           (guint64)(d->max_storage_buffer_range >> 20), (guint64)(d->max_memory_allocation_size >> 20),
           d->max_compute_shared_memory / 1024, d->max_workgroup_invocations,
           d->max_workgroup_size[0], d->max_workgroup_size[1], d->max_workgroup_size[2],
           d->max_workgroup_count[0], d->max_workgroup_count[1], d->max_workgroup_count[2],
           d->max_push_constants);
    printf("      memory heaps:");
    for (int h = 0; h < d->n_heaps; h++)
        printf("%s %" G_GUINT64_FORMAT " MiB%s", h ? "," : "", (guint64)(d->heap_size[h] >> 20),
               d->heap_device_local[h] ? " device-local" : "");
    printf("\n");
}

int s4g_cmd_info(int argc, char **argv)
{
    gboolean json = FALSE;
    g_autofree char *device_opt = NULL;
    GOptionEntry entries[] = {
        {"json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL},
        {"device", 'd', 0, G_OPTION_ARG_STRING, &device_opt,
         "Vulkan device to choose: index or name substring (else S4G_DEVICE, else best)", "X"},
        {NULL},
    };
    if (!s4g_cli_parse("info", NULL, "compute devices and backends", entries, &argc, &argv))
        return 2;
    const char *from = NULL;
    g_autofree char *device = s4g_cli_device(device_opt, &from);

    s4g_ctx_opts co = {.backend = S4G_BACKEND_CPU};
    s4g_err err = {0};
    s4g_ctx *cpu = s4g_ctx_new(&co, &err);
    if (!cpu) {
        fprintf(stderr, "s4g info: CPU backend: %s\n", err.msg);
        return 1;
    }

    s4g_vk_device_info *devs = NULL;
    int n = 0;
    s4g_err verr = {0};
    int have_vk = s4g_vk_list_devices(&devs, &n, &verr) == 0;
    s4g_ctx_opts vo = {.device = device};
    char why[512] = "";
    int pick = have_vk ? s4g_vk_choose_device(devs, n, &vo, why, sizeof why) : -1;
    if (pick >= 0 && device) g_snprintf(why, sizeof why, "named by %s", from);
    /* What S4G_BACKEND_AUTO does, as the engine decides it (with a device that can be taken) */
    gboolean auto_vk = pick >= 0 && s4g_backend_resolve(&vo) == S4G_BACKEND_VULKAN;
    const char *backend = auto_vk ? "vulkan" : "cpu";

    if (json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        s4g_json_begin_object(b, "vulkan");
        s4g_json_add_bool(b, "available", have_vk);
        if (!have_vk) {
            s4g_json_add_string(b, "error", verr.msg);
        } else {
            s4g_json_begin_array(b, "devices");
            for (int i = 0; i < n; i++)
                device_json(b, &devs[i], i == pick);
            json_builder_end_array(b);
            s4g_json_add_int(b, "chosen", pick);
            s4g_json_add_string(b, "why", why);
        }
        json_builder_end_object(b);
        s4g_json_add_string(b, "cpu", s4g_ctx_describe(cpu));
        s4g_cli_cpu_info_json(b, "cpu_kernels");
        s4g_json_add_string(b, "auto_backend", backend);
        json_builder_end_object(b);
        s4g_json_print(b, stdout);
    } else {
        if (!have_vk) {
            printf("Vulkan: not available — %s\n", verr.msg);
        } else if (n == 0) {
            printf("Vulkan: loader present, but no device\n");
        } else {
            printf("Vulkan devices (%d):\n", n);
            for (int i = 0; i < n; i++)
                device_text(&devs[i], i == pick);
            if (pick >= 0)
                printf("Chosen: [%d] %s — %s\n", pick, devs[pick].name, why);
            else
                printf("Chosen: none — %s\n", why);
        }
        printf("CPU backend: %s\n", s4g_ctx_describe(cpu));
        s4g_cli_cpu_info_text();
        printf("Default backend (auto): %s\n", backend);
    }
    free(devs);
    s4g_ctx_free(cpu);
    return 0;
}
