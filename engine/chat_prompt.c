/* Generation prompts and stop ids for chat (chat_prompt.h). A named template goes through
 * hn_chat_encode with the conversation plus an empty answer and mask_history (so history
 * thoughts are dropped and the empty thought is placed as encode_oneturn places it); the
 * prompt is everything before the last answer's tokens (its labelled tail, and the trailing
 * eos of efficient_eos templates). `auto` renders the model's template with the generation
 * prompt added. */
#include <string.h>

#include "chat_prompt.h"

struct hn_chat_prompt {
    const hn_tokenizer *tok;
    bool named;
    hn_chat_template tmpl;  /* named */
    hn_chat_jinja *jinja;   /* auto */
    GArray *stop_ids;       /* int32_t */
    char *thought_open, *thought_close;
};

static void add_stop(GArray *stop, int64_t id)
{
    if (id < 0)
        return;
    for (guint i = 0; i < stop->len; i++)
        if (g_array_index(stop, int32_t, i) == (int32_t)id)
            return;
    int32_t value = (int32_t)id;
    g_array_append_val(stop, value);
}

static hn_status named_stop_ids(hn_chat_prompt *p, hn_error *err)
{
    int32_t eos = -1;
    HN_TRY(hn_chat_template_eos(&p->tmpl, p->tok, &eos, err));
    add_stop(p->stop_ids, eos);
    for (int i = 0; p->tmpl.stop_words[i] != NULL; i++)
        add_stop(p->stop_ids, hn_tokenizer_token_to_id(p->tok, p->tmpl.stop_words[i]));
    return HN_OK;
}

hn_status hn_chat_prompt_new(const hn_tokenizer *tok, const char *template_name,
                             const hn_generation_config *gen, hn_chat_prompt **out,
                             hn_error *err)
{
    *out = NULL;
    hn_chat_prompt *p = g_new0(hn_chat_prompt, 1);
    p->tok = tok;
    p->stop_ids = g_array_new(FALSE, FALSE, sizeof(int32_t));
    p->named = template_name != NULL && template_name[0] != '\0' &&
               strcmp(template_name, "auto") != 0;
    hn_status s;
    if (p->named) {
        s = hn_chat_template_get(template_name, &p->tmpl, err);
        if (s == HN_OK)
            s = named_stop_ids(p, err);
        if (s == HN_OK) {
            p->thought_open = g_strstrip(g_strdup(p->tmpl.thought_words[0]));
            p->thought_close = g_strstrip(g_strdup(p->tmpl.thought_words[1]));
        }
    } else {
        s = hn_chat_jinja_new(tok, &p->jinja, err);
        for (int i = 0; gen != NULL && i < gen->n_eos; i++)
            add_stop(p->stop_ids, gen->eos_token_ids[i]);
        add_stop(p->stop_ids, hn_tokenizer_get_config(tok)->eos_id);
        /* LLaMA-Factory's default thought words (data/template.py) */
        p->thought_open = g_strdup("<think>");
        p->thought_close = g_strdup("</think>");
        if (s == HN_OK && p->stop_ids->len == 0)
            s = hn_fail(err, HN_ERR_ARGUMENT, "template auto: the model names no eos token "
                        "(generation_config.json, config.json, tokenizer_config.json), so an "
                        "answer would never end; name a template");
    }
    if (s != HN_OK) {
        hn_chat_prompt_free(p);
        return s;
    }
    *out = p;
    return HN_OK;
}

void hn_chat_prompt_free(hn_chat_prompt *p)
{
    if (p == NULL)
        return;
    hn_chat_jinja_free(p->jinja);
    g_array_free(p->stop_ids, TRUE);
    g_free(p->thought_open);
    g_free(p->thought_close);
    g_free(p);
}

static hn_status check_turns(const hn_chat_message *messages, size_t n, hn_error *err)
{
    if (n == 0 || n % 2 == 0)
        return hn_fail(err, HN_ERR_ARGUMENT, "a chat prompt needs user and assistant turns "
                       "alternating, starting and ending with a user message; found %zu "
                       "messages", n);
    for (size_t i = 0; i < n; i++) {
        hn_chat_role want = i % 2 == 0 ? HN_ROLE_USER : HN_ROLE_ASSISTANT;
        if (messages[i].role != want)
            return hn_fail(err, HN_ERR_ARGUMENT, "message %zu: expected a %s message, found %s",
                           i, hn_chat_role_name(want), hn_chat_role_name(messages[i].role));
    }
    return HN_OK;
}

static hn_status encode_named(const hn_chat_prompt *p, const hn_chat_message *messages,
                              size_t n, const hn_chat_encode_options *options, int32_t **ids,
                              int *n_ids, hn_error *err)
{
    hn_chat_message *paired = g_new(hn_chat_message, n + 1);
    memcpy(paired, messages, n * sizeof *paired);
    paired[n] = (hn_chat_message){HN_ROLE_ASSISTANT, ""};
    hn_chat_encoded encoded;
    hn_status s = hn_chat_encode(&p->tmpl, p->tok, paired, n + 1, options, &encoded, err);
    g_free(paired);
    HN_TRY(s);
    size_t end = encoded.n;
    if (p->tmpl.efficient_eos && end > 0)
        end--;
    while (end > 0 && encoded.labels[end - 1] != HN_IGNORE_INDEX)
        end--; /* the empty answer's tokens (and an empty thought trained on) */
    *ids = g_memdup2(encoded.input_ids, MAX(end, 1) * sizeof(int32_t));
    *n_ids = (int)end;
    hn_chat_encoded_clear(&encoded);
    return HN_OK;
}

static hn_status encode_auto(const hn_chat_prompt *p, const hn_chat_message *messages, size_t n,
                             const hn_chat_encode_options *options, int32_t **ids, int *n_ids,
                             hn_error *err)
{
    cJSON *array = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) {
        cJSON *message = cJSON_CreateObject();
        cJSON_AddStringToObject(message, "role", hn_chat_role_name(messages[i].role));
        cJSON_AddStringToObject(message, "content", messages[i].content);
        cJSON_AddItemToArray(array, message);
    }
    hn_chat_encoded encoded;
    hn_status s = hn_chat_jinja_encode(p->jinja, array, options, NULL, &encoded, err);
    cJSON_Delete(array);
    HN_TRY(s);
    *ids = encoded.input_ids;
    *n_ids = (int)encoded.n;
    g_free(encoded.labels);
    return HN_OK;
}

hn_status hn_chat_prompt_encode(const hn_chat_prompt *p, const hn_chat_message *messages,
                                size_t n_messages, const char *system, bool enable_thinking,
                                int32_t **ids, int *n_ids, hn_error *err)
{
    *ids = NULL;
    *n_ids = 0;
    HN_TRY(check_turns(messages, n_messages, err));
    hn_chat_encode_options options;
    hn_chat_encode_options_init(&options);
    options.system = system;
    options.enable_thinking = enable_thinking;
    options.mask_history = p->named; /* encode_oneturn: history thoughts dropped */
    hn_status s = p->named ? encode_named(p, messages, n_messages, &options, ids, n_ids, err)
                           : encode_auto(p, messages, n_messages, &options, ids, n_ids, err);
    if (s == HN_OK && *n_ids == 0) {
        g_free(*ids);
        *ids = NULL;
        s = hn_fail(err, HN_ERR_ARGUMENT, "the conversation renders to no tokens");
    }
    return s;
}

const int32_t *hn_chat_prompt_stop_ids(const hn_chat_prompt *p, int *n)
{
    *n = (int)p->stop_ids->len;
    return (const int32_t *)(const void *)p->stop_ids->data;
}

const char *hn_chat_prompt_thought_open(const hn_chat_prompt *p)
{
    return p->thought_open;
}

const char *hn_chat_prompt_thought_close(const hn_chat_prompt *p)
{
    return p->thought_close;
}
