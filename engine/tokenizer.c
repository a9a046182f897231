/* The tokenizer's front: loading a folder or file (with tokenizer_config.json), the encode
 * pipeline (added tokens -> normalizer -> pre-tokenizer -> BPE -> post-processor) and
 * lookups. */
#include <string.h>

#include "json_read.h"
#include "tokenizer_internal.h"

/* "<s>" or {"content": "<s>", ...} as tokenizer_config.json writes special tokens. */
static int32_t config_token(const hn_tokenizer *tok, const cJSON *config, const char *key)
{
    const cJSON *item = hn_json_field(config, key);
    if (cJSON_IsObject(item))
        item = cJSON_GetObjectItemCaseSensitive(item, "content");
    return cJSON_IsString(item) ? hn_tokenizer_token_to_id(tok, item->valuestring) : -1;
}

static hn_status read_config(hn_tokenizer *tok, const char *path, hn_error *err)
{
    cJSON *config = NULL;
    HN_TRY(hn_json_load_object(path, &config, err));
    hn_tokenizer_config *c = &tok->config;
    c->bos_id = config_token(tok, config, "bos_token");
    c->eos_id = config_token(tok, config, "eos_token");
    c->pad_id = config_token(tok, config, "pad_token");
    c->unk_id = config_token(tok, config, "unk_token");
    hn_json_at at = {path, "", err};
    hn_status status = hn_json_bool(&at, config, "add_bos_token", HN_OPTIONAL, &c->add_bos_token);
    if (status == HN_OK)
        status = hn_json_bool(&at, config, "add_eos_token", HN_OPTIONAL, &c->add_eos_token);
    const cJSON *chat = hn_json_field(config, "chat_template");
    if (status == HN_OK && cJSON_IsString(chat)) {
        c->chat_template = g_strdup(chat->valuestring);
    } else if (status == HN_OK && cJSON_IsArray(chat)) {
        /* [{"name": "default", "template": ...}, ...]: the default one, else the first */
        const cJSON *item;
        cJSON_ArrayForEach(item, chat)
        {
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(item, "name");
            const cJSON *text = cJSON_GetObjectItemCaseSensitive(item, "template");
            bool is_default = cJSON_IsString(name) && strcmp(name->valuestring, "default") == 0;
            if (cJSON_IsString(text) && (c->chat_template == NULL || is_default)) {
                g_free(c->chat_template);
                c->chat_template = g_strdup(text->valuestring);
            }
        }
    } else if (status == HN_OK && chat != NULL) {
        status = hn_json_type_error(&at, "chat_template", "a string or a list of named templates", chat);
    }
    cJSON_Delete(config);
    return status;
}

/* chat_template.jinja, which transformers (4.43 and later) saves beside tokenizer_config.json
 * and prefers to the template inside it. */
static hn_status read_chat_template_file(hn_tokenizer *tok, const char *dir, hn_error *err)
{
    char *path = g_build_filename(dir, "chat_template.jinja", NULL);
    hn_status status = HN_OK;
    if (g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        char *text = NULL;
        gsize length = 0;
        GError *gerr = NULL;
        if (!g_file_get_contents(path, &text, &length, &gerr)) {
            status = hn_fail(err, HN_ERR_IO, "%s", gerr->message);
            g_error_free(gerr);
        } else if (strlen(text) != length || !g_utf8_validate(text, (gssize)length, NULL)) {
            status = hn_fail(err, HN_ERR_FORMAT, "%s: expected UTF-8 text", path);
            g_free(text);
        } else {
            g_free(tok->config.chat_template);
            tok->config.chat_template = text;
        }
    }
    g_free(path);
    return status;
}

hn_status hn_tokenizer_load(const char *path, hn_tokenizer **out, hn_error *err)
{
    *out = NULL;
    bool is_dir = g_file_test(path, G_FILE_TEST_IS_DIR);
    char *file = is_dir ? g_build_filename(path, "tokenizer.json", NULL) : g_strdup(path);
    char *text = NULL;
    gsize length = 0;
    GError *gerr = NULL;
    if (!g_file_get_contents(file, &text, &length, &gerr)) {
        hn_status s = hn_fail(err, HN_ERR_IO, "%s%s", gerr->message,
                              is_dir ? " (expected a tokenizer.json in the model folder)" : "");
        g_error_free(gerr);
        g_free(file);
        return s;
    }
    hn_status status = hn_tokenizer_parse(text, length, file, out, err);
    g_free(text);
    char *dir = is_dir ? g_strdup(path) : g_path_get_dirname(path);
    char *config = g_build_filename(dir, "tokenizer_config.json", NULL);
    if (status == HN_OK && g_file_test(config, G_FILE_TEST_IS_REGULAR))
        status = read_config(*out, config, err);
    g_free(config);
    if (status == HN_OK)
        status = read_chat_template_file(*out, dir, err);
    if (status != HN_OK) {
        hn_tokenizer_free(*out);
        *out = NULL;
    }
    g_free(dir);
    g_free(file);
    return status;
}

/* Normalizes the text pieces of `in` and splits out tokens that match normalized text. */
static hn_status normalize_pieces(const hn_tokenizer *tok, const hn_piece_list *in,
                                  hn_piece_list *out, hn_error *err)
{
    GString *normalized = g_string_new(NULL);
    for (guint k = 0; k < in->pieces->len; k++) {
        const hn_piece *p = &g_array_index(in->pieces, hn_piece, k);
        const char *text = hn_piece_text(in, p);
        if (p->token >= 0) {
            hn_pieces_add(out, text, p->length, p->token, p->at_start);
            continue;
        }
        size_t length = p->length;
        if (tok->normalizer != NULL) {
            if (!hn_normalize(tok->normalizer, text, p->length, normalized)) {
                hn_status s = hn_fail(err, HN_ERR_UNSUPPORTED,
                                      "%s: the normalizer turns %zu bytes into more than %zu "
                                      "(over %dx); Hone refuses such a tokenizer",
                                      tok->label, p->length, HN_NORMALIZED_LIMIT(p->length),
                                      HN_NORMALIZED_GROWTH);
                g_string_free(normalized, TRUE);
                return s;
            }
            text = normalized->str;
            length = normalized->len;
        }
        hn_split_added(tok->normalized_trie, tok->added, text, length, p->at_start, out);
    }
    g_string_free(normalized, TRUE);
    return HN_OK;
}

hn_status hn_tokenizer_encode(const hn_tokenizer *tok, const char *text, size_t length,
                              bool add_special, int32_t **ids, size_t *n_ids, hn_error *err)
{
    const char *bad = NULL;
    if (!g_utf8_validate(text, (gssize)length, &bad))
        return hn_fail(err, HN_ERR_ARGUMENT, "%s: the text is not valid UTF-8 at byte %td",
                       tok->label, bad - text);
    hn_piece_list raw, normalized, words;
    hn_pieces_init(&raw);
    hn_pieces_init(&normalized);
    hn_pieces_init(&words);
    hn_split_added(tok->raw_trie, tok->added, text, length, true, &raw);
    hn_status status = normalize_pieces(tok, &raw, &normalized, err);
    if (status != HN_OK) {
        hn_pieces_clear(&raw);
        hn_pieces_clear(&normalized);
        hn_pieces_clear(&words);
        return status;
    }
    const hn_piece_list *final = &normalized;
    if (tok->pre != NULL) {
        hn_pretokenize(tok->pre, &normalized, &words);
        final = &words;
    }
    GArray *sequence = g_array_sized_new(FALSE, FALSE, sizeof(int32_t), length / 3 + 4);
    for (guint k = 0; k < final->pieces->len; k++) {
        const hn_piece *p = &g_array_index(final->pieces, hn_piece, k);
        if (p->token >= 0)
            g_array_append_val(sequence, p->token);
        else
            hn_bpe_encode_word(&tok->bpe, hn_piece_text(final, p), p->length, sequence);
    }
    hn_pieces_clear(&raw);
    hn_pieces_clear(&normalized);
    hn_pieces_clear(&words);

    GArray *result = sequence;
    if (add_special && tok->post.n_single > 0) {
        result = g_array_sized_new(FALSE, FALSE, sizeof(int32_t), sequence->len + 4);
        for (int i = 0; i < tok->post.n_single; i++) {
            const hn_template_item *item = &tok->post.single[i];
            if (item->is_sequence)
                g_array_append_vals(result, sequence->data, sequence->len);
            else
                g_array_append_vals(result, item->ids, (guint)item->n_ids);
        }
        g_array_free(sequence, TRUE);
    }
    *n_ids = result->len;
    *ids = (int32_t *)(void *)g_array_free(result, FALSE);
    return HN_OK;
}

int32_t hn_tokenizer_vocab_size(const hn_tokenizer *tok)
{
    int32_t n = tok->bpe.n_ids;
    for (int i = 0; i < tok->n_added; i++)
        n = MAX(n, tok->added[i].id + 1);
    return n;
}

int32_t hn_tokenizer_token_to_id(const hn_tokenizer *tok, const char *token)
{
    for (int i = 0; i < tok->n_added; i++)
        if (strcmp(tok->added[i].content, token) == 0)
            return tok->added[i].id;
    gpointer found = g_hash_table_lookup(tok->bpe.vocab, token);
    return found != NULL ? GPOINTER_TO_INT(found) - 1 : -1;
}

const char *hn_tokenizer_id_to_token(const hn_tokenizer *tok, int32_t id)
{
    const hn_added_token *added = g_hash_table_lookup(tok->added_by_id, GINT_TO_POINTER(id));
    if (added != NULL)
        return added->content;
    return id >= 0 && id < tok->bpe.n_ids ? tok->bpe.id_to_token[id] : NULL;
}

bool hn_tokenizer_is_special(const hn_tokenizer *tok, int32_t id)
{
    const hn_added_token *added = g_hash_table_lookup(tok->added_by_id, GINT_TO_POINTER(id));
    return added != NULL && added->special;
}

const hn_tokenizer_config *hn_tokenizer_get_config(const hn_tokenizer *tok)
{
    return &tok->config;
}
