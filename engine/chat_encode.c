/* Conversations to input ids and labels with a named template: formatters filled per message
 * (LLaMA-Factory's StringFormatter.apply), slots tokenized one by one, thoughts handled as its
 * ReasoningTemplate does, then prompt/response pairs masked as its supervised processor does. */
#include "chat_encode.h"

#include <glib.h>
#include <string.h>

static const char *const ROLE_NAMES[] = {
    [HN_ROLE_USER] = "user",         [HN_ROLE_ASSISTANT] = "assistant",
    [HN_ROLE_SYSTEM] = "system",     [HN_ROLE_FUNCTION] = "function",
    [HN_ROLE_OBSERVATION] = "observation",
};

bool hn_chat_role_parse(const char *name, hn_chat_role *out)
{
    for (size_t i = 0; i < G_N_ELEMENTS(ROLE_NAMES); i++) {
        if (strcmp(ROLE_NAMES[i], name) == 0) {
            *out = (hn_chat_role)i;
            return true;
        }
    }
    return false;
}

const char *hn_chat_role_name(hn_chat_role role)
{
    return (size_t)role < G_N_ELEMENTS(ROLE_NAMES) ? ROLE_NAMES[role] : "?";
}

void hn_chat_encode_options_init(hn_chat_encode_options *options)
{
    *options = (hn_chat_encode_options){.enable_thinking = true};
}

void hn_chat_encoded_clear(hn_chat_encoded *encoded)
{
    g_free(encoded->input_ids);
    g_free(encoded->labels);
    *encoded = (hn_chat_encoded){0};
}

/* The id of a token that LLaMA-Factory's fix_special_tokens makes special. */
static hn_status special_token(const hn_chat_template *tmpl, const hn_tokenizer *tok,
                               const char *token, int32_t *id, hn_error *err)
{
    *id = hn_tokenizer_token_to_id(tok, token);
    if (*id < 0 || !hn_tokenizer_is_special(tok, *id))
        return hn_fail(err, HN_ERR_UNSUPPORTED,
                       "template \"%s\": expected \"%s\" as a special token of the tokenizer, "
                       "found %s (LLaMA-Factory would add it and resize the vocabulary; Hone "
                       "does not do that yet)",
                       tmpl->name, token, *id < 0 ? "no such token" : "an ordinary token");
    return HN_OK;
}

hn_status hn_chat_template_eos(const hn_chat_template *tmpl, const hn_tokenizer *tok,
                               int32_t *eos_id, hn_error *err)
{
    *eos_id = hn_tokenizer_get_config(tok)->eos_id;
    if (tmpl->replace_eos) {
        if (tmpl->stop_words[0] == NULL)
            return hn_fail(err, HN_ERR_ARGUMENT, "template \"%s\": expected a stop word to "
                           "replace the eos token, found none", tmpl->name);
        HN_TRY(special_token(tmpl, tok, tmpl->stop_words[0], eos_id, err));
    }
    if (*eos_id < 0)
        HN_TRY(special_token(tmpl, tok, "<|endoftext|>", eos_id, err));
    return HN_OK;
}

static bool format_mentions(const hn_template_format *format, const char *word)
{
    for (const hn_template_slot *slot = format->slots; slot->kind != HN_SLOT_END; slot++)
        if (slot->kind == HN_SLOT_TEXT && strstr(slot->text, word) != NULL)
            return true;
    return false;
}

/* The other stop words become special tokens upstream (added when the tokenizer lacks them),
 * which changes how text holding them splits. Hone cannot add tokens yet, so such a word in a
 * slot or a message is an error; elsewhere it changes nothing. */
static hn_status check_stop_words(const hn_chat_template *t, const hn_tokenizer *tok,
                                  const hn_chat_message *messages, size_t n, const char *system,
                                  hn_error *err)
{
    for (const char *const *word = t->stop_words + (t->replace_eos ? 1 : 0); *word != NULL;
         word++) {
        int32_t id = hn_tokenizer_token_to_id(tok, *word);
        if (id >= 0 && hn_tokenizer_is_special(tok, id))
            continue;
        const hn_template_format *formats[] = {&t->format_user, &t->format_assistant,
                                               &t->format_system, &t->format_observation,
                                               &t->format_prefix};
        bool in_slots = strstr(t->thought_words[0], *word) != NULL ||
                        strstr(t->thought_words[1], *word) != NULL;
        for (size_t f = 0; f < G_N_ELEMENTS(formats); f++)
            in_slots |= format_mentions(formats[f], *word);
        if (in_slots)
            return special_token(t, tok, *word, &id, err);
        if (strstr(system, *word) != NULL)
            return hn_fail(err, HN_ERR_UNSUPPORTED, "system: expected text without the stop "
                           "word \"%s\", which LLaMA-Factory adds to this tokenizer as a new "
                           "special token (Hone does not add tokens yet)", *word);
        for (size_t i = 0; i < n; i++)
            if (strstr(messages[i].content, *word) != NULL)
                return hn_fail(err, HN_ERR_UNSUPPORTED, "message %zu: expected text without the "
                               "stop word \"%s\", which LLaMA-Factory adds to this tokenizer as a "
                               "new special token (Hone does not add tokens yet)", i, *word);
    }
    return HN_OK;
}

/* Replaces the first "{{name}}" in text with value (str.replace(..., 1)); takes text. */
static char *replace_first(char *text, const char *name, const char *value)
{
    char *placeholder = g_strdup_printf("{{%s}}", name);
    char *at = strstr(text, placeholder);
    if (at != NULL) {
        GString *out = g_string_new_len(text, at - text);
        g_string_append(out, value);
        g_string_append(out, at + strlen(placeholder));
        g_free(text);
        text = g_string_free(out, FALSE);
    }
    g_free(placeholder);
    return text;
}

typedef struct {
    const hn_chat_template *tmpl;
    const hn_tokenizer *tok;
    int32_t bos_id, eos_id;
} encoder;

static hn_status append_text(const encoder *enc, GArray *ids, const char *text, hn_error *err)
{
    if (text[0] == '\0')
        return HN_OK;
    int32_t *piece = NULL;
    size_t n = 0;
    HN_TRY(hn_tokenizer_encode(enc->tok, text, strlen(text), false, &piece, &n, err));
    g_array_append_vals(ids, piece, (guint)n);
    g_free(piece);
    return HN_OK;
}

/* Appends a formatter's slots with content (and idx, for user messages) filled in. */
static hn_status append_format(const encoder *enc, GArray *ids, const hn_template_format *format,
                               const char *content, const char *idx, hn_error *err)
{
    for (const hn_template_slot *slot = format->slots; slot->kind != HN_SLOT_END; slot++) {
        if (slot->kind == HN_SLOT_BOS && enc->bos_id >= 0) {
            g_array_append_val(ids, enc->bos_id);
        } else if (slot->kind == HN_SLOT_EOS && enc->eos_id >= 0) {
            g_array_append_val(ids, enc->eos_id);
        } else if (slot->kind == HN_SLOT_TEXT) {
            char *text = replace_first(g_strdup(slot->text), "content", content);
            if (idx != NULL)
                text = replace_first(text, "idx", idx);
            hn_status status = append_text(enc, ids, text, err);
            g_free(text);
            HN_TRY(status);
        }
    }
    return HN_OK;
}

/* The ids of one message (Template._encode / Llama2Template._encode). */
static hn_status encode_message(const encoder *enc, GArray *ids, size_t i,
                                const hn_chat_message *message, const char *system,
                                hn_error *err)
{
    const hn_chat_template *t = enc->tmpl;
    char *fused = NULL;
    const char *content = message->content;
    if (i == 0) {
        HN_TRY(append_format(enc, ids, &t->format_prefix, "", NULL, err));
        if (system[0] != '\0' && t->template_class == HN_TEMPLATE_LLAMA2) {
            /* The system slot's first element is prepended to the first user message. */
            const hn_template_slot *first = &t->format_system.slots[0];
            char *system_text = replace_first(
                g_strdup(first->kind == HN_SLOT_TEXT ? first->text : ""), "content", system);
            if (message->role == HN_ROLE_USER)
                content = fused = g_strconcat(system_text, message->content, NULL);
            g_free(system_text);
        } else if (system[0] != '\0') {
            HN_TRY(append_format(enc, ids, &t->format_system, system, NULL, err));
        }
    }
    hn_status status = HN_OK;
    if (message->role == HN_ROLE_USER) {
        char idx[32];
        g_snprintf(idx, sizeof idx, "%zu", i / 2);
        status = append_format(enc, ids, &t->format_user, content,
                               t->template_class == HN_TEMPLATE_LLAMA2 ? NULL : idx, err);
    } else if (message->role == HN_ROLE_ASSISTANT) {
        status = append_format(enc, ids, &t->format_assistant, content, NULL, err);
    } else {
        status = append_format(enc, ids, &t->format_observation, content, NULL, err);
    }
    g_free(fused);
    return status;
}

/* ReasoningTemplate.remove_thought: every "open ... close" cut out, leading newlines dropped. */
static char *remove_thought(const hn_chat_template *t, const char *content)
{
    const char *open = t->thought_words[0], *close = t->thought_words[1];
    GString *out = g_string_new(NULL);
    const char *cursor = content;
    for (;;) {
        const char *start = strstr(cursor, open);
        const char *end = start != NULL ? strstr(start + strlen(open), close) : NULL;
        if (end == NULL)
            break;
        g_string_append_len(out, cursor, start - cursor);
        cursor = end + strlen(close);
    }
    g_string_append(out, cursor);
    size_t skip = strspn(out->str, "\n");
    g_string_erase(out, 0, (gssize)skip);
    return g_string_free(out, FALSE);
}

/* Whether content mentions either thought word (stripped of whitespace), as upstream tests. */
static bool has_thought_word(const hn_chat_template *t, const char *content)
{
    for (int w = 0; w < 2; w++) {
        char *word = g_strstrip(g_strdup(t->thought_words[w]));
        bool found = strstr(content, word) != NULL;
        g_free(word);
        if (found)
            return true;
    }
    return false;
}

static hn_status check_messages(const hn_chat_template *t, const hn_chat_message *messages,
                                size_t n, size_t first, const hn_chat_encode_options *options,
                                hn_error *err)
{
    if (options->tools != NULL)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "tools: expected none (tool descriptions and "
                       "function calls are not supported yet), found a tools argument");
    if (options->train_on_prompt && t->efficient_eos)
        return hn_fail(err, HN_ERR_ARGUMENT, "train_on_prompt: template \"%s\" puts the eos in "
                       "the next prompt (efficient_eos) and does not support it", t->name);
    if (options->train_on_prompt && options->mask_history)
        return hn_fail(err, HN_ERR_ARGUMENT,
                       "mask_history: expected false with train_on_prompt, found true");
    for (size_t i = 0; i < n; i++)
        if (messages[i].content == NULL)
            return hn_fail(err, HN_ERR_ARGUMENT, "message %zu (%s): expected content, found none",
                           i, hn_chat_role_name(messages[i].role));
    if (n - first < 2 || (n - first) % 2 != 0)
        return hn_fail(err, HN_ERR_ARGUMENT, "messages: expected user and assistant turns in "
                       "pairs, ending with an assistant message, found %zu message%s after the "
                       "system prompt", n - first, n - first == 1 ? "" : "s");
    for (size_t i = first; i < n; i++) {
        hn_chat_role role = messages[i].role;
        bool prompt = (i - first) % 2 == 0;
        if (role == HN_ROLE_FUNCTION)
            return hn_fail(err, HN_ERR_UNSUPPORTED, "message %zu: expected user, assistant or "
                           "observation, found function (tool calls are not supported yet)", i);
        if (prompt && role != HN_ROLE_USER && role != HN_ROLE_OBSERVATION)
            return hn_fail(err, HN_ERR_ARGUMENT, "message %zu: expected user or observation "
                           "(turns alternate user, assistant), found %s", i,
                           hn_chat_role_name(role));
        if (!prompt && role != HN_ROLE_ASSISTANT)
            return hn_fail(err, HN_ERR_ARGUMENT, "message %zu: expected assistant (turns "
                           "alternate user, assistant), found %s", i, hn_chat_role_name(role));
    }
    return HN_OK;
}

static void append_masked(GArray *labels, size_t n)
{
    const int32_t ignore = HN_IGNORE_INDEX;
    for (size_t k = 0; k < n; k++)
        g_array_append_val(labels, ignore);
}

/* LLaMA-Factory's infer_seqlen (llamafactory/data/processor/processor_utils.py): how much of
 * a prompt (source) and an answer (target) fit in `budget` tokens. */
void hn_infer_seqlen(size_t source_len, size_t target_len, size_t budget, size_t *new_source,
                         size_t *new_target)
{
    size_t max_target;
    if (target_len * 2 < budget) /* short answer: cut the prompt */
        max_target = budget;
    else if (source_len * 2 < budget) /* short prompt: cut the answer */
        max_target = budget - source_len;
    else /* both long: share the budget in proportion */
        max_target = (size_t)((double)budget * ((double)target_len /
                                                (double)(source_len + target_len)));
    *new_target = MIN(max_target, target_len);
    size_t max_source = budget > *new_target ? budget - *new_target : 0;
    *new_source = MIN(max_source, source_len);
}

/* SupervisedDatasetProcessor._encode_data_example: each turn's prompt and answer, shortened
 * by infer_seqlen while the cutoff_len budget lasts (turns past it are dropped). With
 * mask_history upstream walks the turns from the last and prepends, so the budget goes to the
 * last turns first and "the first turn" (turn_idx 0) is the last one. */
static void build_labels(const encoder *enc, GArray *const *prompts, GArray *const *responses,
                         size_t n_turns, const hn_chat_encode_options *options, GArray *input_ids,
                         GArray *labels)
{
    size_t cutoff = options->cutoff_len > 0 ? (size_t)options->cutoff_len : SIZE_MAX;
    size_t total = enc->tmpl->efficient_eos ? 1 : 0;
    GArray **turn_ids = g_new0(GArray *, n_turns), **turn_labels = g_new0(GArray *, n_turns);
    for (size_t turn_idx = 0; turn_idx < n_turns && total < cutoff; turn_idx++) {
        size_t k = options->mask_history ? n_turns - 1 - turn_idx : turn_idx;
        const GArray *source = prompts[k], *target = responses[k];
        size_t source_len = source->len, target_len = target->len;
        if (cutoff != SIZE_MAX)
            hn_infer_seqlen(source->len, target->len, cutoff - total, &source_len, &target_len);
        total += source_len + target_len;
        GArray *ids = turn_ids[k] = g_array_new(FALSE, FALSE, sizeof(int32_t));
        GArray *lab = turn_labels[k] = g_array_new(FALSE, FALSE, sizeof(int32_t));
        g_array_append_vals(ids, source->data, source_len);
        if (options->train_on_prompt) {
            g_array_append_vals(lab, source->data, source_len);
        } else if (enc->tmpl->efficient_eos && turn_idx != 0 && source_len > 0) {
            g_array_append_val(lab, enc->eos_id); /* the previous answer's eos */
            append_masked(lab, source_len - 1);
        } else {
            append_masked(lab, source_len);
        }
        g_array_append_vals(ids, target->data, target_len);
        if (options->mask_history && turn_idx != 0)
            append_masked(lab, target_len);
        else
            g_array_append_vals(lab, target->data, target_len);
    }
    for (size_t k = 0; k < n_turns; k++) { /* in conversation order */
        if (turn_ids[k] == NULL)
            continue;
        g_array_append_vals(input_ids, turn_ids[k]->data, turn_ids[k]->len);
        g_array_append_vals(labels, turn_labels[k]->data, turn_labels[k]->len);
        g_array_free(turn_ids[k], TRUE);
        g_array_free(turn_labels[k], TRUE);
    }
    g_free(turn_ids);
    g_free(turn_labels);
    if (enc->tmpl->efficient_eos) {
        g_array_append_val(input_ids, enc->eos_id);
        g_array_append_val(labels, enc->eos_id);
    }
}

/* What both encodings share: the messages checked, the encoder, the system prompt and the
 * turns after it, whose contents may be replaced (thoughts removed). */
typedef struct {
    encoder enc;
    const char *system;
    hn_chat_message *turns; /* [n] */
    char **owned;           /* [n]: contents made here */
    size_t n;
    size_t first; /* 1 when messages[0] is the system message */
} conversation;

static hn_status conversation_open(const hn_chat_template *tmpl, const hn_tokenizer *tok,
                                   const hn_chat_message *messages, size_t n_messages,
                                   const hn_chat_encode_options *options, conversation *c,
                                   hn_error *err)
{
    *c = (conversation){0};
    size_t first = n_messages > 0 && messages[0].role == HN_ROLE_SYSTEM ? 1 : 0;
    for (size_t i = first; i < n_messages; i++)
        if (messages[i].role == HN_ROLE_SYSTEM)
            return hn_fail(err, HN_ERR_ARGUMENT, "message %zu: expected a system message only "
                           "as the first message, found one here", i);
    HN_TRY(check_messages(tmpl, messages, n_messages, first, options, err));
    c->enc = (encoder){tmpl, tok, hn_tokenizer_get_config(tok)->bos_id, -1};
    HN_TRY(hn_chat_template_eos(tmpl, tok, &c->enc.eos_id, err));
    c->system = first == 1 ? messages[0].content : options->system;
    if (c->system == NULL || c->system[0] == '\0')
        c->system = tmpl->default_system;
    HN_TRY(check_stop_words(tmpl, tok, messages, n_messages, c->system, err));
    c->first = first;
    c->n = n_messages - first;
    c->turns = g_new(hn_chat_message, c->n);
    c->owned = g_new0(char *, c->n);
    memcpy(c->turns, messages + first, c->n * sizeof *c->turns);
    return HN_OK;
}

static void conversation_close(conversation *c)
{
    for (size_t i = 0; i < c->n; i++)
        g_free(c->owned[i]);
    g_free(c->owned);
    g_free(c->turns);
    *c = (conversation){0};
}

/* ReasoningTemplate.remove_thought applied to turn i. */
static void drop_thought(conversation *c, size_t i)
{
    char *removed = remove_thought(c->enc.tmpl, c->turns[i].content);
    g_free(c->owned[i]);
    c->turns[i].content = c->owned[i] = removed;
}

/* Template._encode: ids[k] (made here; free them also after an error) for each turn k. */
static hn_status encode_turns(const conversation *c, GArray **ids, hn_error *err)
{
    for (size_t k = 0; k < c->n; k++) {
        ids[k] = g_array_new(FALSE, FALSE, sizeof(int32_t));
        hn_status status = encode_message(&c->enc, ids[k], k, &c->turns[k], c->system, err);
        if (status != HN_OK) {
            hn_error_prefix(err, "message %zu", c->first + k);
            return status;
        }
    }
    return HN_OK;
}

static void free_turn_ids(GArray **ids, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (ids[k] != NULL)
            g_array_free(ids[k], TRUE);
    g_free(ids);
}

/* The ids of an empty thought (ReasoningTemplate.get_thought_word_ids). */
static hn_status empty_thought(const encoder *enc, GArray **out, hn_error *err)
{
    *out = g_array_new(FALSE, FALSE, sizeof(int32_t));
    char *words = g_strconcat(enc->tmpl->thought_words[0], enc->tmpl->thought_words[1], NULL);
    hn_status status = append_text(enc, *out, words, err);
    g_free(words);
    return status;
}

hn_status hn_chat_encode(const hn_chat_template *tmpl, const hn_tokenizer *tok,
                         const hn_chat_message *messages, size_t n_messages,
                         const hn_chat_encode_options *options, hn_chat_encoded *out,
                         hn_error *err)
{
    *out = (hn_chat_encoded){0};
    conversation c;
    HN_TRY(conversation_open(tmpl, tok, messages, n_messages, options, &c, err));

    /* ReasoningTemplate.encode_multiturn: thoughts removed where upstream removes them. */
    bool reasoning = tmpl->template_class == HN_TEMPLATE_REASONING;
    bool discard_history = options->mask_history && !options->preserve_thinking;
    for (size_t i = 1; reasoning && i < c.n; i += 2) {
        if (!options->enable_thinking)
            drop_thought(&c, i);
        if (discard_history && i + 2 < c.n) /* both removals may apply, one after the other */
            drop_thought(&c, i);
    }

    GArray **ids = g_new0(GArray *, c.n);
    hn_status status = encode_turns(&c, ids, err);
    size_t n_turns = c.n / 2;
    GArray **prompts = g_new0(GArray *, n_turns), **responses = g_new0(GArray *, n_turns);
    for (size_t k = 0; k < n_turns; k++) {
        prompts[k] = ids[2 * k];
        responses[k] = ids[2 * k + 1];
    }
    /* An empty thought where the answer has none: trained on with enable_thinking, part of
     * the prompt without (only the last turn when history thoughts are discarded). */
    if (status == HN_OK && reasoning) {
        GArray *thought = NULL;
        status = empty_thought(&c.enc, &thought, err);
        for (size_t k = discard_history ? n_turns - 1 : 0; k < n_turns && status == HN_OK; k++) {
            if (has_thought_word(tmpl, c.turns[2 * k + 1].content))
                continue;
            if (!options->enable_thinking)
                g_array_append_vals(prompts[k], thought->data, thought->len);
            else
                g_array_prepend_vals(responses[k], thought->data, thought->len);
        }
        g_array_free(thought, TRUE);
    }
    if (status == HN_OK) {
        GArray *input_ids = g_array_new(FALSE, FALSE, sizeof(int32_t));
        GArray *labels = g_array_new(FALSE, FALSE, sizeof(int32_t));
        build_labels(&c.enc, prompts, responses, n_turns, options, input_ids, labels);
        g_assert(input_ids->len == labels->len);
        out->n = input_ids->len;
        out->input_ids = (int32_t *)(void *)g_array_free(input_ids, FALSE);
        out->labels = (int32_t *)(void *)g_array_free(labels, FALSE);
    }
    g_free(prompts);
    g_free(responses);
    free_turn_ids(ids, c.n);
    conversation_close(&c);
    return status;
}

void hn_chat_oneturn_clear(hn_chat_oneturn *oneturn)
{
    g_free(oneturn->prompt);
    g_free(oneturn->response);
    *oneturn = (hn_chat_oneturn){0};
}

hn_status hn_chat_encode_oneturn(const hn_chat_template *tmpl, const hn_tokenizer *tok,
                                 const hn_chat_message *messages, size_t n_messages,
                                 const hn_chat_encode_options *options, hn_chat_oneturn *out,
                                 hn_error *err)
{
    *out = (hn_chat_oneturn){0};
    conversation c;
    HN_TRY(conversation_open(tmpl, tok, messages, n_messages, options, &c, err));

    /* ReasoningTemplate.encode_oneturn: history thoughts go unless preserve_thinking; the
     * last answer's only without enable_thinking. */
    bool reasoning = tmpl->template_class == HN_TEMPLATE_REASONING;
    if (reasoning && !options->preserve_thinking)
        for (size_t i = 1; i + 2 < c.n; i += 2)
            drop_thought(&c, i);
    if (reasoning && !options->enable_thinking)
        drop_thought(&c, c.n - 1);

    GArray **ids = g_new0(GArray *, c.n);
    hn_status status = encode_turns(&c, ids, err);
    GArray *prompt = g_array_new(FALSE, FALSE, sizeof(int32_t));
    for (size_t k = 0; k + 1 < c.n && status == HN_OK; k++)
        g_array_append_vals(prompt, ids[k]->data, ids[k]->len);
    GArray *response = ids[c.n - 1];
    /* An empty thought for a last answer without one: prompt or response, as above. */
    if (status == HN_OK && reasoning && !has_thought_word(tmpl, c.turns[c.n - 1].content)) {
        GArray *thought = NULL;
        status = empty_thought(&c.enc, &thought, err);
        if (status == HN_OK && !options->enable_thinking)
            g_array_append_vals(prompt, thought->data, thought->len);
        else if (status == HN_OK)
            g_array_prepend_vals(response, thought->data, thought->len);
        g_array_free(thought, TRUE);
    }
    if (status == HN_OK) {
        out->n_prompt = prompt->len;
        out->n_response = response->len;
        g_array_set_size(prompt, prompt->len + 1); /* never NULL, even when empty */
        g_array_set_size(response, response->len + 1);
        out->prompt = (int32_t *)(void *)g_array_free(prompt, FALSE);
        out->response = (int32_t *)(void *)g_array_free(response, FALSE);
        ids[c.n - 1] = NULL;
    } else {
        g_array_free(prompt, TRUE);
    }
    free_turn_ids(ids, c.n);
    conversation_close(&c);
    return status;
}
