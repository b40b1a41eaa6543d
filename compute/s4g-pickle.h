/* s4g-pickle.h — a restricted unpickler for PyTorch state dicts (data.pkl inside a torch.save
 * zip archive).  It understands the binary opcodes of protocols 2-5 that state dicts use and
 * builds a value tree; it NEVER calls anything named in the pickle.  The only globals given a
 * meaning are:
 *   collections.OrderedDict            -> a dict
 *   torch._utils._rebuild_tensor_v2    -> a tensor view (storage, offset, size, stride)
 *   torch._utils._rebuild_parameter    -> the tensor it wraps
 *   torch.Size                         -> the tuple it wraps
 *   torch.<Type>Storage                -> storage dtype in a persistent id
 *                                         ('storage', type, key, location, numel)
 * Any other global becomes an OPAQUE value carrying its name (applying or building it yields
 * another opaque value), so the caller can refuse it by name where it matters and report it
 * where it does not.  Dict keys are not deduplicated (that would be quadratic in hostile
 * input): a key given twice appears twice.  Limits: stack, marks and memo are bounded by the input size; the value
 * tree may share nodes (memo) and even contain cycles, so walkers must bound their depth.
 */
#ifndef S4G_PICKLE_H
#define S4G_PICKLE_H

#include "s4g-compute.h"
#include "s4g-safetensors.h" /* s4g_dtype */

#include <stddef.h>
#include <stdint.h>

#define S4G_PK_MAX_DIMS 8

typedef enum {
    S4G_PK_NONE,
    S4G_PK_BOOL,
    S4G_PK_INT,
    S4G_PK_FLOAT,
    S4G_PK_STR,
    S4G_PK_BYTES,
    S4G_PK_TUPLE,
    S4G_PK_LIST,
    S4G_PK_DICT,
    S4G_PK_GLOBAL,  /* a known global, not yet applied (str = "module.name") */
    S4G_PK_OPAQUE,  /* an unknown global or something built from one (str = its name) */
    S4G_PK_STORAGE, /* str = key in data/, dtype, numel */
    S4G_PK_TENSOR,
} s4g_pk_kind;

typedef struct s4g_pk s4g_pk;
struct s4g_pk {
    s4g_pk_kind kind;
    int64_t i;   /* INT, BOOL; STORAGE: numel; TENSOR: storage offset (elements) */
    double f;
    char *str;   /* STR/BYTES (NUL-terminated, len in slen), GLOBAL/OPAQUE name, STORAGE key */
    size_t slen;
    size_t n, cap;
    s4g_pk **items; /* TUPLE/LIST items, DICT values */
    s4g_pk **keys;  /* DICT keys */
    s4g_dtype dtype;               /* STORAGE */
    s4g_pk *storage;               /* TENSOR */
    int ndim;                      /* TENSOR */
    int64_t shape[S4G_PK_MAX_DIMS];
    int64_t stride[S4G_PK_MAX_DIMS];
    const void *user;              /* STORAGE: the caller's (s4g-pth: its checked bytes) */
    s4g_pk *next_alloc;
};

typedef struct s4g_pickle {
    s4g_pk *root;
    s4g_pk *nodes; /* every node, for freeing */
} s4g_pickle;

/* Unpickles data[0..n); label names the file and entry in messages ("x.pth: data.pkl"). */
int s4g_pickle_load(s4g_pickle *pk, const uint8_t *data, size_t n, const char *label,
                    s4g_err *err);
void s4g_pickle_free(s4g_pickle *pk);
/* dict lookup by string key, NULL when absent */
s4g_pk *s4g_pk_get(const s4g_pk *dict, const char *key);
/* "dict", "tensor", "numpy.core.multiarray.scalar" ...: what a value is, for messages */
const char *s4g_pk_describe(const s4g_pk *v);

#endif
