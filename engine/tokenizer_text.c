/* Text plumbing for the tokenizer: piece lists, literal/regex patterns, the GPT-2 byte map,
 * white space as Unicode defines it, and lossy UTF-8 decoding. */
#include <string.h>

#include "tokenizer_internal.h"

void hn_pieces_init(hn_piece_list *list)
{
    list->arena = g_string_sized_new(256);
    list->pieces = g_array_sized_new(FALSE, FALSE, sizeof(hn_piece), 16);
}

void hn_pieces_clear(hn_piece_list *list)
{
    g_string_free(list->arena, TRUE);
    g_array_free(list->pieces, TRUE);
}

void hn_pieces_reset(hn_piece_list *list)
{
    g_string_truncate(list->arena, 0);
    g_array_set_size(list->pieces, 0);
}

void hn_pieces_add(hn_piece_list *list, const char *text, size_t length, int32_t token,
                   bool at_start)
{
    hn_piece piece = {list->arena->len, length, token, at_start};
    g_string_append_len(list->arena, text, (gssize)length);
    g_array_append_val(list->pieces, piece);
}

void hn_pattern_clear(hn_pattern *pattern)
{
    g_free(pattern->literal);
    if (pattern->regex != NULL)
        g_regex_unref(pattern->regex);
    pattern->literal = NULL;
    pattern->regex = NULL;
}

/* The first occurrence of needle[0..n) in [p, end), or NULL. memchr + memcmp rather than
 * memmem: each call then reads only up to the match, which keeps a scan over many matches
 * linear (sanitizer builds check memmem's whole haystack on every call). */
static const char *find_literal(const char *p, const char *end, const char *needle, size_t n)
{
    while (p < end && (size_t)(end - p) >= n) {
        p = memchr(p, needle[0], (size_t)(end - p));
        if (p == NULL || (size_t)(end - p) < n)
            return NULL;
        if (memcmp(p, needle, n) == 0)
            return p;
        p++;
    }
    return NULL;
}

void hn_pattern_spans(const hn_pattern *pattern, const char *text, size_t length,
                      hn_span_fn on_span, void *user)
{
    size_t previous = 0;
    if (pattern->literal != NULL) {
        size_t n = strlen(pattern->literal);
        const char *p = text, *end = text + length;
        while (n > 0 && (p = find_literal(p, end, pattern->literal, n)) != NULL) {
            size_t start = (size_t)(p - text);
            if (start > previous)
                on_span(previous, start, false, user);
            on_span(start, start + n, true, user);
            previous = start + n;
            p += n;
        }
    } else {
        GMatchInfo *match = NULL;
        g_regex_match_full(pattern->regex, text, (gssize)length, 0, 0, &match, NULL);
        while (g_match_info_matches(match)) {
            int start = 0, stop = 0;
            g_match_info_fetch_pos(match, 0, &start, &stop);
            if (stop > start) {
                if ((size_t)start > previous)
                    on_span(previous, (size_t)start, false, user);
                on_span((size_t)start, (size_t)stop, true, user);
                previous = (size_t)stop;
            }
            g_match_info_next(match, NULL);
        }
        g_match_info_free(match);
    }
    if (previous < length)
        on_span(previous, length, false, user);
}

typedef struct {
    const char *text;
    const char *content;
    size_t content_length;
    GString *out;
    size_t limit;
    bool too_long;
} replace_state;

static void replace_span(size_t start, size_t end, bool is_match, void *user)
{
    replace_state *state = user;
    size_t add = is_match ? state->content_length : end - start;
    if (state->too_long || state->out->len + add > state->limit) {
        state->too_long = true;
        return;
    }
    if (is_match)
        g_string_append_len(state->out, state->content, (gssize)add);
    else
        g_string_append_len(state->out, state->text + start, (gssize)add);
}

bool hn_pattern_replace(const hn_pattern *pattern, const char *text, size_t length,
                        const char *content, GString *out, size_t limit)
{
    replace_state state = {text, content, strlen(content), out, limit, false};
    hn_pattern_spans(pattern, text, length, replace_span, &state);
    return !state.too_long;
}

/* GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the other 68 bytes
 * are numbered from U+0100 upwards in byte order. */
gunichar hn_byte_to_unichar(unsigned char b)
{
    static gunichar table[256];
    static gsize ready = 0;
    if (g_once_init_enter(&ready)) {
        gunichar next = 256;
        for (int i = 0; i < 256; i++) {
            bool printable = (i >= 33 && i <= 126) || (i >= 161 && i <= 172) || (i >= 174);
            table[i] = printable ? (gunichar)i : next++;
        }
        g_once_init_leave(&ready, 1);
    }
    return table[b];
}

int hn_unichar_to_byte(gunichar c)
{
    static int16_t inverse[324];
    static gsize ready = 0;
    if (g_once_init_enter(&ready)) {
        for (int i = 0; i < 324; i++)
            inverse[i] = -1;
        for (int b = 0; b < 256; b++)
            inverse[hn_byte_to_unichar((unsigned char)b)] = (int16_t)b;
        g_once_init_leave(&ready, 1);
    }
    return c < 324 ? inverse[c] : -1;
}

/* The code points with Unicode's White_Space property (PropList.txt). */
bool hn_unichar_is_white_space(gunichar c)
{
    return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000;
}

/* The length of the valid UTF-8 sequence at p (1-4), or 0 when the bytes there do not start
 * one; *maximal gets the length of the maximal subpart of an invalid sequence (at least 1),
 * following Unicode's "U+FFFD substitution of maximal subparts". */
static size_t utf8_sequence(const unsigned char *p, size_t n, size_t *maximal)
{
    unsigned char b = p[0];
    size_t need;
    unsigned char low = 0x80, high = 0xbf; /* allowed range of the second byte */
    *maximal = 1;
    if (b < 0x80)
        return 1;
    if (b >= 0xc2 && b <= 0xdf)
        need = 2;
    else if (b >= 0xe0 && b <= 0xef) {
        need = 3;
        if (b == 0xe0)
            low = 0xa0;
        if (b == 0xed)
            high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
        need = 4;
        if (b == 0xf0)
            low = 0x90;
        if (b == 0xf4)
            high = 0x8f;
    } else
        return 0;
    for (size_t i = 1; i < need; i++) {
        unsigned char lo = i == 1 ? low : 0x80, hi = i == 1 ? high : 0xbf;
        if (i >= n || p[i] < lo || p[i] > hi) {
            *maximal = i;
            return 0;
        }
    }
    return need;
}

void hn_append_utf8_lossy(GString *out, const unsigned char *bytes, size_t length)
{
    size_t i = 0;
    while (i < length) {
        size_t maximal = 1;
        size_t n = utf8_sequence(bytes + i, length - i, &maximal);
        if (n > 0) {
            g_string_append_len(out, (const char *)bytes + i, (gssize)n);
            i += n;
        } else {
            g_string_append(out, "\xef\xbf\xbd");
            i += maximal;
        }
    }
}
