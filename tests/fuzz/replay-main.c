/* replay-main.c — replays inputs through a fuzz target's LLVMFuzzerTestOneInput outside
 * libFuzzer (built with the ordinary compiler, linked with one target: replay-csv, replay-io,
 * …) and counts what the real parser did with each:
 *   accepted       parsed (a valid input, or damage the format tolerates)
 *   clear error    refused with a message naming the input (fuzz-outcome.h)
 *   unclear error  refused with a message that does not name it
 *   crash          the child died of a signal (SIGSEGV, SIGABRT, …) with little memory used
 *   oom            it died after using ≥ 1 GiB, or an allocation failed (its stderr says so)
 *   hang           more than 20 s of CPU or 60 s of wall time
 * Each input runs in a forked child with an address-space budget (its size at the fork plus
 * 4 GiB) and a CPU limit, so a bad input cannot take the driver down.
 *
 *   replay-TARGET [--mutants N] [--seed S] [--label L] FILE|DIR…
 * Every file (folders: their files, sorted) is run as is and, with --mutants N, as N seeded
 * mutants (bit flips, interesting bytes, 8-byte size fields, truncation, duplicated and
 * inserted chunks): the same N and S give the same inputs on every machine.  Prints one line:
 *   L <tab> inputs <tab> accepted <tab> clear <tab> unclear <tab> crash <tab> oom <tab> hang
 * and, on stderr, the file and mutant number of every crash, oom, hang or unclear error.
 * Exit status 1 when any input crashed, ran out of memory or hung. */
#include <glib.h>
#include <glib/gstdio.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fuzz-outcome.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { ACCEPTED, CLEAR, UNCLEAR, CRASH, OOM, HANG, N_OUTCOMES };
static const char *const outcome_names[] = {"accepted", "clear error", "unclear error",
                                            "crash",    "oom",         "hang"};

static guint64 address_space(void)
{
    g_autofree char *statm = NULL;
    if (!g_file_get_contents("/proc/self/statm", &statm, NULL, NULL)) return 0;
    return g_ascii_strtoull(statm, NULL, 10) * (guint64)sysconf(_SC_PAGESIZE);
}

static void insert_bytes(GByteArray *b, guint at, const guint8 *data, guint k)
{
    guint len = b->len;
    g_byte_array_set_size(b, len + k);
    memmove(b->data + at + k, b->data + at, len - at);
    memcpy(b->data + at, data, k);
}

/* One seeded mutant of `in` (1–4 edits). */
static GByteArray *mutate(const guint8 *in, gsize n, guint32 seed)
{
    GRand *r = g_rand_new_with_seed(seed);
    GByteArray *b = g_byte_array_sized_new((guint)n + 64);
    g_byte_array_append(b, in, (guint)n);
    int edits = g_rand_int_range(r, 1, 5);
    for (int e = 0; e < edits; e++) {
        guint len = b->len;
        guint at = len ? (guint)g_rand_int_range(r, 0, (gint32)len) : 0;
        switch (g_rand_int_range(r, 0, 6)) {
        case 0: /* bit flip */
            if (len) b->data[at] ^= (guint8)(1u << g_rand_int_range(r, 0, 8));
            break;
        case 1: { /* interesting byte */
            static const guint8 v[] = {0, 0xff, 0x7f, 0x80, 0x01, '"', ',', '\n', '-', '9'};
            if (len) b->data[at] = v[g_rand_int_range(r, 0, G_N_ELEMENTS(v))];
            break;
        }
        case 2: { /* an 8-byte size field made huge or zero */
            static const guint64 v[] = {0, G_MAXUINT64, (guint64)1 << 40, (guint64)1 << 31,
                                        G_MAXUINT32};
            guint64 x = v[g_rand_int_range(r, 0, G_N_ELEMENTS(v))];
            if (len >= 8) memcpy(b->data + MIN(at, len - 8), &x, 8);
            break;
        }
        case 3: /* truncation */
            g_byte_array_set_size(b, at);
            break;
        case 4: { /* a chunk duplicated in place */
            guint k = MIN(len - at, (guint)g_rand_int_range(r, 1, 65));
            if (len) {
                g_autofree guint8 *chunk = g_memdup2(b->data + at, k);
                insert_bytes(b, at, chunk, k);
            }
            break;
        }
        default: { /* random bytes inserted */
            guint8 rnd[16];
            guint k = (guint)g_rand_int_range(r, 1, 17);
            for (guint i = 0; i < k; i++) rnd[i] = (guint8)g_rand_int_range(r, 0, 256);
            insert_bytes(b, at, rnd, k);
        }
        }
    }
    g_rand_free(r);
    return b;
}

/* Runs one input in a child; returns its outcome. */
static int run_one(const guint8 *data, gsize n, int err_fd)
{
    if (ftruncate(err_fd, 0) != 0 || lseek(err_fd, 0, SEEK_SET) != 0) return CRASH;
    guint64 limit = address_space() + ((guint64)4 << 30);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit as = {limit, limit}, cpu = {20, 21}, core = {0, 0};
        setrlimit(RLIMIT_AS, &as);
        setrlimit(RLIMIT_CPU, &cpu);
        setrlimit(RLIMIT_CORE, &core);
        dup2(err_fd, STDERR_FILENO);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, STDOUT_FILENO);
        s4g_fuzz_outcome = S4G_FUZZ_UNCLEAR_ERROR;
        LLVMFuzzerTestOneInput(data, n);
        _exit(s4g_fuzz_outcome);
    }
    if (pid < 0) return CRASH;
    gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    int status = 0;
    struct rusage ru = {0};
    gboolean timed_out = FALSE;
    for (;;) {
        pid_t w = wait4(pid, &status, WNOHANG, &ru);
        if (w == pid) break;
        if (g_get_monotonic_time() > deadline && !timed_out) {
            kill(pid, SIGKILL);
            timed_out = TRUE;
        }
        g_usleep(200);
    }
    if (timed_out) return HANG;
    if (WIFEXITED(status)) {
        int c = WEXITSTATUS(status);
        return c == S4G_FUZZ_ACCEPTED ? ACCEPTED : c == S4G_FUZZ_CLEAR_ERROR ? CLEAR : UNCLEAR;
    }
    int sig = WTERMSIG(status);
    if (sig == SIGXCPU) return HANG;
    char buf[4096] = {0};
    ssize_t got = pread(err_fd, buf, sizeof buf - 1, 0);
    if (got > 0) buf[got] = 0;
    if ((guint64)ru.ru_maxrss >= (1u << 20) /* KiB */ || strstr(buf, "failed to allocate") ||
        strstr(buf, "out of memory") || strstr(buf, "std::bad_alloc"))
        return OOM;
    return CRASH;
}

static int cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_inputs(GPtrArray *files, const char *path)
{
    if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
        g_ptr_array_add(files, g_strdup(path));
        return;
    }
    g_autoptr(GPtrArray) here = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    for (const char *n; d && (n = g_dir_read_name(d));) {
        g_autofree char *f = g_build_filename(path, n, NULL);
        if (g_file_test(f, G_FILE_TEST_IS_REGULAR)) g_ptr_array_add(here, g_steal_pointer(&f));
    }
    g_ptr_array_sort(here, cmp_str);
    for (guint i = 0; i < here->len; i++) g_ptr_array_add(files, g_strdup(here->pdata[i]));
}

int main(int argc, char **argv)
{
    gint mutants = 0, seed = 1;
    g_autofree char *label = NULL;
    GOptionEntry entries[] = {
        {"mutants", 'n', 0, G_OPTION_ARG_INT, &mutants, "Seeded mutants per file", "N"},
        {"seed", 's', 0, G_OPTION_ARG_INT, &seed, "Mutation seed", "S"},
        {"label", 'l', 0, G_OPTION_ARG_STRING, &label, "First column of the output", "L"},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("FILE|DIR… — replay inputs through "
                                                         "this fuzz target and count outcomes");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) error = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc < 2 || mutants < 0) {
        fprintf(stderr, "%s\n", error ? error->message : "need FILE or DIR (try --help)");
        return 2;
    }
    g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
    for (int i = 1; i < argc; i++) add_inputs(files, argv[i]);
    /* once in this process: the target's one-time setup (scratch folder, libvips) is then
     * inherited by every child instead of redone per input */
    g_setenv("S4G_FUZZ_REPLAY", "1", TRUE); /* fuzz-outcome.h: unclear messages on stderr */
    LLVMFuzzerTestOneInput((const uint8_t *)"", 0);
    FILE *errf = tmpfile();
    if (!errf) return 2;
    guint64 count[N_OUTCOMES] = {0}, inputs = 0;
    for (guint f = 0; f < files->len; f++) {
        g_autofree char *data = NULL;
        gsize n = 0;
        if (!g_file_get_contents(files->pdata[f], &data, &n, &error)) {
            fprintf(stderr, "%s\n", error->message);
            return 2;
        }
        guint32 base = g_str_hash(strrchr(files->pdata[f], '/') ? strrchr(files->pdata[f], '/')
                                                                 : files->pdata[f]);
        for (int m = 0; m <= mutants; m++) {
            g_autoptr(GByteArray) in =
                m ? mutate((const guint8 *)data, n, base ^ (guint32)seed * 2654435761u ^ (guint32)m)
                  : g_byte_array_new_take((guint8 *)g_memdup2(data, n ? n : 1), n);
            int o = run_one(in->data, in->len, fileno(errf));
            count[o]++, inputs++;
            if (o != ACCEPTED && o != CLEAR) {
                char said[512] = {0};
                ssize_t k = pread(fileno(errf), said, sizeof said - 1, 0);
                if (k > 0) said[k] = 0;
                char *nl = strchr(said, '\n');
                if (nl) *nl = 0;
                fprintf(stderr, "%s: %s mutant %d: %s\n", outcome_names[o],
                        (char *)files->pdata[f], m, said);
            }
        }
    }
    fclose(errf);
    printf("%s\t%" G_GUINT64_FORMAT, label ? label : argv[0], inputs);
    for (int o = 0; o < N_OUTCOMES; o++) printf("\t%" G_GUINT64_FORMAT, count[o]);
    printf("\n");
    return count[CRASH] + count[OOM] + count[HANG] ? 1 : 0;
}
