/* eval_job.c: hn_eval_run on a worker thread (worker.h), its callbacks posted to the main
 * loop (see eval_job.h). The worker owns the run's arguments while it runs. */
#include "eval_job.h"

#include <string.h>

#include "eval_run.h"
#include "json_read.h"
#include "worker.h"

struct _HoneEvalJob {
  HoneEvalJobCallbacks callbacks;
  gpointer user_data;
  HoneWorker *worker;
  hn_train_args args;
};

char *
hone_eval_output_name (GDateTime *now)
{
  /* webui/components/eval.py: output_dir "eval_" + get_time() */
  return g_date_time_format (now, "eval_%Y-%m-%d-%H-%M-%S");
}

/* ---- results ---- */

static hn_status
read_metrics (const char *dir, const char *name, const char *const *keys, double *const *out,
              hn_error *err)
{
  char *path = g_build_filename (dir, name, NULL);
  cJSON *root = NULL;
  hn_status s = hn_json_load_object (path, &root, err);
  hn_json_at at = { path, "", err };
  for (size_t i = 0; s == HN_OK && keys[i] != NULL; i++)
    s = hn_json_double (&at, root, keys[i], HN_REQUIRED, -G_MAXDOUBLE, G_MAXDOUBLE, out[i]);
  cJSON_Delete (root);
  g_free (path);
  return s;
}

hn_status
hone_eval_results_read (const char *output_dir, gboolean do_eval, gboolean do_predict,
                        HoneEvalResults *out, hn_error *err)
{
  *out = (HoneEvalResults){ 0 };
  out->output_dir = g_strdup (output_dir);
  GPtrArray *files = g_ptr_array_new ();
  hn_status s = HN_OK;
  if (do_eval) {
    static const char *const keys[] = { "eval_loss", "eval_perplexity", NULL };
    double *const values[] = { &out->eval_loss, &out->eval_perplexity };
    s = read_metrics (output_dir, "eval_results.json", keys, values, err);
    out->has_eval = s == HN_OK;
    g_ptr_array_add (files, g_strdup ("eval_results.json"));
  }
  if (s == HN_OK && do_predict) {
    static const char *const keys[] = { "predict_bleu-4", "predict_rouge-1", "predict_rouge-2",
                                        "predict_rouge-l", NULL };
    double *const values[] = { &out->bleu4, &out->rouge1, &out->rouge2, &out->rougel };
    s = read_metrics (output_dir, "predict_results.json", keys, values, err);
    out->has_predict = s == HN_OK;
    g_ptr_array_add (files, g_strdup ("predict_results.json"));
    g_ptr_array_add (files, g_strdup ("generated_predictions.jsonl"));
  }
  g_ptr_array_add (files, g_strdup ("all_results.json")); /* both phases update it */
  g_ptr_array_add (files, NULL);
  out->files = (char **) g_ptr_array_free (files, FALSE);
  return s;
}

void
hone_eval_results_clear (HoneEvalResults *r)
{
  g_free (r->output_dir);
  g_strfreev (r->files);
  *r = (HoneEvalResults){ 0 };
}

/* ---- messages from the worker to the main loop ---- */

typedef enum { MSG_NOTE, MSG_PROGRESS, MSG_FINISHED } MessageKind;

typedef struct {
  MessageKind kind;
  char *text; /* note, phase, or the failure's message */
  gsize done, total;
  double tokens_per_s;
  gboolean ok;
  HoneEvalResults results;
} Message;

static void
message_free (gpointer data)
{
  Message *m = data;
  g_free (m->text);
  hone_eval_results_clear (&m->results);
  g_free (m);
}

static void
deliver (gpointer message, gpointer owner)
{
  Message *m = message;
  HoneEvalJob *job = owner;
  switch (m->kind) {
  case MSG_NOTE:
    if (job->callbacks.note != NULL)
      job->callbacks.note (m->text, job->user_data);
    break;
  case MSG_PROGRESS:
    if (job->callbacks.progress != NULL)
      job->callbacks.progress (m->text, m->done, m->total, m->tokens_per_s, job->user_data);
    break;
  case MSG_FINISHED:
    hone_worker_join (job->worker);
    hn_train_args_clear (&job->args);
    hn_train_args_init (&job->args);
    if (job->callbacks.finished != NULL)
      job->callbacks.finished (m->ok, m->ok ? NULL : m->text, m->ok ? &m->results : NULL,
                               job->user_data);
    break;
  }
}

static void
post (HoneEvalJob *job, Message *m)
{
  hone_worker_post (job->worker, m);
}

/* ---- the worker ---- */

static void
on_note (void *user, const char *line)
{
  Message *m = g_new0 (Message, 1);
  m->kind = MSG_NOTE;
  m->text = g_strdup (line);
  post (user, m);
}

static void
on_progress (void *user, const char *phase, size_t done, size_t total, double tokens_per_s)
{
  Message *m = g_new0 (Message, 1);
  m->kind = MSG_PROGRESS;
  m->text = g_strdup (phase);
  m->done = done;
  m->total = total;
  m->tokens_per_s = tokens_per_s;
  post (user, m);
}

static gpointer
eval_worker (gpointer data)
{
  HoneEvalJob *job = data;
  const hn_train_args *args = &job->args;
  hn_eval_callbacks callbacks = { on_note, on_progress, job,
                                  hone_worker_cancel_flag (job->worker) };
  hn_error err = { 0 };
  Message *m = g_new0 (Message, 1);
  m->kind = MSG_FINISHED;
  hn_status s = hn_eval_run (args, &callbacks, &err);
  if (s == HN_OK)
    s = hone_eval_results_read (args->output_dir, args->do_eval, args->do_predict, &m->results,
                                &err);
  m->ok = s == HN_OK;
  if (!m->ok)
    m->text = g_strdup (err.message);
  post (job, m);
  return NULL;
}

/* ---- the API ---- */

HoneEvalJob *
hone_eval_job_new (const HoneEvalJobCallbacks *callbacks, gpointer user_data)
{
  HoneEvalJob *job = g_new0 (HoneEvalJob, 1);
  job->callbacks = *callbacks;
  job->user_data = user_data;
  job->worker = hone_worker_new (job, deliver, message_free);
  hn_train_args_init (&job->args);
  return job;
}

void
hone_eval_job_free (HoneEvalJob *job)
{
  if (job == NULL)
    return;
  hone_worker_close (job->worker); /* the engine stops after its batch or token */
  hn_train_args_clear (&job->args);
  g_free (job);
}

gboolean
hone_eval_job_start (HoneEvalJob *job, hn_train_args *args)
{
  if (hone_worker_busy (job->worker))
    return FALSE;
  hn_train_args_clear (&job->args);
  job->args = *args; /* taken: the caller's is left empty */
  hn_train_args_init (args);
  return hone_worker_start (job->worker, "hone-eval", eval_worker);
}

void
hone_eval_job_stop (HoneEvalJob *job)
{
  hone_worker_cancel (job->worker);
}

gboolean
hone_eval_job_busy (HoneEvalJob *job)
{
  return hone_worker_busy (job->worker);
}
