/* Hone against references nobody here wrote: files written by the Python safetensors package
 * read bit-exactly (with fp32/bf16 conversions equal to numpy/ml_dtypes), files Hone writes
 * loaded by that package unchanged, and config.json read as transformers reads it. Needs the
 * venv from tests/setup-venv.sh. */
#include <cjson/cJSON.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "hf_config.h"
#include "json_read.h"
#include "safetensors.h"
#include "tensor_store.h"
#include "test_util.h"

static cJSON *load_json(const char *dir, const char *name)
{
    char *path = g_build_filename(dir, name, NULL);
    cJSON *json = NULL;
    hn_error err = {0};
    if (hn_json_load_object(path, &json, &err) != HN_OK)
        g_error("%s", err.message);
    g_free(path);
    return json;
}

static GBytes *expected_bytes(const char *dir, const char *name, const char *suffix)
{
    char *file = g_strdup_printf("%s.%s", name, suffix);
    char *path = g_build_filename(dir, "expected", file, NULL);
    GBytes *bytes = test_read_file(path);
    g_free(path);
    g_free(file);
    return bytes;
}

/* The tensor matches the manifest entry and the raw, fp32 and bf16 bytes Python wrote. */
static void check_tensor(const char *dir, const hn_st_tensor *t, const cJSON *spec)
{
    g_assert_nonnull(t);
    g_assert_cmpstr(hn_dtype_name(t->dtype), ==, cJSON_GetObjectItem(spec, "dtype")->valuestring);
    const cJSON *shape = cJSON_GetObjectItem(spec, "shape");
    g_assert_cmpint(t->ndim, ==, cJSON_GetArraySize(shape));
    for (int d = 0; d < t->ndim; d++)
        g_assert_cmpint(t->shape[d], ==, (gint64)cJSON_GetArrayItem(shape, d)->valuedouble);

    GBytes *raw = expected_bytes(dir, t->name, "raw");
    g_assert_cmpmem(t->data, t->nbytes, g_bytes_get_data(raw, NULL), g_bytes_get_size(raw));
    g_bytes_unref(raw);

    float *f32 = g_new(float, t->numel + 1);
    hn_convert_to_f32(f32, t->data, t->dtype, (size_t)t->numel);
    GBytes *want = expected_bytes(dir, t->name, "f32");
    if (g_bytes_get_size(want) != (gsize)t->numel * 4 ||
        memcmp(f32, g_bytes_get_data(want, NULL), (size_t)t->numel * 4) != 0) {
        const float *w = g_bytes_get_data(want, NULL);
        for (gint64 i = 0; i < t->numel; i++)
            if (memcmp(&f32[i], &w[i], 4) != 0)
                g_error("%s: fp32 element %" G_GINT64_FORMAT ": hone %.9g, numpy %.9g", t->name,
                        i, f32[i], w[i]);
    }
    g_bytes_unref(want);
    g_free(f32);

    guint16 *bf16 = g_new(guint16, t->numel + 1);
    hn_convert_to_bf16(bf16, t->data, t->dtype, (size_t)t->numel);
    want = expected_bytes(dir, t->name, "bf16");
    g_assert_cmpmem(bf16, (size_t)t->numel * 2, g_bytes_get_data(want, NULL), g_bytes_get_size(want));
    g_bytes_unref(want);
    g_free(bf16);
}

static void test_read_python_files(void)
{
    char *dir = test_make_tmpdir();
    test_run_reference("safetensors_ref.py", "write", dir);
    cJSON *manifest = load_json(dir, "manifest.json");

    char *path = g_build_filename(dir, "all_dtypes.safetensors", NULL);
    hn_st_file *file = NULL;
    hn_error err = {0};
    if (hn_st_open(path, &file, &err) != HN_OK)
        g_error("%s", err.message);
    const cJSON *tensors = cJSON_GetObjectItem(manifest, "tensors");
    g_assert_cmpuint(hn_st_count(file), ==, (size_t)cJSON_GetArraySize(tensors));
    const cJSON *spec;
    cJSON_ArrayForEach(spec, tensors)
        check_tensor(dir, hn_st_find(file, spec->string), spec);
    const cJSON *metadata = cJSON_GetObjectItem(manifest, "metadata");
    g_assert_cmpuint(hn_st_metadata_count(file), ==, (size_t)cJSON_GetArraySize(metadata));
    cJSON_ArrayForEach(spec, metadata)
        g_assert_cmpstr(hn_st_metadata(file, spec->string), ==, spec->valuestring);
    hn_st_close(file);
    g_free(path);

    /* The sharded folder huggingface_hub planned, through its index. */
    path = g_build_filename(dir, "sharded", NULL);
    hn_tensor_store *store = NULL;
    if (hn_tensor_store_open(path, &store, &err) != HN_OK)
        g_error("%s", err.message);
    const cJSON *sharded = cJSON_GetObjectItem(manifest, "sharded");
    g_assert_cmpuint(hn_tensor_store_count(store), ==, (size_t)cJSON_GetArraySize(sharded));
    g_assert_cmpint(hn_tensor_store_shard_count(store), >, 2);
    cJSON_ArrayForEach(spec, sharded)
        check_tensor(dir, hn_tensor_store_find(store, spec->string), spec);
    hn_tensor_store_close(store);
    g_free(path);
    cJSON_Delete(manifest);
    test_remove_tree(dir);
    g_free(dir);
}

/* Writes tensors' raw bytes to dir/expected and describes them in a manifest object. */
static cJSON *describe(const char *dir, const hn_st_tensor *tensors, size_t n)
{
    cJSON *entries = cJSON_CreateObject();
    char *expected = g_build_filename(dir, "expected", NULL);
    g_mkdir_with_parents(expected, 0755);
    for (size_t i = 0; i < n; i++) {
        const hn_st_tensor *t = &tensors[i];
        cJSON *entry = cJSON_AddObjectToObject(entries, t->name);
        cJSON_AddStringToObject(entry, "dtype", hn_dtype_name(t->dtype));
        cJSON *shape = cJSON_AddArrayToObject(entry, "shape");
        gint64 numel = 1;
        for (int d = 0; d < t->ndim; d++) {
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->shape[d]));
            numel *= t->shape[d];
        }
        char *file = g_strdup_printf("%s/%s.raw", expected, t->name);
        test_write_file(file, t->data, (size_t)numel * hn_dtype_size(t->dtype));
        g_free(file);
    }
    g_free(expected);
    return entries;
}

static void test_python_reads_hone_files(void)
{
    char *dir = test_make_tmpdir();
    enum { N = HN_DTYPE_COUNT };
    hn_st_tensor tensors[N + 1];
    char *names[N + 1];
    guint8 *data = g_new(guint8, 1 << 16);
    test_random_bytes(data, 1 << 16, 5);
    size_t offset = 0;
    for (int d = 0; d < N; d++) {
        names[d] = g_strdup_printf("model.layers.%d.%s", d, hn_dtype_name((hn_dtype)d));
        tensors[d] = (hn_st_tensor){.name = names[d], .dtype = (hn_dtype)d, .ndim = d % 4,
                                    .shape = {3, d + 1, 2}, .data = data + offset};
        offset += 64;
    }
    /* BOOL must hold 0 or 1 for numpy to read it back unchanged. */
    for (int i = 0; i < 6; i++)
        ((guint8 *)tensors[HN_DTYPE_BOOL].data)[i] &= 1;
    names[N] = g_strdup("empty");
    tensors[N] = (hn_st_tensor){.name = names[N], .dtype = HN_DTYPE_F32, .ndim = 2,
                                .shape = {0, 4}, .data = data};

    hn_st_meta meta[] = {{"format", "pt"}, {"note", "ünï \"q\"\n\\"}};
    hn_error err = {0};
    char *path = g_build_filename(dir, "hone.safetensors", NULL);
    if (hn_st_write(path, tensors, N + 1, meta, 2, &err) != HN_OK)
        g_error("%s", err.message);

    char *sharded = g_build_filename(dir, "sharded", NULL);
    g_mkdir(sharded, 0755);
    int n_shards = 0;
    if (hn_st_write_sharded(sharded, "model", tensors, N + 1, meta, 1, 100, &n_shards, &err) != HN_OK)
        g_error("%s", err.message);
    g_assert_cmpint(n_shards, >, 2);

    cJSON *manifest = cJSON_CreateObject();
    cJSON *files = cJSON_AddObjectToObject(manifest, "files");
    cJSON *file = cJSON_AddObjectToObject(files, "hone.safetensors");
    cJSON *metadata = cJSON_AddObjectToObject(file, "metadata");
    cJSON_AddStringToObject(metadata, "format", "pt");
    cJSON_AddStringToObject(metadata, "note", meta[1].value);
    cJSON_AddItemToObject(file, "tensors", describe(dir, tensors, N + 1));
    cJSON *shards = cJSON_AddObjectToObject(manifest, "sharded");
    cJSON *set = cJSON_AddObjectToObject(shards, "sharded");
    metadata = cJSON_AddObjectToObject(set, "metadata");
    cJSON_AddStringToObject(metadata, "format", "pt");
    cJSON_AddItemToObject(set, "tensors", describe(dir, tensors, N + 1));
    cJSON_AddNumberToObject(set, "n_shards", n_shards);
    cJSON_AddNumberToObject(set, "max_shard_bytes", 100);
    char *text = cJSON_Print(manifest);
    char *manifest_path = g_build_filename(dir, "hone_manifest.json", NULL);
    test_write_text(manifest_path, text);

    test_run_reference("safetensors_ref.py", "check", dir);

    cJSON_free(text);
    cJSON_Delete(manifest);
    for (int d = 0; d <= N; d++)
        g_free(names[d]);
    g_free(manifest_path);
    g_free(sharded);
    g_free(path);
    g_free(data);
    test_remove_tree(dir);
    g_free(dir);
}

static gint64 field_int(const cJSON *object, const char *key)
{
    const cJSON *item = cJSON_GetObjectItem(object, key);
    if (!cJSON_IsNumber(item))
        g_error("expected.json: %s is not a number", key);
    return (gint64)item->valuedouble;
}

static double field_double(const cJSON *object, const char *key, double fallback)
{
    const cJSON *item = cJSON_GetObjectItem(object, key);
    return cJSON_IsNumber(item) ? item->valuedouble : fallback;
}

static void check_config(const char *name, const hn_model_config *c, const cJSON *want)
{
    g_test_message("config %s", name);
    g_assert_cmpstr(c->model_type, ==, cJSON_GetObjectItem(want, "model_type")->valuestring);
    g_assert_cmpint(c->vocab_size, ==, field_int(want, "vocab_size"));
    g_assert_cmpint(c->hidden_size, ==, field_int(want, "hidden_size"));
    g_assert_cmpint(c->intermediate_size, ==, field_int(want, "intermediate_size"));
    g_assert_cmpint(c->num_hidden_layers, ==, field_int(want, "num_hidden_layers"));
    g_assert_cmpint(c->num_attention_heads, ==, field_int(want, "num_attention_heads"));
    g_assert_cmpint(c->num_key_value_heads, ==, field_int(want, "num_key_value_heads"));
    g_assert_cmpint(c->head_dim, ==, field_int(want, "head_dim"));
    g_assert_cmpint(c->max_position_embeddings, ==, field_int(want, "max_position_embeddings"));
    g_assert_cmpfloat(c->rms_norm_eps, ==, field_double(want, "rms_norm_eps", NAN));
    g_assert_cmpint(c->tie_word_embeddings, ==, cJSON_IsTrue(cJSON_GetObjectItem(want, "tie_word_embeddings")));
    g_assert_cmpint(c->attention_bias, ==, cJSON_IsTrue(cJSON_GetObjectItem(want, "attention_bias")));
    g_assert_cmpint(c->use_sliding_window ? c->sliding_window : 0, ==, field_int(want, "sliding_window"));
    const char *dtype = cJSON_GetObjectItem(want, "torch_dtype")->valuestring;
    g_assert_cmpint(c->torch_dtype, ==, strcmp(dtype, "bfloat16") == 0 ? HN_DTYPE_BF16
                                        : strcmp(dtype, "float16") == 0 ? HN_DTYPE_F16
                                                                         : HN_DTYPE_F32);
    g_assert_cmpint(c->bos_token_id, ==, field_int(want, "bos_token_id"));
    g_assert_cmpint(c->pad_token_id, ==, field_int(want, "pad_token_id"));
    const cJSON *eos = cJSON_GetObjectItem(want, "eos_token_ids");
    g_assert_cmpint(c->n_eos, ==, cJSON_GetArraySize(eos));
    for (int i = 0; i < c->n_eos; i++)
        g_assert_cmpint(c->eos_token_ids[i], ==, (gint64)cJSON_GetArrayItem(eos, i)->valuedouble);

    const cJSON *rope = cJSON_GetObjectItem(want, "rope");
    g_assert_cmpstr(hn_rope_type_name(c->rope.type), ==, cJSON_GetObjectItem(rope, "rope_type")->valuestring);
    g_assert_cmpfloat(c->rope.theta, ==, field_double(rope, "rope_theta", NAN));
    g_assert_cmpfloat(c->rope.factor, ==, field_double(rope, "factor", 1.0));
    g_assert_cmpint(c->rope.original_max_position_embeddings, ==,
                    (gint64)field_double(rope, "original_max_position_embeddings", 0));
    g_assert_cmpfloat(c->rope.low_freq_factor, ==, field_double(rope, "low_freq_factor", 0));
    g_assert_cmpfloat(c->rope.high_freq_factor, ==, field_double(rope, "high_freq_factor", 0));
    if (c->rope.type == HN_ROPE_YARN) {
        g_assert_cmpfloat(c->rope.beta_fast, ==, field_double(rope, "beta_fast", 32.0));
        g_assert_cmpfloat(c->rope.beta_slow, ==, field_double(rope, "beta_slow", 1.0));
    }
}

static void test_configs_as_transformers_reads_them(void)
{
    char *dir = test_make_tmpdir();
    test_run_reference("config_ref.py", "write", dir);
    cJSON *expected = load_json(dir, "expected.json");
    g_assert_cmpint(cJSON_GetArraySize(expected), >=, 15);
    const cJSON *want;
    cJSON_ArrayForEach(want, expected)
    {
        char *path = g_build_filename(dir, want->string, "config.json", NULL);
        hn_model_config config;
        hn_error err = {0};
        if (hn_model_config_load(path, &config, &err) != HN_OK)
            g_error("%s", err.message);
        check_config(want->string, &config, want);
        g_free(path);
    }
    cJSON_Delete(expected);
    test_remove_tree(dir);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/reference/safetensors/read-python-files", test_read_python_files);
    g_test_add_func("/reference/safetensors/python-reads-hone-files", test_python_reads_hone_files);
    g_test_add_func("/reference/config/transformers", test_configs_as_transformers_reads_them);
    return g_test_run();
}
