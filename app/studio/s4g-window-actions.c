/* s4g-window-actions.c — the main window's actions: annotation with undo/redo, export,
 * opening projects, training, view switching, and their keyboard shortcuts. */
#include "s4g-config.h"

#include "s4g-window-private.h"

#include "s4g-photo-layer.h"
#include "s4g-store-annotations.h"
#include "s4g-train-window.h"

#include <glib/gi18n.h>

void _s4g_window_edit_free(Edit *e)
{
    g_free(e->note);
    g_free(e);
}

/* ---- annotation with undo/redo -------------------------------------------------------- */

/* What an annotation says, as a sentence: "Flagged as a bad pair, not resolved yet: note". */
char *_s4g_window_describe_annotation(S4gAnnotationFlag flag, gboolean open, gboolean has_location,
                                      double lat, double lon, const char *note)
{
    g_autofree char *what = NULL;
    switch (flag) {
    case S4G_ANNOTATION_OK:
        what = g_strdup(_("Reviewed: nothing wrong"));
        break;
    case S4G_ANNOTATION_BAD_PAIR:
        what = g_strdup(open ? _("Flagged as a bad pair, not resolved yet")
                             : _("Flagged as a bad pair, resolved"));
        break;
    case S4G_ANNOTATION_WRONG_LOCATION:
        what = g_strdup(open ? _("Flagged as a wrong location, not resolved yet")
                             : _("Flagged as a wrong location, resolved"));
        break;
    case S4G_ANNOTATION_LOCATION:
        what = has_location ? g_strdup_printf(_("Location set to %.5f, %.5f"), lat, lon)
                            : g_strdup(_("Location set"));
        break;
    }
    if (!note || !*note) return g_steal_pointer(&what);
    /* Translators: an annotation and its note */
    return g_strdup_printf(_("%s — “%s”"), what, note);
}

/* "Undone: Flagged as a bad pair on 0000123.jpg" in a toast: an undo or redo may change a
 * photo that is not the one shown. */
static void toast_edit(S4gWindow *self, Edit *e, gboolean undone)
{
    S4gPhoto *p = s4g_project_find_photo(self->project, e->image);
    g_autofree char *base = p ? g_path_get_basename(s4g_photo_get_path(p)) : NULL;
    g_autofree char *what = _s4g_window_describe_annotation(e->flag, FALSE, e->has_location,
                                                            e->lat, e->lon, NULL);
    g_autofree char *msg = undone ? g_strdup_printf(_("Undone on %s: %s"), base ? base : "?", what)
                                  : g_strdup_printf(_("Redone on %s: %s"), base ? base : "?", what);
    _s4g_window_toast(self, msg);
}

void _s4g_window_update_undo_actions(S4gWindow *self)
{
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.undo", self->undo->len > 0);
    gtk_widget_action_set_enabled(GTK_WIDGET(self), "win.redo", self->redo->len > 0);
}

static gboolean apply_edit(S4gWindow *self, Edit *e, GError **error)
{
    e->id = s4g_store_annotation_add(s4g_project_get_store(self->project), e->image, e->flag,
                                     e->has_location, e->lat, e->lon, e->note, error);
    return e->id != 0;
}

static void after_edit(S4gWindow *self, Edit *e)
{
    S4gPhoto *p = s4g_project_find_photo(self->project, e->image);
    if (p && p == self->current) {
        _s4g_window_show_annotations(self);
        if (e->flag == S4G_ANNOTATION_LOCATION) _s4g_window_show_prediction(self);
    } else if (p) {
        g_autoptr(GHashTable) open =
            s4g_store_annotations_open_images(s4g_project_get_store(self->project), NULL);
        s4g_photo_set_flagged(p, open && g_hash_table_contains(open, &e->image));
        s4g_photo_layer_invalidate(self->photo_layer);
    }
    _s4g_window_update_undo_actions(self);
}

static gboolean annotate(S4gWindow *self, S4gAnnotationFlag flag, gboolean has_location, double lat,
                         double lon, GError **error)
{
    if (!self->project || !self->current) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("No photo selected"));
        return FALSE;
    }
    Edit *e = g_new0(Edit, 1);
    e->image = s4g_photo_get_id(self->current);
    e->flag = flag;
    e->has_location = has_location;
    e->lat = lat;
    e->lon = lon;
    e->note = g_strdup(gtk_editable_get_text(GTK_EDITABLE(self->note_entry)));
    if (!apply_edit(self, e, error)) {
        _s4g_window_edit_free(e);
        return FALSE;
    }
    g_ptr_array_add(self->undo, e);
    g_ptr_array_set_size(self->redo, 0);
    gtk_editable_set_text(GTK_EDITABLE(self->note_entry), "");
    after_edit(self, e);
    return TRUE;
}

gboolean s4g_window_set_photo_location(S4gWindow *self, double lat, double lon, GError **error)
{
    return annotate(self, S4G_ANNOTATION_LOCATION, TRUE, lat, lon, error);
}

static void annotate_action(S4gWindow *self, S4gAnnotationFlag flag)
{
    g_autoptr(GError) error = NULL;
    if (!annotate(self, flag, FALSE, 0, 0, &error)) _s4g_window_toast(self, error->message);
}

static void flag_bad_pair(GtkWidget *w, const char *a, GVariant *p)
{
    annotate_action(S4G_WINDOW(w), S4G_ANNOTATION_BAD_PAIR);
}

static void flag_wrong_location(GtkWidget *w, const char *a, GVariant *p)
{
    annotate_action(S4G_WINDOW(w), S4G_ANNOTATION_WRONG_LOCATION);
}

/* Reviewed: resolves the photo's open flags and records an "ok". */
static void mark_reviewed(GtkWidget *w, const char *a, GVariant *p)
{
    S4gWindow *self = S4G_WINDOW(w);
    if (!self->current) return;
    g_autoptr(GPtrArray) list = s4g_store_annotations_for_image(
        s4g_project_get_store(self->project), s4g_photo_get_id(self->current), NULL);
    for (guint i = 0; list && i < list->len; i++) {
        S4gAnnotation *an = list->pdata[i];
        if (an->open)
            s4g_store_annotation_set_open(s4g_project_get_store(self->project), an->id, FALSE,
                                          NULL);
    }
    annotate_action(self, S4G_ANNOTATION_OK);
}

static void undo(GtkWidget *w, const char *a, GVariant *p)
{
    S4gWindow *self = S4G_WINDOW(w);
    if (self->undo->len == 0) return;
    Edit *e = g_ptr_array_steal_index(self->undo, self->undo->len - 1);
    g_autoptr(GError) error = NULL;
    if (!s4g_store_annotation_delete(s4g_project_get_store(self->project), e->id, &error))
        _s4g_window_toast(self, error->message);
    g_ptr_array_add(self->redo, e);
    after_edit(self, e);
    toast_edit(self, e, TRUE);
}

static void redo(GtkWidget *w, const char *a, GVariant *p)
{
    S4gWindow *self = S4G_WINDOW(w);
    if (self->redo->len == 0) return;
    Edit *e = g_ptr_array_steal_index(self->redo, self->redo->len - 1);
    g_autoptr(GError) error = NULL;
    if (!apply_edit(self, e, &error)) {
        _s4g_window_toast(self, error->message);
        _s4g_window_edit_free(e);
        _s4g_window_update_undo_actions(self);
        return;
    }
    g_ptr_array_add(self->undo, e);
    after_edit(self, e);
    toast_edit(self, e, FALSE);
}

/* Ctrl+Z / Shift+Ctrl+Z in the Note field undo and redo the annotations, as everywhere in the
 * window (the field's own text undo would take them first). */
static gboolean on_note_key(GtkEventControllerKey *c, guint key, guint code, GdkModifierType mods,
                            gpointer data)
{
    GtkWidget *w = data;
    mods &= gtk_accelerator_get_default_mod_mask();
    if (key != GDK_KEY_z && key != GDK_KEY_Z) return FALSE;
    if (mods == GDK_CONTROL_MASK) return gtk_widget_activate_action(w, "win.undo", NULL), TRUE;
    if (mods == (GDK_CONTROL_MASK | GDK_SHIFT_MASK))
        return gtk_widget_activate_action(w, "win.redo", NULL), TRUE;
    return FALSE;
}

void _s4g_window_note_undo_init(S4gWindow *self)
{
    GtkEventController *keys = gtk_event_controller_key_new();
    gtk_event_controller_set_propagation_phase(keys, GTK_PHASE_CAPTURE);
    g_signal_connect(keys, "key-pressed", G_CALLBACK(on_note_key), self);
    gtk_widget_add_controller(GTK_WIDGET(self->note_entry), keys);
}

/* ---- export -------------------------------------------------------------------------- */

static void export_response(GtkNativeDialog *dialog, int response, gpointer data)
{
    S4gWindow *self = data;
    gboolean geojson = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(dialog), "s4g-geojson"));
    if (response == GTK_RESPONSE_ACCEPT) {
        g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        g_autofree char *path = g_file_get_path(file);
        g_autoptr(GError) error = NULL;
        S4gStore *store = s4g_project_get_store(self->project);
        gboolean ok = geojson ? s4g_store_annotations_export_geojson(store, path, &error)
                              : s4g_store_annotations_export_csv(store, path, &error);
        _s4g_window_toast(self, ok ? _("Annotations exported") : error->message);
    }
    g_object_unref(dialog);
}

static void export_annotations(S4gWindow *self, gboolean geojson)
{
    if (!self->project) return;
    GtkFileChooserNative *d = gtk_file_chooser_native_new(
        geojson ? _("Export Annotations as GeoJSON") : _("Export Annotations as CSV"),
        GTK_WINDOW(self), GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
    gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(d),
                                      geojson ? "annotations.geojson" : "annotations.csv");
    g_object_set_data(G_OBJECT(d), "s4g-geojson", GINT_TO_POINTER(geojson));
    g_signal_connect(d, "response", G_CALLBACK(export_response), self);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

static void export_csv(GtkWidget *w, const char *a, GVariant *p)
{
    export_annotations(S4G_WINDOW(w), FALSE);
}

static void export_geojson(GtkWidget *w, const char *a, GVariant *p)
{
    export_annotations(S4G_WINDOW(w), TRUE);
}

static void open_response(GtkNativeDialog *dialog, int response, gpointer data)
{
    S4gWindow *self = data;
    if (response == GTK_RESPONSE_ACCEPT) {
        g_autoptr(GFile) file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
        g_autofree char *path = g_file_get_path(file);
        g_autoptr(GError) error = NULL;
        if (!s4g_window_open_project(self, path, &error)) _s4g_window_toast(self, error->message);
    }
    g_object_unref(dialog);
}

static void open_action(GtkWidget *w, const char *a, GVariant *p)
{
    GtkFileChooserNative *d = gtk_file_chooser_native_new(
        _("Open or Create Project"), GTK_WINDOW(w), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
        _("_Open"), _("_Cancel"));
    g_signal_connect(d, "response", G_CALLBACK(open_response), w);
    gtk_native_dialog_show(GTK_NATIVE_DIALOG(d));
}

/* A model trained in the app appears in the model list at once. */
static void on_run_ended(S4gWindow *self)
{
    g_autoptr(GError) error = NULL;
    if (self->project && !s4g_project_reload_models(self->project, &error))
        _s4g_window_toast(self, error->message);
}

static void train_action(GtkWidget *w, const char *a, GVariant *p)
{
    S4gWindow *self = S4G_WINDOW(w);
    if (!self->project) return;
    S4gTrainWindow *t = s4g_train_window_new(GTK_WINDOW(self), s4g_project_get_dir(self->project));
    g_signal_connect_object(t, "run-ended", G_CALLBACK(on_run_ended), self, G_CONNECT_SWAPPED);
    gtk_window_present(GTK_WINDOW(t));
}

static void toggle_location_mode(GtkWidget *w, const char *a, GVariant *p)
{
    S4gWindow *self = S4G_WINDOW(w);
    gtk_toggle_button_set_active(self->set_location_toggle,
                                 !gtk_toggle_button_get_active(self->set_location_toggle));
}

static void show_view(GtkWidget *w, const char *a, GVariant *p)
{
    gtk_stack_set_visible_child_name(S4G_WINDOW(w)->view_stack, g_variant_get_string(p, NULL));
}

void _s4g_window_class_actions_init(GtkWidgetClass *wc)
{
    gtk_widget_class_install_action(wc, "win.open", NULL, open_action);
    gtk_widget_class_install_action(wc, "win.open-demo", NULL, _s4g_window_open_demo);
    gtk_widget_class_install_action(wc, "win.cancel-task", NULL, _s4g_window_cancel_task);
    gtk_widget_class_install_action(wc, "win.undo", NULL, undo);
    gtk_widget_class_install_action(wc, "win.redo", NULL, redo);
    gtk_widget_class_install_action(wc, "win.flag-bad-pair", NULL, flag_bad_pair);
    gtk_widget_class_install_action(wc, "win.flag-wrong-location", NULL, flag_wrong_location);
    gtk_widget_class_install_action(wc, "win.mark-reviewed", NULL, mark_reviewed);
    gtk_widget_class_install_action(wc, "win.set-location-mode", NULL, toggle_location_mode);
    gtk_widget_class_install_action(wc, "win.export-csv", NULL, export_csv);
    gtk_widget_class_install_action(wc, "win.export-geojson", NULL, export_geojson);
    gtk_widget_class_install_action(wc, "win.train", NULL, train_action);
    gtk_widget_class_install_action(wc, "win.show-view", "s", show_view);
    gtk_widget_class_add_binding_action(wc, GDK_KEY_o, GDK_CONTROL_MASK, "win.open", NULL);
    gtk_widget_class_add_binding_action(wc, GDK_KEY_z, GDK_CONTROL_MASK, "win.undo", NULL);
    gtk_widget_class_add_binding_action(wc, GDK_KEY_z, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                        "win.redo", NULL);
    gtk_widget_class_add_binding_action(wc, GDK_KEY_b, GDK_CONTROL_MASK, "win.flag-bad-pair", NULL);
    gtk_widget_class_add_binding_action(wc, GDK_KEY_w, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                        "win.flag-wrong-location", NULL);
    gtk_widget_class_add_binding_action(wc, GDK_KEY_r, GDK_CONTROL_MASK, "win.mark-reviewed", NULL);
    gtk_widget_class_add_binding_action(wc, GDK_KEY_l, GDK_CONTROL_MASK, "win.set-location-mode",
                                        NULL);
    gtk_widget_class_add_binding_action(wc, GDK_KEY_e, GDK_CONTROL_MASK, "win.export-csv", NULL);
    gtk_widget_class_add_binding_action(wc, GDK_KEY_e, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                        "win.export-geojson", NULL);
    gtk_widget_class_add_binding_action(wc, GDK_KEY_t, GDK_CONTROL_MASK, "win.train", NULL);
    gtk_widget_class_add_binding_action(wc, GDK_KEY_1, GDK_ALT_MASK, "win.show-view", "s",
                                        "photos");
    gtk_widget_class_add_binding_action(wc, GDK_KEY_2, GDK_ALT_MASK, "win.show-view", "s",
                                        "negatives");
}
