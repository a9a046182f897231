/* The int8 decode mode (decode_activations: int8, engine/model_decode.h) end to end on the real
 * SmolLM2-135M-Instruct Q4_1 GGUF. One model, two key/value decoders: the fp32 one decodes
 * greedily, the int8 one is fed the same tokens (teacher forcing), and their next-token
 * logits are compared at every step:
 * - the prefill (several tokens at once) is unchanged by the mode: bitwise equal logits;
 * - every one-token step differs (the int8 kernels ran) but by at most INT8_MAX_ABS_LOGIT in
 *   any logit (measured 1.01-1.09, the largest |logit| being 41.6); the relative L2 error of a
 *   step's logits is at most INT8_MEDIAN_RELATIVE_L2 in the median step (measured 0.027) and
 *   INT8_MAX_RELATIVE_L2 in the worst (measured 0.08-0.12; the steps' errors are heavy-tailed
 *   and move with the last bit of the kernels' rounding): the input of each of the 211
 *   products of a token (7 per layer x 30, the LM head) is rounded to 8 bits per block of 32,
 *   about 0.4% of each product's output (test_weight_blocks), and sqrt(211) x 0.4% is 6%;
 * - the int8 top-1 token equals the fp32 one in at least INT8_MIN_TOP1 of the steps
 *   (measured 63 of 64; a step whose top two logits are closer than the error may flip).
 * Also: a model without GGUF block weights (bf16 safetensors) reports that int8 changes
 * nothing, and the chat key's values are checked. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "chat_args.h"
#include "gguf_tokenizer.h"
#include "model_decode.h"
#include "model_open.h"
#include "test_util.h"

enum { STEPS = 64 };
#define INT8_MAX_ABS_LOGIT 2.5
#define INT8_MEDIAN_RELATIVE_L2 0.06
#define INT8_MAX_RELATIVE_L2 0.3
#define INT8_MIN_TOP1 60

static char *model_path;

static int argmax(const float *x, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return best;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void append(hn_kv_decoder *decoder, hn_model *model, hn_decode_activations mode,
                   const int32_t *ids, int n, float *logits)
{
    hn_error err = {0};
    g_assert_true(hn_model_set_decode_activations(model, mode));
    if (hn_kv_decoder_append(decoder, ids, n, logits, false, &err) != HN_OK)
        g_error("append: %s", err.message);
}

static void test_smollm_logits(void)
{
    hn_error err = {0};
    hn_model_dir *dir = NULL;
    hn_tokenizer *tok = NULL;
    hn_model *model = NULL;
    hn_kv_decoder *exact = NULL, *quantized = NULL;
    if (hn_model_dir_open(model_path, &dir, &err) != HN_OK ||
        hn_tokenizer_load_model(model_path, &tok, &err) != HN_OK ||
        hn_model_open_inference(dir, NULL, NULL, &model, &err) != HN_OK ||
        hn_kv_decoder_new(model, &exact, &err) != HN_OK ||
        hn_kv_decoder_new(model, &quantized, &err) != HN_OK)
        g_error("%s: %s", model_path, err.message);
    const char *text = "<|im_start|>user\nWrite a long story about a robot who learns to paint."
                       "<|im_end|>\n<|im_start|>assistant\n";
    int32_t *prompt = NULL;
    size_t n_prompt = 0;
    g_assert_cmpint(hn_tokenizer_encode(tok, text, strlen(text), false, &prompt, &n_prompt, &err),
                    ==, HN_OK);
    int V = (int)hn_model_get_config(model)->vocab_size;
    float *want = g_new(float, V), *got = g_new(float, V);
    append(exact, model, HN_DECODE_FP32, prompt, (int)n_prompt, want);
    append(quantized, model, HN_DECODE_INT8, prompt, (int)n_prompt, got);
    g_assert_cmpmem(got, V * sizeof(float), want, V * sizeof(float));

    double worst = 0, worst_l2 = 0, largest = 0, relative_l2[STEPS];
    int same_top1 = 0;
    for (int step = 0; step < STEPS; step++) {
        int32_t next = argmax(want, V); /* the fp32 greedy token feeds both */
        append(exact, model, HN_DECODE_FP32, &next, 1, want);
        append(quantized, model, HN_DECODE_INT8, &next, 1, got);
        double step_diff = 0, diff2 = 0, want2 = 0;
        for (int v = 0; v < V; v++) {
            g_assert_true(isfinite(got[v]));
            double diff = (double)got[v] - want[v];
            step_diff = fmax(step_diff, fabs(diff));
            largest = fmax(largest, fabs(want[v]));
            diff2 += diff * diff;
            want2 += (double)want[v] * want[v];
        }
        g_assert_cmpfloat(step_diff, >, 0); /* the int8 path ran */
        worst = fmax(worst, step_diff);
        relative_l2[step] = sqrt(diff2 / want2);
        worst_l2 = fmax(worst_l2, relative_l2[step]);
        same_top1 += argmax(got, V) == argmax(want, V);
    }
    qsort(relative_l2, STEPS, sizeof *relative_l2, compare_doubles);
    double median_l2 = 0.5 * (relative_l2[STEPS / 2 - 1] + relative_l2[STEPS / 2]);
    g_test_message("int8 vs fp32 over %d steps: max |logit diff| %.4f (largest |logit| %.2f), "
                   "relative L2 of a step's logits: median %.2e, largest %.2e; same top-1 in %d "
                   "steps", STEPS, worst, largest, median_l2, worst_l2, same_top1);
    g_assert_cmpfloat(median_l2, <=, INT8_MEDIAN_RELATIVE_L2);
    g_assert_cmpfloat(worst_l2, <=, INT8_MAX_RELATIVE_L2);
    g_assert_cmpfloat(worst, <=, INT8_MAX_ABS_LOGIT);
    g_assert_cmpint(same_top1, >=, INT8_MIN_TOP1);

    g_free(want);
    g_free(got);
    g_free(prompt);
    hn_kv_decoder_free(exact);
    hn_kv_decoder_free(quantized);
    hn_model_free(model);
    hn_tokenizer_free(tok);
    hn_model_dir_close(dir);
}

/* A bf16 safetensors model has no block weights: int8 is refused as a no-op, fp32 accepted. */
static void test_no_block_weights(void)
{
    char *dir_path = test_make_tmpdir();
    test_make_tiny_llama(dir_path, 1 << 30);
    hn_error err = {0};
    hn_model_dir *dir = NULL;
    hn_model *model = NULL;
    if (hn_model_dir_open(dir_path, &dir, &err) != HN_OK ||
        hn_model_open_inference(dir, NULL, NULL, &model, &err) != HN_OK)
        g_error("%s: %s", dir_path, err.message);
    g_assert_false(hn_model_set_decode_activations(model, HN_DECODE_INT8));
    g_assert_true(hn_model_set_decode_activations(model, HN_DECODE_FP32));
    hn_model_free(model);
    hn_model_dir_close(dir);
    test_remove_tree(dir_path);
    g_free(dir_path);
}

static void test_chat_key(void)
{
    hn_chat_args args;
    hn_chat_args_init(&args);
    hn_error err = {0};
    g_assert_cmpint(args.decode_activations, ==, HN_DECODE_FP32);
    g_assert_cmpint(hn_chat_args_set(&args, "decode_activations", "int8", "chat.yaml", &err), ==,
                    HN_OK);
    g_assert_cmpint(args.decode_activations, ==, HN_DECODE_INT8);
    g_assert_cmpint(hn_chat_args_set(&args, "decode_activations", "int4", "chat.yaml", &err), ==,
                    HN_ERR_ARGUMENT);
    g_assert_cmpstr(err.message, ==,
                    "chat.yaml: decode_activations must be fp32 or int8, found \"int4\"");
    hn_chat_args_clear(&args);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/decode_int8/chat_key", test_chat_key);
    g_test_add_func("/decode_int8/no_block_weights", test_no_block_weights);
    g_test_add_func("/decode_int8/smollm_logits", test_smollm_logits);
    model_path = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
    int result = g_test_run();
    g_free(model_path);
    return result;
}
