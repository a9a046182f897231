/* Checkpoint folders of a training run, named as transformers names them (checkpoint-N in the
 * output folder, N the optimizer step): finding the last one, committing a new one so that a
 * crash at any moment leaves either the complete folder or none, and keeping at most
 * save_total_limit of them. What goes inside is the trainer's business (trainer_checkpoint.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hn_error.h"

/* The file a Hone checkpoint always holds (the trainer's position); its presence tells a
 * checkpoint Hone can resume from. */
#define HN_CHECKPOINT_STATE_FILE "hone_state.json"

/* output_dir/checkpoint-<step> (g_free). */
char *hn_checkpoint_path(const char *output_dir, int64_t step);

/* The checkpoint of the highest step in output_dir (g_free), or NULL when there is none.
 * A checkpoint-N folder without HN_CHECKPOINT_STATE_FILE (another tool's) is an error naming
 * it, as resuming from it cannot be done. Leftover staging folders are removed. */
hn_status hn_checkpoint_find_last(const char *output_dir, char **path, hn_error *err);

/* The step of the checkpoint hn_checkpoint_find_last would resume from, only looking (nothing
 * is removed, so a run writing there is left alone): -1 when output_dir holds no checkpoint-N,
 * or its last one is not Hone's. */
int64_t hn_checkpoint_last_step(const char *output_dir);

/* Makes an empty staging folder for the checkpoint of step (g_free *staging). */
hn_status hn_checkpoint_begin(const char *output_dir, int64_t step, char **staging,
                              hn_error *err);
/* Puts a complete staging folder in place as checkpoint-<step> (replacing an older folder of
 * that name only once the new one is complete) and syncs the output folder. */
hn_status hn_checkpoint_commit(const char *output_dir, int64_t step, const char *staging,
                               hn_error *err);
/* Removes a staging folder that will not be committed (after an error). */
void hn_checkpoint_abort(const char *staging);

/* Deletes the oldest checkpoints until at most limit remain (limit <= 0: keep all). */
hn_status hn_checkpoint_rotate(const char *output_dir, int64_t limit, hn_error *err);

/* Removes a folder and the files in it (checkpoints hold no subfolders). */
hn_status hn_remove_flat_folder(const char *path, hn_error *err);
