/* Inference with a key/value cache (engine/model_decode.h) on tiny random models of each family
 * (tests/reference/generate_ref.py tiny: llama, llama with dynamic RoPE, qwen2 with biases and
 * tied embeddings, qwen3 with q/k norms, mistral with a sliding window of 5, llama + a PEFT
 * LoRA adapter, qwen2 + a PEFT DoRA adapter):
 * - greedy decoding one token at a time gives transformers' greedy generate ids exactly;
 * - the logits of every step equal Hone's full forward over the whole sequence at that
 *   position (max |diff| / max |logit| <= 2e-5; the full forward is itself checked against
 *   transformers in test_model.c), with the prompt appended in two pieces and a 300-token
 *   sequence that crosses the prefill chunk;
 * - the backend's attention_cached_forward against a plain double-precision loop (1e-5).
 * Tolerance: fp32 on both sides, only the summation order differs. */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "model_decode.h"
#include "model_open.h"
#include "test_util.h"

#define DECODE_TOLERANCE 2e-5

static char *reference_dir;

static int32_t *json_ids(const cJSON *array, int *n)
{
    *n = cJSON_GetArraySize(array);
    int32_t *ids = g_new(int32_t, *n);
    for (int i = 0; i < *n; i++)
        ids[i] = (int32_t)cJSON_GetArrayItem(array, i)->valuedouble;
    return ids;
}

static hn_model *open_case(const char *name, hn_model_dir **dir)
{
    hn_error err = {0};
    char *model_path = g_build_filename(reference_dir, name, "model", NULL);
    char *adapter = g_build_filename(reference_dir, name, "adapter", NULL);
    hn_model *model = NULL;
    if (hn_model_dir_open(model_path, dir, &err) != HN_OK ||
        hn_model_open_inference(*dir, g_file_test(adapter, G_FILE_TEST_IS_DIR) ? adapter : NULL,
                                NULL, &model, &err) != HN_OK)
        g_error("%s: %s", name, err.message);
    g_free(model_path);
    g_free(adapter);
    return model;
}

static int argmax(const float *x, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return best;
}

/* The full forward's logits [n, V] of ids. */
static float *full_logits(hn_model *model, const int32_t *ids, int n)
{
    hn_error err = {0};
    int V = (int)hn_model_get_config(model)->vocab_size;
    hn_batch batch = {ids, NULL, NULL, NULL, 1, n};
    float *logits = g_new(float, (size_t)n * V);
    if (hn_model_forward(model, &batch, NULL, NULL, &err) != HN_OK ||
        hn_model_logits(model, logits, &err) != HN_OK)
        g_error("forward: %s", err.message);
    return logits;
}

static void test_family(gconstpointer data)
{
    const char *name = data;
    hn_error err = {0};
    hn_model_dir *dir = NULL;
    hn_model *model = open_case(name, &dir);
    char *path = g_build_filename(reference_dir, name, "expected.json", NULL);
    cJSON *expected = test_load_json(path);
    int n_prompt = 0, n_new = 0;
    int32_t *prompt = json_ids(cJSON_GetObjectItem(expected, "prompt"), &n_prompt);
    int32_t *want = json_ids(cJSON_GetObjectItem(expected, "generated"), &n_new);
    int V = (int)hn_model_get_config(model)->vocab_size, total = n_prompt + n_new;

    hn_kv_decoder *decoder = NULL;
    g_assert_cmpint(hn_kv_decoder_new(model, &decoder, &err), ==, HN_OK);
    /* logits[t] predicts token t + 1 of the sequence prompt + generated */
    float *logits = g_new(float, (size_t)total * V);
    int32_t *sequence = g_new(int32_t, total);
    memcpy(sequence, prompt, (size_t)n_prompt * sizeof *prompt);
    int split = n_prompt / 2; /* two appends: the second at an offset */
    g_assert_cmpint(hn_kv_decoder_append(decoder, prompt, split, logits, true, &err), ==, HN_OK);
    g_assert_cmpint(hn_kv_decoder_append(decoder, prompt + split, n_prompt - split,
                                      logits + (size_t)split * V, true, &err), ==, HN_OK);
    for (int i = 0; i < n_new; i++) {
        int position = n_prompt + i;
        sequence[position] = argmax(logits + (size_t)(position - 1) * V, V);
        g_assert_cmpint(hn_kv_decoder_append(decoder, &sequence[position], 1,
                                          logits + (size_t)position * V, false, &err), ==, HN_OK);
    }
    for (int i = 0; i < n_new; i++)
        if (sequence[n_prompt + i] != want[i])
            g_error("%s: new token %d is %d, transformers' greedy generate has %d", name, i,
                    sequence[n_prompt + i], want[i]);
    g_assert_cmpint(hn_kv_decoder_length(decoder), ==, total);

    float *full = full_logits(model, sequence, total);
    double worst = 0;
    for (int t = 0; t < total; t++)
        worst = fmax(worst, test_relative_error(logits + (size_t)t * V, full + (size_t)t * V,
                                                (size_t)V));
    g_test_message("%s: %d tokens equal transformers' greedy generate; cached logits vs full "
                   "forward, worst position error %.2g", name, n_new, worst);
    g_assert_cmpfloat(worst, <=, DECODE_TOLERANCE);

    /* reusing a prefix: truncate to the prompt and run the answer again in one go */
    hn_kv_decoder_truncate(decoder, n_prompt);
    g_assert_cmpint(hn_kv_decoder_common_prefix(decoder, sequence, total), ==, n_prompt);
    g_assert_cmpint(hn_kv_decoder_append(decoder, sequence + n_prompt, n_new,
                                      logits + (size_t)n_prompt * V, true, &err), ==, HN_OK);
    double again = test_relative_error(logits + (size_t)n_prompt * V,
                                       full + (size_t)n_prompt * V, (size_t)n_new * V);
    g_assert_cmpfloat(again, <=, DECODE_TOLERANCE);

    g_free(full);
    g_free(sequence);
    g_free(logits);
    hn_kv_decoder_free(decoder);
    g_free(prompt);
    g_free(want);
    cJSON_Delete(expected);
    g_free(path);
    hn_model_free(model);
    hn_model_dir_close(dir);
}

/* 300 tokens: the prefill runs in chunks, decoding continues past max_position_embeddings. */
static void test_long_sequence(void)
{
    hn_error err = {0};
    hn_model_dir *dir = NULL;
    hn_model *model = open_case("mistral", &dir);
    int V = (int)hn_model_get_config(model)->vocab_size, n = 300, prefill = 290;
    int32_t *ids = g_new(int32_t, n);
    test_random_bytes(ids, (size_t)n * sizeof *ids, 5);
    for (int i = 0; i < n; i++)
        ids[i] = (int32_t)((uint32_t)ids[i] % (uint32_t)V);
    float *logits = g_new(float, (size_t)n * V);
    hn_kv_decoder *decoder = NULL;
    g_assert_cmpint(hn_kv_decoder_new(model, &decoder, &err), ==, HN_OK);
    g_assert_cmpint(hn_kv_decoder_append(decoder, ids, prefill, logits, true, &err), ==, HN_OK);
    for (int t = prefill; t < n; t++)
        g_assert_cmpint(hn_kv_decoder_append(decoder, ids + t, 1, logits + (size_t)t * V, false,
                                          &err), ==, HN_OK);
    float *full = full_logits(model, ids, n);
    double error = test_relative_error(logits, full, (size_t)n * V);
    g_test_message("300 tokens (chunked prefill, window 5): error %.2g", error);
    g_assert_cmpfloat(error, <=, DECODE_TOLERANCE);
    g_free(full);
    g_free(logits);
    g_free(ids);
    hn_kv_decoder_free(decoder);
    hn_model_free(model);
    hn_model_dir_close(dir);
}

/* attention_cached_forward against softmax(q k^T scale) v in double, per query and head. */
static void check_attention(int past, int T, int NH, int NKV, int HD, int window)
{
    const hn_backend *be = hn_cpu_backend();
    int S = past + T;
    size_t nq = (size_t)T * NH * HD, nk = (size_t)S * NKV * HD;
    float *q = g_new(float, nq), *k = g_new(float, nk), *v = g_new(float, nk),
          *out = g_new(float, nq), *want = g_new(float, nq);
    uint32_t *bits = g_new(uint32_t, nq + 2 * nk);
    test_random_bytes(bits, (nq + 2 * nk) * sizeof *bits, (guint32)(past * 31 + T));
    float *all[] = {q, k, v};
    size_t sizes[] = {nq, nk, nk}, at = 0;
    for (int a = 0; a < 3; a++)
        for (size_t i = 0; i < sizes[a]; i++)
            all[a][i] = (float)((double)bits[at++] / 4294967296.0 * 4.0 - 2.0);
    float scale = 1.0f / sqrtf((float)HD);
    be->attention_cached_forward(out, q, k, v, scale, window, past, T, NH, NKV, HD);
    double *p = g_new(double, S);
    for (int t = 0; t < T; t++) {
        int position = past + t, first = window > 0 ? MAX(0, position - window + 1) : 0;
        for (int h = 0; h < NH; h++) {
            int kv = h / (NH / NKV);
            const float *qr = q + ((size_t)t * NH + h) * HD;
            double max = -INFINITY, sum = 0;
            for (int s = first; s <= position; s++) {
                double dot = 0;
                for (int d = 0; d < HD; d++)
                    dot += (double)qr[d] * k[((size_t)s * NKV + kv) * HD + d];
                p[s] = dot * scale;
                max = fmax(max, p[s]);
            }
            for (int s = first; s <= position; s++)
                sum += p[s] = exp(p[s] - max);
            for (int d = 0; d < HD; d++) {
                double o = 0;
                for (int s = first; s <= position; s++)
                    o += p[s] / sum * v[((size_t)s * NKV + kv) * HD + d];
                want[((size_t)t * NH + h) * HD + d] = (float)o;
            }
        }
    }
    double error = test_relative_error(out, want, nq);
    g_test_message("attention_cached_forward past %d, T %d, NH %d, NKV %d, HD %d, window %d: "
                   "error %.2g", past, T, NH, NKV, HD, window, error);
    g_assert_cmpfloat(error, <=, 1e-5);
    g_free(p);
    g_free(bits);
    g_free(q);
    g_free(k);
    g_free(v);
    g_free(out);
    g_free(want);
}

static void test_attention_op(void)
{
    check_attention(0, 70, 4, 2, 16, 0);    /* prefill over two query blocks */
    check_attention(37, 1, 6, 3, 32, 0);    /* one new token, grouped heads */
    check_attention(100, 5, 4, 4, 8, 0);
    check_attention(50, 9, 4, 1, 16, 7);    /* sliding window */
    check_attention(0, 130, 2, 2, 16, 20);
    /* one decoded token over several chunks of keys (flash-decoding's split and merge) */
    check_attention(300, 1, 9, 3, 64, 0);
    check_attention(200, 1, 4, 2, 128, 0);
    check_attention(250, 1, 6, 2, 24, 100); /* a width that is no multiple of 16, a window */
    check_attention(63, 1, 2, 1, 64, 0);    /* exactly one chunk */
    check_attention(64, 1, 2, 1, 64, 0);    /* one key past it */
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/decode/attention_cached_op", test_attention_op);
    const char *families[] = {"llama", "llama_dynamic", "qwen2", "qwen3", "mistral", "lora",
                              "dora"};
    char *paths[G_N_ELEMENTS(families)];
    for (size_t i = 0; i < G_N_ELEMENTS(families); i++) {
        paths[i] = g_strdup_printf("/decode/%s", families[i]);
        g_test_add_data_func(paths[i], families[i], test_family);
    }
    g_test_add_func("/decode/long_sequence", test_long_sequence);
    reference_dir = test_make_tmpdir();
    char *tiny = g_build_filename(reference_dir, "tiny", NULL);
    test_run_reference("generate_ref.py", "tiny", tiny);
    g_free(reference_dir);
    reference_dir = tiny;
    int result = g_test_run();
    char *parent = g_path_get_dirname(reference_dir);
    test_remove_tree(parent);
    g_free(parent);
    g_free(reference_dir);
    for (size_t i = 0; i < G_N_ELEMENTS(families); i++)
        g_free(paths[i]);
    return result;
}
