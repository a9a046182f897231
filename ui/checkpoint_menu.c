/* checkpoint_menu.c: the checkpoint path's menu of earlier runs (see checkpoint_menu.h). */
#include "checkpoint_menu.h"

#include "i18n.h"
#include <string.h>

#include "form_input.h"
#include "saved_runs.h"
#include "train_form.h"

#define PATH_KEY "hone-run-path"

typedef struct {
  GHashTable *inputs;
  GtkWidget *checkpoint; /* the input */
  GtkWidget *list;       /* the popover's box */
  GtkWidget *button;
} Menu;

static void
menu_free (gpointer data)
{
  Menu *menu = data;
  g_hash_table_unref (menu->inputs);
  g_free (menu);
}

static char *
text_of (Menu *menu, const char *key)
{
  return hone_form_input_get_text (g_hash_table_lookup (menu->inputs, key));
}

static gboolean
stacks (Menu *menu)
{
  char *method = text_of (menu, "finetuning_type");
  gboolean lora = strcmp (method, "lora") == 0;
  g_free (method);
  return lora;
}

static void
run_chosen (Menu *menu, const char *path)
{
  char *current = hone_form_input_get_text (menu->checkpoint);
  char *next = hone_saved_runs_choose (current, path, stacks (menu));
  hone_form_input_set_text (menu->checkpoint, next);
  g_free (next);
  g_free (current);
}

static void
check_toggled (GtkCheckButton *check, gpointer data)
{
  Menu *menu = data;
  const char *path = g_object_get_data (G_OBJECT (check), PATH_KEY);
  char *current = hone_form_input_get_text (menu->checkpoint);
  gboolean chosen = hone_saved_runs_chosen (current, path);
  g_free (current);
  if (chosen != gtk_check_button_get_active (check))
    run_chosen (menu, path);
}

static void
button_clicked (GtkButton *button, gpointer data)
{
  Menu *menu = data;
  run_chosen (menu, g_object_get_data (G_OBJECT (button), PATH_KEY));
  gtk_menu_button_popdown (GTK_MENU_BUTTON (menu->button));
}

/* Fills the list with the runs there are now. */
static void
refresh (Menu *menu)
{
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child (menu->list)) != NULL)
    gtk_box_remove (GTK_BOX (menu->list), child);
  char *model = text_of (menu, "model_name_or_path");
  char *method = text_of (menu, "finetuning_type");
  char *dir = hone_train_form_saves_dir (NULL, model, method);
  char **runs = hone_saved_runs (dir);
  char *current = hone_form_input_get_text (menu->checkpoint);
  gboolean several = stacks (menu);
  char *title = g_strdup_printf (_("Earlier runs in %s"), dir);
  GtkWidget *heading = gtk_label_new (title);
  gtk_label_set_xalign (GTK_LABEL (heading), 0);
  gtk_label_set_wrap (GTK_LABEL (heading), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (heading), 50);
  gtk_widget_add_css_class (heading, "dim-label");
  gtk_box_append (GTK_BOX (menu->list), heading);
  for (char **run = runs; *run != NULL; run++) {
    char *path = g_build_filename (dir, *run, NULL);
    GtkWidget *item;
    if (several) {
      item = gtk_check_button_new_with_label (*run);
      gtk_check_button_set_active (GTK_CHECK_BUTTON (item),
                                   hone_saved_runs_chosen (current, path));
      g_signal_connect (item, "toggled", G_CALLBACK (check_toggled), menu);
    } else {
      item = gtk_button_new_with_label (*run);
      gtk_widget_add_css_class (item, "flat");
      g_signal_connect (item, "clicked", G_CALLBACK (button_clicked), menu);
    }
    g_object_set_data_full (G_OBJECT (item), PATH_KEY, path, g_free);
    gtk_box_append (GTK_BOX (menu->list), item);
  }
  if (runs[0] == NULL)
    gtk_box_append (GTK_BOX (menu->list), gtk_label_new (_("None yet: the runs of this model "
                                                           "and method go here")));
  g_free (title);
  g_free (current);
  g_strfreev (runs);
  g_free (dir);
  g_free (method);
  g_free (model);
}

static void
popover_shown (GtkWidget *popover, gpointer data)
{
  refresh (data);
}

void
hone_checkpoint_menu_attach (GtkWidget *checkpoint_input, GHashTable *inputs)
{
  Menu *menu = g_new0 (Menu, 1);
  menu->inputs = g_hash_table_ref (inputs);
  menu->checkpoint = checkpoint_input;
  menu->list = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *scroll = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroll), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scroll), TRUE);
  gtk_scrolled_window_set_propagate_natural_width (GTK_SCROLLED_WINDOW (scroll), TRUE);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scroll), 360);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroll), menu->list);
  GtkWidget *popover = gtk_popover_new ();
  gtk_popover_set_child (GTK_POPOVER (popover), scroll);
  g_signal_connect (popover, "show", G_CALLBACK (popover_shown), menu);
  menu->button = gtk_menu_button_new ();
  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (menu->button), "document-open-recent-symbolic");
  gtk_widget_set_tooltip_text (menu->button, _("Earlier runs of this model and method"));
  gtk_menu_button_set_popover (GTK_MENU_BUTTON (menu->button), popover);
  g_object_set_data_full (G_OBJECT (menu->button), "hone-menu", menu, menu_free);
  g_object_set_data (G_OBJECT (checkpoint_input), "hone-menu", menu); /* for the tests' calls */
  /* the path input is a linked box: entry, folder button; the menu goes after the entry */
  GtkEditable *entry = hone_form_input_editable (checkpoint_input);
  gtk_box_insert_child_after (GTK_BOX (checkpoint_input), menu->button, GTK_WIDGET (entry));
}

char **
hone_checkpoint_menu_runs (GtkWidget *checkpoint_input)
{
  Menu *menu = g_object_get_data (G_OBJECT (checkpoint_input), "hone-menu");
  refresh (menu);
  GPtrArray *names = g_ptr_array_new ();
  for (GtkWidget *c = gtk_widget_get_first_child (menu->list); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    if (g_object_get_data (G_OBJECT (c), PATH_KEY) != NULL)
      g_ptr_array_add (names, g_strdup (GTK_IS_CHECK_BUTTON (c)
                                            ? gtk_check_button_get_label (GTK_CHECK_BUTTON (c))
                                            : gtk_button_get_label (GTK_BUTTON (c))));
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (names, FALSE);
}

void
hone_checkpoint_menu_choose (GtkWidget *checkpoint_input, guint index)
{
  Menu *menu = g_object_get_data (G_OBJECT (checkpoint_input), "hone-menu");
  guint i = 0;
  for (GtkWidget *c = gtk_widget_get_first_child (menu->list); c != NULL;
       c = gtk_widget_get_next_sibling (c)) {
    if (g_object_get_data (G_OBJECT (c), PATH_KEY) == NULL || i++ != index)
      continue;
    if (GTK_IS_CHECK_BUTTON (c)) /* as a click: the check flips */
      gtk_check_button_set_active (GTK_CHECK_BUTTON (c),
                                   !gtk_check_button_get_active (GTK_CHECK_BUTTON (c)));
    else
      g_signal_emit_by_name (c, "clicked");
    return;
  }
}
