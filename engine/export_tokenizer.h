/* The tokenizer files of an exported folder: a model folder's own files copied, or for a GGUF
 * source tokenizer.json and tokenizer_config.json written from its tokenizer.ggml.* metadata
 * (what transformers saves after loading the GGUF's tokenizer). */
#pragma once

#include "model_dir.h"

typedef struct {
    char *tokenizer_json;   /* NULL for a folder source (its files are copied) */
    char *tokenizer_config; /* tokenizer_config.json */
} hn_export_tokenizer;

/* Builds the files' text before anything is written, so an unsupported tokenizer stops the
 * export early. */
hn_status hn_export_tokenizer_prepare(const hn_model_dir *dir, hn_export_tokenizer *out,
                                      hn_error *err);
/* Writes (or copies) the files into folder, each atomically. */
hn_status hn_export_tokenizer_write(const hn_export_tokenizer *files, const hn_model_dir *dir,
                                    const char *folder, hn_error *err);
void hn_export_tokenizer_clear(hn_export_tokenizer *files);
