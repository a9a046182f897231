/* Chat templates: every named template encodes LLaMA-Factory's generated conversations to the
 * same input ids and labels as LLaMA-Factory itself (tests/reference/chat_template_ref.py),
 * and bad conversations get errors that name the message and what was expected. */
#include <string.h>

#include "chat_encode.h"
#include "chat_messages.h"
#include "chat_template.h"
#include "json_read.h"
#include "test_util.h"
#include "tokenizer.h"

static char *reference_dir;
static int truncated_cases; /* cases that cutoff_len actually cut, over all templates */
static int templates_checked;

static bool bool_option(const cJSON *options, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItem(options, key));
}

/* The first index where got and want differ, or -1. */
static int first_difference(const int32_t *got, size_t n, const cJSON *want)
{
    int n_want = cJSON_GetArraySize(want);
    for (int i = 0; i < n_want && (size_t)i < n; i++)
        if (got[i] != (int32_t)cJSON_GetArrayItem(want, i)->valuedouble)
            return i;
    return (size_t)n_want == n ? -1 : (int)MIN((size_t)n_want, n);
}

static void report(const char *name, int index, const char *what, const int32_t *got, size_t n,
                   const cJSON *want, int at)
{
    GString *line = g_string_new(NULL);
    g_string_append_printf(line, "%s case %d: %s differ at %d (lengths %zu, %d): got", name,
                           index, what, at, n, cJSON_GetArraySize(want));
    for (int i = MAX(at - 3, 0); i < at + 4 && (size_t)i < n; i++)
        g_string_append_printf(line, " %d", got[i]);
    g_string_append(line, ", want");
    for (int i = MAX(at - 3, 0); i < at + 4 && i < cJSON_GetArraySize(want); i++)
        g_string_append_printf(line, " %d", (int)cJSON_GetArrayItem(want, i)->valuedouble);
    g_test_message("%s", line->str);
    g_string_free(line, TRUE);
}

/* Encodes one reference case; true when ids and labels equal LLaMA-Factory's. */
static bool check_case(const char *name, int index, const hn_chat_template *tmpl,
                       const hn_tokenizer *tok, const cJSON *c)
{
    hn_chat_message *messages = NULL;
    size_t n_messages = 0;
    hn_error err = {0};
    if (hn_chat_messages_from_json(cJSON_GetObjectItem(c, "messages"), name, &messages,
                                   &n_messages, &err) != HN_OK)
        g_error("%s", err.message);
    const cJSON *options_json = cJSON_GetObjectItem(c, "options");
    hn_chat_encode_options options;
    hn_chat_encode_options_init(&options);
    const cJSON *system = cJSON_GetObjectItem(c, "system");
    options.system = cJSON_IsString(system) ? system->valuestring : NULL;
    options.train_on_prompt = bool_option(options_json, "train_on_prompt");
    options.mask_history = bool_option(options_json, "mask_history");
    options.enable_thinking = bool_option(options_json, "enable_thinking");
    options.preserve_thinking = bool_option(options_json, "preserve_thinking");
    const cJSON *cutoff = cJSON_GetObjectItem(c, "cutoff_len");
    options.cutoff_len = cJSON_IsNumber(cutoff) ? cutoff->valueint : 0;
    hn_chat_encoded encoded = {0};
    bool ok = false;
    if (hn_chat_encode(tmpl, tok, messages, n_messages, &options, &encoded, &err) != HN_OK) {
        g_test_message("%s case %d: %s", name, index, err.message);
    } else {
        const cJSON *want_ids = cJSON_GetObjectItem(c, "input_ids");
        const cJSON *want_labels = cJSON_GetObjectItem(c, "labels");
        int at_ids = first_difference(encoded.input_ids, encoded.n, want_ids);
        int at_labels = first_difference(encoded.labels, encoded.n, want_labels);
        if (at_ids >= 0)
            report(name, index, "input_ids", encoded.input_ids, encoded.n, want_ids, at_ids);
        else if (at_labels >= 0)
            report(name, index, "labels", encoded.labels, encoded.n, want_labels, at_labels);
        ok = at_ids < 0 && at_labels < 0;
        truncated_cases += options.cutoff_len > 0 && encoded.n >= (size_t)options.cutoff_len;
    }
    hn_chat_encoded_clear(&encoded);
    g_free(messages);
    return ok;
}

static void test_against_reference(gconstpointer data)
{
    const char *name = data;
    char *path = g_strdup_printf("%s/%s.json", reference_dir, name);
    cJSON *reference = test_load_json(path);
    char *tok_dir = g_build_filename(reference_dir, "tokenizers",
                                     cJSON_GetObjectItem(reference, "tokenizer")->valuestring, NULL);
    hn_tokenizer *tok = NULL;
    hn_chat_template tmpl;
    hn_error err = {0};
    if (hn_tokenizer_load(tok_dir, &tok, &err) != HN_OK || hn_chat_template_get(name, &tmpl, &err) != HN_OK)
        g_error("%s", err.message);
    const cJSON *cases = cJSON_GetObjectItem(reference, "cases");
    int passed = 0, total = cJSON_GetArraySize(cases);
    for (int i = 0; i < total; i++)
        passed += check_case(name, i, &tmpl, tok, cJSON_GetArrayItem(cases, i));
    g_test_message("%s: %d of %d conversations equal LLaMA-Factory's", name, passed, total);
    templates_checked++;
    g_assert_cmpint(total, >=, 20);
    g_assert_cmpint(passed, ==, total);
    hn_tokenizer_free(tok);
    cJSON_Delete(reference);
    g_free(tok_dir);
    g_free(path);
}

static const char *const CHATML[] = {"<|im_start|>", "<|im_end|>", NULL};

/* A tiny tokenizer: letters as tokens, and specials (NULL-terminated) as special tokens. */
static hn_tokenizer *tiny_tokenizer(const char *const *specials)
{
    GString *json = g_string_new("{\"model\": {\"type\": \"BPE\", \"vocab\": {");
    const char *chars = "abcdefghijklmnopqrstuvwxyz \n:";
    for (int i = 0; chars[i] != '\0'; i++)
        g_string_append_printf(json, "%s\"%s\": %d", i > 0 ? ", " : "",
                               chars[i] == '\n' ? "\\n" : (char[]){chars[i], 0}, i);
    g_string_append(json, "}, \"merges\": []}, \"added_tokens\": [");
    for (int i = 0; specials[i] != NULL; i++)
        g_string_append_printf(json, "%s{\"id\": %d, \"content\": \"%s\", \"special\": true}",
                               i > 0 ? ", " : "", 40 + i, specials[i]);
    g_string_append(json, "]}");
    hn_tokenizer *tok = NULL;
    hn_error err = {0};
    if (hn_tokenizer_parse(json->str, json->len, "tiny.json", &tok, &err) != HN_OK)
        g_error("%s", err.message);
    g_string_free(json, TRUE);
    return tok;
}

/* Encodes the JSON conversation with template name and expects an error containing expect. */
static void expect_error(const char *name, const char *conversation, const char *tools,
                         bool train_on_prompt, hn_status status, const char *expect)
{
    hn_tokenizer *tok = tiny_tokenizer(CHATML);
    hn_chat_template tmpl;
    hn_error err = {0};
    g_assert_cmpint(hn_chat_template_get(name, &tmpl, &err), ==, HN_OK);
    cJSON *json = cJSON_Parse(conversation);
    g_assert_nonnull(json);
    hn_chat_message *messages = NULL;
    size_t n = 0;
    hn_status got = hn_chat_messages_from_json(json, "messages.json", &messages, &n, &err);
    if (got == HN_OK) {
        hn_chat_encode_options options;
        hn_chat_encode_options_init(&options);
        options.tools = tools;
        options.train_on_prompt = train_on_prompt;
        hn_chat_encoded encoded = {0};
        got = hn_chat_encode(&tmpl, tok, messages, n, &options, &encoded, &err);
        g_assert_null(encoded.input_ids);
    }
    g_assert_cmpint(got, ==, status);
    test_assert_contains(err.message, expect);
    g_free(messages);
    cJSON_Delete(json);
    hn_tokenizer_free(tok);
}

static void test_bad_input(void)
{
    hn_chat_template tmpl;
    hn_error err = {0};
    g_assert_cmpint(hn_chat_template_get("chatm", &tmpl, &err), ==, HN_ERR_ARGUMENT);
    test_assert_contains(err.message, "template \"chatm\": expected one of the known templates");
    test_assert_contains(err.message, "chatml, qwen, qwen3, qwen3_nothink, llama2");

    const char *pair = "{\"role\": \"user\", \"content\": \"hi\"}, "
                       "{\"role\": \"assistant\", \"content\": \"ok\"}";
    char *two_users = g_strdup_printf("[%s, {\"role\": \"user\", \"content\": \"a\"}, "
                                      "{\"role\": \"user\", \"content\": \"b\"}]", pair);
    expect_error("chatml", two_users, NULL, false, HN_ERR_ARGUMENT,
                 "message 3: expected assistant (turns alternate user, assistant), found user");
    expect_error("chatml", "[{\"role\": \"assistant\", \"content\": \"a\"}, "
                 "{\"role\": \"user\", \"content\": \"b\"}]", NULL, false, HN_ERR_ARGUMENT,
                 "message 0: expected user or observation (turns alternate user, assistant), "
                 "found assistant");
    expect_error("chatml", "[{\"role\": \"user\", \"content\": \"a\"}]", NULL, false,
                 HN_ERR_ARGUMENT, "expected user and assistant turns in pairs, ending with an "
                 "assistant message, found 1 message after the system prompt");
    expect_error("chatml", "[{\"role\": \"user\"}, {\"role\": \"assistant\", \"content\": \"a\"}]",
                 NULL, false, HN_ERR_FORMAT,
                 "messages.json: message 0: content: expected a string, found nothing");
    expect_error("chatml", "[{\"role\": \"user\", \"content\": 3}]", NULL, false, HN_ERR_FORMAT,
                 "message 0: content: expected a string, found a number");
    expect_error("chatml", "[{\"role\": \"human\", \"content\": \"a\"}]", NULL, false,
                 HN_ERR_FORMAT, "message 0: role: expected user, assistant, system, function or "
                 "observation, found \"human\"");
    char *late_system = g_strdup_printf("[%s, {\"role\": \"system\", \"content\": \"s\"}]", pair);
    expect_error("chatml", late_system, NULL, false, HN_ERR_ARGUMENT,
                 "message 2: expected a system message only as the first message");
    char *tools = g_strdup_printf("[%s]", pair);
    expect_error("chatml", tools, "[]", false, HN_ERR_UNSUPPORTED,
                 "tools: expected none (tool descriptions and function calls are not supported");
    expect_error("chatml", "[{\"role\": \"user\", \"content\": \"a\"}, "
                 "{\"role\": \"function\", \"content\": \"{}\"}]", NULL, false,
                 HN_ERR_UNSUPPORTED, "message 1: expected user, assistant or observation, found "
                 "function (tool calls are not supported yet)");
    expect_error("glm4", tools, NULL, true, HN_ERR_ARGUMENT,
                 "train_on_prompt: template \"glm4\" puts the eos in the next prompt");
    expect_error("llama3", tools, NULL, false, HN_ERR_UNSUPPORTED,
                 "template \"llama3\": expected \"<|eot_id|>\" as a special token of the "
                 "tokenizer, found no such token");
    g_free(two_users);
    g_free(late_system);
    g_free(tools);
}

/* A stop word the tokenizer lacks (Llama 3.0 has no <|eom_id|>) is fine until a message
 * holds it: upstream would then add it as a new token. */
static void test_missing_stop_word(void)
{
    const char *const specials[] = {"<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>", NULL};
    hn_tokenizer *tok = tiny_tokenizer(specials);
    hn_chat_template tmpl;
    hn_error err = {0};
    g_assert_cmpint(hn_chat_template_get("llama3", &tmpl, &err), ==, HN_OK);
    hn_chat_message messages[] = {{HN_ROLE_USER, "hi"}, {HN_ROLE_ASSISTANT, "ok"}};
    hn_chat_encode_options options;
    hn_chat_encode_options_init(&options);
    hn_chat_encoded encoded = {0};
    g_assert_cmpint(hn_chat_encode(&tmpl, tok, messages, 2, &options, &encoded, &err), ==, HN_OK);
    g_assert_cmpint(encoded.n, >, 0);
    hn_chat_encoded_clear(&encoded);
    messages[1].content = "ok<|eom_id|>";
    g_assert_cmpint(hn_chat_encode(&tmpl, tok, messages, 2, &options, &encoded, &err), ==,
                    HN_ERR_UNSUPPORTED);
    test_assert_contains(err.message, "message 1: expected text without the stop word "
                         "\"<|eom_id|>\", which LLaMA-Factory adds to this tokenizer");
    hn_tokenizer_free(tok);
}

/* The C-level contract: a NULL content names its message. */
static void test_null_content(void)
{
    hn_tokenizer *tok = tiny_tokenizer(CHATML);
    hn_chat_template tmpl;
    hn_error err = {0};
    g_assert_cmpint(hn_chat_template_get("chatml", &tmpl, &err), ==, HN_OK);
    const hn_chat_message messages[] = {{HN_ROLE_USER, "a"}, {HN_ROLE_ASSISTANT, NULL}};
    hn_chat_encode_options options;
    hn_chat_encode_options_init(&options);
    hn_chat_encoded encoded = {0};
    g_assert_cmpint(hn_chat_encode(&tmpl, tok, messages, 2, &options, &encoded, &err), ==,
                    HN_ERR_ARGUMENT);
    test_assert_contains(err.message, "message 1 (assistant): expected content, found none");
    hn_tokenizer_free(tok);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/chat_template/bad-input", test_bad_input);
    g_test_add_func("/engine/chat_template/null-content", test_null_content);
    g_test_add_func("/engine/chat_template/missing-stop-word", test_missing_stop_word);
    if (g_test_subprocess())
        return g_test_run();
    reference_dir = test_write_reference("chat_template_ref.py");
    char *names_path = g_build_filename(reference_dir, "names.json", NULL);
    cJSON *names = test_load_json(names_path);
    /* Every template Hone names must be covered by the reference. */
    for (const char *const *known = hn_chat_template_names(); *known != NULL; known++) {
        bool covered = false;
        const cJSON *name;
        cJSON_ArrayForEach(name, names) covered |= strcmp(name->valuestring, *known) == 0;
        if (!covered)
            g_error("template %s has no reference conversations in chat_template_ref.py", *known);
    }
    const cJSON *name;
    cJSON_ArrayForEach(name, names)
    {
        char *path = g_strdup_printf("/reference/chat_template/%s", name->valuestring);
        g_test_add_data_func(path, name->valuestring, test_against_reference);
        g_free(path);
    }
    int status = g_test_run();
    if (status == 0 && templates_checked > 10 && truncated_cases < 20)
        g_error("only %d reference conversations were cut by cutoff_len", truncated_cases);
    g_test_message("%d conversations cut by cutoff_len", truncated_cases);
    cJSON_Delete(names);
    test_remove_tree(reference_dir);
    g_free(names_path);
    return status;
}
