/* HoneEvalPage: the Evaluate page (LLaMA-Factory Web UI's Evaluate & Predict tab). Its fields
 * (data folder, datasets from dataset_info.json, cutoff length, max samples, batch size, eval
 * loss and predict switches, max new tokens, top-p, temperature, output folder) and the top
 * bar's model, method, checkpoint path, template and backend become hn_train_args; Start runs
 * hn_eval_run on a worker thread (eval_job.h) with a progress bar (examples done / total,
 * tokens/s), the engine's notes in a log, then a results table (eval_loss, eval_perplexity,
 * predict_bleu-4, predict_rouge-1/2/l and the files written). The engine has no cancel for an
 * evaluation, so Abort stays insensitive (its tooltip says why). */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define HONE_TYPE_EVAL_PAGE (hone_eval_page_get_type ())
G_DECLARE_FINAL_TYPE (HoneEvalPage, hone_eval_page, HONE, EVAL_PAGE, GtkWidget)

/* top_inputs: the top bar's inputs by key (form_input.h), shared with the window. */
GtkWidget *hone_eval_page_new (GHashTable *top_inputs);

/* The page's input for key (dataset_dir, eval_dataset, ..., output_dir), or the top bar's. */
GtkWidget *hone_eval_page_input (HoneEvalPage *page, const char *key);
/* Presses Start; FALSE when refused (the status line says why). */
gboolean hone_eval_page_start (HoneEvalPage *page);
gboolean hone_eval_page_busy (HoneEvalPage *page);
/* The status line's text. */
const char *hone_eval_page_status (HoneEvalPage *page);
/* The results table's value for a metric ("eval_loss", "predict_bleu-4", ...), NULL when the
 * table has none. */
const char *hone_eval_page_result (HoneEvalPage *page, const char *metric);
/* Scrolls the page to its end (the results table and the log). */
void hone_eval_page_scroll_to_end (HoneEvalPage *page);

G_END_DECLS
