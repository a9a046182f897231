/* Datasets without Python: bad dataset_info.json entries and bad rows each give one clear
 * error naming the file, the row (and line) and what was expected; broken sharegpt rows are
 * counted with their reasons; numpy's random draws for num_samples; {{name}}/{{author}}
 * filling; the data files Hone ships load. */
#include <string.h>

#include "dataset_read.h"
#include "pref_data.h"
#include "numpy_random.h"
#include "test_util.h"

/* A dataset folder with dataset_info.json = info and files[i] = {name, text}. */
static char *make_dir(const char *info, const char *const *files)
{
    char *dir = test_make_tmpdir();
    char *path = g_build_filename(dir, "dataset_info.json", NULL);
    test_write_text(path, info);
    g_free(path);
    for (const char *const *f = files; f != NULL && *f != NULL; f += 2) {
        path = g_build_filename(dir, f[0], NULL);
        char *parent = g_path_get_dirname(path);
        g_mkdir_with_parents(parent, 0755);
        g_free(parent);
        test_write_file(path, f[1], strlen(f[1]));
        g_free(path);
    }
    return dir;
}

/* Loads names from a folder made of info and files; returns the error message (g_free). */
static char *load_error(const char *info, const char *const *files, const char *names,
                        hn_status expected)
{
    char *dir = make_dir(info, files);
    hn_dataset_options options;
    hn_dataset_options_init(&options);
    hn_dataset dataset;
    hn_error err = {0};
    hn_status status = hn_dataset_load(dir, names, &options, &dataset, &err);
    hn_dataset_clear(&dataset);
    test_remove_tree(dir);
    g_free(dir);
    if (status == HN_OK)
        g_error("%s: loaded, expected an error", names);
    g_assert_cmpint(status, ==, expected);
    g_test_message("%s", err.message);
    return g_strdup(err.message);
}

#define EXPECT_ERROR(info, files, names, status, ...) \
    do { \
        char *message_ = load_error(info, files, names, status); \
        const char *needles_[] = {__VA_ARGS__, NULL}; \
        for (const char **needle_ = needles_; *needle_ != NULL; needle_++) \
            test_assert_contains(message_, *needle_); \
        g_free(message_); \
    } while (0)

static const char *alpaca_info = "{\"demo\": {\"file_name\": \"demo.json\"},"
                                 " \"lines\": {\"file_name\": \"demo.jsonl\"}}";

static void test_unknown_names(void)
{
    EXPECT_ERROR(alpaca_info, NULL, "demo, nothere", HN_ERR_ARGUMENT,
                 "dataset \"nothere\" is not defined in", "dataset_info.json",
                 "(it defines: demo, lines)");
    EXPECT_ERROR(alpaca_info, NULL, "", HN_ERR_ARGUMENT, "no dataset given");
    EXPECT_ERROR(alpaca_info, NULL, "demo,lines, demo", HN_ERR_ARGUMENT,
                 "dataset \"demo\" is listed twice");
    hn_dataset_attr *attrs = NULL;
    size_t n = 0;
    hn_error err = {0};
    g_assert_cmpint(hn_dataset_info_resolve("/nonexistent-hone", "x", &attrs, &n, &err), ==,
                    HN_ERR_IO);
    test_assert_contains(err.message, "dataset_info.json");
}

static void test_bad_entries(void)
{
    static const char *remote[] = {"hf_hub_url", "ms_hub_url", "script_url", "cloud_file_name"};
    for (size_t i = 0; i < G_N_ELEMENTS(remote); i++) {
        char *info = g_strdup_printf("{\"web\": {\"%s\": \"org/set\"}}", remote[i]);
        EXPECT_ERROR(info, NULL, "web", HN_ERR_UNSUPPORTED, remote[i], "local files only",
                     "\"web\"");
        g_free(info);
    }
    EXPECT_ERROR("{\"m\": {\"file_name\": \"m.json\", \"formatting\": \"sharegpt\", \"columns\":"
                 " {\"messages\": \"messages\", \"images\": \"images\"}}}", NULL, "m",
                 HN_ERR_UNSUPPORTED, "uses the images column", "text only");
    EXPECT_ERROR("{\"m\": {\"file_name\": \"m.json\", \"columns\": {\"audios\": \"a\"}}}", NULL,
                 "m", HN_ERR_UNSUPPORTED, "the audios column");
    EXPECT_ERROR("{\"f\": {\"file_name\": \"f.json\", \"formatting\": \"chatml\"}}", NULL, "f",
                 HN_ERR_FORMAT, "expected alpaca, sharegpt or openai, found \"chatml\"");
    EXPECT_ERROR("{\"s\": {\"file_name\": \"s.json\", \"split\": \"test\"}}", NULL, "s",
                 HN_ERR_UNSUPPORTED, "split \"test\"", "only the split \"train\"");
    EXPECT_ERROR("{\"n\": {\"formatting\": \"alpaca\"}}", NULL, "n", HN_ERR_FORMAT,
                 "file_name", "expected a file or folder name");
    EXPECT_ERROR("{\"c\": {\"file_name\": \"c.json\", \"columns\": {\"prompt\": 3}}}", NULL,
                 "c", HN_ERR_FORMAT, "prompt", "expected a string");
    EXPECT_ERROR("{\"r\": {\"file_name\": \"r.json\", \"ranking\": \"yes\"}}", NULL, "r",
                 HN_ERR_FORMAT, "ranking");
    EXPECT_ERROR("[1]", NULL, "x", HN_ERR_FORMAT, "dataset_info.json");
}

static void test_bad_rows(void)
{
    const char *missing[] = {"demo.json", "[{\"instruction\": \"a\", \"input\": \"\", \"output\":"
                             " \"b\"}, {\"instruction\": \"c\", \"input\": \"\"}]", NULL};
    EXPECT_ERROR(alpaca_info, missing, "demo", HN_ERR_FORMAT, "demo.json: row 2",
                 "missing \"output\" (the response column)", "dataset \"demo\"");
    const char *lines[] = {"demo.jsonl", "{\"instruction\": \"a\", \"input\": \"\", \"output\": "
                           "\"b\"}\n\n{\"input\": \"\", \"output\": \"b\"}\n", NULL};
    EXPECT_ERROR(alpaca_info, lines, "lines", HN_ERR_FORMAT, "demo.jsonl: line 3 (row 2)",
                 "missing \"instruction\"");
    const char *number[] = {"demo.json", "[{\"instruction\": \"a\", \"input\": \"\", \"output\":"
                            " 7}]", NULL};
    EXPECT_ERROR(alpaca_info, number, "demo", HN_ERR_FORMAT, "row 1", "output: expected a "
                 "string or null, found a number");
    const char *history[] = {"demo.json", "[{\"instruction\": \"a\", \"input\": \"\", \"output\":"
                             " \"b\", \"h\": [[\"x\"]]}]", NULL};
    EXPECT_ERROR("{\"h\": {\"file_name\": \"demo.json\", \"columns\": {\"prompt\": "
                 "\"instruction\", \"response\": \"output\", \"history\": \"h\"}}}", history,
                 "h", HN_ERR_FORMAT, "history[0]: expected a [prompt, response] pair");
    const char *not_object[] = {"demo.json", "[\"just text\"]", NULL};
    EXPECT_ERROR(alpaca_info, not_object, "demo", HN_ERR_FORMAT, "row 1: expected an object, "
                 "found a string");
    const char *sharegpt_info = "{\"sg\": {\"file_name\": \"sg.json\", \"formatting\": "
                                "\"sharegpt\"}}";
    const char *not_list[] = {"sg.json", "[{\"conversations\": \"hi\"}]", NULL};
    EXPECT_ERROR(sharegpt_info, not_list, "sg", HN_ERR_FORMAT, "conversations: expected a list "
                 "of messages, found a string");
    const char *content[] = {"sg.json", "[{\"conversations\": [{\"from\": \"human\", \"value\":"
                             " 1}, {\"from\": \"gpt\", \"value\": \"b\"}]}]", NULL};
    EXPECT_ERROR(sharegpt_info, content, "sg", HN_ERR_FORMAT, "conversations[0]: value: "
                 "expected a string, found a number");
    const char *no_role[] = {"sg.json", "[{\"conversations\": [{\"value\": \"x\"}]}]", NULL};
    EXPECT_ERROR(sharegpt_info, no_role, "sg", HN_ERR_FORMAT, "conversations[0]: missing "
                 "\"from\" (the role_tag)");
    const char *kto[] = {"demo.json", "[{\"instruction\": \"a\", \"output\": \"b\", \"k\": 1}]",
                         NULL};
    EXPECT_ERROR("{\"k\": {\"file_name\": \"demo.json\", \"columns\": {\"prompt\": "
                 "\"instruction\", \"response\": \"output\", \"kto_tag\": \"k\"}}}", kto, "k",
                 HN_ERR_FORMAT, "k: expected true or false");
}

/* Ranking and KTO rows that cannot be what their dataset_info.json entry says. */
static void test_bad_preference_rows(void)
{
    const char *pairs_info = "{\"p\": {\"file_name\": \"p.json\", \"ranking\": true, "
                             "\"formatting\": \"sharegpt\", \"columns\": {\"messages\": "
                             "\"conversations\", \"chosen\": \"chosen\", \"rejected\": "
                             "\"rejected\"}}}";
    const char *no_rejected[] = {"p.json", "[{\"conversations\": [{\"from\": \"human\", "
                                 "\"value\": \"q\"}], \"chosen\": {\"from\": \"gpt\", \"value\":"
                                 " \"a\"}}]", NULL};
    EXPECT_ERROR(pairs_info, no_rejected, "p", HN_ERR_FORMAT, "p.json: row 1",
                 "missing \"rejected\" (the rejected column)", "dataset \"p\"");
    const char *no_chosen[] = {"p.json", "[{\"conversations\": [{\"from\": \"human\", \"value\":"
                               " \"q\"}], \"rejected\": {\"from\": \"gpt\", \"value\": \"b\"}}]",
                               NULL};
    EXPECT_ERROR(pairs_info, no_chosen, "p", HN_ERR_FORMAT, "p.json: row 1",
                 "missing \"chosen\" (the chosen column)");
    const char *text_answer[] = {"p.json", "[{\"conversations\": [{\"from\": \"human\", "
                                 "\"value\": \"q\"}], \"chosen\": \"a\", \"rejected\": \"b\"}]",
                                 NULL};
    EXPECT_ERROR(pairs_info, text_answer, "p", HN_ERR_FORMAT, "p.json: row 1",
                 "chosen: expected a message object, found a string");
    const char *user_answer[] = {"p.json", "[{\"conversations\": [{\"from\": \"human\", "
                                 "\"value\": \"q\"}], \"chosen\": {\"from\": \"human\", \"value\":"
                                 " \"a\"}, \"rejected\": {\"from\": \"gpt\", \"value\": \"b\"}}]",
                                 NULL};
    EXPECT_ERROR(pairs_info, user_answer, "p", HN_ERR_FORMAT, "p.json: row 1", "chosen: role "
                 "\"human\": expected an assistant or function answer");
    const char *alpaca_pairs = "{\"a\": {\"file_name\": \"a.json\", \"ranking\": true, "
                              "\"columns\": {\"prompt\": \"instruction\", \"chosen\": \"chosen\","
                              " \"rejected\": \"rejected\"}}}";
    const char *alpaca_missing[] = {"a.json", "[{\"instruction\": \"q\", \"chosen\": \"a\", "
                                    "\"rejected\": \"b\"}, {\"instruction\": \"q\", \"chosen\": "
                                    "\"a\"}]", NULL};
    EXPECT_ERROR(alpaca_pairs, alpaca_missing, "a", HN_ERR_FORMAT, "a.json: row 2",
                 "missing \"rejected\"");
    const char *alpaca_number[] = {"a.json", "[{\"instruction\": \"q\", \"chosen\": 1, "
                                   "\"rejected\": \"b\"}]", NULL};
    EXPECT_ERROR(alpaca_pairs, alpaca_number, "a", HN_ERR_FORMAT, "a.json: row 1",
                 "chosen: expected a string, found a number");
    const char *kto_info = "{\"k\": {\"file_name\": \"k.json\", \"formatting\": \"sharegpt\", "
                           "\"columns\": {\"messages\": \"messages\", \"kto_tag\": \"label\"}, "
                           "\"tags\": {\"role_tag\": \"role\", \"content_tag\": \"content\", "
                           "\"user_tag\": \"user\", \"assistant_tag\": \"assistant\"}}}";
    const char *kto_text[] = {"k.json", "[{\"messages\": [{\"role\": \"user\", \"content\": "
                              "\"q\"}, {\"role\": \"assistant\", \"content\": \"a\"}], "
                              "\"label\": \"true\"}]", NULL};
    EXPECT_ERROR(kto_info, kto_text, "k", HN_ERR_FORMAT, "k.json: row 1",
                 "label: expected true or false (the kto_tag), found a string");
    const char *kto_missing[] = {"k.json", "[{\"messages\": [{\"role\": \"user\", \"content\": "
                                 "\"q\"}, {\"role\": \"assistant\", \"content\": \"a\"}]}]", NULL};
    EXPECT_ERROR(kto_info, kto_missing, "k", HN_ERR_FORMAT, "k.json: row 1",
                 "missing \"label\" (the kto_tag column)");
}

/* Loads names from a folder for a stage; returns the error message (g_free). */
static char *stage_error(const char *info, const char *const *files, const char *names,
                         const char *stage)
{
    char *dir = make_dir(info, files);
    hn_dataset_options options;
    hn_dataset_options_init(&options);
    options.stage = stage;
    hn_dataset dataset;
    hn_error err = {0};
    hn_status status = hn_dataset_load(dir, names, &options, &dataset, &err);
    hn_dataset_clear(&dataset);
    if (status == HN_OK) {
        test_remove_tree(dir);
        g_error("%s: loaded for stage %s, expected an error", names, stage);
    }
    g_assert_cmpint(status, ==, HN_ERR_ARGUMENT);
    /* The same datasets load without a stage. */
    options.stage = NULL;
    g_assert_cmpint(hn_dataset_load(dir, names, &options, &dataset, &err), ==, HN_OK);
    hn_dataset_clear(&dataset);
    test_remove_tree(dir);
    g_free(dir);
    g_test_message("%s", err.message);
    return g_strdup(err.message);
}

/* Upstream's _get_merged_dataset: ranking datasets for rm (and dpo) only, and only those. */
static void test_dataset_for_stage(void)
{
    const char *info = "{\"plain\": {\"file_name\": \"a.json\"}, \"pairs\": {\"file_name\": "
                       "\"p.json\", \"ranking\": true, \"columns\": {\"prompt\": "
                       "\"instruction\", \"chosen\": \"chosen\", \"rejected\": \"rejected\"}}}";
    const char *files[] = {"a.json", "[{\"instruction\": \"q\", \"input\": \"\", \"output\": "
                           "\"a\"}]", "p.json", "[{\"instruction\": \"q\", \"chosen\": \"a\", "
                           "\"rejected\": \"b\"}]", NULL};
    const char *not_ranking[] = {"sft", "pt", "kto"};
    for (size_t i = 0; i < G_N_ELEMENTS(not_ranking); i++) {
        char *message = stage_error(info, files, "plain,pairs", not_ranking[i]);
        char *stage = g_strdup_printf("stage %s expects one without ranking", not_ranking[i]);
        test_assert_contains(message, "dataset_info.json: dataset \"pairs\" is a ranking dataset");
        test_assert_contains(message, stage);
        test_assert_contains(message, "The dataset is not applicable in the current training");
        g_free(stage);
        g_free(message);
    }
    const char *ranking[] = {"rm", "dpo"};
    for (size_t i = 0; i < G_N_ELEMENTS(ranking); i++) {
        char *message = stage_error(info, files, "pairs,plain", ranking[i]);
        char *stage = g_strdup_printf("dataset \"plain\": stage %s expects a ranking dataset",
                                      ranking[i]);
        test_assert_contains(message, stage);
        test_assert_contains(message, "found one without \"ranking\"");
        g_free(stage);
        g_free(message);
    }
}

/* Loads names for a stage and builds preference data with chatml. The rows here are all
 * dropped or refused before any is tokenized, so no tokenizer is needed. */
static char *pref_error(const char *info, const char *const *files, const char *names,
                        const char *stage, int batch_size)
{
    char *dir = make_dir(info, files);
    hn_dataset_options options;
    hn_dataset_options_init(&options);
    options.stage = stage;
    hn_dataset dataset;
    hn_error err = {0};
    if (hn_dataset_load(dir, names, &options, &dataset, &err) != HN_OK)
        g_error("%s", err.message);
    hn_chat_template chatml;
    g_assert_cmpint(hn_chat_template_get("chatml", &chatml, &err), ==, HN_OK);
    hn_sft_template tmpl = {&chatml, NULL};
    hn_chat_encode_options encode;
    hn_chat_encode_options_init(&encode);
    hn_status status;
    if (strcmp(stage, "kto") == 0) {
        hn_kto_data data;
        status = hn_kto_data_build(&dataset, &tmpl, NULL, &encode, batch_size, 0, &data, &err);
        g_assert_null(data.examples);
    } else {
        hn_pair_data data;
        status = hn_pair_data_build(&dataset, &tmpl, NULL, &encode, &data, &err);
        g_assert_null(data.examples);
    }
    g_assert_cmpint(status, ==, HN_ERR_ARGUMENT);
    hn_dataset_clear(&dataset);
    test_remove_tree(dir);
    g_free(dir);
    g_test_message("%s", err.message);
    return g_strdup(err.message);
}

/* Preference data from rows the processors drop, and KTO's KL pair borrowing an answer from a
 * row that has none. */
static void test_bad_preference_data(void)
{
    const char *kto_info = "{\"k\": {\"file_name\": \"k.json\", \"columns\": {\"prompt\": "
                           "\"instruction\", \"response\": \"output\", \"kto_tag\": \"tag\"}}}";
    const char *untagged[] = {"k.json", "[{\"instruction\": \"q\", \"output\": \"a\", \"tag\": "
                              "null}, {\"instruction\": \"r\", \"output\": \"b\", \"tag\": "
                              "null}]", NULL};
    char *m = pref_error(kto_info, untagged, "k", "kto", 1000);
    test_assert_contains(m, "none of the 2 dataset rows is a KTO row");
    test_assert_contains(m, "row 0: 1 prompt turns and 1 answers (expected an odd number and 2)");
    test_assert_contains(m, "Cannot find valid samples");
    g_free(m);
    /* Row 0's KL pair takes the batch's last row, whose answer is empty and untagged. */
    const char *empty_last[] = {"k.json", "[{\"instruction\": \"q\", \"output\": \"a\", \"tag\": "
                                "true}, {\"instruction\": \"r\", \"output\": \"\", \"tag\": "
                                "null}]", NULL};
    m = pref_error(kto_info, empty_last, "k", "kto", 1000);
    test_assert_contains(m, "dataset row 0: its KL pair takes the answer of row 1");
    test_assert_contains(m, "which has 1 answer and no text to borrow");
    test_assert_contains(m, "IndexError");
    g_free(m);
    const char *pairs_info = "{\"p\": {\"file_name\": \"p.json\", \"ranking\": true, "
                             "\"formatting\": \"sharegpt\", \"columns\": {\"messages\": "
                             "\"conversations\", \"chosen\": \"chosen\", \"rejected\": "
                             "\"rejected\"}}}";
    const char *unpaired[] = {"p.json", "[{\"conversations\": [{\"from\": \"human\", \"value\": "
                              "\"q\"}, {\"from\": \"gpt\", \"value\": \"a\"}], \"chosen\": null,"
                              " \"rejected\": null}, {\"conversations\": [{\"from\": \"human\", "
                              "\"value\": \"q\"}], \"chosen\": null, \"rejected\": null}]", NULL};
    m = pref_error(pairs_info, unpaired, "p", "dpo", 1000);
    test_assert_contains(m, "none of the 2 dataset rows is a preference pair");
    test_assert_contains(m, "row 0: 0 prompt turns and 0 answers");
    g_free(m);
}

static void test_bad_files(void)
{
    const char *latin1[] = {"demo.jsonl", "{\"instruction\": \"a\", \"input\": \"\", \"output\": "
                            "\"b\"}\n{\"instruction\": \"caf\xe9\", \"input\": \"\", \"output\":"
                            " \"b\"}\n", NULL};
    EXPECT_ERROR(alpaca_info, latin1, "lines", HN_ERR_FORMAT, "demo.jsonl: line 2",
                 "not valid UTF-8");
    const char *latin1_array[] = {"demo.json", "[\n{\"instruction\": \"\xff\"}]", NULL};
    EXPECT_ERROR(alpaca_info, latin1_array, "demo", HN_ERR_FORMAT, "demo.json: line 2",
                 "not valid UTF-8");
    const char *empty[] = {"demo.json", "[]", NULL};
    EXPECT_ERROR(alpaca_info, empty, "demo", HN_ERR_FORMAT, "demo.json: no rows (an empty "
                 "dataset)");
    const char *blank[] = {"demo.jsonl", "\n  \n", NULL};
    EXPECT_ERROR(alpaca_info, blank, "lines", HN_ERR_FORMAT, "no rows");
    const char *nothing[] = {"demo.json", "", NULL};
    EXPECT_ERROR(alpaca_info, nothing, "demo", HN_ERR_FORMAT, "no rows");
    const char *truncated[] = {"demo.json", "[\n{\"instruction\": \"a\", \"input\": \"\", "
                               "\"output\": \"b\"},\n{\"instruction\": \"c\", \"inp", NULL};
    EXPECT_ERROR(alpaca_info, truncated, "demo", HN_ERR_FORMAT, "demo.json: line 3",
                 "not valid JSON", "truncated?");
    const char *bad_line[] = {"demo.jsonl", "{\"instruction\": \"a\", \"input\": \"\", \"output\":"
                              " \"b\"}\n{\"instruction\": \"a\",}\n", NULL};
    EXPECT_ERROR(alpaca_info, bad_line, "lines", HN_ERR_FORMAT, "demo.jsonl: line 2, column",
                 "one complete object per line");
    EXPECT_ERROR(alpaca_info, NULL, "demo", HN_ERR_IO, "demo.json: no such file or folder",
                 "dataset \"demo\"");
    const char *csv[] = {"demo.csv", "instruction,input,output\n", NULL};
    EXPECT_ERROR("{\"c\": {\"file_name\": \"demo.csv\"}}", csv, "c", HN_ERR_UNSUPPORTED,
                 "Hone reads .json and .jsonl");
    const char *folder[] = {"parts/.keep", "", NULL};
    EXPECT_ERROR("{\"p\": {\"file_name\": \"parts\"}}", folder, "p", HN_ERR_UNSUPPORTED,
                 "parts/.keep", "Hone reads .json and .jsonl");
}

/* numpy's legacy global state: np.random.seed(42); permutation(10); choice(7, 5). The
 * reference test checks num_samples rows against LLaMA-Factory's. */
static void test_numpy_random(void)
{
    hn_np_random rng;
    hn_np_random_seed(&rng, 42);
    size_t perm[10], choice[5];
    hn_np_random_permutation(&rng, 10, perm);
    hn_np_random_choice(&rng, 7, 5, choice);
    static const size_t want_perm[10] = {8, 1, 5, 0, 7, 2, 9, 4, 3, 6}, want_choice[5] = {2, 6, 2, 2, 4};
    for (int i = 0; i < 10; i++)
        g_assert_cmpuint(perm[i], ==, want_perm[i]);
    for (int i = 0; i < 5; i++)
        g_assert_cmpuint(choice[i], ==, want_choice[i]);
}

static void test_broken_rows_counted(void)
{
    GString *rows = g_string_new("[");
    for (int i = 0; i < 8; i++)
        g_string_append_printf(rows, "%s{\"conversations\": [{\"from\": \"gpt\", \"value\": "
                               "\"%d\"}]}", i ? "," : "", i);
    g_string_append(rows, ",{\"conversations\": [{\"from\": \"human\", \"value\": \"q\"}, "
                    "{\"from\": \"gpt\", \"value\": \"a\"}]}]");
    const char *files[] = {"sg.json", rows->str, NULL};
    char *dir = make_dir("{\"sg\": {\"file_name\": \"sg.json\", \"formatting\": \"sharegpt\"}}",
                         files);
    hn_dataset_options options;
    hn_dataset_options_init(&options);
    hn_dataset dataset;
    hn_error err = {0};
    g_assert_cmpint(hn_dataset_load(dir, "sg", &options, &dataset, &err), ==, HN_OK);
    g_assert_cmpuint(dataset.n_rows, ==, 9);
    g_assert_cmpuint(dataset.n_broken, ==, 8);
    test_assert_contains(dataset.broken_reasons[0], "sg.json: row 1: conversations[0]: role "
                         "\"gpt\" where human or observation was expected");
    g_assert_nonnull(dataset.broken_reasons[HN_DATASET_REASONS - 1]);
    g_assert_true(dataset.rows[0].broken && dataset.rows[0].n_prompt == 0);
    g_assert_false(dataset.rows[8].broken);
    g_assert_cmpuint(dataset.rows[8].n_prompt, ==, 1);
    hn_dataset_clear(&dataset);
    options.max_samples = 2;
    g_assert_cmpint(hn_dataset_load(dir, "sg", &options, &dataset, &err), ==, HN_OK);
    g_assert_cmpuint(dataset.n_rows, ==, 2);
    hn_dataset_clear(&dataset);
    test_remove_tree(dir);
    g_free(dir);
    g_string_free(rows, TRUE);
}

/* The shipped identity set: placeholders filled in every text. */
static void test_identity_filled(void)
{
    char *data = g_build_filename(g_getenv("HONE_SOURCE_DIR"), "data", NULL);
    hn_dataset_options options;
    hn_dataset_options_init(&options);
    hn_dataset dataset;
    hn_error err = {0};
    if (hn_dataset_load(data, "identity,alpaca_en_demo,alpaca_zh_demo,glaive_toolcall_en_demo",
                        &options, &dataset, &err) != HN_OK)
        g_error("%s", err.message);
    g_assert_cmpuint(dataset.n_rows, >=, 130);
    g_assert_cmpuint(dataset.n_broken, ==, 0);
    hn_dataset_fill_identity(&dataset, "Hone Bot", "the {{name}} team");
    bool saw_name = false;
    for (size_t i = 0; i < dataset.n_rows; i++) {
        const hn_dataset_row *row = &dataset.rows[i];
        for (size_t m = 0; m < row->n_prompt + row->n_response; m++) {
            const char *text = row->prompt[m].content;
            g_assert_null(strstr(text, "{{author}}"));
            saw_name |= strstr(text, "Hone Bot") != NULL;
        }
    }
    g_assert_true(saw_name);
    g_assert_cmpstr(dataset.rows[0].response[0].content, ==,
                    "I am Hone Bot, an AI assistant developed by the {{name}} team. How can I "
                    "help you today?");
    hn_dataset_clear(&dataset);
    g_free(data);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/dataset/unknown-names", test_unknown_names);
    g_test_add_func("/engine/dataset/bad-entries", test_bad_entries);
    g_test_add_func("/engine/dataset/bad-rows", test_bad_rows);
    g_test_add_func("/engine/dataset/bad-files", test_bad_files);
    g_test_add_func("/engine/dataset/bad-preference-rows", test_bad_preference_rows);
    g_test_add_func("/engine/dataset/stage", test_dataset_for_stage);
    g_test_add_func("/engine/dataset/bad-preference-data", test_bad_preference_data);
    g_test_add_func("/engine/dataset/numpy-random", test_numpy_random);
    g_test_add_func("/engine/dataset/broken-rows", test_broken_rows_counted);
    g_test_add_func("/engine/dataset/identity", test_identity_filled);
    return g_test_run();
}
