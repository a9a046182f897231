/* py_json: Python's json.dumps(indent=2) and repr(float), checked against what CPython 3.11
 * prints for the same values (the expected strings below come from it). */
#include <math.h>
#include <string.h>

#include "py_json.h"
#include "test_util.h"

static void test_float_repr(void)
{
    const struct {
        double x;
        const char *python;
    } cases[] = {
        {0.1, "0.1"},
        {1e-05, "1e-05"},
        {123456789012345680.0, "1.2345678901234568e+17"},
        {1e16, "1e+16"},
        {1234567890123456.0, "1234567890123456.0"},
        {0.0001, "0.0001"},
        {0.00001234, "1.234e-05"},
        {5e-324, "5e-324"},
        {1.7976931348623157e308, "1.7976931348623157e+308"},
        {100.0, "100.0"},
        {-2.5, "-2.5"},
        {0.05, "0.05"},
        {1.0 / 3.0, "0.3333333333333333"},
        {0.0, "0.0"},
        {-0.0, "-0.0"},
        {INFINITY, "Infinity"},
        {NAN, "NaN"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *got = hn_py_float_repr(cases[i].x);
        g_assert_cmpstr(got, ==, cases[i].python);
        g_free(got);
    }
}

static void test_dumps(void)
{
    cJSON *root = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(root, "a");
    cJSON_AddItemToArray(a, cJSON_CreateRaw("1"));
    cJSON_AddItemToArray(a, cJSON_CreateObject());
    cJSON_AddArrayToObject(root, "b");
    cJSON *c = cJSON_AddObjectToObject(root, "c");
    cJSON_AddStringToObject(c, "d", "\xe6\xa8\xa1\"\\\n\x01\xf0\x9f\x98\x80\x7f");
    cJSON_AddNullToObject(root, "e");
    cJSON_AddTrueToObject(root, "f");
    char *got = hn_py_json_dumps(root);
    /* python3 -c 'import json; print(json.dumps({"a": [1, {}], "b": [], "c": {"d":
       "\u6a21\"\\\n\x01\U0001F600\x7f"}, "e": None, "f": True}, indent=2))' */
    g_assert_cmpstr(got, ==,
                    "{\n"
                    "  \"a\": [\n"
                    "    1,\n"
                    "    {}\n"
                    "  ],\n"
                    "  \"b\": [],\n"
                    "  \"c\": {\n"
                    "    \"d\": \"\\u6a21\\\"\\\\\\n\\u0001\\ud83d\\ude00\\u007f\"\n"
                    "  },\n"
                    "  \"e\": null,\n"
                    "  \"f\": true\n"
                    "}");
    g_free(got);
    cJSON_Delete(root);
}

/* json.dumps(obj, ensure_ascii=False) of a parsed document, as Python 3 prints it. */
static void test_dumps_line(void)
{
    cJSON *doc = cJSON_Parse("{\"a\": [1, 2.5, \"\u00e9\\n\\u007f\\u0001\", true, null, 1e300],"
                             " \"b\": {}, \"c\": []}");
    g_assert_nonnull(doc);
    char *text = hn_py_json_dumps_line(doc);
    g_assert_cmpstr(text, ==, "{\"a\": [1, 2.5, \"\u00e9\\n\x7f\\u0001\", true, null, 1e+300], "
                              "\"b\": {}, \"c\": []}");
    g_free(text);
    cJSON_Delete(doc);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/py_json/float-repr", test_float_repr);
    g_test_add_func("/engine/py_json/dumps", test_dumps);
    g_test_add_func("/engine/py_json/dumps-line", test_dumps_line);
    return g_test_run();
}
