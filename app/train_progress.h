/* What `hone train` shows while it runs. On a terminal: one progress line redrawn in place
 * ("25/100 [###-------]  25% loss 1.2346 lr 2.50e-04 1234 tok/s 0:01:23<0:04:10": step/total,
 * a bar, loss, learning rate, tokens/s, elapsed<remaining as h:mm:ss), with
 * evaluations and messages on lines of their own above it. Otherwise (a pipe, a file): a plain
 * line per logging step and per evaluation. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "train_history.h"
#include "trainer.h"

/* What one progress line shows. */
typedef struct {
    int64_t step, total_steps;
    double loss, learning_rate, tokens_per_s;
    double elapsed_s, remaining_s;
} hone_progress_values;

/* 3723.4 s -> "1:02:03" (hours unbounded, whole seconds rounded; negative or not finite as
 * "-:--:--"). Returns buf. */
const char *hone_format_hms(double seconds, char *buf, size_t size);
/* The terminal line for v, at most width - 1 characters (the bar takes what is left, 10 to 40
 * cells; a narrow terminal drops the bar, then cuts the end). */
void hone_progress_format_line(const hone_progress_values *v, int width, char *buf,
                               size_t size);
/* The plain line of a logging step: "step 2/8  loss 1.2345  lr 0.0001  grad_norm 0.512  ..." */
void hone_progress_format_log(const hn_train_log *log, char *buf, size_t size);
/* The line of an evaluation: "eval at step 4  eval_loss 1.2345  3.2s  12.5 samples/s". */
void hone_progress_format_eval(const hn_train_eval *eval, char *buf, size_t size);

typedef struct hone_train_progress hone_train_progress;

/* Writes to out; terminal chooses the live line; width is the terminal's columns; clock gives
 * seconds (monotonic; NULL: the system's). */
hone_train_progress *hone_train_progress_new(FILE *out, bool terminal, int width,
                                             double (*clock)(void));
/* stdout, as a terminal when it is one, with its width. */
hone_train_progress *hone_train_progress_new_stdout(void);
void hone_train_progress_free(hone_train_progress *progress);

/* Training starts now at first_step (0, or a resumed checkpoint's step) of total_steps; on a
 * terminal the line shows at once (loss and learning rate "-" until the first log). */
void hone_train_progress_start(hone_train_progress *progress, int64_t first_step,
                               int64_t total_steps);
/* A logging step: redraws the live line, or prints the plain line. */
void hone_train_progress_log(hone_train_progress *progress, const hn_train_log *log);
/* An optimizer step between logging steps: redraws the live line with the step and the times
 * from the clock (the last log's loss, learning rate and tokens/s); nothing when not a
 * terminal. */
void hone_train_progress_step(hone_train_progress *progress, int64_t step);
/* An evaluation, on a line of its own. */
void hone_train_progress_eval(hone_train_progress *progress, const hn_train_eval *eval);
/* A line of text above the live line (which is then drawn again). */
void hone_train_progress_message(hone_train_progress *progress, const char *text);
/* Ends the live line (a newline), so that what follows starts on a line of its own. */
void hone_train_progress_finish(hone_train_progress *progress);
