/* s4g-train-events.h — the wire form of the training loop's events (s4g-train.h): one JSON
 * object per line, `{"event": "step", "step": 12, "loss": 4.25, …}`, as `s4g train --json`
 * prints them and the Studio reads them.  One table of fields per event kind serves both
 * directions, so the writer (cmd-train.c) and the parser (the Studio's training window and
 * loss chart) cannot drift apart.
 *
 * Kinds and fields (in this order on the wire):
 *   start       run model device pairs references excluded total_steps warmup_steps epoch
 *   step        step epoch (fractional) loss lr logit_scale pairs_per_s eta_s
 *   eval        epoch r1 r5 r10 r1pct queries refs [hit_rate] [ap] chance_r1
 *   mined       kind (gps|dss) epoch [train_r1 train_r5]
 *   checkpoint  path
 *   encode      what (eval|dss) epoch done total
 *   end         run model state (done|stopped) step
 *   error       run message
 * Bracketed fields are left out when NaN (both train recalls when train_r1 is); any other
 * number that is not finite is written as null and read back as NaN, every finite one in its
 * shortest exact form.  Names and strings go through json-glib, so quotes, control characters
 * and non-ASCII text are escaped as JSON requires (invalid UTF-8 is repaired first).
 *
 * The parser also takes the untagged objects of older trainers and of scripts: an object
 * without "event" is an eval when it has "r1", else a step. */
#pragma once

#include "s4g-train.h"

G_BEGIN_DECLS

#define S4G_TRAIN_EVENTS_ERROR (s4g_train_events_error_quark())
GQuark s4g_train_events_error_quark(void);

typedef enum {
    S4G_TRAIN_EVENTS_ERROR_INVALID, /* not JSON, not an object, or a field of the wrong type */
    S4G_TRAIN_EVENTS_ERROR_UNKNOWN, /* well-formed, but an "event" this version does not know */
} S4gTrainEventsError;

/* The event's JSON line, without the line break (g_free). */
char *s4g_train_event_to_json(const S4gTrainEvent *ev);

/* Parses one line; `line_number` (1-based) prefixes every error ("training output line 7:
 * field “loss” missing or not a finite number").  A step needs "step" and a finite "loss", an
 * eval "r1".  The returned event owns its strings: free it with s4g_train_event_free. */
S4gTrainEvent *s4g_train_event_parse(const char *line, guint line_number, GError **error);
void s4g_train_event_free(S4gTrainEvent *ev);

/* The wire name of a kind ("step", "mined", …). */
const char *s4g_train_event_kind_name(S4gTrainEventKind kind);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(S4gTrainEvent, s4g_train_event_free)

G_END_DECLS
