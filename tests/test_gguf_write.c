/* The GGUF writer (engine/gguf_write.h) read back by Hone's validating reader (engine/gguf.h):
 * every kind of metadata value, a value copied from one file into another, tensors of
 * several types with their data aligned, and a fill error leaving no file behind. gguf-py's
 * reading of exported files is checked in test_export.c. */
#include <string.h>

#include "gguf.h"
#include "gguf_write.h"
#include "test_util.h"

/* Tensor i: bytes i * 7 + k (k counting from 0) over its size. */
static hn_status fill_pattern(void *user, size_t index, void *dst, hn_error *err)
{
    const uint64_t *sizes = user;
    for (uint64_t k = 0; k < sizes[index]; k++)
        ((uint8_t *)dst)[k] = (uint8_t)(index * 7 + k);
    return HN_OK;
}

static hn_status fill_fails(void *user, size_t index, void *dst, hn_error *err)
{
    return hn_fail(err, HN_ERR_IO, "no data for tensor %zu", index);
}

static void test_round_trip(void)
{
    char *dir = test_make_tmpdir();
    char *path = g_build_filename(dir, "a.gguf", NULL);
    hn_gguf_writer *w = hn_gguf_writer_new();
    hn_gguf_add_string(w, "general.architecture", "llama");
    hn_gguf_add_u32(w, "llama.block_count", 3);
    hn_gguf_add_i32(w, "test.negative", -12345);
    hn_gguf_add_f32(w, "llama.rope.freq_base", 10000.5f);
    hn_gguf_add_bool(w, "test.flag", true);
    const char *const tokens[] = {"<s>", "h\xc3\xa9", ""};
    hn_gguf_add_strings(w, "tokenizer.ggml.tokens", tokens, 3);
    g_assert_true(hn_gguf_writer_has(w, "test.flag"));
    g_assert_false(hn_gguf_writer_has(w, "test.other"));
    /* an F32 [5, 3] tensor (ggml dims 3, 5), F16 [7], Q8_0 [2, 64] */
    int64_t d0[2] = {3, 5}, d1[1] = {7}, d2[2] = {64, 2};
    hn_gguf_add_tensor(w, "a.weight", HN_GGML_F32, 2, d0);
    hn_gguf_add_tensor(w, "b.weight", HN_GGML_F16, 1, d1);
    hn_gguf_add_tensor(w, "c.weight", HN_GGML_Q8_0, 2, d2);
    uint64_t sizes[3] = {15 * 4, 7 * 2, 2 * 2 * 34};
    hn_error err = {0};
    g_assert_cmpint(hn_gguf_writer_write(w, path, fill_pattern, sizes, &err), ==, HN_OK);
    hn_gguf_writer_free(w);

    hn_gguf_file *f = NULL;
    if (hn_gguf_open(path, &f, &err) != HN_OK)
        g_error("%s", err.message);
    g_assert_cmpuint(hn_gguf_version(f), ==, 3);
    g_assert_cmpuint(hn_gguf_kv_count(f), ==, 6);
    const char *arch = NULL;
    int64_t blocks = 0, negative = 0;
    double base = 0;
    bool flag = false;
    g_assert_cmpint(hn_gguf_get_string(f, "general.architecture", HN_REQUIRED, &arch, &err), ==,
                    HN_OK);
    g_assert_cmpstr(arch, ==, "llama");
    g_assert_cmpint(hn_gguf_kv_find(f, "llama.block_count")->value.type, ==, HN_GGUF_UINT32);
    g_assert_cmpint(hn_gguf_get_int(f, "llama.block_count", HN_REQUIRED, 0, 10, &blocks, &err),
                    ==, HN_OK);
    g_assert_cmpint(blocks, ==, 3);
    g_assert_cmpint(hn_gguf_get_int(f, "test.negative", HN_REQUIRED, -100000, 0, &negative,
                                    &err), ==, HN_OK);
    g_assert_cmpint(negative, ==, -12345);
    g_assert_cmpint(hn_gguf_get_double(f, "llama.rope.freq_base", HN_REQUIRED, &base, &err), ==,
                    HN_OK);
    g_assert_cmpfloat(base, ==, 10000.5);
    g_assert_cmpint(hn_gguf_get_bool(f, "test.flag", HN_REQUIRED, &flag, &err), ==, HN_OK);
    g_assert_true(flag);
    const hn_gguf_value *list = NULL;
    g_assert_cmpint(hn_gguf_get_array(f, "tokenizer.ggml.tokens", HN_REQUIRED, HN_GGUF_STRING,
                                      &list, &err), ==, HN_OK);
    g_assert_cmpuint(list->array.count, ==, 3);
    g_assert_cmpuint(list->array.strings[1].length, ==, 3);
    g_assert_cmpmem(list->array.strings[1].data, 3, "h\xc3\xa9", 3);
    g_assert_cmpuint(list->array.strings[2].length, ==, 0);

    g_assert_cmpuint(hn_gguf_tensor_count(f), ==, 3);
    const char *names[] = {"a.weight", "b.weight", "c.weight"};
    const uint32_t types[] = {HN_GGML_F32, HN_GGML_F16, HN_GGML_Q8_0};
    for (size_t i = 0; i < 3; i++) {
        const hn_gguf_tensor *t = hn_gguf_tensor_get(f, i);
        g_assert_cmpstr(t->name, ==, names[i]);
        g_assert_cmpuint(t->type, ==, types[i]);
        g_assert_cmpuint(t->nbytes, ==, sizes[i]);
        g_assert_cmpuint((hn_gguf_data_offset(f) + t->offset) % 32, ==, 0);
        for (uint64_t k = 0; k < sizes[i]; k++)
            g_assert_cmpuint(((const uint8_t *)t->data)[k], ==, (uint8_t)(i * 7 + k));
    }
    g_assert_cmpint(hn_gguf_tensor_get(f, 0)->dims[0], ==, 3);
    g_assert_cmpint(hn_gguf_tensor_get(f, 0)->dims[1], ==, 5);

    /* every value copied into a second file reads back the same */
    char *copy_path = g_build_filename(dir, "b.gguf", NULL);
    w = hn_gguf_writer_new();
    for (size_t i = 0; i < hn_gguf_kv_count(f); i++)
        hn_gguf_add_value(w, hn_gguf_kv_get(f, i)->key, &hn_gguf_kv_get(f, i)->value);
    g_assert_cmpint(hn_gguf_writer_write(w, copy_path, fill_pattern, sizes, &err), ==, HN_OK);
    hn_gguf_writer_free(w);
    GBytes *a = test_read_file(path), *b = test_read_file(copy_path);
    /* the same metadata and no tensors: the copy is the original's header up to its tensors */
    hn_gguf_file *g = NULL;
    g_assert_cmpint(hn_gguf_open(copy_path, &g, &err), ==, HN_OK);
    g_assert_cmpuint(hn_gguf_kv_count(g), ==, 6);
    for (size_t i = 0; i < 6; i++) {
        const hn_gguf_kv *x = hn_gguf_kv_get(f, i), *y = hn_gguf_kv_get(g, i);
        g_assert_cmpstr(x->key, ==, y->key);
        g_assert_cmpint(x->value.type, ==, y->value.type);
    }
    /* from kv_count (offset 16, after the tensor count) to the end of the metadata: byte for
     * byte the same */
    uint64_t meta_end = hn_gguf_tensor_get(f, 0)->info_offset;
    g_assert_cmpuint(g_bytes_get_size(b), >=, meta_end);
    g_assert_cmpmem((const uint8_t *)g_bytes_get_data(a, NULL) + 16, meta_end - 16,
                    (const uint8_t *)g_bytes_get_data(b, NULL) + 16, meta_end - 16);
    hn_gguf_close(g);
    g_bytes_unref(a);
    g_bytes_unref(b);
    hn_gguf_close(f);

    /* a fill error: the error comes back and no file is left */
    char *failed = g_build_filename(dir, "c.gguf", NULL);
    w = hn_gguf_writer_new();
    hn_gguf_add_tensor(w, "a.weight", HN_GGML_F32, 2, d0);
    g_assert_cmpint(hn_gguf_writer_write(w, failed, fill_fails, NULL, &err), ==, HN_ERR_IO);
    test_assert_contains(err.message, "no data for tensor 0");
    g_assert_false(g_file_test(failed, G_FILE_TEST_EXISTS));
    hn_gguf_writer_free(w);

    test_remove_tree(dir);
    g_free(failed);
    g_free(copy_path);
    g_free(path);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/gguf_write/round_trip", test_round_trip);
    return g_test_run();
}
