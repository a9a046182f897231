/* A model opened as a whole: a Hugging Face model folder (config.json, generation_config.json,
 * the safetensors weights, which tokenizer files are present) or a GGUF file of the decoder
 * family (llama, qwen2, qwen3: config from its metadata, weights dequantized from it in
 * transformers' layout; see gguf_model.h). */
#pragma once

#include "gguf.h"
#include "hf_config.h"
#include "tensor_store.h"

/* One weight by its transformers name, wherever it is stored. */
typedef struct {
    const char *name;              /* "model.layers.0.self_attn.q_proj.weight" */
    int ndim;
    int64_t shape[HN_MAX_DIMS];    /* [ndim], PyTorch order (rows first) */
    int64_t numel;
    const hn_st_tensor *st;        /* the safetensors tensor, or NULL */
    const hn_gguf_tensor *gguf;    /* the GGUF tensor, or NULL */
} hn_model_weight;

typedef struct {
    char *path;
    hn_model_config config;
    bool has_generation_config;
    hn_generation_config generation; /* GGUF: defaults with the config's special tokens */
    hn_tensor_store *weights;   /* a Hugging Face folder's safetensors; NULL for GGUF */
    hn_gguf_file *gguf;         /* a GGUF file; NULL for a folder */
    GPtrArray *tokenizer_files; /* char*: the tokenizer files found, by base name (none for
                                   GGUF: its tokenizer is in the tokenizer.ggml.* metadata) */
    hn_model_weight *weight_list; /* [n_weights], in file order */
    size_t n_weights;
    GHashTable *weight_by_name;   /* name -> hn_model_weight* */
} hn_model_dir;

/* Opens and validates everything. `path` is a model folder or a .gguf file (a regular file
 * that starts with the GGUF magic counts as one too); an unsupported architecture is a clear
 * error. */
hn_status hn_model_dir_open(const char *path, hn_model_dir **out, hn_error *err);
void hn_model_dir_close(hn_model_dir *model);
/* Whether hn_model_dir_open takes `path` for a GGUF file. */
bool hn_model_dir_is_gguf(const char *path);
/* The sum of the element counts of all weights. */
int64_t hn_model_dir_param_count(const hn_model_dir *model);

size_t hn_model_dir_weight_count(const hn_model_dir *model);
const hn_model_weight *hn_model_dir_weight(const hn_model_dir *model, size_t index);
const hn_model_weight *hn_model_dir_find_weight(const hn_model_dir *model, const char *name);
/* The weight as fp32 in transformers' layout (numel floats): safetensors converted from its
 * dtype, GGUF dequantized (a "llama" file's Q/K rows un-permuted, see gguf_model.h). */
/* Copies the tokenizer files found in the folder (tokenizer_files) into folder, each
 * atomically; nothing for a GGUF file. */
hn_status hn_model_dir_copy_tokenizer_files(const hn_model_dir *model, const char *folder,
                                            hn_error *err);
hn_status hn_model_dir_weight_f32(const hn_model_dir *model, const hn_model_weight *weight,
                                  float *dst, hn_error *err);
