/* A training run of the Train page: `hone train CONFIG` as a child process of this same binary
 * (/proc/self/exe), its output lines passed on as they come, and OUTPUT/trainer_log.jsonl read
 * as it grows for the progress bar and the loss chart. Abort sends SIGINT, which `hone train`
 * answers by saving a checkpoint and stopping; a crash of training never takes the window
 * down. Everything runs on the main loop, nothing blocks it. */
#pragma once

#include <gio/gio.h>

/* One trainer_log.jsonl line (LLaMA-Factory's LogCallback format). */
typedef struct {
  gint64 step, total_steps;
  double loss;      /* NAN on an evaluation line */
  double eval_loss; /* NAN on a training line */
  const char *elapsed, *remaining; /* "0:01:23" as written */
} HoneTrainLogLine;

/* Parses one trainer_log.jsonl line; FALSE for a line without current_steps/total_steps. */
gboolean hone_train_log_line_parse (const char *text, HoneTrainLogLine *out, char **elapsed,
                                    char **remaining);

/* "Running 25/100: 0:01:23 < 0:04:10" (upstream's progress text). g_free. */
char *hone_train_progress_text (const HoneTrainLogLine *line);

typedef struct _HoneTrainRun HoneTrainRun;

typedef struct {
  void (*output) (const char *line, gpointer user_data);          /* a line of stdout/stderr */
  void (*log) (const HoneTrainLogLine *line, gpointer user_data); /* a trainer_log.jsonl line */
  void (*finished) (gboolean success, const char *message, gpointer user_data);
} HoneTrainRunCallbacks;

/* Starts `EXE train CONFIG` with OUTPUT_DIR's trainer_log.jsonl followed. exe NULL: this
 * program. NULL with error set when the process cannot start. */
HoneTrainRun *hone_train_run_start (const char *exe, const char *config, const char *output_dir,
                                    const HoneTrainRunCallbacks *callbacks, gpointer user_data,
                                    GError **error);
/* Asks the run to stop (SIGINT); finished() follows when it has. */
void hone_train_run_abort (HoneTrainRun *run);
/* Frees a run; a run still going is killed first (no callbacks after this). */
void hone_train_run_free (HoneTrainRun *run);
