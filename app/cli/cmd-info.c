/* cmd-info.c — s4g info: every Vulkan device with its features and limits, which one a
 * compute context would take (and why), and the CPU backend. */

#include "s4g-cli.h"
#include "s4g-compute.h"
#include "s4g-devices.h"

#include <stdio.h>
#include <stdlib.h>

static char *api_str(uint32_t v)
{
    return g_strdup_printf("%u.%u.%u", v >> 22, (v >> 12) & 0x3ffu, v & 0xfffu);
}

static void device_json(GString *o, const s4g_vk_device_info *d, gboolean chosen)
{
    g_autofree char *api = api_str(d->api_version);
    char ops[256];
    s4g_vk_subgroup_ops_str(d->subgroup_ops, ops, sizeof ops);
    g_string_append_printf(o, "{\"index\": %d, \"name\": ", d->index);
    s4g_cli_json_append(o, d->name);
    g_string_append_printf(o, ", \"type\": \"%s\", \"vendor_id\": %u, \"device_id\": %u, ",
                           s4g_vk_type_name(d->type), d->vendor_id, d->device_id);
    g_string_append(o, "\"driver\": ");
    s4g_cli_json_append(o, d->driver_name);
    g_string_append(o, ", \"driver_info\": ");
    s4g_cli_json_append(o, d->driver_info);
    g_string_append_printf(o, ", \"api_version\": \"%s\", \"usable\": %s, \"chosen\": %s, ", api,
                           d->usable ? "true" : "false", chosen ? "true" : "false");
    if (!d->usable) {
        g_string_append(o, "\"unusable_why\": ");
        s4g_cli_json_append(o, d->unusable_why);
        g_string_append(o, ", ");
    }
    g_string_append_printf(
        o,
        "\"features\": {\"shader_float16\": %d, \"shader_int8\": %d, \"storage_16bit\": %d, "
        "\"storage_8bit\": %d, \"timeline_semaphore\": %d, \"push_descriptor\": %d, "
        "\"coopmat_nv\": %d, \"coopmat_khr\": %d}, ",
        d->shader_float16, d->shader_int8, d->storage_16bit, d->storage_8bit,
        d->timeline_semaphore, d->push_descriptor, d->coopmat_nv, d->coopmat_khr);
    g_string_append_printf(o, "\"subgroup\": {\"size\": %u, \"in_compute\": %d, \"ops\": ",
                           d->subgroup_size, d->subgroup_in_compute);
    s4g_cli_json_append(o, ops);
    g_string_append_printf(
        o,
        "}, \"limits\": {\"max_storage_buffer_range\": %" G_GUINT64_FORMAT
        ", \"max_memory_allocation_size\": %" G_GUINT64_FORMAT
        ", \"max_compute_shared_memory\": %u, \"max_workgroup_invocations\": %u, "
        "\"max_workgroup_size\": [%u, %u, %u], \"max_workgroup_count\": [%u, %u, %u], "
        "\"max_push_constants\": %u}, \"heaps\": [",
        (guint64)d->max_storage_buffer_range, (guint64)d->max_memory_allocation_size,
        d->max_compute_shared_memory, d->max_workgroup_invocations, d->max_workgroup_size[0],
        d->max_workgroup_size[1], d->max_workgroup_size[2], d->max_workgroup_count[0],
        d->max_workgroup_count[1], d->max_workgroup_count[2], d->max_push_constants);
    for (int h = 0; h < d->n_heaps; h++)
        g_string_append_printf(o, "%s{\"size\": %" G_GUINT64_FORMAT ", \"device_local\": %s}",
                               h ? ", " : "", (guint64)d->heap_size[h],
                               d->heap_device_local[h] ? "true" : "false");
    g_string_append(o, "]}");
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
        g_autoptr(GString) o = g_string_new("{\"vulkan\": ");
        if (!have_vk) {
            g_string_append(o, "{\"available\": false, \"error\": ");
            s4g_cli_json_append(o, verr.msg);
            g_string_append(o, "}");
        } else {
            g_string_append(o, "{\"available\": true, \"devices\": [");
            for (int i = 0; i < n; i++) {
                if (i)
                    g_string_append(o, ", ");
                device_json(o, &devs[i], i == pick);
            }
            g_string_append_printf(o, "], \"chosen\": %d, \"why\": ", pick);
            s4g_cli_json_append(o, why);
            g_string_append(o, "}");
        }
        g_string_append(o, ", \"cpu\": ");
        s4g_cli_json_append(o, s4g_ctx_describe(cpu));
        g_string_append(o, ", \"cpu_kernels\": ");
        s4g_cli_cpu_info_json(o);
        g_string_append_printf(o, ", \"auto_backend\": \"%s\"}", backend);
        printf("%s\n", o->str);
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
