/* Reading tokenizer.json into an hn_tokenizer: the BPE model (vocab, merges in string or pair
 * form), added tokens, normalizer, pre-tokenizer, post-processor and decoder. Anything Hone
 * does not implement is an error naming it. */
#include <stdio.h>
#include <string.h>

#include "json_read.h"
#include "tokenizer_internal.h"

/* GPT-2's pre-tokenization regex, used by ByteLevel with use_regex (Radford et al. 2019). */
static const char *gpt2_regex =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

typedef struct {
    const char *label;
    hn_error *err;
} loader;

static hn_status fail_at(const loader *l, const char *where, const char *fmt, const char *what)
{
    return hn_fail(l->err, HN_ERR_FORMAT, "%s: %s: %s %s", l->label, where, fmt, what);
}

static hn_status unsupported(const loader *l, const char *where, const char *type,
                             const char *supported)
{
    return hn_fail(l->err, HN_ERR_UNSUPPORTED, "%s: %s type \"%s\" is not supported (Hone supports %s)",
                   l->label, where, type, supported);
}

/* A token id: an integer from 0 to 2^31 - 2; -1 for anything else. */
static int32_t token_id(const cJSON *item)
{
    if (!cJSON_IsNumber(item))
        return -1;
    double v = item->valuedouble;
    return v >= 0 && v <= INT32_MAX - 1 && (double)(int32_t)v == v ? (int32_t)v : -1;
}

static const char *type_of(const cJSON *object)
{
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(object, "type");
    return cJSON_IsString(type) ? type->valuestring : NULL;
}

static hn_status compile_regex(const loader *l, const char *where, const char *source,
                               GRegex **out)
{
    GError *gerr = NULL;
    *out = g_regex_new(source, G_REGEX_OPTIMIZE, 0, &gerr);
    if (*out == NULL) {
        hn_status s = hn_fail(l->err, HN_ERR_UNSUPPORTED, "%s: %s: cannot compile regex \"%.80s\": %s",
                              l->label, where, source, gerr->message);
        g_error_free(gerr);
        return s;
    }
    return HN_OK;
}

/* {"String": "x"} or {"Regex": "..."} */
static hn_status read_pattern(const loader *l, const char *where, const cJSON *object,
                              hn_pattern *pattern)
{
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(object, "pattern");
    const cJSON *literal = cJSON_GetObjectItemCaseSensitive(p, "String");
    const cJSON *regex = cJSON_GetObjectItemCaseSensitive(p, "Regex");
    if (cJSON_IsString(literal)) {
        pattern->literal = g_strdup(literal->valuestring);
        return HN_OK;
    }
    if (cJSON_IsString(regex))
        return compile_regex(l, where, regex->valuestring, &pattern->regex);
    return fail_at(l, where, "expected", "a pattern {\"String\": ...} or {\"Regex\": ...}");
}

static const char *string_field(const cJSON *object, const char *key, const char *fallback)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    return cJSON_IsString(item) ? item->valuestring : fallback;
}

static bool bool_field(const cJSON *object, const char *key, bool fallback)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    return cJSON_IsBool(item) ? cJSON_IsTrue(item) : fallback;
}

/* Metaspace's replacement and Strip's content: exactly one character. */
static hn_status one_character(const loader *l, const char *where, const cJSON *json,
                               const char *key, const char *fallback, char **out)
{
    const char *value = string_field(json, key, fallback);
    if (g_utf8_strlen(value, -1) != 1)
        return fail_at(l, where, "expected one character for", key);
    *out = g_strdup(value);
    return HN_OK;
}

/* Strip's start / stop counts. */
static hn_status small_count(const loader *l, const char *where, const cJSON *json,
                             const char *key, int *out)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(json, key);
    *out = 0;
    if (item == NULL)
        return HN_OK;
    if (!cJSON_IsNumber(item) || item->valuedouble < 0 || item->valuedouble > 65536 ||
        (double)(int)item->valuedouble != item->valuedouble)
        return fail_at(l, where, "expected a count from 0 to 65536 for", key);
    *out = (int)item->valuedouble;
    return HN_OK;
}

static hn_status read_prepend_scheme(const loader *l, const char *where, const cJSON *object,
                                     hn_prepend_scheme *out)
{
    /* Older files say add_prefix_space instead of prepend_scheme. */
    const char *scheme = string_field(object, "prepend_scheme",
                                      bool_field(object, "add_prefix_space", true) ? "always" : "never");
    if (strcmp(scheme, "always") == 0)
        *out = HN_PREPEND_ALWAYS;
    else if (strcmp(scheme, "first") == 0)
        *out = HN_PREPEND_FIRST;
    else if (strcmp(scheme, "never") == 0)
        *out = HN_PREPEND_NEVER;
    else
        return fail_at(l, where, "expected prepend_scheme always, first or never, found", scheme);
    return HN_OK;
}

static hn_status read_normalizer(const loader *l, const cJSON *json, hn_normalizer **out)
{
    const char *type = type_of(json);
    hn_normalizer *n = g_new0(hn_normalizer, 1);
    *out = n;
    static const struct {
        const char *name;
        hn_norm_kind kind;
    } kinds[] = {{"NFC", HN_NORM_NFC},         {"NFD", HN_NORM_NFD},
                 {"NFKC", HN_NORM_NFKC},       {"NFKD", HN_NORM_NFKD},
                 {"Lowercase", HN_NORM_LOWERCASE}, {"Replace", HN_NORM_REPLACE},
                 {"Prepend", HN_NORM_PREPEND}, {"Strip", HN_NORM_STRIP},
                 {"Sequence", HN_NORM_SEQUENCE}};
    size_t k = 0;
    while (k < G_N_ELEMENTS(kinds) && (type == NULL || strcmp(type, kinds[k].name) != 0))
        k++;
    if (k == G_N_ELEMENTS(kinds))
        return unsupported(l, "normalizer", type != NULL ? type : "(none)",
                           "NFC, NFD, NFKC, NFKD, Lowercase, Replace, Prepend, Strip, Sequence");
    n->kind = kinds[k].kind;
    switch (n->kind) {
    case HN_NORM_REPLACE:
        n->content = g_strdup(string_field(json, "content", ""));
        return read_pattern(l, "normalizer Replace", json, &n->pattern);
    case HN_NORM_PREPEND:
        n->content = g_strdup(string_field(json, "prepend", ""));
        return HN_OK;
    case HN_NORM_STRIP:
        n->left = bool_field(json, "strip_left", true);
        n->right = bool_field(json, "strip_right", true);
        return HN_OK;
    case HN_NORM_SEQUENCE: {
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(json, "normalizers");
        n->n_children = cJSON_GetArraySize(list);
        n->children = g_new0(hn_normalizer *, n->n_children > 0 ? n->n_children : 1);
        for (int i = 0; i < n->n_children; i++)
            HN_TRY(read_normalizer(l, cJSON_GetArrayItem(list, i), &n->children[i]));
        return HN_OK;
    }
    default:
        return HN_OK;
    }
}

static hn_status read_split_behavior(const loader *l, const cJSON *json, hn_split_behavior *out)
{
    static const char *names[] = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext",
                                  "Contiguous"};
    const char *behavior = string_field(json, "behavior", "");
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        if (strcmp(behavior, names[i]) == 0) {
            *out = (hn_split_behavior)i;
            return HN_OK;
        }
    }
    return fail_at(l, "pre_tokenizer Split",
                   "expected behavior Removed, Isolated, MergedWithPrevious, MergedWithNext or "
                   "Contiguous, found",
                   behavior);
}

static hn_status read_pretokenizer(const loader *l, const cJSON *json, hn_pretokenizer **out)
{
    const char *type = type_of(json);
    hn_pretokenizer *p = g_new0(hn_pretokenizer, 1);
    *out = p;
    if (type != NULL && strcmp(type, "ByteLevel") == 0) {
        p->kind = HN_PRE_BYTE_LEVEL;
        p->add_prefix_space = bool_field(json, "add_prefix_space", true);
        p->use_regex = bool_field(json, "use_regex", true);
        return p->use_regex ? compile_regex(l, "pre_tokenizer ByteLevel", gpt2_regex,
                                            &p->pattern.regex)
                            : HN_OK;
    }
    if (type != NULL && strcmp(type, "Split") == 0) {
        p->kind = HN_PRE_SPLIT;
        p->invert = bool_field(json, "invert", false);
        HN_TRY(read_split_behavior(l, json, &p->behavior));
        return read_pattern(l, "pre_tokenizer Split", json, &p->pattern);
    }
    if (type != NULL && strcmp(type, "Metaspace") == 0) {
        p->kind = HN_PRE_METASPACE;
        HN_TRY(one_character(l, "pre_tokenizer Metaspace", json, "replacement", "\xe2\x96\x81",
                             &p->replacement));
        p->split = bool_field(json, "split", true);
        return read_prepend_scheme(l, "pre_tokenizer Metaspace", json, &p->prepend_scheme);
    }
    if (type != NULL && strcmp(type, "Digits") == 0) {
        p->kind = HN_PRE_DIGITS;
        p->individual_digits = bool_field(json, "individual_digits", false);
        return HN_OK;
    }
    if (type != NULL && strcmp(type, "Sequence") == 0) {
        p->kind = HN_PRE_SEQUENCE;
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(json, "pretokenizers");
        p->n_children = cJSON_GetArraySize(list);
        p->children = g_new0(hn_pretokenizer *, p->n_children > 0 ? p->n_children : 1);
        for (int i = 0; i < p->n_children; i++)
            HN_TRY(read_pretokenizer(l, cJSON_GetArrayItem(list, i), &p->children[i]));
        return HN_OK;
    }
    return unsupported(l, "pre_tokenizer", type != NULL ? type : "(none)",
                       "ByteLevel, Split, Metaspace, Digits, Sequence");
}

static hn_status read_decoder(const loader *l, const cJSON *json, hn_decoder **out)
{
    const char *type = type_of(json);
    hn_decoder *d = g_new0(hn_decoder, 1);
    *out = d;
    if (type == NULL)
        type = "(none)";
    if (strcmp(type, "ByteLevel") == 0) {
        d->kind = HN_DEC_BYTE_LEVEL;
    } else if (strcmp(type, "ByteFallback") == 0) {
        d->kind = HN_DEC_BYTE_FALLBACK;
    } else if (strcmp(type, "Fuse") == 0) {
        d->kind = HN_DEC_FUSE;
    } else if (strcmp(type, "Strip") == 0) {
        d->kind = HN_DEC_STRIP;
        HN_TRY(one_character(l, "decoder Strip", json, "content", " ", &d->content));
        HN_TRY(small_count(l, "decoder Strip", json, "start", &d->start));
        HN_TRY(small_count(l, "decoder Strip", json, "stop", &d->stop));
    } else if (strcmp(type, "Replace") == 0) {
        d->kind = HN_DEC_REPLACE;
        d->content = g_strdup(string_field(json, "content", ""));
        return read_pattern(l, "decoder Replace", json, &d->pattern);
    } else if (strcmp(type, "Metaspace") == 0) {
        d->kind = HN_DEC_METASPACE;
        HN_TRY(one_character(l, "decoder Metaspace", json, "replacement", "\xe2\x96\x81",
                             &d->replacement));
        return read_prepend_scheme(l, "decoder Metaspace", json, &d->prepend_scheme);
    } else if (strcmp(type, "Sequence") == 0) {
        d->kind = HN_DEC_SEQUENCE;
        const cJSON *list = cJSON_GetObjectItemCaseSensitive(json, "decoders");
        d->n_children = cJSON_GetArraySize(list);
        d->children = g_new0(hn_decoder *, d->n_children > 0 ? d->n_children : 1);
        for (int i = 0; i < d->n_children; i++)
            HN_TRY(read_decoder(l, cJSON_GetArrayItem(list, i), &d->children[i]));
    } else {
        return unsupported(l, "decoder", type,
                           "ByteLevel, ByteFallback, Fuse, Strip, Replace, Metaspace, Sequence");
    }
    return HN_OK;
}

/* TemplateProcessing's "single" list, ByteLevel (ids unchanged) or a Sequence of those. */
static hn_status read_post_processor(const loader *l, const cJSON *json, hn_post_processor *post)
{
    const char *type = type_of(json);
    if (type != NULL && strcmp(type, "ByteLevel") == 0)
        return HN_OK;
    if (type != NULL && strcmp(type, "Sequence") == 0) {
        const cJSON *item;
        cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(json, "processors"))
            HN_TRY(read_post_processor(l, item, post));
        return HN_OK;
    }
    if (type == NULL || strcmp(type, "TemplateProcessing") != 0)
        return unsupported(l, "post_processor", type != NULL ? type : "(none)",
                           "TemplateProcessing, ByteLevel, Sequence");
    const cJSON *single = cJSON_GetObjectItemCaseSensitive(json, "single");
    const cJSON *specials = cJSON_GetObjectItemCaseSensitive(json, "special_tokens");
    post->n_single = cJSON_GetArraySize(single);
    post->single = g_new0(hn_template_item, post->n_single > 0 ? post->n_single : 1);
    for (int i = 0; i < post->n_single; i++) {
        const cJSON *item = cJSON_GetArrayItem(single, i);
        const cJSON *special = cJSON_GetObjectItemCaseSensitive(item, "SpecialToken");
        hn_template_item *t = &post->single[i];
        if (cJSON_GetObjectItemCaseSensitive(item, "Sequence") != NULL) {
            t->is_sequence = true;
            continue;
        }
        const char *name = string_field(special, "id", NULL);
        const cJSON *entry = name != NULL ? cJSON_GetObjectItemCaseSensitive(specials, name) : NULL;
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(entry, "ids");
        if (!cJSON_IsArray(ids))
            return fail_at(l, "post_processor", "expected special_tokens to list the ids of",
                           name != NULL ? name : "(unnamed)");
        t->n_ids = cJSON_GetArraySize(ids);
        t->ids = g_new0(int32_t, t->n_ids > 0 ? t->n_ids : 1);
        for (int k = 0; k < t->n_ids; k++) {
            t->ids[k] = token_id(cJSON_GetArrayItem(ids, k));
            if (t->ids[k] < 0)
                return fail_at(l, "post_processor", "expected non-negative integer token ids for",
                               name);
        }
    }
    return HN_OK;
}

static hn_status read_merges(const loader *l, hn_bpe *bpe, const cJSON *merges)
{
    hn_bpe_begin_merges(bpe, (size_t)cJSON_GetArraySize(merges));
    int rank = 0;
    const cJSON *m;
    char where[64];
    cJSON_ArrayForEach(m, merges)
    {
        char *left = NULL, *right = NULL;
        if (cJSON_IsString(m)) {
            const char *space = strchr(m->valuestring, ' ');
            if (space != NULL) {
                left = g_strndup(m->valuestring, (gsize)(space - m->valuestring));
                right = g_strdup(space + 1);
            }
        } else if (cJSON_IsArray(m) && cJSON_GetArraySize(m) == 2 &&
                   cJSON_IsString(cJSON_GetArrayItem(m, 0)) &&
                   cJSON_IsString(cJSON_GetArrayItem(m, 1))) {
            left = g_strdup(cJSON_GetArrayItem(m, 0)->valuestring);
            right = g_strdup(cJSON_GetArrayItem(m, 1)->valuestring);
        }
        snprintf(where, sizeof where, "model.merges[%d]", rank);
        if (left == NULL)
            return fail_at(l, where, "expected", "\"left right\" or [\"left\", \"right\"]");
        hn_status status = hn_bpe_add_merge(bpe, left, right, rank, l->label, where, l->err);
        g_free(left);
        g_free(right);
        HN_TRY(status);
        rank++;
    }
    return HN_OK;
}

static hn_status read_model(const loader *l, hn_tokenizer *tok, const cJSON *model)
{
    const char *type = type_of(model);
    if (type == NULL && cJSON_GetObjectItemCaseSensitive(model, "merges") != NULL)
        type = "BPE"; /* files from before "type" was written */
    if (type == NULL || strcmp(type, "BPE") != 0)
        return unsupported(l, "model", type != NULL ? type : "(none)", "BPE");
    hn_bpe *bpe = &tok->bpe;
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    if (!cJSON_IsObject(vocab))
        return fail_at(l, "model.vocab", "expected", "an object from token to id");
    hn_bpe_begin(bpe);
    const cJSON *entry;
    cJSON_ArrayForEach(entry, vocab)
    {
        if (token_id(entry) < 0)
            return fail_at(l, "model.vocab", "expected a non-negative integer id for token",
                           entry->string);
        hn_bpe_set_token(bpe, entry->string, token_id(entry));
    }
    /* Ids number the vocabulary; one far past the entry count would make a huge id table. */
    int64_t entries = cJSON_GetArraySize(vocab);
    const cJSON *biggest = NULL;
    cJSON_ArrayForEach(entry, vocab)
        if (biggest == NULL || entry->valuedouble > biggest->valuedouble)
            biggest = entry;
    if (biggest != NULL && biggest->valuedouble >= (double)(2 * entries + 65536))
        return fail_at(l, "model.vocab", "expected ids that number the vocabulary densely; far too "
                       "large an id for its size is given to token", biggest->string);
    bpe->byte_fallback = bool_field(model, "byte_fallback", false);
    bpe->fuse_unk = bool_field(model, "fuse_unk", false);
    bpe->ignore_merges = bool_field(model, "ignore_merges", false);
    const char *prefix = string_field(model, "continuing_subword_prefix", NULL);
    const char *suffix = string_field(model, "end_of_word_suffix", NULL);
    if ((prefix != NULL && prefix[0] != '\0') || (suffix != NULL && suffix[0] != '\0'))
        return unsupported(l, "model BPE with continuing_subword_prefix/end_of_word_suffix",
                           prefix != NULL && prefix[0] ? prefix : suffix, "BPE without them");
    hn_bpe_end_vocab(bpe, string_field(model, "unk_token", NULL));
    return read_merges(l, bpe, cJSON_GetObjectItemCaseSensitive(model, "merges"));
}

static hn_status read_added_tokens(const loader *l, hn_tokenizer *tok, const cJSON *list)
{
    tok->n_added = cJSON_GetArraySize(list);
    tok->added = g_new0(hn_added_token, tok->n_added > 0 ? tok->n_added : 1);
    tok->added_by_id = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (int i = 0; i < tok->n_added; i++) {
        const cJSON *item = cJSON_GetArrayItem(list, i);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
        const char *content = string_field(item, "content", NULL);
        if (token_id(id) < 0 || content == NULL || content[0] == '\0')
            return fail_at(l, "added_tokens", "expected", "objects with an id and a non-empty content");
        hn_added_token *t = &tok->added[i];
        t->id = token_id(id);
        t->content = g_strdup(content);
        t->single_word = bool_field(item, "single_word", false);
        t->lstrip = bool_field(item, "lstrip", false);
        t->rstrip = bool_field(item, "rstrip", false);
        t->normalized = bool_field(item, "normalized", true);
        t->special = bool_field(item, "special", false);
        g_hash_table_insert(tok->added_by_id, GINT_TO_POINTER(t->id), t);
    }
    return HN_OK;
}

/* The two tries of added tokens: matched on the raw text, or on normalized text (their
 * contents normalized the same way). */
static hn_status build_tries(const loader *l, hn_tokenizer *tok)
{
    tok->raw_trie = hn_trie_new();
    tok->normalized_trie = hn_trie_new();
    GString *normalized = g_string_new(NULL);
    for (int i = 0; i < tok->n_added; i++) {
        const hn_added_token *t = &tok->added[i];
        if (t->normalized && tok->normalizer != NULL) {
            if (!hn_normalize(tok->normalizer, t->content, strlen(t->content), normalized)) {
                g_string_free(normalized, TRUE);
                return hn_fail(l->err, HN_ERR_UNSUPPORTED,
                               "%s: normalizer: it grows the added token \"%s\" more than %dx; "
                               "Hone refuses such a tokenizer",
                               l->label, t->content, HN_NORMALIZED_GROWTH);
            }
            hn_trie_insert(tok->normalized_trie, normalized->str, normalized->len, i);
        } else if (t->normalized) {
            hn_trie_insert(tok->normalized_trie, t->content, strlen(t->content), i);
        } else {
            hn_trie_insert(tok->raw_trie, t->content, strlen(t->content), i);
        }
    }
    g_string_free(normalized, TRUE);
    return HN_OK;
}

hn_status hn_tokenizer_read_components(hn_tokenizer *tok, const cJSON *root, hn_error *err)
{
    const loader loader_state = {tok->label, err}, *l = &loader_state;
    HN_TRY(read_added_tokens(l, tok, cJSON_GetObjectItemCaseSensitive(root, "added_tokens")));
    const cJSON *json = hn_json_field(root, "normalizer");
    if (json != NULL)
        HN_TRY(read_normalizer(l, json, &tok->normalizer));
    json = hn_json_field(root, "pre_tokenizer");
    if (json != NULL)
        HN_TRY(read_pretokenizer(l, json, &tok->pre));
    json = hn_json_field(root, "post_processor");
    if (json != NULL)
        HN_TRY(read_post_processor(l, json, &tok->post));
    json = hn_json_field(root, "decoder");
    if (json != NULL)
        HN_TRY(read_decoder(l, json, &tok->decoder));
    return build_tries(l, tok);
}

static hn_status read_root(const loader *l, hn_tokenizer *tok, const cJSON *root)
{
    HN_TRY(read_model(l, tok, cJSON_GetObjectItemCaseSensitive(root, "model")));
    return hn_tokenizer_read_components(tok, root, l->err);
}

hn_tokenizer *hn_tokenizer_new(const char *label)
{
    hn_tokenizer *tok = g_new0(hn_tokenizer, 1);
    tok->label = g_strdup(label);
    tok->config = (hn_tokenizer_config){-1, -1, -1, -1, false, false, NULL};
    return tok;
}

hn_status hn_tokenizer_parse(const char *text, size_t length, const char *label,
                             hn_tokenizer **out, hn_error *err)
{
    cJSON *root = NULL;
    HN_TRY(hn_json_parse(text, length, label, &root, err));
    hn_tokenizer *tok = hn_tokenizer_new(label);
    loader l = {label, err};
    hn_status status = cJSON_IsObject(root)
                           ? read_root(&l, tok, root)
                           : fail_at(&l, "top level", "expected", "a JSON object");
    cJSON_Delete(root);
    if (status != HN_OK) {
        hn_tokenizer_free(tok);
        return status;
    }
    *out = tok;
    return HN_OK;
}

void hn_tokenizer_free(hn_tokenizer *tok)
{
    if (tok == NULL)
        return;
    if (tok->bpe.vocab != NULL)
        g_hash_table_destroy(tok->bpe.vocab);
    g_free(tok->bpe.id_to_token);
    g_free(tok->bpe.merges);
    for (int i = 0; i < tok->n_added; i++)
        g_free(tok->added[i].content);
    g_free(tok->added);
    if (tok->added_by_id != NULL)
        g_hash_table_destroy(tok->added_by_id);
    hn_trie_free(tok->raw_trie);
    hn_trie_free(tok->normalized_trie);
    hn_normalizer_free(tok->normalizer);
    hn_pretokenizer_free(tok->pre);
    for (int i = 0; i < tok->post.n_single; i++)
        g_free(tok->post.single[i].ids);
    g_free(tok->post.single);
    hn_decoder_free(tok->decoder);
    g_free(tok->config.chat_template);
    g_free(tok->label);
    g_free(tok);
}
