/* s4g-window-private.h — the main window's instance struct and the functions its files share
 * (s4g-window.c: grid, filters, map, projects, life cycle; -actions.c: actions and shortcuts,
 * annotation with undo/redo, export; -prediction.c: the prediction panel; -tasks.c: the task
 * bar; -demo.c: the demo project), as gnome-text-editor splits its window. */
#pragma once

#include "s4g-window.h"

#include <adwaita.h>

/* The project page's panes: photo grid, map, side panel (s4g-window-layout.c). */
#define S4G_N_PANES 3

#include "s4g-photo-layer.h"
#include "s4g-runner.h"
#include "s4g-store-annotations.h"

G_BEGIN_DECLS

typedef struct _S4gPredictionPanel S4gPredictionPanel;

/* One annotation write, kept so it can be undone (deleted) and redone (re-inserted). */
typedef struct {
    gint64 id, image;
    S4gAnnotationFlag flag;
    gboolean has_location;
    double lat, lon;
    char *note;
} Edit;

struct _S4gWindow {
    AdwApplicationWindow parent_instance;

    AdwToastOverlay *toasts;
    AdwWindowTitle *title;
    GtkDropDown *model_dropdown;
    GtkStack *main_stack;
    GtkListBox *recent_list;
    GtkStack *view_stack;
    GtkDropDown *dataset_dropdown, *split_dropdown;
    GtkToggleButton *flagged_toggle, *sort_toggle, *set_location_toggle;
    GtkSpinButton *min_error_spin, *max_error_spin;
    GtkLabel *count_label, *cursor_label, *photo_label, *error_label, *annotation_label;
    GtkGridView *photo_grid;
    S4gNegativesView *negatives_view;  /* fills negative_layer and compare_layer */
    ShumateMarkerLayer *compare_layer; /* the "Compare with" run's negatives */
    GtkPicture *photo_picture;
    GtkFlowBox *candidates_flow;
    ShumateSimpleMap *map;
    GtkWidget *side_panel;
    GtkPaned *outer_paned, *inner_paned; /* from the template; emptied by the layout */
    AdwLeaflet *leaflet;                 /* photos | map | details (-layout.c) */
    GtkWidget *panes[S4G_N_PANES];
    GtkToggleButton *pane_buttons[S4G_N_PANES];
    GtkEntry *note_entry;
    GtkWidget *crosshair; /* over the map's centre in location mode */
    GtkActionBar *task_bar;
    GtkSpinner *task_spinner;
    GtkProgressBar *task_progress; /* shown while a run reports its progress */
    GtkLabel *task_label;
    struct Task *task;     /* the s4g run behind the task bar, or NULL */
    GHashTable *predicted; /* "model/gallery/image" already predicted on demand */
    struct _S4gPredictionPanel *panel; /* -prediction.c */

    GSettings *settings;
    char *imagery; /* base layer from the command line (s4g-studio --imagery), or NULL */
    S4gProject *project;
    /* a project whose database another process was writing: opened by open_when_free
     * (s4g-window.c) as soon as the lock is free; its toast stays until then */
    char *busy_dir;
    GCancellable *busy_wait;
    AdwToast *busy_toast;
    GtkFilterListModel *filtered;
    GtkSortListModel *sorted;
    GtkSingleSelection *selection;
    GtkCustomFilter *filter;
    GtkCustomSorter *sorter;

    S4gPhotoLayer *photo_layer; /* every photo of the filter as a dot, one widget */
    ShumateMarkerLayer *candidate_layer, *negative_layer;
    ShumatePathLayer *error_path;
    double error_m;
    S4gPhoto *current;   /* selected photo (borrowed from the project's list) */
    GCancellable *loads; /* thumbnails of the side panels; cancelled on every new selection */

    GPtrArray *undo, *redo;  /* Edit* */
    double press_x, press_y; /* where the last map press began */
};

/* ---- background s4g runs ---------------------------------------------------------- */

/* One s4g subprocess at a time runs behind the task bar (an S4gRunner): the last line of
 * its output (progress bars end their lines with \r) is shown, so the window never blocks;
 * Cancel stops it. */
typedef void (*TaskDone)(S4gWindow *self, gboolean ok, const char *message, gpointer data);
/* A task that reports progress reads its stdout itself (one call per line): the raw lines of
 * such a run are never shown, its progress goes through _s4g_window_task_progress. */
typedef void (*TaskLine)(S4gWindow *self, const char *line, gpointer data);

typedef struct Task {
    S4gWindow *self;
    S4gRunner *runner;
    char *what;
    TaskDone done;
    TaskLine on_line; /* NULL: the last line of output is shown as it is */
    guint n_lines;    /* stdout lines read (for error messages) */
    gboolean cancelling;
    gpointer data;
    GDestroyNotify data_free;
} Task;

/* s4g-window.c */
void _s4g_window_toast(S4gWindow *self, const char *message);
/* filter and sort the grid again (errors changed), with the count */
void _s4g_window_refilter(S4gWindow *self);
/* -actions.c: installs the window's actions and their shortcuts (from class_init) */
void _s4g_window_class_actions_init(GtkWidgetClass *wc);
void _s4g_window_edit_free(Edit *e);
void _s4g_window_update_undo_actions(S4gWindow *self);
/* An annotation in words, for the side panel and the undo toasts (g_free). */
char *_s4g_window_describe_annotation(S4gAnnotationFlag flag, gboolean open, gboolean has_location,
                                      double lat, double lon, const char *note);
/* Routes Ctrl+Z in the Note field to the window's undo (from init). */
void _s4g_window_note_undo_init(S4gWindow *self);
/* -prediction.c */
gint64 _s4g_window_current_model(S4gWindow *self);
void _s4g_window_centre_on_tile(S4gWindow *self, GtkWidget *tile);
void _s4g_window_show_annotations(S4gWindow *self);
void _s4g_window_show_prediction(S4gWindow *self);
void _s4g_window_prediction_init(S4gWindow *self); /* from init, after the map layers */
void _s4g_window_prediction_dispose(S4gWindow *self);
/* a project was opened or the model changed: search spaces, errors, recall */
void _s4g_window_prediction_reset(S4gWindow *self);
void _s4g_window_load_errors(S4gWindow *self);
/* after the base layer changed: the estimate and truth layers back on top */
void _s4g_window_prediction_raise_layers(S4gWindow *self);
void _s4g_window_prediction_view_changed(S4gWindow *self, gboolean negatives);
/* whether the photo's file name matches the search box (TRUE when it is empty) */
gboolean _s4g_window_search_matches(S4gWindow *self, S4gPhoto *photo);
/* -tasks.c */
gboolean _s4g_window_task_start(S4gWindow *self, const char *what, const char *const *argv,
                                TaskDone done, gpointer data, GDestroyNotify data_free);
/* The same with on_line reading the run's stdout (see TaskLine). */
gboolean _s4g_window_task_start_full(S4gWindow *self, const char *what,
                                     const char *const *argv, TaskLine on_line, TaskDone done,
                                     gpointer data, GDestroyNotify data_free);
void _s4g_window_cancel_task(GtkWidget *w, const char *a, GVariant *p);
/* Sets the running task's progress (0..1) and the text beside it. */
void _s4g_window_task_progress(S4gWindow *self, double fraction, const char *text);
/* -layout.c: moves the panes into the leaflet (from init), and its actions (class_init) */
void _s4g_window_layout_init(S4gWindow *self);
void _s4g_window_class_layout_init(GtkWidgetClass *wc);
/* -demo.c */
void _s4g_window_open_demo(GtkWidget *w, const char *a, GVariant *p);

G_END_DECLS
