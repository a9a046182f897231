/* Pre-tokenizers of tokenizer.json: ByteLevel, Split, Metaspace, Digits and Sequence. Each
 * turns the text pieces of a list into smaller pieces (words) for the model. */
#include <string.h>

#include "tokenizer_internal.h"

/* A span of a piece with its role after the behaviour is applied. */
typedef struct {
    size_t start, end;
    bool is_match;
} span;

static void collect_span(size_t start, size_t end, bool is_match, void *user)
{
    span s = {start, end, is_match};
    g_array_append_val((GArray *)user, s);
}

/* Applies a split behaviour to spans (tokenizers' NormalizedString::split) and appends the
 * kept ones as pieces. */
static void emit_split(hn_piece_list *out, const char *text, GArray *spans,
                       hn_split_behavior behavior, bool at_start)
{
    GArray *kept = g_array_sized_new(FALSE, FALSE, sizeof(span), spans->len);
    bool previous_match = false;
    if (behavior == HN_SPLIT_MERGED_WITH_NEXT) {
        for (guint k = spans->len; k-- > 0;) {
            span s = g_array_index(spans, span, k);
            if (s.is_match && !previous_match && kept->len > 0)
                g_array_index(kept, span, kept->len - 1).start = s.start;
            else
                g_array_append_val(kept, s);
            previous_match = s.is_match;
        }
        for (guint a = 0, b = kept->len; b > a + 1; a++, b--) {
            span t = g_array_index(kept, span, a);
            g_array_index(kept, span, a) = g_array_index(kept, span, b - 1);
            g_array_index(kept, span, b - 1) = t;
        }
    } else {
        for (guint k = 0; k < spans->len; k++) {
            span s = g_array_index(spans, span, k);
            bool merge = false;
            if (behavior == HN_SPLIT_MERGED_WITH_PREVIOUS)
                merge = s.is_match && !previous_match;
            else if (behavior == HN_SPLIT_CONTIGUOUS)
                merge = s.is_match == previous_match;
            if (merge && kept->len > 0) {
                g_array_index(kept, span, kept->len - 1).end = s.end;
            } else if (!(behavior == HN_SPLIT_REMOVED && s.is_match)) {
                g_array_append_val(kept, s);
            }
            previous_match = s.is_match;
        }
    }
    for (guint k = 0; k < kept->len; k++) {
        span s = g_array_index(kept, span, k);
        if (s.end > s.start)
            hn_pieces_add(out, text + s.start, s.end - s.start, -1, at_start && s.start == 0);
    }
    g_array_free(kept, TRUE);
}

static void byte_level(const hn_pretokenizer *pre, const char *text, size_t length,
                       bool at_start, hn_piece_list *out)
{
    static char mapped[256][4];
    static int mapped_length[256];
    static gsize ready = 0;
    if (g_once_init_enter(&ready)) {
        for (int b = 0; b < 256; b++)
            mapped_length[b] = g_unichar_to_utf8(hn_byte_to_unichar((unsigned char)b), mapped[b]);
        g_once_init_leave(&ready, 1);
    }
    GString *spaced = NULL;
    if (pre->add_prefix_space && (length == 0 || text[0] != ' ')) {
        spaced = g_string_new(" ");
        g_string_append_len(spaced, text, (gssize)length);
        text = spaced->str;
        length = spaced->len;
    }
    hn_piece_list words;
    hn_pieces_init(&words);
    if (pre->use_regex) {
        GArray *spans = g_array_new(FALSE, FALSE, sizeof(span));
        hn_pattern_spans(&pre->pattern, text, length, collect_span, spans);
        emit_split(&words, text, spans, HN_SPLIT_ISOLATED, at_start);
        g_array_free(spans, TRUE);
    } else {
        hn_pieces_add(&words, text, length, -1, at_start);
    }
    for (guint k = 0; k < words.pieces->len; k++) {
        const hn_piece *w = &g_array_index(words.pieces, hn_piece, k);
        const unsigned char *p = (const unsigned char *)hn_piece_text(&words, w);
        hn_piece piece = {out->arena->len, 0, -1, w->at_start};
        for (size_t i = 0; i < w->length; i++)
            g_string_append_len(out->arena, mapped[p[i]], mapped_length[p[i]]);
        piece.length = out->arena->len - piece.offset;
        g_array_append_val(out->pieces, piece);
    }
    hn_pieces_clear(&words);
    if (spaced != NULL)
        g_string_free(spaced, TRUE);
}

static void metaspace(const hn_pretokenizer *pre, const char *text, size_t length, bool at_start,
                      hn_piece_list *out)
{
    GString *replaced = g_string_sized_new(length + 8);
    for (size_t i = 0; i < length; i++) {
        if (text[i] == ' ')
            g_string_append(replaced, pre->replacement);
        else
            g_string_append_c(replaced, text[i]);
    }
    bool prepend = pre->prepend_scheme == HN_PREPEND_ALWAYS ||
                   (pre->prepend_scheme == HN_PREPEND_FIRST && at_start);
    if (prepend && !g_str_has_prefix(replaced->str, pre->replacement))
        g_string_prepend(replaced, pre->replacement);
    if (pre->split) {
        hn_pattern pattern = {pre->replacement, NULL};
        GArray *spans = g_array_new(FALSE, FALSE, sizeof(span));
        hn_pattern_spans(&pattern, replaced->str, replaced->len, collect_span, spans);
        emit_split(out, replaced->str, spans, HN_SPLIT_MERGED_WITH_NEXT, at_start);
        g_array_free(spans, TRUE);
    } else {
        hn_pieces_add(out, replaced->str, replaced->len, -1, at_start);
    }
    g_string_free(replaced, TRUE);
}

/* Rust's char::is_numeric: general categories Nd, Nl and No. */
static bool is_numeric(gunichar c)
{
    GUnicodeType type = g_unichar_type(c);
    return type == G_UNICODE_DECIMAL_NUMBER || type == G_UNICODE_LETTER_NUMBER ||
           type == G_UNICODE_OTHER_NUMBER;
}

static void digits(const hn_pretokenizer *pre, const char *text, size_t length, bool at_start,
                   hn_piece_list *out)
{
    GArray *spans = g_array_new(FALSE, FALSE, sizeof(span));
    size_t gap = 0;
    for (const char *p = text; p < text + length; p = g_utf8_next_char(p)) {
        if (is_numeric(g_utf8_get_char(p))) {
            size_t i = (size_t)(p - text), next = (size_t)(g_utf8_next_char(p) - text);
            if (i > gap)
                collect_span(gap, i, false, spans);
            collect_span(i, next, true, spans);
            gap = next;
        }
    }
    if (gap < length)
        collect_span(gap, length, false, spans);
    emit_split(out, text, spans,
               pre->individual_digits ? HN_SPLIT_ISOLATED : HN_SPLIT_CONTIGUOUS, at_start);
    g_array_free(spans, TRUE);
}

static void split_piece(const hn_pretokenizer *pre, const char *text, size_t length,
                        bool at_start, hn_piece_list *out)
{
    switch (pre->kind) {
    case HN_PRE_BYTE_LEVEL:
        byte_level(pre, text, length, at_start, out);
        break;
    case HN_PRE_SPLIT: {
        GArray *spans = g_array_new(FALSE, FALSE, sizeof(span));
        hn_pattern_spans(&pre->pattern, text, length, collect_span, spans);
        if (pre->invert)
            for (guint k = 0; k < spans->len; k++)
                g_array_index(spans, span, k).is_match = !g_array_index(spans, span, k).is_match;
        emit_split(out, text, spans, pre->behavior, at_start);
        g_array_free(spans, TRUE);
        break;
    }
    case HN_PRE_METASPACE:
        metaspace(pre, text, length, at_start, out);
        break;
    case HN_PRE_DIGITS:
        digits(pre, text, length, at_start, out);
        break;
    case HN_PRE_SEQUENCE:
        break; /* handled by hn_pretokenize */
    }
}

void hn_pretokenize(const hn_pretokenizer *pre, const hn_piece_list *in, hn_piece_list *out)
{
    if (pre->kind == HN_PRE_SEQUENCE) {
        hn_piece_list a, b;
        hn_pieces_init(&a);
        hn_pieces_init(&b);
        const hn_piece_list *current = in;
        hn_piece_list *next = &a;
        for (int i = 0; i < pre->n_children; i++) {
            hn_pieces_reset(next);
            hn_pretokenize(pre->children[i], current, next);
            current = next;
            next = next == &a ? &b : &a;
        }
        for (guint k = 0; k < current->pieces->len; k++) {
            const hn_piece *p = &g_array_index(current->pieces, hn_piece, k);
            hn_pieces_add(out, hn_piece_text(current, p), p->length, p->token, p->at_start);
        }
        hn_pieces_clear(&a);
        hn_pieces_clear(&b);
        return;
    }
    for (guint k = 0; k < in->pieces->len; k++) {
        const hn_piece *p = &g_array_index(in->pieces, hn_piece, k);
        if (p->token >= 0)
            hn_pieces_add(out, hn_piece_text(in, p), p->length, p->token, p->at_start);
        else if (p->length > 0) /* empty text (the empty input) stays empty, as upstream */
            split_piece(pre, hn_piece_text(in, p), p->length, p->at_start, out);
    }
}

void hn_pretokenizer_free(hn_pretokenizer *pre)
{
    if (pre == NULL)
        return;
    for (int i = 0; i < pre->n_children; i++)
        hn_pretokenizer_free(pre->children[i]);
    g_free(pre->children);
    hn_pattern_clear(&pre->pattern);
    g_free(pre->replacement);
    g_free(pre);
}
