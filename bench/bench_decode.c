/* Hone's side of bench/decode.py: greedy generation at batch 1 with the key/value cache
 * (hn_generate, as `hone chat` runs it), a fixed number of new tokens (no stop ids, so eos
 * does not end it). Each repeat empties the cache and runs the prompt again; prints one JSON
 * line with the median prefill and decode tokens per second over the timed repeats and the
 * ids generated (decode.py checks that both sides chose the same tokens), and the bytes of
 * weights one decoded token reads as Hone stores them (a GGUF's Q8_0 / Q4_1 blocks in place).
 *
 *   bench_decode MODEL NEW_TOKENS REPEATS ID[,ID...] [fp32|int8]
 *
 * The last argument is the decode_activations mode (model.h; fp32 when left out).
 *
 * Decode tokens/s counts the NEW_TOKENS - 1 tokens that ran one at a time (the first new token
 * comes from the prefill's logits), with the choice of each token included. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf_tokenizer.h"
#include "generate.h"
#include "model_decode.h"
#include "model_dir.h"
#include "model_open.h"

/* Every parameter's stored bytes, but only one row of an embedding that is not also the LM
 * head (a model without lm_head.weight ties the head to the embedding and reads all of it). */
static size_t weight_bytes_per_token(const hn_model *model)
{
    bool tied = hn_model_param_find(model, "lm_head.weight") < 0;
    size_t total = 0;
    for (size_t i = 0; i < hn_model_param_count(model); i++) {
        hn_param_info info;
        hn_model_param_info(model, i, &info);
        bool embedding = strcmp(info.name, "model.embed_tokens.weight") == 0;
        total += embedding && !tied ? info.stored_bytes / (size_t)info.shape[0] : info.stored_bytes;
    }
    return total;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *values, int n)
{
    qsort(values, (size_t)n, sizeof *values, compare_doubles);
    return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

/* "1,2,3" -> ids; NULL when a field is not a number. */
static int32_t *parse_ids(const char *text, int *n)
{
    gchar **fields = g_strsplit(text, ",", -1);
    *n = (int)g_strv_length(fields);
    int32_t *ids = g_new(int32_t, *n > 0 ? *n : 1);
    for (int i = 0; i < *n; i++) {
        char *end = NULL;
        long id = strtol(fields[i], &end, 10);
        if (end == fields[i] || *end != '\0' || id < 0 || id > INT32_MAX) {
            fprintf(stderr, "bench_decode: prompt id %d: expected a token id, found '%s'\n", i,
                    fields[i]);
            g_free(ids);
            ids = NULL;
            break;
        }
        ids[i] = (int32_t)id;
    }
    g_strfreev(fields);
    return ids;
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: %s MODEL NEW_TOKENS REPEATS ID[,ID...] [fp32|int8]\n", argv[0]);
        return 2;
    }
    hn_error err = {0};
    hn_decode_activations mode = HN_DECODE_FP32;
    if (argc == 6 &&
        hn_decode_activations_parse(argv[5], "bench_decode", &mode, &err) != HN_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 2;
    }
    int new_tokens = atoi(argv[2]), repeats = atoi(argv[3]), n_prompt = 0;
    if (new_tokens < 2 || repeats < 1) {
        fprintf(stderr, "bench_decode: expected NEW_TOKENS >= 2 and REPEATS >= 1\n");
        return 2;
    }
    int32_t *prompt = parse_ids(argv[4], &n_prompt);
    if (prompt == NULL)
        return 2;
    hn_model_dir *dir = NULL;
    hn_tokenizer *tok = NULL;
    hn_model *model = NULL;
    hn_kv_decoder *decoder = NULL;
    if (hn_model_dir_open(argv[1], &dir, &err) != HN_OK ||
        hn_tokenizer_load_model(argv[1], &tok, &err) != HN_OK ||
        hn_model_open_inference(dir, NULL, NULL, &model, &err) != HN_OK ||
        hn_kv_decoder_new(model, &decoder, &err) != HN_OK) {
        fprintf(stderr, "bench_decode: %s\n", err.message);
        return 1;
    }
    if (!hn_model_set_decode_activations(model, mode)) {
        fprintf(stderr, "bench_decode: %s\n", HN_DECODE_INT8_NO_EFFECT);
        return 1;
    }
    hn_generate_options options;
    hn_generate_options_init(&options);
    options.sampling.do_sample = false; /* greedy */
    options.max_new_tokens = new_tokens;
    double *prefill = g_new(double, repeats), *decode = g_new(double, repeats);
    hn_generate_result result = {0};
    for (int r = -1; r < repeats; r++) { /* r = -1: warm-up */
        hn_generate_result_clear(&result);
        hn_kv_decoder_truncate(decoder, 0);
        if (hn_generate(decoder, tok, prompt, n_prompt, &options, NULL, NULL, NULL, &result,
                        &err) != HN_OK) {
            fprintf(stderr, "bench_decode: %s\n", err.message);
            return 1;
        }
        if (r >= 0) {
            prefill[r] = n_prompt / result.prefill_seconds;
            decode[r] = (result.n_ids - 1) / result.decode_seconds;
        }
    }
    printf("{\"prefill_tokens_per_s\": %.3f, \"decode_tokens_per_s\": %.3f, "
           "\"weight_bytes_per_token\": %zu, \"ids\": [",
           median(prefill, repeats), median(decode, repeats), weight_bytes_per_token(model));
    for (int i = 0; i < result.n_ids; i++)
        printf("%s%d", i ? ", " : "", result.ids[i]);
    printf("]}\n");
    hn_generate_result_clear(&result);
    g_free(prefill);
    g_free(decode);
    g_free(prompt);
    hn_kv_decoder_free(decoder);
    hn_model_free(model);
    hn_tokenizer_free(tok);
    hn_model_dir_close(dir);
    return 0;
}
