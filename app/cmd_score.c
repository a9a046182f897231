/* `hone score`: a model's log-probabilities of the text on standard input, its mean loss and
 * perplexity, as JSON. A user's quick check of a model on their own text, and the handle by
 * which Hone's forward pass is compared with other tools. Text longer than --max-length
 * tokens is scored in consecutive windows (the first token of each window has no context,
 * so no log-probability). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backend_choice.h"
#include "cli.h"
#include "commands.h"
#include "gguf_tokenizer.h"
#include "model.h"
#include "model_open.h"

/* Scores ids in windows; logprobs[i] is log p(ids[i] | earlier ids of its window), NAN for
 * a window's first token. */
static hn_status score_ids(hn_model *model, const int32_t *ids, size_t n, int window,
                           float *logprobs, hn_error *err)
{
    for (size_t first = 0; first < n; first += (size_t)window) {
        int T = (int)MIN((size_t)window, n - first);
        const int32_t *chunk = ids + first;
        hn_batch batch = {chunk, chunk, NULL, NULL, 1, T};
        HN_TRY(hn_model_forward(model, &batch, NULL, NULL, err));
        float *row = g_new(float, T);
        hn_status s = hn_model_target_logprobs(model, row, err);
        if (s == HN_OK) { /* row[t] scores token t + 1 */
            logprobs[first] = NAN;
            for (int t = 0; t + 1 < T; t++)
                logprobs[first + (size_t)t + 1] = row[t];
        }
        g_free(row);
        HN_TRY(s);
        if (isatty(STDERR_FILENO)) /* progress for people, not for pipes */
            fprintf(stderr, "\rhone score: %zu of %zu tokens", first + (size_t)T, n);
    }
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "\n");
    return HN_OK;
}

static void print_result(const char *model_path, const int32_t *ids, const float *logprobs,
                         size_t n)
{
    double sum = 0;
    size_t scored = 0;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", model_path);
    cJSON *id_list = cJSON_AddArrayToObject(root, "ids");
    cJSON *lp_list = cJSON_AddArrayToObject(root, "logprobs");
    for (size_t i = 0; i < n; i++) {
        cJSON_AddItemToArray(id_list, cJSON_CreateNumber(ids[i]));
        if (isnan(logprobs[i])) {
            cJSON_AddItemToArray(lp_list, cJSON_CreateNull());
        } else {
            cJSON_AddItemToArray(lp_list, cJSON_CreateNumber(logprobs[i]));
            sum += logprobs[i];
            scored++;
        }
    }
    double loss = scored > 0 ? -sum / (double)scored : NAN;
    cJSON_AddNumberToObject(root, "tokens", (double)n);
    cJSON_AddNumberToObject(root, "scored", (double)scored);
    if (scored > 0) {
        cJSON_AddNumberToObject(root, "loss", loss);
        cJSON_AddNumberToObject(root, "perplexity", exp(loss));
    } else {
        cJSON_AddNullToObject(root, "loss");
        cJSON_AddNullToObject(root, "perplexity");
    }
    char *text = cJSON_PrintUnformatted(root);
    printf("%s\n", text);
    cJSON_free(text);
    cJSON_Delete(root);
}

static int run(const char *model_path, const char *adapter_path, int max_length,
               const hn_backend *backend)
{
    hn_error err = {0};
    hn_model_dir *dir = NULL;
    hn_tokenizer *tok = NULL;
    hn_model *model = NULL;
    if (hn_model_dir_open(model_path, &dir, &err) != HN_OK ||
        hn_tokenizer_load_model(model_path, &tok, &err) != HN_OK)
        return hone_fail("score", "%s", err.message);
    size_t length = 0, n = 0;
    int32_t *ids = NULL;
    char *text = NULL;
    int code = HONE_EXIT_OK;
    if (hn_model_open_inference(dir, adapter_path, backend, &model, &err) != HN_OK)
        code = hone_fail("score", "%s", err.message);
    if (code == HONE_EXIT_OK)
        text = hone_read_stdin(&length);
    if (code == HONE_EXIT_OK && hn_tokenizer_encode(tok, text, length, true, &ids, &n, &err) != HN_OK)
        code = hone_fail("score", "standard input: %s", err.message);
    else if (code == HONE_EXIT_OK && n == 0)
        code = hone_fail("score", "standard input: no text to score");
    int window = max_length > 0 ? max_length
                                : (int)MIN(dir->config.max_position_embeddings, 4096);
    float *logprobs = g_new(float, n > 0 ? n : 1);
    if (code == HONE_EXIT_OK && score_ids(model, ids, n, window, logprobs, &err) != HN_OK)
        code = hone_fail("score", "%s", err.message);
    if (code == HONE_EXIT_OK)
        print_result(model_path, ids, logprobs, n);
    g_free(logprobs);
    g_free(ids);
    g_free(text);
    hn_model_free(model);
    hn_tokenizer_free(tok);
    hn_model_dir_close(dir);
    return code;
}

int hone_cmd_score(int argc, char **argv)
{
    char *model = NULL, *adapter = NULL, *template_name = NULL, *backend = NULL;
    gboolean reward = FALSE;
    int max_length = 0;
    const GOptionEntry entries[] = {
        {"model", 'm', 0, G_OPTION_ARG_FILENAME, &model,
         "Model folder or GGUF file (model_name_or_path)", "PATH"},
        {"adapter", 0, 0, G_OPTION_ARG_FILENAME, &adapter,
         "A LoRA adapter folder (PEFT's adapter_config.json + adapter_model.safetensors) "
         "to apply", "DIR"},
        {"max-length", 0, 0, G_OPTION_ARG_INT, &max_length,
         "Tokens per window (default: the model's max_position_embeddings, at most 4096)", "N"},
        {"reward", 0, 0, G_OPTION_ARG_NONE, &reward,
         "Print the reward a reward model (a stage rm run's adapter or model folder, with "
         "value_head.safetensors) gives the conversation on standard input: JSON messages "
         "ending with the answer to score", NULL},
        {"template", 0, 0, G_OPTION_ARG_STRING, &template_name,
         "With --reward: the chat template the reward model was trained with (default: the "
         "model's own, auto)", "NAME"},
        {"backend", 0, 0, G_OPTION_ARG_STRING, &backend,
         "auto (default: CUDA when a GPU is usable, else the CPU), cpu or cuda", "NAME"},
        G_OPTION_ENTRY_NULL,
    };
    int code = hone_parse_options("score", "",
                                  "Reads UTF-8 text on standard input and prints one JSON object: "
                                  "the token ids, each token's log-probability under the model "
                                  "(null for the first token of each window), the mean loss "
                                  "(negative log-likelihood per scored token) and the perplexity.",
                                  entries, &argc, &argv, FALSE);
    if (code == HONE_EXIT_OK && model == NULL)
        code = hone_usage_error("score", "--model PATH is required");
    if (code == HONE_EXIT_OK && max_length < 0)
        code = hone_usage_error("score", "--max-length must be positive");
    if (code == HONE_EXIT_OK && template_name != NULL && !reward)
        code = hone_usage_error("score", "--template is for --reward (plain text is scored "
                                "as it is)");
    hn_backend_request request = {.backend = backend};
    hn_backend_choice choice = {0};
    hn_error err = {0};
    if (code == HONE_EXIT_OK && hn_backend_choose(&request, &choice, &err) != HN_OK)
        code = hone_fail("score", "%s", err.message);
    if (code == HONE_EXIT_OK) {
        g_printerr("hone score: %s\n", choice.line);
        code = reward ? hone_score_reward(model, adapter, template_name, choice.backend)
                      : run(model, adapter, max_length, choice.backend);
    }
    g_free(backend);
    g_free(template_name);
    g_free(model);
    g_free(adapter);
    return code;
}
