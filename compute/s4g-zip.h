/* s4g-zip.h — a read-only view of a zip archive held in memory (a mapped file), as
 * torch.save (>= 1.6) writes it: entries STORED (method 0), optionally ZIP64 records for large
 * archives.  Only the central directory is trusted for names and sizes; each entry's local
 * header is checked against it (method, sizes, name) and its data range must lie inside the
 * image.  A compressed entry is listed but refused when its data is asked for.
 *
 * Every error names the archive (`label`) and, where there is one, the entry.
 */
#ifndef S4G_ZIP_H
#define S4G_ZIP_H

#include "s4g-compute.h"

#include <stddef.h>
#include <stdint.h>

typedef struct s4g_zip_entry {
    char *name;
    uint16_t method;      /* 0 = stored */
    uint32_t crc;         /* from the central directory */
    uint64_t size;        /* uncompressed */
    uint64_t csize;       /* compressed (== size when stored) */
    uint64_t header_off;  /* local header */
} s4g_zip_entry;

typedef struct s4g_zip {
    const char *label; /* borrowed */
    const uint8_t *image;
    size_t size;
    size_t n;
    s4g_zip_entry *entries;
    s4g_zip_entry **sorted; /* by name, for s4g_zip_find */
} s4g_zip;

/* Whether the image starts like a zip archive (local header or empty-archive record). */
int s4g_zip_sniff(const uint8_t *image, size_t size);
/* Reads the central directory.  `image` stays owned by the caller and must outlive z. */
int s4g_zip_open(s4g_zip *z, const uint8_t *image, size_t size, const char *label,
                 s4g_err *err);
void s4g_zip_close(s4g_zip *z);
/* Binary search by name; a name that appears twice in the archive is refused at open. */
const s4g_zip_entry *s4g_zip_find(const s4g_zip *z, const char *name);
/* The stored bytes of e (size e->size), after checking the local header and the range;
 * verify_crc also checks the CRC-32.  NULL with err set otherwise. */
const uint8_t *s4g_zip_data(const s4g_zip *z, const s4g_zip_entry *e, int verify_crc,
                            s4g_err *err);
uint32_t s4g_crc32(uint32_t crc, const uint8_t *p, size_t n);

#endif
