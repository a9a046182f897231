/* The Train page's dataset preview (ui/dataset_preview.c): random Alpaca and ShareGPT datasets
 * chosen together are shown two rows a page, in order, each row with its own texts (and no
 * other row's), identity placeholders filled as the Train page's fields say, and a dataset
 * that cannot be read gives the engine's error. */
#include <string.h>

#include "dataset_preview.h"
#include "test_util.h"

/* A random word of letters (JSON-safe), g_free. */
static char *word(const char *prefix, size_t i)
{
    return g_strdup_printf("%s%zu_%08x", prefix, i, g_test_rand_int());
}

static void test_pages(void)
{
    char *dir = test_make_tmpdir();
    size_t na = (size_t)g_test_rand_int_range(1, 8), nb = (size_t)g_test_rand_int_range(1, 8);
    GPtrArray *want = g_ptr_array_new_with_free_func(g_free); /* per row: a \t-joined list */
    GString *a = g_string_new("[");
    for (size_t i = 0; i < na; i++) {
        char *ins = word("ins", i), *out = word("out", i), *sys = word("sys", i);
        g_string_append_printf(a, "%s{\"instruction\": \"%s {{name}}\", \"input\": \"\", "
                               "\"output\": \"%s\", \"system\": \"%s\"}", i ? "," : "", ins,
                               out, sys);
        g_ptr_array_add(want, g_strdup_printf("system: %s\nuser: %s Hone\nassistant: %s\n",
                                              sys, ins, out));
        g_free(ins);
        g_free(out);
        g_free(sys);
    }
    g_string_append(a, "]");
    GString *b = g_string_new(NULL);
    for (size_t i = 0; i < nb; i++) {
        char *q1 = word("q", i), *r1 = word("r", i), *q2 = word("qq", i), *r2 = word("rr", i);
        g_string_append_printf(b, "{\"conversations\": [{\"from\": \"human\", \"value\": \"%s\"}, "
                               "{\"from\": \"gpt\", \"value\": \"%s\"}, {\"from\": \"human\", "
                               "\"value\": \"%s\"}, {\"from\": \"gpt\", \"value\": \"%s\"}]}\n",
                               q1, r1, q2, r2);
        g_ptr_array_add(want, g_strdup_printf("user: %s\nassistant: %s\nuser: %s\nassistant: %s\n",
                                              q1, r1, q2, r2));
        g_free(q1);
        g_free(r1);
        g_free(q2);
        g_free(r2);
    }
    char *pa = g_build_filename(dir, "a.json", NULL), *pb = g_build_filename(dir, "b.jsonl", NULL);
    char *info = g_build_filename(dir, "dataset_info.json", NULL);
    test_write_text(pa, a->str);
    test_write_text(pb, b->str);
    test_write_text(info, "{\"a\": {\"file_name\": \"a.json\", \"columns\": {\"prompt\": "
                          "\"instruction\", \"query\": \"input\", \"response\": \"output\", "
                          "\"system\": \"system\"}},\n \"b\": {\"file_name\": \"b.jsonl\", "
                          "\"formatting\": \"sharegpt\"}}");
    HoneDatasetPreview *p = NULL;
    hn_error err = {0};
    if (hone_dataset_preview_open(dir, "a,b", "Hone", "", &p, &err) != HN_OK)
        g_error("%s", err.message);
    size_t n = na + nb;
    g_assert_cmpuint(hone_dataset_preview_n_rows(p), ==, n);
    g_assert_cmpuint(hone_dataset_preview_n_pages(p), ==, (n + 1) / 2);
    for (size_t page = 0; page < hone_dataset_preview_n_pages(p); page++) {
        char *text = hone_dataset_preview_page(p, page);
        GString *expect = g_string_new(NULL);
        for (size_t r = page * 2; r < n && r < page * 2 + 2; r++)
            g_string_append_printf(expect, "%sRow %zu\n%s", r > page * 2 ? "\n" : "", r + 1,
                                   (const char *)g_ptr_array_index(want, r));
        g_assert_cmpstr(text, ==, expect->str);
        char *title = hone_dataset_preview_page_title(p, page);
        char *want_title = g_strdup_printf("Rows %zu-%zu of %zu", page * 2 + 1,
                                           MIN(n, page * 2 + 2), n);
        g_assert_cmpstr(title, ==, want_title);
        g_free(want_title);
        g_free(title);
        g_string_free(expect, TRUE);
        g_free(text);
    }
    char *past = hone_dataset_preview_page(p, hone_dataset_preview_n_pages(p));
    g_assert_cmpstr(past, ==, "");
    g_free(past);
    hone_dataset_preview_free(p);

    /* no identity name: the placeholder stays */
    g_assert_cmpint(hone_dataset_preview_open(dir, "a", NULL, NULL, &p, &err), ==, HN_OK);
    char *text = hone_dataset_preview_page(p, 0);
    test_assert_contains(text, "{{name}}");
    g_free(text);
    hone_dataset_preview_free(p);

    /* a name the file lacks, and a broken file: the engine's errors */
    g_assert_cmpint(hone_dataset_preview_open(dir, "a,nope", NULL, NULL, &p, &err), !=, HN_OK);
    g_assert_null(p);
    test_assert_contains(err.message, "nope");
    test_write_text(pb, "{\"conversations\": [\n");
    g_assert_cmpint(hone_dataset_preview_open(dir, "b", NULL, NULL, &p, &err), !=, HN_OK);
    test_assert_contains(err.message, "b.jsonl");

    g_free(pa);
    g_free(pb);
    g_free(info);
    g_string_free(a, TRUE);
    g_string_free(b, TRUE);
    g_ptr_array_unref(want);
    test_remove_tree(dir);
    g_free(dir);
}

/* The repository's identity dataset, a page of it. */
static void test_identity(void)
{
    char *data = g_build_filename(g_getenv("HONE_SOURCE_DIR"), "data", NULL);
    HoneDatasetPreview *p = NULL;
    hn_error err = {0};
    if (hone_dataset_preview_open(data, "identity", "Hone Bot", "the Hone team", &p, &err) != HN_OK)
        g_error("%s", err.message);
    g_assert_cmpuint(hone_dataset_preview_n_rows(p), >, 10);
    char *text = hone_dataset_preview_page(p, 0);
    test_assert_contains(text, "Row 1\nuser: ");
    test_assert_contains(text, "Row 2\nuser: ");
    test_assert_contains(text, "Hone Bot");
    g_assert_null(strstr(text, "{{name}}"));
    g_assert_null(strstr(text, "Row 3"));
    g_free(text);
    hone_dataset_preview_free(p);
    g_free(data);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/ui/dataset-preview/pages", test_pages);
    g_test_add_func("/ui/dataset-preview/identity", test_identity);
    return g_test_run();
}
