/* Tokenizer files of an export (export_tokenizer.h). For a GGUF source the documents follow
 * transformers' save_pretrained of the tokenizer its GGUF loader builds: tokenizer.json from
 * hn_tokenizer_json_from_gguf, and a tokenizer_config.json naming the special tokens, the
 * add_bos/add_eos flags, the chat template and the context length. Both are written with
 * indent 2 and a final newline, as transformers writes them. */
#include "export_tokenizer.h"

#include <string.h>

#include "atomic_file.h"
#include "gguf_tokenizer.h"
#include "py_json.h"

static char *json_text(const cJSON *json)
{
    char *text = hn_py_json_dumps_indent(json, 2);
    char *with_newline = g_strconcat(text, "\n", NULL);
    g_free(text);
    return with_newline;
}

/* A special token's string, or JSON null when the tokenizer has none. */
static void add_token(cJSON *config, const char *key, const hn_tokenizer *tok, int32_t id)
{
    const char *text = id >= 0 ? hn_tokenizer_id_to_token(tok, id) : NULL;
    if (text != NULL)
        cJSON_AddStringToObject(config, key, text);
    else
        cJSON_AddNullToObject(config, key);
}

static cJSON *tokenizer_config(const hn_tokenizer *tok, const hn_model_dir *dir)
{
    const hn_tokenizer_config *c = hn_tokenizer_get_config(tok);
    cJSON *config = cJSON_CreateObject();
    cJSON_AddBoolToObject(config, "add_bos_token", c->add_bos_token);
    cJSON_AddBoolToObject(config, "add_eos_token", c->add_eos_token);
    add_token(config, "bos_token", tok, c->bos_id);
    add_token(config, "eos_token", tok, c->eos_id);
    add_token(config, "pad_token", tok, c->pad_id);
    add_token(config, "unk_token", tok, c->unk_id);
    if (c->chat_template != NULL)
        cJSON_AddStringToObject(config, "chat_template", c->chat_template);
    cJSON_AddBoolToObject(config, "clean_up_tokenization_spaces", false);
    cJSON_AddNumberToObject(config, "model_max_length",
                            (double)dir->config.max_position_embeddings);
    cJSON_AddStringToObject(config, "tokenizer_class", "PreTrainedTokenizerFast");
    return config;
}

hn_status hn_export_tokenizer_prepare(const hn_model_dir *dir, hn_export_tokenizer *out,
                                      hn_error *err)
{
    *out = (hn_export_tokenizer){0};
    if (dir->gguf == NULL)
        return HN_OK;
    hn_tokenizer *tok = NULL;
    cJSON *json = NULL;
    hn_status s = hn_tokenizer_json_from_gguf(dir->gguf, &tok, &json, err);
    if (s != HN_OK) {
        hn_error_prefix(err, "the tokenizer files of the export");
        return s;
    }
    cJSON *config = tokenizer_config(tok, dir);
    out->tokenizer_json = json_text(json);
    out->tokenizer_config = json_text(config);
    cJSON_Delete(config);
    cJSON_Delete(json);
    hn_tokenizer_free(tok);
    return HN_OK;
}

static hn_status write_text(const char *folder, const char *name, const char *text,
                            hn_error *err)
{
    char *path = g_build_filename(folder, name, NULL);
    hn_status s = hn_atomic_write_all(path, text, strlen(text), err);
    g_free(path);
    return s;
}

hn_status hn_export_tokenizer_write(const hn_export_tokenizer *files, const hn_model_dir *dir,
                                    const char *folder, hn_error *err)
{
    if (files->tokenizer_json != NULL) {
        HN_TRY(write_text(folder, "tokenizer.json", files->tokenizer_json, err));
        return write_text(folder, "tokenizer_config.json", files->tokenizer_config, err);
    }
    return hn_model_dir_copy_tokenizer_files(dir, folder, err);
}

void hn_export_tokenizer_clear(hn_export_tokenizer *files)
{
    g_free(files->tokenizer_json);
    g_free(files->tokenizer_config);
    *files = (hn_export_tokenizer){0};
}
