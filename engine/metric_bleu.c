/* nltk's sentence_bleu (nltk 3.x, nltk/translate/bleu_score.py), restated: for n = 1..4 the
 * modified precision p_n = (hypothesis n-grams clipped by their count in the reference) /
 * max(1, hypothesis n-grams); no unigram match gives 0; method3 replaces each p_n whose
 * numerator is 0 by 1 / (2^k x denominator), k = 1, 2, ... in order (NIST geometric
 * smoothing); the score is BP x exp(sum 0.25 log p_n) with the brevity penalty BP = 1 when the
 * hypothesis is longer than the reference, else exp(1 - ref_len / hyp_len). */
#include "metric_bleu.h"

#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const int32_t *tokens;
    size_t n; /* n-gram order */
} ngram_order;

static int compare_gram(const int32_t *x, const int32_t *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

static int compare_ngrams(const void *a, const void *b, void *user)
{
    const ngram_order *o = user;
    return compare_gram(o->tokens + *(const size_t *)a, o->tokens + *(const size_t *)b, o->n);
}

/* Start positions of every n-gram of tokens [len], sorted by the n-gram. */
static size_t *sorted_ngrams(const int32_t *tokens, size_t len, size_t n, size_t *count)
{
    *count = len >= n ? len - n + 1 : 0;
    size_t *starts = g_new(size_t, MAX(*count, 1));
    for (size_t i = 0; i < *count; i++)
        starts[i] = i;
    ngram_order o = {tokens, n};
    g_qsort_with_data(starts, (gint)*count, sizeof *starts, compare_ngrams, &o);
    return starts;
}

/* modified_precision(): the clipped matches and max(1, the hypothesis n-gram count). Both
 * lists are sorted, so one merge pass pairs each distinct n-gram's counts. */
static void modified_precision(const int32_t *hyp, size_t n_hyp, const int32_t *ref,
                               size_t n_ref, size_t n, int64_t *numerator, int64_t *total)
{
    size_t nh = 0, nr = 0;
    size_t *h = sorted_ngrams(hyp, n_hyp, n, &nh), *r = sorted_ngrams(ref, n_ref, n, &nr);
    int64_t matched = 0;
    size_t j = 0;
    for (size_t i = 0; i < nh;) {
        const int32_t *gram = hyp + h[i];
        size_t count_h = 0, count_r = 0;
        while (i < nh && compare_gram(hyp + h[i], gram, n) == 0)
            i++, count_h++;
        while (j < nr && compare_gram(ref + r[j], gram, n) < 0)
            j++;
        while (j < nr && compare_gram(ref + r[j], gram, n) == 0)
            j++, count_r++;
        matched += (int64_t)MIN(count_h, count_r);
    }
    g_free(h);
    g_free(r);
    *numerator = matched;
    *total = (int64_t)MAX(nh, 1);
}

double hn_bleu4(const int32_t *hyp, size_t n_hyp, const int32_t *ref, size_t n_ref)
{
    double p[4];
    int64_t num[4], den[4];
    for (size_t n = 1; n <= 4; n++)
        modified_precision(hyp, n_hyp, ref, n_ref, n, &num[n - 1], &den[n - 1]);
    if (num[0] == 0) /* corpus_bleu: no unigram match scores 0 */
        return 0;
    int k = 1;
    for (int i = 0; i < 4; i++) {
        if (num[i] == 0) /* method3 */
            p[i] = 1.0 / (ldexp(1.0, k++) * (double)den[i]);
        else
            p[i] = (double)num[i] / (double)den[i];
    }
    /* math.fsum of the weighted logs: a compensated sum in long double is exact enough */
    long double sum = 0, carry = 0;
    for (int i = 0; i < 4; i++) {
        long double term = 0.25 * log(p[i]), t = sum + term;
        carry += fabsl(sum) >= fabsl(term) ? (sum - t) + term : (term - t) + sum;
        sum = t;
    }
    double bp = n_hyp > n_ref ? 1.0 : n_hyp == 0 ? 0.0 : exp(1.0 - (double)n_ref / (double)n_hyp);
    return bp * exp((double)(sum + carry));
}

/* The code points of UTF-8 text; a byte that does not start a valid sequence stands alone. */
static int32_t *code_points(const char *text, size_t *n)
{
    size_t len = strlen(text);
    int32_t *out = g_new(int32_t, len + 1);
    size_t count = 0;
    const char *p = text, *end = text + len;
    while (p < end) {
        gunichar c = g_utf8_get_char_validated(p, end - p);
        if (c == (gunichar)-1 || c == (gunichar)-2) {
            out[count++] = -(int32_t)(unsigned char)*p - 1; /* distinct from every code point */
            p++;
            continue;
        }
        out[count++] = (int32_t)c;
        p = g_utf8_next_char(p);
    }
    *n = count;
    return out;
}

double hn_bleu4_chars(const char *hyp, const char *ref)
{
    size_t nh = 0, nr = 0;
    int32_t *h = code_points(hyp, &nh), *r = code_points(ref, &nr);
    double score = hn_bleu4(h, nh, r, nr);
    g_free(h);
    g_free(r);
    return score;
}
