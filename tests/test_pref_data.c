/* Preference examples (pref_data.h) against LLaMA-Factory's own get_dataset for stage "rm"
 * (rm and dpo) and "kto" (tests/reference/pref_data_ref.py): the demo datasets Hone ships and
 * a few extra rows (alpaca pairs, rows upstream drops, KTO rows beside plain ones), with
 * SmolLM2's tokenizer, templates chatml, qwen, qwen3 (thinking on and off), llama2, glm4
 * (efficient_eos) and the model's own Jinja template (upstream: template None, parsed from
 * the Jinja text; Hone: rendered), cutoff_len large and small enough to cut, several map batch sizes and two
 * workers for KTO's KL pairs: every id, label and tag equal. */
#include <cjson/cJSON.h>
#include <string.h>

#include "pref_data.h"
#include "test_util.h"

/* got[0..n) equals the JSON list want; the message names case, example and key. */
static void expect_ids(const int32_t *got, size_t n, const cJSON *want, int c, size_t i,
                       const char *key)
{
    if ((size_t)cJSON_GetArraySize(want) != n)
        g_error("case %d example %zu: %zu %s, LLaMA-Factory %d", c, i, n, key,
                cJSON_GetArraySize(want));
    for (size_t t = 0; t < n; t++)
        if (got[t] != cJSON_GetArrayItem(want, (int)t)->valueint)
            g_error("case %d example %zu: %s differ at %zu: %d, LLaMA-Factory %d", c, i, key, t,
                    got[t], cJSON_GetArrayItem(want, (int)t)->valueint);
}

static int option_int(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    return cJSON_IsNumber(v) ? v->valueint : 0;
}

static void check_pairs(const hn_dataset *dataset, const hn_sft_template *tmpl,
                        const hn_tokenizer *tok, const hn_chat_encode_options *options,
                        const cJSON *examples, int c)
{
    hn_pair_data data;
    hn_error err = {0};
    if (hn_pair_data_build(dataset, tmpl, tok, options, &data, &err) != HN_OK)
        g_error("case %d: %s", c, err.message);
    g_assert_cmpuint(data.n_examples, ==, (size_t)cJSON_GetArraySize(examples));
    g_assert_cmpuint(data.n_examples + data.n_dropped, ==, dataset->n_rows);
    size_t cut = 0;
    for (size_t i = 0; i < data.n_examples; i++) {
        const hn_pair_example *e = &data.examples[i];
        const cJSON *want = cJSON_GetArrayItem(examples, (int)i);
        expect_ids(e->chosen_input_ids, e->n_chosen,
                   cJSON_GetObjectItem(want, "chosen_input_ids"), c, i, "chosen_input_ids");
        expect_ids(e->chosen_labels, e->n_chosen, cJSON_GetObjectItem(want, "chosen_labels"), c,
                   i, "chosen_labels");
        expect_ids(e->rejected_input_ids, e->n_rejected,
                   cJSON_GetObjectItem(want, "rejected_input_ids"), c, i, "rejected_input_ids");
        expect_ids(e->rejected_labels, e->n_rejected,
                   cJSON_GetObjectItem(want, "rejected_labels"), c, i, "rejected_labels");
        g_assert_cmpint(e->chosen_labels[e->n_prompt], !=, HN_IGNORE_INDEX);
        g_assert_cmpint(e->n_prompt > 0 ? e->chosen_labels[e->n_prompt - 1] : HN_IGNORE_INDEX,
                        ==, HN_IGNORE_INDEX);
        cut += options->cutoff_len > 0 && MAX(e->n_chosen, e->n_rejected) ==
                                              (size_t)options->cutoff_len;
    }
    g_test_message("case %d: %zu pairs (%zu dropped, %zu at cutoff_len %d), %" G_GINT64_FORMAT
                   " tokens: equal to LLaMA-Factory's", c, data.n_examples, data.n_dropped, cut,
                   options->cutoff_len, data.n_tokens);
    hn_pair_data_clear(&data);
}

static void check_kto(const hn_dataset *dataset, const hn_sft_template *tmpl,
                      const hn_tokenizer *tok, const hn_chat_encode_options *options,
                      const cJSON *o, const cJSON *examples, int c)
{
    hn_kto_data data;
    hn_error err = {0};
    if (hn_kto_data_build(dataset, tmpl, tok, options, option_int(o, "preprocessing_batch_size"),
                          option_int(o, "preprocessing_num_workers"), &data, &err) != HN_OK)
        g_error("case %d: %s", c, err.message);
    g_assert_cmpuint(data.n_examples, ==, (size_t)cJSON_GetArraySize(examples));
    g_assert_cmpuint(data.n_examples + data.n_dropped, ==, dataset->n_rows);
    g_assert_cmpuint(data.n_desirable + data.n_undesirable, ==, data.n_examples);
    size_t desirable = 0;
    for (size_t i = 0; i < data.n_examples; i++) {
        const hn_kto_example *e = &data.examples[i];
        const cJSON *want = cJSON_GetArrayItem(examples, (int)i);
        expect_ids(e->input_ids, e->n, cJSON_GetObjectItem(want, "input_ids"), c, i,
                   "input_ids");
        expect_ids(e->labels, e->n, cJSON_GetObjectItem(want, "labels"), c, i, "labels");
        expect_ids(e->kl_input_ids, e->n_kl, cJSON_GetObjectItem(want, "kl_input_ids"), c, i,
                   "kl_input_ids");
        expect_ids(e->kl_labels, e->n_kl, cJSON_GetObjectItem(want, "kl_labels"), c, i,
                   "kl_labels");
        g_assert_cmpint(e->kto_tag, ==, cJSON_IsTrue(cJSON_GetObjectItem(want, "kto_tags")));
        g_assert_cmpuint(e->kl_row, <, dataset->n_rows); /* == row in a batch of one row */
        desirable += e->kto_tag;
    }
    g_assert_cmpuint(desirable, ==, data.n_desirable);
    g_assert_cmpuint(data.n_desirable, >, 0);
    g_assert_cmpuint(data.n_undesirable, >, 0);
    g_test_message("case %d: %zu KTO examples (%zu desirable, %zu dropped), %" G_GINT64_FORMAT
                   " tokens: equal to LLaMA-Factory's", c, data.n_examples, data.n_desirable,
                   data.n_dropped, data.n_tokens);
    hn_kto_data_clear(&data);
}

static void check_case(const char *dir, const cJSON *c, int index)
{
    const char *stage = cJSON_GetObjectItem(c, "stage")->valuestring;
    const cJSON *template_value = cJSON_GetObjectItem(c, "template");
    const char *template_name = cJSON_IsString(template_value) ? template_value->valuestring
                                                               : NULL; /* the model's own */
    const cJSON *o = cJSON_GetObjectItem(c, "options");
    char *tok_dir = g_build_filename(dir, cJSON_GetObjectItem(c, "tokenizer")->valuestring, NULL);
    char *data_dir = strcmp(cJSON_GetObjectItem(c, "data")->valuestring, "out") == 0
                         ? g_build_filename(dir, "data", NULL)
                         : g_build_filename(g_getenv("HONE_SOURCE_DIR"), "data", NULL);
    hn_tokenizer *tok = NULL;
    hn_chat_template tmpl;
    hn_chat_jinja *jinja = NULL;
    hn_sft_template which;
    hn_dataset dataset;
    hn_error err = {0};
    hn_dataset_options dopts;
    hn_dataset_options_init(&dopts);
    dopts.stage = strcmp(stage, "rm") == 0 ? (index % 2 == 0 ? "rm" : "dpo") : "kto";
    if (hn_tokenizer_load(tok_dir, &tok, &err) != HN_OK ||
        hn_sft_template_open(template_name, tok, &tmpl, &jinja, &which, &err) != HN_OK ||
        hn_dataset_load(data_dir, cJSON_GetObjectItem(c, "dataset")->valuestring, &dopts,
                        &dataset, &err) != HN_OK)
        g_error("case %d: %s", index, err.message);
    hn_chat_encode_options options;
    hn_chat_encode_options_init(&options);
    options.cutoff_len = option_int(o, "cutoff_len");
    options.enable_thinking = cJSON_IsTrue(cJSON_GetObjectItem(o, "enable_thinking"));
    const cJSON *examples = cJSON_GetObjectItem(c, "examples");
    g_test_message("case %d: stage %s, %s, template %s, cutoff_len %d", index, dopts.stage,
                   cJSON_GetObjectItem(c, "dataset")->valuestring,
                   template_name != NULL ? template_name : "auto (the model's own)",
                   options.cutoff_len);
    if (strcmp(stage, "rm") == 0)
        check_pairs(&dataset, &which, tok, &options, examples, index);
    else
        check_kto(&dataset, &which, tok, &options, o, examples, index);
    hn_dataset_clear(&dataset);
    hn_chat_jinja_free(jinja);
    hn_tokenizer_free(tok);
    g_free(tok_dir);
    g_free(data_dir);
}

static void test_against_llamafactory(void)
{
    char *dir = test_write_reference("pref_data_ref.py");
    test_each_case(dir, "cases.json", check_case);
    test_remove_tree(dir);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/reference/pref_data/llamafactory", test_against_llamafactory);
    return g_test_run();
}
