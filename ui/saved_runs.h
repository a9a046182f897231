/* The runs already in a saves folder (saves/MODEL/METHOD/, train_form.h): the finished ones,
 * that the top bar's checkpoint path offers, and whether an output folder holds a checkpoint
 * that Start resumes from. No widgets here: unit-tested on its own. */
#pragma once

#include <glib.h>

/* The run folders directly under saves_dir that hold weights (upstream's list_checkpoints: one
 * of CHECKPOINT_NAMES, the adapter's or the model's), newest first (names sort by time:
 * train_YYYY-MM-DD-...); NULL-terminated, g_strfreev; empty when the folder is not there. */
char **hone_saved_runs (const char *saves_dir);

/* The checkpoint path's text after choosing path from the list: with several (LoRA: adapters
 * stack) the comma list gets path added, or removed when it has it; else path alone. g_free. */
char *hone_saved_runs_choose (const char *list, const char *path, gboolean several);
/* Whether the comma list has path. */
gboolean hone_saved_runs_chosen (const char *list, const char *path);

/* The step of the checkpoint a run into output_dir resumes from (the trainer does so
 * whenever the folder has one: trainer_output.c), or -1. */
gint64 hone_saved_run_resume_step (const char *output_dir);

/* What the Start button says for output_dir: "Start", or "Resume from checkpoint-N". g_free. */
char *hone_saved_run_start_label (const char *output_dir);
