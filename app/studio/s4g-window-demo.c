/* s4g-window-demo.c — "Open Demo Project": made once by `s4g demo`, then opened. */
#include "s4g-config.h"

#include "s4g-window-private.h"

#include "s4g-demo-events.h"
#include "s4g-train-events.h"

#include <glib/gi18n.h>
#include <string.h>

/* What one `s4g demo` run of the window needs: where it builds, and its output read so far. */
typedef struct {
    char *dir;
    char *project;      /* from the "demo-done" event */
    int step, steps;    /* the demo step running (1-based) and their number */
    gint64 train_total; /* the trainer's steps (its "start" event), 0 before */
} Demo;

static void demo_free(gpointer data)
{
    Demo *d = data;
    g_free(d->dir);
    g_free(d->project);
    g_free(d);
}

/* The step names of S4G_DEMO_STEPS, in words. */
static const char *step_title(const char *name)
{
    static const struct {
        const char *name, *title;
    } titles[] = {
        {"synth", N_("Making a synthetic world")},
        {"import", N_("Importing its photos")},
        {"train", N_("Training a small model")},
        {"eval", N_("Evaluating the model")},
        {"predict", N_("Predicting held-out photos")},
        {"gallery", N_("Building the map gallery")},
        {"locate", N_("Locating the held-out photos on the map")},
    };
    for (guint i = 0; i < G_N_ELEMENTS(titles); i++)
        if (!g_strcmp0(name, titles[i].name)) return _(titles[i].title);
    return name;
}

/* The trainer's events during the train step (`s4g train --json` inside the demo): the
 * progress moves within the step as the training's steps go by. */
static void train_line(S4gWindow *self, Demo *d, const char *line)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(S4gTrainEvent) ev =
        s4g_train_event_parse(line, self->task ? self->task->n_lines : 0, &error);
    if (!ev) {
        if (!g_error_matches(error, S4G_TRAIN_EVENTS_ERROR, S4G_TRAIN_EVENTS_ERROR_UNKNOWN))
            g_warning("%s", error->message);
        return;
    }
    if (ev->kind == S4G_TRAIN_EVENT_START) d->train_total = ev->total_steps;
    if (ev->kind != S4G_TRAIN_EVENT_STEP || d->train_total <= 0 || d->steps <= 0) return;
    double within = CLAMP((double)ev->step / (double)d->train_total, 0.0, 1.0);
    /* Translators: "Step 3 of 7: Training a small model (42 %)" */
    g_autofree char *text = g_strdup_printf(_("Step %d of %d: %s (%.0f %%)"), d->step, d->steps,
                                            step_title("train"), 100 * within);
    _s4g_window_task_progress(self, (d->step - 1 + within) / d->steps, text);
}

/* One line of `s4g demo --json`: a step begins, the trainer reports, or the project is done. */
static void demo_line(S4gWindow *self, const char *line, gpointer data)
{
    Demo *d = data;
    g_autoptr(GError) error = NULL;
    S4gDemoEvent ev;
    if (!g_str_has_prefix(line, "{\"event\":\"demo-")) { /* as json-glib writes them */
        train_line(self, d, line);
        return;
    }
    if (!s4g_demo_event_parse(line, self->task ? self->task->n_lines : 0, &ev, &error)) {
        g_warning("%s", error->message);
        return;
    }
    if (ev.kind == S4G_DEMO_EVENT_STEP) {
        d->step = ev.step;
        d->steps = ev.steps;
        /* Translators: "Step 3 of 7: Training a small model" */
        g_autofree char *text =
            g_strdup_printf(_("Step %d of %d: %s"), ev.step, ev.steps, step_title(ev.name));
        _s4g_window_task_progress(self, (double)(ev.step - 1) / ev.steps, text);
    } else {
        g_free(d->project);
        d->project = g_strdup(ev.project);
        _s4g_window_task_progress(self, 1.0, _("Opening the project"));
    }
    s4g_demo_event_clear(&ev);
}

/* The demo is made once, on first use, by `s4g demo --atomic`: it synthesises a small
 * CVUSA-layout world (with tiles/region.mbtiles), imports it, trains an atto model briefly
 * (recording its GPS/DSS mining runs), evaluates it and locates the held-out photos — so the
 * demo shows every part of the Studio on real results.  It builds DIR/project.partial and
 * renames it DIR/project only when every step succeeded: a cancelled or failed run leaves no
 * DIR/project to be opened as if complete, and nothing of a finished project is deleted. */
static void demo_done(S4gWindow *self, gboolean ok, const char *message, gpointer data)
{
    Demo *d = data;
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.open-demo", TRUE);
    if (!ok) {
        g_autofree char *msg = g_strdup_printf(_("Creating the demo project failed: %s"), message);
        _s4g_window_toast(self, msg);
        return;
    }
    g_autofree char *project = d->project ? g_strdup(d->project)
                                          : g_build_filename(d->dir, "project", NULL);
    g_autoptr(GError) error = NULL;
    if (!s4g_window_open_project(self, project, &error)) _s4g_window_toast(self, error->message);
}

void _s4g_window_open_demo(GtkWidget *w, const char *a, GVariant *p)
{
    S4gWindow *self = S4G_WINDOW(w);
    g_autofree char *dir = g_build_filename(g_get_user_data_dir(), "s4g-studio", "demo", NULL);
    g_autofree char *project = g_build_filename(dir, "project", NULL);
    g_autofree char *db = g_build_filename(project, "project.s4g", NULL);
    g_autoptr(GError) error = NULL;
    if (g_file_test(db, G_FILE_TEST_EXISTS)) {
        if (!s4g_window_open_project(self, project, &error))
            _s4g_window_toast(self, error->message);
        return;
    }
    g_autofree char *s4g = s4g_runner_find_s4g();
    if (!s4g) {
        _s4g_window_toast(self,
                          _("The s4g program is not installed; cannot create the demo project"));
        return;
    }
    /* Sizes: S4G_DEMO_ARGS (space-separated extra flags, e.g. for tests) may shrink it. */
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_strv_builder_add_many(b, s4g, "demo", "--json", "--atomic", "--project", dir, NULL);
    const char *extra = g_getenv("S4G_DEMO_ARGS");
    if (extra && *extra) {
        g_auto(GStrv) words = g_strsplit_set(extra, " ", -1);
        for (guint i = 0; words[i]; i++)
            if (*words[i]) g_strv_builder_add(b, words[i]);
    }
    g_auto(GStrv) argv = g_strv_builder_end(b);
    g_mkdir_with_parents(dir, 0755);
    Demo *d = g_new0(Demo, 1);
    d->dir = g_steal_pointer(&dir);
    /* a second click while it runs would start nothing, so it cannot be clicked */
    if (_s4g_window_task_start_full(self, _("Creating the demo project"),
                                    (const char *const *)argv, demo_line, demo_done, d,
                                    demo_free))
        gtk_widget_action_set_enabled(w, "win.open-demo", FALSE);
}
