/* train_run.c: `hone train` as a child process, followed through its output and its
 * trainer_log.jsonl (see train_run.h). */
#include "train_run.h"
#include "i18n.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <signal.h>
#include <string.h>

#define POLL_MS 500

struct _HoneTrainRun {
  GSubprocess *process;
  GDataInputStream *out;
  GCancellable *cancel;
  char *log_path;
  gsize log_offset; /* bytes of trainer_log.jsonl already passed on */
  guint poll_id;
  gboolean exited, eof, aborted;
  HoneTrainRunCallbacks callbacks;
  gpointer user_data;
};

gboolean
hone_train_log_line_parse (const char *text, HoneTrainLogLine *out, char **elapsed,
                           char **remaining)
{
  cJSON *o = cJSON_Parse (text);
  const cJSON *cur = cJSON_GetObjectItemCaseSensitive (o, "current_steps");
  const cJSON *total = cJSON_GetObjectItemCaseSensitive (o, "total_steps");
  if (!cJSON_IsObject (o) || !cJSON_IsNumber (cur) || !cJSON_IsNumber (total)) {
    cJSON_Delete (o);
    return FALSE;
  }
  const cJSON *loss = cJSON_GetObjectItemCaseSensitive (o, "loss");
  const cJSON *eval = cJSON_GetObjectItemCaseSensitive (o, "eval_loss");
  const cJSON *el = cJSON_GetObjectItemCaseSensitive (o, "elapsed_time");
  const cJSON *rem = cJSON_GetObjectItemCaseSensitive (o, "remaining_time");
  *elapsed = g_strdup (cJSON_IsString (el) ? el->valuestring : "");
  *remaining = g_strdup (cJSON_IsString (rem) ? rem->valuestring : "");
  *out = (HoneTrainLogLine){
    .step = (gint64) cur->valuedouble,
    .total_steps = (gint64) total->valuedouble,
    .loss = cJSON_IsNumber (loss) ? loss->valuedouble : NAN,
    .eval_loss = cJSON_IsNumber (eval) ? eval->valuedouble : NAN,
    .elapsed = *elapsed,
    .remaining = *remaining,
  };
  cJSON_Delete (o);
  return TRUE;
}

char *
hone_train_progress_text (const HoneTrainLogLine *line)
{
  /* LLaMA-Factory's webui/utils.py get_trainer_info: "Running {cur}/{total}: {elapsed} <
   * {remaining}" */
  return g_strdup_printf (_ ("Running %lld/%lld: %s < %s"), (long long) line->step,
                          (long long) line->total_steps, line->elapsed, line->remaining);
}

/* Passes on the complete lines trainer_log.jsonl has gained. */
static void
poll_log (HoneTrainRun *run)
{
  char *text = NULL;
  gsize length = 0;
  if (!g_file_get_contents (run->log_path, &text, &length, NULL))
    return; /* not written yet */
  if (length < run->log_offset) /* a resumed run rewrites it from its checkpoint */
    run->log_offset = 0;
  char *start = text + run->log_offset, *end = text + length;
  char *nl;
  while (start < end && (nl = memchr (start, '\n', (size_t) (end - start))) != NULL) {
    *nl = '\0';
    HoneTrainLogLine line;
    char *elapsed = NULL, *remaining = NULL;
    if (hone_train_log_line_parse (start, &line, &elapsed, &remaining) &&
        run->callbacks.log != NULL)
      run->callbacks.log (&line, run->user_data);
    g_free (elapsed);
    g_free (remaining);
    start = nl + 1;
  }
  run->log_offset = (gsize) (start - text);
  g_free (text);
}

static gboolean
poll_tick (gpointer data)
{
  poll_log (data);
  return G_SOURCE_CONTINUE;
}

static void
maybe_finish (HoneTrainRun *run)
{
  if (!run->exited || !run->eof)
    return;
  if (run->poll_id != 0)
    g_source_remove (run->poll_id);
  run->poll_id = 0;
  poll_log (run);
  gboolean ok = FALSE;
  char *message = NULL;
  if (g_subprocess_get_if_exited (run->process)) {
    int status = g_subprocess_get_exit_status (run->process);
    ok = status == 0;
    message = ok ? g_strdup (_ ("Training finished."))
                 : g_strdup_printf (run->aborted ? _ ("Aborted: hone train exited with status %d.")
                                                 : _ ("Training failed: hone train exited with "
                                                      "status %d."), status);
  } else {
    message = g_strdup_printf (run->aborted ? _ ("Aborted: hone train was ended by signal %d.")
                                            : _ ("Training failed: hone train was ended by "
                                                 "signal %d."),
                               g_subprocess_get_term_sig (run->process));
  }
  if (run->callbacks.finished != NULL)
    run->callbacks.finished (ok, message, run->user_data);
  g_free (message);
}

static void
line_read (GObject *source, GAsyncResult *result, gpointer data)
{
  GError *error = NULL;
  gsize length = 0;
  char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result,
                                                          &length, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_error_free (error); /* the run was freed: data is gone */
    return;
  }
  HoneTrainRun *run = data;
  if (line == NULL) { /* end of output, or not UTF-8 */
    if (error != NULL && run->callbacks.output != NULL)
      run->callbacks.output (error->message, run->user_data);
    g_clear_error (&error);
    run->eof = TRUE;
    maybe_finish (run);
    return;
  }
  if (run->callbacks.output != NULL)
    run->callbacks.output (line, run->user_data);
  g_free (line);
  g_data_input_stream_read_line_async (run->out, G_PRIORITY_DEFAULT, run->cancel, line_read, run);
}

static void
process_exited (GObject *source, GAsyncResult *result, gpointer data)
{
  GError *error = NULL;
  gboolean done = g_subprocess_wait_finish (G_SUBPROCESS (source), result, &error);
  if (!done && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_error_free (error);
    return;
  }
  g_clear_error (&error);
  HoneTrainRun *run = data;
  run->exited = TRUE;
  maybe_finish (run);
}

HoneTrainRun *
hone_train_run_start (const char *exe, const char *config, const char *output_dir,
                      const HoneTrainRunCallbacks *callbacks, gpointer user_data,
                      GError **error)
{
  char *self = exe != NULL ? g_strdup (exe) : g_file_read_link ("/proc/self/exe", error);
  if (self == NULL)
    return NULL;
  const char *argv[] = { self, "train", config, NULL };
  GSubprocess *process = g_subprocess_newv (
      argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE, error);
  g_free (self);
  if (process == NULL)
    return NULL;
  HoneTrainRun *run = g_new0 (HoneTrainRun, 1);
  run->process = process;
  run->cancel = g_cancellable_new ();
  run->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (process));
  g_data_input_stream_set_newline_type (run->out, G_DATA_STREAM_NEWLINE_TYPE_ANY);
  run->log_path = g_build_filename (output_dir, "trainer_log.jsonl", NULL);
  run->callbacks = *callbacks;
  run->user_data = user_data;
  g_data_input_stream_read_line_async (run->out, G_PRIORITY_DEFAULT, run->cancel, line_read, run);
  g_subprocess_wait_async (process, run->cancel, process_exited, run);
  run->poll_id = g_timeout_add (POLL_MS, poll_tick, run);
  return run;
}

void
hone_train_run_abort (HoneTrainRun *run)
{
  if (run->exited)
    return;
  run->aborted = TRUE;
  g_subprocess_send_signal (run->process, SIGINT);
}

void
hone_train_run_free (HoneTrainRun *run)
{
  if (run == NULL)
    return;
  g_cancellable_cancel (run->cancel);
  if (run->poll_id != 0)
    g_source_remove (run->poll_id);
  if (!run->exited)
    g_subprocess_force_exit (run->process);
  g_object_unref (run->out);
  g_object_unref (run->process);
  g_object_unref (run->cancel);
  g_free (run->log_path);
  g_free (run);
}
