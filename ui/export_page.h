/* HoneExportPage: the Export page. Merges the top bar's adapters (checkpoint path) into its
 * model and writes the export folder through an export job (export_job.h, on a worker thread:
 * the window stays responsive), as `hone export` with LLaMA-Factory's export keys: the folder
 * (a folder picker), the maximum shard size in GB, the dtype, an optional GGUF file, the
 * Modelfile's default system prompt (the top bar's template names the Modelfile's template) and
 * whether a non-empty folder may be written into. A progress bar shows "tensor (i/total)";
 * Cancel stops a running export before its next tensor, leaving the folder as it was;
 * at the end a summary lists the files in the folder with their sizes, or the error. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define HONE_TYPE_EXPORT_PAGE (hone_export_page_get_type ())
G_DECLARE_FINAL_TYPE (HoneExportPage, hone_export_page, HONE, EXPORT_PAGE, GtkWidget)

/* top_inputs: the top bar's inputs by key (form_input.h), shared with the window. */
GtkWidget *hone_export_page_new (GHashTable *top_inputs);

/* Sets the export folder entry. */
void hone_export_page_set_folder (HoneExportPage *page, const char *path);
/* Presses Export; FALSE when it was refused (the status line says why). */
gboolean hone_export_page_export (HoneExportPage *page);
/* Presses Cancel; FALSE when no export runs. */
gboolean hone_export_page_cancel (HoneExportPage *page);
/* TRUE while an export runs. */
gboolean hone_export_page_busy (HoneExportPage *page);
/* The status line's text. */
const char *hone_export_page_status (HoneExportPage *page);
/* The summary's lines, "NAME\tSIZE-IN-BYTES" per file of the last successful export, one
 * string with a newline after each ("" before one or after a failure). */
const char *hone_export_page_summary (HoneExportPage *page);

G_END_DECLS
