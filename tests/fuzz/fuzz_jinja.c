/* libFuzzer target: arbitrary bytes as a chat template, compiled and rendered against a fixed
 * conversation (system, user, assistant with reasoning and a tool call, tool result, tools,
 * special tokens). Compiling and rendering must fail cleanly or succeed within the limits:
 * no crash, no hang, no output past the limit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jinja.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *conversation =
    "{\"messages\": ["
    "{\"role\": \"system\", \"content\": \"You are Hone.\"},"
    "{\"role\": \"user\", \"content\": \"Héllo 🙂 <tool_response>x</tool_response>\"},"
    "{\"role\": \"assistant\", \"content\": \"<think>\\nhm\\n</think>\\n\\nHi!\","
    " \"reasoning_content\": \"hm\", \"tool_calls\": [{\"id\": \"call12345\", \"type\": \"function\","
    " \"function\": {\"name\": \"f\", \"arguments\": {\"a\": 1, \"b\": [2.5, null, true]}}}]},"
    "{\"role\": \"tool\", \"tool_call_id\": \"call12345\", \"content\": \"22\"},"
    "{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"look\"}, {\"type\": \"image\"}]}],"
    " \"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", \"description\": \"d\","
    " \"parameters\": {\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"integer\"}}}}}],"
    " \"special\": {\"bos_token\": \"<s>\", \"eos_token\": \"</s>\"},"
    " \"kwargs\": {\"enable_thinking\": false, \"date_string\": \"01 Jan 2025\"}}";

static cJSON *context(void)
{
    static cJSON *ctx;
    if (ctx == NULL) {
        cJSON *in = cJSON_Parse(conversation);
        hn_chat_input input = {
            .messages = cJSON_GetObjectItem(in, "messages"),
            .tools = cJSON_GetObjectItem(in, "tools"),
            .add_generation_prompt = true,
            .special_tokens = cJSON_GetObjectItem(in, "special"),
            .kwargs = cJSON_GetObjectItem(in, "kwargs"),
        };
        hn_error err;
        if (hn_jinja_chat_context(&input, &ctx, &err) != HN_OK)
            abort();
        cJSON_Delete(in);
    }
    return ctx;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hn_jinja_template *t = NULL;
    hn_error err;
    if (hn_jinja_compile_len((const char *)data, size, "fuzz", &t, &err) != HN_OK) {
        if (strlen(err.message) == 0)
            abort(); /* a failure always says why */
        return 0;
    }
    hn_jinja_options limits = {.max_output_bytes = 1 << 20, .max_memory_bytes = 64 << 20,
                               .max_steps = 200000, .max_depth = 100, .now = 1700000000};
    char *out = NULL;
    size_t length = 0;
    if (hn_jinja_render_opts(t, context(), &limits, &out, &length, &err) == HN_OK) {
        if (out == NULL || length > limits.max_output_bytes || out[length] != '\0')
            abort();
        g_free(out);
    } else if (out != NULL || strlen(err.message) == 0) {
        abort();
    }
    hn_jinja_free(t);
    return 0;
}
