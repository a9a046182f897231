/* Tokenizers against Hugging Face `tokenizers`: real tokenizers (SmolLM2, Gemma 3, Llama 3,
 * Qwen) and variants that use the remaining components, on a generated corpus of 5,000+
 * strings: the same ids (with and without special tokens), the same decoded text, and a
 * streaming decode that adds up to the same text. Plus bad tokenizer files and bad text. */
#include <cjson/cJSON.h>
#include <string.h>

#include "gguf.h"
#include "gguf_tokenizer.h"
#include "json_read.h"
#include "tokenizer.h"
#include "test_util.h"

static char *reference_dir; /* made once by tokenizer_ref.py */

static cJSON *load_json(const char *dir, const char *a, const char *b)
{
    char *path = g_build_filename(dir, a, b, NULL);
    cJSON *json = test_load_json(path);
    g_free(path);
    return json;
}

static bool same_ids(const int32_t *ids, size_t n, const cJSON *want)
{
    if ((int)n != cJSON_GetArraySize(want))
        return false;
    size_t i = 0;
    const cJSON *id;
    cJSON_ArrayForEach(id, want)
        if (ids[i++] != (int32_t)id->valuedouble)
            return false;
    return true;
}

static void report(int *mismatches, const char *what, const char *name, int index,
                   const char *text, const char *detail)
{
    if ((*mismatches)++ < 5)
        g_printerr("%s: %s: string %d %s: %s\n", name, what, index, text, detail);
}

/* A reference tokenizer: "NAME" is NAME/tokenizer.json; "gguf:NAME:FILE" is Hone's own
 * tokenizer built from that GGUF file, checked against the NAME reference transformers
 * converted from the same file. */
static hn_tokenizer *load_tokenizer(const char *spec, char **name_out)
{
    hn_tokenizer *tok = NULL;
    hn_error err = {0};
    hn_status status;
    if (g_str_has_prefix(spec, "gguf:")) {
        char **parts = g_strsplit(spec, ":", 3);
        char *path = test_model_file(parts[2]);
        hn_gguf_file *gguf = NULL;
        status = hn_gguf_open(path, &gguf, &err);
        if (status == HN_OK)
            status = hn_tokenizer_from_gguf(gguf, &tok, &err);
        hn_gguf_close(gguf);
        *name_out = g_strdup(parts[1]);
        g_free(path);
        g_strfreev(parts);
    } else {
        char *dir = g_build_filename(reference_dir, spec, NULL);
        status = hn_tokenizer_load(dir, &tok, &err);
        *name_out = g_strdup(spec);
        g_free(dir);
    }
    if (status != HN_OK)
        g_error("%s", err.message);
    return tok;
}

static void test_against_reference(gconstpointer data)
{
    char *name = NULL;
    hn_tokenizer *tok = load_tokenizer(data, &name);
    char *dir = g_build_filename(reference_dir, name, NULL);
    hn_error err = {0};
    cJSON *corpus = load_json(reference_dir, "corpus.json", NULL);
    cJSON *expected = load_json(dir, "expected.json", NULL);
    const cJSON *with_special = cJSON_GetObjectItem(expected, "ids");
    const cJSON *plain = cJSON_GetObjectItem(expected, "plain");
    const cJSON *decoded = cJSON_GetObjectItem(expected, "decoded");
    const cJSON *decoded_skip = cJSON_GetObjectItem(expected, "decoded_skip");
    int n = cJSON_GetArraySize(corpus), mismatches = 0;
    g_assert_cmpint(n, >=, 5000);
    for (int i = 0; i < n; i++) {
        const char *text = cJSON_GetArrayItem(corpus, i)->valuestring;
        int32_t *ids = NULL;
        size_t n_ids = 0;
        if (hn_tokenizer_encode(tok, text, strlen(text), true, &ids, &n_ids, &err) != HN_OK)
            g_error("%s", err.message);
        if (!same_ids(ids, n_ids, cJSON_GetArrayItem(with_special, i)))
            report(&mismatches, "ids with special tokens", name, i, text, "differ");
        g_free(ids);
        hn_tokenizer_encode(tok, text, strlen(text), false, &ids, &n_ids, &err);
        const cJSON *want = cJSON_GetArrayItem(plain, i);
        if (!same_ids(ids, n_ids, want)) {
            char *got = g_strdup_printf("%zu ids, want %d", n_ids, cJSON_GetArraySize(want));
            report(&mismatches, "ids", name, i, text, got);
            g_free(got);
        }
        g_free(ids);

        /* Decoding the reference ids. */
        int32_t *ref = g_new(int32_t, cJSON_GetArraySize(want) + 1);
        int k = 0;
        const cJSON *id;
        cJSON_ArrayForEach(id, want)
            ref[k++] = (int32_t)id->valuedouble;
        char *text_out = NULL;
        g_assert_cmpint(hn_tokenizer_decode(tok, ref, (size_t)k, false, &text_out, &err), ==, HN_OK);
        if (strcmp(text_out, cJSON_GetArrayItem(decoded, i)->valuestring) != 0)
            report(&mismatches, "decode", name, i, text, text_out);
        g_free(text_out);
        g_assert_cmpint(hn_tokenizer_decode(tok, ref, (size_t)k, true, &text_out, &err), ==, HN_OK);
        if (strcmp(text_out, cJSON_GetArrayItem(decoded_skip, i)->valuestring) != 0)
            report(&mismatches, "decode skip_special_tokens", name, i, text, text_out);
        g_free(text_out);

        /* Streaming adds up to the same text and never emits a broken character. */
        if (i % 7 == 0) {
            hn_token_stream *stream = hn_token_stream_new(tok, false);
            GString *streamed = g_string_new(NULL);
            for (int j = 0; j < k; j++) {
                char *piece = hn_token_stream_push(stream, ref[j], &err);
                g_assert_true(g_utf8_validate(piece, -1, NULL));
                g_string_append(streamed, piece);
                g_free(piece);
            }
            char *rest = hn_token_stream_finish(stream);
            g_string_append(streamed, rest);
            if (strcmp(streamed->str, cJSON_GetArrayItem(decoded, i)->valuestring) != 0)
                report(&mismatches, "streaming decode", name, i, text, streamed->str);
            g_free(rest);
            g_string_free(streamed, TRUE);
            hn_token_stream_free(stream);
        }
        g_free(ref);
    }
    if (mismatches > 0)
        g_error("%s: %d mismatches with HF tokenizers over %d strings", name, mismatches, n);
    g_test_message("%s: %d strings equal to HF tokenizers", name, n);
    cJSON_Delete(corpus);
    cJSON_Delete(expected);
    hn_tokenizer_free(tok);
    g_free(dir);
    g_free(name);
}

/* Bytes that are not UTF-8 are refused with the byte named. */
static void test_invalid_utf8(void)
{
    char *dir = g_build_filename(reference_dir, "smollm2", NULL);
    hn_tokenizer *tok = NULL;
    hn_error err = {0};
    g_assert_cmpint(hn_tokenizer_load(dir, &tok, &err), ==, HN_OK);
    cJSON *invalid = load_json(reference_dir, "invalid.json", NULL);
    const cJSON *item;
    cJSON_ArrayForEach(item, invalid)
    {
        gsize length = 0;
        guchar *bytes = g_base64_decode(item->valuestring, &length);
        int32_t *ids = NULL;
        size_t n = 0;
        g_assert_cmpint(hn_tokenizer_encode(tok, (const char *)bytes, length, true, &ids, &n, &err),
                        ==, HN_ERR_ARGUMENT);
        test_assert_contains(err.message, "the text is not valid UTF-8 at byte");
        g_free(bytes);
    }
    cJSON_Delete(invalid);
    hn_tokenizer_free(tok);
    g_free(dir);
}

static void expect_bad(const char *json, hn_status status, const char *expect)
{
    hn_tokenizer *tok = NULL;
    hn_error err = {0};
    g_assert_cmpint(hn_tokenizer_parse(json, strlen(json), "tokenizer.json", &tok, &err), ==, status);
    g_assert_null(tok);
    test_assert_contains(err.message, "tokenizer.json");
    test_assert_contains(err.message, expect);
}

#define VOCAB "\"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2}"

static void test_bad_files(void)
{
    expect_bad("{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}", HN_ERR_UNSUPPORTED,
               "model type \"Unigram\" is not supported (Hone supports BPE)");
    expect_bad("{\"model\": {\"type\": \"BPE\", " VOCAB ", \"merges\": [\"a b\"]},"
               " \"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"}}",
               HN_ERR_UNSUPPORTED, "pre_tokenizer type \"BertPreTokenizer\" is not supported");
    expect_bad("{\"model\": {\"type\": \"BPE\", " VOCAB ", \"merges\": [\"a b\"]},"
               " \"normalizer\": {\"type\": \"Precompiled\"}}",
               HN_ERR_UNSUPPORTED, "normalizer type \"Precompiled\" is not supported");
    expect_bad("{\"model\": {\"type\": \"BPE\", " VOCAB ", \"merges\": [\"a b\"]},"
               " \"decoder\": {\"type\": \"WordPiece\"}}",
               HN_ERR_UNSUPPORTED, "decoder type \"WordPiece\" is not supported");
    expect_bad("{\"model\": {\"type\": \"BPE\", " VOCAB ", \"merges\": [\"a b\", \"b c\"]}}",
               HN_ERR_FORMAT, "model.merges[1]: the merge \"b\" + \"c\" needs token \"c\", which is not in the vocabulary");
    expect_bad("{\"model\": {\"type\": \"BPE\", " VOCAB ", \"merges\": [[\"b\", \"a\"]]}}",
               HN_ERR_FORMAT, "needs token \"ba\"");
    expect_bad("{\"model\": {\"type\": \"BPE\", " VOCAB ", \"merges\": [\"ab\"]}}",
               HN_ERR_FORMAT, "model.merges[0]: expected \"left right\"");
    expect_bad("{\"model\": {\"type\": \"BPE\", " VOCAB ", \"merges\": []},"
               " \"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"(\"}, "
               "\"behavior\": \"Isolated\"}}",
               HN_ERR_UNSUPPORTED, "cannot compile regex");
    expect_bad("{\"model\": ", HN_ERR_FORMAT, "not valid JSON");
    /* Found by the fuzzer: an empty Metaspace replacement looped forever in decoding, a huge
     * post-processor id overflowed, and one huge id once asked for a 5.8 GB id table. */
    expect_bad("{\"model\": {\"type\": \"BPE\", " VOCAB ", \"merges\": []},"
               " \"decoder\": {\"type\": \"Metaspace\", \"replacement\": \"\"}}",
               HN_ERR_FORMAT, "decoder Metaspace: expected one character for replacement");
    expect_bad("{\"model\": {\"type\": \"BPE\", " VOCAB ", \"merges\": []},"
               " \"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\":"
               " {\"id\": \"<s>\"}}], \"special_tokens\": {\"<s>\": {\"ids\": [1e300]}}}}",
               HN_ERR_FORMAT, "post_processor: expected non-negative integer token ids for <s>");
    expect_bad("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 732416859}, "
               "\"merges\": []}}",
               HN_ERR_FORMAT, "model.vocab: expected ids that number the vocabulary densely");
}

/* A chain of Replace steps, each doubling every "a": as normalizer or decoder. */
static char *doubling_chain(const char *field, const char *list_key, int steps)
{
    GString *json = g_string_new("{\"model\": {\"type\": \"BPE\", " VOCAB ", \"merges\": []}, \"");
    g_string_append_printf(json, "%s\": {\"type\": \"Sequence\", \"%s\": [", field, list_key);
    for (int i = 0; i < steps; i++)
        g_string_append_printf(json, "%s{\"type\": \"Replace\", \"pattern\": {\"String\": \"a\"}, "
                               "\"content\": \"aa\"}", i > 0 ? ", " : "");
    g_string_append(json, "]}}");
    return g_string_free(json, FALSE);
}

/* Found by the fuzzer: Replace steps chained in a Sequence grew a short text exponentially
 * until memory ran out. Past a fixed growth the text is refused; short chains still work. */
static void test_runaway_growth(void)
{
    hn_tokenizer *tok = NULL;
    hn_error err = {0};
    int32_t *ids = NULL;
    size_t n = 0;
    char *json = doubling_chain("normalizer", "normalizers", 40);
    g_assert_cmpint(hn_tokenizer_parse(json, strlen(json), "tokenizer.json", &tok, &err), ==, HN_OK);
    g_assert_cmpint(hn_tokenizer_encode(tok, "ab", 2, false, &ids, &n, &err), ==, HN_ERR_UNSUPPORTED);
    test_assert_contains(err.message, "tokenizer.json: the normalizer turns 2 bytes into more than 4224");
    hn_tokenizer_free(tok);
    g_free(json);

    json = doubling_chain("normalizer", "normalizers", 2); /* "ab" -> "aaaab" */
    g_assert_cmpint(hn_tokenizer_parse(json, strlen(json), "tokenizer.json", &tok, &err), ==, HN_OK);
    g_assert_cmpint(hn_tokenizer_encode(tok, "ab", 2, false, &ids, &n, &err), ==, HN_OK);
    g_assert_cmpuint(n, ==, 5);
    g_free(ids);
    hn_tokenizer_free(tok);
    g_free(json);

    /* An added token matched on normalized text is normalized when the file loads. */
    json = doubling_chain("normalizer", "normalizers", 40);
    GString *with_added = g_string_new_len(json, (gssize)strlen(json) - 1);
    g_string_append(with_added, ", \"added_tokens\": [{\"id\": 0, \"content\": \"a\", "
                                "\"normalized\": true}]}");
    expect_bad(with_added->str, HN_ERR_UNSUPPORTED, "normalizer: it grows the added token \"a\" more than 64x");
    g_string_free(with_added, TRUE);
    g_free(json);

    json = doubling_chain("decoder", "decoders", 40);
    g_assert_cmpint(hn_tokenizer_parse(json, strlen(json), "tokenizer.json", &tok, &err), ==, HN_OK);
    char *text = NULL;
    const int32_t a = 0;
    g_assert_cmpint(hn_tokenizer_decode(tok, &a, 1, false, &text, &err), ==, HN_ERR_UNSUPPORTED);
    test_assert_contains(err.message, "the decoder's Replace steps grow a token beyond 65536 bytes");
    g_assert_null(text);
    hn_tokenizer_free(tok);
    g_free(json);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/tokenizer/bad-files", test_bad_files);
    g_test_add_func("/engine/tokenizer/runaway-growth", test_runaway_growth);
    if (g_test_subprocess())
        return g_test_run();
    reference_dir = test_write_reference("tokenizer_ref.py");
    cJSON *names = load_json(reference_dir, "names.json", NULL);
    const cJSON *name;
    cJSON_ArrayForEach(name, names)
    {
        char *path = g_strdup_printf("/reference/tokenizer/%s", name->valuestring);
        g_test_add_data_func(path, g_strdup(name->valuestring), test_against_reference);
        g_free(path);
    }
    g_test_add_data_func("/reference/tokenizer/gguf-smollm2",
                         "gguf:smollm2:SmolLM2-135M-Instruct.Q4_1.gguf", test_against_reference);
    g_test_add_data_func("/reference/tokenizer/gguf-gemma3", "gguf:gemma3:gemma-3-270m-q4_k_m.gguf",
                         test_against_reference);
    g_test_add_func("/reference/tokenizer/invalid-utf8", test_invalid_utf8);
    int status = g_test_run();
    cJSON_Delete(names);
    test_remove_tree(reference_dir);
    return status;
}
