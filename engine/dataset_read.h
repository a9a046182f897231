/* Dataset rows in LLaMA-Factory's aligned form: the files of each dataset read (a JSON array,
 * or JSON Lines; a folder: its files in sorted order), each row converted as
 * llamafactory/data/converter.py's Alpaca, Sharegpt and OpenAI converters do, several datasets
 * concatenated in the order given. What comes before tokenization. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chat_encode.h"
#include "dataset_info.h"
#include "hn_error.h"

/* One aligned row: _prompt, _response, _system, _tools. */
typedef struct {
    hn_chat_message *prompt; /* [n_prompt]: user/observation and assistant/function turns */
    size_t n_prompt;
    hn_chat_message *response; /* [n_response]: 1; 2 for ranking (chosen, rejected) and KTO */
    size_t n_response;
    const char *system; /* NULL where upstream has None (a null value); "" when not set */
    const char *tools;  /* the same */
    bool broken; /* upstream's "Skipping this abnormal example": empty prompt and response */
} hn_dataset_row;

#define HN_DATASET_REASONS 5 /* how many reasons for broken rows are kept */

typedef struct {
    hn_dataset_row *rows; /* [n_rows], in file order, datasets in the order given */
    size_t n_rows;
    /* Rows that upstream keeps empty (and its processors then skip), with the first reasons
     * ("data/x.json: row 7: ..."), so the trainer can report them. */
    size_t n_broken;
    char *broken_reasons[HN_DATASET_REASONS];
    GStringChunk *text; /* owns every string of the rows */
    /* numpy's global random state for num_samples, seeded with options->seed when a dataset
     * first needs it and shared by the datasets after it, as in one LLaMA-Factory run */
    struct hn_np_random_s *sampling;
} hn_dataset;

typedef struct {
    int64_t max_samples; /* the first N rows of each dataset; -1: all (upstream's default) */
    uint32_t seed;       /* the run's seed: num_samples draws with numpy's RNG seeded by it */
    /* The training stage the rows are for (pt, sft, rm, dpo, kto, ppo), or NULL for any.
     * As LLaMA-Factory's _get_merged_dataset: rm and dpo (its stage "rm") take only datasets
     * marked "ranking": true, every other stage only datasets without it; hn_dataset_load
     * refuses the others with an error naming the dataset. */
    const char *stage;
} hn_dataset_options;

void hn_dataset_options_init(hn_dataset_options *options);

/* Resolves names in DATASET_DIR/dataset_info.json (hn_dataset_info_resolve) and reads every
 * dataset into *out (initialised here; clear it with hn_dataset_clear, also after errors). */
hn_status hn_dataset_load(const char *dataset_dir, const char *names,
                          const hn_dataset_options *options, hn_dataset *out, hn_error *err);

/* Reads one resolved dataset and appends its rows to *out (which hn_dataset_init set up).
 * Bad input is an error naming the file, the row (and the line in JSON Lines) and what was
 * expected. */
void hn_dataset_init(hn_dataset *dataset);
hn_status hn_dataset_append(hn_dataset *dataset, const hn_dataset_attr *attr,
                            const hn_dataset_options *options, hn_error *err);
void hn_dataset_clear(hn_dataset *dataset);

/* Replaces {{name}} and {{author}} in every prompt, response and system text of the rows
 * (LLaMA-Factory's identity.json placeholders; NULL leaves that placeholder as it is). */
void hn_dataset_fill_identity(hn_dataset *dataset, const char *name, const char *author);
