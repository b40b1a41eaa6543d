/* fuzz-pth.c — libFuzzer target for PyTorch checkpoints: the whole reader (zip directory,
 * local headers, CRCs, data.pkl through the restricted unpickler, storages and views) over an
 * exact-size heap copy, so ASan sees any read past the end.  Every tensor it returns is read
 * in full and converted when it is a float type.  Seeds: tests/fuzz/corpus-pth (small
 * torch.save files from tools/make-pth-fixtures.py). */
#include "s4g-pth.h"
#include "fuzz-outcome.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int s4g_fuzz_outcome;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *img = malloc(size ? size : 1);
    if (!img)
        return 0;
    memcpy(img, data, size);
    s4g_err err = {0};
    s4g_pth *p = s4g_pth_parse(img, size, "fuzz.pth", &err);
    static const char *const names[] = {"fuzz.pth", NULL};
    s4g_fuzz_note(p != NULL, err.msg, names);
    if (p) {
        unsigned sum = 0;
        for (size_t i = 0; i < p->f->ntensors; i++) {
            const s4g_st_tensor *t = &p->f->tensors[i];
            for (size_t k = 0; k < t->nbytes; k++)
                sum += t->data[k];
            if (t->count <= (1u << 20)) {
                float *dst = malloc((t->count ? t->count : 1) * sizeof *dst);
                if (dst)
                    s4g_st_to_f32(t, dst, &err);
                free(dst);
            }
        }
        err.code = (int)(sum & 1);
        s4g_pth_close(p);
    }
    free(img);
    return 0;
}
