/* Decoding: ids to token strings, the decoder chain of tokenizer.json (ByteLevel, ByteFallback,
 * Fuse, Strip, Replace, Metaspace, Sequence), and a streaming decoder that only emits
 * complete UTF-8. */
#include <string.h>

#include "tokenizer_internal.h"

/* ByteLevel: characters back to bytes; a token with any character outside the byte map keeps
 * its own UTF-8 bytes. All tokens become one string, invalid UTF-8 as U+FFFD. */
static void decode_byte_level(GPtrArray *tokens)
{
    GByteArray *bytes = g_byte_array_new();
    for (guint i = 0; i < tokens->len; i++) {
        const char *t = g_ptr_array_index(tokens, i);
        guint mark = bytes->len;
        bool all_mapped = true;
        for (const char *p = t; *p != '\0'; p = g_utf8_next_char(p)) {
            int b = hn_unichar_to_byte(g_utf8_get_char(p));
            if (b < 0) {
                all_mapped = false;
                break;
            }
            guint8 byte = (guint8)b;
            g_byte_array_append(bytes, &byte, 1);
        }
        if (!all_mapped) {
            g_byte_array_set_size(bytes, mark);
            g_byte_array_append(bytes, (const guint8 *)t, (guint)strlen(t));
        }
    }
    GString *out = g_string_sized_new(bytes->len + 1);
    hn_append_utf8_lossy(out, bytes->data, bytes->len);
    g_byte_array_free(bytes, TRUE);
    g_ptr_array_set_size(tokens, 0);
    g_ptr_array_add(tokens, g_string_free(out, FALSE));
}

/* "<0x41>" -> 0x41; -1 for any other token. */
static int byte_token_value(const char *t)
{
    if (strlen(t) != 6 || strncmp(t, "<0x", 3) != 0 || t[5] != '>' ||
        !g_ascii_isxdigit(t[3]) || !g_ascii_isxdigit(t[4]))
        return -1;
    return g_ascii_xdigit_value(t[3]) * 16 + g_ascii_xdigit_value(t[4]);
}

/* Flushes collected byte tokens: their string when valid UTF-8, else one U+FFFD per byte. */
static void flush_bytes(GByteArray *bytes, GPtrArray *out)
{
    if (bytes->len == 0)
        return;
    if (g_utf8_validate((const char *)bytes->data, bytes->len, NULL)) {
        g_ptr_array_add(out, g_strndup((const char *)bytes->data, bytes->len));
    } else {
        for (guint i = 0; i < bytes->len; i++)
            g_ptr_array_add(out, g_strdup("\xef\xbf\xbd"));
    }
    g_byte_array_set_size(bytes, 0);
}

static void decode_byte_fallback(GPtrArray *tokens)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    GByteArray *bytes = g_byte_array_new();
    for (guint i = 0; i < tokens->len; i++) {
        const char *t = g_ptr_array_index(tokens, i);
        int value = byte_token_value(t);
        if (value >= 0) {
            guint8 byte = (guint8)value;
            g_byte_array_append(bytes, &byte, 1);
        } else {
            flush_bytes(bytes, out);
            g_ptr_array_add(out, g_strdup(t));
        }
    }
    flush_bytes(bytes, out);
    g_byte_array_free(bytes, TRUE);
    g_ptr_array_set_size(tokens, 0);
    for (guint i = 0; i < out->len; i++)
        g_ptr_array_add(tokens, g_steal_pointer(&out->pdata[i]));
    g_ptr_array_free(out, TRUE);
}

static void decode_fuse(GPtrArray *tokens)
{
    GString *joined = g_string_new(NULL);
    for (guint i = 0; i < tokens->len; i++)
        g_string_append(joined, g_ptr_array_index(tokens, i));
    g_ptr_array_set_size(tokens, 0);
    g_ptr_array_add(tokens, g_string_free(joined, FALSE));
}

/* Strip: up to `start` leading and `stop` trailing copies of the character from each token. */
static char *strip_token(const char *t, const char *c, int start, int stop)
{
    size_t n = strlen(c), length = strlen(t);
    const char *begin = t, *end = t + length;
    for (int i = 0; i < start && (size_t)(end - begin) >= n && strncmp(begin, c, n) == 0; i++)
        begin += n;
    for (int i = 0; i < stop && (size_t)(end - begin) >= n && strncmp(end - n, c, n) == 0; i++)
        end -= n;
    return g_strndup(begin, (gsize)(end - begin));
}

static char *metaspace_token(const hn_decoder *dec, const char *t, bool first)
{
    GString *out = g_string_new(NULL);
    size_t n = strlen(dec->replacement);
    for (const char *p = t; *p != '\0';) {
        if (strncmp(p, dec->replacement, n) == 0) {
            bool drop = first && p == t && dec->prepend_scheme != HN_PREPEND_NEVER;
            if (!drop)
                g_string_append_c(out, ' ');
            p += n;
        } else {
            const char *next = g_utf8_next_char(p);
            g_string_append_len(out, p, next - p);
            p = next;
        }
    }
    return g_string_free(out, FALSE);
}

bool hn_decode_chain(const hn_decoder *dec, GPtrArray *tokens)
{
    switch (dec->kind) {
    case HN_DEC_BYTE_LEVEL:
        decode_byte_level(tokens);
        return true;
    case HN_DEC_BYTE_FALLBACK:
        decode_byte_fallback(tokens);
        return true;
    case HN_DEC_FUSE:
        decode_fuse(tokens);
        return true;
    case HN_DEC_SEQUENCE:
        for (int i = 0; i < dec->n_children; i++)
            if (!hn_decode_chain(dec->children[i], tokens))
                return false;
        return true;
    case HN_DEC_STRIP:
    case HN_DEC_REPLACE:
    case HN_DEC_METASPACE:
        break;
    }
    for (guint i = 0; i < tokens->len; i++) {
        char *t = g_ptr_array_index(tokens, i);
        char *changed;
        if (dec->kind == HN_DEC_STRIP) {
            changed = strip_token(t, dec->content, dec->start, dec->stop);
        } else if (dec->kind == HN_DEC_REPLACE) {
            GString *out = g_string_new(NULL);
            bool fits = hn_pattern_replace(&dec->pattern, t, strlen(t), dec->content, out,
                                           HN_DECODED_TOKEN_LIMIT);
            changed = g_string_free(out, FALSE);
            if (!fits) {
                g_free(changed);
                return false;
            }
        } else {
            changed = metaspace_token(dec, t, i == 0);
        }
        g_free(t);
        tokens->pdata[i] = changed;
    }
    return true;
}

void hn_decoder_free(hn_decoder *dec)
{
    if (dec == NULL)
        return;
    for (int i = 0; i < dec->n_children; i++)
        hn_decoder_free(dec->children[i]);
    g_free(dec->children);
    hn_pattern_clear(&dec->pattern);
    g_free(dec->content);
    g_free(dec->replacement);
    g_free(dec);
}

hn_status hn_tokenizer_decode(const hn_tokenizer *tok, const int32_t *ids, size_t n_ids,
                              bool skip_special, char **text, hn_error *err)
{
    GPtrArray *tokens = g_ptr_array_new_full((guint)n_ids, g_free);
    for (size_t i = 0; i < n_ids; i++) {
        const char *t = hn_tokenizer_id_to_token(tok, ids[i]);
        if (t == NULL) {
            g_ptr_array_free(tokens, TRUE);
            return hn_fail(err, HN_ERR_ARGUMENT, "%s: token id %d at position %zu is not in the "
                           "vocabulary (0 to %d)", tok->label, ids[i], i,
                           hn_tokenizer_vocab_size(tok) - 1);
        }
        if (skip_special && hn_tokenizer_is_special(tok, ids[i]))
            continue;
        g_ptr_array_add(tokens, g_strdup(t));
    }
    GString *out = g_string_new(NULL);
    if (tok->decoder != NULL) {
        if (!hn_decode_chain(tok->decoder, tokens)) {
            g_ptr_array_free(tokens, TRUE);
            g_string_free(out, TRUE);
            return hn_fail(err, HN_ERR_UNSUPPORTED, "%s: the decoder's Replace steps grow a "
                           "token beyond %d bytes; Hone refuses such a tokenizer", tok->label,
                           HN_DECODED_TOKEN_LIMIT);
        }
        for (guint i = 0; i < tokens->len; i++)
            g_string_append(out, g_ptr_array_index(tokens, i));
    } else {
        for (guint i = 0; i < tokens->len; i++) {
            if (i > 0)
                g_string_append_c(out, ' ');
            g_string_append(out, g_ptr_array_index(tokens, i));
        }
    }
    g_ptr_array_free(tokens, TRUE);
    *text = g_string_free(out, FALSE);
    return HN_OK;
}

/* Streaming: decode a window of recent ids twice, without and with the newest ones, and emit
 * the difference once it no longer ends in U+FFFD (an incomplete character). */
struct hn_token_stream {
    const hn_tokenizer *tok;
    bool skip_special;
    GArray *ids;           /* int32_t, all ids so far */
    size_t prefix, read;   /* the window: ids[prefix:read] was already emitted */
};

hn_token_stream *hn_token_stream_new(const hn_tokenizer *tok, bool skip_special)
{
    hn_token_stream *s = g_new0(hn_token_stream, 1);
    s->tok = tok;
    s->skip_special = skip_special;
    s->ids = g_array_new(FALSE, FALSE, sizeof(int32_t));
    return s;
}

static char *window_text(hn_token_stream *s, size_t from, size_t to)
{
    if (from >= to)
        return g_strdup(""); /* also covers a stream with no ids at all */
    char *text = NULL;
    hn_tokenizer_decode(s->tok, &g_array_index(s->ids, int32_t, from), to - from,
                        s->skip_special, &text, NULL);
    return text;
}

char *hn_token_stream_push(hn_token_stream *s, int32_t id, hn_error *err)
{
    if (hn_tokenizer_id_to_token(s->tok, id) == NULL) {
        hn_fail(err, HN_ERR_ARGUMENT, "%s: token id %d is not in the vocabulary", s->tok->label,
                id);
        return NULL;
    }
    g_array_append_val(s->ids, id);
    char *before = window_text(s, s->prefix, s->read);
    char *after = window_text(s, s->prefix, s->ids->len);
    size_t n_before = strlen(before), n_after = strlen(after);
    char *emitted;
    if (n_after > n_before && !g_str_has_suffix(after, "\xef\xbf\xbd")) {
        emitted = g_strdup(after + n_before);
        s->prefix = s->read;
        s->read = s->ids->len;
    } else {
        emitted = g_strdup("");
    }
    g_free(before);
    g_free(after);
    return emitted;
}

char *hn_token_stream_finish(hn_token_stream *s)
{
    char *before = window_text(s, s->prefix, s->read);
    char *after = window_text(s, s->prefix, s->ids->len);
    char *rest = g_strdup(strlen(after) > strlen(before) ? after + strlen(before) : "");
    s->prefix = s->read = s->ids->len;
    g_free(before);
    g_free(after);
    return rest;
}

void hn_token_stream_free(hn_token_stream *s)
{
    if (s == NULL)
        return;
    g_array_free(s->ids, TRUE);
    g_free(s);
}
