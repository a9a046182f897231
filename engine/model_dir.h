/* A Hugging Face model folder opened as a whole: config.json, generation_config.json, the
 * safetensors weights and which tokenizer files are present. */
#pragma once

#include "hf_config.h"
#include "tensor_store.h"

typedef struct {
    char *path;
    hn_model_config config;
    bool has_generation_config;
    hn_generation_config generation;
    hn_tensor_store *weights;
    GPtrArray *tokenizer_files; /* char*: the tokenizer files found, by base name */
} hn_model_dir;

/* Opens and validates everything; a GGUF file or an unsupported architecture is a clear error. */
hn_status hn_model_dir_open(const char *path, hn_model_dir **out, hn_error *err);
void hn_model_dir_close(hn_model_dir *model);
/* The sum of the element counts of all weights. */
int64_t hn_model_dir_param_count(const hn_model_dir *model);
