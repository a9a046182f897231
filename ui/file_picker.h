/* Asking the user for a folder, a file to open or a file to save: GtkFileDialog on GTK 4.10 and
 * later, GtkFileChooserNative on 4.8 (Debian 12); both go through the desktop portal in a
 * sandbox. The picker starts in `start`, else in the last folder a picker opened
 * (app_settings.h), and remembers the chosen file's folder as the last one. */
#pragma once

#include <gtk/gtk.h>

typedef enum {
  HONE_PICK_FOLDER,
  HONE_PICK_OPEN,
  HONE_PICK_SAVE,
  HONE_PICK_GGUF, /* a file to open, GGUF models (*.gguf) offered first */
} HonePickMode;

/* Called with the chosen file, or NULL when the user cancelled. */
typedef void (*HonePickedFunc) (GFile *file, gpointer data);

/* save_name: the suggested name (HONE_PICK_SAVE). start may be NULL. */
void hone_pick_file (GtkWindow *parent, HonePickMode mode, const char *title, GFile *start,
                     const char *save_name, HonePickedFunc done, gpointer data);
