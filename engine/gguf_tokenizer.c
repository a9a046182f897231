/* Building an hn_tokenizer from GGUF metadata, mirroring transformers' GGUF tokenizer
 * converter: the vocabulary respelled as transformers respells it, the merges from the file
 * (gpt2) or derived from the vocabulary (Gemma), control tokens as special added tokens and
 * user-defined tokens as plain added tokens, and the same normalizer, pre-tokenizer and
 * decoder as the tokenizer class transformers hands them to. */
#include "gguf_tokenizer.h"

#include <stdio.h>
#include <string.h>

#include "tokenizer_internal.h"

enum { TOKEN_CONTROL = 3, TOKEN_USER_DEFINED = 4 }; /* llama.cpp's token types */

/* Pre-tokenizer splits by tokenizer.ggml.pre, as transformers' GGUF_PRE_TOKENIZER_SPLITS has
 * them (the regexes are the models' own: Llama 3, Qwen2, Mistral Tekken, GPT-4o). */
static const char *llama3_split =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
    "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char *qwen2_split =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
    "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char *tekken_split =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
    "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*"
    "|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
static const char *gpt4o_split =
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
    "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*"
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
    "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

static const struct {
    const char *pre;
    const char **split;
} pre_splits[] = {
    {"llama3", &llama3_split},      {"llama-v3", &llama3_split},   {"llama-bpe", &llama3_split},
    {"falcon3", &llama3_split},     {"falcon-h1", &llama3_split},  {"pixtral", &llama3_split},
    {"midm-2.0", &llama3_split},    {"lfm2", &llama3_split},       {"jina-v5-nano", &llama3_split},
    {"dbrx", &llama3_split},        {"smaug-bpe", &llama3_split},  {"tekken", &tekken_split},
    {"qwen2", &qwen2_split},        {"deepseek-r1-qwen", &qwen2_split}, {"kormo", &qwen2_split},
    {"f2llmv2", &qwen2_split},      {"megrez", &qwen2_split},      {"gpt-4o", &gpt4o_split},
    {"llama4", &gpt4o_split},       {"kanana2", &gpt4o_split},     {"talkie", &gpt4o_split},
    {"minimax-m2", &gpt4o_split},
};

/* What the GGUF says about its tokenizer. */
typedef struct {
    const char *label;
    const char *model, *pre, *architecture;
    const hn_gguf_value *tokens, *types, *merges;
    uint64_t n_tokens;
} gguf_vocab;

static char *token_at(const gguf_vocab *v, uint64_t i)
{
    hn_gguf_value item;
    hn_gguf_array_get(v->tokens, i, &item);
    return g_strndup(item.string.bytes.data, (gsize)item.string.bytes.length);
}

static int64_t type_at(const gguf_vocab *v, uint64_t i)
{
    if (v->types == NULL || i >= v->types->array.count)
        return 1;
    hn_gguf_value item;
    hn_gguf_array_get(v->types, i, &item);
    return item.type == HN_GGUF_INT32 || item.type == HN_GGUF_INT64 ? item.i : (int64_t)item.u;
}

/* Every character stands for a byte in GPT-2's byte-to-character map. */
static bool in_byte_alphabet(const char *token)
{
    for (const char *p = token; *p != '\0'; p = g_utf8_next_char(p))
        if (hn_unichar_to_byte(g_utf8_get_char(p)) < 0)
            return false;
    return true;
}

/* A token as GPT2Tokenizer spells it: itself when already in the byte alphabet, else its
 * UTF-8 bytes written in that alphabet. */
static char *byte_level_spelling(const char *token)
{
    if (in_byte_alphabet(token))
        return g_strdup(token);
    GString *out = g_string_new(NULL);
    for (const unsigned char *p = (const unsigned char *)token; *p != '\0'; p++)
        g_string_append_unichar(out, hn_byte_to_unichar(*p));
    return g_string_free(out, FALSE);
}

/* Python's str.isspace: Unicode White_Space plus the four information separators. */
static bool python_isspace(gunichar c)
{
    return hn_unichar_is_white_space(c) || (c >= 0x1c && c <= 0x1f);
}

/* Gemma files store tokens of two or more spaces as real spaces; transformers respells every
 * all-whitespace token that holds a space as that many U+2581. */
static char *gemma_spelling(const char *token)
{
    bool has_space = strchr(token, ' ') != NULL, all_space = token[0] != '\0';
    for (const char *p = token; *p != '\0'; p = g_utf8_next_char(p))
        all_space = all_space && python_isspace(g_utf8_get_char(p));
    if (!has_space || !all_space)
        return g_strdup(token);
    GString *out = g_string_new(NULL);
    for (glong n = g_utf8_strlen(token, -1); n > 0; n--)
        g_string_append(out, "\xe2\x96\x81");
    return g_string_free(out, FALSE);
}

/* A merge derived from the vocabulary (transformers' generate_merges). */
typedef struct {
    int64_t order;      /* position of the merged token (its score is minus this) */
    glong left_chars;   /* length of the left part in characters */
    size_t split;       /* byte offset of the split in the merged token */
    const char *merged;
} derived_merge;

static int compare_derived(const void *a, const void *b)
{
    const derived_merge *x = a, *y = b;
    if (x->order != y->order)
        return x->order < y->order ? -1 : 1;
    return x->left_chars > y->left_chars ? -1 : x->left_chars < y->left_chars ? 1 : 0;
}

/* Sorted best first by the merged token's score (its file position, earlier is better), then
 * longer left parts first: the order generate_merges gives with Gemma's position scores. */
static hn_status derive_merges(hn_tokenizer *tok, char **spelled, uint64_t n, hn_error *err)
{
    GArray *merges = g_array_new(FALSE, FALSE, sizeof(derived_merge));
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    char *piece = g_malloc(1);
    size_t piece_size = 1;
    for (uint64_t i = 0; i < n; i++) {
        const char *token = spelled[i];
        if (!g_hash_table_add(seen, (char *)token))
            continue; /* a repeated token: its first position orders it, its last is its id */
        int64_t order = hn_bpe_lookup(&tok->bpe, token);
        size_t length = strlen(token);
        if (length + 1 > piece_size) {
            piece_size = length + 1;
            piece = g_realloc(piece, piece_size);
        }
        glong chars = 0;
        for (const char *p = g_utf8_next_char(token); p < token + length; p = g_utf8_next_char(p)) {
            chars++;
            size_t split = (size_t)(p - token);
            memcpy(piece, token, split);
            piece[split] = '\0';
            if (hn_bpe_lookup(&tok->bpe, piece) < 0 || hn_bpe_lookup(&tok->bpe, p) < 0)
                continue;
            derived_merge m = {order, chars, split, token};
            g_array_append_val(merges, m);
        }
    }
    g_free(piece);
    g_array_sort(merges, compare_derived);
    hn_bpe_begin_merges(&tok->bpe, merges->len);
    hn_status status = HN_OK;
    for (guint r = 0; r < merges->len && status == HN_OK; r++) {
        const derived_merge *m = &g_array_index(merges, derived_merge, r);
        char *left = g_strndup(m->merged, m->split);
        status = hn_bpe_add_merge(&tok->bpe, left, m->merged + m->split, (int32_t)r, tok->label,
                                  "derived merges", err);
        g_free(left);
    }
    g_hash_table_destroy(seen);
    g_array_free(merges, TRUE);
    return status;
}

static hn_status file_merges(hn_tokenizer *tok, const gguf_vocab *v, hn_error *err)
{
    hn_bpe_begin_merges(&tok->bpe, v->merges->array.count);
    char where[64];
    for (uint64_t r = 0; r < v->merges->array.count; r++) {
        hn_gguf_value item;
        hn_gguf_array_get(v->merges, r, &item);
        char *merge = g_strndup(item.string.bytes.data, (gsize)item.string.bytes.length);
        char *space = strchr(merge, ' ');
        snprintf(where, sizeof where, "tokenizer.ggml.merges[%" G_GUINT64_FORMAT "]", r);
        hn_status status;
        if (space == NULL) {
            status = hn_fail(err, HN_ERR_FORMAT, "%s: %s: expected \"left right\", found \"%.60s\"",
                             v->label, where, merge);
        } else {
            *space = '\0';
            status = hn_bpe_add_merge(&tok->bpe, merge, space + 1, (int32_t)r, v->label, where, err);
        }
        g_free(merge);
        HN_TRY(status);
    }
    return HN_OK;
}

/* An added token with every field tokenizers writes (the export saves these as they are). */
static cJSON *added_token(const char *content, int32_t id, bool special)
{
    cJSON *t = cJSON_CreateObject();
    cJSON_AddNumberToObject(t, "id", id);
    cJSON_AddStringToObject(t, "content", content);
    cJSON_AddBoolToObject(t, "single_word", false);
    cJSON_AddBoolToObject(t, "lstrip", false);
    cJSON_AddBoolToObject(t, "rstrip", false);
    cJSON_AddBoolToObject(t, "normalized", false);
    cJSON_AddBoolToObject(t, "special", special);
    return t;
}

/* Control tokens become special added tokens (for byte-level vocabularies only those spelled
 * in the byte alphabet), user-defined tokens present in the vocabulary plain added ones. */
static void add_added_tokens(const hn_tokenizer *tok, const gguf_vocab *v, char **raw,
                             bool byte_level, cJSON *root)
{
    cJSON *list = cJSON_AddArrayToObject(root, "added_tokens");
    for (uint64_t i = 0; i < v->n_tokens; i++)
        if (type_at(v, i) == TOKEN_CONTROL && (!byte_level || in_byte_alphabet(raw[i])))
            cJSON_AddItemToArray(list, added_token(raw[i], hn_bpe_lookup(&tok->bpe, raw[i]), true));
    for (uint64_t i = 0; i < v->n_tokens; i++)
        if (type_at(v, i) == TOKEN_USER_DEFINED && hn_bpe_lookup(&tok->bpe, raw[i]) >= 0)
            cJSON_AddItemToArray(list, added_token(raw[i], hn_bpe_lookup(&tok->bpe, raw[i]), false));
}

/* The parts besides the model and the pre-tokenizer, spelled out in full as tokenizers saves
 * them (the export writes them as they are). */
#define PLAIN_TEMPLATE_PROCESSING                                                              \
    " \"post_processor\": {\"type\": \"TemplateProcessing\","                                  \
    " \"single\": [{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}],"                         \
    " \"pair\": [{\"Sequence\": {\"id\": \"A\", \"type_id\": 0}},"                            \
    " {\"Sequence\": {\"id\": \"B\", \"type_id\": 1}}], \"special_tokens\": {}},"

static const char *byte_level_components =
    "{\"normalizer\": null," PLAIN_TEMPLATE_PROCESSING
    " \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true,"
    " \"use_regex\": true}}";

static const char *gemma_components =
    "{\"normalizer\": {\"type\": \"Replace\", \"pattern\": {\"String\": \" \"}, \"content\": \"\\u2581\"},"
    " \"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"String\": \" \"},"
    " \"behavior\": \"MergedWithPrevious\", \"invert\": false}," PLAIN_TEMPLATE_PROCESSING
    " \"decoder\": {\"type\": \"Sequence\", \"decoders\": [{\"type\": \"Replace\", \"pattern\":"
    " {\"String\": \"\\u2581\"}, \"content\": \" \"}, {\"type\": \"ByteFallback\"}, {\"type\": \"Fuse\"}]}}";

/* The byte-level pre-tokenizer, with the model's split regex when transformers knows one. */
static void add_byte_level_pretokenizer(const gguf_vocab *v, cJSON *root)
{
    const char *split = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(pre_splits) && v->pre != NULL; i++)
        if (strcmp(v->pre, pre_splits[i].pre) == 0)
            split = *pre_splits[i].split;
    cJSON *byte_level = cJSON_CreateObject();
    cJSON_AddStringToObject(byte_level, "type", "ByteLevel");
    cJSON_AddBoolToObject(byte_level, "add_prefix_space", false);
    cJSON_AddBoolToObject(byte_level, "trim_offsets", true);
    cJSON_AddBoolToObject(byte_level, "use_regex", split == NULL);
    if (split == NULL) {
        cJSON_AddItemToObject(root, "pre_tokenizer", byte_level);
        return;
    }
    cJSON *sequence = cJSON_AddObjectToObject(root, "pre_tokenizer");
    cJSON_AddStringToObject(sequence, "type", "Sequence");
    cJSON *list = cJSON_AddArrayToObject(sequence, "pretokenizers");
    cJSON *split_json = cJSON_CreateObject();
    cJSON_AddStringToObject(split_json, "type", "Split");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(split_json, "pattern"), "Regex", split);
    cJSON_AddStringToObject(split_json, "behavior", "Isolated");
    cJSON_AddBoolToObject(split_json, "invert", false);
    cJSON_AddItemToArray(list, split_json);
    cJSON_AddItemToArray(list, byte_level);
}

static hn_status read_vocab_facts(const hn_gguf_file *gguf, gguf_vocab *v, hn_error *err)
{
    HN_TRY(hn_gguf_get_string(gguf, "tokenizer.ggml.model", HN_REQUIRED, &v->model, err));
    HN_TRY(hn_gguf_get_string(gguf, "general.architecture", HN_REQUIRED, &v->architecture, err));
    HN_TRY(hn_gguf_get_string(gguf, "tokenizer.ggml.pre", HN_OPTIONAL, &v->pre, err));
    HN_TRY(hn_gguf_get_array(gguf, "tokenizer.ggml.tokens", HN_REQUIRED, HN_GGUF_STRING,
                             &v->tokens, err));
    HN_TRY(hn_gguf_get_array(gguf, "tokenizer.ggml.token_type", HN_OPTIONAL, HN_GGUF_TYPE_COUNT,
                             &v->types, err));
    HN_TRY(hn_gguf_get_array(gguf, "tokenizer.ggml.merges", HN_OPTIONAL, HN_GGUF_STRING,
                             &v->merges, err));
    v->n_tokens = v->tokens->array.count;
    if (v->n_tokens == 0 || v->n_tokens > INT32_MAX)
        return hn_fail(err, HN_ERR_FORMAT, "%s: tokenizer.ggml.tokens: expected 1 to 2^31 tokens",
                       v->label);
    return HN_OK;
}

static hn_status read_config(const hn_gguf_file *gguf, const gguf_vocab *v, hn_tokenizer *tok,
                             hn_error *err)
{
    static const char *keys[] = {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
                                 "tokenizer.ggml.padding_token_id",
                                 "tokenizer.ggml.unknown_token_id"};
    int32_t *ids[] = {&tok->config.bos_id, &tok->config.eos_id, &tok->config.pad_id,
                      &tok->config.unk_id};
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        int64_t id = -1;
        HN_TRY(hn_gguf_get_int(gguf, keys[i], HN_OPTIONAL, 0, (int64_t)v->n_tokens - 1, &id, err));
        *ids[i] = (int32_t)id;
    }
    /* Older llama files have no flag, and llama.cpp adds BOS to such vocabularies. */
    tok->config.add_bos_token = strcmp(v->model, "llama") == 0;
    HN_TRY(hn_gguf_get_bool(gguf, "tokenizer.ggml.add_bos_token", HN_OPTIONAL,
                            &tok->config.add_bos_token, err));
    HN_TRY(hn_gguf_get_bool(gguf, "tokenizer.ggml.add_eos_token", HN_OPTIONAL,
                            &tok->config.add_eos_token, err));
    const char *chat = NULL;
    HN_TRY(hn_gguf_get_string(gguf, "tokenizer.chat_template", HN_OPTIONAL, &chat, err));
    tok->config.chat_template = chat != NULL ? g_strdup(chat) : NULL;
    return HN_OK;
}

/* Builds tok; with components non-NULL, hands over the tokenizer.json parts it was built from
 * (all but "model"). */
static hn_status build(const hn_gguf_file *gguf, const gguf_vocab *v, hn_tokenizer *tok,
                       char **raw, char **spelled, bool byte_level, cJSON **components,
                       hn_error *err)
{
    hn_bpe *bpe = &tok->bpe;
    hn_bpe_begin(bpe);
    for (uint64_t i = 0; i < v->n_tokens; i++)
        hn_bpe_set_token(bpe, spelled[i], (int32_t)i);
    if (byte_level) {
        hn_bpe_end_vocab(bpe, NULL);
        if (v->merges == NULL)
            return hn_fail(err, HN_ERR_UNSUPPORTED,
                           "%s: a gpt2 tokenizer without tokenizer.ggml.merges is not supported",
                           v->label);
        HN_TRY(file_merges(tok, v, err));
    } else {
        bpe->byte_fallback = true;
        bpe->fuse_unk = true;
        hn_bpe_end_vocab(bpe, "<unk>");
        HN_TRY(v->merges != NULL ? file_merges(tok, v, err) : derive_merges(tok, spelled, v->n_tokens, err));
    }
    cJSON *root = cJSON_Parse(byte_level ? byte_level_components : gemma_components);
    if (byte_level)
        add_byte_level_pretokenizer(v, root);
    add_added_tokens(tok, v, raw, byte_level, root);
    hn_status status = hn_tokenizer_read_components(tok, root, err);
    if (status == HN_OK && components != NULL)
        *components = root;
    else
        cJSON_Delete(root);
    if (status == HN_OK)
        status = read_config(gguf, v, tok, err);
    return status;
}

/* The tokenizer and, with components non-NULL, its tokenizer.json parts but "model". */
static hn_status from_gguf(const hn_gguf_file *gguf, hn_tokenizer **out, cJSON **components,
                           hn_error *err)
{
    gguf_vocab v = {.label = hn_gguf_path(gguf)};
    HN_TRY(read_vocab_facts(gguf, &v, err));
    bool byte_level = strcmp(v.model, "gpt2") == 0;
    bool gemma = strcmp(v.model, "llama") == 0 && g_str_has_prefix(v.architecture, "gemma") &&
                 strcmp(v.architecture, "gemma4") != 0;
    if (!byte_level && !gemma)
        return hn_fail(err, HN_ERR_UNSUPPORTED,
                       "%s: tokenizer.ggml.model \"%s\" for architecture \"%s\" is not supported "
                       "yet (Hone builds \"gpt2\" tokenizers, and \"llama\" ones of the Gemma "
                       "family)",
                       v.label, v.model, v.architecture);
    char **raw = g_new0(char *, v.n_tokens + 1);
    char **spelled = g_new0(char *, v.n_tokens + 1);
    for (uint64_t i = 0; i < v.n_tokens; i++) {
        raw[i] = token_at(&v, i);
        spelled[i] = byte_level ? byte_level_spelling(raw[i]) : gemma_spelling(raw[i]);
    }
    hn_tokenizer *tok = hn_tokenizer_new(v.label);
    hn_status status = build(gguf, &v, tok, raw, spelled, byte_level, components, err);
    g_strfreev(raw);
    g_strfreev(spelled);
    if (status != HN_OK) {
        hn_tokenizer_free(tok);
        if (components != NULL) {
            cJSON_Delete(*components);
            *components = NULL;
        }
        return status;
    }
    *out = tok;
    return HN_OK;
}

hn_status hn_tokenizer_from_gguf(const hn_gguf_file *gguf, hn_tokenizer **out, hn_error *err)
{
    return from_gguf(gguf, out, NULL, err);
}

hn_status hn_tokenizer_json_from_gguf(const hn_gguf_file *gguf, hn_tokenizer **tok,
                                      cJSON **json, hn_error *err)
{
    *json = NULL;
    HN_TRY(from_gguf(gguf, tok, json, err));
    cJSON_AddStringToObject(*json, "version", "1.0");
    cJSON_AddNullToObject(*json, "truncation");
    cJSON_AddNullToObject(*json, "padding");
    cJSON_AddItemToObject(*json, "model", hn_bpe_model_json(&(*tok)->bpe));
    return HN_OK;
}

hn_status hn_tokenizer_load_model(const char *path, hn_tokenizer **out, hn_error *err)
{
    if (!g_str_has_suffix(path, ".gguf") || !g_file_test(path, G_FILE_TEST_IS_REGULAR))
        return hn_tokenizer_load(path, out, err);
    hn_gguf_file *gguf = NULL;
    HN_TRY(hn_gguf_open(path, &gguf, err));
    hn_status status = hn_tokenizer_from_gguf(gguf, out, err);
    hn_gguf_close(gguf);
    return status;
}
