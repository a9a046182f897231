/* Sharegpt and OpenAI rows (a list of messages with role and content tags) to LLaMA-Factory's
 * aligned form, as llamafactory/data/converter.py's SharegptDatasetConverter and
 * OpenAIDatasetConverter do: an optional leading system message, then prompt and response
 * turns alternating; a row with a role out of turn or an odd count is kept empty ("broken"). */
#include <string.h>

#include "dataset_internal.h"
#include "json_read.h"
#include "py_json.h"

/* Upstream's openai converter appends this to the system prompt of rows without tools. */
#define SHORT_SYSTEM_PROMPT "detailed thinking off"

static bool tag_is(const hn_dataset_attr *attr, hn_dataset_tag tag, const char *role)
{
    return attr->tags[tag] != NULL && strcmp(attr->tags[tag], role) == 0;
}

/* tag_mapping[role]: a dict built user, assistant, observation, function, system, so where two
 * tags are equal the later one wins. */
static bool map_role(const hn_dataset_attr *attr, const char *role, hn_chat_role *out)
{
    static const struct {
        hn_dataset_tag tag;
        hn_chat_role role;
    } later_first[] = {
        {HN_TAG_SYSTEM, HN_ROLE_SYSTEM},     {HN_TAG_FUNCTION, HN_ROLE_FUNCTION},
        {HN_TAG_OBSERVATION, HN_ROLE_OBSERVATION}, {HN_TAG_ASSISTANT, HN_ROLE_ASSISTANT},
        {HN_TAG_USER, HN_ROLE_USER},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(later_first); i++)
        if (tag_is(attr, later_first[i].tag, role)) {
            *out = later_first[i].role;
            return true;
        }
    return false;
}

/* message[tags[tag]]: a missing key (or an unset tag) is an error naming the message. */
static hn_status tag_value(const hn_row_context *ctx, const cJSON *message, const char *where,
                           hn_dataset_tag tag, const cJSON **out)
{
    if (!cJSON_IsObject(message))
        return hn_row_error(ctx, "%s: expected a message object, found %s", where,
                            hn_json_kind(message));
    const char *key = ctx->attr->tags[tag];
    if (key == NULL)
        return hn_row_error(ctx, "%s: tags.%s is needed but dataset_info.json sets none", where,
                            hn_dataset_tag_key(tag));
    *out = cJSON_GetObjectItemCaseSensitive(message, key);
    if (*out == NULL)
        return hn_row_error(ctx, "%s: missing \"%s\" (the %s)", where, key,
                            hn_dataset_tag_key(tag));
    return HN_OK;
}

static hn_status role_of(const hn_row_context *ctx, const cJSON *message, const char *where,
                         const char **role)
{
    const cJSON *value;
    HN_TRY(tag_value(ctx, message, where, HN_TAG_ROLE, &value));
    if (!cJSON_IsString(value))
        return hn_row_error(ctx, "%s: %s: expected a string, found %s", where,
                            ctx->attr->tags[HN_TAG_ROLE], hn_json_kind(value));
    *role = value->valuestring;
    return HN_OK;
}

static hn_status content_of(const hn_row_context *ctx, const cJSON *message, const char *where,
                            const char **content)
{
    const cJSON *value;
    HN_TRY(tag_value(ctx, message, where, HN_TAG_CONTENT, &value));
    char *what = g_strdup_printf("%s: %s", where, ctx->attr->tags[HN_TAG_CONTENT]);
    hn_status status = hn_row_text(ctx, value, what, false, content);
    g_free(what);
    return status;
}

typedef struct {
    const cJSON *messages; /* the row's list */
    int first;             /* 1 when messages[0] was the system message */
    const char *system;
} chat_start;

/* The messages list and the system prompt: messages[0] when its role is the system tag, else
 * the system column (sharegpt: example[column]; openai: example.get(column, "")). */
static hn_status chat_begin(const hn_row_context *ctx, const cJSON *row, bool openai,
                            chat_start *start)
{
    const hn_dataset_attr *attr = ctx->attr;
    HN_TRY(hn_row_column(ctx, row, HN_COL_MESSAGES, &start->messages));
    if (!cJSON_IsArray(start->messages))
        return hn_row_error(ctx, "%s: expected a list of messages, found %s",
                            attr->columns[HN_COL_MESSAGES], hn_json_kind(start->messages));
    start->first = 0;
    const cJSON *head = cJSON_GetArrayItem(start->messages, 0);
    if (attr->tags[HN_TAG_SYSTEM] != NULL && head != NULL) {
        char *where = g_strdup_printf("%s[0]", attr->columns[HN_COL_MESSAGES]);
        const char *role = NULL;
        hn_status status = role_of(ctx, head, where, &role);
        if (status == HN_OK && tag_is(attr, HN_TAG_SYSTEM, role)) {
            start->first = 1;
            status = content_of(ctx, head, where, &start->system);
        }
        g_free(where);
        if (status != HN_OK || start->first == 1)
            return status;
    }
    if (openai && attr->columns[HN_COL_SYSTEM] != NULL &&
        cJSON_GetObjectItemCaseSensitive(row, attr->columns[HN_COL_SYSTEM]) == NULL) {
        start->system = g_string_chunk_insert_const(ctx->dataset->text, "");
        return HN_OK;
    }
    return hn_row_optional_text(ctx, row, HN_COL_SYSTEM, &start->system);
}

static void push(GArray *turns, hn_chat_role role, const char *content)
{
    hn_chat_message message = {role, content};
    g_array_append_val(turns, message);
}

/* Sharegpt: each message's role tag must fit its turn (user/observation tags, then
 * assistant/function tags); the first that does not breaks the row. */
static hn_status sharegpt_turns(const hn_row_context *ctx, const chat_start *start,
                                GArray *aligned, char **broken)
{
    const hn_dataset_attr *attr = ctx->attr;
    int n = cJSON_GetArraySize(start->messages);
    for (int i = start->first; i < n && *broken == NULL; i++) {
        char *where = g_strdup_printf("%s[%d]", attr->columns[HN_COL_MESSAGES], i);
        const cJSON *message = cJSON_GetArrayItem(start->messages, i);
        const char *role = NULL, *content = NULL;
        hn_status status = role_of(ctx, message, where, &role);
        bool odd = (i - start->first) % 2 == 1;
        hn_dataset_tag a = odd ? HN_TAG_ASSISTANT : HN_TAG_USER;
        hn_dataset_tag b = odd ? HN_TAG_FUNCTION : HN_TAG_OBSERVATION;
        if (status == HN_OK && !tag_is(attr, a, role) && !tag_is(attr, b, role))
            *broken = g_strdup_printf("%s: role \"%s\" where %s%s%s was expected", where, role,
                                      attr->tags[a] ? attr->tags[a] : "",
                                      attr->tags[a] && attr->tags[b] ? " or " : "",
                                      attr->tags[b] ? attr->tags[b] : "");
        else if (status == HN_OK)
            status = content_of(ctx, message, where, &content);
        hn_chat_role mapped = HN_ROLE_USER;
        if (status == HN_OK && *broken == NULL && map_role(attr, role, &mapped))
            push(aligned, mapped, content);
        g_free(where);
        HN_TRY(status);
    }
    return HN_OK;
}

/* json.dumps([tool["function"] for tool in tool_calls], ensure_ascii=False) */
static hn_status tool_calls_text(const hn_row_context *ctx, const cJSON *calls,
                                 const char *where, const char **out)
{
    GString *text = g_string_new("[");
    const cJSON *call;
    int i = 0;
    cJSON_ArrayForEach(call, calls)
    {
        const cJSON *function = cJSON_GetObjectItemCaseSensitive(call, "function");
        if (!cJSON_IsObject(call) || function == NULL) {
            g_string_free(text, TRUE);
            return hn_row_error(ctx, "%s: tool_calls[%d]: expected an object with \"function\"",
                                where, i);
        }
        char *dumped = hn_py_json_dumps_line(function);
        g_string_append_printf(text, "%s%s", i > 0 ? ", " : "", dumped);
        g_free(dumped);
        i++;
    }
    g_string_append_c(text, ']');
    *out = g_string_chunk_insert_len(ctx->dataset->text, text->str, (gssize)text->len);
    g_string_free(text, TRUE);
    return HN_OK;
}

/* An assistant or function message with tool_calls becomes a function message whose content
 * is the calls' functions as JSON. */
static hn_status openai_tool_calls(const hn_row_context *ctx, const cJSON *message,
                                   const char *where, const char **role, const cJSON **content,
                                   const char **calls_text)
{
    *calls_text = NULL;
    const hn_dataset_attr *attr = ctx->attr;
    if (!tag_is(attr, HN_TAG_ASSISTANT, *role) && !tag_is(attr, HN_TAG_FUNCTION, *role))
        return HN_OK;
    const cJSON *calls = cJSON_GetObjectItemCaseSensitive(message, "tool_calls");
    if (calls == NULL || cJSON_IsNull(calls) || (cJSON_IsArray(calls) && calls->child == NULL))
        return HN_OK;
    if (!cJSON_IsArray(calls))
        return hn_row_error(ctx, "%s: tool_calls: expected a list, found %s", where,
                            hn_json_kind(calls));
    if (attr->tags[HN_TAG_FUNCTION] == NULL)
        return hn_row_error(ctx, "%s: tool_calls need tags.function_tag", where);
    HN_TRY(tool_calls_text(ctx, calls, where, calls_text));
    *role = attr->tags[HN_TAG_FUNCTION];
    *content = NULL;
    return HN_OK;
}

/* The observations gathered so far, as one observation message. */
static void flush_observations(const hn_row_context *ctx, GPtrArray *pending, GArray *aligned)
{
    if (pending->len == 0)
        return;
    g_ptr_array_add(pending, NULL);
    char *joined = g_strjoinv("\n</tool_response>\n<tool_response>\n", (char **)pending->pdata);
    push(aligned, HN_ROLE_OBSERVATION, g_string_chunk_insert(ctx->dataset->text, joined));
    g_free(joined);
    g_ptr_array_set_size(pending, 0);
}

static hn_status openai_message(const hn_row_context *ctx, const cJSON *message,
                                const char *where, GPtrArray *pending, GArray *aligned)
{
    const hn_dataset_attr *attr = ctx->attr;
    const char *role = NULL, *text = NULL;
    const cJSON *content;
    HN_TRY(role_of(ctx, message, where, &role));
    HN_TRY(tag_value(ctx, message, where, HN_TAG_CONTENT, &content));
    HN_TRY(openai_tool_calls(ctx, message, where, &role, &content, &text));
    if (content != NULL) {
        char *what = g_strdup_printf("%s: %s", where, attr->tags[HN_TAG_CONTENT]);
        hn_status status = hn_row_text(ctx, content, what, false, &text);
        g_free(what);
        HN_TRY(status);
    }
    if (tag_is(attr, HN_TAG_OBSERVATION, role)) {
        g_ptr_array_add(pending, (char *)text);
        return HN_OK;
    }
    flush_observations(ctx, pending, aligned);
    hn_chat_role mapped;
    if (!map_role(attr, role, &mapped))
        return hn_row_error(ctx, "%s: role \"%s\" is none of the dataset's tags", where, role);
    push(aligned, mapped, text);
    return HN_OK;
}

/* OpenAI: messages mapped first (consecutive observations joined into one; trailing ones
 * dropped, as upstream does), then the turn order checked on the mapped roles. */
static hn_status openai_turns(const hn_row_context *ctx, const chat_start *start,
                              GArray *aligned, char **broken)
{
    GPtrArray *pending = g_ptr_array_new();
    int n = cJSON_GetArraySize(start->messages);
    hn_status status = HN_OK;
    for (int i = start->first; i < n && status == HN_OK; i++) {
        char *where = g_strdup_printf("%s[%d]", ctx->attr->columns[HN_COL_MESSAGES], i);
        status = openai_message(ctx, cJSON_GetArrayItem(start->messages, i), where, pending,
                                aligned);
        g_free(where);
    }
    g_ptr_array_free(pending, TRUE);
    HN_TRY(status);
    for (guint i = 0; i < aligned->len && *broken == NULL; i++) {
        hn_chat_role role = g_array_index(aligned, hn_chat_message, i).role;
        bool fits = i % 2 == 0 ? role == HN_ROLE_USER || role == HN_ROLE_OBSERVATION
                               : role == HN_ROLE_ASSISTANT || role == HN_ROLE_FUNCTION;
        if (!fits)
            *broken = g_strdup_printf("turn %u: role %s where %s was expected", i,
                                      hn_chat_role_name(role),
                                      i % 2 == 0 ? "user or observation" : "assistant or function");
    }
    return HN_OK;
}

/* A chosen or rejected message of a ranking row. Upstream checks its role against the
 * assistant/function tags (sharegpt) or role names (openai), only warns when it does not fit
 * and keeps the row; Hone stops there. */
static hn_status ranking_answer(const hn_row_context *ctx, const cJSON *message,
                                hn_dataset_column column, bool openai, GArray *response)
{
    const hn_dataset_attr *attr = ctx->attr;
    const char *where = attr->columns[column], *role = NULL, *content = NULL;
    HN_TRY(role_of(ctx, message, where, &role));
    bool fits = openai ? strcmp(role, "assistant") == 0 || strcmp(role, "function") == 0
                       : tag_is(attr, HN_TAG_ASSISTANT, role) || tag_is(attr, HN_TAG_FUNCTION, role);
    hn_chat_role mapped;
    if (!fits || !map_role(attr, role, &mapped))
        return hn_row_error(ctx, "%s: role \"%s\": expected an assistant or function answer",
                            where, role);
    HN_TRY(content_of(ctx, message, where, &content));
    push(response, mapped, content);
    return HN_OK;
}

/* Prompt and response from the aligned turns: broken rows empty, then KTO, ranking, plain. */
static hn_status chat_finish(const hn_row_context *ctx, const cJSON *row, bool openai,
                             GArray *aligned, char *broken, hn_dataset_row *out)
{
    bool ranking = ctx->attr->ranking;
    bool odd = aligned->len % 2 != 0;
    if (broken == NULL && ((!ranking && odd) || (ranking && !odd)))
        broken = g_strdup_printf("%u messages: expected an %s number (%s)", aligned->len,
                                 ranking ? "odd" : "even",
                                 ranking ? "the prompt turns, then chosen/rejected" :
                                           "prompt and response turns in pairs");
    if (broken != NULL) {
        hn_row_broken(ctx, out, "%s", broken);
        g_free(broken);
        GArray *none = g_array_new(FALSE, FALSE, sizeof(hn_chat_message));
        hn_row_set_turns(out, none, none);
        g_array_free(none, TRUE);
        return HN_OK;
    }
    const cJSON *kto, *chosen = NULL, *rejected = NULL;
    HN_TRY(hn_row_kto_tag(ctx, row, &kto));
    if (kto == NULL)
        HN_TRY(hn_row_pair(ctx, row, true, &chosen, &rejected));
    if (kto != NULL || chosen == NULL) {
        hn_row_split_last(ctx, kto, aligned, out);
        return HN_OK;
    }
    GArray *response = g_array_new(FALSE, FALSE, sizeof(hn_chat_message));
    hn_status status = ranking_answer(ctx, chosen, HN_COL_CHOSEN, openai, response);
    if (status == HN_OK)
        status = ranking_answer(ctx, rejected, HN_COL_REJECTED, openai, response);
    if (status == HN_OK)
        hn_row_set_turns(out, aligned, response);
    g_array_free(response, TRUE);
    return status;
}

static hn_status convert_chat(const hn_row_context *ctx, const cJSON *row, bool openai,
                              hn_dataset_row *out)
{
    chat_start start;
    HN_TRY(chat_begin(ctx, row, openai, &start));
    out->system = start.system;
    GArray *aligned = g_array_new(FALSE, FALSE, sizeof(hn_chat_message));
    char *broken = NULL;
    hn_status status = openai ? openai_turns(ctx, &start, aligned, &broken)
                              : sharegpt_turns(ctx, &start, aligned, &broken);
    if (status == HN_OK)
        status = chat_finish(ctx, row, openai, aligned, broken, out);
    else
        g_free(broken);
    g_array_free(aligned, TRUE);
    return status;
}

hn_status hn_convert_sharegpt(const hn_row_context *ctx, const cJSON *row, hn_dataset_row *out)
{
    HN_TRY(convert_chat(ctx, row, false, out));
    return hn_row_optional_text(ctx, row, HN_COL_TOOLS, &out->tools);
}

/* _tools: example.get(column, ""), lists and objects as JSON text. */
static hn_status openai_tools(const hn_row_context *ctx, const cJSON *row, const char **out)
{
    const char *key = ctx->attr->columns[HN_COL_TOOLS];
    const cJSON *value = key != NULL ? cJSON_GetObjectItemCaseSensitive(row, key) : NULL;
    if (value == NULL) {
        *out = g_string_chunk_insert_const(ctx->dataset->text, "");
        return HN_OK;
    }
    if (cJSON_IsArray(value) || cJSON_IsObject(value)) {
        char *dumped = hn_py_json_dumps_line(value);
        *out = g_string_chunk_insert(ctx->dataset->text, dumped);
        g_free(dumped);
        return HN_OK;
    }
    return hn_row_text(ctx, value, key, true, out);
}

/* Upstream's openai converter then adjusts the system prompt: rows without tools get
 * "detailed thinking off" (alone, or on a line after the system prompt unless it already says
 * detailed thinking on/off); with tools a non-empty system prompt gets a newline. */
static const char *openai_system(const hn_row_context *ctx, const char *system,
                                 const char *tools)
{
    bool has_tools = tools != NULL && tools[0] != '\0';
    GStringChunk *text = ctx->dataset->text;
    if (system == NULL || system[0] == '\0')
        return has_tools ? system : g_string_chunk_insert_const(text, SHORT_SYSTEM_PROMPT);
    if (!has_tools && (strstr(system, "detailed thinking on") != NULL ||
                       strstr(system, "detailed thinking off") != NULL))
        return system;
    char *joined = g_strconcat(system, "\n", has_tools ? "" : SHORT_SYSTEM_PROMPT, NULL);
    const char *result = g_string_chunk_insert(text, joined);
    g_free(joined);
    return result;
}

hn_status hn_convert_openai(const hn_row_context *ctx, const cJSON *row, hn_dataset_row *out)
{
    HN_TRY(convert_chat(ctx, row, true, out));
    HN_TRY(openai_tools(ctx, row, &out->tools));
    out->system = openai_system(ctx, out->system, out->tools);
    return HN_OK;
}
