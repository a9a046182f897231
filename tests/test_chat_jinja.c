/* `template: auto`: conversations encoded with real models' own Jinja chat templates. Ids
 * equal transformers' apply_chat_template and labels equal transformers' assistant mask over
 * generation-marked copies of the templates (tests/reference/chat_jinja_ref.py); plus bad
 * input and the chat_template.jinja file. */
#include <cjson/cJSON.h>
#include <string.h>

#include "chat_jinja.h"
#include "test_util.h"

static char *reference_dir;

static int first_difference(const int32_t *got, size_t n, const cJSON *want)
{
    int n_want = cJSON_GetArraySize(want);
    for (int i = 0; i < n_want && (size_t)i < n; i++)
        if (got[i] != cJSON_GetArrayItem(want, i)->valueint)
            return i;
    return (size_t)n_want == n ? -1 : (int)(n < (size_t)n_want ? n : (size_t)n_want);
}

static bool check_case(const char *name, int index, const hn_chat_jinja *chat,
                       const cJSON *c)
{
    const cJSON *options_json = cJSON_GetObjectItem(c, "options");
    hn_chat_encode_options options;
    hn_chat_encode_options_init(&options);
    options.train_on_prompt = cJSON_IsTrue(cJSON_GetObjectItem(options_json, "train_on_prompt"));
    options.mask_history = cJSON_IsTrue(cJSON_GetObjectItem(options_json, "mask_history"));
    options.enable_thinking = cJSON_IsTrue(cJSON_GetObjectItem(options_json, "enable_thinking"));
    hn_chat_encoded got = {0};
    hn_error err = {0};
    if (hn_chat_jinja_encode(chat, cJSON_GetObjectItem(c, "messages"), &options,
                             cJSON_GetObjectItem(c, "kwargs"), &got, &err) != HN_OK) {
        g_test_message("%s case %d: %s", name, index, err.message);
        return false;
    }
    bool ok = true;
    const char *keys[] = {"input_ids", "labels"};
    const int32_t *values[] = {got.input_ids, got.labels};
    for (int k = 0; k < 2; k++) {
        int at = first_difference(values[k], got.n, cJSON_GetObjectItem(c, keys[k]));
        if (at >= 0) {
            char *messages = cJSON_PrintUnformatted(cJSON_GetObjectItem(c, "messages"));
            g_test_message("%s case %d: %s differ at %d of %zu (got %d); messages %s", name,
                           index, keys[k], at, got.n, (size_t)at < got.n ? values[k][at] : -1,
                           messages);
            g_free(messages);
            ok = false;
        }
    }
    hn_chat_encoded_clear(&got);
    return ok;
}

static void test_against_reference(gconstpointer data)
{
    const char *name = data;
    char *path = g_strdup_printf("%s/%s.json", reference_dir, name);
    char *tok_dir = g_build_filename(reference_dir, "tokenizers", name, NULL);
    cJSON *reference = test_load_json(path);
    hn_tokenizer *tok = NULL;
    hn_chat_jinja *chat = NULL;
    hn_error err = {0};
    if (hn_tokenizer_load(tok_dir, &tok, &err) != HN_OK ||
        hn_chat_jinja_new(tok, &chat, &err) != HN_OK)
        g_error("%s", err.message);
    const cJSON *cases = cJSON_GetObjectItem(reference, "cases");
    int passed = 0, total = cJSON_GetArraySize(cases);
    for (int i = 0; i < total; i++)
        passed += check_case(name, i, chat, cJSON_GetArrayItem(cases, i));
    g_test_message("%s: %d of %d conversations equal transformers'", name, passed, total);
    g_assert_cmpint(total, >=, 20);
    g_assert_cmpint(passed, ==, total);
    hn_chat_jinja_free(chat);
    hn_tokenizer_free(tok);
    cJSON_Delete(reference);
    g_free(tok_dir);
    g_free(path);
}

/* A tiny byte-level tokenizer folder with ChatML specials and the given template files. */
static char *tiny_model(const char *config_template, const char *jinja_file)
{
    char *dir = test_make_tmpdir();
    GString *vocab = g_string_new("{");
    gunichar next_free = 0x100; /* GPT-2's byte-to-character table */
    for (int b = 0; b < 256; b++) {
        bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
        gunichar c = printable ? (gunichar)b : next_free++;
        char utf8[8] = {0};
        g_unichar_to_utf8(c, utf8);
        g_string_append_printf(vocab, "%s\"%s%s\": %d", b > 0 ? ", " : "",
                               c == '"' || c == '\\' ? "\\" : "", utf8, b);
    }
    g_string_append(vocab, "}");
    char *tokenizer = g_strdup_printf(
        "{\"added_tokens\": [{\"id\": 256, \"content\": \"<|im_start|>\", \"special\": true},"
        " {\"id\": 257, \"content\": \"<|im_end|>\", \"special\": true}],"
        " \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false},"
        " \"decoder\": {\"type\": \"ByteLevel\"},"
        " \"model\": {\"type\": \"BPE\", \"vocab\": %s, \"merges\": []}}", vocab->str);
    char *path = g_build_filename(dir, "tokenizer.json", NULL);
    test_write_text(path, tokenizer);
    g_free(path);
    cJSON *config = cJSON_CreateObject();
    cJSON_AddStringToObject(config, "eos_token", "<|im_end|>");
    if (config_template != NULL)
        cJSON_AddStringToObject(config, "chat_template", config_template);
    char *config_text = cJSON_Print(config);
    path = g_build_filename(dir, "tokenizer_config.json", NULL);
    test_write_text(path, config_text);
    g_free(path);
    if (jinja_file != NULL) {
        path = g_build_filename(dir, "chat_template.jinja", NULL);
        test_write_text(path, jinja_file);
        g_free(path);
    }
    g_free(config_text);
    cJSON_Delete(config);
    g_free(tokenizer);
    g_string_free(vocab, TRUE);
    return dir;
}

static const char CHATML[] =
    "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

static hn_status encode_text(const char *dir, const char *messages,
                             const hn_chat_encode_options *options, hn_chat_encoded *out,
                             hn_error *err)
{
    hn_tokenizer *tok = NULL;
    hn_chat_jinja *chat = NULL;
    cJSON *json = cJSON_Parse(messages);
    g_assert_nonnull(json);
    hn_status s = hn_tokenizer_load(dir, &tok, err);
    if (s == HN_OK)
        s = hn_chat_jinja_new(tok, &chat, err);
    if (s == HN_OK)
        s = hn_chat_jinja_encode(chat, json, options, NULL, out, err);
    hn_chat_jinja_free(chat);
    hn_tokenizer_free(tok);
    cJSON_Delete(json);
    return s;
}

/* Labels by hand on a byte-level tokenizer: one id per byte, so offsets are visible. */
static void test_labels_by_hand(void)
{
    char *dir = tiny_model(CHATML, NULL);
    hn_chat_encode_options options;
    hn_chat_encode_options_init(&options);
    hn_chat_encoded out = {0};
    hn_error err = {0};
    const char *conversation = "[{\"role\": \"user\", \"content\": \"hi\"}, "
                               "{\"role\": \"assistant\", \"content\": \"yo\"}]";
    if (encode_text(dir, conversation, &options, &out, &err) != HN_OK)
        g_error("%s", err.message);
    /* <|im_start|> u s e r \n h i <|im_end|> \n <|im_start|> a s s i s t a n t \n y o
     * <|im_end|> \n: the answer is "yo<|im_end|>\n", tokens 21 to 24. */
    g_assert_cmpuint(out.n, ==, 25);
    for (size_t i = 0; i < out.n; i++)
        g_assert_cmpint(out.labels[i], ==, i >= 21 ? out.input_ids[i] : -100);
    g_assert_cmpint(out.input_ids[21], ==, 'y');
    hn_chat_encoded_clear(&out);

    /* A prompt gets the generation prompt and no labels. */
    if (encode_text(dir, "[{\"role\": \"user\", \"content\": \"hi\"}]", &options, &out, &err) != HN_OK)
        g_error("%s", err.message);
    g_assert_cmpuint(out.n, ==, 21);
    g_assert_cmpint(out.input_ids[20], ==, '\n');
    for (size_t i = 0; i < out.n; i++)
        g_assert_cmpint(out.labels[i], ==, -100);
    hn_chat_encoded_clear(&out);
    test_remove_tree(dir);
    g_free(dir);
}

/* chat_template.jinja is preferred to tokenizer_config.json's template. */
static void test_template_file(void)
{
    char *dir = tiny_model("{{ 'from config' }}", "{{ 'from file:' + messages[0].content }}");
    hn_tokenizer *tok = NULL;
    hn_chat_jinja *chat = NULL;
    hn_error err = {0};
    if (hn_tokenizer_load(dir, &tok, &err) != HN_OK || hn_chat_jinja_new(tok, &chat, &err) != HN_OK)
        g_error("%s", err.message);
    cJSON *messages = cJSON_Parse("[{\"role\": \"user\", \"content\": \"x\"}]");
    hn_chat_encode_options options;
    hn_chat_encode_options_init(&options);
    char *text = NULL;
    if (hn_chat_jinja_render(chat, messages, &options, NULL, &text, &err) != HN_OK)
        g_error("%s", err.message);
    g_assert_cmpstr(text, ==, "from file:x");
    g_free(text);
    cJSON_Delete(messages);
    hn_chat_jinja_free(chat);
    hn_tokenizer_free(tok);
    test_remove_tree(dir);
    g_free(dir);
}

static void expect_error(const char *config_template, const char *messages,
                         const hn_chat_encode_options *options, const char *needle)
{
    char *dir = tiny_model(config_template, NULL);
    hn_chat_encoded out = {0};
    hn_error err = {0};
    g_assert_cmpint(encode_text(dir, messages, options, &out, &err), !=, HN_OK);
    test_assert_contains(err.message, needle);
    g_assert_null(out.input_ids);
    test_remove_tree(dir);
    g_free(dir);
}

static void test_bad_input(void)
{
    hn_chat_encode_options options;
    hn_chat_encode_options_init(&options);
    const char *ok = "[{\"role\": \"user\", \"content\": \"hi\"}]";
    expect_error(NULL, ok, &options, "has no chat_template");
    expect_error("{% if %}", ok, &options, "chat_template");
    expect_error(CHATML, "[]", &options, "non-empty list");
    expect_error(CHATML, "{\"role\": \"user\"}", &options, "non-empty list");
    expect_error(CHATML, "[{\"content\": \"hi\"}]", &options, "message 0: expected an object "
                 "with a string \"role\"");
    expect_error(CHATML, "[{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\"}]",
                 &options, "message 1: an assistant message needs its \"content\" as a string");
    expect_error("{{ raise_exception('roles must alternate') }}", ok, &options,
                 "roles must alternate");
    /* An answer the template never shows cannot be labelled. */
    expect_error("{% for m in messages %}{% if m.role == 'user' %}{{ m.content }}{% endif %}"
                 "{% endfor %}",
                 "[{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", "
                 "\"content\": \"yo\"}]", &options, "message 1: cannot find where");
    options.preserve_thinking = true;
    expect_error(CHATML, ok, &options, "preserve_thinking applies to LLaMA-Factory's");
    options.preserve_thinking = false;
    options.tools = "{\"not\": \"a list\"}";
    expect_error(CHATML, ok, &options, "tools: expected a JSON list");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/chat_jinja/labels-by-hand", test_labels_by_hand);
    g_test_add_func("/engine/chat_jinja/template-file", test_template_file);
    g_test_add_func("/engine/chat_jinja/bad-input", test_bad_input);
    reference_dir = test_write_reference("chat_jinja_ref.py");
    char *names_path = g_build_filename(reference_dir, "names.json", NULL);
    cJSON *names = test_load_json(names_path);
    const cJSON *name;
    cJSON_ArrayForEach(name, names)
    {
        char *path = g_strdup_printf("/reference/chat_jinja/%s", name->valuestring);
        g_test_add_data_func(path, name->valuestring, test_against_reference);
        g_free(path);
    }
    int status = g_test_run();
    cJSON_Delete(names);
    test_remove_tree(reference_dir);
    g_free(names_path);
    return status;
}
