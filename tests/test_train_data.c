/* Training examples against LLaMA-Factory 0.9.5 itself (tests/reference/train_data_ref.py):
 * stage pt (PretrainDatasetProcessor through get_dataset) with packing on and off, with and
 * without add_bos_token, with datasets' map batches and shards, on data/c4_demo; packed stage sft (packing and neat_packing through
 * get_dataset, then the sft workflow's collator) on alpaca_en_demo + identity: every input id,
 * label and position id equal, and the attention each token gets (the first key it sees; the
 * keys are a run ending at the token) equal to what the collator's mask allows; and Hone's
 * greedy knapsack against upstream's greedy_knapsack on random lengths. All exact. And a
 * neat-packed row through SmolLM2 gives each example's logits as when it runs alone (relative
 * error <= 1e-5). */
#include <cjson/cJSON.h>
#include <string.h>

#include "model.h"
#include "model_dir.h"
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
    const cJSON *batch = cJSON_GetObjectItem(o, "preprocessing_batch_size");
    if (batch != NULL)
        opts.preprocessing_batch_size = batch->valueint;
    const cJSON *workers = cJSON_GetObjectItem(o, "preprocessing_num_workers");
    if (workers != NULL)
        opts.preprocessing_num_workers = workers->valueint;
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
    g_test_message("%s %s cutoff_len %d%s%s, batches of %d rows in %d shards: %zu examples, %" G_GINT64_FORMAT " tokens, equal "
                   "to LLaMA-Factory's", stage, template_name, opts.encode.cutoff_len,
                   packing != NULL && cJSON_IsTrue(packing) ? " packing" : "",
                   opts.neat_packing ? " neat_packing" : "", opts.preprocessing_batch_size,
                   MAX(opts.preprocessing_num_workers, 1), data.n_examples, data.n_tokens);
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

/* The logits of one row (positions/doc_start may be NULL) on the model; g_free them. */
static float *row_logits(hn_model *model, const int32_t *ids, const int32_t *positions,
                         const int32_t *doc_start, size_t n)
{
    hn_batch batch = {ids, NULL, positions, doc_start, 1, (int)n};
    hn_error err = {0};
    size_t V = (size_t)hn_model_get_config(model)->vocab_size;
    float *logits = g_new(float, n * V);
    if (hn_model_forward(model, &batch, NULL, NULL, &err) != HN_OK ||
        hn_model_logits(model, logits, &err) != HN_OK)
        g_error("%s", err.message);
    return logits;
}

/* A row packed with neat_packing through the real SmolLM2 gives, for each example, the
 * logits of that example run alone; with plain packing the first example still does, the
 * later ones (which see the earlier ones, as upstream) do not. */
static void test_packed_forward(void)
{
    char *path = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
    hn_model_dir *model_dir = NULL;
    hn_model *model = NULL;
    hn_model_options options;
    hn_model_options_init(&options);
    hn_error err = {0};
    if (hn_model_dir_open(path, &model_dir, &err) != HN_OK ||
        hn_model_new(model_dir, &options, &model, &err) != HN_OK)
        g_error("%s", err.message);
    size_t V = (size_t)hn_model_get_config(model)->vocab_size;
    const size_t lengths[] = {12, 9, 15};
    hn_sft_data in = {.examples = g_new0(hn_sft_example, 3), .n_examples = 3};
    guint32 random[64];
    test_random_bytes(random, sizeof random, 11);
    for (size_t i = 0, r = 0; i < 3; i++) {
        hn_sft_example *e = &in.examples[i];
        *e = (hn_sft_example){g_new(int32_t, lengths[i]), g_new(int32_t, lengths[i]),
                              lengths[i], NULL, NULL};
        for (size_t t = 0; t < lengths[i]; t++)
            e->input_ids[t] = e->labels[t] = (int32_t)(random[r++] % V);
    }
    for (int neat = 0; neat < 2; neat++) {
        hn_sft_data packed;
        g_assert_cmpint(hn_sft_pack(&in, 40, neat, 2, &packed, &err), ==, HN_OK);
        g_assert_cmpuint(packed.n_examples, ==, 1); /* 36 tokens fit in 39 */
        const hn_sft_example *row = &packed.examples[0];
        float *all = row_logits(model, row->input_ids, row->position_ids, row->doc_start, row->n);
        size_t at = 0, n_docs = 0;
        while (at < 36) { /* the knapsack's order: 15, 12, 9 */
            size_t len = 0;
            while (at + len < row->n && (len == 0 || row->position_ids[at + len] != 0))
                len++;
            float *alone = row_logits(model, row->input_ids + at, NULL, NULL, len);
            double e = test_relative_error(all + at * V, alone, len * V);
            if (neat || n_docs == 0)
                g_assert_cmpfloat(e, <=, 1e-5);
            else
                g_assert_cmpfloat(e, >, 1e-3);
            g_test_message("%s, example %zu (%zu tokens): relative error %.2e against it alone",
                           neat ? "neat_packing" : "packing", n_docs, len, e);
            g_free(alone);
            at += len;
            n_docs++;
        }
        g_assert_cmpuint(n_docs, ==, 3);
        g_free(all);
        hn_sft_data_clear(&packed);
    }
    hn_sft_data_clear(&in);
    hn_model_free(model);
    hn_model_dir_close(model_dir);
    g_free(path);
}

static void test_against_llamafactory(void)
{
    char *dir = test_write_reference("train_data_ref.py");
    test_each_case(dir, "cases.json", check_case);
    char *path = g_build_filename(dir, "knapsack.json", NULL);
    cJSON *cases = test_load_json(path);
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
    g_test_add_func("/train_data/packed_forward", test_packed_forward);
    return g_test_run();
}
