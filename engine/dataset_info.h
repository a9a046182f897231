/* dataset_info.json: a comma list of dataset names (LLaMA-Factory's `dataset:` key) resolved to
 * their attributes as llamafactory/data/parser.py (get_dataset_list, DatasetAttr.join) does for
 * local files. Hone reads local .json/.jsonl files (or folders of them) only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hn_error.h"

typedef enum {
    HN_DATASET_ALPACA,
    HN_DATASET_SHAREGPT,
    HN_DATASET_OPENAI,
} hn_dataset_format;

/* The `columns` of an entry, in upstream's order. NULL means "not used". */
typedef enum {
    HN_COL_PROMPT,
    HN_COL_QUERY,
    HN_COL_RESPONSE,
    HN_COL_HISTORY,
    HN_COL_MESSAGES,
    HN_COL_SYSTEM,
    HN_COL_TOOLS,
    HN_COL_IMAGES,
    HN_COL_VIDEOS,
    HN_COL_AUDIOS,
    HN_COL_CHOSEN,
    HN_COL_REJECTED,
    HN_COL_KTO_TAG,
    HN_COL_COUNT,
} hn_dataset_column;

/* The `tags` of an entry (sharegpt and openai messages). NULL means "not set". */
typedef enum {
    HN_TAG_ROLE,
    HN_TAG_CONTENT,
    HN_TAG_USER,
    HN_TAG_ASSISTANT,
    HN_TAG_OBSERVATION,
    HN_TAG_FUNCTION,
    HN_TAG_SYSTEM,
    HN_TAG_COUNT,
} hn_dataset_tag;

typedef struct {
    char *name;      /* the key in dataset_info.json */
    char *file_name; /* as written there, relative to the dataset folder */
    char *path;      /* dataset_dir/file_name: a file or a folder of files */
    hn_dataset_format formatting;
    bool ranking;
    char *split;         /* "train": the only split a local file has */
    int64_t num_samples; /* -1: not set */
    /* Upstream's defaults: prompt "instruction", query "input", response "output", messages
     * "conversations", the rest NULL; an entry with `columns` sets every column from it, so a
     * column it does not list becomes NULL. The same rule for `tags`, whose defaults are
     * sharegpt's: "from", "value", "human", "gpt", "observation", "function_call", "system"
     * (upstream has no separate openai defaults: openai entries list their tags). */
    char *columns[HN_COL_COUNT];
    char *tags[HN_TAG_COUNT];
} hn_dataset_attr;

/* "instruction"-style key names for messages: "prompt", "role_tag", ... */
const char *hn_dataset_column_key(hn_dataset_column column);
const char *hn_dataset_tag_key(hn_dataset_tag tag);
const char *hn_dataset_format_name(hn_dataset_format format);

/* Splits names at commas and strips white space around each (DataArguments.split_arg), then
 * reads DATASET_DIR/dataset_info.json and resolves each name. A name the file lacks or one
 * listed twice (upstream keeps one copy of it, at the first place, silently), a hub
 * or script entry, media columns, a split other than train and bad values are errors naming
 * the file and the dataset. *out is an array of *n attributes; free with
 * hn_dataset_attrs_free. */
hn_status hn_dataset_info_resolve(const char *dataset_dir, const char *names,
                                  hn_dataset_attr **out, size_t *n, hn_error *err);
void hn_dataset_attrs_free(hn_dataset_attr *attrs, size_t n);
