/* Shared between the dataset reader (dataset_read.c), the file reader (dataset_files.c) and
 * the row converters (dataset_convert*.c). Not part of the engine's public API. */
#pragma once

#include <cjson/cJSON.h>

#include "dataset_read.h"

/* Where a row came from, for messages. */
typedef struct {
    const char *file;
    size_t row;  /* 1-based, within the file */
    size_t line; /* 1-based line in JSON Lines; 0 in a JSON array */
} hn_row_place;

/* The rows of one dataset's files, in order. */
typedef struct {
    GPtrArray *roots;  /* cJSON trees to delete (an array, or one object per line) */
    GPtrArray *rows;   /* borrowed const cJSON * objects */
    GArray *places;    /* hn_row_place, parallel to rows */
    GPtrArray *files;  /* the file names that places point to */
    size_t file_rows;  /* rows of the file being read so far */
} hn_dataset_rows;

/* Reads PATH (a .json/.jsonl file, or a folder of them in sorted order). */
hn_status hn_dataset_rows_read(const char *path, hn_dataset_rows *out, hn_error *err);
void hn_dataset_rows_clear(hn_dataset_rows *rows);

/* "FILE: row N" or "FILE: line L (row N)"; free with g_free. */
char *hn_row_place_text(const hn_row_place *place);

/* What a converter works with. */
typedef struct {
    const hn_dataset_attr *attr;
    const hn_row_place *place;
    hn_dataset *dataset; /* its text chunk, its broken-row count and reasons */
    hn_error *err;
} hn_row_context;

/* One row to the aligned form, per attr->formatting. */
hn_status hn_dataset_convert_row(const hn_row_context *ctx, const cJSON *row,
                                 hn_dataset_row *out);

/* Helpers the converters share (dataset_convert.c). */
/* example[column]: a missing column is an error (upstream: KeyError). */
hn_status hn_row_column(const hn_row_context *ctx, const cJSON *row, hn_dataset_column column,
                        const cJSON **out);
/* A text value: a string (copied into the dataset) or, with allow_null, null (NULL). */
hn_status hn_row_text(const hn_row_context *ctx, const cJSON *value, const char *what,
                      bool allow_null, const char **out);
hn_status hn_row_error(const hn_row_context *ctx, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Marks the row broken (upstream's empty prompt and response) and keeps the reason. */
void hn_row_broken(const hn_row_context *ctx, hn_dataset_row *row, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
/* The kto_tag when the column is set and the value a boolean (a KTO row), else NULL. */
hn_status hn_row_kto_tag(const hn_row_context *ctx, const cJSON *row, const cJSON **tag);
/* Ranking rows: chosen and rejected when both are of the expected kind (strings in alpaca,
 * message objects in sharegpt/openai); null in either leaves both NULL, as upstream falls
 * through to a plain row. */
hn_status hn_row_pair(const hn_row_context *ctx, const cJSON *row, bool objects,
                      const cJSON **chosen, const cJSON **rejected);
/* _system / _tools of alpaca and sharegpt rows: example[column] when the column is set, else "". */
hn_status hn_row_optional_text(const hn_row_context *ctx, const cJSON *row,
                               hn_dataset_column column, const char **out);
/* Sharegpt/openai turns split as upstream: the last message is the response (with the KTO
 * empty answer when kto is a tag), the others the prompt. */
void hn_row_split_last(const hn_row_context *ctx, const cJSON *kto, GArray *aligned,
                       hn_dataset_row *out);
/* Stores prompt/response (GArrays of hn_chat_message) into the row. */
void hn_row_set_turns(hn_dataset_row *row, GArray *prompt, GArray *response);

/* Sharegpt and OpenAI messages (dataset_convert_chat.c). */
hn_status hn_convert_sharegpt(const hn_row_context *ctx, const cJSON *row, hn_dataset_row *out);
hn_status hn_convert_openai(const hn_row_context *ctx, const cJSON *row, hn_dataset_row *out);
