/* Supervised examples from the datasets Hone ships (data/) against LLaMA-Factory's own
 * get_dataset with the same tokenizer and named templates (tests/reference/sft_data_ref.py):
 * every example's input ids and labels equal, with and without truncation, train_on_prompt
 * and mask_history, max_samples. */
#include <cjson/cJSON.h>
#include <string.h>

#include "sft_data.h"
#include "test_util.h"

static void check_case(const char *dir, const cJSON *c, int index)
{
    const char *template_name = cJSON_GetObjectItem(c, "template")->valuestring;
    const cJSON *o = cJSON_GetObjectItem(c, "options");
    char *tok_dir = g_build_filename(dir, "tokenizer", NULL);
    char *data_dir = g_build_filename(g_getenv("HONE_SOURCE_DIR"), "data", NULL);
    hn_tokenizer *tok = NULL;
    hn_chat_template tmpl;
    hn_dataset dataset;
    hn_error err = {0};
    hn_dataset_options dopts;
    hn_dataset_options_init(&dopts);
    const cJSON *max_samples = cJSON_GetObjectItem(o, "max_samples");
    if (max_samples != NULL)
        dopts.max_samples = max_samples->valueint;
    if (hn_tokenizer_load(tok_dir, &tok, &err) != HN_OK ||
        hn_chat_template_get(template_name, &tmpl, &err) != HN_OK ||
        hn_dataset_load(data_dir, cJSON_GetObjectItem(c, "dataset")->valuestring, &dopts,
                        &dataset, &err) != HN_OK)
        g_error("%s", err.message);
    hn_chat_encode_options options;
    hn_chat_encode_options_init(&options);
    options.cutoff_len = cJSON_GetObjectItem(o, "cutoff_len")->valueint;
    options.train_on_prompt = cJSON_IsTrue(cJSON_GetObjectItem(o, "train_on_prompt"));
    options.mask_history = cJSON_IsTrue(cJSON_GetObjectItem(o, "mask_history"));
    hn_sft_template which = {&tmpl, NULL};
    hn_sft_data data;
    if (hn_sft_data_build(&dataset, &which, tok, &options, &data, &err) != HN_OK)
        g_error("%s", err.message);
    const cJSON *examples = cJSON_GetObjectItem(c, "examples");
    g_assert_cmpuint(data.n_examples, ==, (size_t)cJSON_GetArraySize(examples));
    for (size_t i = 0; i < data.n_examples; i++) {
        const cJSON *e = cJSON_GetArrayItem(examples, (int)i);
        const char *keys[] = {"input_ids", "labels"};
        const int32_t *got[] = {data.examples[i].input_ids, data.examples[i].labels};
        for (int k = 0; k < 2; k++) {
            const cJSON *want = cJSON_GetObjectItem(e, keys[k]);
            if ((size_t)cJSON_GetArraySize(want) != data.examples[i].n)
                g_error("case %d example %zu: %zu %s, LLaMA-Factory %d", index, i,
                        data.examples[i].n, keys[k], cJSON_GetArraySize(want));
            for (size_t t = 0; t < data.examples[i].n; t++)
                if (got[k][t] != cJSON_GetArrayItem(want, (int)t)->valueint)
                    g_error("case %d example %zu: %s differ at %zu", index, i, keys[k], t);
        }
    }
    g_test_message("%s, cutoff_len %d: %zu examples (%zu dropped), %" G_GINT64_FORMAT
                   " tokens, %" G_GINT64_FORMAT " trained: equal to LLaMA-Factory's",
                   template_name, options.cutoff_len, data.n_examples, data.n_dropped,
                   data.n_tokens, data.n_label_tokens);
    hn_sft_data_clear(&data);
    hn_dataset_clear(&dataset);
    hn_tokenizer_free(tok);
    g_free(tok_dir);
    g_free(data_dir);
}

static void test_against_llamafactory(void)
{
    char *dir = test_write_reference("sft_data_ref.py");
    test_each_case(dir, "cases.json", check_case);
    test_remove_tree(dir);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/reference/sft_data/llamafactory", test_against_llamafactory);
    return g_test_run();
}
