/* The prediction metrics against their upstream implementations (tests/reference/metric_ref.py):
 * BLEU-4 equals nltk's sentence_bleu with method3 smoothing on fixed and random token lists and
 * on characters, ROUGE-1/2/L (F, P, R) equal rouge_chinese's get_scores on random texts with
 * its sentence marks (and fail where it raises), Hone's segmentation equals jieba.cut on random
 * text without Chinese ideographs, Python's isspace matches on every code point, and the
 * similarity means equal LLaMA-Factory's ComputeSimilarity. Tolerance 1e-9 (absolute) before
 * rounding; ComputeSimilarity's rounded means within 1e-9 too. */
#include <math.h>
#include <string.h>

#include "metric_bleu.h"
#include "metric_rouge.h"
#include "metric_segment.h"
#include "metric_similarity.h"
#include "test_util.h"

static cJSON *expected;

static void load_expected(void)
{
    char *dir = test_make_tmpdir();
    test_run_reference("metric_ref.py", "write", dir);
    char *path = g_build_filename(dir, "expected.json", NULL);
    expected = test_load_json(path);
    g_free(path);
    test_remove_tree(dir);
    g_free(dir);
}

static const cJSON *field(const cJSON *object, const char *name)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, name);
    g_assert_nonnull(item);
    return item;
}

static int32_t *ids_of(const cJSON *list, size_t *n)
{
    *n = (size_t)cJSON_GetArraySize(list);
    int32_t *ids = g_new(int32_t, *n + 1);
    size_t i = 0;
    for (const cJSON *v = list->child; v != NULL; v = v->next)
        ids[i++] = (int32_t)v->valuedouble;
    return ids;
}

static void assert_close(double got, double want, const char *what, int index)
{
    if (!(fabs(got - want) <= 1e-9))
        g_error("%s case %d: Hone %.17g, reference %.17g", what, index, got, want);
}

static void test_isspace(void)
{
    const cJSON *list = field(expected, "isspace");
    GHashTable *want = g_hash_table_new(NULL, NULL);
    for (const cJSON *v = list->child; v != NULL; v = v->next)
        g_hash_table_add(want, GUINT_TO_POINTER((guint)v->valuedouble));
    for (gunichar c = 0; c < 0x110000; c++)
        if (hn_py_isspace(c) != g_hash_table_contains(want, GUINT_TO_POINTER(c)))
            g_error("U+%04X: Hone's isspace %d, Python's %d", c, hn_py_isspace(c),
                    g_hash_table_contains(want, GUINT_TO_POINTER(c)));
    g_assert_cmpuint(g_hash_table_size(want), ==, 29);
    g_hash_table_destroy(want);
}

static void test_bleu_tokens(void)
{
    int index = 0, nonzero = 0;
    for (const cJSON *c = field(expected, "bleu")->child; c != NULL; c = c->next, index++) {
        size_t nh = 0, nr = 0;
        int32_t *h = ids_of(field(c, "hyp"), &nh), *r = ids_of(field(c, "ref"), &nr);
        double want = field(c, "score")->valuedouble;
        assert_close(hn_bleu4(h, nh, r, nr), want, "bleu", index);
        nonzero += want > 0.01;
        g_free(h);
        g_free(r);
    }
    g_test_message("%d BLEU cases equal nltk's, %d of them above 0.01", index, nonzero);
    g_assert_cmpint(index, >, 300);
    g_assert_cmpint(nonzero, >, 100);
}

static void test_bleu_chars(void)
{
    int index = 0;
    for (const cJSON *c = field(expected, "bleu_chars")->child; c != NULL; c = c->next, index++)
        assert_close(hn_bleu4_chars(field(c, "hyp")->valuestring, field(c, "ref")->valuestring),
                     field(c, "score")->valuedouble, "bleu_chars", index);
}

static void assert_score(const hn_rouge_score *got, const cJSON *want, const char *what,
                         int index)
{
    assert_close(got->f, field(want, "f")->valuedouble, what, index);
    assert_close(got->p, field(want, "p")->valuedouble, what, index);
    assert_close(got->r, field(want, "r")->valuedouble, what, index);
}

static void test_rouge(void)
{
    int index = 0, raised = 0;
    for (const cJSON *c = field(expected, "rouge")->child; c != NULL; c = c->next, index++) {
        const cJSON *want = field(c, "scores");
        hn_rouge_scores got;
        hn_error err = {0};
        hn_status s = hn_rouge_get_scores(field(c, "hyp")->valuestring,
                                          field(c, "ref")->valuestring, &got, &err);
        if (cJSON_IsNull(want)) {
            if (s == HN_OK)
                g_error("rouge case %d: rouge_chinese raises, Hone scored it", index);
            test_assert_contains(err.message, "empty");
            raised++;
            continue;
        }
        if (s != HN_OK)
            g_error("rouge case %d: %s", index, err.message);
        assert_score(&got.rouge1, field(want, "rouge-1"), "rouge-1", index);
        assert_score(&got.rouge2, field(want, "rouge-2"), "rouge-2", index);
        assert_score(&got.rougel, field(want, "rouge-l"), "rouge-l", index);
    }
    g_test_message("%d ROUGE cases equal rouge_chinese's (%d raise there and here)", index,
                   raised);
    g_assert_cmpint(raised, >, 5);
    g_assert_cmpint(index - raised, >, 300);
}

static void test_segment(void)
{
    int index = 0;
    for (const cJSON *c = field(expected, "segment")->child; c != NULL; c = c->next, index++) {
        const char *text = field(c, "text")->valuestring;
        const cJSON *want = field(c, "words");
        GPtrArray *got = hn_segment_words(text);
        bool same = got->len == (guint)cJSON_GetArraySize(want);
        guint i = 0;
        for (const cJSON *w = want->child; same && w != NULL; w = w->next, i++)
            same = strcmp(g_ptr_array_index(got, i), w->valuestring) == 0;
        if (!same) {
            GString *words = g_string_new(NULL);
            for (i = 0; i < got->len; i++)
                g_string_append_printf(words, "[%s]", (char *)g_ptr_array_index(got, i));
            char *jieba = cJSON_PrintUnformatted(want);
            g_error("segment case %d \"%s\": Hone %s, jieba %s", index, text, words->str, jieba);
        }
        g_ptr_array_unref(got);
    }
    g_test_message("%d texts split as jieba splits them", index);
}

static void test_similarity(void)
{
    const cJSON *sim = field(expected, "similarity");
    const cJSON *pairs = field(sim, "pairs");
    size_t n = (size_t)cJSON_GetArraySize(pairs), i = 0;
    hn_similarity *scores = g_new(hn_similarity, n);
    for (const cJSON *p = pairs->child; p != NULL; p = p->next, i++) {
        hn_error err = {0};
        if (hn_similarity_score(cJSON_GetArrayItem(p, 0)->valuestring,
                                cJSON_GetArrayItem(p, 1)->valuestring, &scores[i], &err) != HN_OK)
            g_error("pair %zu: %s", i, err.message);
    }
    hn_similarity mean = hn_similarity_mean(scores, n);
    const cJSON *m = field(sim, "metrics");
    assert_close(mean.rouge1, field(m, "rouge-1")->valuedouble, "rouge-1 mean", 0);
    assert_close(mean.rouge2, field(m, "rouge-2")->valuedouble, "rouge-2 mean", 0);
    assert_close(mean.rougel, field(m, "rouge-l")->valuedouble, "rouge-l mean", 0);
    assert_close(mean.bleu4, field(m, "bleu-4")->valuedouble, "bleu-4 mean", 0);
    g_assert_cmpfloat(mean.bleu4, >, 1);
    g_assert_true(isnan(hn_similarity_mean(scores, 0).bleu4));
    g_free(scores);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    load_expected();
    g_test_add_func("/reference/metric/isspace", test_isspace);
    g_test_add_func("/reference/metric/bleu_tokens", test_bleu_tokens);
    g_test_add_func("/reference/metric/bleu_chars", test_bleu_chars);
    g_test_add_func("/reference/metric/rouge", test_rouge);
    g_test_add_func("/reference/metric/segment", test_segment);
    g_test_add_func("/reference/metric/similarity", test_similarity);
    int rc = g_test_run();
    cJSON_Delete(expected);
    return rc;
}
