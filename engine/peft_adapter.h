/* LoRA adapters in PEFT's folder layout (adapter_config.json + adapter_model.safetensors), read
 * and written so that peft (PeftModel.from_pretrained), transformers and vLLM load Hone's
 * adapters unchanged and Hone loads theirs. In memory every tensor is fp32.
 *
 * Tensor names in the file (peft/utils/save_and_load.py, get_peft_model_state_dict with the
 * adapter name removed), for a transformers module M such as "model.layers.0.self_attn.q_proj":
 *   base_model.model.M.lora_A.weight        [r, in]
 *   base_model.model.M.lora_B.weight        [out, r]
 *   base_model.model.M.lora_magnitude_vector [out]   (DoRA only; no ".weight")
 *   base_model.model.P                       (modules_to_save: P is a parameter name such as
 *                                             "lm_head.weight" or "model.embed_tokens.weight") */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtype.h"
#include "hn_error.h"
#include "safetensors.h"

#define HN_PEFT_CONFIG_FILE "adapter_config.json"
#define HN_PEFT_WEIGHTS_FILE "adapter_model.safetensors"
#define HN_PEFT_FORMAT_VERSION "0.18.1"
/* Every tensor name in the file starts with this (PeftModel.base_model.model). */
#define HN_PEFT_PREFIX "base_model.model."
/* ... followed by the module's name and one of these. */
#define HN_PEFT_LORA_A ".lora_A.weight"
#define HN_PEFT_LORA_B ".lora_B.weight"
#define HN_PEFT_MAGNITUDE ".lora_magnitude_vector"

/* The fields of peft's LoraConfig that Hone uses; every other field is written with peft's
 * default, and one that would change the adapter's meaning is refused on reading. Strings,
 * lists and tensor data below belong to the adapter (GLib allocations, freed by
 * hn_peft_adapter_free): replace them with g_strdup'ed copies or the setters. */
typedef struct {
    int r;
    double lora_alpha;
    bool use_rslora; /* scaling lora_alpha / sqrt(r) instead of lora_alpha / r */
    bool use_dora;
    double lora_dropout;
    /* target_modules: a list of names (PEFT matches a module whose name equals one or ends
     * with "." + one), or, when target_modules_regex is set, one regular expression instead. */
    char **target_modules;
    size_t n_target_modules;
    char *target_modules_regex;
    /* modules_to_save: NULL when the config says null, else a list (possibly empty). */
    char **modules_to_save;
    size_t n_modules_to_save;
    char *base_model_name_or_path; /* "" when unknown */
    /* "true", "false", or peft's named initialisation ("gaussian", "orthogonal", ...). Those
     * that peft re-runs on the base weights when it loads an adapter (pissa, corda, olora,
     * loftq) are refused: such an adapter does not apply to the unchanged base model. */
    char *init_lora_weights;
    /* peft ties the lm_head to a modules_to_save copy of tied embeddings (and back). */
    bool ensure_weight_tying;
    /* The peft release that wrote a file Hone read (informational); Hone writes
     * HN_PEFT_FORMAT_VERSION, the release whose key set and defaults it follows. */
    char *peft_version;
} hn_lora_config;

/* One adapted linear module: y = W x + scaling * B A x (with DoRA's magnitude when set). */
typedef struct {
    char *name; /* transformers module name, "model.layers.0.self_attn.q_proj" */
    int64_t in_features, out_features;
    float *lora_a;    /* [r, in_features] */
    float *lora_b;    /* [out_features, r] */
    float *magnitude; /* [out_features], DoRA only, else NULL */
} hn_lora_module;

/* A weight trained in full beside the adapter (modules_to_save). */
typedef struct {
    char *name; /* transformers parameter name, "lm_head.weight" */
    int ndim;
    int64_t shape[HN_MAX_DIMS]; /* [ndim] */
    int64_t numel;
    float *data; /* [shape] */
} hn_saved_tensor;

typedef struct {
    hn_lora_config config;
    hn_lora_module *modules;
    size_t n_modules;
    hn_saved_tensor *saved;
    size_t n_saved;
} hn_peft_adapter;

/* An empty adapter with peft's LoraConfig defaults (r 8, lora_alpha 8, dropout 0,
 * init_lora_weights true, no target modules, modules_to_save null). */
void hn_peft_adapter_init(hn_peft_adapter *adapter);
void hn_peft_adapter_free(hn_peft_adapter *adapter);

/* The factor PEFT multiplies B A x by: lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora
 * (peft/tuners/lora/layer.py, update_layer). */
double hn_peft_scaling(const hn_lora_config *config);

/* Sets the target_modules list (copies the strings; clears a regex). */
void hn_peft_set_targets(hn_lora_config *config, const char *const *names, size_t n);
/* Sets modules_to_save (copies; n == 0 with names == NULL means null). */
void hn_peft_set_modules_to_save(hn_lora_config *config, const char *const *names, size_t n);

/* Appends a module with zeroed lora_a, lora_b (and magnitude when config.use_dora) of the
 * config's rank; returns it. Set config.r and use_dora first. */
hn_lora_module *hn_peft_add_module(hn_peft_adapter *adapter, const char *name,
                                   int64_t in_features, int64_t out_features);
/* Appends a zeroed full tensor; returns it. */
hn_saved_tensor *hn_peft_add_saved(hn_peft_adapter *adapter, const char *name, int ndim,
                                   const int64_t *shape);
/* The module or saved tensor of that name, or NULL. */
const hn_lora_module *hn_peft_find_module(const hn_peft_adapter *adapter, const char *name);
const hn_saved_tensor *hn_peft_find_saved(const hn_peft_adapter *adapter, const char *name);

/* Whether peft, loading an adapter with this init_lora_weights, recomputes it from the base
 * weights and changes them (PiSSA, CorDA, OLoRA, LoftQ: peft/tuners/lora/layer.py update_layer). */
bool hn_peft_init_changes_base(const char *init_lora_weights);
/* Whether peft puts a LoRA layer on the module of this name: it equals a target_modules entry
 * or ends with "." + one, or, for a regex, re.fullmatch (peft/tuners/tuners_utils.py
 * check_target_module_exists). An invalid regex matches nothing. */
bool hn_peft_targets_module(const hn_lora_config *config, const char *module);
/* Whether peft saves this parameter ("lm_head.weight") whole: its module's name ends with a
 * modules_to_save entry (a plain suffix test, peft/utils/other.py _set_trainable), or, with
 * ensure_weight_tying, it is lm_head.weight or model.embed_tokens.weight and its tied partner's
 * module is listed. */
bool hn_peft_saves_param(const hn_lora_config *config, const char *param);

/* Reads folder/adapter_config.json and folder/adapter_model.safetensors (fp32, fp16 or bf16
 * tensors, converted to fp32) into *adapter (initialised here; free it on success). Every
 * mismatch is an error naming the file and the field or tensor. */
hn_status hn_peft_read(const char *folder, hn_peft_adapter *adapter, hn_error *err);

/* Checks that an adapter is complete and consistent before writing it: positive sizes, data,
 * magnitudes exactly when use_dora, every module targeted and every full tensor in
 * modules_to_save (else peft would not load them). */
hn_status hn_peft_check(const hn_peft_adapter *adapter, hn_error *err);

/* Writes folder/adapter_model.safetensors (tensors stored as dtype: HN_DTYPE_F32 or
 * HN_DTYPE_BF16) and then folder/adapter_config.json, each atomically; creates the folder. */
hn_status hn_peft_write(const char *folder, const hn_peft_adapter *adapter, hn_dtype dtype,
                        hn_error *err);
