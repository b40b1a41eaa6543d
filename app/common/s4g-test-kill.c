/* s4g-test-kill.c — the test-only kill hook (s4g-test-kill.h). */
#include "s4g-test-kill.h"
#include "s4g-geo.h"

#include <signal.h>
#include <string.h>

static const char *const points[] = {"encode-batch",  "embeddings-rows", "mining-rows",
                                     "import-row",    "import-commit",   "gallery-patch",
                                     "gallery-commit", "mat73-child"};

static const char *armed; /* one of points[], or NULL */
static guint armed_nth;
static gint reached;

gboolean s4g_test_kill_arm(const char *spec, GError **error)
{
    armed = NULL;
    if (!spec || !*spec) return TRUE;
    const char *colon = strrchr(spec, ':');
    char *end = NULL;
    guint64 n = colon ? g_ascii_strtoull(colon + 1, &end, 10) : 0;
    for (guint i = 0; colon && i < G_N_ELEMENTS(points); i++) {
        if (strlen(points[i]) == (gsize)(colon - spec) && !strncmp(spec, points[i], colon - spec) &&
            end && end != colon + 1 && !*end && n >= 1 && n <= G_MAXUINT) {
            armed = points[i];
            armed_nth = (guint)n;
            g_atomic_int_set(&reached, 0);
            return TRUE;
        }
    }
    g_set_error(error, S4G_GEO_ERROR, S4G_GEO_ERROR_INVALID,
                "S4G_TEST_KILL_AT=%.60s: expected POINT:N with N ≥ 1 and POINT encode-batch, "
                "embeddings-rows, mining-rows, import-row, import-commit, gallery-patch, "
                "gallery-commit or mat73-child",
                spec);
    return FALSE;
}

void s4g_test_kill_at(const char *point)
{
    if (G_LIKELY(!armed) || strcmp(point, armed)) return;
    if ((guint)g_atomic_int_add(&reached, 1) + 1 == armed_nth) raise(SIGKILL);
}
