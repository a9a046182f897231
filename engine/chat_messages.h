/* A conversation read from JSON: a list of {"role": ..., "content": ...} objects with
 * LLaMA-Factory's role names, as `hone tokenize --messages` and the datasets give it. */
#pragma once

#include <cjson/cJSON.h>
#include <stddef.h>

#include "chat_encode.h"
#include "hn_error.h"

/* Reads the messages of array (label names it in messages, e.g. a file name). The contents
 * point into array, which must outlive *out (g_free it). A missing or non-string role or
 * content, or an unknown role, is an error naming the message index. */
hn_status hn_chat_messages_from_json(const cJSON *array, const char *label,
                                     hn_chat_message **out, size_t *n, hn_error *err);
