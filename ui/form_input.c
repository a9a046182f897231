/* form_input.c: one field's input widget and its value as text (see form_input.h); path inputs
 * have a folder picker (file_picker.c), the model path a GGUF file picker too. */
#include "form_input.h"
#include "i18n.h"

#include "file_picker.h"

#include <math.h>
#include <string.h>

#define FIELD_KEY "hone-field"
#define ENTRY_KEY "hone-entry"    /* path inputs: their entry */
#define CHECKS_KEY "hone-checks"  /* dataset inputs: the GtkBox of check buttons */
#define LABEL_KEY "hone-label"    /* dataset inputs: the button's label */
#define VALUES_KEY "hone-values"  /* choice inputs: the value of each item (GPtrArray) */

const HoneFormField *
hone_form_input_field (GtkWidget *input)
{
  return g_object_get_data (G_OBJECT (input), FIELD_KEY);
}

/* ---- folder picker ---- */

static void
folder_chosen (GFile *file, gpointer data)
{
  GtkEntry *entry = data;
  char *path = file != NULL ? g_file_get_path (file) : NULL;
  if (path != NULL)
    gtk_editable_set_text (GTK_EDITABLE (entry), path);
  g_free (path);
  g_object_unref (entry);
}

/* The picker starts where the entry's path is (a file's folder). */
static GFile *
start_of (const char *current)
{
  if (current[0] == '\0')
    return NULL;
  GFile *file = g_file_new_for_path (current);
  if (g_file_test (current, G_FILE_TEST_IS_REGULAR)) {
    GFile *parent = g_file_get_parent (file);
    g_object_unref (file);
    file = parent;
  }
  return file;
}

static void
pick (GtkButton *button, GtkEntry *entry, HonePickMode mode)
{
  const HoneFormField *field = g_object_get_data (G_OBJECT (entry), FIELD_KEY);
  GFile *start = start_of (gtk_editable_get_text (GTK_EDITABLE (entry)));
  hone_pick_file (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (button))), mode, _ (field->label),
                  start, NULL, folder_chosen, g_object_ref (entry));
  g_clear_object (&start);
}

static void
pick_folder (GtkButton *button, gpointer user_data)
{
  pick (button, GTK_ENTRY (user_data), HONE_PICK_FOLDER);
}

static void
pick_gguf (GtkButton *button, gpointer user_data)
{
  pick (button, GTK_ENTRY (user_data), HONE_PICK_GGUF);
}

static GtkWidget *
path_input_new (const HoneFormField *field)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_add_css_class (box, "linked");
  GtkWidget *entry = gtk_entry_new ();
  gtk_widget_set_hexpand (entry, TRUE);
  gtk_editable_set_width_chars (GTK_EDITABLE (entry), 12); /* grows: hexpand */
  g_object_set_data (G_OBJECT (entry), FIELD_KEY, (gpointer) field);
  GtkWidget *button = gtk_button_new_from_icon_name ("folder-open-symbolic");
  gtk_widget_set_tooltip_text (button, _ ("Choose a folder"));
  g_signal_connect (button, "clicked", G_CALLBACK (pick_folder), entry);
  gtk_box_append (GTK_BOX (box), entry);
  gtk_box_append (GTK_BOX (box), button);
  if (strcmp (field->key, "model_name_or_path") == 0) { /* a folder or a GGUF file */
    GtkWidget *file = gtk_button_new_with_label ("GGUF");
    gtk_widget_set_tooltip_text (file, _("Choose a GGUF file"));
    g_signal_connect (file, "clicked", G_CALLBACK (pick_gguf), entry);
    gtk_box_append (GTK_BOX (box), file);
  }
  g_object_set_data (G_OBJECT (box), ENTRY_KEY, entry);
  return box;
}

/* ---- dataset multi-select ---- */

static char *
selected_datasets (GtkWidget *input)
{
  GtkWidget *checks = g_object_get_data (G_OBJECT (input), CHECKS_KEY);
  GString *out = g_string_new (NULL);
  for (GtkWidget *c = gtk_widget_get_first_child (checks); c != NULL;
       c = gtk_widget_get_next_sibling (c)) {
    if (!gtk_check_button_get_active (GTK_CHECK_BUTTON (c)))
      continue;
    if (out->len > 0)
      g_string_append_c (out, ',');
    g_string_append (out, gtk_check_button_get_label (GTK_CHECK_BUTTON (c)));
  }
  return g_string_free (out, FALSE);
}

static void
update_dataset_label (GtkWidget *input)
{
  char *list = selected_datasets (input);
  char **names = g_strsplit (list, ",", -1);
  char *shown = g_strjoinv (", ", names);
  gtk_label_set_text (GTK_LABEL (g_object_get_data (G_OBJECT (input), LABEL_KEY)),
                      shown[0] != '\0' ? shown : _ ("None selected"));
  g_free (shown);
  g_strfreev (names);
  g_free (list);
}

static void
dataset_toggled (GtkCheckButton *check, gpointer user_data)
{
  update_dataset_label (GTK_WIDGET (user_data));
}

static GtkWidget *
dataset_check (GtkWidget *input, const char *name)
{
  GtkWidget *checks = g_object_get_data (G_OBJECT (input), CHECKS_KEY);
  for (GtkWidget *c = gtk_widget_get_first_child (checks); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    if (strcmp (gtk_check_button_get_label (GTK_CHECK_BUTTON (c)), name) == 0)
      return c;
  GtkWidget *check = gtk_check_button_new_with_label (name);
  g_signal_connect (check, "toggled", G_CALLBACK (dataset_toggled), input);
  gtk_box_append (GTK_BOX (checks), check);
  return check;
}

static void
select_datasets (GtkWidget *input, const char *list)
{
  GtkWidget *checks = g_object_get_data (G_OBJECT (input), CHECKS_KEY);
  for (GtkWidget *c = gtk_widget_get_first_child (checks); c != NULL;
       c = gtk_widget_get_next_sibling (c))
    gtk_check_button_set_active (GTK_CHECK_BUTTON (c), FALSE);
  char **names = g_strsplit (list, ",", -1);
  for (char **n = names; *n != NULL; n++)
    if (**n != '\0')
      gtk_check_button_set_active (GTK_CHECK_BUTTON (dataset_check (input, *n)), TRUE);
  g_strfreev (names);
  update_dataset_label (input);
}

static GtkWidget *
dataset_input_new (void)
{
  GtkWidget *button = gtk_menu_button_new ();
  GtkWidget *label = gtk_label_new (_ ("None selected"));
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 30);
  gtk_menu_button_set_child (GTK_MENU_BUTTON (button), label);
  GtkWidget *checks = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *scroll = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroll), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scroll), TRUE);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scroll), 320);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroll), checks);
  GtkWidget *popover = gtk_popover_new ();
  gtk_popover_set_child (GTK_POPOVER (popover), scroll);
  gtk_menu_button_set_popover (GTK_MENU_BUTTON (button), popover);
  g_object_set_data (G_OBJECT (button), CHECKS_KEY, checks);
  g_object_set_data (G_OBJECT (button), LABEL_KEY, label);
  return button;
}

gboolean
hone_form_input_set_dataset_dir (GtkWidget *input, const char *dir, const char *stage,
                                 hn_error *err)
{
  char *keep = selected_datasets (input);
  GtkWidget *checks = g_object_get_data (G_OBJECT (input), CHECKS_KEY);
  GtkWidget *c;
  while ((c = gtk_widget_get_first_child (checks)) != NULL)
    gtk_box_remove (GTK_BOX (checks), c);
  char **names = NULL;
  gboolean ok = hone_dataset_names (dir, stage, &names, err) == HN_OK;
  for (char **n = names; ok && *n != NULL; n++)
    dataset_check (input, *n);
  /* keep the names still offered */
  GString *still = g_string_new (NULL);
  char **kept = g_strsplit (keep, ",", -1);
  for (char **k = kept; *k != NULL; k++)
    if (**k != '\0' && names != NULL && g_strv_contains ((const char *const *) names, *k))
      g_string_append_printf (still, "%s%s", still->len > 0 ? "," : "", *k);
  select_datasets (input, still->str);
  g_string_free (still, TRUE);
  g_strfreev (kept);
  g_strfreev (names);
  g_free (keep);
  return ok;
}

/* ---- choices: the drop-down shows labels, VALUES_KEY holds the values (train_form.h) ---- */

static void
label_setup (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer ellipsize)
{
  GtkWidget *label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  if (ellipsize != NULL) { /* the button: a long name must not widen the top bar */
    gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
    gtk_label_set_max_width_chars (GTK_LABEL (label), 14);
  }
  gtk_list_item_set_child (item, label);
}

static void
label_bind (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer unused)
{
  GtkStringObject *text = gtk_list_item_get_item (item);
  gtk_label_set_text (GTK_LABEL (gtk_list_item_get_child (item)),
                      gtk_string_object_get_string (text));
}

/* Label factories: ellipsized for the drop-down's button, whole in its list. */
static GtkListItemFactory *
label_factory (gboolean ellipsize)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (label_setup), ellipsize ? factory : NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (label_bind), NULL);
  return factory;
}

static GtkWidget *
choice_input_new (const HoneFormField *field)
{
  char **choices = hone_train_form_choices (field);
  GPtrArray *values = g_ptr_array_new_with_free_func (g_free);
  GtkStringList *labels = gtk_string_list_new (NULL);
  for (char **c = choices; *c != NULL; c++) {
    g_ptr_array_add (values, g_strdup (*c));
    gtk_string_list_append (labels, hone_train_form_choice_label (field, *c));
  }
  g_strfreev (choices);
  GtkWidget *input = gtk_drop_down_new (G_LIST_MODEL (labels), NULL);
  if (values->len > 15) { /* a long list (the model names): type to find */
    gtk_drop_down_set_expression (GTK_DROP_DOWN (input),
        gtk_property_expression_new (GTK_TYPE_STRING_OBJECT, NULL, "string"));
    gtk_drop_down_set_enable_search (GTK_DROP_DOWN (input), TRUE);
    GtkListItemFactory *button = label_factory (TRUE), *list = label_factory (FALSE);
    gtk_drop_down_set_factory (GTK_DROP_DOWN (input), button);
    gtk_drop_down_set_list_factory (GTK_DROP_DOWN (input), list);
    g_object_unref (button);
    g_object_unref (list);
  }
  g_object_set_data_full (G_OBJECT (input), VALUES_KEY, values,
                          (GDestroyNotify) g_ptr_array_unref);
  return input;
}

static char *
choice_get (GtkWidget *input)
{
  GPtrArray *values = g_object_get_data (G_OBJECT (input), VALUES_KEY);
  guint at = gtk_drop_down_get_selected (GTK_DROP_DOWN (input));
  return g_strdup (at < values->len ? g_ptr_array_index (values, at) : "");
}

static void
choice_set (GtkWidget *input, const char *text)
{
  GPtrArray *values = g_object_get_data (G_OBJECT (input), VALUES_KEY);
  guint at = values->len;
  for (guint i = 0; i < values->len; i++)
    if (strcmp (g_ptr_array_index (values, i), text) == 0)
      at = i;
  if (at == values->len) { /* a value loaded from a file that the list does not offer */
    g_ptr_array_add (values, g_strdup (text));
    gtk_string_list_append (GTK_STRING_LIST (gtk_drop_down_get_model (GTK_DROP_DOWN (input))),
                            hone_train_form_choice_label (hone_form_input_field (input), text));
  }
  gtk_drop_down_set_selected (GTK_DROP_DOWN (input), at);
}

/* ---- every kind ---- */

GtkWidget *
hone_form_input_new (const HoneFormField *field)
{
  GtkWidget *input = NULL;
  hn_train_arg_info info = { 0 };
  switch (field->kind) {
  case HONE_FIELD_TEXT:
  case HONE_FIELD_NUMBER:
    input = gtk_entry_new ();
    gtk_editable_set_width_chars (GTK_EDITABLE (input), field->kind == HONE_FIELD_TEXT ? 12 : 10);
    break;
  case HONE_FIELD_PATH:
    input = path_input_new (field);
    break;
  case HONE_FIELD_INT: {
    hn_train_args_key_info (field->key, &info);
    /* the key's range, within what a spin button shows well */
    double lo = isfinite (info.min) ? info.min : -1e9, hi = isfinite (info.max) ? info.max : 1e9;
    input = gtk_spin_button_new_with_range (lo, fmin (hi, 1e12), field->step > 0 ? field->step : 1);
    gtk_spin_button_set_digits (GTK_SPIN_BUTTON (input), 0);
    gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (input), TRUE);
    break;
  }
  case HONE_FIELD_CHOICE:
    input = choice_input_new (field);
    break;
  case HONE_FIELD_SWITCH:
    input = gtk_switch_new ();
    break;
  case HONE_FIELD_DATASETS:
    input = dataset_input_new ();
    break;
  }
  gtk_widget_set_valign (input, GTK_ALIGN_CENTER);
  g_object_set_data (G_OBJECT (input), FIELD_KEY, (gpointer) field);
  return input;
}

char *
hone_form_input_get_text (GtkWidget *input)
{
  const HoneFormField *field = hone_form_input_field (input);
  switch (field->kind) {
  case HONE_FIELD_TEXT:
  case HONE_FIELD_NUMBER:
    return g_strdup (gtk_editable_get_text (GTK_EDITABLE (input)));
  case HONE_FIELD_PATH:
    return g_strdup (gtk_editable_get_text (g_object_get_data (G_OBJECT (input), ENTRY_KEY)));
  case HONE_FIELD_INT:
    gtk_spin_button_update (GTK_SPIN_BUTTON (input)); /* take typed text */
    return g_strdup_printf ("%.0f", gtk_spin_button_get_value (GTK_SPIN_BUTTON (input)));
  case HONE_FIELD_CHOICE:
    return choice_get (input);
  case HONE_FIELD_SWITCH:
    return g_strdup (gtk_switch_get_active (GTK_SWITCH (input)) ? "true" : "false");
  case HONE_FIELD_DATASETS:
    return selected_datasets (input);
  }
  return g_strdup ("");
}

void
hone_form_input_set_text (GtkWidget *input, const char *text)
{
  const HoneFormField *field = hone_form_input_field (input);
  switch (field->kind) {
  case HONE_FIELD_TEXT:
  case HONE_FIELD_NUMBER:
    gtk_editable_set_text (GTK_EDITABLE (input), text);
    break;
  case HONE_FIELD_PATH:
    gtk_editable_set_text (g_object_get_data (G_OBJECT (input), ENTRY_KEY), text);
    break;
  case HONE_FIELD_INT:
    gtk_spin_button_set_value (GTK_SPIN_BUTTON (input), g_ascii_strtod (text, NULL));
    break;
  case HONE_FIELD_CHOICE:
    choice_set (input, text);
    break;
  case HONE_FIELD_SWITCH:
    gtk_switch_set_active (GTK_SWITCH (input), strcmp (text, "true") == 0);
    break;
  case HONE_FIELD_DATASETS:
    select_datasets (input, text);
    break;
  }
}

GtkEditable *
hone_form_input_editable (GtkWidget *input)
{
  switch (hone_form_input_field (input)->kind) {
  case HONE_FIELD_TEXT:
  case HONE_FIELD_NUMBER:
    return GTK_EDITABLE (input);
  case HONE_FIELD_PATH:
    return GTK_EDITABLE (g_object_get_data (G_OBJECT (input), ENTRY_KEY));
  default:
    return NULL;
  }
}

void
hone_form_inputs_set_defaults (GHashTable *inputs)
{
  HoneTrainForm form;
  GDateTime *now = g_date_time_new_now_local ();
  hone_train_form_init (&form, NULL, now);
  g_date_time_unref (now);
  size_t n = 0;
  const HoneFormField *fields = hone_train_form_fields (&n);
  for (size_t i = 0; i < n; i++) {
    GtkWidget *input = g_hash_table_lookup (inputs, fields[i].key);
    if (input != NULL)
      hone_form_input_set_text (input, form.values[i]);
  }
  hone_train_form_clear (&form);
}
