/* s4g-error.h — the engine's error record: every call that can fail takes an s4g_err *
 * (may be NULL) and returns -1 (or NULL) with a code and a message naming what failed.
 *
 * Its own file so that everything in compute/ (contexts, both backends, the file readers)
 * can report errors without depending on the context code, which itself depends on the
 * backends: no include or link cycle between s4g-context.c and cpu/, vk/.
 */
#ifndef S4G_ERROR_H
#define S4G_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct s4g_err {
    int code;       /* 0 = no error; otherwise an S4G_E_* value */
    char msg[1024]; /* human-readable, names the call/file/field that failed */
} s4g_err;

enum {
    S4G_OK = 0,
    S4G_E_INVALID = 1,     /* bad argument, shape or range */
    S4G_E_NOMEM = 2,       /* host or device allocation failed */
    S4G_E_VULKAN = 3,      /* a Vulkan call failed (message names the call and VkResult) */
    S4G_E_NODEVICE = 4,    /* no Vulkan driver/device usable */
    S4G_E_IO = 5,          /* file could not be opened/read/written */
    S4G_E_FORMAT = 6,      /* malformed file (safetensors, npy) */
    S4G_E_UNSUPPORTED = 7, /* feature not available on this backend/device */
    S4G_E_TIMEOUT = 8,
};

/* Sets err (if non-NULL) and returns -1, so callers can `return s4g_fail(err, ...)`. */
int s4g_fail(s4g_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void s4g_err_clear(s4g_err *err);
/* Prefixes an existing message with context ("loading x.safetensors: ..."). */
void s4g_err_prefix(s4g_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif
#endif
