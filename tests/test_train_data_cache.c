/* Training data without Python: the greedy knapsack's edge cases, the layout of packed rows,
 * and the tokenized-data cache (a second load hits and gives identical examples; changing any
 * input of the key misses; a corrupt or truncated cache file is reported in one warning and
 * rebuilt; overwrite_cache rebuilds), with a tiny tokenizer and dataset written here. */
#include <cjson/cJSON.h>
#include <string.h>
#include <sys/stat.h>
#include <utime.h>

#include "sft_packing.h"
#include "test_util.h"
#include "train_data.h"

/* ---- the knapsack ---- */

static void expect_knapsack(const size_t *lengths, size_t n, size_t capacity,
                            const size_t *items, size_t n_items, const size_t *bin_start,
                            size_t n_bins, size_t too_long)
{
    hn_knapsack k;
    hn_greedy_knapsack(lengths, n, capacity, &k);
    g_assert_cmpuint(k.n_items, ==, n_items);
    g_assert_cmpuint(k.n_bins, ==, n_bins);
    g_assert_cmpuint(k.n_too_long, ==, too_long);
    if (n_items > 0)
        g_assert_cmpmem(k.items, n_items * sizeof(size_t), items, n_items * sizeof(size_t));
    g_assert_cmpmem(k.bin_start, (n_bins + 1) * sizeof(size_t), bin_start,
                    (n_bins + 1) * sizeof(size_t));
    hn_knapsack_clear(&k);
}

static void test_knapsack_edges(void)
{
    /* empty input: no bins */
    expect_knapsack(NULL, 0, 8, NULL, 0, (size_t[]){0}, 0, 0);
    /* sorted [1, 2, 3, 5, 5], capacity 7: {5 (the later one, #3), 2}, {5, 1}, {3} */
    expect_knapsack((size_t[]){3, 5, 2, 5, 1}, 5, 7, (size_t[]){3, 2, 1, 4, 0}, 5,
                    (size_t[]){0, 2, 4, 5}, 3, 0);
    /* a length above capacity is left out and counted; one equal to it fills a bin alone */
    expect_knapsack((size_t[]){9, 4, 10, 2}, 4, 4, (size_t[]){1, 3}, 2, (size_t[]){0, 1, 2}, 2,
                    2);
    /* only lengths above capacity: nothing */
    expect_knapsack((size_t[]){5, 6}, 2, 4, NULL, 0, (size_t[]){0}, 0, 2);
    /* zero lengths always fit (bisect finds them with no room left) */
    expect_knapsack((size_t[]){0, 3, 0}, 3, 3, (size_t[]){1, 2, 0}, 3, (size_t[]){0, 3}, 1, 0);
    /* equal lengths: the example appearing last goes first */
    expect_knapsack((size_t[]){2, 2, 2}, 3, 4, (size_t[]){2, 1, 0}, 3, (size_t[]){0, 2, 3}, 2,
                    0);
}

/* ---- packed rows ---- */

static void set_example(hn_sft_example *e, size_t n, int32_t base)
{
    *e = (hn_sft_example){g_new(int32_t, n), g_new(int32_t, n), n, NULL, NULL};
    for (size_t t = 0; t < n; t++) {
        e->input_ids[t] = base + (int32_t)t;
        e->labels[t] = t < n / 2 ? HN_IGNORE_INDEX : base + (int32_t)t;
    }
}

static void test_pack_layout(void)
{
    hn_sft_data in = {.examples = g_new0(hn_sft_example, 4), .n_examples = 4};
    set_example(&in.examples[0], 3, 100); /* lengths 3, 5, 9, 2 with cutoff_len 8: capacity 7 */
    set_example(&in.examples[1], 5, 200);
    set_example(&in.examples[2], 9, 300); /* too long: dropped */
    set_example(&in.examples[3], 2, 400);
    hn_error err = {0};
    for (int neat = 0; neat < 2; neat++) {
        hn_sft_data out;
        g_assert_cmpint(hn_sft_pack(&in, 8, neat, 7, &out, &err), ==, HN_OK);
        g_assert_cmpuint(out.n_dropped, ==, 1);
        test_assert_contains(out.first_dropped, "example 2: length 9 > cutoff_len - 1 = 7");
        /* valid lengths [3, 5, 2] -> bins {5, 2} then {3} */
        g_assert_cmpuint(out.n_examples, ==, 2);
        const hn_sft_example *r = &out.examples[0];
        g_assert_cmpuint(r->n, ==, 8);
        const int32_t ids[] = {200, 201, 202, 203, 204, 400, 401, 7};
        const int32_t labels[] = {-100, -100, 202, 203, 204, -100, 401, -100};
        const int32_t pos[] = {0, 1, 2, 3, 4, 0, 1, 0};
        const int32_t docs[] = {0, 0, 0, 0, 0, 5, 5, 7};
        g_assert_cmpmem(r->input_ids, sizeof ids, ids, sizeof ids);
        g_assert_cmpmem(r->labels, sizeof labels, labels, sizeof labels);
        g_assert_cmpmem(r->position_ids, sizeof pos, pos, sizeof pos);
        if (neat)
            g_assert_cmpmem(r->doc_start, sizeof docs, docs, sizeof docs);
        else
            g_assert_null(r->doc_start);
        r = &out.examples[1];
        const int32_t ids1[] = {100, 101, 102, 7, 7, 7, 7, 7};
        const int32_t docs1[] = {0, 0, 0, 3, 3, 3, 3, 3};
        g_assert_cmpmem(r->input_ids, sizeof ids1, ids1, sizeof ids1);
        if (neat)
            g_assert_cmpmem(r->doc_start, sizeof docs1, docs1, sizeof docs1);
        g_assert_cmpint(out.n_tokens, ==, 16);
        g_assert_cmpint(out.n_label_tokens, ==, 3 + 1 + 2);
        hn_sft_data_clear(&out);
    }
    hn_sft_data out;
    g_assert_cmpint(hn_sft_pack(&in, 1, false, 7, &out, &err), ==, HN_ERR_ARGUMENT);
    test_assert_contains(err.message, "cutoff_len: expected at least 2 with packing");
    hn_sft_data_clear(&in);
}

/* ---- the cache ---- */

typedef struct {
    char *root, *tok_dir, *data_dir, *cache_dir;
    hn_tokenizer *tok;
    hn_chat_template chatml, plain;
} fixture;

/* A tokenizer with one token per printable ASCII character and newline, plus the ChatML
 * specials; bos <|im_start|>, eos <|im_end|>. */
static void write_tokenizer(const char *dir)
{
    GString *json = g_string_new("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"\\n\": 0");
    for (int c = 32; c < 127; c++)
        g_string_append_printf(json, ", \"%s%c\": %d", c == '"' || c == '\\' ? "\\" : "", c,
                               c - 31);
    g_string_append(json, "}, \"merges\": []}, \"added_tokens\": ["
                          "{\"id\": 96, \"content\": \"<|im_start|>\", \"special\": true}, "
                          "{\"id\": 97, \"content\": \"<|im_end|>\", \"special\": true}]}");
    char *path = g_build_filename(dir, "tokenizer.json", NULL);
    test_write_text(path, json->str);
    g_free(path);
    path = g_build_filename(dir, "tokenizer_config.json", NULL);
    test_write_text(path, "{\"bos_token\": \"<|im_start|>\", \"eos_token\": \"<|im_end|>\"}");
    g_free(path);
    g_string_free(json, TRUE);
}

static void write_dataset(const char *dir, const char *extra_row)
{
    char *path = g_build_filename(dir, "dataset_info.json", NULL);
    test_write_text(path, "{\"demo\": {\"file_name\": \"demo.json\"},"
                          " \"notes\": {\"file_name\": \"notes.jsonl\","
                          " \"columns\": {\"prompt\": \"text\"}}}");
    g_free(path);
    GString *rows = g_string_new("[");
    GString *lines = g_string_new("");
    for (int i = 0; i < 14; i++) {
        g_string_append_printf(rows, "%s{\"instruction\": \"Question %d: what is %d plus %d?\","
                               " \"input\": \"%s\", \"output\": \"It is %d, {{name}} says.\"}",
                               i > 0 ? ", " : "", i, i, 3 * i, i % 3 ? "" : "Show the work.",
                               4 * i);
        g_string_append_printf(lines, "{\"text\": \"Note %d: the river rose %d cm overnight and "
                               "fell again by noon.\"}\n", i, 5 * i + 2);
    }
    if (extra_row != NULL)
        g_string_append_printf(rows, ", %s", extra_row);
    g_string_append(rows, "]");
    path = g_build_filename(dir, "demo.json", NULL);
    test_write_text(path, rows->str);
    g_free(path);
    path = g_build_filename(dir, "notes.jsonl", NULL);
    test_write_text(path, lines->str);
    g_free(path);
    g_string_free(rows, TRUE);
    g_string_free(lines, TRUE);
}

static void fixture_init(fixture *f)
{
    f->root = test_make_tmpdir();
    f->tok_dir = g_build_filename(f->root, "model", NULL);
    f->data_dir = g_build_filename(f->root, "data", NULL);
    f->cache_dir = g_build_filename(f->root, "cache", NULL);
    g_assert_cmpint(mkdir(f->tok_dir, 0755), ==, 0);
    g_assert_cmpint(mkdir(f->data_dir, 0755), ==, 0);
    write_tokenizer(f->tok_dir);
    write_dataset(f->data_dir, NULL);
    hn_error err = {0};
    if (hn_tokenizer_load(f->tok_dir, &f->tok, &err) != HN_OK ||
        hn_chat_template_get("chatml", &f->chatml, &err) != HN_OK ||
        hn_chat_template_get("default", &f->plain, &err) != HN_OK)
        g_error("%s", err.message);
}

static void fixture_clear(fixture *f)
{
    hn_tokenizer_free(f->tok);
    test_remove_tree(f->root);
    g_free(f->root);
    g_free(f->tok_dir);
    g_free(f->data_dir);
    g_free(f->cache_dir);
}

static void base_options(const fixture *f, hn_train_data_options *o)
{
    hn_train_data_options_init(o);
    o->dataset_dir = f->data_dir;
    o->dataset = "demo";
    o->encode.cutoff_len = 40;
    o->tokenizer_path = f->tok_dir;
    o->cache_dir = f->cache_dir;
    o->identity_name = "Hone";
}

static void expect_same_ids(const int32_t *a, const int32_t *b, size_t n)
{
    g_assert_true((a == NULL) == (b == NULL));
    if (a != NULL)
        g_assert_cmpmem(a, n * sizeof *a, b, n * sizeof *b);
}

static void expect_same(const hn_sft_data *a, const hn_sft_data *b)
{
    g_assert_cmpuint(a->n_examples, ==, b->n_examples);
    g_assert_cmpuint(a->n_dropped, ==, b->n_dropped);
    g_assert_cmpint(a->n_tokens, ==, b->n_tokens);
    g_assert_cmpint(a->n_label_tokens, ==, b->n_label_tokens);
    g_assert_cmpstr(a->first_dropped, ==, b->first_dropped);
    for (size_t i = 0; i < a->n_examples; i++) {
        g_assert_cmpuint(a->examples[i].n, ==, b->examples[i].n);
        size_t n = a->examples[i].n;
        expect_same_ids(a->examples[i].input_ids, b->examples[i].input_ids, n);
        expect_same_ids(a->examples[i].labels, b->examples[i].labels, n);
        expect_same_ids(a->examples[i].position_ids, b->examples[i].position_ids, n);
        expect_same_ids(a->examples[i].doc_start, b->examples[i].doc_start, n);
    }
}

/* Loads with o and tmpl; checks where the examples came from and the warning. */
static void load(const fixture *f, const hn_train_data_options *o, const hn_chat_template *tmpl,
                 bool want_hit, const char *want_warning, hn_sft_data *data,
                 hn_train_data_info *info)
{
    hn_sft_template which = {tmpl, NULL};
    hn_error err = {0};
    if (hn_train_data_load(o, f->tok, &which, data, info, &err) != HN_OK)
        g_error("%s", err.message);
    g_assert_cmpint(info->cache_hit, ==, want_hit);
    if (want_warning == NULL) {
        g_assert_null(info->warning);
    } else {
        g_assert_nonnull(info->warning);
        g_assert_null(strchr(info->warning, '\n'));
        test_assert_contains(info->warning, want_warning);
    }
    g_assert_cmpuint(data->n_examples, >, 0);
    g_assert_true(g_file_test(info->cache_path, G_FILE_TEST_IS_REGULAR));
}

/* A first load (miss, stored), a second (hit, the same examples), for options o. */
static void expect_round_trip(const fixture *f, const hn_train_data_options *o,
                              const hn_chat_template *tmpl, uint8_t key[HN_DATA_CACHE_KEY_SIZE])
{
    hn_sft_data built, cached;
    hn_train_data_info info;
    load(f, o, tmpl, false, NULL, &built, &info);
    memcpy(key, info.key, HN_DATA_CACHE_KEY_SIZE);
    hn_train_data_info_clear(&info);
    load(f, o, tmpl, true, NULL, &cached, &info);
    g_assert_cmpmem(info.key, HN_DATA_CACHE_KEY_SIZE, key, HN_DATA_CACHE_KEY_SIZE);
    expect_same(&built, &cached);
    hn_train_data_info_clear(&info);
    hn_sft_data_clear(&built);
    hn_sft_data_clear(&cached);
}

static void test_cache_hits_and_misses(void)
{
    fixture f;
    fixture_init(&f);
    hn_train_data_options base;
    base_options(&f, &base);
    GArray *keys = g_array_new(FALSE, FALSE, HN_DATA_CACHE_KEY_SIZE);
    uint8_t key[HN_DATA_CACHE_KEY_SIZE];
    expect_round_trip(&f, &base, &f.chatml, key);
    g_array_append_vals(keys, key, 1);
    /* each change: a miss (a new key), then a hit with identical examples */
    for (int change = 0; change < 19; change++) {
        hn_train_data_options o = base;
        const hn_chat_template *tmpl = &f.chatml;
        switch (change) {
        case 0: o.encode.cutoff_len = 24; break;
        case 1: o.encode.train_on_prompt = true; break;
        case 2: o.encode.mask_history = true; break;
        case 3: o.encode.enable_thinking = false; break;
        case 4: o.packing = 1; break;
        case 5: o.neat_packing = true; break;
        case 6: o.max_samples = 5; break;
        case 7: tmpl = &f.plain; break;
        case 8: o.identity_name = "Other"; break;
        case 9: o.identity_author = "Lab"; break;
        case 10: o.seed = 7; break;
        case 11: o.stage = HN_TRAIN_STAGE_PT; o.dataset = "notes"; break;
        case 12: o.stage = HN_TRAIN_STAGE_PT; o.dataset = "notes"; o.packing = 0; break;
        case 13: o.stage = HN_TRAIN_STAGE_PT; o.dataset = "notes"; o.packing = 1; break;
        case 14: o.packing = 1; o.preprocessing_batch_size = 5; break;
        case 15: o.packing = 1; o.preprocessing_num_workers = 2; break;
        case 16: { /* the dataset file's bytes */
            write_dataset(f.data_dir, "{\"instruction\": \"one more\", \"input\": \"\", "
                                      "\"output\": \"yes\"}");
            break;
        }
        case 17: { /* the dataset_info entry (same file, one more column) */
            char *path = g_build_filename(f.data_dir, "dataset_info.json", NULL);
            test_write_text(path, "{\"demo\": {\"file_name\": \"demo.json\", \"columns\": "
                                  "{\"prompt\": \"instruction\", \"query\": \"input\", "
                                  "\"response\": \"output\", \"system\": \"input\"}}}");
            g_free(path);
            break;
        }
        case 18: { /* the tokenizer's files */
            char *path = g_build_filename(f.tok_dir, "tokenizer_config.json", NULL);
            test_write_text(path, "{\"bos_token\": \"<|im_start|>\", \"eos_token\": "
                                  "\"<|im_end|>\", \"model_max_length\": 64}");
            g_free(path);
            break;
        }
        }
        expect_round_trip(&f, &o, tmpl, key);
        for (guint k = 0; k < keys->len; k++)
            if (memcmp(key, keys->data + k * HN_DATA_CACHE_KEY_SIZE, sizeof key) == 0)
                g_error("change %d: the key did not change", change);
        g_array_append_vals(keys, key, 1);
    }
    g_test_message("%u keys, all different; every second load a hit with identical examples",
                   keys->len);
    g_array_free(keys, TRUE);
    fixture_clear(&f);
}

/* Damages the cache file of o: flips a payload byte, or cuts it. */
static void test_cache_corrupt(void)
{
    fixture f;
    fixture_init(&f);
    hn_train_data_options o;
    base_options(&f, &o);
    o.neat_packing = true; /* position_ids and doc_start through the file too */
    hn_sft_data first, again;
    hn_train_data_info info;
    load(&f, &o, &f.chatml, false, NULL, &first, &info);
    char *path = g_strdup(info.cache_path);
    hn_train_data_info_clear(&info);
    gchar *bytes = NULL;
    gsize size = 0;
    g_assert_true(g_file_get_contents(path, &bytes, &size, NULL));
    const struct {
        size_t keep;     /* bytes kept */
        long flip;       /* a byte to flip, or -1 */
        const char *why; /* in the warning */
    } damage[] = {
        {size, (long)size - 3, "checksum mismatch"},
        {size - 5, -1, "truncated?"},
        {40, -1, "truncated (40 bytes"},
        {0, -1, "truncated (0 bytes"},
        {size, 2, "bad magic"},
    };
    for (size_t d = 0; d < G_N_ELEMENTS(damage); d++) {
        char *copy = g_memdup2(bytes, size);
        if (damage[d].flip >= 0)
            copy[damage[d].flip] ^= 0x5a;
        test_write_file(path, copy, damage[d].keep);
        g_free(copy);
        load(&f, &o, &f.chatml, false, damage[d].why, &again, &info);
        test_assert_contains(info.warning, path);
        test_assert_contains(info.warning, "rebuilding");
        expect_same(&first, &again);
        hn_sft_data_clear(&again);
        hn_train_data_info_clear(&info);
        load(&f, &o, &f.chatml, true, NULL, &again, &info); /* rebuilt: a hit again */
        expect_same(&first, &again);
        hn_sft_data_clear(&again);
        hn_train_data_info_clear(&info);
    }
    /* overwrite_cache: rebuilt and rewritten even though the file is good */
    struct stat before, after;
    g_assert_cmpint(stat(path, &before), ==, 0);
    o.overwrite_cache = true;
    load(&f, &o, &f.chatml, false, NULL, &again, &info);
    expect_same(&first, &again);
    g_assert_cmpint(stat(path, &after), ==, 0);
    g_assert_true(before.st_ino != after.st_ino); /* a new file renamed into place */
    hn_sft_data_clear(&again);
    hn_train_data_info_clear(&info);
    hn_sft_data_clear(&first);
    g_free(bytes);
    g_free(path);
    fixture_clear(&f);
}

/* A GGUF tokenizer counts by path, size and modification time; an unwritable cache folder
 * gives a warning and the examples all the same. */
static void test_cache_gguf_and_unwritable(void)
{
    fixture f;
    fixture_init(&f);
    hn_train_data_options o;
    base_options(&f, &o);
    char *gguf = g_build_filename(f.root, "model.gguf", NULL);
    test_write_text(gguf, "GGUF stand-in: only its path, size and time count");
    o.tokenizer_path = gguf;
    hn_sft_template which = {&f.chatml, NULL};
    uint8_t k1[HN_DATA_CACHE_KEY_SIZE], k2[HN_DATA_CACHE_KEY_SIZE], k3[HN_DATA_CACHE_KEY_SIZE];
    hn_error err = {0};
    g_assert_cmpint(hn_train_data_key(&o, f.tok, &which, k1, &err), ==, HN_OK);
    g_assert_cmpint(hn_train_data_key(&o, f.tok, &which, k2, &err), ==, HN_OK);
    g_assert_cmpmem(k1, sizeof k1, k2, sizeof k2);
    struct utimbuf times = {1000000000, 1000000000};
    g_assert_cmpint(utime(gguf, &times), ==, 0);
    g_assert_cmpint(hn_train_data_key(&o, f.tok, &which, k2, &err), ==, HN_OK);
    g_assert_true(memcmp(k1, k2, sizeof k1) != 0);
    test_write_text(gguf, "GGUF stand-in: only its path, size and time count, longer");
    g_assert_cmpint(utime(gguf, &times), ==, 0);
    g_assert_cmpint(hn_train_data_key(&o, f.tok, &which, k3, &err), ==, HN_OK);
    g_assert_true(memcmp(k2, k3, sizeof k2) != 0);
    o.tokenizer_path = "/nonexistent-hone/model.gguf";
    g_assert_cmpint(hn_train_data_key(&o, f.tok, &which, k3, &err), ==, HN_ERR_IO);
    test_assert_contains(err.message, "/nonexistent-hone/model.gguf");

    o.tokenizer_path = f.tok_dir;
    char *blocker = g_build_filename(f.root, "not-a-folder", NULL);
    test_write_text(blocker, "x");
    o.cache_dir = blocker; /* a file where the cache folder should be */
    hn_sft_data data;
    hn_train_data_info info;
    g_assert_cmpint(hn_train_data_load(&o, f.tok, &which, &data, &info, &err), ==, HN_OK);
    g_assert_false(info.cache_hit);
    test_assert_contains(info.warning, "tokenized-data cache: not stored: ");
    g_assert_null(strchr(info.warning, '\n'));
    g_assert_cmpuint(data.n_examples, ==, 14);
    hn_sft_data_clear(&data);
    hn_train_data_info_clear(&info);
    g_free(blocker);
    g_free(gguf);
    fixture_clear(&f);
}

static void test_bad_options(void)
{
    fixture f;
    fixture_init(&f);
    hn_train_data_options o;
    base_options(&f, &o);
    o.stage = HN_TRAIN_STAGE_PT;
    o.dataset = "notes";
    o.neat_packing = true;
    hn_sft_template which = {&f.chatml, NULL};
    hn_sft_data data;
    hn_train_data_info info;
    hn_error err = {0};
    g_assert_cmpint(hn_train_data_load(&o, f.tok, &which, &data, &info, &err), ==,
                    HN_ERR_ARGUMENT);
    test_assert_contains(err.message, "neat_packing: only stage sft");
    o.neat_packing = false;
    o.encode.cutoff_len = 4000; /* packing: fewer tokens than one block */
    g_assert_cmpint(hn_train_data_load(&o, f.tok, &which, &data, &info, &err), ==,
                    HN_ERR_ARGUMENT);
    test_assert_contains(err.message, "than one block of 4000");
    hn_train_data_info_clear(&info);
    fixture_clear(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/train_data/knapsack_edges", test_knapsack_edges);
    g_test_add_func("/train_data/pack_layout", test_pack_layout);
    g_test_add_func("/train_data/cache_hits_and_misses", test_cache_hits_and_misses);
    g_test_add_func("/train_data/cache_corrupt", test_cache_corrupt);
    g_test_add_func("/train_data/cache_gguf_and_unwritable", test_cache_gguf_and_unwritable);
    g_test_add_func("/train_data/bad_options", test_bad_options);
    return g_test_run();
}
