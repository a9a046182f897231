/* file_picker.c: folder and file pickers across GTK versions (see file_picker.h). */
#include "file_picker.h"
#include "i18n.h"

#include "app_settings.h"


/* The filters of HONE_PICK_GGUF: GGUF models, then every file. */
static GListStore *
gguf_filters (void)
{
  GListStore *filters = g_list_store_new (GTK_TYPE_FILE_FILTER);
  GtkFileFilter *gguf = gtk_file_filter_new ();
  gtk_file_filter_set_name (gguf, _("GGUF models"));
  gtk_file_filter_add_pattern (gguf, "*.gguf");
  gtk_file_filter_add_pattern (gguf, "*.GGUF");
  GtkFileFilter *all = gtk_file_filter_new ();
  gtk_file_filter_set_name (all, _("All files"));
  gtk_file_filter_add_pattern (all, "*");
  g_list_store_append (filters, gguf);
  g_list_store_append (filters, all);
  g_object_unref (gguf);
  g_object_unref (all);
  return filters;
}

typedef struct {
  HonePickedFunc done;
  gpointer data;
} Pick;

/* Remembers the folder of what was chosen, then tells the caller. */
static void
finish (Pick *pick, GFile *file)
{
  GSettings *settings = hone_app_settings ();
  if (file != NULL && settings != NULL) {
    GFile *parent = g_file_get_parent (file);
    char *path = parent != NULL ? g_file_get_path (parent) : NULL;
    if (path != NULL)
      g_settings_set_string (settings, "last-folder", path);
    g_free (path);
    g_clear_object (&parent);
  }
  pick->done (file, pick->data);
  g_free (pick);
}

static GFile *
last_folder (void)
{
  GSettings *settings = hone_app_settings ();
  char *last = settings != NULL ? g_settings_get_string (settings, "last-folder") : NULL;
  GFile *file = last != NULL && last[0] != '\0' ? g_file_new_for_path (last) : NULL;
  g_free (last);
  return file;
}

#if GTK_CHECK_VERSION(4, 10, 0)
static void
picked (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pick *pick = user_data;
  GtkFileDialog *dialog = GTK_FILE_DIALOG (source);
  HonePickMode mode = GPOINTER_TO_INT (g_object_get_data (source, "hone-mode"));
  GFile *file = mode == HONE_PICK_FOLDER ? gtk_file_dialog_select_folder_finish (dialog, result, NULL)
              : mode == HONE_PICK_SAVE   ? gtk_file_dialog_save_finish (dialog, result, NULL)
                                         : gtk_file_dialog_open_finish (dialog, result, NULL);
  finish (pick, file); /* NULL: cancelled */
  g_clear_object (&file);
}

void
hone_pick_file (GtkWindow *parent, HonePickMode mode, const char *title, GFile *start,
                const char *save_name, HonePickedFunc done, gpointer data)
{
  Pick *pick = g_new0 (Pick, 1);
  *pick = (Pick){ done, data };
  GtkFileDialog *dialog = gtk_file_dialog_new ();
  gtk_file_dialog_set_title (dialog, title);
  GFile *folder = start != NULL ? g_object_ref (start) : last_folder ();
  if (folder != NULL)
    gtk_file_dialog_set_initial_folder (dialog, folder);
  if (mode == HONE_PICK_SAVE && save_name != NULL)
    gtk_file_dialog_set_initial_name (dialog, save_name);
  g_object_set_data (G_OBJECT (dialog), "hone-mode", GINT_TO_POINTER (mode));
  if (mode == HONE_PICK_GGUF) {
    GListStore *filters = gguf_filters ();
    gtk_file_dialog_set_filters (dialog, G_LIST_MODEL (filters));
    g_object_unref (filters);
  }
  if (mode == HONE_PICK_FOLDER)
    gtk_file_dialog_select_folder (dialog, parent, NULL, picked, pick);
  else if (mode == HONE_PICK_OPEN || mode == HONE_PICK_GGUF)
    gtk_file_dialog_open (dialog, parent, NULL, picked, pick);
  else
    gtk_file_dialog_save (dialog, parent, NULL, picked, pick);
  g_clear_object (&folder);
  g_object_unref (dialog);
}
#else
static void
responded (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  GFile *file = response == GTK_RESPONSE_ACCEPT
                    ? gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog)) : NULL;
  finish (user_data, file);
  g_clear_object (&file);
  g_object_unref (dialog);
}

void
hone_pick_file (GtkWindow *parent, HonePickMode mode, const char *title, GFile *start,
                const char *save_name, HonePickedFunc done, gpointer data)
{
  static const GtkFileChooserAction actions[] = {
    [HONE_PICK_FOLDER] = GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
    [HONE_PICK_OPEN] = GTK_FILE_CHOOSER_ACTION_OPEN,
    [HONE_PICK_SAVE] = GTK_FILE_CHOOSER_ACTION_SAVE,
    [HONE_PICK_GGUF] = GTK_FILE_CHOOSER_ACTION_OPEN,
  };
  static const char *const accept[] = {
    [HONE_PICK_FOLDER] = N_ ("_Select"),
    [HONE_PICK_OPEN] = N_ ("_Open"),
    [HONE_PICK_SAVE] = N_ ("_Save"),
    [HONE_PICK_GGUF] = N_ ("_Open"),
  };
  Pick *pick = g_new0 (Pick, 1);
  *pick = (Pick){ done, data };
  GtkFileChooserNative *dialog =
      gtk_file_chooser_native_new (title, parent, actions[mode], _ (accept[mode]), _ ("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  GFile *folder = start != NULL ? g_object_ref (start) : last_folder ();
  if (folder != NULL)
    gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (dialog), folder, NULL);
  if (mode == HONE_PICK_SAVE && save_name != NULL)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), save_name);
  if (mode == HONE_PICK_GGUF) {
    GListStore *filters = gguf_filters ();
    for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (filters)); i++) {
      GtkFileFilter *filter = g_list_model_get_item (G_LIST_MODEL (filters), i);
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
      g_object_unref (filter);
    }
    g_object_unref (filters);
  }
  g_signal_connect (dialog, "response", G_CALLBACK (responded), pick);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
  g_clear_object (&folder);
}
#endif
