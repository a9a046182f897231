/* Hone's word segmentation for ROUGE: jieba.cut's rules (jieba/__init__.py Tokenizer.cut and
 * __cut_DAG, jieba/finalseg/__init__.py cut) without its Chinese dictionary and HMM; see
 * metric_segment.h for the rules and the one departure. */
#include "metric_segment.h"

#include <string.h>

bool hn_py_isspace(gunichar c)
{
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

static bool is_ideograph(gunichar c)
{
    return c >= 0x4E00 && c <= 0x9FD5;
}

static bool is_alnum(gunichar c)
{
    return c < 0x80 && g_ascii_isalnum((char)c);
}

/* jieba's re_han_default: [\u4E00-\u9FD5a-zA-Z0-9+#&\._%\-] */
static bool is_han(gunichar c)
{
    return is_ideograph(c) || is_alnum(c) || (c != 0 && c < 0x80 && strchr("+#&._%-", (int)c));
}

/* The text as code points with their byte offsets (offsets[n] = the length). */
typedef struct {
    const char *text;
    gunichar *c;
    size_t *at;
    size_t n;
} chars;

static void chars_init(chars *s, const char *text)
{
    size_t len = strlen(text);
    s->text = text;
    s->c = g_new(gunichar, len + 1);
    s->at = g_new(size_t, len + 1);
    s->n = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        gunichar c = g_utf8_get_char_validated(p, end - p);
        s->at[s->n] = (size_t)(p - text);
        if (c == (gunichar)-1 || c == (gunichar)-2) {
            s->c[s->n++] = 0xFFFFFFFFu; /* a lone byte: no class, one word */
            p++;
        } else {
            s->c[s->n++] = c;
            p = g_utf8_next_char(p);
        }
    }
    s->at[s->n] = len;
}

static void chars_clear(chars *s)
{
    g_free(s->c);
    g_free(s->at);
}

/* Characters [a, b) as a word. */
static void add(GPtrArray *words, const chars *s, size_t a, size_t b)
{
    g_ptr_array_add(words, g_strndup(s->text + s->at[a], s->at[b] - s->at[a]));
}

/* finalseg's re_skip [a-zA-Z0-9]+(?:\.\d+)?%? matched at i: its end, or i when none. */
static size_t skip_match(const chars *s, size_t i, size_t end)
{
    size_t j = i;
    while (j < end && is_alnum(s->c[j]))
        j++;
    if (j == i)
        return i;
    if (j + 1 < end && s->c[j] == '.' && s->c[j + 1] < 0x80 && g_ascii_isdigit((char)s->c[j + 1])) {
        j += 2;
        while (j < end && s->c[j] < 0x80 && g_ascii_isdigit((char)s->c[j]))
            j++;
    }
    if (j < end && s->c[j] == '%')
        j++;
    return j;
}

/* A piece of single-character routes: one character is a word; longer, finalseg.cut splits it
 * (ideographs one each here, the rest by re_skip with the stretches between matches whole). */
static void flush_piece(GPtrArray *words, const chars *s, size_t a, size_t b)
{
    if (b - a == 1) {
        add(words, s, a, b);
        return;
    }
    size_t gap = a;
    for (size_t i = a; i < b;) {
        if (is_ideograph(s->c[i])) {
            if (gap < i)
                add(words, s, gap, i);
            add(words, s, i, i + 1);
            gap = ++i;
            continue;
        }
        size_t j = skip_match(s, i, b);
        if (j == i) {
            i++;
            continue;
        }
        if (gap < i)
            add(words, s, gap, i);
        add(words, s, i, j);
        gap = i = j;
    }
    if (gap < b)
        add(words, s, gap, b);
}

/* jieba's dictionary words that a han run without ideographs can hold (dict.txt's entries of
 * those characters with a frequency); none overlaps another, so jieba's best route takes each
 * occurrence (a word's log frequency beats two or more unknown characters). */
static size_t dictionary_word(const chars *s, size_t i, size_t end)
{
    static const char *const words[] = {"AT&T", "c#", "C#", "c++", "C++"};
    for (size_t w = 0; w < G_N_ELEMENTS(words); w++) {
        size_t len = strlen(words[w]);
        if (i + len > end)
            continue;
        size_t k = 0;
        while (k < len && s->c[i + k] == (gunichar)(unsigned char)words[w][k])
            k++;
        if (k == len)
            return len;
    }
    return 0;
}

static void han_run(GPtrArray *words, const chars *s, size_t a, size_t b)
{
    size_t piece = a;
    for (size_t i = a; i < b;) {
        size_t len = dictionary_word(s, i, b);
        if (len == 0) {
            i++;
            continue;
        }
        if (piece < i)
            flush_piece(words, s, piece, i);
        add(words, s, i, i + len);
        piece = i = i + len;
    }
    if (piece < b)
        flush_piece(words, s, piece, b);
}

GPtrArray *hn_segment_words(const char *text)
{
    GPtrArray *words = g_ptr_array_new_with_free_func(g_free);
    chars s;
    chars_init(&s, text);
    for (size_t i = 0; i < s.n;) {
        size_t j = i;
        if (is_han(s.c[i])) {
            while (j < s.n && is_han(s.c[j]))
                j++;
            han_run(words, &s, i, j);
        } else if (s.c[i] == '\r' && i + 1 < s.n && s.c[i + 1] == '\n') {
            j = i + 2;
            add(words, &s, i, j);
        } else {
            j = i + 1;
            add(words, &s, i, j);
        }
        i = j;
    }
    chars_clear(&s);
    return words;
}

char *hn_segment_joined(const char *text)
{
    GPtrArray *words = hn_segment_words(text);
    g_ptr_array_add(words, NULL);
    char *joined = g_strjoinv(" ", (char **)words->pdata);
    g_ptr_array_unref(words);
    return joined;
}
