/* The Train page's dataset preview window: the chosen datasets' rows two at a time
 * (dataset_preview.h) with Previous and Next, or the engine's error when they cannot be read. */
#pragma once

#include <gtk/gtk.h>

/* Opens the window over parent and returns it (owned by GTK; closing destroys it).
 * identity_name and identity_author as the Train page's fields ("" or NULL: placeholders). */
GtkWidget *hone_dataset_preview_dialog_new (GtkWindow *parent, const char *dataset_dir,
                                            const char *names, const char *identity_name,
                                            const char *identity_author);
/* The title over the rows it shows now, and their text (g_free), for tests. */
const char *hone_dataset_preview_dialog_title (GtkWidget *dialog);
char *hone_dataset_preview_dialog_text (GtkWidget *dialog);
/* Shows the next page (FALSE on the last one). */
gboolean hone_dataset_preview_dialog_next (GtkWidget *dialog);
