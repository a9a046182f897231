/* The context a chat template renders with, built from a conversation the way transformers'
 * apply_chat_template builds it: message keys whose value is null are dropped, reasoning is
 * offered as both "thinking" and "reasoning_content", tools and documents are null when
 * absent, special tokens come first and the caller's kwargs override them. */
#include <string.h>

#include "jinja.h"

static const char *const reasoning_keys[] = {"reasoning_content", "thinking", "reasoning"};

/* A message without its null members, with transformers' reasoning aliases. */
static cJSON *normalize_message(const cJSON *message)
{
    const cJSON *reasoning = NULL;
    for (size_t k = 0; k < G_N_ELEMENTS(reasoning_keys) && reasoning == NULL; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(message, reasoning_keys[k]);
        if (v != NULL && !cJSON_IsNull(v))
            reasoning = v;
    }
    cJSON *out = cJSON_CreateObject();
    if (reasoning != NULL)
        cJSON_AddItemToObject(out, "thinking", cJSON_Duplicate(reasoning, true));
    bool has_reasoning_content = false;
    const cJSON *item;
    cJSON_ArrayForEach(item, message)
    {
        if (cJSON_IsNull(item))
            continue;
        if (reasoning != NULL && strcmp(item->string, "thinking") == 0) {
            cJSON_ReplaceItemInObjectCaseSensitive(out, "thinking", cJSON_Duplicate(item, true));
        } else if (reasoning != NULL && strcmp(item->string, "reasoning_content") == 0) {
            cJSON_AddItemToObject(out, item->string, cJSON_Duplicate(reasoning, true));
            has_reasoning_content = true;
        } else {
            cJSON_AddItemToObject(out, item->string, cJSON_Duplicate(item, true));
        }
    }
    if (reasoning != NULL && !has_reasoning_content)
        cJSON_AddItemToObject(out, "reasoning_content", cJSON_Duplicate(reasoning, true));
    return out;
}

static hn_status check_objects(const cJSON *list, const char *what, hn_error *err)
{
    if (list == NULL || cJSON_IsNull(list))
        return HN_OK;
    if (!cJSON_IsArray(list))
        return hn_fail(err, HN_ERR_ARGUMENT, "chat template input: %s must be an array of "
                       "objects", what);
    int i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, list)
    {
        if (!cJSON_IsObject(item))
            return hn_fail(err, HN_ERR_ARGUMENT, "chat template input: %s[%d] must be an object",
                           what, i);
        i++;
    }
    return HN_OK;
}

static const char *const fixed_names[] = {"messages", "tools", "documents",
                                          "add_generation_prompt"};

static bool is_fixed(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(fixed_names); i++)
        if (strcmp(name, fixed_names[i]) == 0)
            return true;
    return false;
}

/* Copies the members of obj into ctx, replacing earlier ones of the same name. */
static hn_status merge(cJSON *ctx, const cJSON *obj, const char *what, hn_error *err)
{
    if (obj == NULL)
        return HN_OK;
    if (!cJSON_IsObject(obj))
        return hn_fail(err, HN_ERR_ARGUMENT, "chat template input: %s must be an object", what);
    const cJSON *item;
    cJSON_ArrayForEach(item, obj)
    {
        if (is_fixed(item->string))
            return hn_fail(err, HN_ERR_ARGUMENT, "chat template input: %s may not set '%s'", what,
                           item->string);
        cJSON_DeleteItemFromObjectCaseSensitive(ctx, item->string);
        cJSON_AddItemToObject(ctx, item->string, cJSON_Duplicate(item, true));
    }
    return HN_OK;
}

hn_status hn_jinja_chat_context(const hn_chat_input *in, cJSON **out, hn_error *err)
{
    *out = NULL;
    if (!cJSON_IsArray(in->messages))
        return hn_fail(err, HN_ERR_ARGUMENT,
                       "chat template input: messages must be an array of message objects");
    if (cJSON_GetArraySize(in->messages) == 0)
        return hn_fail(err, HN_ERR_ARGUMENT, "chat template input: cannot apply a chat template "
                       "to an empty conversation");
    HN_TRY(check_objects(in->messages, "messages", err));
    HN_TRY(check_objects(in->tools, "tools", err));
    HN_TRY(check_objects(in->documents, "documents", err));
    cJSON *ctx = cJSON_CreateObject();
    cJSON *messages = cJSON_AddArrayToObject(ctx, "messages");
    const cJSON *message;
    cJSON_ArrayForEach(message, in->messages)
        cJSON_AddItemToArray(messages, normalize_message(message));
    cJSON_AddItemToObject(ctx, "tools", in->tools != NULL ? cJSON_Duplicate(in->tools, true)
                                                          : cJSON_CreateNull());
    cJSON_AddItemToObject(ctx, "documents", in->documents != NULL
                                                ? cJSON_Duplicate(in->documents, true)
                                                : cJSON_CreateNull());
    cJSON_AddBoolToObject(ctx, "add_generation_prompt", in->add_generation_prompt);
    hn_status status = merge(ctx, in->special_tokens, "special_tokens", err);
    if (status == HN_OK)
        status = merge(ctx, in->kwargs, "kwargs", err);
    if (status != HN_OK) {
        cJSON_Delete(ctx);
        return status;
    }
    *out = ctx;
    return HN_OK;
}
