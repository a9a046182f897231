/* Random test cases of the backend ops, shared by the test programs: each case is a set of
 * named arrays built from fixed seeds (never zero), rebuilt identically whenever asked for, so
 * the reference script can be given the same inputs the C side checks. */
#pragma once

#include <cjson/cJSON.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "backend.h"

enum { MAX_ARRAYS = 32 };

typedef struct {
    char name[64];
    cJSON *spec; /* case.json: {"op": ..., sizes, parameters} */
    struct {
        char name[32];
        void *data;
        size_t bytes;
        bool scratch; /* a buffer the op writes, not an input for the reference */
    } arrays[MAX_ARRAYS];
    int n_arrays;
} op_case;

/* A new case of `op` (case.json's "op"); case_clear frees it and all its arrays. */
void case_init(op_case *c, const char *name, const char *op);
void case_clear(op_case *c);
/* A number in case.json. */
void case_set(op_case *c, const char *key, double value);
/* A new array of `bytes` bytes named `name` (NAME.bin for the reference). */
void *case_add(op_case *c, const char *name, size_t bytes);
/* n floats with magnitudes in [0.05, 1] * scale and random signs: never zero. */
float *case_floats(op_case *c, const char *name, size_t n, double scale);
/* A weight [n] stored as `type` (bf16: random fp32 truncated, the reference reads the same
 * bits; Q8_0 / Q4_1: random GGUF blocks, n a multiple of 32, for backend comparisons only);
 * case.json's NAME_type says which. */
void *case_weight(op_case *c, const char *name, size_t n, hn_weight_type type);
/* n ints in [0, below). */
int32_t *case_ints(op_case *c, const char *name, size_t n, int32_t below);
/* A buffer an op writes (owned by the case, not written for the reference). */
float *case_scratch(op_case *c, const char *name, size_t n);
/* A gradient buffer that starts random (NAME_init for the reference): the ops add to it. */
float *case_grad(op_case *c, const char *name, size_t n);
/* Writes case.json and the input arrays into root/NAME. */
void case_write(const op_case *c, const char *root);

typedef struct {
    const char *name;
    int N, C, OC;
    hn_weight_type weight_type;
    bool bias, dweight; /* with a bias; with a weight gradient (else frozen: NULL) */
} matmul_params;

typedef struct {
    float *inp, *bias, *dout, *out, *dinp, *dweight, *dbias;
    void *weight;
} matmul_case;

matmul_case make_matmul(op_case *c, const matmul_params *p);

typedef struct {
    const char *name;
    int N, C, V;
    hn_weight_type table_type;
} embedding_params;

typedef struct {
    int32_t *ids;
    void *table;
    float *dout, *out, *dtable;
} embedding_case;

embedding_case make_embedding(op_case *c, const embedding_params *p);

typedef struct {
    const char *name;
    int N, C;
    double eps, scale; /* scale of the inputs */
} rmsnorm_params;

typedef struct {
    float *inp, *weight, *dout, *out, *rstd, *dinp, *dweight;
} rmsnorm_case;

rmsnorm_case make_rmsnorm(op_case *c, const rmsnorm_params *p);

typedef struct {
    const char *name;
    int N, H;
} swiglu_params;

typedef struct {
    float *gate, *up, *dout, *out, *dgate, *dup;
} swiglu_case;

swiglu_case make_swiglu(op_case *c, const swiglu_params *p);

typedef struct {
    const char *name;
    int B, T, NH, HD;
    double theta, attention_factor;
} rope_params;

typedef struct {
    float *inp, *inv_freq, *dout, *out, *dinp;
    int32_t *positions;
} rope_case;

rope_case make_rope(op_case *c, const rope_params *p);

typedef struct {
    const char *name;
    int B, T, NH, NKV, HD, window;
    double scale;
    int documents[4]; /* lengths of the documents packed in row 0; {0}: no document masks
                       * (with masks, row 1 is one document and row 2 documents of 9) */
} attention_params;

typedef struct {
    float *q, *k, *v, *dout, *out, *lse, *dq, *dk, *dv;
    int32_t *doc_start; /* NULL without documents */
} attention_case;

attention_case make_attention(op_case *c, const attention_params *p);

typedef struct {
    const char *name;
    int N, C, V;
    hn_weight_type weight_type;
    bool dweight;
} cross_entropy_params;

typedef struct {
    float *hidden, *dlosses, *losses, *lse, *dhidden, *dweight;
    void *weight;
    int32_t *targets;
} cross_entropy_case;

cross_entropy_case make_cross_entropy(op_case *c, const cross_entropy_params *p);

/* DoRA: the row norms of W + scaling B A, then out = inp * magnitude / norm + bias and its
 * backward (norm detached). */
typedef struct {
    const char *name;
    int N, C, OC, r;
    hn_weight_type weight_type;
    double scaling;
    bool bias;
} dora_params;

typedef struct {
    void *weight;
    float *lora_a, *lora_b, *norm;
    float *inp, *magnitude, *bias, *dout, *out, *dinp, *dmagnitude, *dbias;
} dora_case;

dora_case make_dora(op_case *c, const dora_params *p);

typedef struct {
    const char *name;
    int steps;
    double lr, beta1, beta2, eps, weight_decay, max_norm;
} adamw_params;

enum { ADAMW_TENSORS = 2, ADAMW_MAX_STEPS = 8 };

extern const int adamw_sizes[ADAMW_TENSORS];

typedef struct {
    float *param[ADAMW_TENSORS], *m[ADAMW_TENSORS], *v[ADAMW_TENSORS];
    float *grad[ADAMW_MAX_STEPS][ADAMW_TENSORS];
} adamw_case;

adamw_case make_adamw(op_case *c, const adamw_params *p);

/* The cases, as tables. */
enum { MATMUL_CASES = 4 };
extern const matmul_params matmul_cases[MATMUL_CASES];
enum { EMBEDDING_CASES = 2 };
extern const embedding_params embedding_cases[EMBEDDING_CASES];
enum { RMSNORM_CASES = 3 };
extern const rmsnorm_params rmsnorm_cases[RMSNORM_CASES];
enum { SWIGLU_CASES = 1 };
extern const swiglu_params swiglu_cases[SWIGLU_CASES];
enum { ROPE_CASES = 2 };
extern const rope_params rope_cases[ROPE_CASES];
enum { ATTENTION_CASES = 5 };
extern const attention_params attention_cases[ATTENTION_CASES];
enum { CROSS_ENTROPY_CASES = 3 };
extern const cross_entropy_params cross_entropy_cases[CROSS_ENTROPY_CASES];
enum { DORA_CASES = 2 };
extern const dora_params dora_cases[DORA_CASES];
enum { ADAMW_CASES = 2 };
extern const adamw_params adamw_cases[ADAMW_CASES];

/* ---- cases of the ops no reference script checks yet (backend comparisons) ------------- */

/* Linear layers, LM heads and embedding lookups on weights in GGUF blocks (frozen: no
 * dweight; what evaluating a GGUF model kept in its blocks runs). */
enum { MATMUL_BLOCK_CASES = 3 };
extern const matmul_params matmul_block_cases[MATMUL_BLOCK_CASES];
enum { CROSS_ENTROPY_BLOCK_CASES = 2 };
extern const cross_entropy_params cross_entropy_block_cases[CROSS_ENTROPY_BLOCK_CASES];
enum { EMBEDDING_BLOCK_CASES = 2 };
extern const embedding_params embedding_block_cases[EMBEDDING_BLOCK_CASES];

/* y += alpha * x. */
typedef struct {
    const char *name;
    int n;
    double alpha;
} axpy_params;

typedef struct {
    float *y, *x;
} axpy_case;

axpy_case make_axpy(op_case *c, const axpy_params *p);
enum { AXPY_CASES = 1 };
extern const axpy_params axpy_cases[AXPY_CASES];

/* T new queries after `past` cached keys (attention_cached_forward). */
typedef struct {
    const char *name;
    int past, T, NH, NKV, HD, window;
    double scale;
} attention_cached_params;

typedef struct {
    float *q, *k, *v, *out;
} attention_cached_case;

attention_cached_case make_attention_cached(op_case *c, const attention_cached_params *p);
enum { ATTENTION_CACHED_CASES = 4 };
extern const attention_cached_params attention_cached_cases[ATTENTION_CACHED_CASES];

/* One input row against two block weights (Q8_0 [OC0, C], Q4_1 [OC1, C], the first with a
 * bias): block_matvec_int8 on each, block_matvec_group in fp32 and int8. */
typedef struct {
    const char *name;
    int C, OC0, OC1;
} block_matvec_params;

typedef struct {
    float *inp, *bias0, *int8_out[2], *group_out[2], *group_int8_out[2];
    void *weight[2];
} block_matvec_case;

block_matvec_case make_block_matvec(op_case *c, const block_matvec_params *p);
enum { BLOCK_MATVEC_CASES = 2 };
extern const block_matvec_params block_matvec_cases[BLOCK_MATVEC_CASES];

/* dropout_forward (out, and in place), dropout_backward into a random gradient. */
typedef struct {
    const char *name;
    int n;
    double p;
    uint64_t seed;
} dropout_params;

typedef struct {
    float *inp, *dout, *out, *in_place, *dinp;
} dropout_case;

dropout_case make_dropout(op_case *c, const dropout_params *p);
enum { DROPOUT_CASES = 2 };
extern const dropout_params dropout_cases[DROPOUT_CASES];

/* norm_squared_accumulate of two arrays into a sum that starts random. */
typedef struct {
    const char *name;
    int n0, n1;
} norm_squared_params;

typedef struct {
    float *x0, *x1, *sum;
} norm_squared_case;

norm_squared_case make_norm_squared(op_case *c, const norm_squared_params *p);
enum { NORM_SQUARED_CASES = 1 };
extern const norm_squared_params norm_squared_cases[NORM_SQUARED_CASES];
