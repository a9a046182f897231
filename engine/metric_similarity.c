/* ComputeSimilarity.__call__ for one pair (see metric_similarity.h). */
#include "metric_similarity.h"

#include <glib.h>
#include <math.h>

#include "metric_bleu.h"
#include "metric_rouge.h"
#include "metric_segment.h"
#include "py_json.h"

/* len(" ".join(words).split()) == 0: the text has nothing but whitespace. */
static bool blank(const char *text)
{
    for (const char *p = text; *p != '\0'; p = g_utf8_next_char(p))
        if (!hn_py_isspace(g_utf8_get_char(p)))
            return false;
    return true;
}

hn_status hn_similarity_score(const char *predict, const char *label, hn_similarity *out,
                              hn_error *err)
{
    if (!g_utf8_validate(predict, -1, NULL) || !g_utf8_validate(label, -1, NULL))
        return hn_fail(err, HN_ERR_ARGUMENT, "similarity: the %s is not valid UTF-8",
                       g_utf8_validate(predict, -1, NULL) ? "label" : "prediction");
    hn_rouge_scores r = {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}};
    if (!blank(predict) && !blank(label)) {
        char *hyp = hn_segment_joined(predict), *ref = hn_segment_joined(label);
        hn_status s = hn_rouge_get_scores(hyp, ref, &r, err);
        g_free(hyp);
        g_free(ref);
        HN_TRY(s);
    }
    out->rouge1 = hn_py_round(r.rouge1.f * 100, 4);
    out->rouge2 = hn_py_round(r.rouge2.f * 100, 4);
    out->rougel = hn_py_round(r.rougel.f * 100, 4);
    out->bleu4 = hn_py_round(hn_bleu4_chars(predict, label) * 100, 4);
    return HN_OK;
}

hn_similarity hn_similarity_mean(const hn_similarity *scores, size_t n)
{
    hn_similarity sum = {0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        sum.rouge1 += scores[i].rouge1;
        sum.rouge2 += scores[i].rouge2;
        sum.rougel += scores[i].rougel;
        sum.bleu4 += scores[i].bleu4;
    }
    double d = (double)n;
    return (hn_similarity){sum.rouge1 / d, sum.rouge2 / d, sum.rougel / d, sum.bleu4 / d};
}
