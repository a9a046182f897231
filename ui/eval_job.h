/* An evaluation for the Evaluate page, without widgets: hn_eval_run (engine/eval_run.h, what
 * `hone eval` runs) on a worker thread, its notes and progress posted to the main loop of the
 * thread that made the job as idle sources, then the results read back from the files it
 * wrote. One run at a time; hone_eval_job_stop asks the engine to stop after the batch or the
 * token it is on (the run then finishes with the engine's "stopped" message). */
#pragma once

#include <glib.h>

#include "hn_error.h"
#include "train_args.h"

/* What a finished run wrote into output_dir (eval_results.json, predict_results.json). */
typedef struct {
  char *output_dir;
  gboolean has_eval;    /* do_eval ran: eval_loss, eval_perplexity */
  double eval_loss, eval_perplexity;
  gboolean has_predict; /* do_predict ran: BLEU-4, ROUGE-1/2/L */
  double bleu4, rouge1, rouge2, rougel;
  char **files; /* the files the run wrote in output_dir (names), NULL-terminated */
} HoneEvalResults;

/* Reads the results of a run with do_eval / do_predict from output_dir's files. */
hn_status hone_eval_results_read (const char *output_dir, gboolean do_eval, gboolean do_predict,
                                  HoneEvalResults *out, hn_error *err);
void hone_eval_results_clear (HoneEvalResults *results);

typedef struct {
  /* a line worth showing (what was loaded, where files went) */
  void (*note) (const char *line, gpointer user_data);
  /* phase "eval" or "predict": examples done of total, the phase's tokens/s so far */
  void (*progress) (const char *phase, gsize done, gsize total, double tokens_per_s,
                    gpointer user_data);
  /* the run ended: ok with results, or not with message (the engine's) saying why */
  void (*finished) (gboolean ok, const char *message, const HoneEvalResults *results,
                    gpointer user_data);
} HoneEvalJobCallbacks;

typedef struct _HoneEvalJob HoneEvalJob;

/* Callbacks run on the calling thread's default main context. */
HoneEvalJob *hone_eval_job_new (const HoneEvalJobCallbacks *callbacks, gpointer user_data);
/* Stops a running evaluation and waits for it; no callback comes after this. */
void hone_eval_job_free (HoneEvalJob *job);

/* Starts hn_eval_run on args, which the job takes (args is left initialised and empty). FALSE
 * (nothing started, args untouched) while a run goes. */
gboolean hone_eval_job_start (HoneEvalJob *job, hn_train_args *args);
gboolean hone_eval_job_busy (HoneEvalJob *job);
/* Asks the running evaluation to stop soon; it finishes with ok FALSE. No-op when idle. */
void hone_eval_job_stop (HoneEvalJob *job);

/* "eval_2026-11-29-11-39-17" (LLaMA-Factory's Web UI default eval output name). g_free. */
char *hone_eval_output_name (GDateTime *now);
