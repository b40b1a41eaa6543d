/* s4g-demo-events.h — the wire form of `s4g demo --json`'s progress: one JSON object per
 * line on stdout, written by cmd-demo.c and read by the Studio's "Open Demo Project" (so the
 * two cannot drift apart).  The steps' own output goes to stderr in that mode.
 *
 *   {"event": "demo-step", "step": 3, "steps": 7, "name": "train"}   a step begins (1-based)
 *   {"event": "demo-done", "project": "/…/project"}                  every step succeeded
 *
 * Step names, in order: synth import train eval predict gallery locate.  During the train
 * step the trainer's own events (s4g-train-events.h, `s4g train --json`) come in between,
 * so a reader can follow the training's steps; the "demo-" names keep the two apart. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum { S4G_DEMO_EVENT_STEP, S4G_DEMO_EVENT_DONE } S4gDemoEventKind;

typedef struct {
    S4gDemoEventKind kind;
    int step, steps;    /* STEP */
    char *name;         /* STEP: one of S4G_DEMO_STEPS */
    char *project;      /* DONE */
} S4gDemoEvent;

#define S4G_DEMO_N_STEPS 7
extern const char *const S4G_DEMO_STEPS[S4G_DEMO_N_STEPS];

/* The event's JSON line, without the line break (g_free). */
char *s4g_demo_event_to_json(const S4gDemoEvent *ev);
/* Parses one line into `ev` (clear it with s4g_demo_event_clear); errors name the line
 * ("demo output line 4: field “steps” missing or not an integer"). */
gboolean s4g_demo_event_parse(const char *line, guint line_number, S4gDemoEvent *ev,
                              GError **error);
void s4g_demo_event_clear(S4gDemoEvent *ev);

G_END_DECLS
