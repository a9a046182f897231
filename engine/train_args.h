/* The arguments of a training run, under LLaMA-Factory's key names (its ModelArguments,
 * DataArguments, FinetuningArguments and transformers' Seq2SeqTrainingArguments; see
 * ../shared/reference/llamafactory-fields.md) with the defaults those classes have when a YAML
 * file leaves a key out. Values come from a YAML or JSON file and from `--key value` on the
 * command line, both as text, each checked against the key's type, range or choices; a
 * known key with a bad value is an error listing what is valid. Keys Hone does not use are
 * kept in a list so the caller can say in one line that they are ignored. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hn_error.h"

typedef struct {
    /* model */
    char *model_name_or_path;      /* required */
    char *adapter_name_or_path;    /* comma list, or NULL */
    char *template_name;           /* "template"; NULL: the model's own (auto) */
    char *rope_scaling;            /* NULL, linear, dynamic, yarn, llama3 */
    char *backend;                 /* auto, cpu, cuda (LLaMA-Factory's booster) */
    int quantization_bit;          /* 0: none */
    /* method */
    char *stage;                   /* sft */
    bool do_train;
    char *finetuning_type;         /* lora */
    int lora_rank;                 /* 8 */
    double lora_alpha;             /* 0: 2 x lora_rank */
    double lora_dropout;
    char *lora_target;             /* all */
    char *additional_target;
    bool use_rslora, use_dora, pissa_init, pissa_convert, create_new_adapter;
    int pissa_iter;                /* 16 */
    double loraplus_lr_ratio;      /* 0: off */
    int freeze_trainable_layers;   /* 2 */
    char *freeze_trainable_modules; /* all */
    char *freeze_extra_modules;
    bool disable_gradient_checkpointing; /* false: layers are recomputed in the backward */
    /* preference stages (rm, dpo, kto): LLaMA-Factory's RLHF arguments */
    double pref_beta;              /* 0.1 */
    double pref_ftx;               /* 0: no SFT term */
    char *pref_loss;               /* sigmoid, hinge, ipo, kto_pair, orpo, simpo */
    double dpo_label_smoothing;    /* 0 */
    double simpo_gamma;            /* 0.5 */
    double kto_chosen_weight;      /* 1 */
    double kto_rejected_weight;    /* 1 */
    char *ref_model;               /* NULL: the model itself (adapter off for LoRA) */
    bool disable_shuffling;        /* false: a new order every epoch; true: file order */
    /* data */
    char *dataset;                 /* comma list */
    char *eval_dataset;
    char *dataset_dir;             /* data */
    int cutoff_len;                /* 2048 */
    int64_t max_samples;           /* 0: all */
    double val_size;               /* 0; < 1 a share, >= 1 a count */
    bool packing_set, packing;     /* unset: on for pt, off otherwise */
    bool neat_packing, train_on_prompt, mask_history, overwrite_cache, enable_thinking;
    int preprocessing_batch_size;  /* 1000: rows per packing batch (as datasets' map) */
    int preprocessing_num_workers; /* 0 (upstream's None): one shard; packing is per shard */
    char *identity_name;           /* Hone's own: fills {{name}} in the data (identity.json) */
    char *identity_author;         /* Hone's own: fills {{author}} */
    /* training */
    char *output_dir;              /* required */
    bool overwrite_output_dir;
    int per_device_train_batch_size; /* 8 */
    int per_device_eval_batch_size;  /* 8 */
    int gradient_accumulation_steps; /* 1 */
    double learning_rate;          /* 5e-5 */
    double num_train_epochs;       /* 3 */
    int64_t max_steps;             /* -1: from the epochs */
    char *lr_scheduler_type;       /* linear */
    double warmup_ratio, warmup_steps;
    double weight_decay, adam_beta1, adam_beta2, adam_epsilon, max_grad_norm;
    int64_t logging_steps;         /* 500 */
    int64_t save_steps;            /* 500 */
    int64_t save_total_limit;      /* 0: keep all */
    char *eval_strategy;           /* no, steps, epoch */
    int64_t eval_steps;            /* 0: logging_steps */
    int64_t seed;                  /* 42 */
    bool bf16, fp16, pure_bf16, plot_loss;
    bool tf32;                     /* transformers' tf32: fp32 GEMMs on TF32 tensor cores (CUDA) */
    char *resume_from_checkpoint;
    /* evaluation (hone eval) */
    bool do_eval, do_predict, predict_with_generate;
    /* generating (LLaMA-Factory's GeneratingArguments), for do_predict */
    bool do_sample;                /* true */
    double temperature;            /* 0.95; 0: greedy, as hone chat */
    double top_p;                  /* 0.7 */
    int top_k;                     /* 50 */
    int num_beams;                 /* 1 (beam search is not built) */
    int max_new_tokens;            /* 1024 */
    double repetition_penalty;     /* 1.0 */
    bool skip_special_tokens;      /* true: predictions and labels decoded without them */
    char *decode_activations;      /* Hone's own: NULL or fp32 (exact), int8 (one-token
                                      decoding of GGUF Q8_0 / Q4_1 weights with int8
                                      activations; model_decode.h) */
} hn_train_args;

/* The defaults (strings owned by args; free with hn_train_args_clear). */
void hn_train_args_init(hn_train_args *args);
void hn_train_args_clear(hn_train_args *args);

/* Sets one key from its text (a YAML scalar or a command-line value); `where` names the source
 * in messages ("train.yaml:12:3", "--learning_rate"). Returns HN_ERR_UNSUPPORTED without a
 * message for a key Hone does not know (the caller collects those). */
hn_status hn_train_args_set(hn_train_args *args, const char *key, const char *value,
                            const char *where, hn_error *err);

/* Reads a YAML (.yaml/.yml) or JSON (.json) file of key: value pairs over args; lists become
 * comma lists. ignored (may be NULL) gets the keys Hone does not use (g_strfreev). A syntax
 * error names the file, line and column. */
hn_status hn_train_args_load(hn_train_args *args, const char *path, char ***ignored,
                             hn_error *err);

/* The same for text in memory (length bytes; it may hold NUL bytes, which are refused);
 * label names it in messages, json picks the JSON reader over the YAML one. */
hn_status hn_train_args_parse(hn_train_args *args, const char *text, size_t length,
                              const char *label, bool json, char ***ignored, hn_error *err);

/* Cross-key checks after everything is set: required keys, stages and methods built so far,
 * combinations that cannot work. */
hn_status hn_train_args_check(const hn_train_args *args, hn_error *err);

/* The same for `hone eval`: a model and output_dir, do_eval and/or do_predict (with
 * predict_with_generate, stage sft, as LLaMA-Factory requires), eval_dataset or dataset, no
 * val_size (a training split), greedy or sampled generation with num_beams 1. */
hn_status hn_train_args_check_eval(const hn_train_args *args, hn_error *err);

/* Every key Hone reads, as `key: value` YAML lines in table order (training_args.yaml). */
char *hn_train_args_to_yaml(const hn_train_args *args);

/* One key's value as the text hn_train_args_set takes back (numbers in C-locale shortest form,
 * strings and lists unquoted, booleans "true"/"false"), or NULL when the key is unknown or
 * unset (a NULL string, a 0 standing for "not given", packing not set). g_free. */
char *hn_train_args_get(const hn_train_args *args, const char *key);

/* What a key accepts, from the key table (for forms that show these keys). */
typedef enum {
    HN_ARG_BOOL,
    HN_ARG_INT,    /* whole numbers (int or int64) */
    HN_ARG_NUMBER, /* doubles */
    HN_ARG_STRING,
    HN_ARG_CHOICE, /* one of choices */
    HN_ARG_LIST,   /* a comma list */
} hn_train_arg_kind;

typedef struct {
    hn_train_arg_kind kind;
    double min, max;      /* numbers: the valid range (inclusive; +-INFINITY when open) */
    const char *choices;  /* HN_ARG_CHOICE: "a|b|c"; NULL otherwise */
    const char *fallback; /* the default as text; NULL: none */
} hn_train_arg_info;

/* Fills *info for key; false when Hone does not know the key. */
bool hn_train_args_key_info(const char *key, hn_train_arg_info *info);
