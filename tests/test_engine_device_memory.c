/* The engine never reads or writes device memory from the host: a tiny random Llama trained
 * (full; LoRA with dropout; DoRA with dropout: forward, backward, gradient norm and clipping,
 * AdamW) and decoded with a key/value cache on the offset backend (offset_backend.h: device
 * pointers the host cannot dereference, a fault at the first touch) gives, bit for bit, the
 * CPU backend's losses, gradients, parameters, log-probabilities and logits; so does decoding
 * the real SmolLM2 GGUF kept in Q4_1 / Q8_0 blocks (fp32 and int8 activations), and its
 * evaluation loss. What a CUDA
 * backend needs of the engine, checked without a GPU. */
#include <math.h>
#include <string.h>

#include "dtype.h"
#include "model.h"
#include "model_decode.h"
#include "model_dir.h"
#include "offset_backend.h"
#include "optimizer.h"
#include "safetensors.h"
#include "test_util.h"

enum { V = 96, HIDDEN = 32, FFN = 48, LAYERS = 2, HEADS = 4, KV_HEADS = 2 };

static const char *tiny_config =
    "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", "
    "\"vocab_size\": 96, \"hidden_size\": 32, \"intermediate_size\": 48, "
    "\"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"num_key_value_heads\": 2, "
    "\"max_position_embeddings\": 128, \"rms_norm_eps\": 1e-05, \"rope_theta\": 10000.0, "
    "\"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\", "
    "\"bos_token_id\": 1, \"eos_token_id\": 2}\n";

static char *model_folder;
static hn_model_dir *model_dir;

/* dir/model.safetensors in bf16 (frozen weights stay bf16 on the backend): matrices uniform
 * in +-[0.02, 0.3], norm weights 1 +- 0.1, from a fixed seed. */
static void write_tiny_model(const char *dir)
{
    static const struct {
        const char *suffix;
        int rows, cols; /* cols 0: a norm weight */
    } layer[] = {
        {"input_layernorm.weight", HIDDEN, 0},
        {"self_attn.q_proj.weight", HIDDEN, HIDDEN},
        {"self_attn.k_proj.weight", HIDDEN / HEADS * KV_HEADS, HIDDEN},
        {"self_attn.v_proj.weight", HIDDEN / HEADS * KV_HEADS, HIDDEN},
        {"self_attn.o_proj.weight", HIDDEN, HIDDEN},
        {"post_attention_layernorm.weight", HIDDEN, 0},
        {"mlp.gate_proj.weight", FFN, HIDDEN},
        {"mlp.up_proj.weight", FFN, HIDDEN},
        {"mlp.down_proj.weight", HIDDEN, FFN},
    };
    enum { MAX_TENSORS = 3 + LAYERS * G_N_ELEMENTS(layer) };
    hn_st_tensor tensors[MAX_TENSORS];
    char *names[MAX_TENSORS];
    int n = 0;
    GRand *rand = g_rand_new_with_seed(4242);
#define ADD(NAME, ROWS, COLS)                                                                   \
    do {                                                                                        \
        int64_t numel_ = (int64_t)(ROWS) * ((COLS) ? (COLS) : 1);                               \
        uint16_t *bits_ = g_new(uint16_t, numel_);                                              \
        for (int64_t i_ = 0; i_ < numel_; i_++) {                                               \
            double x_ = (COLS) ? g_rand_double_range(rand, 0.02, 0.3) *                         \
                                     (g_rand_boolean(rand) ? 1 : -1)                            \
                               : 1.0 + g_rand_double_range(rand, -0.1, 0.1);                    \
            bits_[i_] = hn_f32_to_bf16((float)x_);                                              \
        }                                                                                       \
        names[n] = (NAME);                                                                      \
        tensors[n] = (hn_st_tensor){.name = names[n], .dtype = HN_DTYPE_BF16,                   \
                                    .ndim = (COLS) ? 2 : 1, .shape = {(ROWS), (COLS)},          \
                                    .numel = numel_, .nbytes = (uint64_t)numel_ * 2,            \
                                    .data = bits_};                                             \
        n++;                                                                                    \
    } while (0)
    ADD(g_strdup("model.embed_tokens.weight"), V, HIDDEN);
    for (int l = 0; l < LAYERS; l++)
        for (size_t i = 0; i < G_N_ELEMENTS(layer); i++)
            ADD(g_strdup_printf("model.layers.%d.%s", l, layer[i].suffix), layer[i].rows,
                layer[i].cols);
    ADD(g_strdup("model.norm.weight"), HIDDEN, 0);
    ADD(g_strdup("lm_head.weight"), V, HIDDEN);
#undef ADD
    g_rand_free(rand);
    hn_error err = {0};
    char *path = g_build_filename(dir, "model.safetensors", NULL);
    hn_st_meta meta[] = {{"format", "pt"}};
    if (hn_st_write(path, tensors, (size_t)n, meta, 1, &err) != HN_OK)
        g_error("%s", err.message);
    g_free(path);
    path = g_build_filename(dir, "config.json", NULL);
    test_write_text(path, tiny_config);
    g_free(path);
    for (int i = 0; i < n; i++) {
        g_free(names[i]);
        g_free((void *)tensors[i].data);
    }
}

/* ---- what a run produced, in order, to compare two runs bit for bit ------------------- */

typedef struct {
    char *what;
    void *bytes;
    size_t size;
} result;

static void result_free(gpointer data)
{
    result *r = data;
    g_free(r->what);
    g_free(r->bytes);
    g_free(r);
}

static void record(GPtrArray *results, const void *bytes, size_t size, const char *format, ...)
    G_GNUC_PRINTF(4, 5);

static void record(GPtrArray *results, const void *bytes, size_t size, const char *format, ...)
{
    result *r = g_new(result, 1);
    va_list args;
    va_start(args, format);
    r->what = g_strdup_vprintf(format, args);
    va_end(args);
    r->bytes = g_memdup2(bytes, size);
    r->size = size;
    g_ptr_array_add(results, r);
}

static void check_ok(hn_status status, const hn_error *err, const char *what)
{
    if (status != HN_OK)
        g_error("%s: %s", what, err->message);
}

/* Every result of the offset run equals the CPU run's, bit for bit. */
static void compare_runs(const GPtrArray *cpu, const GPtrArray *offset)
{
    g_assert_cmpuint(cpu->len, ==, offset->len);
    size_t bytes = 0;
    for (guint i = 0; i < cpu->len; i++) {
        const result *a = cpu->pdata[i], *b = offset->pdata[i];
        g_assert_cmpstr(a->what, ==, b->what);
        g_assert_cmpuint(a->size, ==, b->size);
        if (memcmp(a->bytes, b->bytes, a->size) != 0)
            g_error("%s: the offset backend's result differs from the CPU's", a->what);
        bytes += a->size;
    }
    g_test_message("%u results (%zu bytes) equal bit for bit", cpu->len, bytes);
}

/* ---- training ------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    hn_train_method method;
    bool dora, recompute;
    float dropout;
} training_case;

static const training_case training_cases[] = {
    {"full", HN_METHOD_FULL, false, false, 0.0f},
    {"full_recompute", HN_METHOD_FULL, false, true, 0.0f},
    {"lora_dropout", HN_METHOD_LORA, false, false, 0.1f},
    {"dora_dropout", HN_METHOD_LORA, true, false, 0.1f},
};

enum { B = 2, T = 14, STEPS = 2 };

/* Two optimizer steps of batches with labels (row 0 packs two documents), everything the
 * model shows recorded. */
static void train(const hn_backend *backend, const training_case *tc, GPtrArray *results)
{
    hn_error err = {0};
    hn_model_options options;
    hn_model_options_init(&options);
    options.backend = backend;
    options.method = tc->method;
    options.recompute = tc->recompute;
    options.lora_rank = 4;
    options.lora_alpha = 8;
    options.lora_dropout = tc->dropout;
    options.use_dora = tc->dora;
    options.seed = 11;
    hn_model *model = NULL;
    check_ok(hn_model_new(model_dir, &options, &model, &err), &err, "hn_model_new");
    hn_optimizer_options optimizer_options;
    hn_optimizer_options_init(&optimizer_options);
    hn_lr_schedule_init(&optimizer_options.schedule, HN_LR_LINEAR, 1e-2, 0, STEPS);
    optimizer_options.weight_decay = 0.01;
    optimizer_options.max_grad_norm = 0.5; /* clips: the norm goes through the host */
    hn_optimizer *optimizer = NULL;
    check_ok(hn_optimizer_new(model, &optimizer_options, &optimizer, &err), &err,
             "hn_optimizer_new");

    int32_t ids[B * T], labels[B * T], positions[B * T], doc_start[B * T];
    GRand *rand = g_rand_new_with_seed(77);
    for (int i = 0; i < B * T; i++) {
        ids[i] = g_rand_int_range(rand, 0, V);
        labels[i] = i % T < 3 ? HN_IGNORE_INDEX : ids[i];
        int t = i % T, start = i < T && t >= 6 ? 6 : 0; /* row 0: documents of 6 and 8 */
        positions[i] = t - start;
        doc_start[i] = start;
    }
    g_rand_free(rand);
    hn_batch batch = {ids, labels, positions, doc_start, B, T};
    size_t n_params = hn_model_param_count(model);
    for (int step = 0; step < STEPS; step++) {
        double loss_sum = 0;
        int64_t n_targets = 0;
        check_ok(hn_model_forward(model, &batch, &loss_sum, &n_targets, &err), &err, "forward");
        record(results, &loss_sum, sizeof loss_sum, "step %d loss", step);
        float *logits = g_new(float, (size_t)B * T * V);
        check_ok(hn_model_logits(model, logits, &err), &err, "logits");
        record(results, logits, (size_t)B * T * V * sizeof(float), "step %d logits", step);
        check_ok(hn_model_target_logprobs(model, logits, &err), &err, "target_logprobs");
        record(results, logits, (size_t)B * T * sizeof(float), "step %d logprobs", step);
        g_free(logits);
        check_ok(hn_model_backward(model, 1.0f / (float)n_targets, &err), &err, "backward");
        for (size_t i = 0; i < n_params; i++) {
            hn_param_info info;
            hn_model_param_info(model, i, &info);
            if (!info.trained)
                continue;
            float *grad = g_new(float, info.numel);
            check_ok(hn_model_grad_read(model, i, grad, &err), &err, "grad_read");
            record(results, grad, info.numel * sizeof(float), "step %d grad %s", step, info.name);
            g_free(grad);
        }
        hn_step_report report;
        check_ok(hn_optimizer_step(optimizer, &report, &err), &err, "optimizer step");
        record(results, &report.grad_norm, sizeof report.grad_norm, "step %d grad_norm", step);
        for (size_t i = 0; i < n_params; i++) {
            hn_param_info info;
            hn_model_param_info(model, i, &info);
            if (!info.trained)
                continue;
            float *value = g_new(float, info.numel);
            check_ok(hn_model_param_read(model, i, value, &err), &err, "param_read");
            record(results, value, info.numel * sizeof(float), "step %d param %s", step,
                   info.name);
            g_free(value);
        }
    }
    if (backend == test_offset_backend())
        g_assert_cmpint(test_offset_backend_live(), >, 0); /* the model lives there */
    hn_optimizer_free(optimizer);
    hn_model_free(model);
    g_assert_cmpint(test_offset_backend_live(), ==, 0); /* and gave everything back */
}

static void test_training(gconstpointer data)
{
    const training_case *tc = data;
    GPtrArray *cpu = g_ptr_array_new_with_free_func(result_free);
    GPtrArray *offset = g_ptr_array_new_with_free_func(result_free);
    train(hn_cpu_backend(), tc, cpu);
    train(test_offset_backend(), tc, offset);
    compare_runs(cpu, offset);
    g_ptr_array_free(cpu, TRUE);
    g_ptr_array_free(offset, TRUE);
}

/* ---- decoding with a key/value cache --------------------------------------------------- */

enum { PROMPT = 7, NEW = 3 };
static const int32_t prompt[PROMPT] = {1, 17, 43, 5, 88, 60, 9};

/* Prefill and greedy decoding of a few tokens with a fresh key/value cache. */
static void decode_tokens(hn_model *model, const char *label, GPtrArray *results)
{
    hn_error err = {0};
    size_t vocabulary = (size_t)hn_model_get_config(model)->vocab_size;
    float *logits = g_new(float, PROMPT * vocabulary);
    hn_kv_decoder *decoder = NULL;
    check_ok(hn_kv_decoder_new(model, &decoder, &err), &err, "hn_kv_decoder_new");
    check_ok(hn_kv_decoder_append(decoder, prompt, PROMPT, logits, true, &err), &err, "prefill");
    record(results, logits, PROMPT * vocabulary * sizeof(float), "%s: prefill logits", label);
    float *last = logits + (PROMPT - 1) * vocabulary;
    for (int i = 0; i < NEW; i++) {
        int32_t next = 0; /* greedy */
        for (size_t v = 1; v < vocabulary; v++)
            if (last[v] > last[next])
                next = (int32_t)v;
        check_ok(hn_kv_decoder_append(decoder, &next, 1, logits, false, &err), &err, "decode");
        last = logits;
        record(results, logits, vocabulary * sizeof(float), "%s: token %d logits", label, i);
    }
    hn_kv_decoder_free(decoder);
    g_free(logits);
}

/* The model of dir on backend, decoded. With blocks, its GGUF weights stay Q8_0 / Q4_1: an
 * evaluation loss (hone eval's forward with labels, the LM head in blocks), then decoding with
 * one-token products through block_matvec_group in fp32 and in int8 activations. */
static void decode(const hn_backend *backend, const hn_model_dir *dir, bool blocks,
                   GPtrArray *results)
{
    hn_error err = {0};
    hn_model_options options;
    hn_model_options_init(&options);
    options.backend = backend;
    options.keep_gguf_blocks = blocks;
    hn_model *model = NULL;
    check_ok(hn_model_new(dir, &options, &model, &err), &err, "hn_model_new");
    if (blocks) {
        size_t vocabulary = (size_t)hn_model_get_config(model)->vocab_size;
        int32_t labels[PROMPT] = {HN_IGNORE_INDEX, HN_IGNORE_INDEX, 43, 5, 88, 60, 9};
        hn_batch batch = {prompt, labels, NULL, NULL, 1, PROMPT};
        double loss_sum = 0;
        int64_t n_targets = 0;
        check_ok(hn_model_forward(model, &batch, &loss_sum, &n_targets, &err), &err, "forward");
        record(results, &loss_sum, sizeof loss_sum, "evaluation loss");
        float *logits = g_new(float, PROMPT * vocabulary);
        check_ok(hn_model_logits(model, logits, &err), &err, "logits");
        record(results, logits, PROMPT * vocabulary * sizeof(float), "evaluation logits");
        g_free(logits);
    }
    decode_tokens(model, "fp32", results);
    if (blocks) {
        g_assert_true(hn_model_set_decode_activations(model, HN_DECODE_INT8));
        decode_tokens(model, "int8", results);
    }
    if (backend == test_offset_backend())
        g_assert_cmpint(test_offset_backend_live(), >, 0);
    hn_model_free(model);
    g_assert_cmpint(test_offset_backend_live(), ==, 0);
}

static void compare_decoding(const hn_model_dir *dir, bool blocks)
{
    GPtrArray *cpu = g_ptr_array_new_with_free_func(result_free);
    GPtrArray *offset = g_ptr_array_new_with_free_func(result_free);
    decode(hn_cpu_backend(), dir, blocks, cpu);
    decode(test_offset_backend(), dir, blocks, offset);
    compare_runs(cpu, offset);
    g_ptr_array_free(cpu, TRUE);
    g_ptr_array_free(offset, TRUE);
}

static void test_decoding(void)
{
    compare_decoding(model_dir, false);
}

/* The real SmolLM2 GGUF (Q4_1 and Q8_0 matrices) kept in its blocks. */
static void test_decoding_gguf_blocks(void)
{
    char *path = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
    hn_model_dir *dir = NULL;
    hn_error err = {0};
    check_ok(hn_model_dir_open(path, &dir, &err), &err, path);
    compare_decoding(dir, true);
    hn_model_dir_close(dir);
    g_free(path);
}

/* The offset backend's pointers really cannot be read: a child process that dereferences one
 * dies of a signal (so the tests above would have crashed had the engine read one). */
static void test_offset_pointer_faults(void)
{
    if (g_test_subprocess()) {
        const hn_backend *offset = test_offset_backend();
        volatile float *p = offset->alloc(64);
        p[0] = 1.0f;
        return; /* not reached */
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_failed();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    model_folder = test_make_tmpdir();
    write_tiny_model(model_folder);
    hn_error err = {0};
    check_ok(hn_model_dir_open(model_folder, &model_dir, &err), &err, model_folder);
    g_test_add_func("/engine/device_memory/offset_pointer_faults", test_offset_pointer_faults);
    for (size_t i = 0; i < G_N_ELEMENTS(training_cases); i++) {
        char *path = g_strdup_printf("/engine/device_memory/train_%s", training_cases[i].name);
        g_test_add_data_func(path, &training_cases[i], test_training);
        g_free(path);
    }
    g_test_add_func("/engine/device_memory/decode", test_decoding);
    g_test_add_func("/engine/device_memory/decode_gguf_blocks", test_decoding_gguf_blocks);
    int status = g_test_run();
    hn_model_dir_close(model_dir);
    test_remove_tree(model_folder);
    g_free(model_folder);
    return status;
}
