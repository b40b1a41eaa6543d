/* s4g-safetensors.h — read and write safetensors files (huggingface/safetensors format:
 * u64 little-endian header length, JSON header {name: {dtype, shape, data_offsets}, ...,
 * "__metadata__": {str: str}}, then the raw little-endian tensor bytes).
 *
 * Reading loads the whole file and validates every entry before anything uses it: header
 * length inside the file, strict JSON, known dtype, shape product * dtype size equal to the
 * byte range, ranges inside the data section.  A malformed file gives S4G_E_FORMAT with a
 * message naming the file and the offending tensor, never an out-of-bounds read.
 * Writing goes to "<path>.tmp-<pid>", is fsync'ed, then renamed over path.
 */
#ifndef S4G_SAFETENSORS_H
#define S4G_SAFETENSORS_H

#include "s4g-error.h"

#include <stddef.h>
#include <stdint.h>

typedef enum {
    S4G_DT_F32,
    S4G_DT_F16,
    S4G_DT_BF16,
    S4G_DT_F64,
    S4G_DT_I64,
    S4G_DT_I32,
    S4G_DT_I16,
    S4G_DT_I8,
    S4G_DT_U8,
    S4G_DT_BOOL,
} s4g_dtype;

#define S4G_ST_MAX_DIMS 8

typedef struct s4g_st_tensor {
    char *name;
    s4g_dtype dtype;
    int ndim;
    int64_t shape[S4G_ST_MAX_DIMS];
    size_t count;        /* elements */
    size_t nbytes;
    const uint8_t *data; /* inside the file image */
} s4g_st_tensor;

typedef struct s4g_st_file {
    char *path;
    uint8_t *image; /* whole file: malloc'd, or a read-only file mapping (mapped) */
    size_t size;
    int mapped;
    size_t ntensors;
    s4g_st_tensor *tensors;
    size_t nmeta;
    char **meta_keys, **meta_values;
    /* Files whose tensors live in a read-only file mapping (s4g_st_open's, PyTorch
     * checkpoints of s4g-pth.h) set this: called after a tensor was converted, it hands its
     * pages back so a load holds one copy of the weights, not two.  NULL for an image in
     * memory (s4g_st_parse). */
    void (*release)(const struct s4g_st_file *f, const s4g_st_tensor *t);
    void *release_data;
} s4g_st_file;

const char *s4g_dtype_name(s4g_dtype dt);

/* Maps a regular file read-only (never a FIFO or device: it is opened non-blocking and
 * checked) and parses it; the tensors' data stay in the mapping until s4g_st_close. */
s4g_st_file *s4g_st_open(const char *path, s4g_err *err);
/* Parses an in-memory image; takes ownership of `image` (malloc'd) even on failure.
 * `label` names it in messages. */
s4g_st_file *s4g_st_parse(uint8_t *image, size_t size, const char *label, s4g_err *err);
void s4g_st_close(s4g_st_file *f);
const s4g_st_tensor *s4g_st_find(const s4g_st_file *f, const char *name);
const char *s4g_st_meta(const s4g_st_file *f, const char *key);
/* Converts F32/F16/BF16/F64 data to float32; dst holds t->count floats. */
int s4g_st_to_f32(const s4g_st_tensor *t, float *dst, s4g_err *err);

typedef struct s4g_st_entry {
    const char *name;
    int ndim;
    int64_t shape[S4G_ST_MAX_DIMS];
    const float *data; /* float32, count = product of shape */
} s4g_st_entry;

/* Writes n float32 tensors (sorted by name in the header, data in the given order) and the
 * NULL-terminated key/value list `meta` (may be NULL), atomically. */
int s4g_st_write(const char *path, const s4g_st_entry *e, size_t n, const char *const *meta,
                 s4g_err *err);

#endif
