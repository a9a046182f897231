/* rouge_chinese's get_scores restated. Each text is cut into sentences (Rouge.cut_sent: a line
 * break after 。！？? not followed by a closing quote ” ’, after six dots and after two … not
 * so followed, and after one of 。！？? plus a closing quote when not followed by ，。！？?;
 * four regex substitutions in that order, then rstrip() and split("\n")); each non-empty
 * sentence becomes " ".join(sentence.split()); words are every sentence's split(" ") in order
 * (a whitespace-only sentence gives one empty word). ROUGE-N counts distinct n-grams of the
 * whole word list (Ngrams with exclusive=True is a set): P = overlap / hyp n-grams,
 * R = overlap / ref n-grams (0 when a count is 0). ROUGE-L (rouge_l_summary_level as written
 * there) is the longest common subsequence of the two whole word lists: P = lcs / hyp words,
 * R = lcs / ref words. F = 2 (P R) / (P + R + 1e-8) for all three. */
#include "metric_rouge.h"

#include <glib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metric_segment.h"

static bool sentence_end(gunichar c)
{
    return c == 0x3002 || c == 0xFF01 || c == 0xFF1F || c == '?'; /* 。！？? */
}

static bool closing_quote(gunichar c)
{
    return c == 0x201D || c == 0x2019; /* ” ’ */
}

/* One substitution pass: at each position, a match of `width` characters gets a line break
 * after its first `keep` characters; the scan continues after the match (re.sub). */
typedef bool (*match_fn)(const gunichar *c, size_t i, size_t n);

static bool match_end_then_other(const gunichar *c, size_t i, size_t n)
{
    return i + 1 < n && sentence_end(c[i]) && !closing_quote(c[i + 1]);
}

static bool match_six_dots(const gunichar *c, size_t i, size_t n)
{
    if (i + 6 >= n)
        return false;
    for (size_t k = 0; k < 6; k++)
        if (c[i + k] != '.')
            return false;
    return !closing_quote(c[i + 6]);
}

static bool match_two_ellipses(const gunichar *c, size_t i, size_t n)
{
    return i + 2 < n && c[i] == 0x2026 && c[i + 1] == 0x2026 && !closing_quote(c[i + 2]);
}

static bool match_end_quote_then_other(const gunichar *c, size_t i, size_t n)
{
    return i + 2 < n && sentence_end(c[i]) && closing_quote(c[i + 1]) &&
           !sentence_end(c[i + 2]) && c[i + 2] != 0xFF0C; /* ， */
}

static GArray *substitute(GArray *in, match_fn match, size_t keep)
{
    const gunichar *c = (const gunichar *)in->data;
    size_t n = in->len;
    GArray *out = g_array_sized_new(FALSE, FALSE, sizeof(gunichar), (guint)n + 16);
    const gunichar newline = '\n';
    for (size_t i = 0; i < n;) {
        if (match(c, i, n)) {
            g_array_append_vals(out, c + i, (guint)keep);
            g_array_append_val(out, newline);
            g_array_append_val(out, c[i + keep]); /* the character after the match's group 1 */
            i += keep + 1;
        } else {
            g_array_append_val(out, c[i]);
            i++;
        }
    }
    g_array_unref(in);
    return out;
}

/* Word ids of a text as get_scores sees it; returns false when it has no sentence. */
static bool text_words(const char *text, GHashTable *ids, GArray *words)
{
    glong n = 0;
    gunichar *decoded = g_utf8_to_ucs4_fast(text, -1, &n);
    GArray *c = g_array_sized_new(FALSE, FALSE, sizeof(gunichar), (guint)n);
    g_array_append_vals(c, decoded, (guint)n);
    g_free(decoded);
    c = substitute(c, match_end_then_other, 1);
    c = substitute(c, match_six_dots, 6);
    c = substitute(c, match_two_ellipses, 2);
    c = substitute(c, match_end_quote_then_other, 2);
    const gunichar *s = (const gunichar *)c->data;
    size_t len = c->len;
    while (len > 0 && hn_py_isspace(s[len - 1])) /* rstrip() */
        len--;
    bool any = false;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '\n')
            continue;
        if (i > start) { /* a sentence with characters: its whitespace-separated words */
            any = true;
            bool added = false;
            for (size_t a = start; a < i;) {
                while (a < i && hn_py_isspace(s[a]))
                    a++;
                size_t b = a;
                while (b < i && !hn_py_isspace(s[b]))
                    b++;
                if (b > a) {
                    char *word = g_ucs4_to_utf8(s + a, (glong)(b - a), NULL, NULL, NULL);
                    gpointer id = g_hash_table_lookup(ids, word);
                    if (id == NULL) {
                        id = GUINT_TO_POINTER(g_hash_table_size(ids) + 1);
                        g_hash_table_insert(ids, word, id);
                    } else {
                        g_free(word);
                    }
                    int32_t v = (int32_t)GPOINTER_TO_UINT(id);
                    g_array_append_val(words, v);
                    added = true;
                }
                a = b;
            }
            if (!added) { /* "".split(" ") == [""]: the empty word, id 0 */
                int32_t empty = 0;
                g_array_append_val(words, empty);
            }
        }
        start = i + 1;
    }
    g_array_unref(c);
    return any;
}

static int compare_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* The distinct n-grams (n = 1 or 2) of words, sorted; returns the count. */
static size_t distinct_ngrams(const GArray *words, int n, int64_t **out)
{
    const int32_t *w = (const int32_t *)words->data;
    size_t count = words->len >= (guint)n ? words->len - (size_t)n + 1 : 0;
    int64_t *grams = g_new(int64_t, MAX(count, 1));
    for (size_t i = 0; i < count; i++)
        grams[i] = n == 1 ? w[i] : ((int64_t)w[i] << 32) | (uint32_t)w[i + 1];
    qsort(grams, count, sizeof *grams, compare_i64);
    size_t distinct = 0;
    for (size_t i = 0; i < count; i++)
        if (distinct == 0 || grams[distinct - 1] != grams[i])
            grams[distinct++] = grams[i];
    *out = grams;
    return distinct;
}

static hn_rouge_score f_r_p(double hyp_count, double ref_count, double overlap)
{
    hn_rouge_score s;
    s.p = hyp_count == 0 ? 0.0 : overlap / hyp_count;
    s.r = ref_count == 0 ? 0.0 : overlap / ref_count;
    s.f = 2.0 * ((s.p * s.r) / (s.p + s.r + 1e-8));
    return s;
}

static hn_rouge_score rouge_n(const GArray *hyp, const GArray *ref, int n)
{
    int64_t *h = NULL, *r = NULL;
    size_t nh = distinct_ngrams(hyp, n, &h), nr = distinct_ngrams(ref, n, &r);
    size_t overlap = 0;
    for (size_t i = 0, j = 0; i < nh && j < nr;) {
        if (h[i] == r[j])
            overlap++, i++, j++;
        else if (h[i] < r[j])
            i++;
        else
            j++;
    }
    g_free(h);
    g_free(r);
    return f_r_p((double)nh, (double)nr, (double)overlap);
}

static hn_rouge_score rouge_l(const GArray *hyp, const GArray *ref)
{
    const int32_t *x = (const int32_t *)ref->data, *y = (const int32_t *)hyp->data;
    size_t m = ref->len, n = hyp->len;
    uint32_t *prev = g_new0(uint32_t, n + 1), *row = g_new0(uint32_t, n + 1);
    for (size_t i = 1; i <= m; i++) {
        for (size_t j = 1; j <= n; j++)
            row[j] = x[i - 1] == y[j - 1] ? prev[j - 1] + 1 : MAX(prev[j], row[j - 1]);
        uint32_t *t = prev;
        prev = row;
        row = t;
    }
    double lcs = prev[n];
    g_free(prev);
    g_free(row);
    hn_rouge_score s;
    s.r = lcs / (double)m;
    s.p = lcs / (double)n;
    s.f = 2.0 * ((s.p * s.r) / (s.p + s.r + 1e-8));
    return s;
}

hn_status hn_rouge_get_scores(const char *hyp, const char *ref, hn_rouge_scores *out,
                              hn_error *err)
{
    if (!g_utf8_validate(hyp, -1, NULL) || !g_utf8_validate(ref, -1, NULL))
        return hn_fail(err, HN_ERR_ARGUMENT, "ROUGE: the %s is not valid UTF-8",
                       g_utf8_validate(hyp, -1, NULL) ? "reference" : "hypothesis");
    GHashTable *ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GArray *h = g_array_new(FALSE, FALSE, sizeof(int32_t)),
           *r = g_array_new(FALSE, FALSE, sizeof(int32_t));
    bool has_h = text_words(hyp, ids, h), has_r = text_words(ref, ids, r);
    hn_status s = HN_OK;
    if (!has_h || !has_r) {
        s = hn_fail(err, HN_ERR_ARGUMENT, "ROUGE: the %s is empty (no sentence)",
                    has_h ? "reference" : "hypothesis");
    } else {
        out->rouge1 = rouge_n(h, r, 1);
        out->rouge2 = rouge_n(h, r, 2);
        out->rougel = rouge_l(h, r);
    }
    g_array_unref(h);
    g_array_unref(r);
    g_hash_table_destroy(ids);
    return s;
}
