/* Datasets against LLaMA-Factory (tests/reference/dataset_ref.py): dataset_info.json entries
 * as get_dataset_list resolves them, and the aligned rows (_prompt, _response, _system,
 * _tools) that its loader and converters make, for the data files Hone ships and for
 * generated alpaca, sharegpt and openai datasets (every column and tag, history, system,
 * tools, ranking, KTO, broken rows, JSON Lines, folders, max_samples, several datasets). */
#include <cjson/cJSON.h>
#include <string.h>

#include "dataset_read.h"
#include "test_util.h"

static const char *string_or_null(const cJSON *item)
{
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

static void check_names(const char *label, char *const *got, const char *const *keys, int n,
                        const cJSON *want)
{
    for (int i = 0; i < n; i++) {
        const char *w = string_or_null(cJSON_GetObjectItem(want, keys[i]));
        if (g_strcmp0(got[i], w) != 0)
            g_error("%s %s: Hone %s, LLaMA-Factory %s", label, keys[i], got[i] ? got[i] : "None",
                    w ? w : "None");
    }
}

static void check_attr(const hn_dataset_attr *attr, const cJSON *want)
{
    g_assert_cmpstr(string_or_null(cJSON_GetObjectItem(want, "load_from")), ==, "file");
    g_assert_cmpstr(attr->file_name, ==, string_or_null(cJSON_GetObjectItem(want, "file_name")));
    g_assert_cmpstr(hn_dataset_format_name(attr->formatting), ==,
                    string_or_null(cJSON_GetObjectItem(want, "formatting")));
    g_assert_cmpint(attr->ranking, ==, cJSON_IsTrue(cJSON_GetObjectItem(want, "ranking")));
    g_assert_cmpstr(attr->split, ==, string_or_null(cJSON_GetObjectItem(want, "split")));
    const cJSON *num = cJSON_GetObjectItem(want, "num_samples");
    g_assert_cmpint(attr->num_samples, ==, cJSON_IsNumber(num) ? num->valueint : -1);
    const char *columns[HN_COL_COUNT], *tags[HN_TAG_COUNT];
    for (int i = 0; i < HN_COL_COUNT; i++)
        columns[i] = hn_dataset_column_key((hn_dataset_column)i);
    for (int i = 0; i < HN_TAG_COUNT; i++)
        tags[i] = hn_dataset_tag_key((hn_dataset_tag)i);
    check_names(attr->name, attr->columns, columns, HN_COL_COUNT,
                cJSON_GetObjectItem(want, "columns"));
    check_names(attr->name, attr->tags, tags, HN_TAG_COUNT, cJSON_GetObjectItem(want, "tags"));
}

static void check_messages(const char *label, size_t row, const hn_chat_message *got, size_t n,
                           const cJSON *want)
{
    if ((int)n != cJSON_GetArraySize(want))
        g_error("%s row %zu: Hone has %zu messages, LLaMA-Factory %d", label, row, n,
                cJSON_GetArraySize(want));
    for (size_t i = 0; i < n; i++) {
        const cJSON *m = cJSON_GetArrayItem(want, (int)i);
        const char *role = string_or_null(cJSON_GetObjectItem(m, "role"));
        const char *content = string_or_null(cJSON_GetObjectItem(m, "content"));
        if (strcmp(hn_chat_role_name(got[i].role), role) != 0 ||
            g_strcmp0(got[i].content, content) != 0)
            g_error("%s row %zu message %zu: Hone %s \"%s\", LLaMA-Factory %s \"%s\"", label, row,
                    i, hn_chat_role_name(got[i].role), got[i].content, role, content);
    }
}

static void check_text(const char *label, size_t row, const char *what, const char *got,
                       const cJSON *want)
{
    const char *w = string_or_null(want);
    if (g_strcmp0(got, w) != 0)
        g_error("%s row %zu %s: Hone %s, LLaMA-Factory %s", label, row, what,
                got ? got : "None", w ? w : "None");
}

/* Returns the number of rows compared. */
static size_t check_case(const cJSON *c)
{
    const char *dir = cJSON_GetObjectItem(c, "dir")->valuestring;
    const char *names = cJSON_GetObjectItem(c, "names")->valuestring;
    const cJSON *max = cJSON_GetObjectItem(c, "max_samples");
    hn_error err = {0};
    hn_dataset_attr *attrs = NULL;
    size_t n_attrs = 0;
    if (hn_dataset_info_resolve(dir, names, &attrs, &n_attrs, &err) != HN_OK)
        g_error("%s: %s", names, err.message);
    const cJSON *want_attrs = cJSON_GetObjectItem(c, "attrs");
    g_assert_cmpint((int)n_attrs, ==, cJSON_GetArraySize(want_attrs));
    for (size_t i = 0; i < n_attrs; i++)
        check_attr(&attrs[i], cJSON_GetArrayItem(want_attrs, (int)i));
    hn_dataset_attrs_free(attrs, n_attrs);

    hn_dataset_options options;
    hn_dataset_options_init(&options);
    if (cJSON_IsNumber(max))
        options.max_samples = max->valueint;
    hn_dataset dataset;
    if (hn_dataset_load(dir, names, &options, &dataset, &err) != HN_OK)
        g_error("%s: %s", names, err.message);
    const cJSON *rows = cJSON_GetObjectItem(c, "rows");
    g_assert_cmpint((int)dataset.n_rows, ==, cJSON_GetArraySize(rows));
    size_t n_broken = 0;
    for (size_t i = 0; i < dataset.n_rows; i++) {
        const hn_dataset_row *got = &dataset.rows[i];
        const cJSON *want = cJSON_GetArrayItem(rows, (int)i);
        check_messages(names, i, got->prompt, got->n_prompt, cJSON_GetObjectItem(want, "_prompt"));
        check_messages(names, i, got->response, got->n_response,
                       cJSON_GetObjectItem(want, "_response"));
        check_text(names, i, "_system", got->system, cJSON_GetObjectItem(want, "_system"));
        check_text(names, i, "_tools", got->tools, cJSON_GetObjectItem(want, "_tools"));
        n_broken += got->broken;
    }
    g_assert_cmpuint(n_broken, ==, dataset.n_broken);
    if (n_broken > 0)
        g_test_message("%s: %zu broken rows, first: %s", names, n_broken,
                       dataset.broken_reasons[0]);
    hn_dataset_clear(&dataset);
    return cJSON_GetArraySize(rows);
}

static void test_against_llamafactory(void)
{
    char *dir = test_make_tmpdir();
    const char *args[] = {"write", g_getenv("HONE_SOURCE_DIR"), dir, NULL};
    test_run_reference_args("dataset_ref.py", args);
    char *path = g_build_filename(dir, "expected.json", NULL);
    cJSON *expected = test_load_json(path);
    size_t n_cases = 0, n_rows = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, expected)
    {
        n_rows += check_case(c);
        n_cases++;
    }
    g_assert_cmpuint(n_cases, >=, 20);
    g_test_message("%zu cases, %zu rows equal LLaMA-Factory's", n_cases, n_rows);
    cJSON_Delete(expected);
    g_free(path);
    test_remove_tree(dir);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/reference/dataset/llamafactory", test_against_llamafactory);
    return g_test_run();
}
