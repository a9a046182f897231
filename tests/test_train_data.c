/* Training examples against LLaMA-Factory 0.9.5 itself (tests/reference/train_data_ref.py):
 * stage pt (PretrainDatasetProcessor through get_dataset) with packing on and off, with and
 * without add_bos_token, on data/c4_demo; packed stage sft (packing and neat_packing through
 * get_dataset, then the sft workflow's collator) on alpaca_en_demo + identity: every input id,
 * label and position id equal, and the attention each token gets (the first key it sees; the
 * keys are a run ending at the token) equal to what the collator's mask allows; and Hone's
 * greedy knapsack against upstream's greedy_knapsack on random lengths. All exact. */
#include <cjson/cJSON.h>
#include <string.h>

#include "pt_data.h"
#include "sft_packing.h"
#include "test_util.h"
#include "train_data.h"

static void expect_ids(const cJSON *want, const int32_t *got, size_t n, const char *what,
                       int c, size_t e)
{
    if ((size_t)cJSON_GetArraySize(want) != n)
        g_error("case %d example %zu: %zu %s, LLaMA-Factory %d", c, e, n, what,
                cJSON_GetArraySize(want));
    for (size_t t = 0; t < n; t++)
        if (got[t] != cJSON_GetArrayItem(want, (int)t)->valueint)
            g_error("case %d example %zu: %s differ at %zu: %d, LLaMA-Factory %d", c, e, what, t,
                    got[t], cJSON_GetArrayItem(want, (int)t)->valueint);
}

/* first_key from upstream's mask: Hone's query t sees doc_start[t] .. t (0 .. t without
 * doc_start). Where upstream's pad sees nothing (-1), Hone's pads are one document that starts
 * at the first pad; that is checked instead. */
static void expect_attention(const cJSON *want, const hn_sft_example *e, int c, size_t i)
{
    g_assert_cmpint(cJSON_GetArraySize(want), ==, (int)e->n);
    for (size_t t = 0; t < e->n; t++) {
        int up = cJSON_GetArrayItem(want, (int)t)->valueint;
        int32_t first = e->doc_start != NULL ? e->doc_start[t] : 0;
        if (up < 0) {
            g_assert_cmpint(e->labels[t], ==, HN_IGNORE_INDEX);
            g_assert_nonnull(e->doc_start);
            g_assert_true(first <= (int32_t)t && e->labels[first] == HN_IGNORE_INDEX &&
                          cJSON_GetArrayItem(want, first)->valueint < 0);
            g_assert_true(first == 0 || cJSON_GetArrayItem(want, first - 1)->valueint >= 0);
        } else if (first != up) {
            g_error("case %d example %zu: token %zu sees keys from %d, LLaMA-Factory from %d", c,
                    i, t, first, up);
        }
    }
}

static void check_case(const char *dir, const cJSON *c, int index)
{
    const char *stage = cJSON_GetObjectItem(c, "stage")->valuestring;
    const char *template_name = cJSON_GetObjectItem(c, "template")->valuestring;
    const cJSON *o = cJSON_GetObjectItem(c, "options");
    char *tok_dir = g_build_filename(dir, cJSON_GetObjectItem(c, "tokenizer")->valuestring, NULL);
    char *data_dir = g_build_filename(g_getenv("HONE_SOURCE_DIR"), "data", NULL);
    hn_tokenizer *tok = NULL;
    hn_chat_template tmpl;
    hn_error err = {0};
    if (hn_tokenizer_load(tok_dir, &tok, &err) != HN_OK ||
        hn_chat_template_get(template_name, &tmpl, &err) != HN_OK)
        g_error("%s", err.message);
    hn_train_data_options opts;
    hn_train_data_options_init(&opts);
    opts.dataset_dir = data_dir;
    opts.dataset = cJSON_GetObjectItem(c, "dataset")->valuestring;
    opts.stage = strcmp(stage, "pt") == 0 ? HN_TRAIN_STAGE_PT : HN_TRAIN_STAGE_SFT;
    opts.encode.cutoff_len = cJSON_GetObjectItem(o, "cutoff_len")->valueint;
    opts.encode.train_on_prompt = cJSON_IsTrue(cJSON_GetObjectItem(o, "train_on_prompt"));
    const cJSON *packing = cJSON_GetObjectItem(o, "packing");
    if (packing != NULL)
        opts.packing = cJSON_IsTrue(packing);
    opts.neat_packing = cJSON_IsTrue(cJSON_GetObjectItem(o, "neat_packing"));
    const cJSON *max_samples = cJSON_GetObjectItem(o, "max_samples");
    if (max_samples != NULL)
        opts.max_samples = max_samples->valueint;
    opts.tokenizer_path = tok_dir;
    opts.cache_dir = ""; /* built, not cached: the cache has its own test */
    hn_sft_template which = {&tmpl, NULL};
    hn_sft_data data;
    hn_train_data_info info;
    if (hn_train_data_load(&opts, tok, &which, &data, &info, &err) != HN_OK)
        g_error("case %d: %s", index, err.message);
    const cJSON *examples = cJSON_GetObjectItem(c, "examples");
    g_assert_cmpuint(data.n_examples, ==, (size_t)cJSON_GetArraySize(examples));
    g_assert_cmpuint(data.n_examples, >, 0);
    for (size_t i = 0; i < data.n_examples; i++) {
        const cJSON *e = cJSON_GetArrayItem(examples, (int)i);
        const hn_sft_example *x = &data.examples[i];
        expect_ids(cJSON_GetObjectItem(e, "input_ids"), x->input_ids, x->n, "input ids", index,
                   i);
        if (opts.stage == HN_TRAIN_STAGE_PT) {
            g_assert_cmpmem(x->labels, x->n * 4, x->input_ids, x->n * 4);
            g_assert_null(x->position_ids);
            g_assert_null(x->doc_start);
            continue;
        }
        expect_ids(cJSON_GetObjectItem(e, "labels"), x->labels, x->n, "labels", index, i);
        g_assert_nonnull(x->position_ids);
        expect_ids(cJSON_GetObjectItem(e, "position_ids"), x->position_ids, x->n,
                   "position ids", index, i);
        g_assert_true((x->doc_start != NULL) == opts.neat_packing);
        expect_attention(cJSON_GetObjectItem(e, "first_key"), x, index, i);
    }
    g_test_message("%s %s cutoff_len %d%s%s: %zu examples, %" G_GINT64_FORMAT " tokens, equal "
                   "to LLaMA-Factory's", stage, template_name, opts.encode.cutoff_len,
                   packing != NULL && cJSON_IsTrue(packing) ? " packing" : "",
                   opts.neat_packing ? " neat_packing" : "", data.n_examples, data.n_tokens);
    hn_sft_data_clear(&data);
    hn_train_data_info_clear(&info);
    hn_tokenizer_free(tok);
    g_free(tok_dir);
    g_free(data_dir);
}

static void check_knapsack(const cJSON *c, int index)
{
    const cJSON *lengths = cJSON_GetObjectItem(c, "lengths");
    size_t n = (size_t)cJSON_GetArraySize(lengths);
    size_t *len = g_new(size_t, n + 1);
    for (size_t i = 0; i < n; i++)
        len[i] = (size_t)cJSON_GetArrayItem(lengths, (int)i)->valueint;
    hn_knapsack k;
    hn_greedy_knapsack(len, n, (size_t)cJSON_GetObjectItem(c, "capacity")->valueint, &k);
    const cJSON *bins = cJSON_GetObjectItem(c, "bins");
    g_assert_cmpuint(k.n_bins, ==, (size_t)cJSON_GetArraySize(bins));
    g_assert_cmpuint(k.n_items, ==, n);
    for (size_t b = 0; b < k.n_bins; b++) {
        const cJSON *bin = cJSON_GetArrayItem(bins, (int)b);
        g_assert_cmpuint(k.bin_start[b + 1] - k.bin_start[b], ==,
                         (size_t)cJSON_GetArraySize(bin));
        for (size_t i = k.bin_start[b]; i < k.bin_start[b + 1]; i++)
            if (len[k.items[i]] !=
                (size_t)cJSON_GetArrayItem(bin, (int)(i - k.bin_start[b]))->valueint)
                g_error("knapsack case %d: bin %zu differs at %zu", index, b,
                        i - k.bin_start[b]);
    }
    hn_knapsack_clear(&k);
    g_free(len);
}

static void test_against_llamafactory(void)
{
    char *dir = test_write_reference("train_data_ref.py");
    char *path = g_build_filename(dir, "cases.json", NULL);
    cJSON *cases = test_load_json(path);
    for (int i = 0; i < cJSON_GetArraySize(cases); i++)
        check_case(dir, cJSON_GetArrayItem(cases, i), i);
    cJSON_Delete(cases);
    g_free(path);
    path = g_build_filename(dir, "knapsack.json", NULL);
    cases = test_load_json(path);
    for (int i = 0; i < cJSON_GetArraySize(cases); i++)
        check_knapsack(cJSON_GetArrayItem(cases, i), i);
    g_test_message("greedy knapsack: %d random cases equal LLaMA-Factory's",
                   cJSON_GetArraySize(cases));
    cJSON_Delete(cases);
    g_free(path);
    test_remove_tree(dir);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/train_data/llamafactory", test_against_llamafactory);
    return g_test_run();
}
