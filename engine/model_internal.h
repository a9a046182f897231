/* The inside of hn_model, shared by model.c (building, parameters), model_forward.c,
 * model_backward.c and linear.c. Every tensor lives in backend memory carved from a few
 * large buffers (model_arena.c); shapes are in the comments: N tokens (B x T), C hidden,
 * H MLP width, NH / NKV query / key-value heads, HD head dim, V vocabulary, r LoRA rank. */
#pragma once

#include <glib.h>

#include "model.h"

/* A parameter: its value in backend memory and, when it trains, an fp32 gradient. */
typedef struct {
    char *name;
    int ndim;
    int64_t shape[2];
    size_t numel;
    void *data;           /* `type` elements */
    hn_weight_type type;  /* HN_WEIGHT_BF16 only for frozen matmul / embedding weights */
    float *grad;          /* [numel], NULL when frozen */
} hn_param;

/* A LoRA adapter on a linear layer (Hu et al., arXiv:2106.09685): out += scaling *
 * dropout(x) @ A^T @ B^T. With DoRA (Liu et al., arXiv:2402.09353) the sum x~ W^T + scaling
 * x~ A^T B^T (x~ = dropout(x)) is scaled per output by magnitude / ||W + scaling B A|| (row
 * norms, detached), then the bias and, with dropout, (x - x~) W^T are added (linear.c). */
typedef struct {
    hn_param *A; /* [r, in] */
    hn_param *B; /* [out, r] */
    hn_param *magnitude; /* [out], DoRA only, else NULL */
    int rank;
    float scaling;
    float dropout;
} hn_lora;

/* A linear layer: out = x @ W^T (+ b) (+ the LoRA term). */
typedef struct {
    hn_param *weight; /* [out, in] */
    hn_param *bias;   /* [out] or NULL */
    hn_lora *lora;    /* NULL without an adapter */
    int in, out;
    int slot;         /* index among a layer's linears, for LoRA scratch and dropout seeds */
} hn_linear;

enum { LINEAR_Q, LINEAR_K, LINEAR_V, LINEAR_O, LINEAR_GATE, LINEAR_UP, LINEAR_DOWN, N_LINEARS };

typedef struct {
    hn_param *input_norm, *post_norm; /* [C] */
    hn_param *q_norm, *k_norm;        /* [HD], Qwen3 only */
    hn_linear linears[N_LINEARS];
} hn_layer;

/* What one layer's forward keeps for its backward. */
typedef struct {
    float *ln1;              /* [N, C] input_layernorm(x) */
    float *rstd1;            /* [N] */
    float *q_raw, *k_raw;    /* [N, NH*HD], [N, NKV*HD]: before the q/k norms (Qwen3) */
    float *q_rstd, *k_rstd;  /* [N*NH], [N*NKV] */
    float *q, *k, *v;        /* [N, NH*HD], [N, NKV*HD] x2: what attention reads (after RoPE) */
    float *att;              /* [N, NH*HD] */
    float *lse;              /* [B, NH, T] */
    float *mid;              /* [N, C] the residual after attention */
    float *ln2;              /* [N, C] */
    float *rstd2;            /* [N] */
    float *gate, *up, *act;  /* [N, H] */
    float *lora_mid[N_LINEARS]; /* [N, r] dropout(x) @ A^T of each adapted linear */
    float *dora_pre[N_LINEARS]; /* [N, out] DoRA: x~ W^T + scaling x~ A^T B^T, before the
                                   scale (x~ = dropout(x)) */
    float *dora_norm[N_LINEARS]; /* [out] DoRA: ||W + scaling B A|| per row */
} hn_layer_acts;

/* Scratch shared by all layers. */
typedef struct {
    float *proj;       /* [N, max(C, H, NH*HD)] a linear's output before it joins a sum */
    float *lora_out;   /* [N, max out] the LoRA term before scaling; DoRA with dropout: the
                          scaled output before it joins (x - x~) W^T */
    float *lora_in;    /* [N, max in] dropout(x) */
    float *lora_dmid;  /* [N, r] */
    float *dres, *dres2;          /* [N, C] gradient of the residual stream */
    float *dln;                   /* [N, C] */
    float *datt;                  /* [N, NH*HD] */
    float *dq, *dq2;              /* [N, NH*HD] */
    float *dk, *dk2, *dv;         /* [N, NKV*HD] */
    float *dgate, *dup, *dact;    /* [N, H] */
    float *dscaled;               /* [N, max out] LoRA: scaling * dout */
    float *dora_dpre;             /* [N, max out] DoRA: d(pre-scale output) */
    float *dlosses;               /* [N] */
    bool int8_activations;        /* decode (model_decode.c) in the int8 mode: one-row
                                     products with Q8_0 / Q4_1 weights quantize their input */
} hn_scratch;

/* Activations of a batch shape: the residual stream at every layer boundary, each layer's
 * kept values (or one layer's, reused, with recompute), the head's. */
typedef struct {
    int B, T;               /* the shape they were made for */
    void *memory;           /* one backend allocation holding all of them */
    size_t capacity;        /* its size in bytes */
    float **resid;          /* [L + 1] of [N, C]; resid[0] = embeddings */
    hn_layer_acts *layers;  /* [L], or [1] with recompute */
    float *normed;          /* [N, C] final norm */
    float *rstd_final;      /* [N] */
    float *losses, *lse;    /* [N] */
    int32_t *ids, *targets, *positions, *doc_start; /* [N] on the device */
    hn_scratch scratch;
} hn_activations;

struct hn_model {
    const hn_backend *be;
    hn_model_options options;
    hn_model_config config;
    int C, H, NH, NKV, HD, V, L;
    int window;               /* sliding window, 0 = none */
    hn_param *embed;          /* [V, C] */
    hn_param *final_norm;     /* [C] */
    hn_param *lm_head;        /* [V, C]; == embed when tied */
    hn_layer *layers;         /* [L] */
    GPtrArray *params;        /* hn_param*, owned: base weights in file order, then LoRA */
    GPtrArray *loras;         /* hn_lora*, owned */
    void *weights_memory;     /* backend buffers the parameters are carved from */
    void *grads_memory;
    size_t grads_bytes;
    hn_activations act;
    bool have_batch;          /* a forward ran and its activations are valid */
    bool has_labels;
    uint64_t forward_count;   /* dropout seeds differ per training forward */
    bool evaluating;          /* hn_model_set_evaluating: no dropout, forward_count kept */
    bool adapters_off;        /* hn_model_set_adapters_enabled(false): base weights only */
    hn_param *v_weight, *v_bias; /* the value head (options.value_head), else NULL */
    float *inv_freq;          /* [HD / 2] on the device */
    float attention_factor;
};

/* ---- model_arena.c: carving one allocation into aligned pieces ---- */
typedef struct {
    char *base;   /* NULL while sizing */
    size_t used;
} hn_arena;

/* The next `bytes` of the arena (64-byte aligned); NULL while sizing. */
void *hn_arena_take(hn_arena *arena, size_t bytes);

/* ---- model_value_head.c ---- */
/* Adds the head's two parameters through new_param (model.c's). */
void hn_value_head_create(hn_model *m, hn_param *(*new_param)(hn_model *, const char *, int,
                                                              const int64_t[2]));
/* torch.nn.Linear's init from uniform(state) in [0, 1). */
void hn_value_head_init(hn_model *m, double (*uniform)(uint64_t *), uint64_t *state);

/* ---- linear.c ---- */
/* out = x @ w^T (+ bias) for N rows on the backend's matmul_forward, or, when s asks for
 * int8 activations, N is 1, w is in GGUF blocks and the backend has it, block_matvec_int8. */
void hn_weight_forward(const hn_model *m, const hn_scratch *s, float *out, const float *x,
                       const hn_param *w, const float *bias, int N, int C, int OC);
/* out = linear(x) for N rows; the LoRA term uses acts->lora_mid[slot] and the scratch. */
void hn_linear_forward(const hn_model *m, const hn_linear *lin, float *out, const float *x,
                       hn_layer_acts *acts, int layer, int N);
/* The same with the LoRA scratch (lora_out, lora_in) taken from s instead of the model's
 * activations: the inference path (model_decode.c) has buffers of its own. */
void hn_linear_forward_with(const hn_model *m, const hn_linear *lin, float *out, const float *x,
                            hn_layer_acts *acts, const hn_scratch *s, int layer, int N);
/* outs[i] = linear lins[i](x) for count linears with the same input (q, k, v; gate and up):
 * for one row of weights in GGUF blocks without an adapter in effect, one block_matvec_group
 * call (one pass over the threads, the input quantized once in int8 mode); otherwise one
 * hn_linear_forward_with each. The same results either way, bit for bit. */
enum { HN_LINEAR_GROUP_MAX = 4 };
void hn_linears_forward_shared(const hn_model *m, const hn_linear *const *lins, float *const *outs,
                               int count, const float *x, hn_layer_acts *acts,
                               const hn_scratch *s, int layer, int N);
/* dx += d/dx (dx may be NULL), weight/bias/LoRA gradients += theirs. */
void hn_linear_backward(const hn_model *m, const hn_linear *lin, float *dx, const float *dout,
                        const float *x, const hn_layer_acts *acts, int layer, int N);

/* ---- model_forward.c ---- */
void hn_layer_forward(const hn_model *m, int layer, hn_layer_acts *acts, const float *x,
                      float *out);
hn_status hn_activations_prepare(hn_model *m, int B, int T, hn_error *err);
void hn_activations_free(hn_model *m);
