/* HoneWindow: the main window, a view switcher over the Train, Evaluate, Chat and Export pages
 * under the shared top bar (model name, model path, finetuning method, checkpoint path with its
 * earlier runs, template with its warning, backend). */
#pragma once

#include <adwaita.h>

#include "i18n.h"

G_BEGIN_DECLS

#define HONE_TYPE_WINDOW (hone_window_get_type ())
G_DECLARE_FINAL_TYPE (HoneWindow, hone_window, HONE, WINDOW, AdwApplicationWindow)

GtkWidget *hone_window_new (AdwApplication *app);
AdwViewStack *hone_window_stack (HoneWindow *window);
/* The Train page (train_page.h). */
GtkWidget *hone_window_train_page (HoneWindow *window);
/* The Chat page (chat_page.h). */
GtkWidget *hone_window_chat_page (HoneWindow *window);
/* The Evaluate page (eval_page.h). */
GtkWidget *hone_window_eval_page (HoneWindow *window);
/* The top bar's template warning as shown, "" when none (top_bar_model.h). */
const char *hone_window_template_warning (HoneWindow *window);
/* The Export page (export_page.h). */
GtkWidget *hone_window_export_page (HoneWindow *window);
/* Chooses lang in the top bar's language switch: the window is relabelled in place. */
void hone_window_set_language (HoneWindow *window, HoneLanguage lang);

G_END_DECLS
