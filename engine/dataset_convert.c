/* Rows to LLaMA-Factory's aligned form: the helpers the converters share and the alpaca
 * converter (llamafactory/data/converter.py, AlpacaDatasetConverter). Where upstream takes a
 * value of an unexpected type silently (or fails deep inside Python), Hone stops with an error
 * naming the file, the row and what was expected. */
#include <stdarg.h>
#include <string.h>

#include "dataset_internal.h"
#include "json_read.h"

hn_status hn_row_error(const hn_row_context *ctx, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    char *what = g_strdup_vprintf(fmt, args);
    va_end(args);
    char *place = hn_row_place_text(ctx->place);
    hn_status status = hn_fail(ctx->err, HN_ERR_FORMAT, "%s: %s (dataset \"%s\", %s format)",
                               place, what, ctx->attr->name,
                               hn_dataset_format_name(ctx->attr->formatting));
    g_free(place);
    g_free(what);
    return status;
}

void hn_row_broken(const hn_row_context *ctx, hn_dataset_row *row, const char *fmt, ...)
{
    row->broken = true;
    row->n_prompt = row->n_response = 0;
    hn_dataset *dataset = ctx->dataset;
    if (dataset->n_broken < HN_DATASET_REASONS) {
        va_list args;
        va_start(args, fmt);
        char *what = g_strdup_vprintf(fmt, args);
        va_end(args);
        char *place = hn_row_place_text(ctx->place);
        dataset->broken_reasons[dataset->n_broken] = g_strdup_printf("%s: %s", place, what);
        g_free(place);
        g_free(what);
    }
    dataset->n_broken++;
}

hn_status hn_row_column(const hn_row_context *ctx, const cJSON *row, hn_dataset_column column,
                        const cJSON **out)
{
    const char *key = ctx->attr->columns[column];
    if (key == NULL)
        return hn_row_error(ctx, "the %s column is needed but dataset_info.json sets none",
                            hn_dataset_column_key(column));
    *out = cJSON_GetObjectItemCaseSensitive(row, key);
    if (*out == NULL)
        return hn_row_error(ctx, "missing \"%s\" (the %s column)", key,
                            hn_dataset_column_key(column));
    return HN_OK;
}

hn_status hn_row_text(const hn_row_context *ctx, const cJSON *value, const char *what,
                      bool allow_null, const char **out)
{
    if (allow_null && cJSON_IsNull(value)) {
        *out = NULL;
        return HN_OK;
    }
    if (!cJSON_IsString(value))
        return hn_row_error(ctx, "%s: expected a string%s, found %s", what,
                            allow_null ? " or null" : "", hn_json_kind(value));
    *out = g_string_chunk_insert(ctx->dataset->text, value->valuestring);
    return HN_OK;
}

void hn_row_set_turns(hn_dataset_row *row, GArray *prompt, GArray *response)
{
    size_t n = prompt->len + response->len;
    hn_chat_message *messages = g_new0(hn_chat_message, n > 0 ? n : 1);
    if (prompt->len > 0)
        memcpy(messages, prompt->data, prompt->len * sizeof *messages);
    if (response->len > 0)
        memcpy(messages + prompt->len, response->data, response->len * sizeof *messages);
    row->prompt = messages;
    row->n_prompt = prompt->len;
    row->response = messages + prompt->len;
    row->n_response = response->len;
}

static void push(GArray *turns, hn_chat_role role, const char *content)
{
    hn_chat_message message = {role, content};
    g_array_append_val(turns, message);
}

/* history: [[old prompt, old response], ...] before the prompt, when it is a list. */
static hn_status alpaca_history(const hn_row_context *ctx, const cJSON *row, GArray *prompt)
{
    if (ctx->attr->columns[HN_COL_HISTORY] == NULL)
        return HN_OK;
    const cJSON *history;
    HN_TRY(hn_row_column(ctx, row, HN_COL_HISTORY, &history));
    if (cJSON_IsNull(history))
        return HN_OK;
    if (!cJSON_IsArray(history))
        return hn_row_error(ctx, "history: expected a list of [prompt, response] pairs, found %s",
                            hn_json_kind(history));
    int turn = 0;
    const cJSON *pair;
    cJSON_ArrayForEach(pair, history)
    {
        if (!cJSON_IsArray(pair) || cJSON_GetArraySize(pair) != 2)
            return hn_row_error(ctx, "history[%d]: expected a [prompt, response] pair of "
                                "strings", turn);
        const char *old_prompt = NULL, *old_response = NULL;
        HN_TRY(hn_row_text(ctx, cJSON_GetArrayItem(pair, 0), "history prompt", false,
                           &old_prompt));
        HN_TRY(hn_row_text(ctx, cJSON_GetArrayItem(pair, 1), "history response", false,
                           &old_response));
        push(prompt, HN_ROLE_USER, old_prompt);
        push(prompt, HN_ROLE_ASSISTANT, old_response);
        turn++;
    }
    return HN_OK;
}

/* "prompt\nquery", each only when set and not empty (or null). */
static hn_status alpaca_query(const hn_row_context *ctx, const cJSON *row, GArray *prompt)
{
    static const hn_dataset_column parts[] = {HN_COL_PROMPT, HN_COL_QUERY};
    GString *text = g_string_new(NULL);
    bool first = true;
    for (size_t i = 0; i < G_N_ELEMENTS(parts); i++) {
        if (ctx->attr->columns[parts[i]] == NULL)
            continue;
        const cJSON *value;
        const char *part = NULL;
        hn_status status = hn_row_column(ctx, row, parts[i], &value);
        if (status == HN_OK)
            status = hn_row_text(ctx, value, ctx->attr->columns[parts[i]], true, &part);
        if (status != HN_OK) {
            g_string_free(text, TRUE);
            return status;
        }
        if (part == NULL || part[0] == '\0')
            continue;
        g_string_append_printf(text, "%s%s", first ? "" : "\n", part);
        first = false;
    }
    push(prompt, HN_ROLE_USER, g_string_chunk_insert_len(ctx->dataset->text, text->str,
                                                         (gssize)text->len));
    g_string_free(text, TRUE);
    return HN_OK;
}

hn_status hn_row_kto_tag(const hn_row_context *ctx, const cJSON *row, const cJSON **tag)
{
    *tag = NULL;
    if (ctx->attr->columns[HN_COL_KTO_TAG] == NULL)
        return HN_OK;
    const cJSON *value;
    HN_TRY(hn_row_column(ctx, row, HN_COL_KTO_TAG, &value));
    if (cJSON_IsBool(value))
        *tag = value;
    else if (!cJSON_IsNull(value))
        return hn_row_error(ctx, "%s: expected true or false (the kto_tag), found %s",
                            ctx->attr->columns[HN_COL_KTO_TAG], hn_json_kind(value));
    return HN_OK;
}

/* The KTO response: the answer plus an empty one, after it when the tag is true
 * (desirable), before it when false. */
static void kto_response(const hn_row_context *ctx, const cJSON *tag, GArray *response,
                         const hn_chat_message *answer)
{
    const char *empty = g_string_chunk_insert_const(ctx->dataset->text, "");
    if (!cJSON_IsTrue(tag))
        push(response, HN_ROLE_ASSISTANT, empty);
    if (answer != NULL)
        g_array_append_val(response, *answer);
    if (cJSON_IsTrue(tag))
        push(response, HN_ROLE_ASSISTANT, empty);
}

hn_status hn_row_pair(const hn_row_context *ctx, const cJSON *row, bool objects,
                      const cJSON **chosen, const cJSON **rejected)
{
    *chosen = *rejected = NULL;
    if (!ctx->attr->ranking)
        return HN_OK;
    const cJSON *pair[2];
    static const hn_dataset_column columns[] = {HN_COL_CHOSEN, HN_COL_REJECTED};
    for (int i = 0; i < 2; i++) {
        HN_TRY(hn_row_column(ctx, row, columns[i], &pair[i]));
        if (cJSON_IsNull(pair[i]))
            return HN_OK;
        if (objects ? !cJSON_IsObject(pair[i]) : !cJSON_IsString(pair[i]))
            return hn_row_error(ctx, "%s: expected %s, found %s", ctx->attr->columns[columns[i]],
                                objects ? "a message object" : "a string",
                                hn_json_kind(pair[i]));
    }
    *chosen = pair[0];
    *rejected = pair[1];
    return HN_OK;
}

hn_status hn_row_optional_text(const hn_row_context *ctx, const cJSON *row,
                               hn_dataset_column column, const char **out)
{
    *out = g_string_chunk_insert_const(ctx->dataset->text, "");
    if (ctx->attr->columns[column] == NULL)
        return HN_OK;
    const cJSON *value;
    HN_TRY(hn_row_column(ctx, row, column, &value));
    return hn_row_text(ctx, value, ctx->attr->columns[column], true, out);
}

static hn_status alpaca_response(const hn_row_context *ctx, const cJSON *row, GArray *response)
{
    const cJSON *tag, *chosen = NULL, *rejected = NULL;
    HN_TRY(hn_row_kto_tag(ctx, row, &tag));
    if (tag == NULL)
        HN_TRY(hn_row_pair(ctx, row, false, &chosen, &rejected));
    if (tag == NULL && chosen != NULL) {
        push(response, HN_ROLE_ASSISTANT, g_string_chunk_insert(ctx->dataset->text,
                                                                chosen->valuestring));
        push(response, HN_ROLE_ASSISTANT, g_string_chunk_insert(ctx->dataset->text,
                                                                rejected->valuestring));
        return HN_OK;
    }
    const cJSON *value = NULL;
    const char *text = NULL;
    if (tag != NULL || ctx->attr->columns[HN_COL_RESPONSE] != NULL) {
        HN_TRY(hn_row_column(ctx, row, HN_COL_RESPONSE, &value));
        HN_TRY(hn_row_text(ctx, value, ctx->attr->columns[HN_COL_RESPONSE], tag == NULL, &text));
    }
    hn_chat_message answer = {HN_ROLE_ASSISTANT, text};
    if (tag != NULL)
        kto_response(ctx, tag, response, &answer);
    else if (text != NULL) /* else: unsupervised, no response */
        g_array_append_val(response, answer);
    return HN_OK;
}

static hn_status convert_alpaca(const hn_row_context *ctx, const cJSON *row, hn_dataset_row *out)
{
    GArray *prompt = g_array_new(FALSE, FALSE, sizeof(hn_chat_message));
    GArray *response = g_array_new(FALSE, FALSE, sizeof(hn_chat_message));
    hn_status status = alpaca_history(ctx, row, prompt);
    if (status == HN_OK)
        status = alpaca_query(ctx, row, prompt);
    if (status == HN_OK)
        status = alpaca_response(ctx, row, response);
    if (status == HN_OK)
        status = hn_row_optional_text(ctx, row, HN_COL_SYSTEM, &out->system);
    if (status == HN_OK)
        status = hn_row_optional_text(ctx, row, HN_COL_TOOLS, &out->tools);
    if (status == HN_OK)
        hn_row_set_turns(out, prompt, response);
    g_array_free(prompt, TRUE);
    g_array_free(response, TRUE);
    return status;
}

void hn_row_split_last(const hn_row_context *ctx, const cJSON *kto, GArray *aligned,
                       hn_dataset_row *out)
{
    GArray *prompt = g_array_new(FALSE, FALSE, sizeof(hn_chat_message));
    GArray *response = g_array_new(FALSE, FALSE, sizeof(hn_chat_message));
    const hn_chat_message *last = NULL;
    if (aligned->len > 0) {
        g_array_append_vals(prompt, aligned->data, aligned->len - 1);
        last = &g_array_index(aligned, hn_chat_message, aligned->len - 1);
    }
    if (kto != NULL)
        kto_response(ctx, kto, response, last);
    else if (last != NULL)
        g_array_append_val(response, *last);
    hn_row_set_turns(out, prompt, response);
    g_array_free(prompt, TRUE);
    g_array_free(response, TRUE);
}

hn_status hn_dataset_convert_row(const hn_row_context *ctx, const cJSON *row,
                                 hn_dataset_row *out)
{
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(row))
        return hn_row_error(ctx, "expected an object, found %s", hn_json_kind(row));
    switch (ctx->attr->formatting) {
    case HN_DATASET_ALPACA: return convert_alpaca(ctx, row, out);
    case HN_DATASET_SHAREGPT: return hn_convert_sharegpt(ctx, row, out);
    case HN_DATASET_OPENAI: return hn_convert_openai(ctx, row, out);
    }
    return hn_row_error(ctx, "unknown formatting");
}
