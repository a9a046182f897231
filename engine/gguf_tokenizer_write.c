/* The tokenizer.* metadata of a GGUF written from a Hugging Face folder, as llama.cpp's
 * convert_hf_to_gguf.py writes it for a byte-level BPE vocabulary (tokenizer.ggml.model "gpt2";
 * conversion/base.py get_vocab_base and _set_vocab_gpt2, gguf-py's SpecialVocab):
 * - tokens: every id below config.json's vocab_size, "[PAD<i>]" (type UNUSED) for ids without a
 *   token; added tokens not normalized are first encoded and decoded back; special added tokens
 *   and those that look special ("<|...|>" and a few names) are CONTROL, other added tokens
 *   USER_DEFINED (U+2581 turned into a space), the rest NORMAL;
 * - tokenizer.ggml.pre: llama.cpp's name for the hash of the ids of its check text
 *   (gguf_pre_names.c); a tokenizer it does not know is refused, as llama.cpp refuses it;
 * - merges as "left right" (a space inside a part written as U+0120);
 * - special token ids from tokenizer_config.json's bos/eos/unk/sep/pad/mask tokens (their
 *   added-token ids), then config.json's *_token_id; add_bos/add_eos from the post-processor
 *   (a ByteLevel one adds neither; a TemplateProcessing one adds the special tokens around A),
 *   then tokenizer_config.json's flags; the chat template from tokenizer_config.json or
 *   chat_template.jinja; the Lowercase / StripAccents normalizer flags;
 * - for architecture "llama" (conversion/llama.py set_vocab): tokenizer_config.json's
 *   add_prefix_space as tokenizer.ggml.add_space_prefix, and add_bos_token false for a
 *   vocabulary of 49152 (the converter's rule for Granite's small models; SmolLM's size too). */
#include "gguf_tokenizer_write.h"

#include <stdio.h>
#include <string.h>

#include "gguf_pre_names.h"
#include "json_read.h"
#include "tokenizer.h"

enum { TYPE_NORMAL = 1, TYPE_CONTROL = 3, TYPE_USER_DEFINED = 4, TYPE_UNUSED = 5 };

/* The special token kinds SpecialVocab reads and the GGUF keys it writes them under. */
static const struct {
    const char *kind;
    const char *key;
} special_kinds[] = {
    {"bos", "tokenizer.ggml.bos_token_id"},        {"eos", "tokenizer.ggml.eos_token_id"},
    {"unk", "tokenizer.ggml.unknown_token_id"},    {"sep", "tokenizer.ggml.seperator_token_id"},
    {"pad", "tokenizer.ggml.padding_token_id"},    {"mask", "tokenizer.ggml.mask_token_id"},
};
enum { N_KINDS = G_N_ELEMENTS(special_kinds) };

typedef struct {
    const char *label;      /* the folder, for messages */
    const cJSON *tokenizer; /* tokenizer.json */
    cJSON *config;          /* tokenizer_config.json, or NULL */
    cJSON *model_config;    /* config.json, or NULL */
    const hn_tokenizer *tok;
    int64_t ids[N_KINDS];   /* -1: not set */
    int add_bos, add_eos;   /* -1: not set, else 0 / 1 */
} vocab_job;

/* converter's does_token_look_special */
static bool looks_special(const char *t)
{
    size_t n = strlen(t);
    if (strcmp(t, "<pad>") == 0 || strcmp(t, "<mask>") == 0 || strcmp(t, "<2mass>") == 0 ||
        strcmp(t, "[@BOS@]") == 0)
        return true;
    if (g_str_has_prefix(t, "<|") && g_str_has_suffix(t, "|>") && n >= 4)
        return true;
    if (g_str_has_prefix(t, "<\xef\xbd\x9c") && g_str_has_suffix(t, "\xef\xbd\x9c>") && n >= 8)
        return true; /* fullwidth vertical bars */
    return g_str_has_prefix(t, "<unused") && g_str_has_suffix(t, ">");
}

/* decode(encode(text)) without special tokens, as the converter normalizes an added token. */
static hn_status round_trip(const hn_tokenizer *tok, const char *text, char **out, hn_error *err)
{
    int32_t *ids = NULL;
    size_t n = 0;
    HN_TRY(hn_tokenizer_encode(tok, text, strlen(text), false, &ids, &n, err));
    hn_status s = hn_tokenizer_decode(tok, ids, n, false, out, err);
    g_free(ids);
    return s;
}

static char *replace_all(const char *text, const char *from, const char *to)
{
    char **parts = g_strsplit(text, from, -1);
    char *joined = g_strjoinv(to, parts);
    g_strfreev(parts);
    return joined;
}

static hn_status add_tokens(hn_gguf_writer *w, const vocab_job *job, int64_t vocab_size,
                            hn_error *err)
{
    char **tokens = g_new0(char *, vocab_size + 1);
    int32_t *types = g_new(int32_t, vocab_size);
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(job->tokenizer, "model"), "vocab");
    const cJSON *item;
    cJSON_ArrayForEach(item, vocab)
        if (cJSON_IsNumber(item) && item->valuedouble >= 0 && item->valuedouble < vocab_size) {
            g_free(tokens[(int64_t)item->valuedouble]);
            tokens[(int64_t)item->valuedouble] = g_strdup(item->string);
        }
    for (int64_t i = 0; i < vocab_size; i++)
        types[i] = tokens[i] != NULL ? TYPE_NORMAL : TYPE_UNUSED;
    hn_status s = HN_OK;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(job->tokenizer, "added_tokens"))
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
        const char *content = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "content"));
        if (!cJSON_IsNumber(id) || content == NULL || id->valuedouble < 0 ||
            id->valuedouble >= vocab_size)
            continue;
        int64_t i = (int64_t)id->valuedouble;
        char *text = NULL;
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(item, "normalized")))
            text = g_strdup(content);
        else if ((s = round_trip(job->tok, content, &text, err)) != HN_OK)
            break;
        bool special = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(item, "special"));
        g_free(tokens[i]);
        if (special || looks_special(text)) {
            tokens[i] = text;
            types[i] = TYPE_CONTROL;
        } else {
            tokens[i] = replace_all(text, "\xe2\x96\x81", " ");
            g_free(text);
            types[i] = TYPE_USER_DEFINED;
        }
    }
    for (int64_t i = 0; i < vocab_size; i++)
        if (tokens[i] == NULL)
            tokens[i] = g_strdup_printf("[PAD%" G_GINT64_FORMAT "]", i);
    if (s == HN_OK) {
        hn_gguf_add_strings(w, "tokenizer.ggml.tokens", (const char *const *)tokens,
                            (size_t)vocab_size);
        hn_gguf_add_i32s(w, "tokenizer.ggml.token_type", types, (size_t)vocab_size);
    }
    g_strfreev(tokens);
    g_free(types);
    return s;
}

/* llama.cpp's name for this tokenizer's pre-tokenizer, from the hash of its check text. */
static hn_status pre_name(const vocab_job *job, const char **name, hn_error *err)
{
    int32_t *ids = NULL;
    size_t n = 0;
    HN_TRY(hn_tokenizer_encode(job->tok, hn_llama_cpp_check_text,
                               strlen(hn_llama_cpp_check_text), true, &ids, &n, err));
    GString *repr = g_string_new("[");
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(repr, "%s%d", i > 0 ? ", " : "", ids[i]);
    g_string_append_c(repr, ']');
    char *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, repr->str, (gssize)repr->len);
    *name = hn_llama_cpp_pre_name(hash);
    hn_status s = HN_OK;
    if (*name == NULL)
        s = hn_fail(err, HN_ERR_UNSUPPORTED,
                    "%s: llama.cpp does not know this tokenizer's pre-tokenizer (the hash %s of "
                    "its check text is not in its table), so a GGUF of it would not tokenize "
                    "as the model was trained; llama.cpp's converter refuses it too",
                    job->label, hash);
    g_free(hash);
    g_string_free(repr, TRUE);
    g_free(ids);
    return s;
}

static void add_merges(hn_gguf_writer *w, const vocab_job *job)
{
    const cJSON *merges = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(job->tokenizer, "model"), "merges");
    GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
    const cJSON *item;
    cJSON_ArrayForEach(item, merges)
    {
        if (cJSON_IsString(item)) {
            g_ptr_array_add(lines, g_strdup(item->valuestring));
        } else if (cJSON_GetArraySize(item) == 2) {
            char *left = replace_all(cJSON_GetStringValue(cJSON_GetArrayItem(item, 0)), " ", "\xc4\xa0");
            char *right = replace_all(cJSON_GetStringValue(cJSON_GetArrayItem(item, 1)), " ", "\xc4\xa0");
            g_ptr_array_add(lines, g_strconcat(left, " ", right, NULL));
            g_free(left);
            g_free(right);
        }
    }
    if (lines->len > 0)
        hn_gguf_add_strings(w, "tokenizer.ggml.merges", (const char *const *)lines->pdata,
                            lines->len);
    g_ptr_array_free(lines, TRUE);
}

/* A token named in tokenizer_config.json (a string or {"content": ...}), or NULL. */
static const char *config_token(const cJSON *config, const char *kind)
{
    char key[32];
    snprintf(key, sizeof key, "%s_token", kind);
    const cJSON *entry = cJSON_GetObjectItemCaseSensitive(config, key);
    if (cJSON_IsObject(entry))
        entry = cJSON_GetObjectItemCaseSensitive(entry, "content");
    return cJSON_GetStringValue(entry);
}

/* The post-processor's add_bos / add_eos, for the templates llama.cpp's SpecialVocab reads
 * without guessing: a ByteLevel processor, or a TemplateProcessing whose single template is
 * [bos?] A [eos?] with those tokens the configured bos and eos. */
static hn_status read_post_processor(vocab_job *job, hn_error *err)
{
    const cJSON *post = cJSON_GetObjectItemCaseSensitive(job->tokenizer, "post_processor");
    if (!cJSON_IsObject(post))
        return HN_OK;
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(post, "processors");
    int n = list != NULL ? cJSON_GetArraySize(list) : 1;
    for (int p = 0; p < n; p++) {
        const cJSON *proc = list != NULL ? cJSON_GetArrayItem(list, p) : post;
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(proc, "type"));
        if (type != NULL && strcmp(type, "ByteLevel") == 0) {
            job->add_bos = job->add_bos < 0 ? 0 : job->add_bos;
            job->add_eos = job->add_eos < 0 ? 0 : job->add_eos;
            continue;
        }
        if (type == NULL || strcmp(type, "TemplateProcessing") != 0)
            return hn_fail(err, HN_ERR_UNSUPPORTED, "%s: tokenizer.json: post_processor type "
                           "\"%s\" is not read by Hone's GGUF writer (ByteLevel and "
                           "TemplateProcessing are)", job->label, type != NULL ? type : "?");
        const cJSON *single = cJSON_GetObjectItemCaseSensitive(proc, "single");
        int count = cJSON_GetArraySize(single);
        if (count <= 1)
            continue;
        const char *first = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(single, 0), "SpecialToken"), "id"));
        const char *last = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(single, count - 1), "SpecialToken"),
            "id"));
        const char *bos = config_token(job->config, "bos");
        const char *eos = config_token(job->config, "eos");
        if ((first != NULL && (bos == NULL || strcmp(first, bos) != 0)) ||
            (last != NULL && (eos == NULL || strcmp(last, eos) != 0)))
            return hn_fail(err, HN_ERR_UNSUPPORTED, "%s: tokenizer.json: the post-processor "
                           "adds \"%s\" / \"%s\" around the text, which are not the "
                           "tokenizer_config.json's bos / eos tokens: not built in Hone's GGUF "
                           "writer", job->label, first != NULL ? first : "", last != NULL ? last : "");
        if (first != NULL)
            job->add_bos = 1;
        if (last != NULL)
            job->add_eos = 1;
    }
    return HN_OK;
}

/* The id of the first added token with this content, or -1. */
static int64_t added_id(const cJSON *tokenizer, const char *content)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(tokenizer, "added_tokens"))
    {
        const char *c = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(item, "content"));
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
        if (c != NULL && strcmp(c, content) == 0 && cJSON_IsNumber(id))
            return (int64_t)id->valuedouble;
    }
    return -1;
}

static void read_special_ids(vocab_job *job, int64_t vocab_size)
{
    for (int k = 0; k < N_KINDS; k++) {
        const char *text = job->config != NULL ? config_token(job->config, special_kinds[k].kind) : NULL;
        int64_t id = text != NULL ? added_id(job->tokenizer, text) : -1;
        if (id < 0 && job->model_config != NULL) { /* then config.json */
            char key[32];
            snprintf(key, sizeof key, "%s_token_id", special_kinds[k].kind);
            const cJSON *value = cJSON_GetObjectItemCaseSensitive(job->model_config, key);
            id = cJSON_IsNumber(value) ? (int64_t)value->valuedouble : -1;
        }
        job->ids[k] = id >= 0 && id < vocab_size ? id : -1;
    }
}

static cJSON *read_json_if_there(const char *folder, const char *name, hn_error *err,
                                 hn_status *status)
{
    char *path = g_build_filename(folder, name, NULL);
    cJSON *json = NULL;
    *status = g_file_test(path, G_FILE_TEST_IS_REGULAR) ? hn_json_load_object(path, &json, err)
                                                        : HN_OK;
    g_free(path);
    return json;
}

static char *chat_template(const char *folder, const cJSON *config)
{
    const char *in_config = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(config, "chat_template"));
    if (in_config != NULL)
        return g_strdup(in_config);
    char *path = g_build_filename(folder, "chat_template.jinja", NULL);
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        text = NULL;
    g_free(path);
    return text;
}

static void add_normalizer_flags(hn_gguf_writer *w, const cJSON *normalizer)
{
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(normalizer, "type"));
    if (type == NULL)
        return;
    if (strcmp(type, "Lowercase") == 0)
        hn_gguf_add_bool(w, "tokenizer.ggml.normalizer.lowercase", true);
    else if (strcmp(type, "StripAccents") == 0)
        hn_gguf_add_bool(w, "tokenizer.ggml.normalizer.strip_accents", true);
    const cJSON *child;
    cJSON_ArrayForEach(child, cJSON_GetObjectItemCaseSensitive(normalizer, "normalizers"))
        add_normalizer_flags(w, child);
}

static hn_status write_vocab(hn_gguf_writer *w, vocab_job *job, const char *folder,
                             int64_t vocab_size, bool llama, hn_error *err)
{
    const char *pre = NULL;
    HN_TRY(pre_name(job, &pre, err));
    const cJSON *prefix = cJSON_GetObjectItemCaseSensitive(job->config, "add_prefix_space");
    if (llama && cJSON_IsBool(prefix))
        hn_gguf_add_bool(w, "tokenizer.ggml.add_space_prefix", cJSON_IsTrue(prefix));
    HN_TRY(read_post_processor(job, err));
    hn_gguf_add_string(w, "tokenizer.ggml.model", "gpt2");
    hn_gguf_add_string(w, "tokenizer.ggml.pre", pre);
    HN_TRY(add_tokens(w, job, vocab_size, err));
    add_merges(w, job);
    read_special_ids(job, vocab_size);
    for (int k = 0; k < N_KINDS; k++)
        if (job->ids[k] >= 0)
            hn_gguf_add_u32(w, special_kinds[k].key, (uint32_t)job->ids[k]);
    const cJSON *flag = cJSON_GetObjectItemCaseSensitive(job->config, "add_bos_token");
    if (job->add_bos < 0 && cJSON_IsBool(flag))
        job->add_bos = cJSON_IsTrue(flag);
    flag = cJSON_GetObjectItemCaseSensitive(job->config, "add_eos_token");
    if (job->add_eos < 0 && cJSON_IsBool(flag))
        job->add_eos = cJSON_IsTrue(flag);
    if (llama && vocab_size == 49152)
        job->add_bos = 0;
    if (job->add_bos >= 0)
        hn_gguf_add_bool(w, "tokenizer.ggml.add_bos_token", job->add_bos == 1);
    if (job->add_eos >= 0)
        hn_gguf_add_bool(w, "tokenizer.ggml.add_eos_token", job->add_eos == 1);
    char *chat = job->config != NULL ? chat_template(folder, job->config) : NULL;
    if (chat != NULL)
        hn_gguf_add_string(w, "tokenizer.chat_template", chat);
    g_free(chat);
    add_normalizer_flags(w, cJSON_GetObjectItemCaseSensitive(job->tokenizer, "normalizer"));
    return HN_OK;
}

/* A byte-level BPE tokenizer.json: the model is BPE and a ByteLevel pre-tokenizer or decoder
 * is there (a SentencePiece-style one has neither). */
static bool is_byte_level(const cJSON *tokenizer)
{
    const char *model = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(tokenizer, "model"), "type"));
    char *text = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(tokenizer, "pre_tokenizer"));
    char *decoder = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(tokenizer, "decoder"));
    bool byte_level = (text != NULL && strstr(text, "\"ByteLevel\"") != NULL) ||
                      (decoder != NULL && strstr(decoder, "\"ByteLevel\"") != NULL);
    cJSON_free(text);
    cJSON_free(decoder);
    return model != NULL && strcmp(model, "BPE") == 0 && byte_level;
}

hn_status hn_gguf_add_folder_tokenizer(hn_gguf_writer *w, const char *folder, const char *arch,
                                       int64_t vocab_size, hn_error *err)
{
    vocab_job job = {.label = folder, .add_bos = -1, .add_eos = -1};
    hn_status s = HN_OK;
    cJSON *tokenizer = read_json_if_there(folder, "tokenizer.json", err, &s);
    HN_TRY(s);
    if (tokenizer == NULL)
        return hn_fail(err, HN_ERR_ARGUMENT, "%s: no tokenizer.json: a GGUF needs the tokenizer",
                       folder);
    job.tokenizer = tokenizer;
    if (!is_byte_level(tokenizer))
        s = hn_fail(err, HN_ERR_UNSUPPORTED, "%s/tokenizer.json: only byte-level BPE tokenizers "
                    "(tokenizer.ggml.model \"gpt2\": Llama 3, Qwen, SmolLM, GPT-2 style) are "
                    "written to GGUF by Hone so far; convert this one with llama.cpp's "
                    "convert_hf_to_gguf.py", folder);
    if (s == HN_OK)
        job.config = read_json_if_there(folder, "tokenizer_config.json", err, &s);
    if (s == HN_OK)
        job.model_config = read_json_if_there(folder, "config.json", err, &s);
    hn_tokenizer *tok = NULL;
    if (s == HN_OK)
        s = hn_tokenizer_load(folder, &tok, err);
    job.tok = tok;
    if (s == HN_OK)
        s = write_vocab(w, &job, folder, vocab_size, strcmp(arch, "llama") == 0, err);
    hn_tokenizer_free(tok);
    cJSON_Delete(job.config);
    cJSON_Delete(job.model_config);
    cJSON_Delete(tokenizer);
    return s;
}
