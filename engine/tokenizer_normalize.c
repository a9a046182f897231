/* Normalizers of tokenizer.json: Unicode forms (through GLib), Lowercase, Replace, Prepend,
 * Strip and Sequence. */
#include <locale.h>
#include <string.h>
#include <wctype.h>

#include "tokenizer_internal.h"

/* Rust's char::to_lowercase, one character at a time (what the Lowercase normalizer does):
 * the simple mappings come from the C library's Unicode locale, which covers characters GLib's
 * g_unichar_tolower leaves alone (Roman numerals, circled letters); U+0130 is the one
 * unconditional mapping to two characters (SpecialCasing.txt). */
static void lowercase(const char *text, size_t length, GString *out)
{
    static locale_t unicode_locale;
    static gsize ready = 0;
    if (g_once_init_enter(&ready)) {
        unicode_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
        g_once_init_leave(&ready, 1);
    }
    for (const char *p = text; p < text + length; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (c == 0x130) {
            g_string_append(out, "i\xcc\x87");
            continue;
        }
        gunichar lower = unicode_locale != (locale_t)0 ? (gunichar)towlower_l((wint_t)c, unicode_locale)
                                                       : g_unichar_tolower(c);
        g_string_append_unichar(out, lower);
    }
}

static void strip(const char *text, size_t length, bool left, bool right, GString *out)
{
    const char *begin = text, *end = text + length;
    while (left && begin < end && hn_unichar_is_white_space(g_utf8_get_char(begin)))
        begin = g_utf8_next_char(begin);
    while (right && end > begin) {
        const char *last = g_utf8_find_prev_char(begin, end);
        if (last == NULL || !hn_unichar_is_white_space(g_utf8_get_char(last)))
            break;
        end = last;
    }
    g_string_append_len(out, begin, end - begin);
}

/* Appends the normalized text to out; false once out passes limit bytes. */
static bool normalize_into(const hn_normalizer *norm, const char *text, size_t length,
                           GString *out, size_t limit)
{
    static const GNormalizeMode modes[] = {
        [HN_NORM_NFC] = G_NORMALIZE_NFC, [HN_NORM_NFD] = G_NORMALIZE_NFD,
        [HN_NORM_NFKC] = G_NORMALIZE_NFKC, [HN_NORM_NFKD] = G_NORMALIZE_NFKD,
    };
    switch (norm->kind) {
    case HN_NORM_NFC:
    case HN_NORM_NFD:
    case HN_NORM_NFKC:
    case HN_NORM_NFKD: {
        char *normalized = g_utf8_normalize(text, (gssize)length, modes[norm->kind]);
        g_string_append(out, normalized != NULL ? normalized : "");
        g_free(normalized);
        break;
    }
    case HN_NORM_LOWERCASE:
        lowercase(text, length, out);
        break;
    case HN_NORM_REPLACE:
        return hn_pattern_replace(&norm->pattern, text, length, norm->content, out, limit);
    case HN_NORM_PREPEND:
        if (length > 0)
            g_string_append(out, norm->content);
        g_string_append_len(out, text, (gssize)length);
        break;
    case HN_NORM_STRIP:
        strip(text, length, norm->left, norm->right, out);
        break;
    case HN_NORM_SEQUENCE: {
        GString *current = g_string_new_len(text, (gssize)length);
        GString *next = g_string_sized_new(length + 16);
        bool fits = true;
        for (int i = 0; i < norm->n_children && fits; i++) {
            g_string_truncate(next, 0);
            fits = normalize_into(norm->children[i], current->str, current->len, next, limit);
            GString *swap = current;
            current = next;
            next = swap;
        }
        if (fits)
            g_string_append_len(out, current->str, (gssize)current->len);
        g_string_free(current, TRUE);
        g_string_free(next, TRUE);
        if (!fits)
            return false;
        break;
    }
    }
    return out->len <= limit;
}

bool hn_normalize(const hn_normalizer *norm, const char *text, size_t length, GString *out)
{
    g_string_truncate(out, 0);
    return normalize_into(norm, text, length, out, HN_NORMALIZED_LIMIT(length));
}

void hn_normalizer_free(hn_normalizer *norm)
{
    if (norm == NULL)
        return;
    for (int i = 0; i < norm->n_children; i++)
        hn_normalizer_free(norm->children[i]);
    g_free(norm->children);
    hn_pattern_clear(&norm->pattern);
    g_free(norm->content);
    g_free(norm);
}
