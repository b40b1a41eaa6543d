/* fuzz-io.c — libFuzzer target for the file parsers that read untrusted bytes: safetensors
 * (header JSON, offsets, dtype conversion) and .npy.  Built with -Dfuzz=true (clang); the
 * first input byte picks the parser so one corpus covers both.  Any crash, sanitizer report
 * or out-of-bounds read is a bug. */
#include "s4g-npy.h"
#include "s4g-safetensors.h"
#include "fuzz-outcome.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int s4g_fuzz_outcome;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"fuzz.npy", "fuzz.safetensors", NULL};
    s4g_fuzz_outcome = S4G_FUZZ_ACCEPTED; /* the empty input: nothing to parse */
    if (size < 1)
        return 0;
    s4g_err err = {0};
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    if (data[0] & 1) {
        s4g_npy a;
        int rc = s4g_npy_parse(p, n, "fuzz.npy", &a, &err);
        s4g_fuzz_note(rc == 0, err.msg, names);
        if (rc == 0) {
            float sum = 0; /* touch every element so ASan sees the whole array */
            for (size_t i = 0; i < a.count; i++)
                sum += a.data[i];
            err.code = sum != sum;
            s4g_npy_clear(&a);
        }
        return 0;
    }
    /* exact-size heap copy so ASan catches any read past the end */
    uint8_t *img = malloc(n ? n : 1);
    if (!img)
        return 0;
    memcpy(img, p, n);
    s4g_st_file *f = s4g_st_parse(img, n, "fuzz.safetensors", &err);
    s4g_fuzz_note(f != NULL, err.msg, names);
    if (!f)
        return 0; /* the parser owns img, even on failure */
    for (size_t i = 0; i < f->ntensors; i++) {
        const s4g_st_tensor *t = &f->tensors[i];
        if (t->count > (1u << 20))
            continue;
        float *dst = malloc((t->count ? t->count : 1) * sizeof *dst);
        if (dst)
            s4g_st_to_f32(t, dst, &err);
        free(dst);
    }
    s4g_st_meta(f, "format");
    s4g_st_close(f);
    return 0;
}
