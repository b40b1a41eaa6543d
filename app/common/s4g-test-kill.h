/* s4g-test-kill.h — TEST ONLY: SIGKILL this process at a chosen point, for the
 * crash-consistency tests (tests/cli/test-cli-kill.c).  The s4g CLI arms it from
 * S4G_TEST_KILL_AT=POINT:N (every command but train, which has its own points in
 * s4g-train.h); the library calls s4g_test_kill_at(POINT) where a kill matters, and the N-th
 * call with the armed POINT raises SIGKILL.  Unarmed (the default, and always in the Studio)
 * a call is one comparison.  Never set S4G_TEST_KILL_AT outside tests.
 *
 * Points:
 *   encode-batch     after a batch of images is encoded (embed, gallery, mine --dss)
 *   embeddings-rows  embeddings written, inside their transaction, before COMMIT
 *   mining-rows      a mining run's hard negatives written, before COMMIT
 *   import-row       after one image row of an import is written (inside its transaction)
 *   import-commit    an import's rows all written, before COMMIT
 *   gallery-patch    after one gallery patch file is written
 *   gallery-commit   a gallery's patches renamed into place and its rows written, before
 *                    COMMIT
 *   mat73-child      inside the child process that reads a v7.3 .mat file (CVACT), before
 *                    it answers: tests that a reader dying there is an error naming the
 *                    file */
#pragma once

#include <glib.h>

/* Arms the hook from `spec` ("POINT:N", N ≥ 1, POINT one of the above); NULL or "" leaves it
 * off.  A malformed spec is an error naming it. */
gboolean s4g_test_kill_arm(const char *spec, GError **error);

/* SIGKILL when `point` is the armed one and this is its N-th call. */
void s4g_test_kill_at(const char *point);
