/* cmd-encode.c — s4g encode: run the ConvNeXt encoder over a float32 NCHW .npy batch and
 * write the N x D features as .npy (pre-L2, exactly what timm returns, or unit vectors with
 * --normalize).  Scripts use it to compare against PyTorch and to export embeddings. */
#include "s4g-cli.h"
#include "s4g-json-out.h"
#include "s4g-compute.h"
#include "s4g-convnext.h"
#include "s4g-npy.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int s4g_cmd_encode(int argc, char **argv)
{
    g_autofree char *weights = NULL, *input = NULL, *output = NULL, *arch = NULL;
    gboolean normalize = FALSE;
    int batch = 16;
    GOptionEntry entries[] = {
        {"weights", 'w', 0, G_OPTION_ARG_FILENAME, &weights,
         "ConvNeXt weights: .safetensors or PyTorch .pth (timm, Sample4Geo, DataParallel or Facebook names)", "FILE"},
        {"input", 'i', 0, G_OPTION_ARG_FILENAME, &input,
         "Images as float32 .npy, shape N x 3 x H x W (already normalised)", "FILE"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Features .npy to write (N x D)",
         "FILE"},
        {"arch", 'a', 0, G_OPTION_ARG_STRING, &arch,
         "Preset (atto femto pico nano tiny small base); default: from the weights' keys",
         "PRESET"},
        {"batch", 0, 0, G_OPTION_ARG_INT, &batch, "Images per forward pass (default 16)", "N"},
        {"normalize", 0, 0, G_OPTION_ARG_NONE, &normalize,
         "L2-normalise the features (unit vectors, as used for retrieval)", NULL},
        {NULL},
    };
    g_auto(S4gCliOptions) o = {.shared = S4G_CLI_BACKEND | S4G_CLI_JSON,
                               .json_help = "Print a JSON summary"};
    if (!s4g_cli_parse_opts("encode", NULL, "encode images with a ConvNeXt into feature vectors",
                            entries, &o, &argc, &argv))
        return 2;
    gboolean json = o.json;
    if (!weights || !input || !output) {
        fprintf(stderr, "s4g encode: --weights, --input and --output are required\n");
        return 2;
    }
    if (batch < 1) {
        fprintf(stderr, "s4g encode: --batch must be >= 1\n");
        return 2;
    }
    s4g_err err = {0};
    s4g_convnext_cfg cfg;
    if (arch ? s4g_convnext_preset(arch, &cfg, &err) : s4g_convnext_cfg_from_file(weights, &cfg, &err)) {
        fprintf(stderr, "s4g encode: %s\n", err.msg);
        return 1;
    }
    s4g_npy x;
    if (s4g_npy_read(input, &x, &err)) {
        fprintf(stderr, "s4g encode: %s\n", err.msg);
        return 1;
    }
    if (x.ndim != 4 || x.shape[1] != 3 || x.shape[0] < 1 || x.shape[0] > INT32_MAX ||
        x.shape[2] > 65536 || x.shape[3] > 65536) {
        GString *shape = g_string_new(NULL);
        for (int i = 0; i < x.ndim; i++)
            g_string_append_printf(shape, "%s%" G_GINT64_FORMAT, i ? " x " : "",
                                   (gint64)x.shape[i]);
        fprintf(stderr, "s4g encode: %s: expected shape N x 3 x H x W with N >= 1, got %s\n",
                input, x.ndim ? shape->str : "a scalar");
        g_string_free(shape, TRUE);
        s4g_npy_clear(&x);
        return 1;
    }
    for (size_t i = 0; i < x.count; i++)
        if (!isfinite(x.data[i])) {
            fprintf(stderr, "s4g encode: %s: element %zu is %s (pixels must be finite)\n", input,
                    i, isnan(x.data[i]) ? "NaN" : "infinite");
            s4g_npy_clear(&x);
            return 1;
        }
    int N = (int)x.shape[0], H = (int)x.shape[2], W = (int)x.shape[3];
    s4g_ctx *ctx = s4g_cli_make_ctx("encode", &o);
    if (!ctx) {
        s4g_npy_clear(&x);
        return 1;
    }
    char report[512];
    s4g_convnext *m = s4g_convnext_open(ctx, &cfg, weights, report, sizeof report, &err);
    int D = cfg.dims[3], rc = 1;
    float *out = g_new(float, (size_t)N * D);
    gint64 t0 = g_get_monotonic_time();
    if (!m) {
        fprintf(stderr, "s4g encode: %s\n", err.msg);
        goto out;
    }
    fprintf(stderr, "s4g encode: %s\n", report);
    S4gProgress *prog = s4g_progress_new("encode", N, !json);
    for (int s = 0; s < N; s += batch) {
        int n = N - s < batch ? N - s : batch;
        if (s4g_convnext_encode_nchw(m, n, H, W, x.data + (size_t)s * 3 * H * W, batch,
                                     out + (size_t)s * D, &err)) {
            s4g_progress_finish(prog);
            fprintf(stderr, "s4g encode: images %d..%d: %s\n", s, s + n - 1, err.msg);
            goto out;
        }
        s4g_progress_update(prog, s + n, NULL);
    }
    s4g_progress_finish(prog);
    double secs = (g_get_monotonic_time() - t0) / 1e6;
    if (normalize)
        for (int i = 0; i < N; i++) {
            double s = 0;
            for (int k = 0; k < D; k++)
                s += (double)out[(size_t)i * D + k] * out[(size_t)i * D + k];
            double n = sqrt(s) > 1e-12 ? sqrt(s) : 1e-12;
            for (int k = 0; k < D; k++)
                out[(size_t)i * D + k] = (float)(out[(size_t)i * D + k] / n);
        }
    int64_t shape[2] = {N, D};
    if (s4g_npy_write(output, 2, shape, out, &err)) {
        fprintf(stderr, "s4g encode: %s\n", err.msg);
        goto out;
    }
    const char *pn = s4g_convnext_preset_name(&cfg);
    if (json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        s4g_json_add_int(b, "images", N);
        s4g_json_add_int(b, "dim", D);
        s4g_json_add_int(b, "height", H);
        s4g_json_add_int(b, "width", W);
        s4g_json_add_string(b, "arch", pn ? pn : "custom");
        s4g_json_add_string(b, "backend", s4g_ctx_describe(ctx));
        s4g_json_add_double(b, "seconds", secs);
        s4g_json_add_bool(b, "normalized", normalize);
        s4g_json_add_string(b, "output", output);
        json_builder_end_object(b);
        s4g_json_print(b, stdout);
    } else
        printf("encoded %d images %dx%d -> %d x %d features (%s, %s) in %.2f s: %s\n", N, H, W,
               N, D, pn ? pn : "custom ConvNeXt", s4g_ctx_describe(ctx), secs, output);
    rc = 0;
out:
    g_free(out);
    s4g_npy_clear(&x);
    s4g_convnext_free(m);
    s4g_ctx_free(ctx);
    return rc;
}
