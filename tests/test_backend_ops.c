/* The CPU backend's ops, forward and backward, against PyTorch autograd in float64
 * (tests/reference/backend_ops_ref.py), and the RoPE tables of engine/rope_freq.c against
 * transformers' ROPE_INIT_FUNCTIONS. Inputs are random (fixed seeds, never zero); every
 * comparison states its tolerance and prints what it measured; NaN and Inf never pass.
 * Needs the venv from tests/setup-venv.sh. */
#include <cjson/cJSON.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "backend.h"
#include "hf_config.h"
#include "rope_freq.h"
#include "test_util.h"

/* ---- cases: named random arrays, rebuilt identically when written and when checked ---- */

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

static void case_init(op_case *c, const char *name, const char *op)
{
    memset(c, 0, sizeof *c);
    g_strlcpy(c->name, name, sizeof c->name);
    c->spec = cJSON_CreateObject();
    cJSON_AddStringToObject(c->spec, "op", op);
}

static void case_set(op_case *c, const char *key, double value)
{
    cJSON_AddNumberToObject(c->spec, key, value);
}

static void case_clear(op_case *c)
{
    for (int i = 0; i < c->n_arrays; i++)
        g_free(c->arrays[i].data);
    cJSON_Delete(c->spec);
}

static void *case_add(op_case *c, const char *name, size_t bytes)
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
static float *case_floats(op_case *c, const char *name, size_t n, double scale)
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

/* A weight [n] stored as `type`: random fp32, or random fp32 rounded to bf16 (truncated; the
 * reference reads the same bits). */
static void *case_weight(op_case *c, const char *name, size_t n, hn_weight_type type)
{
    char key[64];
    g_snprintf(key, sizeof key, "%s_type", name);
    cJSON_AddStringToObject(c->spec, key, type == HN_WEIGHT_BF16 ? "bf16" : "f32");
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

static int32_t *case_ints(op_case *c, const char *name, size_t n, int32_t below)
{
    int32_t *x = case_add(c, name, n * sizeof *x);
    GRand *rand = g_rand_new_with_seed(case_seed(c, name));
    for (size_t i = 0; i < n; i++)
        x[i] = g_rand_int_range(rand, 0, below);
    g_rand_free(rand);
    return x;
}

/* A buffer an op writes (owned by the case, not written for the reference). */
static float *case_scratch(op_case *c, const char *name, size_t n)
{
    float *x = case_add(c, name, n * sizeof *x);
    c->arrays[c->n_arrays - 1].scratch = true;
    return x;
}

/* A gradient buffer that starts random ("NAME_init" for the reference): the ops add to it. */
static float *case_grad(op_case *c, const char *name, size_t n)
{
    char init[40];
    g_snprintf(init, sizeof init, "%s_init", name);
    float *start = case_floats(c, init, n, 1.0);
    float *grad = case_scratch(c, name, n);
    memcpy(grad, start, n * sizeof *grad);
    return grad;
}

static void case_write(const op_case *c, const char *root)
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

/* ---- comparison ------------------------------------------------------------------------ */

/* Every element: |got - want| <= atol * rms(want) + rtol * |want| (atol is relative to the
 * reference's root mean square, so that sums of many terms are judged by their scale), and
 * the normalized mean squared error sum (got - want)^2 / sum want^2 at most nmse. */
typedef struct {
    double atol, rtol, nmse;
} tolerance;

static double *read_expected(const char *root, const op_case *c, const char *name, size_t n)
{
    char *file = g_strdup_printf("%s.bin", name);
    char *path = g_build_filename(root, c->name, "expected", file, NULL);
    GBytes *bytes = test_read_file(path);
    if (g_bytes_get_size(bytes) != n * sizeof(double))
        g_error("%s: %zu bytes, expected %zu", path, (size_t)g_bytes_get_size(bytes),
                n * sizeof(double));
    double *want = g_memdup2(g_bytes_get_data(bytes, NULL), n * sizeof *want);
    g_bytes_unref(bytes);
    g_free(path);
    g_free(file);
    return want;
}

/* got[n] against the reference's NAME.bin; prints the max abs error (also over the rms), the
 * max relative error (over elements at least 1e-3 of the largest) and the NMSE. */
static void check_close(const char *root, const op_case *c, const char *name, const float *got,
                        size_t n, tolerance tol)
{
    double *want = read_expected(root, c, name, n);
    double max_want = 0, squared_want = 0;
    for (size_t i = 0; i < n; i++) {
        max_want = fmax(max_want, fabs(want[i]));
        squared_want += want[i] * want[i];
    }
    double rms = sqrt(squared_want / (double)n);
    double max_abs = 0, max_rel = 0, squared_error = 0;
    size_t worst = 0, failures = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(got[i]) || !isfinite(want[i]))
            g_error("%s %s[%zu]: hone %g, reference %g: not finite", c->name, name, i, got[i],
                    want[i]);
        double error = fabs(got[i] - want[i]);
        if (error > max_abs) {
            max_abs = error;
            worst = i;
        }
        if (fabs(want[i]) >= 1e-3 * max_want) /* relative error where it means something */
            max_rel = fmax(max_rel, error / fabs(want[i]));
        squared_error += error * error;
        if (error > tol.atol * rms + tol.rtol * fabs(want[i]))
            failures++;
    }
    double nmse = squared_want > 0 ? squared_error / squared_want : squared_error;
    g_test_message("%s %s [%zu]: max abs err %.2e (%.2e x rms %.2e), max rel err %.2e, "
                   "nmse %.2e (tolerance: atol %.0e x rms + rtol %.0e, nmse %.0e)",
                   c->name, name, n, max_abs, rms > 0 ? max_abs / rms : 0.0, rms, max_rel, nmse,
                   tol.atol, tol.rtol, tol.nmse);
    if (failures > 0 || nmse > tol.nmse)
        g_error("%s %s: %zu of %zu elements out of tolerance (worst [%zu]: hone %.9g, reference "
                "%.9g); nmse %.3e (at most %.0e)",
                c->name, name, failures, n, worst, got[worst], want[worst], nmse, tol.nmse);
    g_free(want);
}

/* ---- the ops' cases: each builds its inputs, its outputs and its starting gradients ----- */

/* Tolerances, fp32 compute against float64 (see `tolerance`), about ten times the largest
 * errors measured on x86-64 with OpenBLAS 0.3.21 (max abs err over rms; NMSE):
 * matmul 2.5e-6, 1e-13; attention 5.8e-6, 5.8e-14 (dv sums p * dout over every query);
 * cross-entropy 1.3e-5, 6.7e-13 (dweight sums over 1638 rows); the other ops 1.2e-6,
 * 5e-14. */
static const tolerance tol_gemm = {2e-5, 1e-5, 1e-12};
static const tolerance tol_attention = {5e-5, 1e-5, 5e-13};
static const tolerance tol_cross_entropy = {1e-4, 1e-5, 4e-12};
static const tolerance tol_ops = {1e-5, 1e-5, 1e-12};

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

static matmul_case make_matmul(op_case *c, const matmul_params *p)
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

static embedding_case make_embedding(op_case *c, const embedding_params *p)
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

typedef struct {
    const char *name;
    int N, C;
    double eps, scale; /* scale of the inputs */
} rmsnorm_params;

typedef struct {
    float *inp, *weight, *dout, *out, *rstd, *dinp, *dweight;
} rmsnorm_case;

static rmsnorm_case make_rmsnorm(op_case *c, const rmsnorm_params *p)
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

typedef struct {
    const char *name;
    int N, H;
} swiglu_params;

typedef struct {
    float *gate, *up, *dout, *out, *dgate, *dup;
} swiglu_case;

static swiglu_case make_swiglu(op_case *c, const swiglu_params *p)
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

typedef struct {
    const char *name;
    int B, T, NH, HD;
    double theta, attention_factor;
} rope_params;

typedef struct {
    float *inp, *inv_freq, *dout, *out, *dinp;
    int32_t *positions;
} rope_case;

static rope_case make_rope(op_case *c, const rope_params *p)
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

typedef struct {
    const char *name;
    int B, T, NH, NKV, HD, window;
    double scale;
    int documents[4]; /* lengths of the packed documents of row 0 (the rest: one more), or 0 */
} attention_params;

typedef struct {
    float *q, *k, *v, *dout, *out, *lse, *dq, *dk, *dv;
    int32_t *doc_start; /* NULL without documents */
} attention_case;

static attention_case make_attention(op_case *c, const attention_params *p)
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

static cross_entropy_case make_cross_entropy(op_case *c, const cross_entropy_params *p)
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

typedef struct {
    const char *name;
    int steps;
    double lr, beta1, beta2, eps, weight_decay, max_norm;
} adamw_params;

enum { ADAMW_TENSORS = 2, ADAMW_MAX_STEPS = 8 };
static const int adamw_sizes[ADAMW_TENSORS] = {600, 411};

typedef struct {
    float *param[ADAMW_TENSORS], *m[ADAMW_TENSORS], *v[ADAMW_TENSORS];
    float *grad[ADAMW_MAX_STEPS][ADAMW_TENSORS];
} adamw_case;

static adamw_case make_adamw(op_case *c, const adamw_params *p)
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

/* A Llama config.json whose RoPE part is `rope` (JSON members, or "" for none). */
typedef struct {
    const char *name;
    int hidden_size, max_positions;
    double theta; /* 0: not written */
    const char *rope;
    int64_t seq_len; /* the batch length "dynamic" sees */
} rope_table_params;

static char *rope_table_config(const rope_table_params *p)
{
    char theta[64] = "";
    if (p->theta > 0)
        g_snprintf(theta, sizeof theta, ", \"rope_theta\": %.17g", p->theta);
    return g_strdup_printf(
        "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", "
        "\"vocab_size\": 32, \"hidden_size\": %d, \"intermediate_size\": 64, "
        "\"num_hidden_layers\": 1, \"num_attention_heads\": 4, \"num_key_value_heads\": 2, "
        "\"max_position_embeddings\": %d%s%s%s}\n",
        p->hidden_size, p->max_positions, theta, p->rope[0] ? ", " : "", p->rope);
}

static void make_rope_table(op_case *c, const rope_table_params *p)
{
    case_init(c, p->name, "rope_tables");
    case_set(c, "seq_len", (double)p->seq_len);
    char *config = rope_table_config(p);
    size_t length = strlen(config);
    memcpy(case_add(c, "config", length), config, length);
    g_free(config);
}

/* ---- the tables of cases, and the reference run over all of them once ------------------ */

static const matmul_params matmul_cases[] = {
    {"matmul_f32", 37, 67, 53, HN_WEIGHT_F32, true, true},
    {"matmul_f32_smollm_mlp", 64, 576, 1536, HN_WEIGHT_F32, false, true},
    /* 1100 rows of 300: two bf16 tiles, the second partial */
    {"matmul_bf16_frozen", 29, 300, 1100, HN_WEIGHT_BF16, false, false},
    {"matmul_bf16_trained", 8, 96, 40, HN_WEIGHT_BF16, true, true},
};

static const embedding_params embedding_cases[] = {
    {"embedding_f32", 64, 70, 50, HN_WEIGHT_F32},
    {"embedding_bf16", 40, 130, 17, HN_WEIGHT_BF16},
};

static const rmsnorm_params rmsnorm_cases[] = {
    {"rmsnorm", 33, 130, 1e-5, 3.0},
    {"rmsnorm_smollm", 64, 576, 1e-5, 1.0},
    {"rmsnorm_qk_head", 96, 64, 1e-6, 0.5}, /* Qwen3's q/k norm: rows are heads, C = HD */
};

static const swiglu_params swiglu_cases[] = {
    {"swiglu", 17, 300},
};

static const rope_params rope_cases[] = {
    {"rope_packed", 2, 24, 3, 16, 10000.0, 1.25},
    {"rope_long", 1, 300, 2, 64, 500000.0, 1.0},
};

static const attention_params attention_cases[] = {
    {"attention_gqa", 2, 70, 4, 2, 16, 0, 0.25, {0}}, /* two key blocks of 64 */
    {"attention_mha", 1, 5, 3, 3, 4, 0, 0.3, {0}},
    {"attention_packed", 3, 90, 6, 2, 8, 0, 0.35355339059327373, {30, 45, 15}},
    {"attention_window", 1, 100, 2, 1, 32, 17, 0.17677669529663687, {60, 40}},
};

/* Over 2^22 logits: the vocabulary goes in chunks (the last one partial). */
static const cross_entropy_params cross_entropy_cases[] = {
    {"cross_entropy_small", 7, 16, 50, HN_WEIGHT_F32, true},
    {"cross_entropy_chunked", 2048, 32, 3000, HN_WEIGHT_F32, true},
    {"cross_entropy_bf16_frozen", 4100, 24, 1500, HN_WEIGHT_BF16, false},
};

static const adamw_params adamw_cases[] = {
    {"adamw_clip", 6, 1e-2, 0.9, 0.95, 1e-8, 0.1, 1.0},
    {"adamw_no_clip", 4, 1e-3, 0.9, 0.999, 1e-8, 0.01, 0.0},
};

static const rope_table_params rope_table_cases[] = {
    {"rope_default", 256, 2048, 10000.0, "", 0},
    {"rope_linear", 256, 2048, 10000.0,
     "\"rope_scaling\": {\"rope_type\": \"linear\", \"factor\": 4.0}", 0},
    {"rope_dynamic_short", 256, 2048, 10000.0,
     "\"rope_scaling\": {\"rope_type\": \"dynamic\", \"factor\": 2.0}", 100},
    {"rope_dynamic_long", 256, 2048, 10000.0,
     "\"rope_scaling\": {\"type\": \"dynamic\", \"factor\": 2.0}", 5000},
    {"rope_yarn", 256, 8192, 10000.0,
     "\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0, "
     "\"original_max_position_embeddings\": 2048}", 0},
    {"rope_yarn_mscale", 512, 16384, 1000000.0,
     "\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 8.0, "
     "\"original_max_position_embeddings\": 2048, \"mscale\": 0.707, \"mscale_all_dim\": 1.0, "
     "\"beta_fast\": 16, \"beta_slow\": 2, \"truncate\": false}", 0},
    {"rope_yarn_attention_factor", 256, 4096, 10000.0,
     "\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 2.0, \"attention_factor\": 1.5}",
     0},
    {"rope_yarn_v5_layout", 256, 32768, 0,
     "\"rope_parameters\": {\"rope_type\": \"yarn\", \"rope_theta\": 1000000.0, "
     "\"factor\": 4.0, \"original_max_position_embeddings\": 8192}", 0},
    {"rope_llama3", 512, 131072, 500000.0,
     "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0, "
     "\"high_freq_factor\": 4.0, \"original_max_position_embeddings\": 8192}", 0},
};

/* Every case, built and written under root. */
static void write_cases(const char *root)
{
    op_case c;
#define WRITE_CASES(TABLE, MAKE)                                                            \
    for (size_t i = 0; i < G_N_ELEMENTS(TABLE); i++) {                                     \
        (void)MAKE(&c, &TABLE[i]);                                                          \
        case_write(&c, root);                                                              \
        case_clear(&c);                                                                    \
    }
    WRITE_CASES(matmul_cases, make_matmul)
    WRITE_CASES(embedding_cases, make_embedding)
    WRITE_CASES(rmsnorm_cases, make_rmsnorm)
    WRITE_CASES(swiglu_cases, make_swiglu)
    WRITE_CASES(rope_cases, make_rope)
    WRITE_CASES(attention_cases, make_attention)
    WRITE_CASES(cross_entropy_cases, make_cross_entropy)
    WRITE_CASES(adamw_cases, make_adamw)
    WRITE_CASES(rope_table_cases, make_rope_table)
#undef WRITE_CASES
}

static char *reference_folder = NULL; /* where the cases and the reference's answers are */

/* Writes every case and runs the reference script once; returns the folder. */
static const char *reference_root(void)
{
    if (reference_folder == NULL) {
        reference_folder = test_make_tmpdir();
        write_cases(reference_folder);
        const char *args[] = {reference_folder, NULL};
        test_run_reference_args("backend_ops_ref.py", args);
    }
    return reference_folder;
}

/* ---- the checks ----------------------------------------------------------------------- */

static const hn_backend *cpu(void)
{
    return hn_cpu_backend();
}

static void test_matmul(gconstpointer data)
{
    const matmul_params *p = data;
    const char *root = reference_root();
    op_case c;
    matmul_case m = make_matmul(&c, p);
    cpu()->matmul_forward(m.out, m.inp, m.weight, p->weight_type, m.bias, p->N, p->C, p->OC);
    cpu()->matmul_backward(m.dinp, m.dweight, m.dbias, m.dout, m.inp, m.weight, p->weight_type,
                           p->N, p->C, p->OC);
    check_close(root, &c, "out", m.out, (size_t)p->N * p->OC, tol_gemm);
    check_close(root, &c, "dinp", m.dinp, (size_t)p->N * p->C, tol_gemm);
    if (m.dweight != NULL)
        check_close(root, &c, "dweight", m.dweight, (size_t)p->OC * p->C, tol_gemm);
    if (m.dbias != NULL)
        check_close(root, &c, "dbias", m.dbias, (size_t)p->OC, tol_gemm);
    case_clear(&c);
}

static void test_embedding(gconstpointer data)
{
    const embedding_params *p = data;
    const char *root = reference_root();
    op_case c;
    embedding_case e = make_embedding(&c, p);
    cpu()->embedding_forward(e.out, e.ids, e.table, p->table_type, p->N, p->C);
    cpu()->embedding_backward(e.dtable, e.dout, e.ids, p->N, p->C);
    check_close(root, &c, "out", e.out, (size_t)p->N * p->C, tol_ops);
    check_close(root, &c, "dtable", e.dtable, (size_t)p->V * p->C, tol_ops);
    case_clear(&c);
}

static void test_rmsnorm(gconstpointer data)
{
    const rmsnorm_params *p = data;
    const char *root = reference_root();
    op_case c;
    rmsnorm_case r = make_rmsnorm(&c, p);
    cpu()->rmsnorm_forward(r.out, r.rstd, r.inp, r.weight, (float)p->eps, p->N, p->C);
    cpu()->rmsnorm_backward(r.dinp, r.dweight, r.dout, r.inp, r.weight, r.rstd, p->N, p->C);
    check_close(root, &c, "out", r.out, (size_t)p->N * p->C, tol_ops);
    check_close(root, &c, "rstd", r.rstd, (size_t)p->N, tol_ops);
    check_close(root, &c, "dinp", r.dinp, (size_t)p->N * p->C, tol_ops);
    check_close(root, &c, "dweight", r.dweight, (size_t)p->C, tol_ops);
    case_clear(&c);
}

static void test_swiglu(gconstpointer data)
{
    const swiglu_params *p = data;
    const char *root = reference_root();
    op_case c;
    swiglu_case s = make_swiglu(&c, p);
    cpu()->swiglu_forward(s.out, s.gate, s.up, p->N, p->H);
    cpu()->swiglu_backward(s.dgate, s.dup, s.dout, s.gate, s.up, p->N, p->H);
    size_t n = (size_t)p->N * p->H;
    check_close(root, &c, "out", s.out, n, tol_ops);
    check_close(root, &c, "dgate", s.dgate, n, tol_ops);
    check_close(root, &c, "dup", s.dup, n, tol_ops);
    case_clear(&c);
}

static void test_rope(gconstpointer data)
{
    const rope_params *p = data;
    const char *root = reference_root();
    op_case c;
    rope_case r = make_rope(&c, p);
    float factor = (float)p->attention_factor;
    size_t numel = (size_t)p->B * p->T * p->NH * p->HD;
    cpu()->rope_forward(r.out, r.inp, r.positions, r.inv_freq, factor, p->B, p->T, p->NH, p->HD);
    cpu()->rope_backward(r.dinp, r.dout, r.positions, r.inv_freq, factor, p->B, p->T, p->NH,
                         p->HD);
    check_close(root, &c, "out", r.out, numel, tol_ops);
    check_close(root, &c, "dinp", r.dinp, numel, tol_ops);
    /* In place gives the same bits. */
    float *in_place = g_memdup2(r.inp, numel * sizeof(float));
    cpu()->rope_forward(in_place, in_place, r.positions, r.inv_freq, factor, p->B, p->T, p->NH,
                        p->HD);
    g_assert_cmpmem(in_place, numel * sizeof(float), r.out, numel * sizeof(float));
    g_free(in_place);
    case_clear(&c);
}

static void test_attention(gconstpointer data)
{
    const attention_params *p = data;
    const char *root = reference_root();
    op_case c;
    attention_case a = make_attention(&c, p);
    float scale = (float)p->scale;
    cpu()->attention_forward(a.out, a.lse, a.q, a.k, a.v, a.doc_start, scale, p->window, p->B,
                             p->T, p->NH, p->NKV, p->HD);
    cpu()->attention_backward(a.dq, a.dk, a.dv, a.dout, a.q, a.k, a.v, a.out, a.lse, a.doc_start,
                              scale, p->window, p->B, p->T, p->NH, p->NKV, p->HD);
    size_t tokens = (size_t)p->B * p->T;
    check_close(root, &c, "out", a.out, tokens * p->NH * p->HD, tol_attention);
    check_close(root, &c, "lse", a.lse, tokens * p->NH, tol_attention);
    check_close(root, &c, "dq", a.dq, tokens * p->NH * p->HD, tol_attention);
    check_close(root, &c, "dk", a.dk, tokens * p->NKV * p->HD, tol_attention);
    check_close(root, &c, "dv", a.dv, tokens * p->NKV * p->HD, tol_attention);
    case_clear(&c);
}

static void test_cross_entropy(gconstpointer data)
{
    const cross_entropy_params *p = data;
    const char *root = reference_root();
    op_case c;
    cross_entropy_case e = make_cross_entropy(&c, p);
    cpu()->cross_entropy_forward(e.losses, e.lse, e.hidden, e.weight, p->weight_type, e.targets,
                                 p->N, p->C, p->V);
    cpu()->cross_entropy_backward(e.dhidden, e.dweight, e.dlosses, e.hidden, e.weight,
                                  p->weight_type, e.targets, e.lse, p->N, p->C, p->V);
    check_close(root, &c, "losses", e.losses, (size_t)p->N, tol_cross_entropy);
    check_close(root, &c, "lse", e.lse, (size_t)p->N, tol_cross_entropy);
    check_close(root, &c, "dhidden", e.dhidden, (size_t)p->N * p->C, tol_cross_entropy);
    if (e.dweight != NULL)
        check_close(root, &c, "dweight", e.dweight, (size_t)p->V * p->C, tol_cross_entropy);
    case_clear(&c);
}

static void test_adamw(gconstpointer data)
{
    const adamw_params *p = data;
    const char *root = reference_root();
    op_case c;
    adamw_case a = make_adamw(&c, p);
    float norms[ADAMW_MAX_STEPS];
    for (int step = 0; step < p->steps; step++) {
        float sum_squares = 0.0f;
        for (int i = 0; i < ADAMW_TENSORS; i++)
            cpu()->norm_squared_accumulate(&sum_squares, a.grad[step][i],
                                           (size_t)adamw_sizes[i]);
        norms[step] = sqrtf(sum_squares);
        float scale = hn_clip_coefficient(norms[step], p->max_norm);
        for (int i = 0; i < ADAMW_TENSORS; i++)
            cpu()->adamw_step(a.param[i], a.m[i], a.v[i], a.grad[step][i],
                              (size_t)adamw_sizes[i], p->lr, p->beta1, p->beta2, p->eps,
                              p->weight_decay, scale, step + 1);
    }
    check_close(root, &c, "norms", norms, (size_t)p->steps, tol_ops);
    for (int i = 0; i < ADAMW_TENSORS; i++) {
        char name[16];
        g_snprintf(name, sizeof name, "param%d", i);
        check_close(root, &c, name, a.param[i], (size_t)adamw_sizes[i], tol_ops);
        g_snprintf(name, sizeof name, "m%d", i);
        check_close(root, &c, name, a.m[i], (size_t)adamw_sizes[i], tol_ops);
        g_snprintf(name, sizeof name, "v%d", i);
        check_close(root, &c, name, a.v[i], (size_t)adamw_sizes[i], tol_ops);
    }
    case_clear(&c);
}

/* ---- finite differences: each backward against central differences of its own forward -- */

/* The scalar whose gradient a backward computes: sum(out * dout), in double. */
static double weighted_sum(const float *out, const float *dout, size_t n)
{
    double sum = 0.0;
    for (size_t i = 0; i < n; i++)
        sum += (double)out[i] * dout[i];
    return sum;
}

typedef double (*forward_loss)(const void *state); /* runs the forward, returns the scalar */

/* grad[i] against (loss(x[i] + h) - loss(x[i] - h)) / (2h) at 16 elements spread over x:
 * |difference - grad| <= tol * (|grad| + rms(grad)) (the fp32 forward's rounding divided by
 * 2h sets the floor). */
static void check_finite_differences(const char *what, float *x, const float *grad, size_t n,
                                     forward_loss loss, const void *state, double h, double tol)
{
    double squared = 0.0;
    for (size_t i = 0; i < n; i++)
        squared += (double)grad[i] * grad[i];
    double rms = sqrt(squared / (double)n), worst = 0.0;
    for (size_t k = 0; k < 16; k++) {
        size_t i = (k * 7919 + 13) % n;
        float saved = x[i];
        x[i] = (float)(saved + h);
        double plus = loss(state), step = x[i];
        x[i] = (float)(saved - h);
        double minus = loss(state);
        step -= x[i]; /* the step fp32 could represent */
        x[i] = saved;
        double difference = (plus - minus) / step;
        if (!isfinite(difference) || !isfinite(grad[i]))
            g_error("%s[%zu]: not finite (finite difference %g, backward %g)", what, i,
                    difference, grad[i]);
        double error = fabs(difference - grad[i]) / (fabs(grad[i]) + rms);
        worst = fmax(worst, error);
        if (error > tol)
            g_error("%s[%zu]: finite difference %.6g, backward %.6g (error %.2e of |grad| + rms "
                    "%.3g, at most %.0e)", what, i, difference, grad[i], error, rms, tol);
    }
    g_test_message("%s: finite differences (h %.0e) within %.2e of |grad| + rms (at most %.0e)",
                   what, h, worst, tol);
}

static void zero_floats(float *x, size_t n)
{
    memset(x, 0, n * sizeof *x);
}

/* Step and tolerance: the largest error measured is 1.1e-4 (rmsnorm dinp). */
static const double fd_step = 1e-2, fd_tol = 1e-3;

typedef struct {
    const matmul_params *p;
    matmul_case *m;
} matmul_state;

static double matmul_loss(const void *state)
{
    const matmul_state *s = state;
    const matmul_params *p = s->p;
    cpu()->matmul_forward(s->m->out, s->m->inp, s->m->weight, p->weight_type, s->m->bias, p->N,
                          p->C, p->OC);
    return weighted_sum(s->m->out, s->m->dout, (size_t)p->N * p->OC);
}

typedef struct {
    const rmsnorm_params *p;
    rmsnorm_case *r;
} rmsnorm_state;

static double rmsnorm_loss(const void *state)
{
    const rmsnorm_state *s = state;
    cpu()->rmsnorm_forward(s->r->out, NULL, s->r->inp, s->r->weight, (float)s->p->eps, s->p->N,
                           s->p->C);
    return weighted_sum(s->r->out, s->r->dout, (size_t)s->p->N * s->p->C);
}

typedef struct {
    const swiglu_params *p;
    swiglu_case *g;
} swiglu_state;

static double swiglu_loss(const void *state)
{
    const swiglu_state *s = state;
    cpu()->swiglu_forward(s->g->out, s->g->gate, s->g->up, s->p->N, s->p->H);
    return weighted_sum(s->g->out, s->g->dout, (size_t)s->p->N * s->p->H);
}

typedef struct {
    const rope_params *p;
    rope_case *r;
} rope_state;

static double rope_loss(const void *state)
{
    const rope_state *s = state;
    const rope_params *p = s->p;
    cpu()->rope_forward(s->r->out, s->r->inp, s->r->positions, s->r->inv_freq,
                        (float)p->attention_factor, p->B, p->T, p->NH, p->HD);
    return weighted_sum(s->r->out, s->r->dout, (size_t)p->B * p->T * p->NH * p->HD);
}

typedef struct {
    const attention_params *p;
    attention_case *a;
} attention_state;

static double attention_loss(const void *state)
{
    const attention_state *s = state;
    const attention_params *p = s->p;
    cpu()->attention_forward(s->a->out, s->a->lse, s->a->q, s->a->k, s->a->v, s->a->doc_start,
                             (float)p->scale, p->window, p->B, p->T, p->NH, p->NKV, p->HD);
    return weighted_sum(s->a->out, s->a->dout, (size_t)p->B * p->T * p->NH * p->HD);
}

typedef struct {
    const cross_entropy_params *p;
    cross_entropy_case *e;
} cross_entropy_state;

static double cross_entropy_loss(const void *state)
{
    const cross_entropy_state *s = state;
    const cross_entropy_params *p = s->p;
    cpu()->cross_entropy_forward(s->e->losses, s->e->lse, s->e->hidden, s->e->weight,
                                 p->weight_type, s->e->targets, p->N, p->C, p->V);
    return weighted_sum(s->e->losses, s->e->dlosses, (size_t)p->N);
}

/* Every backward with fp32 inputs against its forward (gradients start at zero here). */
static void test_finite_differences(void)
{
    op_case c;
    const matmul_params *mp = &matmul_cases[0];
    matmul_case m = make_matmul(&c, mp);
    zero_floats(m.dinp, (size_t)mp->N * mp->C);
    zero_floats(m.dweight, (size_t)mp->OC * mp->C);
    zero_floats(m.dbias, (size_t)mp->OC);
    cpu()->matmul_backward(m.dinp, m.dweight, m.dbias, m.dout, m.inp, m.weight, mp->weight_type,
                           mp->N, mp->C, mp->OC);
    matmul_state ms = {mp, &m};
    check_finite_differences("matmul dinp", m.inp, m.dinp, (size_t)mp->N * mp->C, matmul_loss,
                             &ms, fd_step, fd_tol);
    check_finite_differences("matmul dweight", m.weight, m.dweight, (size_t)mp->OC * mp->C,
                             matmul_loss, &ms, fd_step, fd_tol);
    check_finite_differences("matmul dbias", m.bias, m.dbias, (size_t)mp->OC, matmul_loss, &ms,
                             fd_step, fd_tol);
    case_clear(&c);

    const rmsnorm_params *rp = &rmsnorm_cases[0];
    rmsnorm_case r = make_rmsnorm(&c, rp);
    zero_floats(r.dinp, (size_t)rp->N * rp->C);
    zero_floats(r.dweight, (size_t)rp->C);
    cpu()->rmsnorm_forward(r.out, r.rstd, r.inp, r.weight, (float)rp->eps, rp->N, rp->C);
    cpu()->rmsnorm_backward(r.dinp, r.dweight, r.dout, r.inp, r.weight, r.rstd, rp->N, rp->C);
    rmsnorm_state rs = {rp, &r};
    check_finite_differences("rmsnorm dinp", r.inp, r.dinp, (size_t)rp->N * rp->C, rmsnorm_loss,
                             &rs, fd_step, fd_tol);
    check_finite_differences("rmsnorm dweight", r.weight, r.dweight, (size_t)rp->C,
                             rmsnorm_loss, &rs, fd_step, fd_tol);
    case_clear(&c);

    const swiglu_params *sp = &swiglu_cases[0];
    swiglu_case g = make_swiglu(&c, sp);
    size_t hidden = (size_t)sp->N * sp->H;
    zero_floats(g.dgate, hidden);
    zero_floats(g.dup, hidden);
    cpu()->swiglu_backward(g.dgate, g.dup, g.dout, g.gate, g.up, sp->N, sp->H);
    swiglu_state ss = {sp, &g};
    check_finite_differences("swiglu dgate", g.gate, g.dgate, hidden, swiglu_loss, &ss, fd_step,
                             fd_tol);
    check_finite_differences("swiglu dup", g.up, g.dup, hidden, swiglu_loss, &ss, fd_step,
                             fd_tol);
    case_clear(&c);

    const rope_params *pp = &rope_cases[0];
    rope_case o = make_rope(&c, pp);
    size_t numel = (size_t)pp->B * pp->T * pp->NH * pp->HD;
    zero_floats(o.dinp, numel);
    cpu()->rope_backward(o.dinp, o.dout, o.positions, o.inv_freq, (float)pp->attention_factor,
                         pp->B, pp->T, pp->NH, pp->HD);
    rope_state os = {pp, &o};
    check_finite_differences("rope dinp", o.inp, o.dinp, numel, rope_loss, &os, fd_step, fd_tol);
    case_clear(&c);

    for (size_t i = 2; i < G_N_ELEMENTS(attention_cases); i++) { /* packed, window */
        const attention_params *ap = &attention_cases[i];
        attention_case a = make_attention(&c, ap);
        size_t q_size = (size_t)ap->B * ap->T * ap->NH * ap->HD;
        size_t kv_size = (size_t)ap->B * ap->T * ap->NKV * ap->HD;
        zero_floats(a.dq, q_size);
        zero_floats(a.dk, kv_size);
        zero_floats(a.dv, kv_size);
        attention_state as = {ap, &a};
        attention_loss(&as);
        cpu()->attention_backward(a.dq, a.dk, a.dv, a.dout, a.q, a.k, a.v, a.out, a.lse,
                                  a.doc_start, (float)ap->scale, ap->window, ap->B, ap->T,
                                  ap->NH, ap->NKV, ap->HD);
        char what[64];
        g_snprintf(what, sizeof what, "%s dq", ap->name);
        check_finite_differences(what, a.q, a.dq, q_size, attention_loss, &as, fd_step, fd_tol);
        g_snprintf(what, sizeof what, "%s dk", ap->name);
        check_finite_differences(what, a.k, a.dk, kv_size, attention_loss, &as, fd_step, fd_tol);
        g_snprintf(what, sizeof what, "%s dv", ap->name);
        check_finite_differences(what, a.v, a.dv, kv_size, attention_loss, &as, fd_step, fd_tol);
        case_clear(&c);
    }

    const cross_entropy_params *ep = &cross_entropy_cases[0];
    cross_entropy_case e = make_cross_entropy(&c, ep);
    zero_floats(e.dhidden, (size_t)ep->N * ep->C);
    zero_floats(e.dweight, (size_t)ep->V * ep->C);
    cross_entropy_state es = {ep, &e};
    cross_entropy_loss(&es);
    cpu()->cross_entropy_backward(e.dhidden, e.dweight, e.dlosses, e.hidden, e.weight,
                                  ep->weight_type, e.targets, e.lse, ep->N, ep->C, ep->V);
    check_finite_differences("cross_entropy dhidden", e.hidden, e.dhidden, (size_t)ep->N * ep->C,
                             cross_entropy_loss, &es, fd_step, fd_tol);
    check_finite_differences("cross_entropy dweight", e.weight, e.dweight, (size_t)ep->V * ep->C,
                             cross_entropy_loss, &es, fd_step, fd_tol);
    case_clear(&c);
}

/* Dropout cannot match torch's generator, so it is checked for what it promises: the keep
 * rate, kept values scaled by exactly 1 / (1 - p), the backward on the same mask, a mask that
 * depends on the seed, and p = 0 as the identity. */
static void test_dropout(void)
{
    op_case c;
    case_init(&c, "dropout", "dropout");
    const size_t n = 200003;
    const float p = 0.1f, scale = 1.0f / (1.0f - p);
    const float *inp = case_floats(&c, "inp", n, 1.0);
    const float *dout = case_floats(&c, "dout", n, 1.0);
    const float *dinp_init = case_floats(&c, "dinp_init", n, 1.0);
    float *out = case_scratch(&c, "out", n), *dinp = case_scratch(&c, "dinp", n);
    memcpy(dinp, dinp_init, n * sizeof *dinp);
    cpu()->dropout_forward(out, inp, p, 1234, n);
    cpu()->dropout_backward(dinp, dout, p, 1234, n);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        bool keep = out[i] != 0.0f;
        kept += keep;
        g_assert_cmpfloat(out[i], ==, keep ? inp[i] * scale : 0.0f);
        g_assert_cmpfloat(dinp[i], ==, keep ? dinp_init[i] + dout[i] * scale : dinp_init[i]);
    }
    double rate = (double)kept / (double)n, sigma = sqrt(p * (1.0 - p) / (double)n);
    g_test_message("dropout p %.2f: kept %.5f (expected %.5f +- %.5f)", p, rate, 1.0 - p, sigma);
    g_assert_cmpfloat(fabs(rate - (1.0 - p)), <, 5 * sigma);

    float *other = case_scratch(&c, "other", n);
    cpu()->dropout_forward(other, inp, p, 1235, n);
    size_t differ = 0;
    for (size_t i = 0; i < n; i++)
        differ += (other[i] != 0.0f) != (out[i] != 0.0f);
    /* two independent masks differ in 2 p (1 - p) of the elements */
    g_assert_cmpfloat(fabs((double)differ / (double)n - 2 * p * (1 - p)), <, 0.01);

    cpu()->dropout_forward(other, inp, 0.0f, 1234, n);
    g_assert_cmpmem(other, n * sizeof(float), inp, n * sizeof(float));
    case_clear(&c);
}

/* A copy of an op's result, to compare runs. */
typedef struct {
    float *data;
    size_t n;
} snapshot;

static snapshot snap(const float *x, size_t n)
{
    snapshot copy = {g_memdup2(x, n * sizeof *x), n};
    return copy;
}

/* The ops with reductions of their own give the same bits on 1 thread and on 3. */
static void test_thread_count_independence(void)
{
    enum { RESULTS = 7 };
    int threads[2] = {1, 3};
    snapshot results[2][RESULTS];
    for (int run = 0; run < 2; run++) {
        omp_set_num_threads(threads[run]);
        op_case c;
        const rmsnorm_params *rp = &rmsnorm_cases[1];
        rmsnorm_case r = make_rmsnorm(&c, rp);
        cpu()->rmsnorm_forward(r.out, r.rstd, r.inp, r.weight, (float)rp->eps, rp->N, rp->C);
        cpu()->rmsnorm_backward(r.dinp, r.dweight, r.dout, r.inp, r.weight, r.rstd, rp->N, rp->C);
        results[run][0] = snap(r.dinp, (size_t)rp->N * rp->C);
        results[run][1] = snap(r.dweight, (size_t)rp->C);
        case_clear(&c);

        const embedding_params *ep = &embedding_cases[0];
        embedding_case e = make_embedding(&c, ep);
        cpu()->embedding_backward(e.dtable, e.dout, e.ids, ep->N, ep->C);
        results[run][2] = snap(e.dtable, (size_t)ep->V * ep->C);
        float sum_squares = 0.0f;
        cpu()->norm_squared_accumulate(&sum_squares, e.dtable, (size_t)ep->V * ep->C);
        results[run][3] = snap(&sum_squares, 1);
        case_clear(&c);

        const attention_params *ap = &attention_cases[2];
        attention_case a = make_attention(&c, ap);
        size_t tokens = (size_t)ap->B * ap->T;
        cpu()->attention_forward(a.out, a.lse, a.q, a.k, a.v, a.doc_start, (float)ap->scale,
                                 ap->window, ap->B, ap->T, ap->NH, ap->NKV, ap->HD);
        cpu()->attention_backward(a.dq, a.dk, a.dv, a.dout, a.q, a.k, a.v, a.out, a.lse,
                                  a.doc_start, (float)ap->scale, ap->window, ap->B, ap->T,
                                  ap->NH, ap->NKV, ap->HD);
        results[run][4] = snap(a.out, tokens * ap->NH * ap->HD);
        results[run][5] = snap(a.dq, tokens * ap->NH * ap->HD);
        results[run][6] = snap(a.dk, tokens * ap->NKV * ap->HD);
        case_clear(&c);
    }
    omp_set_num_threads(omp_get_num_procs());
    for (int i = 0; i < RESULTS; i++) {
        g_assert_cmpmem(results[0][i].data, results[0][i].n * sizeof(float), results[1][i].data,
                        results[1][i].n * sizeof(float));
        g_free(results[0][i].data);
        g_free(results[1][i].data);
    }
}

/* inv_freq and the attention factor from config.json as Hone reads it, against transformers
 * on the same file. */
static void test_rope_tables(gconstpointer data)
{
    const rope_table_params *p = data;
    const char *root = reference_root();
    op_case c;
    make_rope_table(&c, p);
    char *config_path = g_build_filename(reference_root(), p->name, "config.bin", NULL);
    hn_model_config config;
    hn_error err = {0};
    if (hn_model_config_load(config_path, &config, &err) != HN_OK)
        g_error("%s", err.message);
    size_t half = (size_t)config.head_dim / 2;
    float *inv_freq = g_new(float, half);
    float attention_factor = 0;
    hn_rope_frequencies(&config, p->seq_len, inv_freq, &attention_factor);
    /* transformers computes in fp32, Hone in double rounded once: a few fp32 ulps apart */
    const tolerance tol_table = {0, 1e-6, 1e-12};
    check_close(root, &c, "inv_freq", inv_freq, half, tol_table);
    char *tables_path = g_build_filename(root, p->name, "expected", "tables.json", NULL);
    cJSON *tables = test_load_json(tables_path);
    double want = cJSON_GetObjectItem(tables, "attention_factor")->valuedouble;
    g_test_message("%s attention factor: hone %.9g, transformers %.9g", p->name,
                   attention_factor, want);
    g_assert_cmpfloat_with_epsilon(attention_factor, want, 1e-6 * want);
    g_assert_cmpstr(cJSON_GetObjectItem(tables, "rope_type")->valuestring, ==,
                    hn_rope_type_name(config.rope.type));
    cJSON_Delete(tables);
    g_free(tables_path);
    g_free(inv_freq);
    g_free(config_path);
    case_clear(&c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
#define ADD_TESTS(TABLE, FUNC)                                                              \
    for (size_t i = 0; i < G_N_ELEMENTS(TABLE); i++) {                                     \
        char *path = g_strdup_printf("/kernels/cpu/%s", TABLE[i].name);                   \
        g_test_add_data_func(path, &TABLE[i], FUNC);                                       \
        g_free(path);                                                                      \
    }
    ADD_TESTS(matmul_cases, test_matmul)
    ADD_TESTS(embedding_cases, test_embedding)
    ADD_TESTS(rmsnorm_cases, test_rmsnorm)
    ADD_TESTS(swiglu_cases, test_swiglu)
    ADD_TESTS(rope_cases, test_rope)
    ADD_TESTS(attention_cases, test_attention)
    ADD_TESTS(cross_entropy_cases, test_cross_entropy)
    ADD_TESTS(adamw_cases, test_adamw)
#undef ADD_TESTS
    g_test_add_func("/kernels/cpu/finite_differences", test_finite_differences);
    g_test_add_func("/kernels/cpu/dropout", test_dropout);
    g_test_add_func("/kernels/cpu/thread_count_independence", test_thread_count_independence);
    for (size_t i = 0; i < G_N_ELEMENTS(rope_table_cases); i++) {
        char *path = g_strdup_printf("/engine/rope_freq/%s", rope_table_cases[i].name);
        g_test_add_data_func(path, &rope_table_cases[i], test_rope_tables);
        g_free(path);
    }
    int status = g_test_run();
    if (reference_folder != NULL && status == 0) /* kept after a failure, for a look at the data */
        test_remove_tree(reference_folder);
    g_free(reference_folder);
    return status;
}
