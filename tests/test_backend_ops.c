/* The CPU backend's ops, forward and backward, against PyTorch autograd in float64
 * (tests/reference/backend_ops_ref.py), and the RoPE tables of engine/rope_freq.c against
 * transformers' ROPE_INIT_FUNCTIONS. Inputs are random (fixed seeds, never zero; see
 * backend_cases.h); every comparison states its tolerance and prints what it measured; NaN
 * and Inf never pass. Needs the venv from tests/setup-venv.sh. */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "backend.h"
#include "backend_cases.h"
#include "hf_config.h"
#include "rope_freq.h"
#include "test_util.h"

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

/* Tolerances, fp32 compute against float64 (see `tolerance`), about ten times the largest
 * errors measured on x86-64 with OpenBLAS 0.3.21 (max abs err over rms; NMSE):
 * matmul 2.5e-6, 1e-13; attention 5.8e-6, 5.8e-14 (dv sums p * dout over every query);
 * cross-entropy 1.3e-5, 6.7e-13 (dweight sums over 1638 rows); the other ops 1.2e-6,
 * 5e-14. */
static const tolerance tol_gemm = {2e-5, 1e-5, 1e-12};
static const tolerance tol_attention = {5e-5, 1e-5, 5e-13};
static const tolerance tol_cross_entropy = {1e-4, 1e-5, 4e-12};
static const tolerance tol_ops = {1e-5, 1e-5, 1e-12};

/* ---- RoPE tables: config.json files that Hone and transformers both read --------------- */

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

/* ---- the reference, run once over every case ------------------------------------------ */

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
    WRITE_CASES(dora_cases, make_dora)
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

static void test_dora(gconstpointer data)
{
    const dora_params *p = data;
    const char *root = reference_root();
    op_case c;
    dora_case d = make_dora(&c, p);
    cpu()->dora_norm_forward(d.norm, d.weight, p->weight_type, d.lora_a, d.lora_b,
                             (float)p->scaling, p->C, p->OC, p->r);
    cpu()->dora_scale_forward(d.out, d.inp, d.magnitude, d.norm, d.bias, p->N, p->OC);
    cpu()->dora_scale_backward(d.dinp, d.dmagnitude, d.dbias, d.dout, d.inp, d.magnitude, d.norm,
                               p->N, p->OC);
    size_t n = (size_t)p->N * p->OC;
    check_close(root, &c, "norm", d.norm, (size_t)p->OC, tol_ops);
    check_close(root, &c, "out", d.out, n, tol_ops);
    check_close(root, &c, "dinp", d.dinp, n, tol_ops);
    check_close(root, &c, "dmagnitude", d.dmagnitude, (size_t)p->OC, tol_ops);
    if (d.dbias != NULL)
        check_close(root, &c, "dbias", d.dbias, (size_t)p->OC, tol_ops);
    /* In place gives the same bits. */
    float *in_place = g_memdup2(d.inp, n * sizeof(float));
    cpu()->dora_scale_forward(in_place, in_place, d.magnitude, d.norm, d.bias, p->N, p->OC);
    g_assert_cmpmem(in_place, n * sizeof(float), d.out, n * sizeof(float));
    g_free(in_place);
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
    ADD_TESTS(dora_cases, test_dora)
    ADD_TESTS(adamw_cases, test_adamw)
#undef ADD_TESTS
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
