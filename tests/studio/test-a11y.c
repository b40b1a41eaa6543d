/* test-a11y.c — every control of the main window (empty state and an open project) has a
 * name for assistive technology: a visible label, or an accessible label or labelled-by
 * relation.  Runs with GTK's test AT context so the properties can be read back. */
#include "s4g-config.h"

#include "s4g-store-runs.h"
#include "s4g-test-fixture.h"
#include "s4g-train-window.h"
#include "s4g-window.h"

#include <adwaita.h>

static GPtrArray *unnamed;

static gboolean named(GtkWidget *w)
{
    GtkAccessible *a = GTK_ACCESSIBLE(w);
    if (gtk_test_accessible_has_property(a, GTK_ACCESSIBLE_PROPERTY_LABEL) ||
        gtk_test_accessible_has_relation(a, GTK_ACCESSIBLE_RELATION_LABELLED_BY))
        return TRUE;
    if (GTK_IS_BUTTON(w) && gtk_button_get_label(GTK_BUTTON(w))) return TRUE;
    return FALSE;
}

/* Controls we own or that libshumate adds; widgets inside libadwaita rows and GTK's own
 * composite internals (the spin button's +/- etc.) are named by their toolkit. */
static void walk(GtkWidget *w)
{
    gboolean control = GTK_IS_BUTTON(w) || GTK_IS_DROP_DOWN(w) || GTK_IS_SPIN_BUTTON(w) ||
                       GTK_IS_ENTRY(w) || GTK_IS_GRID_VIEW(w) || GTK_IS_LIST_VIEW(w) ||
                       GTK_IS_MENU_BUTTON(w) || SHUMATE_IS_SIMPLE_MAP(w);
    if (control && !named(w) &&
        !(GTK_IS_BUTTON(w) && GTK_IS_MENU_BUTTON(gtk_widget_get_parent(w))) &&
        !GTK_IS_SPIN_BUTTON(gtk_widget_get_parent(w)) &&
        !GTK_IS_DROP_DOWN(gtk_widget_get_parent(w)))
        g_ptr_array_add(
            unnamed,
            g_strdup_printf("%s in %s (icon %s)", G_OBJECT_TYPE_NAME(w),
                            G_OBJECT_TYPE_NAME(gtk_widget_get_parent(w)),
                            GTK_IS_BUTTON(w) ? gtk_button_get_icon_name(GTK_BUTTON(w)) : "-"));
    if (GTK_IS_SPIN_BUTTON(w) || GTK_IS_DROP_DOWN(w) || GTK_IS_MENU_BUTTON(w))
        return; /* composite internals */
    for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c))
        walk(c);
}

static void check(GtkWidget *root)
{
    unnamed = g_ptr_array_new_with_free_func(g_free);
    walk(root);
    for (guint i = 0; i < unnamed->len; i++)
        g_test_message("unnamed control: %s", (char *)unnamed->pdata[i]);
    g_assert_cmpuint(unnamed->len, ==, 0);
    g_ptr_array_unref(unnamed);
}

/* Map markers whose label carries `css` (each must have an accessible label): how many of
 * them are named (label and tooltip are the same text) starting with `prefix`. */
static guint count_named_markers(GtkWidget *w, const char *css, const char *prefix)
{
    guint n = 0;
    if (SHUMATE_IS_MARKER(w)) {
        GtkWidget *child = shumate_marker_get_child(SHUMATE_MARKER(w));
        if (child && gtk_widget_has_css_class(child, css)) {
            g_assert_true(
                gtk_test_accessible_has_property(GTK_ACCESSIBLE(w), GTK_ACCESSIBLE_PROPERTY_LABEL));
            if (g_str_has_prefix(gtk_widget_get_tooltip_text(w), prefix)) n++;
        }
    }
    for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c))
        n += count_named_markers(c, css, prefix);
    return n;
}

static void test_names(void)
{
    AdwApplication *app = fix_make_app("A11yTest");
    S4gWindow *win = s4g_window_new(GTK_APPLICATION(app));
    gtk_window_present(GTK_WINDOW(win));
    check(GTK_WIDGET(win));
    g_autofree char *dir = fix_make_project();
    g_assert_true(s4g_window_open_project(win, dir, NULL));
    s4g_window_select_photo(win, 0);
    gtk_test_widget_wait_for_draw(GTK_WIDGET(win));
    check(GTK_WIDGET(win));
    /* the hard-negative view comparing its run with itself: both columns, shared badges */
    s4g_window_select_anchor(win, 0, 0);
    g_assert_true(s4g_negatives_view_set_compare(s4g_window_get_negatives_view(win), 0));
    g_assert_cmpuint(s4g_negatives_view_count_tiles(s4g_window_get_negatives_view(win),
                                                    S4G_NEGATIVES_COMPARE),
                     ==, FIX_NEGATIVES);
    gtk_test_widget_wait_for_draw(GTK_WIDGET(win));
    check(GTK_WIDGET(win));
    /* the compared run's markers have names of their own, naming the run */
    GtkWidget *map = GTK_WIDGET(s4g_window_get_map(win));
    g_assert_cmpuint(count_named_markers(map, "s4g-negative", "Hard negative "), ==,
                     FIX_NEGATIVES);
    g_assert_cmpuint(count_named_markers(map, "s4g-compare-negative", "Hard negative "), ==,
                     FIX_NEGATIVES);
    g_assert_cmpuint(count_named_markers(map, "s4g-compare-negative", "Hard negative 1 of #1 dss"),
                     ==, 1);
    /* the photo dots are one image for assistive technology, named by their count (the
     * photos themselves are reached one by one through the grid) */
    GtkAccessible *dots = GTK_ACCESSIBLE(s4g_window_get_photo_layer(win));
    gtk_test_accessible_assert_role(dots, GTK_ACCESSIBLE_ROLE_IMG);
    g_autofree char *label = g_strdup_printf("%d photo locations", FIX_PHOTOS);
    gtk_test_accessible_assert_property(dots, GTK_ACCESSIBLE_PROPERTY_LABEL, label);
    g_assert_true(gtk_test_accessible_has_property(dots, GTK_ACCESSIBLE_PROPERTY_DESCRIPTION));
    s4g_window_set_filters(win, TRUE, FALSE, 0, 20000); /* nothing flagged: no dots */
    g_assert_cmpuint(s4g_window_count_photo_markers(win), ==, 0);
    gtk_test_accessible_assert_property(dots, GTK_ACCESSIBLE_PROPERTY_LABEL, "0 photo locations");
    gtk_window_destroy(GTK_WINDOW(win));
    g_object_unref(app);
}

/* The training window on both pages, with a stopped run listed (Resume sensitive). */
static void test_train_window(void)
{
    g_autofree char *dir = fix_make_project();
    {
        g_autoptr(GError) error = NULL;
        g_autoptr(S4gStore) store = s4g_store_open(dir, FALSE, &error);
        g_assert_no_error(error);
        gint64 run = s4g_store_run_add(store, 0, 0, "{}", &error);
        g_assert_no_error(error);
        g_assert_true(s4g_store_run_set_state(store, run, S4G_RUN_RUNNING, 1, NULL, &error));
        g_assert_true(s4g_store_run_set_state(store, run, S4G_RUN_STOPPED, 0, NULL, &error));
        g_assert_no_error(error);
    }
    S4gTrainWindow *tw = s4g_train_window_new(NULL, dir);
    gtk_window_present(GTK_WINDOW(tw));
    gtk_test_widget_wait_for_draw(GTK_WIDGET(tw));
    check(GTK_WIDGET(tw));
    GObject *stack = gtk_widget_get_template_child(GTK_WIDGET(tw), S4G_TYPE_TRAIN_WINDOW,
                                                   "view_stack");
    adw_view_stack_set_visible_child_name(ADW_VIEW_STACK(stack), "past");
    g_assert_cmpuint(g_list_model_get_n_items(s4g_train_window_get_runs(tw)), ==, 1);
    g_assert_true(s4g_train_window_select_run(tw, 1));
    gtk_test_widget_wait_for_draw(GTK_WIDGET(tw));
    check(GTK_WIDGET(tw));
    gtk_window_destroy(GTK_WINDOW(tw));
}

int main(int argc, char **argv)
{
    g_setenv("GTK_A11Y", "test", TRUE);
    g_test_init(&argc, &argv, NULL);
    fix_init(argv[0]);
    gtk_init();
    adw_init();
    g_test_add_func("/studio/a11y/names", test_names);
    g_test_add_func("/studio/a11y/train-window", test_train_window);
    return g_test_run();
}
