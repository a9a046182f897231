/* Encoding with the model's own Jinja chat_template (see chat_jinja.h for what the labels
 * are). The whole rendering is tokenized once; each answer's edges are found by rendering
 * with a marker (a Unicode noncharacter) inserted at the edge, and a byte offset becomes a
 * token index by tokenizing the text before it and comparing with the full ids. */
#include "chat_jinja.h"

#include <string.h>

#include "jinja_internal.h"
#include "json_read.h"

/* U+FDD0 and U+FDD1: valid UTF-8, not whitespace, not in any real text. */
#define MARK_START "\xEF\xB7\x90"
#define MARK_END "\xEF\xB7\x91"
#define MARK_LEN 3

struct hn_chat_jinja {
    const hn_tokenizer *tok;
    hn_jinja_template *tmpl;
    cJSON *special_tokens; /* bos_token, eos_token, unk_token, pad_token as strings */
};

hn_status hn_chat_jinja_new(const hn_tokenizer *tok, hn_chat_jinja **out, hn_error *err)
{
    *out = NULL;
    const hn_tokenizer_config *config = hn_tokenizer_get_config(tok);
    if (config->chat_template == NULL)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "the model has no chat_template (tokenizer_config"
                       ".json, chat_template.jinja or GGUF tokenizer.chat_template); name one of "
                       "LLaMA-Factory's templates instead (template: default, chatml, llama3, ...)");
    hn_jinja_template *tmpl = NULL;
    HN_TRY(hn_jinja_compile(config->chat_template, "the model's chat_template", &tmpl, err));
    hn_chat_jinja *chat = g_new0(hn_chat_jinja, 1);
    chat->tok = tok;
    chat->tmpl = tmpl;
    chat->special_tokens = cJSON_CreateObject();
    const struct {
        const char *name;
        int32_t id;
    } specials[] = {{"bos_token", config->bos_id}, {"eos_token", config->eos_id},
                    {"unk_token", config->unk_id}, {"pad_token", config->pad_id}};
    for (size_t i = 0; i < G_N_ELEMENTS(specials); i++) {
        const char *text = specials[i].id >= 0 ? hn_tokenizer_id_to_token(tok, specials[i].id)
                                               : NULL;
        if (text != NULL)
            cJSON_AddStringToObject(chat->special_tokens, specials[i].name, text);
    }
    *out = chat;
    return HN_OK;
}

void hn_chat_jinja_free(hn_chat_jinja *chat)
{
    if (chat == NULL)
        return;
    hn_jinja_free(chat->tmpl);
    cJSON_Delete(chat->special_tokens);
    g_free(chat);
}

/* ---- a conversation ready to render ---- */

typedef struct {
    const hn_chat_jinja *chat;
    cJSON *messages; /* the caller's, with options->system applied */
    cJSON *tools;    /* NULL when none */
    cJSON *kwargs;   /* the caller's plus enable_thinking */
    bool add_generation_prompt;
} conversation;

static void conversation_clear(conversation *c)
{
    cJSON_Delete(c->messages);
    cJSON_Delete(c->tools);
    cJSON_Delete(c->kwargs);
}

static const char *role_of(const cJSON *message)
{
    const cJSON *role = cJSON_GetObjectItemCaseSensitive(message, "role");
    return cJSON_IsString(role) ? role->valuestring : NULL;
}

static hn_status check_messages(const cJSON *messages, hn_error *err)
{
    if (!cJSON_IsArray(messages) || cJSON_GetArraySize(messages) == 0)
        return hn_fail(err, HN_ERR_ARGUMENT, "messages: expected a non-empty list of "
                       "{\"role\", \"content\"} objects");
    int i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, messages)
    {
        if (!cJSON_IsObject(m) || role_of(m) == NULL)
            return hn_fail(err, HN_ERR_ARGUMENT, "message %d: expected an object with a string "
                           "\"role\"", i);
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (strcmp(role_of(m), "assistant") == 0 && !cJSON_IsString(content))
            return hn_fail(err, HN_ERR_ARGUMENT, "message %d: an assistant message needs its "
                           "\"content\" as a string", i);
        i++;
    }
    return HN_OK;
}

static hn_status conversation_init(conversation *c, const hn_chat_jinja *chat,
                                   const cJSON *messages, const hn_chat_encode_options *options,
                                   const cJSON *kwargs, hn_error *err)
{
    *c = (conversation){.chat = chat};
    if (options->preserve_thinking)
        return hn_fail(err, HN_ERR_ARGUMENT, "preserve_thinking applies to LLaMA-Factory's "
                       "named reasoning templates; with the model's own chat_template, the "
                       "template decides which thoughts it keeps");
    if (kwargs != NULL && !cJSON_IsObject(kwargs))
        return hn_fail(err, HN_ERR_ARGUMENT, "template variables: expected a JSON object");
    HN_TRY(check_messages(messages, err));
    c->messages = cJSON_Duplicate(messages, true);
    if (options->system != NULL && options->system[0] != '\0') {
        cJSON *first = cJSON_GetArrayItem(c->messages, 0);
        if (strcmp(role_of(first), "system") == 0) {
            cJSON_ReplaceItemInObjectCaseSensitive(first, "content",
                                                   cJSON_CreateString(options->system));
        } else {
            cJSON *system = cJSON_CreateObject();
            cJSON_AddStringToObject(system, "role", "system");
            cJSON_AddStringToObject(system, "content", options->system);
            cJSON_InsertItemInArray(c->messages, 0, system);
        }
    }
    if (options->tools != NULL) {
        hn_status s = hn_json_parse(options->tools, strlen(options->tools), "tools", &c->tools,
                                    err);
        if (s == HN_OK && !cJSON_IsArray(c->tools))
            s = hn_fail(err, HN_ERR_ARGUMENT, "tools: expected a JSON list of tool schemas");
        if (s != HN_OK) {
            conversation_clear(c);
            return s;
        }
    }
    c->kwargs = kwargs != NULL ? cJSON_Duplicate(kwargs, true) : cJSON_CreateObject();
    if (cJSON_GetObjectItemCaseSensitive(c->kwargs, "enable_thinking") == NULL)
        cJSON_AddBoolToObject(c->kwargs, "enable_thinking", options->enable_thinking);
    const cJSON *last = cJSON_GetArrayItem(c->messages, cJSON_GetArraySize(c->messages) - 1);
    c->add_generation_prompt = strcmp(role_of(last), "assistant") != 0;
    return HN_OK;
}

static hn_status render_messages(const conversation *c, const cJSON *messages,
                                 bool add_generation_prompt, char **text, size_t *length,
                                 hn_error *err)
{
    hn_chat_input input = {
        .messages = messages,
        .tools = c->tools,
        .add_generation_prompt = add_generation_prompt,
        .special_tokens = c->chat->special_tokens,
        .kwargs = c->kwargs,
    };
    cJSON *context = NULL;
    HN_TRY(hn_jinja_chat_context(&input, &context, err));
    hn_status s = hn_jinja_render_opts(c->chat->tmpl, context, NULL, text, length, err);
    cJSON_Delete(context);
    return s;
}

/* ---- where the answers are ---- */

static size_t common_prefix(const char *a, size_t na, const char *b, size_t nb)
{
    size_t n = 0;
    while (n < na && n < nb && a[n] == b[n])
        n++;
    return n;
}

static size_t common_suffix(const char *a, size_t na, const char *b, size_t nb)
{
    size_t n = 0;
    while (n < na && n < nb && a[na - 1 - n] == b[nb - 1 - n])
        n++;
    return n;
}

/* The offset in full where `marked` is full with MARK_LEN bytes inserted, or -1 when it is
 * anything else (the marker vanished, moved the control flow or was rendered twice). */
static ptrdiff_t insertion_point(const char *full, size_t n, const char *marked, size_t m)
{
    if (m != n + MARK_LEN)
        return -1;
    size_t p = n - common_suffix(full, n, marked, m);
    if (common_prefix(full, n, marked, m) < p)
        return -1;
    return (ptrdiff_t)p;
}

/* The text of content with marker put at its start (after leading whitespace when
 * skip_space) or at its end (before trailing whitespace when skip_space): templates that
 * trim the content keep whitespace that a marker shields. */
static char *with_marker(const char *content, bool at_end, bool skip_space)
{
    size_t n = strlen(content), cut = at_end ? n : 0;
    if (skip_space && !at_end) {
        while (cut < n && jn_py_isspace(g_utf8_get_char(content + cut)))
            cut = (size_t)(g_utf8_next_char(content + cut) - content);
    } else if (skip_space) {
        while (cut > 0) {
            const char *prev = g_utf8_find_prev_char(content, content + cut);
            if (prev == NULL || !jn_py_isspace(g_utf8_get_char(prev)))
                break;
            cut = (size_t)(prev - content);
        }
    }
    GString *s = g_string_new_len(content, (gssize)cut);
    g_string_append(s, at_end ? MARK_END : MARK_START);
    g_string_append(s, content + cut);
    return g_string_free(s, FALSE);
}

/* The offset in full of message k's content start (at_end false) or end, or -1. */
static ptrdiff_t locate_edge(const conversation *c, const char *full, size_t n, int k,
                             bool at_end)
{
    ptrdiff_t pos = -1;
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(c->messages, k),
                                                            "content");
    if (!cJSON_IsString(content))
        return -1;
    for (int attempt = 0; attempt < 2 && pos < 0; attempt++) {
        cJSON *copy = cJSON_Duplicate(c->messages, true);
        char *marked = with_marker(content->valuestring, at_end, attempt == 1);
        cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetArrayItem(copy, k), "content",
                                               cJSON_CreateString(marked));
        g_free(marked);
        char *text = NULL;
        size_t m = 0;
        hn_error ignored = {0};
        /* A template that rejects the marked conversation just gives no position. */
        if (render_messages(c, copy, c->add_generation_prompt, &text, &m, &ignored) == HN_OK)
            pos = insertion_point(full, n, text, m);
        g_free(text);
        cJSON_Delete(copy);
    }
    return pos;
}

/* Text that ends a probe rendering after its marker, or "" (the caller frees it). */
static char *probe_after(const conversation *c, const cJSON *probe, bool add_generation_prompt,
                         const char *after)
{
    char *text = NULL;
    size_t n = 0;
    hn_error ignored = {0};
    char *out = g_strdup("");
    if (render_messages(c, probe, add_generation_prompt, &text, &n, &ignored) == HN_OK) {
        const char *at = g_strrstr(text, after);
        if (at != NULL) {
            g_free(out);
            out = g_strdup(at + strlen(after));
        }
    }
    g_free(text);
    return out;
}

static cJSON *probe_messages(const char *user, const char *assistant)
{
    cJSON *list = cJSON_CreateArray();
    const char *roles[] = {"user", "assistant"}, *contents[] = {user, assistant};
    for (int i = 0; i < 2 && contents[i] != NULL; i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "role", roles[i]);
        cJSON_AddStringToObject(m, "content", contents[i]);
        cJSON_AddItemToArray(list, m);
    }
    return list;
}

/* The header that opens an answer (the generation prompt: what rendering [user] with
 * add_generation_prompt adds) and the footer that closes it (what follows the answer in
 * [user, assistant]). Either is "" when the template has none or rejects the probe. */
static void probe_turn(const conversation *c, char **header, char **footer)
{
    cJSON *user = probe_messages(MARK_START, NULL);
    char *plain = probe_after(c, user, false, MARK_START);
    char *prompted = probe_after(c, user, true, MARK_START);
    *header = g_str_has_prefix(prompted, plain) ? g_strdup(prompted + strlen(plain))
                                                 : g_strdup("");
    g_free(plain);
    g_free(prompted);
    cJSON_Delete(user);
    cJSON *pair = probe_messages("Hi", MARK_END);
    *footer = probe_after(c, pair, false, MARK_END);
    cJSON_Delete(pair);
}

/* Where the answer's header ends inside full[lo, hi): after the last occurrence of the
 * longest head of `header` (at least half of it) found there, or -1. */
static ptrdiff_t header_end(const char *full, size_t lo, size_t hi, const char *header)
{
    size_t n = strlen(header);
    for (size_t j = n; j > 0 && 2 * j >= n; j--) {
        for (size_t at = hi >= j ? hi - j + 1 : 0; at-- > lo;)
            if (memcmp(full + at, header, j) == 0)
                return (ptrdiff_t)(at + j);
    }
    return -1;
}

/* ---- byte offsets to token indices ---- */

/* The index of the first token that ends after byte b (at_end false: the first token of a
 * span starting at b) or the number of tokens that start before b (at_end true). */
static hn_status token_index(const hn_tokenizer *tok, const char *full, size_t b,
                             const int32_t *ids, size_t n_ids, bool at_end, size_t *index,
                             hn_error *err)
{
    int32_t *prefix = NULL;
    size_t n = 0;
    HN_TRY(hn_tokenizer_encode(tok, full, b, false, &prefix, &n, err));
    size_t same = 0;
    while (same < n && same < n_ids && prefix[same] == ids[same])
        same++;
    g_free(prefix);
    *index = at_end && same < n && same < n_ids ? same + 1 : same;
    return HN_OK;
}

/* The byte span [*start, *end) of the answer in message k, as chat_jinja.h defines it. */
static hn_status answer_span(const conversation *c, const char *full, size_t n, int k,
                             const char *header, const char *footer, size_t *start, size_t *end,
                             hn_error *err)
{
    ptrdiff_t content_start = locate_edge(c, full, n, k, false);
    ptrdiff_t content_end = locate_edge(c, full, n, k, true);
    ptrdiff_t previous_end = k > 0 ? locate_edge(c, full, n, k - 1, true) : -1;
    if (content_end < 0)
        return hn_fail(err, HN_ERR_UNSUPPORTED, "message %d: cannot find where the chat "
                       "template puts the end of this answer (it renders it more than once or "
                       "changes it); name a template instead", k);
    size_t lo = previous_end >= 0 && previous_end <= content_end ? (size_t)previous_end : 0;
    size_t hi = (size_t)(content_start >= 0 && content_start <= content_end ? content_start
                                                                            : content_end);
    ptrdiff_t s = header[0] != '\0' ? header_end(full, lo, hi, header) : -1;
    *start = s >= 0 ? (size_t)s : hi;
    *end = (size_t)content_end + common_prefix(footer, strlen(footer), full + content_end,
                                               n - (size_t)content_end);
    return HN_OK;
}

/* ---- the public functions ---- */

hn_status hn_chat_jinja_render(const hn_chat_jinja *chat, const cJSON *messages,
                               const hn_chat_encode_options *options, const cJSON *kwargs,
                               char **text, hn_error *err)
{
    conversation c;
    HN_TRY(conversation_init(&c, chat, messages, options, kwargs, err));
    hn_status s = render_messages(&c, c.messages, c.add_generation_prompt, text, NULL, err);
    conversation_clear(&c);
    return s;
}

static hn_status label_answers(const conversation *c, const char *full, size_t n,
                               const hn_chat_encode_options *options, hn_chat_encoded *out,
                               hn_error *err)
{
    char *header = NULL, *footer = NULL;
    probe_turn(c, &header, &footer);
    int n_messages = cJSON_GetArraySize(c->messages), last_answer = -1;
    for (int k = 0; k < n_messages; k++)
        if (strcmp(role_of(cJSON_GetArrayItem(c->messages, k)), "assistant") == 0)
            last_answer = k;
    hn_status s = HN_OK;
    for (int k = 0; k < n_messages && s == HN_OK; k++) {
        if (strcmp(role_of(cJSON_GetArrayItem(c->messages, k)), "assistant") != 0)
            continue;
        size_t start = 0, end = 0, first = 0, stop = 0;
        s = answer_span(c, full, n, k, header, footer, &start, &end, err);
        if (s == HN_OK)
            s = token_index(c->chat->tok, full, start, out->input_ids, out->n, false, &first, err);
        if (s == HN_OK)
            s = token_index(c->chat->tok, full, end, out->input_ids, out->n, true, &stop, err);
        bool trained = !options->mask_history || k == last_answer;
        for (size_t i = first; s == HN_OK && i < stop; i++)
            out->labels[i] = trained ? out->input_ids[i] : HN_IGNORE_INDEX;
    }
    g_free(header);
    g_free(footer);
    return s;
}

hn_status hn_chat_jinja_encode(const hn_chat_jinja *chat, const cJSON *messages,
                               const hn_chat_encode_options *options, const cJSON *kwargs,
                               hn_chat_encoded *out, hn_error *err)
{
    *out = (hn_chat_encoded){0};
    conversation c;
    HN_TRY(conversation_init(&c, chat, messages, options, kwargs, err));
    char *full = NULL;
    size_t n = 0;
    hn_status s = render_messages(&c, c.messages, c.add_generation_prompt, &full, &n, err);
    if (s == HN_OK)
        s = hn_tokenizer_encode(chat->tok, full, n, false, &out->input_ids, &out->n, err);
    if (s == HN_OK) {
        out->labels = g_new(int32_t, out->n > 0 ? out->n : 1);
        for (size_t i = 0; i < out->n; i++)
            out->labels[i] = options->train_on_prompt ? out->input_ids[i] : HN_IGNORE_INDEX;
        s = label_answers(&c, full, n, options, out, err);
    }
    if (s != HN_OK)
        hn_chat_encoded_clear(out);
    g_free(full);
    conversation_clear(&c);
    return s;
}
