/* HoneTrainPage: the Train page. Its fields come from train_form.c's table (the top bar's are
 * the window's, passed in); Preview command shows the command and the training_args.yaml that
 * Start writes before it runs `hone train` on it (train_run.c); Save and Load arguments write
 * and read such YAML files; a progress bar, the loss chart and the run's output follow the
 * run. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define HONE_TYPE_TRAIN_PAGE (hone_train_page_get_type ())
G_DECLARE_FINAL_TYPE (HoneTrainPage, hone_train_page, HONE, TRAIN_PAGE, GtkWidget)

/* top_inputs: the top bar's inputs by key (form_input.h), shared with the window. */
GtkWidget *hone_train_page_new (GHashTable *top_inputs);

/* The page's input for a key (the top bar's included), or NULL. */
GtkWidget *hone_train_page_input (HoneTrainPage *page, const char *key);
/* What Preview command shows, or an error message (g_free). */
char *hone_train_page_preview (HoneTrainPage *page);
/* Presses Start; FALSE when the form was refused or the run could not start (said in the
 * page's log). */
gboolean hone_train_page_start (HoneTrainPage *page);
/* The Start button (its label shows the page's language). */
GtkWidget *hone_train_page_start_button (HoneTrainPage *page);
/* The page's chart, for tests and the screenshot hook. */
GtkWidget *hone_train_page_chart (HoneTrainPage *page);
/* Presses Preview command (the command and YAML, or the form's error, in the log). */
void hone_train_page_show_preview (HoneTrainPage *page);
/* Scrolls to the page's end (buttons, progress, chart, log). */
void hone_train_page_scroll_to_end (HoneTrainPage *page);
/* What Start says: "_Start", or "_Resume from checkpoint-N" when the output folder holds one
 * (an interrupted run's folder comes back in the field when it stops). */
const char *hone_train_page_start_label (HoneTrainPage *page);
/* Presses the datasets' Preview: opens and returns the preview window
 * (dataset_preview_dialog.h). */
GtkWidget *hone_train_page_preview_datasets (HoneTrainPage *page);
/* TRUE while a run is going. */
gboolean hone_train_page_running (HoneTrainPage *page);

G_END_DECLS
