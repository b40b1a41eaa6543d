/* fuzz-pickle.c — libFuzzer target for the restricted unpickler alone (data.pkl bytes):
 * opcodes, memo, marks, globals, persistent ids, tensor rebuilds.  The value tree is walked
 * (bounded depth: memo sharing may make it cyclic) so ASan sees every node.  Seeds:
 * tests/fuzz/corpus-pickle (data.pkl of small torch.save files). */
#include "s4g-pickle.h"
#include "fuzz-outcome.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int s4g_fuzz_outcome;

static size_t budget; /* memo sharing makes the tree a DAG: bound the visits, not the depth */

static size_t walk(const s4g_pk *v, int depth)
{
    if (depth > 32 || budget == 0)
        return 0;
    budget--;
    size_t n = 1 + (v->str ? strlen(v->str) : 0) + s4g_pk_describe(v)[0];
    for (size_t i = 0; i < v->n && (v->kind == S4G_PK_TUPLE || v->kind == S4G_PK_LIST ||
                                     v->kind == S4G_PK_DICT);
         i++) {
        n += walk(v->items[i], depth + 1);
        if (v->kind == S4G_PK_DICT)
            n += walk(v->keys[i], depth + 1);
    }
    if (v->kind == S4G_PK_TENSOR)
        n += walk(v->storage, depth + 1) + (size_t)v->ndim;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *img = malloc(size ? size : 1);
    if (!img)
        return 0;
    memcpy(img, data, size);
    s4g_err err = {0};
    s4g_pickle pk;
    int rc = s4g_pickle_load(&pk, img, size, "fuzz.pkl", &err);
    static const char *const names[] = {"fuzz.pkl", NULL};
    s4g_fuzz_note(rc == 0, err.msg, names);
    if (rc == 0) {
        budget = 100000;
        err.code = (int)(walk(pk.root, 0) & 1);
        s4g_pk_get(pk.root, "state_dict");
        s4g_pickle_free(&pk);
    }
    free(img);
    return 0;
}
