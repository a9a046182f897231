/* The decoder family as one model with switches from config.json (Llama and SmolLM2, Qwen2
 * with q/k/v biases and tied embeddings, Qwen3 with q/k norms, Mistral with a sliding
 * window): weights on a compute backend, a forward pass to the loss or the logits, and a
 * backward pass to the gradients of whatever trains (full, freeze or LoRA) and no further.
 * Equal to transformers' modeling_llama / qwen2 / qwen3 / mistral in fp32.
 *
 * Frozen matmul and embedding weights stay in their stored dtype (bf16 stays bf16, widened a
 * tile at a time by the backend); trained weights, norms and biases are fp32. With
 * `recompute`, only each layer's input is kept through the forward and the layer is run
 * again during the backward (activation checkpointing per layer). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "hn_error.h"
#include "model_dir.h"
#include "peft_adapter.h"
#include "trainable.h"

typedef enum {
    HN_METHOD_NONE,   /* inference only: nothing trains */
    HN_METHOD_FULL,
    HN_METHOD_FREEZE,
    HN_METHOD_LORA,
} hn_train_method;

/* What one-token decoding multiplies GGUF block weights (Q8_0, Q4_1) with: the fp32
 * activations (exact: the fp32 weight values), or the activations quantized to int8 per block
 * of 32 with integer dot products (faster, about 3 significant digits; backend.h's
 * block_matvec_int8). Prefill, training and other weights are fp32 either way. */
typedef enum {
    HN_DECODE_FP32,
    HN_DECODE_INT8,
} hn_decode_activations;

typedef struct {
    const hn_backend *backend;
    hn_train_method method;
    bool recompute;
    hn_freeze_options freeze;        /* HN_METHOD_FREEZE */
    hn_lora_target_options targets;  /* HN_METHOD_LORA */
    int lora_rank;                   /* default 8 */
    double lora_alpha;               /* 0: 2 x rank, as LLaMA-Factory */
    float lora_dropout;              /* default 0 */
    bool use_rslora;                 /* scaling alpha / sqrt(rank) instead of alpha / rank */
    bool pissa_init;                 /* PiSSA: A and B from W's principal singular vectors,
                                        the base keeps the residual (lora_pissa.h) */
    int pissa_iter;                  /* subspace iterations of the randomized SVD (16);
                                        -1: a full SVD */
    bool use_dora;                   /* DoRA: a trained magnitude per output row */
    uint64_t seed;                   /* LoRA initialisation and dropout */
    bool value_head;                 /* stage rm: a trained value head (model_value_head.c) */
    bool keep_gguf_blocks;           /* inference: frozen GGUF matrices stored as Q8_0 or Q4_1
                                        stay in those blocks (weight_blocks.h) instead of fp32;
                                        hn_model_param_write then refuses them */
    hn_decode_activations decode_activations; /* inference: HN_DECODE_FP32 (default) */
} hn_model_options;

/* LLaMA-Factory's defaults for everything but the backend (the CPU) and the method (none). */
void hn_model_options_init(hn_model_options *options);

typedef struct hn_model hn_model;

/* Builds the model of an opened model folder or GGUF file on options->backend. */
hn_status hn_model_new(const hn_model_dir *dir, const hn_model_options *options,
                       hn_model **out, hn_error *err);
void hn_model_free(hn_model *model);
const hn_model_config *hn_model_get_config(const hn_model *model);

/* A batch on the host. Rows are padded to T; padding is a label of HN_IGNORE_INDEX. */
typedef struct {
    const int32_t *input_ids;    /* [B, T] */
    const int32_t *labels;       /* [B, T] or NULL (no loss); shifted inside, as transformers */
    const int32_t *position_ids; /* [B, T] or NULL: 0 .. T-1 in every row */
    const int32_t *doc_start;    /* [B, T] or NULL: packed rows, the first index of each
                                    token's document (attention stays inside it) */
    int B, T;
} hn_batch;

/* Runs the forward pass, keeping what the backward needs. With labels, *loss_sum gets the
 * sum of the token losses and *n_targets the number of tokens that have a target (the mean
 * loss is their quotient, transformers' ForCausalLMLoss); either may be NULL. */
hn_status hn_model_forward(hn_model *model, const hn_batch *batch, double *loss_sum,
                           int64_t *n_targets, hn_error *err);
/* Adds to every trained parameter's gradient the gradient of loss_scale x (sum of the token
 * losses of the last forward). loss_scale is 1 / n_targets for a mean; 1 / (targets of all
 * accumulated batches) when accumulating. */
hn_status hn_model_backward(hn_model *model, float loss_scale, hn_error *err);
/* The backward of sum over rows n of dlosses[n] x (token loss of row n) of the last forward
 * with labels: dlosses [B * T] in host memory, 0 where a row should not count. What the
 * preference losses use: d loss / d log p(target) = -dlosses. */
hn_status hn_model_backward_tokens(hn_model *model, const float *dlosses, hn_error *err);
/* The backward from a gradient of the final normed hidden state given at n rows (row =
 * b * T + t; dhidden [n, C] in host memory), the other rows getting none. */
hn_status hn_model_backward_hidden(hn_model *model, const int32_t *rows, const float *dhidden,
                                   int n, hn_error *err);
/* LoRA adapters on or off (on at creation): off, every adapted linear computes its base
 * weight alone, as PEFT's disable_adapter() - the reference model of dpo and kto. Trained
 * base weights (modules_to_save) stay as trained: callers refuse that case. */
void hn_model_set_adapters_enabled(hn_model *model, bool enabled);

/* ---- the value head (options.value_head; model_value_head.c) ---- */
#define HN_VALUE_HEAD_PREFIX "v_head."
#define HN_VALUE_HEAD_FILE "value_head.safetensors"
/* Whether a parameter name belongs to the value head (saved apart from the model/adapter). */
bool hn_param_is_value_head(const char *name);
/* values[i] = the value head on the final normed hidden state of row rows[i] (b * T + t) of
 * the last forward (labels not needed). */
hn_status hn_model_values(hn_model *model, const int32_t *rows, int n, float *values,
                          hn_error *err);
/* Adds the gradient of sum_i dvalues[i] x values[i] (the rows of hn_model_values) to the head
 * and everything below it that trains. */
hn_status hn_model_backward_values(hn_model *model, const int32_t *rows, const float *dvalues,
                                   int n, hn_error *err);
/* folder/value_head.safetensors with the head's two tensors (F32). */
hn_status hn_model_save_value_head(const hn_model *model, const char *folder, hn_error *err);
/* Loads folder/value_head.safetensors into the head when the file exists (*found); as
 * LLaMA-Factory continues a reward model from the model or adapter folder. */
hn_status hn_model_load_value_head(hn_model *model, const char *folder, bool *found,
                                   hn_error *err);

/* Sets every gradient to zero. */
void hn_model_zero_grad(hn_model *model);
/* Log-probabilities of each batch token's target after the last forward with labels:
 * logprobs[b, t] = log p(labels[b, t + 1] | tokens up to t), 0 where there is no target. */
hn_status hn_model_target_logprobs(hn_model *model, float *logprobs, hn_error *err);
/* The logits of the last forward (host memory, [B, T, V]); for tests and generation. */
hn_status hn_model_logits(hn_model *model, float *logits, hn_error *err);

/* The parameters: base weights by their transformers names, LoRA adapters as
 * "<module>.lora_A.weight" [r, in] and "<module>.lora_B.weight" [out, r], and with DoRA
 * "<module>.lora_magnitude_vector" [out] (PEFT's saved name). */
typedef struct {
    const char *name;
    int ndim;
    int64_t shape[2];
    size_t numel;
    bool trained;
    size_t stored_bytes; /* in backend memory: fp32, or a frozen weight's bf16 / GGUF blocks */
} hn_param_info;

size_t hn_model_param_count(const hn_model *model);
void hn_model_param_info(const hn_model *model, size_t index, hn_param_info *info);
/* Index of a parameter by name, or -1. */
ptrdiff_t hn_model_param_find(const hn_model *model, const char *name);
/* Copies a parameter (as fp32) or its gradient to or from host memory. */
hn_status hn_model_param_read(const hn_model *model, size_t index, float *dst, hn_error *err);
hn_status hn_model_param_write(hn_model *model, size_t index, const float *src, hn_error *err);
hn_status hn_model_grad_read(const hn_model *model, size_t index, float *dst, hn_error *err);
/* Evaluation mode: forwards without LoRA dropout that leave the dropout sequence where it
 * is (so evaluating between steps does not change what training draws). Off at creation. */
void hn_model_set_evaluating(hn_model *model, bool evaluating);
/* Where the dropout masks are in their sequence (the count of training forwards), for
 * checkpoints: a resumed run draws the masks the uninterrupted run would have drawn. */
uint64_t hn_model_dropout_position(const hn_model *model);
void hn_model_set_dropout_position(hn_model *model, uint64_t position);
/* The number of values that train (parameters with a gradient). */
int64_t hn_model_trained_count(const hn_model *model);

/* Sets options (method LoRA, rank, alpha, rsLoRA, DoRA, dropout, targets, modules_to_save) so
 * that hn_model_new builds the layout of adapter. *targets and *saved hold the strings the
 * options point to: free them (g_free) after hn_model_new. Regex targets are refused. */
hn_status hn_model_options_for_adapter(hn_model_options *options, const hn_peft_adapter *adapter,
                                       char **targets, char **saved, hn_error *err);
/* Copies an adapter's lora_A / lora_B (DoRA's magnitudes, modules_to_save weights) into the
 * model's parameters; every LoRA layer of the model must get weights. */
hn_status hn_model_load_adapter(hn_model *model, const hn_peft_adapter *adapter, hn_error *err);

/* Several plain LoRA adapters at once, unmerged (model_adapter_stack.c): the options of one
 * stacked LoRA of rank sum r_k over the union of their targets, then their weights stacked into
 * it with each adapter's scaling folded into its B. paths name the adapters in messages.
 * DoRA adapters, regex targets and more than one adapter with modules_to_save are refused. */
hn_status hn_model_options_for_adapters(hn_model_options *options,
                                        const hn_peft_adapter *adapters,
                                        const char *const *paths, size_t n, char **targets,
                                        char **saved, hn_error *err);
hn_status hn_model_load_adapters(hn_model *model, const hn_peft_adapter *adapters,
                                 const char *const *paths, size_t n, hn_error *err);

/* The model's LoRA layers (and base weights trained beside them) as a PEFT adapter, ready for
 * hn_peft_write: config from the model options, target_modules the adapted layers' names,
 * modules_to_save the fully trained ones. Free with hn_peft_adapter_free. */
hn_status hn_model_to_adapter(const hn_model *model, const char *base_model,
                              hn_peft_adapter *adapter, hn_error *err);
