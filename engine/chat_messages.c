/* JSON conversations to hn_chat_message arrays, with errors naming the message. */
#include "chat_messages.h"

#include <glib.h>

#include "json_read.h"

static hn_status read_message(const cJSON *item, const char *label, int i,
                              hn_chat_message *message, hn_error *err)
{
    if (!cJSON_IsObject(item))
        return hn_fail(err, HN_ERR_FORMAT, "%s: message %d: expected an object with role and "
                       "content, found %s", label, i, hn_json_kind(item));
    const cJSON *role = cJSON_GetObjectItemCaseSensitive(item, "role");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(item, "content");
    if (!cJSON_IsString(role))
        return hn_fail(err, HN_ERR_FORMAT, "%s: message %d: role: expected a string (user, "
                       "assistant, system, function or observation), found %s", label, i,
                       hn_json_kind(role));
    if (!hn_chat_role_parse(role->valuestring, &message->role))
        return hn_fail(err, HN_ERR_FORMAT, "%s: message %d: role: expected user, assistant, "
                       "system, function or observation, found \"%s\"", label, i,
                       role->valuestring);
    if (!cJSON_IsString(content))
        return hn_fail(err, HN_ERR_FORMAT, "%s: message %d: content: expected a string, "
                       "found %s", label, i, hn_json_kind(content));
    message->content = content->valuestring;
    return HN_OK;
}

hn_status hn_chat_messages_from_json(const cJSON *array, const char *label,
                                     hn_chat_message **out, size_t *n, hn_error *err)
{
    *out = NULL;
    *n = 0;
    if (!cJSON_IsArray(array))
        return hn_fail(err, HN_ERR_FORMAT, "%s: expected a list of messages, found %s", label,
                       hn_json_kind(array));
    int count = cJSON_GetArraySize(array);
    hn_chat_message *messages = g_new0(hn_chat_message, count > 0 ? count : 1);
    int i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, array)
    {
        hn_status status = read_message(item, label, i, &messages[i], err);
        if (status != HN_OK) {
            g_free(messages);
            return status;
        }
        i++;
    }
    *out = messages;
    *n = (size_t)count;
    return HN_OK;
}
