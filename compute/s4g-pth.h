/* s4g-pth.h — PyTorch checkpoints (torch.save, zip format of torch >= 1.6) without Python.
 *
 * The file is mapped read-only; the zip directory is read (s4g-zip.h), `<archive>/data.pkl`
 * is unpickled by the restricted unpickler (s4g-pickle.h: no global is ever called, so
 * reading a checkpoint never runs code from it, unlike torch.load), and the state dict is
 * found: the top-level dict itself, or its "state_dict" / "model" / "module" entry (the other
 * top-level entries — optimizer, epoch, ... — are ignored and listed in `ignored`).  Each
 * tensor's storage `<archive>/data/<key>` is CRC-checked once, its view (offset, size,
 * stride) checked against the storage, and:
 *   - contiguous views point straight into the mapping (no copy);
 *   - other views are gathered into a buffer of their own.
 * The result is an s4g_st_file (names as in the file, original dtypes), so everything that
 * reads safetensors reads it the same way.  The pre-1.6 "legacy" format is recognised and
 * refused with the command that re-saves it.  Errors name the file and the entry.
 */
#ifndef S4G_PTH_H
#define S4G_PTH_H

#include "s4g-safetensors.h"

typedef struct s4g_pth {
    s4g_st_file *f;        /* the state dict; f->image is NULL, data lives in the mapping */
    char where[64];        /* "" or the top-level key holding the state dict ("model") */
    char ignored[256];     /* top-level entries not read, comma-separated ("optimizer, epoch") */
    void *map;             /* private */
    size_t map_len;
    int borrowed;          /* map belongs to the caller (s4g_pth_parse) */
    void **bufs;           /* gathered views */
    size_t nbufs;
} s4g_pth;

/* Whether the first bytes are a torch.save zip archive / a legacy (pre-1.6) checkpoint. */
int s4g_pth_sniff(const uint8_t *head, size_t n);
int s4g_pth_sniff_legacy(const uint8_t *head, size_t n);
s4g_pth *s4g_pth_open(const char *path, s4g_err *err);
/* The same over bytes the caller keeps alive until s4g_pth_close (fuzzing, tests). */
s4g_pth *s4g_pth_parse(const uint8_t *image, size_t size, const char *label, s4g_err *err);
void s4g_pth_close(s4g_pth *p);

/* Writes n float32 tensors as torch.save(OrderedDict) writes a state dict (torch >= 1.6 zip
 * format, s4g-pth-write.c): entries stored and 64-byte aligned, "archive/data.pkl" a protocol-2
 * pickle of an OrderedDict of torch._utils._rebuild_tensor_v2 over one FloatStorage per
 * tensor (persistent ids), "archive/data/<i>" the little-endian floats, "archive/byteorder",
 * "archive/version".  torch.load reads it back and load_state_dict accepts it.  Atomic
 * (temp + fsync + rename).  Archives past 4 GiB (ZIP64) are refused. */
int s4g_pth_write(const char *path, const s4g_st_entry *e, size_t n, s4g_err *err);

#endif
