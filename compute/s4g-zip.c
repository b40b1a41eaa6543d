/* s4g-zip.c — zip archive reader for torch.save files; see s4g-zip.h. */
#include "s4g-zip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ENTRIES 1000000u /* far above any checkpoint (one entry per storage) */
#define MAX_NAME 4096u

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static uint32_t crc_table[8][256];
static int crc_ready;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^ crc_table[0][crc_table[t - 1][i] & 0xFF];
    crc_ready = 1;
}

uint32_t s4g_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    if (!crc_ready)
        crc_init(); /* idempotent: racing threads write the same values */
    crc = ~crc;
    while (n >= 8) { /* slicing-by-8 */
        uint32_t a = crc ^ rd32(p), b = rd32(p + 4);
        crc = crc_table[7][a & 0xFF] ^ crc_table[6][(a >> 8) & 0xFF] ^
              crc_table[5][(a >> 16) & 0xFF] ^ crc_table[4][a >> 24] ^
              crc_table[3][b & 0xFF] ^ crc_table[2][(b >> 8) & 0xFF] ^
              crc_table[1][(b >> 16) & 0xFF] ^ crc_table[0][b >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = crc_table[0][(crc ^ *p++) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

int s4g_zip_sniff(const uint8_t *image, size_t size)
{
    return size >= 4 && image[0] == 'P' && image[1] == 'K' &&
           ((image[2] == 3 && image[3] == 4) || (image[2] == 5 && image[3] == 6));
}

void s4g_zip_close(s4g_zip *z)
{
    if (!z)
        return;
    for (size_t i = 0; i < z->n; i++)
        free(z->entries[i].name);
    free(z->entries);
    free(z->sorted);
    z->entries = NULL;
    z->sorted = NULL;
    z->n = 0;
}

/* Reads the ZIP64 extended-information extra field for the values that were 0xFFFFFFFF. */
static int zip64_extra(const s4g_zip *z, const uint8_t *x, size_t xlen, s4g_zip_entry *e,
                       int need_u, int need_c, int need_off, s4g_err *err)
{
    while (xlen >= 4) {
        uint16_t id = rd16(x), len = rd16(x + 2);
        if ((size_t)len > xlen - 4)
            break;
        if (id == 0x0001) {
            const uint8_t *q = x + 4;
            size_t left = len;
#define TAKE(field, need)                                                                       \
    if (need) {                                                                                 \
        if (left < 8)                                                                           \
            return s4g_fail(err, S4G_E_FORMAT, "%s: entry \"%.200s\": ZIP64 field too short",   \
                            z->label, e->name);                                                 \
        field = rd64(q);                                                                        \
        q += 8;                                                                                 \
        left -= 8;                                                                              \
    }
            TAKE(e->size, need_u)
            TAKE(e->csize, need_c)
            TAKE(e->header_off, need_off)
#undef TAKE
            return 0;
        }
        x += 4 + len;
        xlen -= 4 + (size_t)len;
    }
    return s4g_fail(err, S4G_E_FORMAT, "%s: entry \"%.200s\": sizes need a ZIP64 field, none found",
                    z->label, e->name);
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(s4g_zip_entry *const *)a)->name, (*(s4g_zip_entry *const *)b)->name);
}

int s4g_zip_open(s4g_zip *z, const uint8_t *image, size_t size, const char *label, s4g_err *err)
{
    memset(z, 0, sizeof *z);
    z->label = label;
    z->image = image;
    z->size = size;
    if (size < 22)
        return s4g_fail(err, S4G_E_FORMAT, "%s: truncated zip archive (%zu bytes)", label, size);
    /* end-of-central-directory record: last 22 bytes plus a comment of up to 64 KiB */
    size_t eocd = (size_t)-1;
    size_t lo = size > 22 + 65535 ? size - 22 - 65535 : 0;
    for (size_t p = size - 22 + 1; p-- > lo;)
        if (rd32(image + p) == 0x06054b50u && (size_t)rd16(image + p + 20) == size - 22 - p) {
            eocd = p;
            break;
        }
    if (eocd == (size_t)-1)
        return s4g_fail(err, S4G_E_FORMAT,
                        "%s: no zip end-of-central-directory record (truncated archive?)", label);
    uint64_t n = rd16(image + eocd + 10), cd_size = rd32(image + eocd + 12),
             cd_off = rd32(image + eocd + 16);
    if (rd16(image + eocd + 4) != 0 || rd16(image + eocd + 6) != 0)
        return s4g_fail(err, S4G_E_FORMAT, "%s: multi-part zip archives are not supported", label);
    if (eocd >= 20 && rd32(image + eocd - 20) == 0x07064b50u) { /* ZIP64 locator */
        uint64_t z64 = rd64(image + eocd - 20 + 8);
        if (z64 > size || size - z64 < 56 || rd32(image + z64) != 0x06064b50u)
            return s4g_fail(err, S4G_E_FORMAT, "%s: bad ZIP64 end-of-central-directory record",
                            label);
        n = rd64(image + z64 + 32);
        cd_size = rd64(image + z64 + 40);
        cd_off = rd64(image + z64 + 48);
    }
    if (cd_off > size || cd_size > size - cd_off)
        return s4g_fail(err, S4G_E_FORMAT,
                        "%s: central directory (offset %llu, %llu bytes) runs past the end of the "
                        "file (%zu bytes): truncated archive?",
                        label, (unsigned long long)cd_off, (unsigned long long)cd_size, size);
    if (n > MAX_ENTRIES || n > cd_size / 46 + 1)
        return s4g_fail(err, S4G_E_FORMAT, "%s: central directory claims %llu entries", label,
                        (unsigned long long)n);
    z->entries = calloc(n ? (size_t)n : 1, sizeof *z->entries);
    if (!z->entries)
        return s4g_fail(err, S4G_E_NOMEM, "%s: out of memory", label);
    const uint8_t *p = image + cd_off, *end = image + cd_off + cd_size;
    for (uint64_t i = 0; i < n; i++) {
        if (end - p < 46 || rd32(p) != 0x02014b50u) {
            s4g_fail(err, S4G_E_FORMAT, "%s: central directory entry %llu is damaged", label,
                     (unsigned long long)i);
            goto bad;
        }
        size_t nl = rd16(p + 28), xl = rd16(p + 30), cl = rd16(p + 32);
        if ((size_t)(end - p) - 46 < nl + xl + cl || nl == 0 || nl > MAX_NAME) {
            s4g_fail(err, S4G_E_FORMAT, "%s: central directory entry %llu runs past its end",
                     label, (unsigned long long)i);
            goto bad;
        }
        s4g_zip_entry *e = &z->entries[z->n];
        e->name = malloc(nl + 1);
        if (!e->name) {
            s4g_fail(err, S4G_E_NOMEM, "%s: out of memory", label);
            goto bad;
        }
        memcpy(e->name, p + 46, nl);
        e->name[nl] = 0;
        z->n++;
        if (strlen(e->name) != nl) {
            s4g_fail(err, S4G_E_FORMAT, "%s: entry %llu has a NUL byte in its name", label,
                     (unsigned long long)i);
            goto bad;
        }
        e->method = rd16(p + 10);
        e->crc = rd32(p + 16);
        e->csize = rd32(p + 20);
        e->size = rd32(p + 24);
        e->header_off = rd32(p + 42);
        int nu = e->size == 0xFFFFFFFFu, nc = e->csize == 0xFFFFFFFFu,
            no = e->header_off == 0xFFFFFFFFu;
        if ((nu || nc || no) && zip64_extra(z, p + 46 + nl, xl, e, nu, nc, no, err))
            goto bad;
        p += 46 + nl + xl + cl;
    }
    z->sorted = malloc((z->n ? z->n : 1) * sizeof *z->sorted);
    if (!z->sorted) {
        s4g_fail(err, S4G_E_NOMEM, "%s: out of memory", label);
        goto bad;
    }
    for (size_t i = 0; i < z->n; i++)
        z->sorted[i] = &z->entries[i];
    qsort(z->sorted, z->n, sizeof *z->sorted, by_name);
    for (size_t i = 1; i < z->n; i++)
        if (strcmp(z->sorted[i - 1]->name, z->sorted[i]->name) == 0) {
            s4g_fail(err, S4G_E_FORMAT, "%s: entry \"%.200s\" appears twice", label,
                     z->sorted[i]->name);
            goto bad;
        }
    return 0;
bad:
    s4g_zip_close(z);
    return -1;
}

const s4g_zip_entry *s4g_zip_find(const s4g_zip *z, const char *name)
{
    size_t lo = 0, hi = z->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(z->sorted[mid]->name, name);
        if (c == 0)
            return z->sorted[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

const uint8_t *s4g_zip_data(const s4g_zip *z, const s4g_zip_entry *e, int verify_crc,
                            s4g_err *err)
{
    const char *L = z->label;
    if (e->method != 0) {
        s4g_fail(err, S4G_E_UNSUPPORTED,
                 "%s: entry \"%.200s\" is compressed (method %u); only stored entries are read, "
                 "as torch.save writes them (re-save the checkpoint with torch.save)",
                 L, e->name, e->method);
        return NULL;
    }
    if (e->csize != e->size) {
        s4g_fail(err, S4G_E_FORMAT, "%s: entry \"%.200s\" is stored but its sizes differ (%llu, %llu)",
                 L, e->name, (unsigned long long)e->csize, (unsigned long long)e->size);
        return NULL;
    }
    if (e->header_off > z->size || z->size - e->header_off < 30 ||
        rd32(z->image + e->header_off) != 0x04034b50u) {
        s4g_fail(err, S4G_E_FORMAT, "%s: entry \"%.200s\": no local header at offset %llu", L,
                 e->name, (unsigned long long)e->header_off);
        return NULL;
    }
    const uint8_t *h = z->image + e->header_off;
    size_t nl = rd16(h + 26), xl = rd16(h + 28);
    uint64_t start = e->header_off + 30 + nl + xl;
    if (rd16(h + 8) != e->method || nl != strlen(e->name) ||
        z->size - e->header_off - 30 < nl || memcmp(h + 30, e->name, nl) != 0) {
        s4g_fail(err, S4G_E_FORMAT,
                 "%s: entry \"%.200s\": local header disagrees with the central directory", L,
                 e->name);
        return NULL;
    }
    uint32_t lc = rd32(h + 18), lu = rd32(h + 22);
    if (!(rd16(h + 6) & 8) && ((lu != 0xFFFFFFFFu && lu != e->size) ||
                               (lc != 0xFFFFFFFFu && lc != e->csize))) {
        s4g_fail(err, S4G_E_FORMAT,
                 "%s: entry \"%.200s\": local header size %u differs from the central "
                 "directory's %llu",
                 L, e->name, lu, (unsigned long long)e->size);
        return NULL;
    }
    if (start > z->size || e->size > z->size - start) {
        s4g_fail(err, S4G_E_FORMAT,
                 "%s: entry \"%.200s\" (%llu bytes at offset %llu) runs past the end of the file "
                 "(%zu bytes): truncated archive?",
                 L, e->name, (unsigned long long)e->size, (unsigned long long)start, z->size);
        return NULL;
    }
    const uint8_t *d = z->image + start;
    if (verify_crc) {
        uint32_t c = s4g_crc32(0, d, (size_t)e->size);
        if (c != e->crc) {
            s4g_fail(err, S4G_E_FORMAT,
                     "%s: entry \"%.200s\": CRC-32 %08x, the archive says %08x (damaged file)", L,
                     e->name, c, e->crc);
            return NULL;
        }
    }
    return d;
}
