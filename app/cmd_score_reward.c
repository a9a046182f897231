/* `hone score --reward`: the reward a reward model (a stage rm run's output) gives a
 * conversation read as JSON on standard input - a list of {"role", "content"} messages, or an
 * object with "messages" - ending with the assistant answer to score. The conversation is
 * encoded as stage rm encodes a chosen answer (hn_pref_encode_answer) and the value head is
 * read at its last token, as LLaMA-Factory's PairwiseTrainer reads it. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "chat_messages.h"
#include "cli.h"
#include "commands.h"
#include "gguf_tokenizer.h"
#include "model_open.h"
#include "pref_data.h"

/* The conversation as a dataset row: a leading system message, the prompt turns, the answer. */
static hn_status conversation_row(const hn_chat_message *messages, size_t n, hn_dataset_row *row,
                                  hn_error *err)
{
    size_t first = n > 0 && messages[0].role == HN_ROLE_SYSTEM ? 1 : 0;
    if (n < first + 2 || messages[n - 1].role != HN_ROLE_ASSISTANT)
        return hn_fail(err, HN_ERR_ARGUMENT, "standard input: expected a conversation ending "
                       "with the assistant's answer to score (user, assistant), found %zu "
                       "messages%s", n, n > 0 && messages[n - 1].role != HN_ROLE_ASSISTANT
                                             ? " ending with another role" : "");
    *row = (hn_dataset_row){
        .prompt = (hn_chat_message *)messages + first, .n_prompt = n - first - 1,
        .response = (hn_chat_message *)messages + n - 1, .n_response = 1,
        .system = first ? messages[0].content : "",
    };
    return HN_OK;
}

static hn_status score(hn_model *model, const hn_tokenizer *tok, const char *template_name,
                       const cJSON *array, double *reward, size_t *n_tokens, hn_error *err)
{
    hn_chat_message *messages = NULL;
    size_t n = 0;
    HN_TRY(hn_chat_messages_from_json(array, "standard input", &messages, &n, err));
    hn_chat_template named;
    hn_chat_jinja *jinja = NULL;
    hn_sft_template tmpl;
    hn_dataset_row row;
    int32_t *ids = NULL;
    hn_chat_encode_options options;
    hn_chat_encode_options_init(&options);
    hn_status s = conversation_row(messages, n, &row, err);
    if (s == HN_OK)
        s = hn_sft_template_open(template_name, tok, &named, &jinja, &tmpl, err);
    if (s == HN_OK)
        s = hn_pref_encode_answer(&tmpl, tok, &row, row.response, &options, &ids, n_tokens, err);
    if (s == HN_OK) {
        hn_batch batch = {ids, NULL, NULL, NULL, 1, (int)*n_tokens};
        s = hn_model_forward(model, &batch, NULL, NULL, err);
    }
    float value = NAN;
    int32_t last = (int32_t)*n_tokens - 1;
    if (s == HN_OK)
        s = hn_model_values(model, &last, 1, &value, err);
    *reward = value;
    g_free(ids);
    hn_chat_jinja_free(jinja);
    g_free(messages);
    return s;
}

int hone_score_reward(const char *model_path, const char *adapter_path, const char *template_name,
                      const hn_backend *backend)
{
    hn_error err = {0};
    hn_model_dir *dir = NULL;
    hn_tokenizer *tok = NULL;
    hn_model *model = NULL;
    if (hn_model_dir_open(model_path, &dir, &err) != HN_OK ||
        hn_tokenizer_load_model(model_path, &tok, &err) != HN_OK)
        return hone_fail("score", "%s", err.message);
    int code = HONE_EXIT_OK;
    if (hn_model_open_reward(dir, adapter_path, backend, &model, &err) != HN_OK)
        code = hone_fail("score", "%s", err.message);
    size_t length = 0;
    char *text = code == HONE_EXIT_OK ? hone_read_stdin(&length) : NULL;
    cJSON *root = text != NULL ? cJSON_ParseWithLength(text, length) : NULL;
    const cJSON *array = cJSON_IsObject(root) ? cJSON_GetObjectItemCaseSensitive(root, "messages")
                                              : root;
    if (code == HONE_EXIT_OK && !cJSON_IsArray(array))
        code = hone_fail("score", "standard input: expected JSON, a list of {\"role\", "
                         "\"content\"} messages or an object with \"messages\"");
    double reward = NAN;
    size_t n_tokens = 0;
    if (code == HONE_EXIT_OK &&
        score(model, tok, template_name, array, &reward, &n_tokens, &err) != HN_OK)
        code = hone_fail("score", "%s", err.message);
    if (code == HONE_EXIT_OK) {
        cJSON *result = cJSON_CreateObject();
        cJSON_AddStringToObject(result, "model", model_path);
        if (adapter_path != NULL)
            cJSON_AddStringToObject(result, "adapter", adapter_path);
        cJSON_AddNumberToObject(result, "tokens", (double)n_tokens);
        cJSON_AddNumberToObject(result, "reward", reward);
        char *line = cJSON_PrintUnformatted(result);
        printf("%s\n", line);
        cJSON_free(line);
        cJSON_Delete(result);
    }
    cJSON_Delete(root);
    g_free(text);
    hn_model_free(model);
    hn_tokenizer_free(tok);
    hn_model_dir_close(dir);
    return code;
}
