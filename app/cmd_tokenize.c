/* `hone tokenize`: text on standard input to token ids (a JSON array), or with --decode a JSON
 * array of ids back to text. Users debug tokenizers and templates with it. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "gguf_tokenizer.h"
#include "json_read.h"

static char *read_stdin(size_t *length)
{
    GString *in = g_string_new(NULL);
    char buffer[65536];
    size_t n;
    while ((n = fread(buffer, 1, sizeof buffer, stdin)) > 0)
        g_string_append_len(in, buffer, (gssize)n);
    *length = in->len;
    return g_string_free(in, FALSE);
}

static int encode(const hn_tokenizer *tok, bool add_special)
{
    size_t length = 0;
    char *text = read_stdin(&length);
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
    char *text = read_stdin(&length);
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

int hone_cmd_tokenize(int argc, char **argv)
{
    char *model = NULL, *template_name = NULL, *messages = NULL;
    gboolean do_decode = FALSE, no_special = FALSE, skip_special = FALSE;
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
         "Chat template name (with --messages)", "NAME"},
        {"messages", 0, 0, G_OPTION_ARG_FILENAME, &messages,
         "A conversation (JSON list of {role, content}) to encode with --template", "FILE"},
        G_OPTION_ENTRY_NULL,
    };
    int code = hone_parse_options("tokenize", "",
                                  "Reads UTF-8 text on standard input and prints its token ids "
                                  "as a JSON array; with --decode, reads a JSON array of ids and "
                                  "prints the text.",
                                  entries, &argc, &argv, FALSE);
    if (code == HONE_EXIT_OK && model == NULL)
        code = hone_usage_error("tokenize", "--model PATH is required");
    if (code == HONE_EXIT_OK && (template_name != NULL || messages != NULL))
        code = hone_fail("tokenize", "--template/--messages: chat templates are not built yet "
                                     "in this version; tokenize plain text for now");
    hn_tokenizer *tok = NULL;
    hn_error err = {0};
    if (code == HONE_EXIT_OK && hn_tokenizer_load_model(model, &tok, &err) != HN_OK)
        code = hone_fail("tokenize", "%s", err.message);
    if (code == HONE_EXIT_OK)
        code = do_decode ? decode(tok, skip_special) : encode(tok, !no_special);
    hn_tokenizer_free(tok);
    g_free(model);
    g_free(template_name);
    g_free(messages);
    return code;
}
