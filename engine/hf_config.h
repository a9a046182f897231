/* Hugging Face config.json and generation_config.json of the decoder family Hone runs:
 * Llama (SmolLM2 too), Qwen2/2.5, Qwen3, Mistral. Absent optional fields take the defaults of
 * the matching transformers config class; rope scaling is read from the 4.x layout
 * (rope_theta + rope_scaling) and the 5.x one (rope_parameters). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "dtype.h"
#include "hn_error.h"

typedef enum {
    HN_ARCH_LLAMA,
    HN_ARCH_QWEN2,
    HN_ARCH_QWEN3,
    HN_ARCH_MISTRAL,
} hn_arch;

typedef enum {
    HN_ROPE_DEFAULT,
    HN_ROPE_LINEAR,  /* positions divided by factor */
    HN_ROPE_DYNAMIC, /* NTK-aware base growing past the trained length */
    HN_ROPE_YARN,    /* arXiv:2309.00071 */
    HN_ROPE_LLAMA3,  /* Llama 3.1's frequency-band scaling */
} hn_rope_type;

typedef struct {
    hn_rope_type type;
    double theta;                             /* base, rope_theta */
    double factor;                            /* linear, dynamic, yarn, llama3; 1 when unused */
    int64_t original_max_position_embeddings; /* yarn, llama3, dynamic; 0 when not given */
    double low_freq_factor, high_freq_factor; /* llama3 */
    double beta_fast, beta_slow;              /* yarn; defaults 32 and 1 */
    double attention_factor;                  /* yarn; 0 when not given (derived later) */
    double mscale, mscale_all_dim;            /* yarn; 0 when not given */
    bool truncate;                            /* yarn; default true */
} hn_rope;

#define HN_MAX_EOS 8

typedef struct {
    hn_arch arch;
    char architecture[64]; /* "LlamaForCausalLM", ... */
    char model_type[32];   /* "llama", ... */
    int64_t vocab_size;
    int64_t hidden_size;
    int64_t intermediate_size;
    int64_t num_hidden_layers;
    int64_t num_attention_heads;
    int64_t num_key_value_heads;
    int64_t head_dim;
    int64_t max_position_embeddings;
    double rms_norm_eps;
    hn_rope rope;
    bool tie_word_embeddings;
    bool attention_bias;     /* bias on q, k, v (and o for Llama/Qwen3's attention_bias) */
    bool o_proj_bias;        /* bias on o_proj */
    bool mlp_bias;
    bool qk_norm;            /* Qwen3: RMSNorm over each head of q and k */
    bool use_sliding_window; /* Qwen2 / Mistral */
    int64_t sliding_window;  /* 0 = none */
    hn_dtype torch_dtype;    /* stored dtype the model was saved in */
    int64_t bos_token_id;    /* -1 when none */
    int64_t eos_token_ids[HN_MAX_EOS];
    int n_eos;
    int64_t pad_token_id;    /* -1 when none */
} hn_model_config;

typedef struct {
    int64_t bos_token_id; /* -1 when none */
    int64_t eos_token_ids[HN_MAX_EOS];
    int n_eos;
    int64_t pad_token_id;
    bool do_sample;
    double temperature;
    double top_p;
    int64_t top_k;
    double repetition_penalty;
    int64_t max_new_tokens; /* 0 when not given */
    int64_t max_length;
} hn_generation_config;

/* Reads a config.json file. */
hn_status hn_model_config_load(const char *path, hn_model_config *config, hn_error *err);
/* Parses config.json text; `label` names it in messages. */
hn_status hn_model_config_parse(const char *text, size_t length, const char *label,
                                hn_model_config *config, hn_error *err);
/* The number of parameters the config implies (what the weights should hold). */
int64_t hn_model_config_param_count(const hn_model_config *config);
const char *hn_arch_name(hn_arch arch);
/* transformers' model_type: "llama", "qwen2", ... */
const char *hn_arch_model_type(hn_arch arch);
const char *hn_rope_type_name(hn_rope_type type);
/* "LlamaForCausalLM, Qwen2ForCausalLM, ..." */
const char *hn_supported_architectures(void);

/* Sets transformers' GenerationConfig defaults. */
void hn_generation_config_defaults(hn_generation_config *gen);
/* Reads generation_config.json over the defaults. */
hn_status hn_generation_config_load(const char *path, hn_generation_config *gen, hn_error *err);
