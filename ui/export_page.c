/* export_page.c: the Export page's widgets (see export_page.h); the export itself is
 * export_job.c's, the arguments go through the engine's own key setter and check (export.h). */
#include "export_page.h"
#include "i18n.h"

#include <adwaita.h>

#include "export_job.h"
#include "file_picker.h"
#include "form_input.h"

/* The choices of infer_dtype and export_gguf, as hn_export_args_set reads them. */
static const char *const DTYPES[] = { "auto", "float32", "float16", "bfloat16", NULL };
static const char *const GGUF_TYPES[] = { "none", "f16", "bf16", "q8_0", NULL };

struct _HoneExportPage {
  GtkWidget parent_instance;
  GtkWidget *box;
  GHashTable *top_inputs; /* not owned */
  HoneExportJob *job;
  GtkWidget *folder, *shard_size, *dtype, *gguf, *system, *overwrite;
  GtkWidget *export_button, *cancel_button, *status, *progress, *files;
  char *export_dir; /* of the running export */
  GString *summary;
};

G_DEFINE_FINAL_TYPE (HoneExportPage, hone_export_page, GTK_TYPE_WIDGET)

static void
set_status (HoneExportPage *self, const char *text)
{
  gtk_label_set_text (GTK_LABEL (self->status), text);
}

static void
update_sensitivity (HoneExportPage *self)
{
  gboolean busy = hone_export_job_busy (self->job);
  gtk_widget_set_sensitive (self->export_button, !busy);
  gtk_widget_set_sensitive (self->cancel_button, busy);
}

static char *
top_text (HoneExportPage *self, const char *key)
{
  GtkWidget *input = g_hash_table_lookup (self->top_inputs, key);
  char *text = input != NULL ? hone_form_input_get_text (input) : g_strdup ("");
  return g_strstrip (text);
}

static const char *
selected (GtkWidget *drop_down)
{
  GtkStringList *list = GTK_STRING_LIST (gtk_drop_down_get_model (GTK_DROP_DOWN (drop_down)));
  return gtk_string_list_get_string (list, gtk_drop_down_get_selected (GTK_DROP_DOWN (drop_down)));
}

/* ---- the summary ---- */

static void
clear_files (HoneExportPage *self)
{
  GtkWidget *row;
  while ((row = gtk_widget_get_first_child (self->files)) != NULL)
    gtk_list_box_remove (GTK_LIST_BOX (self->files), row);
  g_string_truncate (self->summary, 0);
}

static GtkWidget *
file_row (const HoneExportFile *file)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_add_css_class (row, "export-file");
  GtkWidget *name = gtk_label_new (file->name);
  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_label_set_selectable (GTK_LABEL (name), TRUE);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_MIDDLE);
  gtk_widget_set_hexpand (name, TRUE);
  char *size = g_format_size (file->size); /* decimal units, as export_size's GB */
  GtkWidget *size_label = gtk_label_new (size);
  gtk_widget_add_css_class (size_label, "dim-label");
  gtk_widget_add_css_class (size_label, "numeric");
  char *bytes = g_strdup_printf ("%" G_GUINT64_FORMAT " bytes", file->size);
  gtk_widget_set_tooltip_text (size_label, bytes);
  gtk_box_append (GTK_BOX (row), name);
  gtk_box_append (GTK_BOX (row), size_label);
  g_free (bytes);
  g_free (size);
  return row;
}

static void
show_files (HoneExportPage *self, GPtrArray *files)
{
  guint64 total = 0;
  for (guint i = 0; i < files->len; i++) {
    const HoneExportFile *file = g_ptr_array_index (files, i);
    gtk_list_box_append (GTK_LIST_BOX (self->files), file_row (file));
    g_string_append_printf (self->summary, "%s\t%" G_GUINT64_FORMAT "\n", file->name,
                            file->size);
    total += file->size;
  }
  char *size = g_format_size (total);
  char *line = g_strdup_printf ("Exported to %s: %u files, %s.", self->export_dir, files->len,
                                size);
  set_status (self, line);
  g_free (line);
  g_free (size);
}

/* ---- job callbacks ---- */

static void
on_progress (const char *what, gsize index, gsize total, gpointer data)
{
  HoneExportPage *self = data;
  gsize done = index < total ? index + 1 : total; /* index == total: a file after the tensors */
  char *text = g_strdup_printf ("%s (%zu/%zu)", what, done, total);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), text);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress),
                                 total > 0 ? (double) done / (double) total : 1.0);
  g_free (text);
}

static void
on_finished (gboolean ok, gboolean cancelled, const char *message, GPtrArray *files,
             gpointer data)
{
  HoneExportPage *self = data;
  if (cancelled) {
    gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), _ ("Cancelled"));
    char *line = g_strdup_printf (_ ("Export cancelled: nothing was written to %s."),
                                  self->export_dir);
    set_status (self, line);
    g_free (line);
  } else if (ok) {
    gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 1.0);
    gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), _ ("Done"));
    show_files (self, files);
  } else {
    gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), _ ("Failed"));
    char *line = g_strdup_printf (_ ("The export failed: %s"), message);
    set_status (self, line);
    g_free (line);
  }
  g_clear_pointer (&self->export_dir, g_free);
  update_sensitivity (self);
}

static const HoneExportJobCallbacks callbacks = { on_progress, on_finished };

/* ---- Export ---- */

/* Sets key to value unless the value is empty (then the engine's default stays). */
static gboolean
set_arg (hn_export_args *args, const char *key, const char *value, hn_error *err)
{
  if (value == NULL || value[0] == '\0')
    return TRUE;
  return hn_export_args_set (args, key, value, "Export page", err) == HN_OK;
}

/* The page's and the top bar's values through the engine's key setter (its checks). */
static gboolean
read_args (HoneExportPage *self, hn_export_args *args, hn_error *err)
{
  static const char *const top_keys[] = { "model_name_or_path", "adapter_name_or_path",
                                          "template" };
  for (size_t i = 0; i < G_N_ELEMENTS (top_keys); i++) {
    char *value = top_text (self, top_keys[i]);
    gboolean ok = set_arg (args, top_keys[i], value, err);
    g_free (value);
    if (!ok)
      return FALSE;
  }
  char *folder = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->folder))));
  gboolean ok = set_arg (args, "export_dir", folder, err);
  g_free (folder);
  gtk_spin_button_update (GTK_SPIN_BUTTON (self->shard_size)); /* take typed text */
  char size[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_dtostr (size, sizeof size, gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->shard_size)));
  return ok && set_arg (args, "export_size", size, err) &&
         set_arg (args, "infer_dtype", selected (self->dtype), err) &&
         set_arg (args, "export_gguf", selected (self->gguf), err) &&
         set_arg (args, "default_system", gtk_editable_get_text (GTK_EDITABLE (self->system)),
                  err) &&
         set_arg (args, "overwrite_output_dir",
                  gtk_switch_get_active (GTK_SWITCH (self->overwrite)) ? "true" : "false", err);
}

gboolean
hone_export_page_export (HoneExportPage *self)
{
  if (hone_export_job_busy (self->job))
    return FALSE;
  hn_export_args args;
  hn_export_args_init (&args);
  hn_error err = { 0 };
  char *dir = NULL;
  gboolean ok = read_args (self, &args, &err);
  if (ok) {
    dir = g_strdup (args.export_dir);
    ok = hone_export_job_start (self->job, &args, &err);
  }
  if (ok) {
    clear_files (self);
    self->export_dir = g_steal_pointer (&dir);
    char *line = g_strdup_printf (_ ("Exporting to %s…"), self->export_dir);
    set_status (self, line);
    g_free (line);
    gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 0);
    gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), _ ("Opening the model…"));
  } else {
    set_status (self, err.message);
  }
  g_free (dir);
  hn_export_args_clear (&args);
  update_sensitivity (self);
  return ok;
}

static void
export_clicked (GtkButton *button, gpointer data)
{
  hone_export_page_export (data);
}

gboolean
hone_export_page_cancel (HoneExportPage *self)
{
  if (!hone_export_job_busy (self->job))
    return FALSE;
  hone_export_job_cancel (self->job);
  set_status (self, _ ("Cancelling the export…"));
  gtk_widget_set_sensitive (self->cancel_button, FALSE);
  return TRUE;
}

static void
cancel_clicked (GtkButton *button, gpointer data)
{
  hone_export_page_cancel (data);
}

static void
folder_chosen (GFile *file, gpointer data)
{
  HoneExportPage *self = data;
  char *path = file != NULL ? g_file_get_path (file) : NULL;
  if (path != NULL)
    hone_export_page_set_folder (self, path);
  g_free (path);
  g_object_unref (self);
}

static void
choose_clicked (GtkButton *button, gpointer data)
{
  hone_pick_file (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (button))), HONE_PICK_FOLDER,
                  _ ("Export folder"), NULL, NULL, folder_chosen, g_object_ref (data));
}

/* ---- building ---- */

/* A row of the settings list: title, the key as subtitle, the input as suffix. */
static GtkWidget *
setting_row (const char *title, const char *key, GtkWidget *input)
{
  GtkWidget *row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), key);
  gtk_widget_set_valign (input, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (input, key);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), input);
  return row;
}

static GtkWidget *
build_settings (HoneExportPage *self)
{
  hn_export_args defaults;
  hn_export_args_init (&defaults);
  GtkWidget *list = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");

  GtkWidget *folder_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->folder = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (self->folder), _ ("a new or empty folder"));
  gtk_editable_set_width_chars (GTK_EDITABLE (self->folder), 48);
  GtkWidget *choose = gtk_button_new_with_label (_ ("Choose…"));
  g_signal_connect (choose, "clicked", G_CALLBACK (choose_clicked), self);
  gtk_box_append (GTK_BOX (folder_box), self->folder);
  gtk_box_append (GTK_BOX (folder_box), choose);
  gtk_list_box_append (GTK_LIST_BOX (list),
                       setting_row (_ ("Export folder"), "export_dir", folder_box));

  self->shard_size = gtk_spin_button_new_with_range (0.01, 1000, 0.5);
  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (self->shard_size), 2);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->shard_size), defaults.export_size);
  gtk_list_box_append (GTK_LIST_BOX (list),
                       setting_row (_ ("Max shard size (GB)"), "export_size", self->shard_size));

  self->dtype = gtk_drop_down_new_from_strings (DTYPES); /* "auto" first: the engine's default */
  gtk_list_box_append (GTK_LIST_BOX (list),
                       setting_row (_ ("Data type"), "infer_dtype", self->dtype));

  self->gguf = gtk_drop_down_new_from_strings (GGUF_TYPES); /* "none" first: the default */
  gtk_list_box_append (GTK_LIST_BOX (list),
                       setting_row (_ ("GGUF file (from a GGUF model)"), "export_gguf",
                                    self->gguf));

  self->system = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (self->system), _ ("the template's default"));
  gtk_editable_set_width_chars (GTK_EDITABLE (self->system), 48);
  gtk_list_box_append (GTK_LIST_BOX (list),
                       setting_row (_ ("Default system prompt (Modelfile)"), "default_system",
                                    self->system));

  self->overwrite = gtk_switch_new ();
  gtk_switch_set_active (GTK_SWITCH (self->overwrite), defaults.overwrite_output_dir);
  GtkWidget *overwrite_row =
      setting_row (_ ("Overwrite a non-empty folder"), "overwrite_output_dir", self->overwrite);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (overwrite_row), self->overwrite);
  gtk_list_box_append (GTK_LIST_BOX (list), overwrite_row);
  hn_export_args_clear (&defaults);
  return list;
}

static GtkWidget *
build_action_row (HoneExportPage *self)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  self->export_button = gtk_button_new_with_label (_ ("Export"));
  gtk_widget_add_css_class (self->export_button, "suggested-action");
  g_signal_connect (self->export_button, "clicked", G_CALLBACK (export_clicked), self);
  self->cancel_button = gtk_button_new_with_label (_ ("Cancel"));
  gtk_widget_set_tooltip_text (self->cancel_button,
                               _ ("Stop the export; what it wrote so far is removed"));
  g_signal_connect (self->cancel_button, "clicked", G_CALLBACK (cancel_clicked), self);
  self->status = gtk_label_new (_ ("The top bar's model, with its checkpoint's adapters merged "
                                   "in, is written to the export folder."));
  gtk_label_set_xalign (GTK_LABEL (self->status), 0);
  gtk_label_set_wrap (GTK_LABEL (self->status), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (self->status), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (self->status), TRUE);
  gtk_widget_set_hexpand (self->status, TRUE);
  gtk_box_append (GTK_BOX (row), self->export_button);
  gtk_box_append (GTK_BOX (row), self->cancel_button);
  gtk_box_append (GTK_BOX (row), self->status);
  return row;
}

static void
hone_export_page_dispose (GObject *object)
{
  HoneExportPage *self = HONE_EXPORT_PAGE (object);
  g_clear_pointer (&self->job, hone_export_job_free); /* waits for a running export */
  g_clear_pointer (&self->box, gtk_widget_unparent);
  G_OBJECT_CLASS (hone_export_page_parent_class)->dispose (object);
}

static void
hone_export_page_finalize (GObject *object)
{
  HoneExportPage *self = HONE_EXPORT_PAGE (object);
  g_free (self->export_dir);
  g_string_free (self->summary, TRUE);
  G_OBJECT_CLASS (hone_export_page_parent_class)->finalize (object);
}

static void
hone_export_page_class_init (HoneExportPageClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = hone_export_page_dispose;
  G_OBJECT_CLASS (klass)->finalize = hone_export_page_finalize;
  gtk_widget_class_set_layout_manager_type (GTK_WIDGET_CLASS (klass), GTK_TYPE_BIN_LAYOUT);
}

static void
hone_export_page_init (HoneExportPage *self)
{
  self->summary = g_string_new (NULL);
  self->job = hone_export_job_new (&callbacks, self);
  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 10);
  gtk_widget_add_css_class (self->box, "export-page");
  gtk_box_append (GTK_BOX (self->box), build_settings (self));
  gtk_box_append (GTK_BOX (self->box), build_action_row (self));
  self->progress = gtk_progress_bar_new ();
  gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (self->progress), TRUE);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), _ ("Not started"));
  gtk_progress_bar_set_ellipsize (GTK_PROGRESS_BAR (self->progress), PANGO_ELLIPSIZE_MIDDLE);
  gtk_box_append (GTK_BOX (self->box), self->progress);
  GtkWidget *caption = gtk_label_new (_ ("Files in the export folder"));
  gtk_label_set_xalign (GTK_LABEL (caption), 0);
  gtk_widget_add_css_class (caption, "caption");
  gtk_box_append (GTK_BOX (self->box), caption);
  self->files = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (self->files), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (self->files, "export-files");
  GtkWidget *scroll = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroll), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroll), self->files);
  gtk_widget_set_vexpand (scroll, TRUE);
  gtk_widget_add_css_class (scroll, "card");
  gtk_box_append (GTK_BOX (self->box), scroll);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));
  update_sensitivity (self);
}

GtkWidget *
hone_export_page_new (GHashTable *top_inputs)
{
  HoneExportPage *self = g_object_new (HONE_TYPE_EXPORT_PAGE, NULL);
  self->top_inputs = top_inputs;
  return GTK_WIDGET (self);
}

void
hone_export_page_set_folder (HoneExportPage *self, const char *path)
{
  gtk_editable_set_text (GTK_EDITABLE (self->folder), path);
}

gboolean
hone_export_page_busy (HoneExportPage *self)
{
  return hone_export_job_busy (self->job);
}

const char *
hone_export_page_status (HoneExportPage *self)
{
  return gtk_label_get_text (GTK_LABEL (self->status));
}

const char *
hone_export_page_summary (HoneExportPage *self)
{
  return self->summary->str;
}
