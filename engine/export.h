/* `hone export`: LoRA adapters merged into their base model, written as a Hugging Face folder
 * (safetensors shards + index, config.json, generation_config.json, tokenizer files), an
 * Ollama Modelfile from a named chat template, and optionally a GGUF file, as LLaMA-Factory's
 * export_model (llamafactory/train/tuner.py) and llama.cpp's convert_hf_to_gguf.py write them.
 * The keys are LLaMA-Factory's (hparams/model_args.py ExportArguments, ModelArguments) plus
 * Hone's export_gguf and overwrite_output_dir; see export_args.c. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "dtype.h"
#include "hn_error.h"
#include "model_dir.h"
#include "peft_adapter.h"

typedef enum {
    HN_EXPORT_GGUF_NONE = 0,
    HN_EXPORT_GGUF_F16,
    HN_EXPORT_GGUF_BF16,
    HN_EXPORT_GGUF_Q8_0,
} hn_export_gguf_type;

typedef struct {
    char *model_name_or_path;
    char *adapter_name_or_path; /* NULL: none; folders separated by commas, merged in order */
    char *template_name;        /* NULL: no Modelfile (upstream would parse the Jinja one) */
    char *default_system;       /* NULL: the template's */
    char *export_dir;
    double export_size;         /* GB (10^9 bytes) per shard; default 5; fractions allowed */
    bool export_legacy_format;  /* .bin files: refused */
    hn_dtype dtype;             /* infer_dtype: HN_DTYPE_INVALID for "auto" */
    hn_export_gguf_type gguf;   /* export_gguf (Hone's key) */
    bool overwrite_output_dir;  /* a non-empty export_dir is refused unless set */
    int export_quantization_bit; /* upstream's GPTQ bits; 0: none (GPTQ is not built) */
} hn_export_args;

void hn_export_args_init(hn_export_args *args);
void hn_export_args_clear(hn_export_args *args);
/* Sets one key from text. HN_ERR_UNSUPPORTED (no message) for a key export does not use; a bad
 * value is an error naming the key, the value and what it must be. */
hn_status hn_export_args_set(hn_export_args *args, const char *key, const char *value,
                             const char *where, hn_error *err);
/* After every key is set: a model and an export_dir are named. */
hn_status hn_export_args_check(const hn_export_args *args, hn_error *err);
/* "f16", "bf16", "q8_0". */
const char *hn_export_gguf_name(hn_export_gguf_type type);

/* Progress: called before each tensor (what = its name) or file is written. */
typedef void (*hn_export_progress)(void *user, const char *what, size_t index, size_t total);

/* Runs the whole export. Everything is written into a hidden staging folder inside export_dir
 * (export_staging.h) and moved into export_dir only when complete, so export_dir never holds
 * part of an export: a failed or cancelled run removes what it wrote (and the folders it made for
 * export_dir). cancel (may be NULL) is read before each tensor and each file: once true the run
 * stops there with HN_ERR_STOPPED and "export cancelled: ..." naming export_dir. */
hn_status hn_export_run(const hn_export_args *args, hn_export_progress progress, void *user,
                        const atomic_bool *cancel, hn_error *err);

/* --- the pieces, for the export and its tests --- */

/* HN_ERR_STOPPED ("export cancelled") once *cancel is true; HN_OK when cancel is NULL or
 * false. */
hn_status hn_export_check_cancel(const atomic_bool *cancel, hn_error *err);

/* A weight of the merged model as fp32 in transformers' layout (numel floats): the base
 * weight, then for each adapter in order (as LLaMA-Factory's init_adapter merges a list: each
 * PeftModel.from_pretrained then merge_and_unload) its modules_to_save copy replacing it, or
 * scaling * B @ A added for a LoRA module, with DoRA's magnitude / ||W + s B A|| per output row
 * as peft's LoraLayer.merge does (peft/tuners/lora/layer.py: the norm over each row of the
 * merged weight, detached). n_adapters may be 0. */
hn_status hn_export_merged_weight(const hn_model_dir *dir, const hn_peft_adapter *adapters,
                                  size_t n_adapters, const hn_model_weight *weight, float *dst,
                                  hn_error *err);
/* Checks that every module and saved tensor of the adapter is a weight of the model, in its
 * shape, and that nothing the export cannot merge is asked for (a tied head adapted apart). */
hn_status hn_export_check_adapter(const hn_model_dir *dir, const hn_peft_adapter *adapter,
                                  hn_error *err);
/* The Ollama Modelfile text of a named template (LLaMA-Factory's Template.get_ollama_modelfile
 * with the tokenizer as get_template_and_fix_tokenizer leaves it); g_free it. */
hn_status hn_export_modelfile(const char *model_path, const char *template_name,
                              const char *default_system, char **out, hn_error *err);
