/* fuzz-outcome.h — what a fuzz target tells the replay driver (replay-main.c) about one input:
 * accepted, refused with an error that names the input (its file name, or a path in the
 * scratch dataset root), or refused with an error that does not.  libFuzzer ignores it. */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { S4G_FUZZ_ACCEPTED = 0, S4G_FUZZ_CLEAR_ERROR = 1, S4G_FUZZ_UNCLEAR_ERROR = 2 };

extern int s4g_fuzz_outcome;

/* ok: the parser accepted the input; else msg (may be NULL or empty) is its error, clear when
 * it contains one of the names (NULL-terminated). */
static inline void s4g_fuzz_note(int ok, const char *msg, const char *const *names)
{
    if (ok) {
        s4g_fuzz_outcome = S4G_FUZZ_ACCEPTED;
        return;
    }
    s4g_fuzz_outcome = S4G_FUZZ_UNCLEAR_ERROR;
    for (int i = 0; msg && msg[0] && names[i]; i++)
        if (names[i][0] && strstr(msg, names[i])) s4g_fuzz_outcome = S4G_FUZZ_CLEAR_ERROR;
    if (s4g_fuzz_outcome == S4G_FUZZ_UNCLEAR_ERROR && getenv("S4G_FUZZ_REPLAY"))
        fprintf(stderr, "message: %.300s\n", msg ? msg : "(none)");
}
