/* `hone tokenize`: text on standard input to token ids (a JSON array), with --decode a JSON
 * array of ids back to text, or with --template/--messages a conversation to the input ids and
 * labels that training sees. Users debug tokenizers and templates with it. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "chat_jinja.h"
#include "chat_messages.h"
#include "cli.h"
#include "commands.h"
#include "gguf_tokenizer.h"
#include "json_read.h"

static int encode(const hn_tokenizer *tok, bool add_special)
{
    size_t length = 0;
    char *text = hone_read_stdin(&length);
    int32_t *ids = NULL;
    size_t n = 0;
    hn_error err = {0};
    hn_status status = hn_tokenizer_encode(tok, text, length, add_special, &ids, &n, &err);
    g_free(text);
    if (status != HN_OK)
        return hone_fail("tokenize", "standard input: %s", err.message);
    GString *out = g_string_new("[");
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(out, i > 0 ? ", %d" : "%d", ids[i]);
    g_string_append(out, "]\n");
    fputs(out->str, stdout);
    g_string_free(out, TRUE);
    g_free(ids);
    return HONE_EXIT_OK;
}

static int decode(const hn_tokenizer *tok, bool skip_special)
{
    size_t length = 0;
    char *text = hone_read_stdin(&length);
    cJSON *json = NULL;
    hn_error err = {0};
    hn_status status = hn_json_parse(text, length, "standard input", &json, &err);
    g_free(text);
    if (status != HN_OK)
        return hone_fail("tokenize", "%s (expected a JSON array of token ids)", err.message);
    int n = cJSON_GetArraySize(json);
    int32_t *ids = g_new(int32_t, n > 0 ? n : 1);
    for (int i = 0; i < n && status == HN_OK; i++) {
        const cJSON *id = cJSON_GetArrayItem(json, i);
        if (!cJSON_IsArray(json) || !cJSON_IsNumber(id) || id->valuedouble != (int32_t)id->valuedouble)
            status = hn_fail(&err, HN_ERR_FORMAT, "standard input: item %d: expected a token id", i);
        else
            ids[i] = (int32_t)id->valuedouble;
    }
    if (!cJSON_IsArray(json))
        status = hn_fail(&err, HN_ERR_FORMAT, "standard input: expected a JSON array of token ids");
    char *out = NULL;
    if (status == HN_OK)
        status = hn_tokenizer_decode(tok, ids, (size_t)n, skip_special, &out, &err);
    cJSON_Delete(json);
    g_free(ids);
    if (status != HN_OK)
        return hone_fail("tokenize", "%s", err.message);
    printf("%s\n", out);
    g_free(out);
    return HONE_EXIT_OK;
}

static void append_ids(GString *out, const char *key, const int32_t *ids, size_t n)
{
    g_string_append_printf(out, "\"%s\": [", key);
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(out, i > 0 ? ", %d" : "%d", ids[i]);
    g_string_append(out, "]");
}

static void print_encoded(const hn_chat_encoded *encoded)
{
    GString *out = g_string_new("{");
    append_ids(out, "input_ids", encoded->input_ids, encoded->n);
    g_string_append(out, ", ");
    append_ids(out, "labels", encoded->labels, encoded->n);
    g_string_append(out, "}\n");
    fputs(out->str, stdout);
    g_string_free(out, TRUE);
}

/* Encodes with a named template; messages are in LLaMA-Factory's roles. */
static hn_status encode_named(const hn_tokenizer *tok, const char *template_name,
                              const cJSON *json, const char *path,
                              const hn_chat_encode_options *options, hn_chat_encoded *encoded,
                              hn_error *err)
{
    hn_chat_template tmpl;
    hn_status status = hn_chat_template_get(template_name, &tmpl, err);
    if (status != HN_OK) {
        hn_error_prefix(err, "--template");
        return status;
    }
    hn_chat_message *messages = NULL;
    size_t n = 0;
    HN_TRY(hn_chat_messages_from_json(json, path, &messages, &n, err));
    status = hn_chat_encode(&tmpl, tok, messages, n, options, encoded, err);
    if (status != HN_OK)
        hn_error_prefix(err, "%s", path);
    g_free(messages);
    return status;
}

/* Renders (render true: prints the text) or encodes with the model's own chat_template;
 * messages are in transformers' roles. */
static hn_status encode_jinja(const hn_tokenizer *tok, const cJSON *json, const char *path,
                              const hn_chat_encode_options *options, bool render,
                              hn_chat_encoded *encoded, hn_error *err)
{
    hn_chat_jinja *chat = NULL;
    HN_TRY(hn_chat_jinja_new(tok, &chat, err));
    hn_status status;
    if (render) {
        char *text = NULL;
        status = hn_chat_jinja_render(chat, json, options, NULL, &text, err);
        if (status == HN_OK)
            fputs(text, stdout);
        g_free(text);
    } else {
        status = hn_chat_jinja_encode(chat, json, options, NULL, encoded, err);
    }
    if (status != HN_OK)
        hn_error_prefix(err, "%s", path);
    hn_chat_jinja_free(chat);
    return status;
}

/* Prints {"input_ids": [...], "labels": [...]} for the conversation in path (or, with
 * render, the text the model's template makes of it). */
static int encode_conversation(const hn_tokenizer *tok, const char *template_name,
                               const char *path, const hn_chat_encode_options *options,
                               bool render)
{
    char *text = NULL;
    size_t length = 0;
    GError *error = NULL;
    if (!g_file_get_contents(path, &text, &length, &error)) {
        int code = hone_fail("tokenize", "%s", error->message);
        g_error_free(error);
        return code;
    }
    cJSON *json = NULL;
    hn_chat_encoded encoded = {0};
    hn_error err = {0};
    hn_status status = hn_json_parse(text, length, path, &json, &err);
    bool jinja = strcmp(template_name, "auto") == 0;
    if (status == HN_OK)
        status = jinja ? encode_jinja(tok, json, path, options, render, &encoded, &err)
                       : encode_named(tok, template_name, json, path, options, &encoded, &err);
    int code = HONE_EXIT_OK;
    if (status != HN_OK)
        code = hone_fail("tokenize", "%s", err.message);
    else if (!render)
        print_encoded(&encoded);
    hn_chat_encoded_clear(&encoded);
    cJSON_Delete(json);
    g_free(text);
    return code;
}

int hone_cmd_tokenize(int argc, char **argv)
{
    char *model = NULL, *template_name = NULL, *messages = NULL, *system = NULL;
    gboolean do_decode = FALSE, no_special = FALSE, skip_special = FALSE;
    gboolean train_on_prompt = FALSE, mask_history = FALSE, no_thinking = FALSE, render = FALSE;
    const GOptionEntry entries[] = {
        {"model", 'm', 0, G_OPTION_ARG_FILENAME, &model,
         "Model folder (with tokenizer.json), a tokenizer.json file or a GGUF file", "PATH"},
        {"decode", 'd', 0, G_OPTION_ARG_NONE, &do_decode,
         "Read a JSON array of ids and print the text", NULL},
        {"no-special", 0, 0, G_OPTION_ARG_NONE, &no_special,
         "Do not add the post-processor's special tokens (bos/eos)", NULL},
        {"skip-special", 0, 0, G_OPTION_ARG_NONE, &skip_special,
         "With --decode: leave special tokens out of the text", NULL},
        {"template", 't', 0, G_OPTION_ARG_STRING, &template_name,
         "Chat template name, as LLaMA-Factory names it, or auto: the model's own Jinja "
         "chat_template (with --messages)", "NAME"},
        {"messages", 0, 0, G_OPTION_ARG_FILENAME, &messages,
         "A conversation to encode with --template: a JSON list of {\"role\", \"content\"}, "
         "an optional system message first, then user and assistant turns (roles user, "
         "assistant, observation, function for named templates; user, assistant, tool for "
         "auto)", "FILE"},
        {"render", 0, 0, G_OPTION_ARG_NONE, &render,
         "With --template auto: print the text the model's template renders", NULL},
        {"system", 0, 0, G_OPTION_ARG_STRING, &system,
         "With --messages: the system prompt (default: the template's)", "TEXT"},
        {"train-on-prompt", 0, 0, G_OPTION_ARG_NONE, &train_on_prompt,
         "With --messages: label the prompt tokens too", NULL},
        {"mask-history", 0, 0, G_OPTION_ARG_NONE, &mask_history,
         "With --messages: label only the last answer", NULL},
        {"no-thinking", 0, 0, G_OPTION_ARG_NONE, &no_thinking,
         "With --messages and a reasoning template: enable_thinking false", NULL},
        G_OPTION_ENTRY_NULL,
    };
    int code = hone_parse_options("tokenize", "",
                                  "Reads UTF-8 text on standard input and prints its token ids "
                                  "as a JSON array; with --decode, reads a JSON array of ids and "
                                  "prints the text. With --template and --messages, encodes the "
                                  "conversation as training does (LLaMA-Factory's template and "
                                  "supervised labels) and prints one JSON object, "
                                  "{\"input_ids\": [...], \"labels\": [...]}, where a label is "
                                  "the token id or -100 for tokens not trained on. --template "
                                  "auto uses the model's own chat_template: the ids are what "
                                  "transformers' apply_chat_template gives, and each assistant "
                                  "turn is labelled from the end of its header to the end of "
                                  "its end-of-turn text.",
                                  entries, &argc, &argv, FALSE);
    if (code == HONE_EXIT_OK && model == NULL)
        code = hone_usage_error("tokenize", "--model PATH is required");
    bool chat = template_name != NULL || messages != NULL;
    if (code == HONE_EXIT_OK && chat && (template_name == NULL || messages == NULL))
        code = hone_usage_error("tokenize", "--template NAME and --messages FILE go together");
    if (code == HONE_EXIT_OK && chat && do_decode)
        code = hone_usage_error("tokenize", "--decode does not take --template/--messages");
    if (code == HONE_EXIT_OK && render && (!chat || g_strcmp0(template_name, "auto") != 0))
        code = hone_usage_error("tokenize", "--render needs --template auto and --messages");
    if (code == HONE_EXIT_OK && !chat && (system != NULL || train_on_prompt || mask_history ||
                                          no_thinking))
        code = hone_usage_error("tokenize", "--system, --train-on-prompt, --mask-history and "
                                            "--no-thinking need --template and --messages");
    hn_tokenizer *tok = NULL;
    hn_error err = {0};
    if (code == HONE_EXIT_OK && hn_tokenizer_load_model(model, &tok, &err) != HN_OK)
        code = hone_fail("tokenize", "%s", err.message);
    hn_chat_encode_options options;
    hn_chat_encode_options_init(&options);
    options.system = system;
    options.train_on_prompt = train_on_prompt;
    options.mask_history = mask_history;
    options.enable_thinking = !no_thinking;
    if (code == HONE_EXIT_OK && chat)
        code = encode_conversation(tok, template_name, messages, &options, render);
    else if (code == HONE_EXIT_OK)
        code = do_decode ? decode(tok, skip_special) : encode(tok, !no_special);
    hn_tokenizer_free(tok);
    g_free(model);
    g_free(template_name);
    g_free(messages);
    g_free(system);
    return code;
}
