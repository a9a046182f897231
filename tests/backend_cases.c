/* The random cases of the backend ops (see backend_cases.h). */
#include "backend_cases.h"

#include <math.h>
#include <string.h>

#include "dtype.h"
#include "test_util.h"
#include "weight_blocks.h"

void case_init(op_case *c, const char *name, const char *op)
{
    memset(c, 0, sizeof *c);
    g_strlcpy(c->name, name, sizeof c->name);
    c->spec = cJSON_CreateObject();
    cJSON_AddStringToObject(c->spec, "op", op);
}

void case_set(op_case *c, const char *key, double value)
{
    cJSON_AddNumberToObject(c->spec, key, value);
}

void case_clear(op_case *c)
{
    for (int i = 0; i < c->n_arrays; i++)
        g_free(c->arrays[i].data);
    cJSON_Delete(c->spec);
}

void *case_add(op_case *c, const char *name, size_t bytes)
{
    g_assert_cmpint(c->n_arrays, <, MAX_ARRAYS);
    g_strlcpy(c->arrays[c->n_arrays].name, name, sizeof c->arrays[0].name);
    c->arrays[c->n_arrays].bytes = bytes;
    return c->arrays[c->n_arrays++].data = g_malloc(bytes > 0 ? bytes : 1);
}

static guint32 case_seed(const op_case *c, const char *array)
{
    return g_str_hash(c->name) * 31u + g_str_hash(array);
}

/* n floats with magnitudes in [0.05, 1] * scale and random signs: never zero. */
float *case_floats(op_case *c, const char *name, size_t n, double scale)
{
    float *x = case_add(c, name, n * sizeof *x);
    GRand *rand = g_rand_new_with_seed(case_seed(c, name));
    for (size_t i = 0; i < n; i++) {
        double magnitude = g_rand_double_range(rand, 0.05, 1.0) * scale;
        x[i] = (float)(g_rand_boolean(rand) ? magnitude : -magnitude);
    }
    g_rand_free(rand);
    return x;
}

/* n weights in GGUF blocks of `type` (weight_blocks.h): random quants under a random fp16
 * scale per block (Q4_1: and a minimum), so values stay within about +-1. */
static void *random_blocks(op_case *c, const char *name, size_t n, hn_weight_type type)
{
    g_assert_cmpuint(n % HN_BLOCK_ELEMENTS, ==, 0);
    size_t blocks = n / HN_BLOCK_ELEMENTS;
    size_t block_bytes = type == HN_WEIGHT_Q8_0 ? HN_Q8_0_BLOCK_BYTES : HN_Q4_1_BLOCK_BYTES;
    uint8_t *bytes = case_add(c, name, blocks * block_bytes);
    GRand *rand = g_rand_new_with_seed(case_seed(c, name));
    for (size_t b = 0; b < blocks; b++) {
        uint8_t *block = bytes + b * block_bytes;
        for (size_t i = 0; i < block_bytes; i++)
            block[i] = (uint8_t)g_rand_int_range(rand, 0, 256);
        float d = (float)g_rand_double_range(rand, 0.3, 1.0);
        uint16_t scale = hn_f32_to_f16(type == HN_WEIGHT_Q8_0 ? d / 127.0f : d / 8.0f);
        memcpy(block, &scale, 2);
        if (type == HN_WEIGHT_Q4_1) { /* x = d q + m, q in [0, 15]: m about -7.5 d */
            uint16_t minimum = hn_f32_to_f16(-7.5f * hn_f16_to_f32(scale) *
                                             (float)g_rand_double_range(rand, 0.8, 1.2));
            memcpy(block + 2, &minimum, 2);
        }
    }
    g_rand_free(rand);
    return bytes;
}

static const char *weight_type_name(hn_weight_type type)
{
    switch (type) {
    case HN_WEIGHT_BF16: return "bf16";
    case HN_WEIGHT_Q8_0: return "q8_0";
    case HN_WEIGHT_Q4_1: return "q4_1";
    default: return "f32";
    }
}

/* A weight [n] stored as `type`: random fp32, random fp32 rounded to bf16 (truncated; the
 * reference reads the same bits), or random GGUF blocks (no reference reads those). */
void *case_weight(op_case *c, const char *name, size_t n, hn_weight_type type)
{
    char key[64];
    g_snprintf(key, sizeof key, "%s_type", name);
    cJSON_AddStringToObject(c->spec, key, weight_type_name(type));
    if (type == HN_WEIGHT_Q8_0 || type == HN_WEIGHT_Q4_1)
        return random_blocks(c, name, n, type);
    float *values = case_floats(c, name, n, 1.0);
    if (type == HN_WEIGHT_F32)
        return values;
    uint16_t *bits = g_new(uint16_t, n);
    for (size_t i = 0; i < n; i++) {
        uint32_t wide;
        memcpy(&wide, &values[i], sizeof wide);
        bits[i] = (uint16_t)(wide >> 16);
    }
    g_free(values);
    c->arrays[c->n_arrays - 1].data = bits;
    c->arrays[c->n_arrays - 1].bytes = n * sizeof *bits;
    return bits;
}

int32_t *case_ints(op_case *c, const char *name, size_t n, int32_t below)
{
    int32_t *x = case_add(c, name, n * sizeof *x);
    GRand *rand = g_rand_new_with_seed(case_seed(c, name));
    for (size_t i = 0; i < n; i++)
        x[i] = g_rand_int_range(rand, 0, below);
    g_rand_free(rand);
    return x;
}

/* A buffer an op writes (owned by the case, not written for the reference), zeroed: a
 * backend that leaves an output unwritten differs from one that writes it. */
float *case_scratch(op_case *c, const char *name, size_t n)
{
    float *x = case_add(c, name, n * sizeof *x);
    memset(x, 0, n * sizeof *x);
    c->arrays[c->n_arrays - 1].scratch = true;
    return x;
}

/* A gradient buffer that starts random ("NAME_init" for the reference): the ops add to it. */
float *case_grad(op_case *c, const char *name, size_t n)
{
    char init[40];
    g_snprintf(init, sizeof init, "%s_init", name);
    float *start = case_floats(c, init, n, 1.0);
    float *grad = case_scratch(c, name, n);
    memcpy(grad, start, n * sizeof *grad);
    return grad;
}

void case_write(const op_case *c, const char *root)
{
    char *dir = g_build_filename(root, c->name, NULL);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0700), ==, 0);
    char *path = g_build_filename(dir, "case.json", NULL);
    char *text = cJSON_Print(c->spec);
    test_write_text(path, text);
    cJSON_free(text);
    g_free(path);
    for (int i = 0; i < c->n_arrays; i++) {
        if (c->arrays[i].scratch)
            continue;
        char *file = g_strdup_printf("%s.bin", c->arrays[i].name);
        path = g_build_filename(dir, file, NULL);
        test_write_file(path, c->arrays[i].data, c->arrays[i].bytes);
        g_free(path);
        g_free(file);
    }
    g_free(dir);
}

matmul_case make_matmul(op_case *c, const matmul_params *p)
{
    case_init(c, p->name, "matmul");
    case_set(c, "N", p->N);
    case_set(c, "C", p->C);
    case_set(c, "OC", p->OC);
    case_set(c, "bias", p->bias);
    case_set(c, "dweight", p->dweight);
    size_t N = (size_t)p->N, C = (size_t)p->C, OC = (size_t)p->OC;
    matmul_case m = {
        .inp = case_floats(c, "inp", N * C, 1.0),
        .weight = case_weight(c, "weight", OC * C, p->weight_type),
        .bias = p->bias ? case_floats(c, "bias", OC, 1.0) : NULL,
        .dout = case_floats(c, "dout", N * OC, 1.0),
        .out = case_scratch(c, "out", N * OC),
        .dinp = case_grad(c, "dinp", N * C),
        .dweight = p->dweight ? case_grad(c, "dweight", OC * C) : NULL,
        .dbias = p->bias ? case_grad(c, "dbias", OC) : NULL,
    };
    return m;
}

embedding_case make_embedding(op_case *c, const embedding_params *p)
{
    case_init(c, p->name, "embedding");
    case_set(c, "N", p->N);
    case_set(c, "C", p->C);
    case_set(c, "V", p->V);
    size_t N = (size_t)p->N, C = (size_t)p->C, V = (size_t)p->V;
    embedding_case e = {
        .ids = case_ints(c, "ids", N, p->V), /* N > V: ids repeat */
        .table = case_weight(c, "table", V * C, p->table_type),
        .dout = case_floats(c, "dout", N * C, 1.0),
        .out = case_scratch(c, "out", N * C),
        .dtable = case_grad(c, "dtable", V * C),
    };
    return e;
}

rmsnorm_case make_rmsnorm(op_case *c, const rmsnorm_params *p)
{
    case_init(c, p->name, "rmsnorm");
    case_set(c, "N", p->N);
    case_set(c, "C", p->C);
    case_set(c, "eps", p->eps);
    size_t N = (size_t)p->N, C = (size_t)p->C;
    rmsnorm_case r = {
        .inp = case_floats(c, "inp", N * C, p->scale),
        .weight = case_floats(c, "weight", C, 2.0),
        .dout = case_floats(c, "dout", N * C, 1.0),
        .out = case_scratch(c, "out", N * C),
        .rstd = case_scratch(c, "rstd", N),
        .dinp = case_grad(c, "dinp", N * C),
        .dweight = case_grad(c, "dweight", C),
    };
    return r;
}

swiglu_case make_swiglu(op_case *c, const swiglu_params *p)
{
    case_init(c, p->name, "swiglu");
    case_set(c, "N", p->N);
    case_set(c, "H", p->H);
    size_t n = (size_t)p->N * p->H;
    swiglu_case s = {
        .gate = case_floats(c, "gate", n, 8.0),
        .up = case_floats(c, "up", n, 2.0),
        .dout = case_floats(c, "dout", n, 1.0),
        .out = case_scratch(c, "out", n),
        .dgate = case_grad(c, "dgate", n),
        .dup = case_grad(c, "dup", n),
    };
    /* where expf saturates: sigmoid is exactly 0 or 1 there */
    s.gate[0] = -100.0f;
    s.gate[1] = 100.0f;
    s.gate[2] = -89.5f;
    return s;
}

rope_case make_rope(op_case *c, const rope_params *p)
{
    case_init(c, p->name, "rope");
    case_set(c, "B", p->B);
    case_set(c, "T", p->T);
    case_set(c, "NH", p->NH);
    case_set(c, "HD", p->HD);
    case_set(c, "attention_factor", p->attention_factor);
    size_t numel = (size_t)p->B * p->T * p->NH * p->HD;
    rope_case r = {
        .inp = case_floats(c, "inp", numel, 1.0),
        .positions = case_add(c, "position_ids", (size_t)p->B * p->T * sizeof(int32_t)),
        .inv_freq = case_add(c, "inv_freq", (size_t)p->HD / 2 * sizeof(float)),
        .dout = case_floats(c, "dout", numel, 1.0),
        .out = case_scratch(c, "out", numel),
        .dinp = case_grad(c, "dinp", numel),
    };
    /* Row 0 packs documents whose positions restart at 0 every 11 tokens; the others start
     * part-way, as a continued sequence does. */
    for (int b = 0; b < p->B; b++)
        for (int t = 0; t < p->T; t++)
            r.positions[b * p->T + t] = b == 0 ? t % 11 : 5 * b + t;
    for (int i = 0; i < p->HD / 2; i++)
        r.inv_freq[i] = (float)(1.0 / pow(p->theta, 2.0 * i / p->HD));
    return r;
}

attention_case make_attention(op_case *c, const attention_params *p)
{
    case_init(c, p->name, "attention");
    case_set(c, "B", p->B);
    case_set(c, "T", p->T);
    case_set(c, "NH", p->NH);
    case_set(c, "NKV", p->NKV);
    case_set(c, "HD", p->HD);
    case_set(c, "window", p->window);
    case_set(c, "scale", (float)p->scale); /* the fp32 value the op gets */
    case_set(c, "docs", p->documents[0] > 0);
    size_t tokens = (size_t)p->B * p->T;
    size_t q_size = tokens * p->NH * p->HD, kv_size = tokens * p->NKV * p->HD;
    attention_case a = {
        .q = case_floats(c, "q", q_size, 2.0),
        .k = case_floats(c, "k", kv_size, 2.0),
        .v = case_floats(c, "v", kv_size, 1.0),
        .dout = case_floats(c, "dout", q_size, 1.0),
        .out = case_scratch(c, "out", q_size),
        .lse = case_scratch(c, "lse", (size_t)p->B * p->NH * p->T),
        .dq = case_grad(c, "dq", q_size),
        .dk = case_grad(c, "dk", kv_size),
        .dv = case_grad(c, "dv", kv_size),
    };
    if (p->documents[0] > 0) {
        a.doc_start = case_add(c, "doc_start", tokens * sizeof(int32_t));
        /* Row 0 packs the listed documents; row 1 one document that starts at 0; row 2 (if
         * any) documents of 9 tokens. */
        for (int b = 0; b < p->B; b++) {
            int start = 0, document = 0, end = p->documents[0];
            for (int t = 0; t < p->T; t++) {
                if (b == 0 && t == end && document + 1 < 4 && p->documents[document + 1] > 0) {
                    start = end;
                    end += p->documents[++document];
                }
                if (b == 2 && t % 9 == 0)
                    start = t;
                a.doc_start[(size_t)b * p->T + t] = b == 1 ? 0 : start;
            }
        }
    }
    return a;
}

cross_entropy_case make_cross_entropy(op_case *c, const cross_entropy_params *p)
{
    case_init(c, p->name, "cross_entropy");
    case_set(c, "N", p->N);
    case_set(c, "C", p->C);
    case_set(c, "V", p->V);
    case_set(c, "dweight", p->dweight);
    size_t N = (size_t)p->N, C = (size_t)p->C, V = (size_t)p->V;
    cross_entropy_case e = {
        .hidden = case_floats(c, "hidden", N * C, 2.0),
        .weight = case_weight(c, "weight", V * C, p->weight_type),
        .targets = case_ints(c, "targets", N, p->V),
        .dlosses = case_floats(c, "dlosses", N, 1.0),
        .losses = case_scratch(c, "losses", N),
        .lse = case_scratch(c, "lse", N),
        .dhidden = case_grad(c, "dhidden", N * C),
        .dweight = p->dweight ? case_grad(c, "dweight", V * C) : NULL,
    };
    for (size_t n = 0; n < N; n += 5) /* prompt tokens: no loss, no gradient */
        e.targets[n] = HN_IGNORE_INDEX;
    e.targets[N - 1] = p->V - 1; /* the last vocabulary row, in the last chunk */
    return e;
}

const int adamw_sizes[ADAMW_TENSORS] = {600, 411};

adamw_case make_adamw(op_case *c, const adamw_params *p)
{
    case_init(c, p->name, "adamw");
    case_set(c, "steps", p->steps);
    case_set(c, "lr", p->lr);
    case_set(c, "beta1", p->beta1);
    case_set(c, "beta2", p->beta2);
    case_set(c, "eps", p->eps);
    case_set(c, "weight_decay", p->weight_decay);
    case_set(c, "max_norm", p->max_norm);
    cJSON_AddItemToObject(c->spec, "sizes", cJSON_CreateIntArray(adamw_sizes, ADAMW_TENSORS));
    g_assert_cmpint(p->steps, <=, ADAMW_MAX_STEPS);
    adamw_case a;
    for (int i = 0; i < ADAMW_TENSORS; i++) {
        size_t n = (size_t)adamw_sizes[i];
        char name[32];
        g_snprintf(name, sizeof name, "param%d", i);
        a.param[i] = case_floats(c, name, n, 1.0);
        g_snprintf(name, sizeof name, "m%d", i);
        a.m[i] = case_scratch(c, name, n);
        memset(a.m[i], 0, n * sizeof(float));
        g_snprintf(name, sizeof name, "v%d", i);
        a.v[i] = case_scratch(c, name, n);
        memset(a.v[i], 0, n * sizeof(float));
        for (int step = 0; step < p->steps; step++) {
            /* Large gradients on even steps (clipped), small ones on odd steps (not). */
            g_snprintf(name, sizeof name, "grad%d_%d", i, step);
            a.grad[step][i] = case_floats(c, name, n, step % 2 == 0 ? 0.3 : 0.004);
        }
    }
    return a;
}

dora_case make_dora(op_case *c, const dora_params *p)
{
    case_init(c, p->name, "dora");
    case_set(c, "N", p->N);
    case_set(c, "C", p->C);
    case_set(c, "OC", p->OC);
    case_set(c, "r", p->r);
    case_set(c, "scaling", p->scaling);
    case_set(c, "bias", p->bias);
    size_t N = (size_t)p->N, C = (size_t)p->C, OC = (size_t)p->OC, r = (size_t)p->r;
    dora_case d = {
        .weight = case_weight(c, "weight", OC * C, p->weight_type),
        .lora_a = case_floats(c, "lora_a", r * C, 0.5),
        .lora_b = case_floats(c, "lora_b", OC * r, 0.5),
        .norm = case_scratch(c, "norm", OC),
        .inp = case_floats(c, "inp", N * OC, 1.0),
        .magnitude = case_floats(c, "magnitude", OC, 4.0),
        .bias = p->bias ? case_floats(c, "bias", OC, 1.0) : NULL,
        .dout = case_floats(c, "dout", N * OC, 1.0),
        .out = case_scratch(c, "out", N * OC),
        .dinp = case_grad(c, "dinp", N * OC),
        .dmagnitude = case_grad(c, "dmagnitude", OC),
        .dbias = p->bias ? case_grad(c, "dbias", OC) : NULL,
    };
    return d;
}

/* ---- the tables of cases ------------------------------------------------------------- */

const matmul_params matmul_cases[MATMUL_CASES] = {
    {"matmul_f32", 37, 67, 53, HN_WEIGHT_F32, true, true},
    {"matmul_f32_smollm_mlp", 64, 576, 1536, HN_WEIGHT_F32, false, true},
    /* 1100 rows of 300: two bf16 tiles, the second partial */
    {"matmul_bf16_frozen", 29, 300, 1100, HN_WEIGHT_BF16, false, false},
    {"matmul_bf16_trained", 8, 96, 40, HN_WEIGHT_BF16, true, true},
};

const embedding_params embedding_cases[EMBEDDING_CASES] = {
    {"embedding_f32", 64, 70, 50, HN_WEIGHT_F32},
    {"embedding_bf16", 40, 130, 17, HN_WEIGHT_BF16},
};

const rmsnorm_params rmsnorm_cases[RMSNORM_CASES] = {
    {"rmsnorm", 33, 130, 1e-5, 3.0},
    {"rmsnorm_smollm", 64, 576, 1e-5, 1.0},
    {"rmsnorm_qk_head", 96, 64, 1e-6, 0.5}, /* Qwen3's q/k norm: rows are heads, C = HD */
};

const swiglu_params swiglu_cases[SWIGLU_CASES] = {
    {"swiglu", 17, 300},
};

const rope_params rope_cases[ROPE_CASES] = {
    {"rope_packed", 2, 24, 3, 16, 10000.0, 1.25},
    {"rope_long", 1, 300, 2, 64, 500000.0, 1.0},
};

const attention_params attention_cases[ATTENTION_CASES] = {
    {"attention_gqa", 2, 70, 4, 2, 16, 0, 0.25, {0}}, /* two key blocks of 64 */
    {"attention_mha", 1, 5, 3, 3, 4, 0, 0.3, {0}},
    {"attention_packed", 3, 90, 6, 2, 8, 0, 0.35355339059327373, {30, 45, 15}},
    {"attention_window", 1, 100, 2, 1, 32, 17, 0.17677669529663687, {60, 40}},
    /* one query head per KV head over three query blocks of 64, the window wider than one */
    {"attention_mha_window", 2, 150, 2, 2, 16, 80, 0.25, {0}},
};

/* Over 2^22 logits: the vocabulary goes in chunks (the last one partial). */
const cross_entropy_params cross_entropy_cases[CROSS_ENTROPY_CASES] = {
    {"cross_entropy_small", 7, 16, 50, HN_WEIGHT_F32, true},
    {"cross_entropy_chunked", 2048, 32, 3000, HN_WEIGHT_F32, true},
    {"cross_entropy_bf16_frozen", 4100, 24, 1500, HN_WEIGHT_BF16, false},
};

/* SmolLM2's MLP sizes in bf16: 1536 rows of 576 make four tiles, the last one partial. */
const dora_params dora_cases[DORA_CASES] = {
    {"dora_f32", 37, 67, 53, 4, HN_WEIGHT_F32, 2.0, true},
    {"dora_bf16_smollm", 16, 576, 1536, 8, HN_WEIGHT_BF16, 0.5, false},
};

const adamw_params adamw_cases[ADAMW_CASES] = {
    {"adamw_clip", 6, 1e-2, 0.9, 0.95, 1e-8, 0.1, 1.0},
    {"adamw_no_clip", 4, 1e-3, 0.9, 0.999, 1e-8, 0.01, 0.0},
};

/* ---- cases of the ops no reference script checks yet ----------------------------------- */

/* C a multiple of 32; N = 1 is the one-row (decode) path, N > 1 widened tiles. */
const matmul_params matmul_block_cases[MATMUL_BLOCK_CASES] = {
    {"matmul_q8_0_rows", 7, 96, 45, HN_WEIGHT_Q8_0, true, false},
    {"matmul_q4_1_rows", 5, 128, 70, HN_WEIGHT_Q4_1, false, false},
    {"matmul_q4_1_one_row", 1, 576, 130, HN_WEIGHT_Q4_1, true, false},
};

const cross_entropy_params cross_entropy_block_cases[CROSS_ENTROPY_BLOCK_CASES] = {
    {"cross_entropy_q8_0_frozen", 300, 64, 200, HN_WEIGHT_Q8_0, false},
    {"cross_entropy_q4_1_frozen", 37, 96, 1000, HN_WEIGHT_Q4_1, false},
};

const embedding_params embedding_block_cases[EMBEDDING_BLOCK_CASES] = {
    {"embedding_q8_0", 40, 64, 30, HN_WEIGHT_Q8_0},
    {"embedding_q4_1", 33, 96, 20, HN_WEIGHT_Q4_1},
};

axpy_case make_axpy(op_case *c, const axpy_params *p)
{
    case_init(c, p->name, "axpy");
    case_set(c, "n", p->n);
    case_set(c, "alpha", p->alpha);
    axpy_case a = {
        .x = case_floats(c, "x", (size_t)p->n, 1.0),
        .y = case_grad(c, "y", (size_t)p->n),
    };
    return a;
}

const axpy_params axpy_cases[AXPY_CASES] = {
    {"axpy", 10007, 0.37},
};

attention_cached_case make_attention_cached(op_case *c, const attention_cached_params *p)
{
    case_init(c, p->name, "attention_cached");
    case_set(c, "past", p->past);
    case_set(c, "T", p->T);
    case_set(c, "NH", p->NH);
    case_set(c, "NKV", p->NKV);
    case_set(c, "HD", p->HD);
    case_set(c, "window", p->window);
    case_set(c, "scale", (float)p->scale);
    size_t q_size = (size_t)p->T * p->NH * p->HD;
    size_t kv_size = (size_t)(p->past + p->T) * p->NKV * p->HD;
    attention_cached_case a = {
        .q = case_floats(c, "q", q_size, 2.0),
        .k = case_floats(c, "k", kv_size, 2.0),
        .v = case_floats(c, "v", kv_size, 1.0),
        .out = case_scratch(c, "out", q_size),
    };
    return a;
}

const attention_cached_params attention_cached_cases[ATTENTION_CACHED_CASES] = {
    {"attention_cached_prefill", 0, 9, 4, 2, 16, 0, 0.25},
    {"attention_cached_decode", 70, 1, 4, 2, 16, 0, 0.25},
    {"attention_cached_window", 37, 3, 2, 1, 32, 20, 0.17677669529663687},
    {"attention_cached_long", 300, 2, 3, 3, 64, 0, 0.125},
};

block_matvec_case make_block_matvec(op_case *c, const block_matvec_params *p)
{
    case_init(c, p->name, "block_matvec");
    case_set(c, "C", p->C);
    case_set(c, "OC0", p->OC0);
    case_set(c, "OC1", p->OC1);
    size_t C = (size_t)p->C;
    block_matvec_case b = {
        .inp = case_floats(c, "inp", C, 1.0),
        .weight = {case_weight(c, "weight0", (size_t)p->OC0 * C, HN_WEIGHT_Q8_0),
                   case_weight(c, "weight1", (size_t)p->OC1 * C, HN_WEIGHT_Q4_1)},
        .bias0 = case_floats(c, "bias0", (size_t)p->OC0, 1.0),
        .int8_out = {case_scratch(c, "int8_out0", (size_t)p->OC0),
                     case_scratch(c, "int8_out1", (size_t)p->OC1)},
        .group_out = {case_scratch(c, "group_out0", (size_t)p->OC0),
                      case_scratch(c, "group_out1", (size_t)p->OC1)},
        .group_int8_out = {case_scratch(c, "group_int8_out0", (size_t)p->OC0),
                           case_scratch(c, "group_int8_out1", (size_t)p->OC1)},
    };
    return b;
}

const block_matvec_params block_matvec_cases[BLOCK_MATVEC_CASES] = {
    {"block_matvec", 96, 40, 70},
    {"block_matvec_smollm", 576, 576, 1536},
};

dropout_case make_dropout(op_case *c, const dropout_params *p)
{
    case_init(c, p->name, "dropout");
    case_set(c, "n", p->n);
    case_set(c, "p", p->p);
    size_t n = (size_t)p->n;
    dropout_case d = {
        .inp = case_floats(c, "inp", n, 1.0),
        .dout = case_floats(c, "dout", n, 1.0),
        .out = case_scratch(c, "out", n),
        .in_place = case_scratch(c, "in_place", n),
        .dinp = case_grad(c, "dinp", n),
    };
    memcpy(d.in_place, d.inp, n * sizeof(float));
    return d;
}

const dropout_params dropout_cases[DROPOUT_CASES] = {
    {"dropout", 100003, 0.1, 1234},
    {"dropout_half", 4099, 0.5, 0xfedcba9876543210ull},
};

norm_squared_case make_norm_squared(op_case *c, const norm_squared_params *p)
{
    case_init(c, p->name, "norm_squared");
    case_set(c, "n0", p->n0);
    case_set(c, "n1", p->n1);
    norm_squared_case s = {
        .x0 = case_floats(c, "x0", (size_t)p->n0, 1.0),
        .x1 = case_floats(c, "x1", (size_t)p->n1, 0.01),
        .sum = case_grad(c, "sum", 1),
    };
    return s;
}

const norm_squared_params norm_squared_cases[NORM_SQUARED_CASES] = {
    {"norm_squared", 300007, 1001},
};
