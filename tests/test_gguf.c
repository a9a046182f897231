/* GGUF: files written by the gguf Python package and the two fetched real models read exactly
 * as gguf reads them (metadata of every type, tensors dequantized bit for bit as
 * gguf.quants.dequantize), typed getters, bad files each refused with one clear message, and
 * Llama, Qwen2 and Qwen3 GGUF files opened as models exactly as transformers' GGUF loader sees
 * them (config, names, every weight's fp32 bits), with each way a file can fail to be such a
 * model refused clearly. The reference tests need the venv from tests/setup-venv.sh and
 * tools/fetch-models.sh. */
#include <cjson/cJSON.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "gguf_model.h"
#include "model_dir.h"
#include "test_util.h"

/* ---- Comparing with what gguf's GGUFReader saw (tests/reference/gguf_ref.py) ------------- */

static cJSON *load_json(const char *path)
{
    cJSON *json = NULL;
    hn_error err = {0};
    if (hn_json_load_object(path, &json, &err) != HN_OK)
        g_error("%s", err.message);
    return json;
}

static const char *json_string(const cJSON *object, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    if (!cJSON_IsString(item))
        g_error("expected.json: \"%s\" is not a string", key);
    return item->valuestring;
}

static gint64 json_int(const cJSON *object, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    if (!cJSON_IsNumber(item))
        g_error("expected.json: \"%s\" is not a number", key);
    return (gint64)item->valuedouble;
}

/* hex -> bytes; returns the length. */
static gsize unhex(const char *hex, guint8 **out)
{
    gsize n = strlen(hex) / 2;
    *out = g_malloc(n + 1);
    for (gsize i = 0; i < n; i++)
        (*out)[i] = (guint8)(g_ascii_xdigit_value(hex[2 * i]) * 16 + g_ascii_xdigit_value(hex[2 * i + 1]));
    return n;
}

/* A scalar or string value against its bare encoding (see gguf_ref.py). */
static void check_scalar(const char *where, const hn_gguf_value *v, const cJSON *want)
{
    switch (v->type) {
    case HN_GGUF_STRING: {
        guint8 *bytes;
        gsize n = unhex(want->valuestring, &bytes);
        if (v->string.bytes.length != n || memcmp(v->string.bytes.data, bytes, n) != 0)
            g_error("%s: string \"%.*s\", gguf read \"%.*s\"", where, (int)v->string.bytes.length,
                    v->string.bytes.data, (int)n, bytes);
        if (v->string.text != NULL && memchr(bytes, 0, n) == NULL)
            g_assert_cmpmem(v->string.text, strlen(v->string.text), bytes, n);
        g_free(bytes);
        break;
    }
    case HN_GGUF_BOOL:
        if (!cJSON_IsBool(want) || (v->u != 0) != cJSON_IsTrue(want))
            g_error("%s: BOOL %" PRIu64 " differs from gguf's", where, v->u);
        break;
    case HN_GGUF_FLOAT32:
    case HN_GGUF_FLOAT64: {
        double expected = g_ascii_strtod(want->valuestring, NULL);
        if (isnan(expected) ? !isnan(v->f) : memcmp(&expected, &v->f, sizeof expected) != 0)
            g_error("%s: %s %.17g, gguf read %s", where, hn_gguf_type_name(v->type), v->f,
                    want->valuestring);
        break;
    }
    case HN_GGUF_INT8: case HN_GGUF_INT16: case HN_GGUF_INT32: case HN_GGUF_INT64:
        if (v->i != g_ascii_strtoll(want->valuestring, NULL, 10))
            g_error("%s: %" PRId64 ", gguf read %s", where, v->i, want->valuestring);
        break;
    default:
        if (v->u != g_ascii_strtoull(want->valuestring, NULL, 10))
            g_error("%s: %" PRIu64 ", gguf read %s", where, v->u, want->valuestring);
        break;
    }
}

static void check_value(const char *where, const hn_gguf_value *v, const cJSON *want)
{
    const char *type = json_string(want, "type");
    if (strcmp(hn_gguf_type_name(v->type), type) != 0)
        g_error("%s: type %s, gguf read %s", where, hn_gguf_type_name(v->type), type);
    if (v->type != HN_GGUF_ARRAY) {
        check_scalar(where, v, cJSON_GetObjectItemCaseSensitive(want, "value"));
        return;
    }
    g_assert_cmpstr(hn_gguf_type_name(v->array.type), ==, json_string(want, "element"));
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(want, "items");
    if (v->array.count != (guint64)cJSON_GetArraySize(items))
        g_error("%s: %" PRIu64 " elements, gguf read %d", where, v->array.count,
                cJSON_GetArraySize(items));
    guint64 i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, items)
    {
        hn_gguf_value element;
        hn_gguf_array_get(v, i, &element);
        g_assert_cmpint(element.type, ==, v->array.type);
        char *inner = g_strdup_printf("%s[%" PRIu64 "]", where, i);
        if (element.type == HN_GGUF_ARRAY)
            check_value(inner, &element, item);
        else
            check_scalar(inner, &element, item);
        g_free(inner);
        i++;
    }
}

static void check_metadata(const hn_gguf_file *file, const cJSON *metadata)
{
    g_assert_cmpuint(hn_gguf_kv_count(file), ==, (gsize)cJSON_GetArraySize(metadata));
    gsize i = 0;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, metadata)
    {
        const hn_gguf_kv *kv = hn_gguf_kv_get(file, i++);
        g_assert_cmpstr(kv->key, ==, json_string(entry, "key"));
        g_assert_true(hn_gguf_kv_find(file, kv->key) == kv);
        check_value(kv->key, &kv->value, cJSON_GetObjectItemCaseSensitive(entry, "value"));
    }
}

static char *sha256(const void *data, gsize size)
{
    return g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, size);
}

/* The fp32 values Hone computed against the reference's (gguf or transformers): the hash, and
 * where a full copy exists, the first differing element. */
static void check_f32(const hn_gguf_tensor *t, const float *values, const cJSON *want,
                      const char *f32_path)
{
    gsize size = (gsize)t->numel * sizeof(float);
    char *hash = sha256(values, size);
    bool same = strcmp(hash, json_string(want, "f32_sha256")) == 0;
    g_free(hash);
    if (same)
        return;
    if (f32_path != NULL) {
        GBytes *bytes = test_read_file(f32_path);
        const guint32 *ref = g_bytes_get_data(bytes, NULL);
        for (gint64 i = 0; i < t->numel; i++) {
            guint32 bits;
            memcpy(&bits, &values[i], 4);
            if (bits != ref[i]) {
                float r;
                memcpy(&r, &ref[i], 4);
                g_error("%s (%s): element %" PRId64 ": hone %.9g (0x%08x), reference %.9g (0x%08x)",
                        t->name, hn_ggml_type_name(t->type), i, values[i], bits, r, ref[i]);
            }
        }
        g_bytes_unref(bytes);
    }
    const cJSON *head = cJSON_GetObjectItemCaseSensitive(want, "head");
    GString *diff = g_string_new(NULL);
    for (int i = 0; i < cJSON_GetArraySize(head) && i < t->numel; i++) {
        guint32 bits;
        memcpy(&bits, &values[i], 4);
        g_string_append_printf(diff, "\n  [%d] hone 0x%08x reference 0x%08x", i, bits,
                               (guint32)cJSON_GetArrayItem(head, i)->valuedouble);
    }
    g_error("%s (%s): fp32 values differ from the Python reference's:%s", t->name,
            hn_ggml_type_name(t->type), diff->str);
}

static void check_tensors(const hn_gguf_file *file, const cJSON *tensors, const char *f32_dir)
{
    g_assert_cmpuint(hn_gguf_tensor_count(file), ==, (gsize)cJSON_GetArraySize(tensors));
    gsize index = 0;
    const cJSON *want;
    cJSON_ArrayForEach(want, tensors)
    {
        const hn_gguf_tensor *t = hn_gguf_tensor_get(file, index);
        g_assert_cmpstr(t->name, ==, json_string(want, "name"));
        g_assert_true(hn_gguf_tensor_find(file, t->name) == t);
        g_assert_cmpstr(hn_ggml_type_name(t->type), ==, json_string(want, "type"));
        const cJSON *dims = cJSON_GetObjectItemCaseSensitive(want, "dims");
        g_assert_cmpint(t->n_dims, ==, cJSON_GetArraySize(dims));
        gint64 numel = 1;
        for (int d = 0; d < t->n_dims; d++) {
            g_assert_cmpint(t->dims[d], ==, (gint64)cJSON_GetArrayItem(dims, d)->valuedouble);
            numel *= t->dims[d];
        }
        g_assert_cmpint(t->numel, ==, numel);
        g_assert_cmpuint(t->offset, ==, (guint64)json_int(want, "offset"));
        g_assert_cmpuint(t->nbytes, ==, (guint64)json_int(want, "nbytes"));
        g_assert_cmpuint(t->offset % hn_gguf_alignment(file), ==, 0);
        char *hash = sha256(t->data, t->nbytes);
        g_assert_cmpstr(hash, ==, json_string(want, "raw_sha256"));
        g_free(hash);

        float *values = g_new(float, t->numel + 1);
        hn_error err = {0};
        hn_status status = hn_gguf_tensor_to_f32(file, t, values, &err);
        if (!hn_ggml_can_dequantize(t->type)) {
            g_assert_cmpint(status, ==, HN_ERR_UNSUPPORTED);
            test_assert_contains(err.message, t->name);
            test_assert_contains(err.message, "expected a type Hone converts to fp32");
        } else {
            g_assert_cmpint(status, ==, HN_OK);
            char *f32_path = f32_dir != NULL ? g_strdup_printf("%s/%zu.f32", f32_dir, index) : NULL;
            check_f32(t, values, want, f32_path);
            g_free(f32_path);
        }
        g_free(values);
        index++;
    }
}

/* Opens the file (or the image in memory with its version field set to `version` when
 * version is non-zero) and compares everything with expected/NAME.json. */
static void check_file(const char *dir, const char *name, guint32 version)
{
    char *path = g_strdup_printf("%s/%s.gguf", dir, name);
    char *json_path = g_strdup_printf("%s/expected/%s.json", dir, name);
    char *f32_dir = g_strdup_printf("%s/expected/%s", dir, name);
    cJSON *expected = load_json(json_path);
    hn_gguf_file *file = NULL;
    hn_error err = {0};
    GBytes *image = NULL;
    if (version == 0) {
        if (hn_gguf_open(path, &file, &err) != HN_OK)
            g_error("%s", err.message);
        g_assert_cmpuint(hn_gguf_version(file), ==, (guint)json_int(expected, "version"));
    } else {
        GBytes *original = test_read_file(path);
        gsize size = g_bytes_get_size(original);
        guint8 *bytes = g_memdup2(g_bytes_get_data(original, NULL), size);
        g_bytes_unref(original);
        memcpy(bytes + 4, &version, 4);
        image = g_bytes_new_take(bytes, size);
        if (hn_gguf_open_buffer(name, bytes, size, &file, &err) != HN_OK)
            g_error("%s", err.message);
        g_assert_cmpuint(hn_gguf_version(file), ==, version);
    }
    g_assert_cmpuint(hn_gguf_alignment(file), ==, (guint)json_int(expected, "alignment"));
    g_assert_cmpuint(hn_gguf_data_offset(file), ==, (guint64)json_int(expected, "data_offset"));
    check_metadata(file, cJSON_GetObjectItemCaseSensitive(expected, "metadata"));
    check_tensors(file, cJSON_GetObjectItemCaseSensitive(expected, "tensors"), f32_dir);
    hn_gguf_close(file);
    if (image != NULL)
        g_bytes_unref(image);
    cJSON_Delete(expected);
    g_free(f32_dir);
    g_free(json_path);
    g_free(path);
}

static void test_python_written_files(void)
{
    char *dir = test_make_tmpdir();
    test_run_reference("gguf_ref.py", "write", dir);
    check_file(dir, "all_types", 0);
    check_file(dir, "aligned64", 0);
    /* Version 2 differs from 3 only in allowing big-endian files: the same bytes read alike. */
    check_file(dir, "all_types", 2);
    test_remove_tree(dir);
    g_free(dir);
}

static void check_real_model(const char *name)
{
    char *path = test_model_file(name);
    char *dir = test_make_tmpdir();
    char *argv[] = {(char *)test_reference_python(), NULL, (char *)"describe", path, dir, NULL};
    argv[1] = g_build_filename(g_getenv("HONE_SOURCE_DIR"), "tests", "reference", "gguf_ref.py", NULL);
    char *out = NULL, *errors = NULL;
    if (test_run(argv, &out, &errors) != 0)
        g_error("gguf_ref.py describe %s failed:\n%s\n%s", path, out, errors);
    char *json_path = g_build_filename(dir, "expected.json", NULL);
    cJSON *expected = load_json(json_path);
    hn_gguf_file *file = NULL;
    hn_error err = {0};
    if (hn_gguf_open(path, &file, &err) != HN_OK)
        g_error("%s", err.message);
    g_assert_cmpuint(hn_gguf_version(file), ==, (guint)json_int(expected, "version"));
    g_assert_cmpuint(hn_gguf_alignment(file), ==, (guint)json_int(expected, "alignment"));
    g_assert_cmpuint(hn_gguf_data_offset(file), ==, (guint64)json_int(expected, "data_offset"));
    check_metadata(file, cJSON_GetObjectItemCaseSensitive(expected, "metadata"));
    check_tensors(file, cJSON_GetObjectItemCaseSensitive(expected, "tensors"), NULL);
    hn_gguf_close(file);
    cJSON_Delete(expected);
    g_free(json_path);
    g_free(out);
    g_free(errors);
    g_free(argv[1]);
    test_remove_tree(dir);
    g_free(dir);
    g_free(path);
}

static void test_real_smollm2(void) { check_real_model("SmolLM2-135M-Instruct.Q4_1.gguf"); }
static void test_real_gemma3(void) { check_real_model("gemma-3-270m-q4_k_m.gguf"); }

/* ---- Files built here, byte by byte, and broken one field at a time ---------------------- */

/* A small valid file and where its fields are, so a test can change one of them. */
typedef struct {
    GByteArray *bytes;
    gsize version_at, n_tensors_at, n_kv_at;
    gsize float_type_at;   /* the value type of "test.float" */
    gsize array_type_at;   /* the element type of "test.ints" */
    gsize array_count_at;  /* its length */
    gsize bool_at;         /* the value of "test.flag" */
    gsize alignment_type_at;
    gsize alignment_at;
    gsize n_dims_at[2], dim0_at[2], type_at[2], offset_at[2];
    gsize data_at;
} sample;

static void put(GByteArray *b, const void *data, gsize n) { g_byte_array_append(b, data, (guint)n); }
static void put_u32(GByteArray *b, guint32 v) { put(b, &v, 4); }
static void put_u64(GByteArray *b, guint64 v) { put(b, &v, 8); }
static void put_str(GByteArray *b, const char *s)
{
    put_u64(b, strlen(s));
    put(b, s, strlen(s));
}

/* general.architecture "llama", llama.block_count 2 (UINT32), test.float (FLOAT32),
 * test.flag (BOOL), test.ints [INT32 x 3], test.words [STRING x 2],
 * test.nested [[UINT16 x 2], [UINT16 x 1]], general.alignment 64 (UINT32); tensors "a"
 * (F32, 8 x 2) and "b" (Q8_0, 64), random data. */
static sample make_sample(void)
{
    sample s = {.bytes = g_byte_array_new()};
    GByteArray *b = s.bytes;
    put(b, "GGUF", 4);
    s.version_at = b->len;
    put_u32(b, 3);
    s.n_tensors_at = b->len;
    put_u64(b, 2);
    s.n_kv_at = b->len;
    put_u64(b, 8);
    put_str(b, "general.architecture");
    put_u32(b, HN_GGUF_STRING);
    put_str(b, "llama");
    put_str(b, "llama.block_count");
    put_u32(b, HN_GGUF_UINT32);
    put_u32(b, 2);
    put_str(b, "test.float");
    s.float_type_at = b->len;
    put_u32(b, HN_GGUF_FLOAT32);
    float f = 0.125f;
    put(b, &f, 4);
    put_str(b, "test.flag");
    put_u32(b, HN_GGUF_BOOL);
    s.bool_at = b->len;
    g_byte_array_append(b, (const guint8 *)"\x01", 1);
    put_str(b, "test.ints");
    put_u32(b, HN_GGUF_ARRAY);
    s.array_type_at = b->len;
    put_u32(b, HN_GGUF_INT32);
    s.array_count_at = b->len;
    put_u64(b, 3);
    gint32 ints[3] = {-7, 0, 123456};
    put(b, ints, sizeof ints);
    put_str(b, "test.words");
    put_u32(b, HN_GGUF_ARRAY);
    put_u32(b, HN_GGUF_STRING);
    put_u64(b, 2);
    put_str(b, "hello");
    put_str(b, "wörld");
    put_str(b, "test.nested");
    put_u32(b, HN_GGUF_ARRAY);
    put_u32(b, HN_GGUF_ARRAY);
    put_u64(b, 2);
    put_u32(b, HN_GGUF_UINT16);
    put_u64(b, 2);
    guint16 shorts[3] = {65535, 1, 42};
    put(b, shorts, 4);
    put_u32(b, HN_GGUF_UINT16);
    put_u64(b, 1);
    put(b, shorts + 2, 2);
    put_str(b, "general.alignment");
    s.alignment_type_at = b->len;
    put_u32(b, HN_GGUF_UINT32);
    s.alignment_at = b->len;
    put_u32(b, 64);

    const struct {
        const char *name;
        guint64 dims[2];
        guint32 n_dims, type;
        guint64 offset;
    } infos[2] = {{"a", {8, 2}, 2, HN_GGML_F32, 0}, {"b", {64, 0}, 1, HN_GGML_Q8_0, 64}};
    for (int i = 0; i < 2; i++) {
        put_str(b, infos[i].name);
        s.n_dims_at[i] = b->len;
        put_u32(b, infos[i].n_dims);
        s.dim0_at[i] = b->len;
        for (guint32 d = 0; d < infos[i].n_dims; d++)
            put_u64(b, infos[i].dims[d]);
        s.type_at[i] = b->len;
        put_u32(b, infos[i].type);
        s.offset_at[i] = b->len;
        put_u64(b, infos[i].offset);
    }
    while (b->len % 64 != 0)
        g_byte_array_append(b, (const guint8 *)"", 1);
    s.data_at = b->len;
    guint8 data[64 + 68];
    test_random_bytes(data, sizeof data, 31);
    /* finite fp16 scales for the two Q8_0 blocks: 0.5 and -0.25 */
    memcpy(data + 64, "\x00\x38", 2);
    memcpy(data + 64 + 34, "\x00\xb4", 2);
    put(b, data, sizeof data);
    return s;
}

static hn_status open_image(const GByteArray *b, gsize size, hn_gguf_file **file, hn_error *err)
{
    return hn_gguf_open_buffer("sample.gguf", b->data, size, file, err);
}

static void expect_refused(const GByteArray *b, gsize size, hn_status status, const char *place,
                           const char *expect)
{
    hn_gguf_file *file = NULL;
    hn_error err = {0};
    hn_status got = open_image(b, size, &file, &err);
    if (got != status)
        g_error("expected status %d, got %d: %s", status, got, err.message);
    g_assert_null(file);
    test_assert_contains(err.message, "sample.gguf: byte ");
    test_assert_contains(err.message, place);
    test_assert_contains(err.message, expect);
    g_test_message("%s", err.message);
}

static void patch_u32(sample *s, gsize at, guint32 v) { memcpy(s->bytes->data + at, &v, 4); }
static void patch_u64(sample *s, gsize at, guint64 v) { memcpy(s->bytes->data + at, &v, 8); }

static void test_sample_reads(void)
{
    sample s = make_sample();
    hn_gguf_file *file = NULL;
    hn_error err = {0};
    if (open_image(s.bytes, s.bytes->len, &file, &err) != HN_OK)
        g_error("%s", err.message);
    g_assert_cmpuint(hn_gguf_alignment(file), ==, 64);
    g_assert_cmpuint(hn_gguf_data_offset(file), ==, s.data_at);
    g_assert_cmpuint(hn_gguf_kv_count(file), ==, 8);
    const hn_gguf_tensor *b = hn_gguf_tensor_find(file, "b");
    g_assert_nonnull(b);
    g_assert_cmpint(b->numel, ==, 64);
    g_assert_cmpuint(b->nbytes, ==, 68);
    g_assert_true(b->data == s.bytes->data + s.data_at + 64);
    float values[64];
    g_assert_cmpint(hn_gguf_tensor_to_f32(file, b, values, &err), ==, HN_OK);
    const gint8 *q = (const gint8 *)(s.bytes->data + s.data_at + 64);
    /* Q8_0: x = d * q with d = 0.5 for the first block, -0.25 for the second */
    for (int i = 0; i < 32; i++) {
        g_assert_cmpfloat(values[i], ==, 0.5f * (float)q[2 + i]);
        g_assert_cmpfloat(values[32 + i], ==, -0.25f * (float)q[34 + 2 + i]);
    }
    const hn_gguf_kv *nested = hn_gguf_kv_find(file, "test.nested");
    g_assert_cmpint(nested->value.array.type, ==, HN_GGUF_ARRAY);
    hn_gguf_value inner, element;
    hn_gguf_array_get(&nested->value, 1, &inner);
    g_assert_cmpuint(inner.array.count, ==, 1);
    hn_gguf_array_get(&inner, 0, &element);
    g_assert_cmpint(element.type, ==, HN_GGUF_UINT16);
    g_assert_cmpuint(element.u, ==, 42);
    hn_gguf_close(file);
    g_byte_array_unref(s.bytes);
}

static void test_typed_getters(void)
{
    sample s = make_sample();
    hn_gguf_file *file = NULL;
    hn_error err = {0};
    if (open_image(s.bytes, s.bytes->len, &file, &err) != HN_OK)
        g_error("%s", err.message);
    gint64 i = -1;
    guint64 u = 0;
    double d = 0;
    bool flag = false;
    const char *text = NULL;
    const hn_gguf_value *array = NULL;
    g_assert_cmpint(hn_gguf_get_int(file, "llama.block_count", HN_REQUIRED, 1, 100, &i, &err), ==, HN_OK);
    g_assert_cmpint(i, ==, 2);
    g_assert_cmpint(hn_gguf_get_uint(file, "llama.block_count", HN_REQUIRED, 10, &u, &err), ==, HN_OK);
    g_assert_cmpuint(u, ==, 2);
    g_assert_cmpint(hn_gguf_get_double(file, "test.float", HN_REQUIRED, &d, &err), ==, HN_OK);
    g_assert_cmpfloat(d, ==, 0.125);
    g_assert_cmpint(hn_gguf_get_bool(file, "test.flag", HN_REQUIRED, &flag, &err), ==, HN_OK);
    g_assert_true(flag);
    g_assert_cmpint(hn_gguf_get_string(file, "general.architecture", HN_REQUIRED, &text, &err), ==, HN_OK);
    g_assert_cmpstr(text, ==, "llama");
    g_assert_cmpint(hn_gguf_get_array(file, "test.words", HN_REQUIRED, HN_GGUF_STRING, &array, &err), ==, HN_OK);
    hn_gguf_value word;
    hn_gguf_array_get(array, 1, &word);
    g_assert_cmpmem(word.string.bytes.data, word.string.bytes.length, "wörld", strlen("wörld"));
    g_assert_null(word.string.text);

    /* An absent optional key keeps the default. */
    i = 77;
    g_assert_cmpint(hn_gguf_get_int(file, "llama.nothing", HN_OPTIONAL, 0, 10, &i, &err), ==, HN_OK);
    g_assert_cmpint(i, ==, 77);

    static const struct {
        const char *key, *expect;
        int getter;
    } failures[] = {
        {"llama.nothing", "metadata key \"llama.nothing\": expected an integer, found no such key", 0},
        {"llama.block_count", "metadata key \"llama.block_count\": expected an integer in [3, 100], found 2", 0},
        {"general.architecture", "metadata key \"general.architecture\": expected an integer, found a STRING", 0},
        {"test.float", "metadata key \"test.float\": expected a BOOL, found a FLOAT32", 1},
        {"test.ints", "metadata key \"test.ints\": expected a STRING, found an ARRAY of INT32", 2},
        {"test.ints", "metadata key \"test.ints\": expected an ARRAY of STRING, found an ARRAY of INT32", 3},
        {"test.ints", "metadata key \"test.ints\": expected a number, found an ARRAY of INT32", 4},
        {"llama.block_count", "expected an integer in [0, 1], found 2", 5},
    };
    for (gsize k = 0; k < G_N_ELEMENTS(failures); k++) {
        hn_status status = HN_OK;
        switch (failures[k].getter) {
        case 0: status = hn_gguf_get_int(file, failures[k].key, HN_REQUIRED, 3, 100, &i, &err); break;
        case 1: status = hn_gguf_get_bool(file, failures[k].key, HN_REQUIRED, &flag, &err); break;
        case 2: status = hn_gguf_get_string(file, failures[k].key, HN_REQUIRED, &text, &err); break;
        case 3: status = hn_gguf_get_array(file, failures[k].key, HN_REQUIRED, HN_GGUF_STRING, &array, &err); break;
        case 4: status = hn_gguf_get_double(file, failures[k].key, HN_REQUIRED, &d, &err); break;
        case 5: status = hn_gguf_get_uint(file, failures[k].key, HN_REQUIRED, 1, &u, &err); break;
        }
        g_assert_cmpint(status, ==, HN_ERR_FORMAT);
        test_assert_contains(err.message, "sample.gguf: ");
        test_assert_contains(err.message, failures[k].expect);
    }
    hn_gguf_close(file);
    g_byte_array_unref(s.bytes);
}

static void test_bad_magic(void)
{
    sample s = make_sample();
    memcpy(s.bytes->data, "GGML", 4);
    expect_refused(s.bytes, s.bytes->len, HN_ERR_FORMAT, "header",
                   "expected the magic \"GGUF\", found \"GGML\" (not a GGUF file)");
    /* A safetensors file given by mistake. */
    memcpy(s.bytes->data, "\x10\x00\x00\x00", 4);
    expect_refused(s.bytes, s.bytes->len, HN_ERR_FORMAT, "header", "found \"\\x10\\x00\\x00\\x00\"");
    g_byte_array_unref(s.bytes);
}

static void test_unsupported_version(void)
{
    sample s = make_sample();
    static const struct {
        guint32 version;
        const char *expect;
    } cases[] = {
        {1, "expected GGUF version 2 or 3, found 1 (GGUF version 1 is obsolete"},
        {4, "expected GGUF version 2 or 3, found 4"},
        {0x03000000, "found 50331648 (a big-endian file? Hone reads little-endian GGUF only)"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        patch_u32(&s, s.version_at, cases[i].version);
        expect_refused(s.bytes, s.bytes->len, HN_ERR_UNSUPPORTED, "byte 4, header", cases[i].expect);
    }
    g_byte_array_unref(s.bytes);
}

static void test_unknown_tensor_type(void)
{
    static const guint32 unknown[] = {4, 31, 36, HN_GGML_TYPE_COUNT, 0xffffffffu};
    for (gsize i = 0; i < G_N_ELEMENTS(unknown); i++) {
        sample s = make_sample();
        patch_u32(&s, s.type_at[1], unknown[i]);
        char *expect = g_strdup_printf("expected a ggml tensor type (F32, F16, Q4_0, ");
        char *found = g_strdup_printf("found %" PRIu32, unknown[i]);
        expect_refused(s.bytes, s.bytes->len, HN_ERR_UNSUPPORTED, "tensor \"b\"", expect);
        expect_refused(s.bytes, s.bytes->len, HN_ERR_UNSUPPORTED, "tensor \"b\"", found);
        g_free(expect);
        g_free(found);
        g_byte_array_unref(s.bytes);
    }
    /* A type ggml defines but Hone cannot convert: the file opens, conversion says why. */
    sample s = make_sample();
    patch_u32(&s, s.type_at[1], HN_GGML_IQ4_NL); /* 32 per block, 18 bytes: 36 of the 68 */
    hn_gguf_file *file = NULL;
    hn_error err = {0};
    if (open_image(s.bytes, s.bytes->len, &file, &err) != HN_OK)
        g_error("%s", err.message);
    const hn_gguf_tensor *b = hn_gguf_tensor_find(file, "b");
    g_assert_cmpuint(b->nbytes, ==, 36);
    float values[64];
    g_assert_cmpint(hn_gguf_tensor_to_f32(file, b, values, &err), ==, HN_ERR_UNSUPPORTED);
    test_assert_contains(err.message, "sample.gguf: tensor \"b\": expected a type Hone converts "
                                      "to fp32 (F32, F16, BF16, Q8_0");
    test_assert_contains(err.message, "found IQ4_NL");
    hn_gguf_close(file);
    g_byte_array_unref(s.bytes);
}

static void test_data_out_of_range(void)
{
    sample s = make_sample();
    patch_u64(&s, s.offset_at[1], 128); /* 68 bytes at 128: past the 132-byte data area */
    expect_refused(s.bytes, s.bytes->len, HN_ERR_FORMAT, "tensor \"b\"",
                   "expected its 68 bytes of data at offset 128");
    patch_u64(&s, s.offset_at[1], G_MAXUINT64 - 63); /* aligned, and would wrap around */
    expect_refused(s.bytes, s.bytes->len, HN_ERR_FORMAT, "tensor \"b\"", "inside the file");
    patch_u64(&s, s.offset_at[1], 0); /* overlaps "a" [0, 64) */
    expect_refused(s.bytes, s.bytes->len, HN_ERR_FORMAT, "tensor \"b\"",
                   "expected data apart from every other tensor's, found bytes [0, 68) of the "
                   "data overlapping \"a\" [0, 64)");
    patch_u64(&s, s.offset_at[1], 65);
    expect_refused(s.bytes, s.bytes->len, HN_ERR_FORMAT, "tensor \"b\"",
                   "expected a data offset that is a multiple of the alignment 64, found 65");
    g_byte_array_unref(s.bytes);
}

/* Every proper prefix of a valid file is refused with a message that says it ends early. */
static void test_truncated(void)
{
    sample s = make_sample();
    for (gsize size = 0; size < s.bytes->len; size++) {
        hn_gguf_file *file = NULL;
        hn_error err = {0};
        hn_status status = open_image(s.bytes, size, &file, &err);
        if (status != HN_ERR_FORMAT)
            g_error("prefix of %zu bytes: status %d: %s", size, status, err.message);
        g_assert_null(file);
        test_assert_contains(err.message, "sample.gguf: byte ");
        test_assert_contains(err.message, "truncated");
    }
    /* The same through a file on disk. */
    char *dir = test_make_tmpdir();
    char *path = g_build_filename(dir, "truncated.gguf", NULL);
    test_write_file(path, s.bytes->data, s.data_at + 100);
    hn_gguf_file *file = NULL;
    hn_error err = {0};
    g_assert_cmpint(hn_gguf_open(path, &file, &err), ==, HN_ERR_FORMAT);
    test_assert_contains(err.message, path);
    test_assert_contains(err.message, "tensor \"b\": expected its 68 bytes of data");
    test_assert_contains(err.message, "(truncated?)");
    g_unlink(path);
    g_assert_cmpint(hn_gguf_open(path, &file, &err), ==, HN_ERR_IO);
    test_assert_contains(err.message, "cannot open");
    g_free(path);
    test_remove_tree(dir);
    g_free(dir);
    g_byte_array_unref(s.bytes);
}

static void test_unknown_value_type(void)
{
    sample s = make_sample();
    patch_u32(&s, s.float_type_at, 13);
    expect_refused(s.bytes, s.bytes->len, HN_ERR_FORMAT, "metadata key 2 \"test.float\"",
                   "expected a value type 0-12 (UINT8, INT8, UINT16, INT16, UINT32, INT32, "
                   "FLOAT32, BOOL, STRING, ARRAY, UINT64, INT64, FLOAT64), found 13");
    g_byte_array_unref(s.bytes);
    s = make_sample();
    patch_u32(&s, s.array_type_at, 0x40000000);
    expect_refused(s.bytes, s.bytes->len, HN_ERR_FORMAT, "metadata key 4 \"test.ints\"",
                   "as the array element type, found 1073741824");
    g_byte_array_unref(s.bytes);
}

/* Other broken fields: each refused with its place and expectation. */
typedef struct {
    gsize field; /* offsetof(sample, ...) of the position to patch */
    int width;   /* 1, 4 or 8 bytes */
    guint64 value;
    hn_status status;
    const char *place, *expect;
} corruption;

static const corruption corruptions[] = {
    {offsetof(sample, n_kv_at), 8, G_MAXUINT64, HN_ERR_FORMAT, "header",
     "expected a metadata count that fits in the file, found 18446744073709551615"},
    {offsetof(sample, n_tensors_at), 8, 1u << 30, HN_ERR_FORMAT, "header",
     "expected a tensor count that fits in the file"},
    {offsetof(sample, array_count_at), 8, 1ull << 40, HN_ERR_FORMAT, "\"test.ints\"",
     "expected an array length that fits in the file, found 1099511627776 elements of INT32"},
    {offsetof(sample, bool_at), 1, 2, HN_ERR_FORMAT, "\"test.flag\"",
     "expected a BOOL (0 or 1), found 2"},
    {offsetof(sample, alignment_type_at), 4, HN_GGUF_INT32, HN_ERR_FORMAT,
     "\"general.alignment\"", "expected type UINT32, found INT32"},
    {offsetof(sample, alignment_at), 4, 48, HN_ERR_FORMAT, "\"general.alignment\"",
     "expected a power of two, found 48"},
    {offsetof(sample, n_dims_at), 4, 5, HN_ERR_FORMAT, "tensor \"a\"",
     "expected at most 4 dimensions, found 5"},
    {offsetof(sample, dim0_at), 8, 1ull << 63, HN_ERR_FORMAT, "tensor \"a\"",
     "expected dimension 0 below 2^63, found 9223372036854775808"},
    {offsetof(sample, dim0_at) + sizeof(gsize), 8, 48, HN_ERR_FORMAT, "tensor \"b\"",
     "expected a row length (dimension 0) that is a multiple of the Q8_0 block size 32, found 48"},
};

static void test_other_corruptions(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(corruptions); i++) {
        const corruption *c = &corruptions[i];
        sample s = make_sample();
        gsize at = *(const gsize *)((const char *)&s + c->field);
        if (c->width == 1)
            s.bytes->data[at] = (guint8)c->value;
        else if (c->width == 4)
            patch_u32(&s, at, (guint32)c->value);
        else
            patch_u64(&s, at, c->value);
        expect_refused(s.bytes, s.bytes->len, c->status, c->place, c->expect);
        g_byte_array_unref(s.bytes);
    }
    /* A key twice, a tensor name twice, a key that is not UTF-8. */
    sample s = make_sample();
    guint8 *key = memmem(s.bytes->data, s.bytes->len, "test.flag", 9);
    memcpy(key, "test.ints", 9);
    expect_refused(s.bytes, s.bytes->len, HN_ERR_FORMAT, "metadata key 4 \"test.ints\"",
                   "expected each key once, found it again");
    memcpy(key, "test.\xff\xfe" "ag", 9);
    expect_refused(s.bytes, s.bytes->len, HN_ERR_FORMAT, "metadata key 3",
                   "expected a key in UTF-8 without NUL bytes");
    g_byte_array_unref(s.bytes);
    s = make_sample();
    s.bytes->data[s.n_dims_at[1] - 1] = 'a';
    expect_refused(s.bytes, s.bytes->len, HN_ERR_FORMAT, "tensor \"a\"",
                   "expected each tensor name once, found it again");
    g_byte_array_unref(s.bytes);
}

/* Arrays of arrays nested deeper than HN_GGUF_MAX_NESTING are refused, not recursed into. */
static void test_deep_nesting(void)
{
    GByteArray *b = g_byte_array_new();
    put(b, "GGUF", 4);
    put_u32(b, 3);
    put_u64(b, 0);
    put_u64(b, 1);
    put_str(b, "deep");
    put_u32(b, HN_GGUF_ARRAY);
    for (int d = 0; d < 200; d++) {
        put_u32(b, HN_GGUF_ARRAY);
        put_u64(b, 1);
    }
    expect_refused(b, b->len, HN_ERR_UNSUPPORTED, "metadata key 0 \"deep\", element [0][0]",
                   "expected arrays nested at most 16 deep");
    g_byte_array_unref(b);
}

/* ---- Llama GGUF files as transformers models (gguf_model, model_dir) --------------------- */

static bool json_true(const cJSON *object, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(object, key);
    if (!cJSON_IsBool(item))
        g_error("reference JSON: \"%s\" is not a boolean", key);
    return cJSON_IsTrue(item);
}

/* Hone's config against transformers' (gguf_ref.py describe_hf): the sizes, and the switches
 * as the transformers model built from it has them. */
static void check_hf_config(const hn_model_config *c, const cJSON *want)
{
    g_assert_cmpstr(c->model_type, ==, json_string(want, "model_type"));
    g_assert_cmpstr(c->architecture, ==, json_string(want, "architecture"));
    g_assert_cmpint(c->vocab_size, ==, json_int(want, "vocab_size"));
    g_assert_cmpint(c->hidden_size, ==, json_int(want, "hidden_size"));
    g_assert_cmpint(c->intermediate_size, ==, json_int(want, "intermediate_size"));
    g_assert_cmpint(c->num_hidden_layers, ==, json_int(want, "num_hidden_layers"));
    g_assert_cmpint(c->num_attention_heads, ==, json_int(want, "num_attention_heads"));
    g_assert_cmpint(c->num_key_value_heads, ==, json_int(want, "num_key_value_heads"));
    g_assert_cmpint(c->head_dim, ==, json_int(want, "head_dim"));
    g_assert_cmpint(c->max_position_embeddings, ==, json_int(want, "max_position_embeddings"));
    g_assert_cmpfloat(c->rms_norm_eps, ==, cJSON_GetObjectItem(want, "rms_norm_eps")->valuedouble);
    g_assert_cmpfloat(c->rope.theta, ==, cJSON_GetObjectItem(want, "rope_theta")->valuedouble);
    g_assert_cmpstr(hn_rope_type_name(c->rope.type), ==, json_string(want, "rope_type"));
    g_assert_cmpint(c->tie_word_embeddings, ==, json_true(want, "tie_word_embeddings"));
    g_assert_cmpint(c->attention_bias, ==, json_true(want, "attention_bias"));
    g_assert_cmpint(c->o_proj_bias, ==, json_true(want, "o_proj_bias"));
    g_assert_cmpint(c->mlp_bias, ==, json_true(want, "mlp_bias"));
    g_assert_cmpint(c->qk_norm, ==, json_true(want, "qk_norm"));
    g_assert_cmpint(c->use_sliding_window, ==, json_true(want, "sliding_window"));
    static const char *const ids[] = {"bos_token_id", "pad_token_id"};
    const gint64 got[] = {c->bos_token_id, c->pad_token_id};
    for (gsize i = 0; i < G_N_ELEMENTS(ids); i++) {
        const cJSON *id = cJSON_GetObjectItem(want, ids[i]);
        g_assert_cmpint(got[i], ==, cJSON_IsNumber(id) ? (gint64)id->valuedouble : -1);
    }
    const cJSON *eos = cJSON_GetObjectItem(want, "eos_token_id");
    g_assert_cmpint(c->n_eos, ==, cJSON_IsNumber(eos) ? 1 : 0);
    if (c->n_eos == 1)
        g_assert_cmpint(c->eos_token_ids[0], ==, (gint64)eos->valuedouble);
}

/* The model opened from the GGUF file against transformers' view (gguf_ref.py hf-*). */
static void check_hf_view(const char *path, const char *json_path, const char *f32_dir)
{
    cJSON *expected = load_json(json_path);
    hn_model_dir *model = NULL;
    hn_error err = {0};
    if (hn_model_dir_open(path, &model, &err) != HN_OK)
        g_error("%s", err.message);
    g_assert_nonnull(model->gguf);
    g_assert_null(model->weights);
    check_hf_config(&model->config, cJSON_GetObjectItemCaseSensitive(expected, "config"));
    g_assert_cmpint(hn_model_dir_param_count(model), ==, hn_model_config_param_count(&model->config));
    const cJSON *weights = cJSON_GetObjectItemCaseSensitive(expected, "weights");
    g_assert_cmpuint(hn_model_dir_weight_count(model), ==, (gsize)cJSON_GetArraySize(weights));
    gsize index = 0;
    const cJSON *want;
    cJSON_ArrayForEach(want, weights)
    {
        const hn_model_weight *w = hn_model_dir_weight(model, index);
        g_assert_cmpstr(w->gguf->name, ==, json_string(want, "gguf"));
        g_assert_cmpstr(w->name, ==, json_string(want, "name"));
        g_assert_true(hn_model_dir_find_weight(model, w->name) == w);
        const cJSON *shape = cJSON_GetObjectItemCaseSensitive(want, "shape");
        g_assert_cmpint(w->ndim, ==, cJSON_GetArraySize(shape));
        for (int d = 0; d < w->ndim; d++)
            g_assert_cmpint(w->shape[d], ==, (gint64)cJSON_GetArrayItem(shape, d)->valuedouble);
        float *values = g_new(float, w->numel + 1);
        if (hn_model_dir_weight_f32(model, w, values, &err) != HN_OK)
            g_error("%s", err.message);
        char *f32_path = f32_dir != NULL ? g_strdup_printf("%s/%zu.f32", f32_dir, index) : NULL;
        check_f32(w->gguf, values, want, f32_path);
        g_free(f32_path);
        g_free(values);
        index++;
    }
    hn_model_dir_close(model);
    cJSON_Delete(expected);
}

/* A file with RoPE scaling: transformers' GGUF loader ignores it (plain RoPE, the frequency
 * factors dropped), so Hone refuses the file rather than load that other model. */
static void check_rope_scaled_refused(const char *dir, const char *kind)
{
    char *file = g_strdup_printf("rope_%s.gguf", kind);
    char *json = g_strdup_printf("rope_%s.json", kind);
    char *path = g_build_filename(dir, file, NULL);
    char *json_path = g_build_filename(dir, "expected", json, NULL);
    cJSON *transformers = load_json(json_path);
    g_assert_cmpstr(json_string(transformers, "rope_type"), ==, "default");
    g_assert_false(cJSON_IsTrue(cJSON_GetObjectItem(transformers, "rope_freqs_loaded")));
    hn_model_dir *model = NULL;
    hn_error err = {0};
    g_assert_cmpint(hn_model_dir_open(path, &model, &err), ==, HN_ERR_UNSUPPORTED);
    test_assert_contains(err.message, path);
    test_assert_contains(err.message, "transformers' GGUF loader ignores RoPE scaling");
    cJSON_Delete(transformers);
    g_free(json_path);
    g_free(path);
    g_free(json);
    g_free(file);
}

/* Tiny random Llama, Qwen2 and Qwen3 files laid out as llama.cpp's converter writes them:
 * config and every weight (fp32 bits) as transformers' GGUF loader gives them; and files
 * with each kind of RoPE scaling the converter writes, refused. */
static void test_hf_view_tiny_models(void)
{
    char *dir = test_make_tmpdir();
    test_run_reference("gguf_ref.py", "hf-write", dir);
    const char *const archs[] = {"llama", "qwen2", "qwen3"};
    for (gsize i = 0; i < G_N_ELEMENTS(archs); i++) {
        char *file = g_strdup_printf("tiny_%s.gguf", archs[i]);
        char *json = g_strdup_printf("tiny_%s.json", archs[i]);
        char *f32 = g_strdup_printf("tiny_%s", archs[i]);
        char *path = g_build_filename(dir, file, NULL);
        char *json_path = g_build_filename(dir, "expected", json, NULL);
        char *f32_dir = g_build_filename(dir, "expected", f32, NULL);
        check_hf_view(path, json_path, f32_dir);
        g_free(f32_dir);
        g_free(json_path);
        g_free(path);
        g_free(f32);
        g_free(json);
        g_free(file);
    }
    const char *const scalings[] = {"llama3", "linear", "yarn"};
    for (gsize i = 0; i < G_N_ELEMENTS(scalings); i++)
        check_rope_scaled_refused(dir, scalings[i]);
    test_remove_tree(dir);
    g_free(dir);
}

static void test_hf_view_smollm2(void)
{
    char *path = test_model_file("SmolLM2-135M-Instruct.Q4_1.gguf");
    char *dir = test_make_tmpdir();
    char *script = g_build_filename(g_getenv("HONE_SOURCE_DIR"), "tests", "reference", "gguf_ref.py", NULL);
    char *argv[] = {(char *)test_reference_python(), script, (char *)"hf-describe", path, dir, NULL};
    char *out = NULL, *errors = NULL;
    if (test_run(argv, &out, &errors) != 0)
        g_error("gguf_ref.py hf-describe %s failed:\n%s\n%s", path, out, errors);
    char *json_path = g_build_filename(dir, "expected.json", NULL);
    check_hf_view(path, json_path, NULL);
    g_free(json_path);
    g_free(out);
    g_free(errors);
    g_free(script);
    test_remove_tree(dir);
    g_free(dir);
    g_free(path);
}

static void test_hf_names(void)
{
    static const struct {
        const char *gguf, *hf;
    } names[] = {
        {"token_embd.weight", "model.embed_tokens.weight"},
        {"output_norm.weight", "model.norm.weight"},
        {"output.weight", "lm_head.weight"},
        {"blk.0.attn_norm.weight", "model.layers.0.input_layernorm.weight"},
        {"blk.17.attn_q.weight", "model.layers.17.self_attn.q_proj.weight"},
        {"blk.3.attn_k.bias", "model.layers.3.self_attn.k_proj.bias"},
        {"blk.3.attn_v.weight", "model.layers.3.self_attn.v_proj.weight"},
        {"blk.3.attn_output.weight", "model.layers.3.self_attn.o_proj.weight"},
        {"blk.120.ffn_norm.weight", "model.layers.120.post_attention_layernorm.weight"},
        {"blk.2.ffn_gate.weight", "model.layers.2.mlp.gate_proj.weight"},
        {"blk.2.ffn_up.weight", "model.layers.2.mlp.up_proj.weight"},
        {"blk.2.ffn_down.weight", "model.layers.2.mlp.down_proj.weight"},
        {"blk.4.attn_q_norm.weight", "model.layers.4.self_attn.q_norm.weight"},
        {"blk.4.attn_k_norm.weight", "model.layers.4.self_attn.k_norm.weight"},
        {"rope_freqs.weight", NULL},
        {"blk.0.ffn_gate_exps.weight", NULL},
        {"blk.01.attn_q.weight", NULL},
        {"blk.x.attn_q.weight", NULL},
        {"blk.0.attn_q", NULL},
        {"blk..attn_q.weight", NULL},
        {"token_embd.scale", NULL},
        {"blk.99999999999999999999.attn_q.weight", NULL},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
        char *hf = hn_gguf_hf_name(names[i].gguf);
        g_assert_cmpstr(hf, ==, names[i].hf);
        if (hf != NULL) { /* and back */
            char *gguf = hn_gguf_name_of_hf(hf);
            g_assert_cmpstr(gguf, ==, names[i].gguf);
            g_free(gguf);
        }
        g_free(hf);
    }
    static const char *const not_hf[] = {"model.layers.01.mlp.up_proj.weight",
                                         "model.layers.0.mlp.up_proj", "model.layers.0.mlp.weight",
                                         "blk.0.attn_q.weight", "model.embed_tokens.scale"};
    for (gsize i = 0; i < G_N_ELEMENTS(not_hf); i++)
        g_assert_null(hn_gguf_name_of_hf(not_hf[i]));
}

/* A complete one-layer model of `arch` ("llama", "qwen2", "qwen3" or any other name): hidden
 * 32, 2 heads of 16 (qwen3 says so in attention.key_length), FFN 64, 4 tokens, tied
 * embeddings, F32 tensors of finite random values; qwen2 has q/k/v biases, qwen3 q/k norms.
 * The changes make it wrong in one way each. */
typedef struct {
    const char *arch;
    const char *drop;            /* a tensor left out */
    const char *extra;           /* a tensor added: a vector of 32 */
    const char *reshape;         /* a tensor given 24 rows */
    const char *string_key, *string_value; /* metadata added */
    const char *uint_key;
    guint32 uint_value;
} tiny_model;

static void put_kv_u32(GByteArray *b, const char *key, guint32 value)
{
    put_str(b, key);
    put_u32(b, HN_GGUF_UINT32);
    put_u32(b, value);
}

static void put_kv_str(GByteArray *b, const char *key, const char *value)
{
    put_str(b, key);
    put_u32(b, HN_GGUF_STRING);
    put_str(b, value);
}

static GByteArray *build_tiny(const tiny_model *m)
{
    const bool qwen2 = strcmp(m->arch, "qwen2") == 0, qwen3 = strcmp(m->arch, "qwen3") == 0;
    GByteArray *kv = g_byte_array_new();
    guint64 n_kv = 0;
    put_kv_str(kv, "general.architecture", m->arch), n_kv++;
    static const struct {
        const char *suffix;
        guint32 value;
    } sizes[] = {{"embedding_length", 32}, {"block_count", 1}, {"feed_forward_length", 64},
                 {"attention.head_count", 2}, {"context_length", 128}};
    for (gsize i = 0; i < G_N_ELEMENTS(sizes); i++) {
        char *key = g_strdup_printf("%s.%s", m->arch, sizes[i].suffix);
        put_kv_u32(kv, key, sizes[i].value), n_kv++;
        g_free(key);
    }
    if (qwen3)
        put_kv_u32(kv, "qwen3.attention.key_length", 16), n_kv++;
    put_str(kv, "tokenizer.ggml.tokens");
    put_u32(kv, HN_GGUF_ARRAY);
    put_u32(kv, HN_GGUF_STRING);
    put_u64(kv, 4);
    for (int i = 0; i < 4; i++)
        put_str(kv, (const char *[]){"<s>", "</s>", "a", "b"}[i]);
    n_kv++;
    if (m->string_key != NULL)
        put_kv_str(kv, m->string_key, m->string_value), n_kv++;
    if (m->uint_key != NULL)
        put_kv_u32(kv, m->uint_key, m->uint_value), n_kv++;

    const struct {
        const char *name;
        guint64 rows, cols; /* cols 0: a vector */
        bool present;
    } tensors[] = {
        {"token_embd.weight", 4, 32, true},
        {"blk.0.attn_norm.weight", 32, 0, true},
        {"blk.0.attn_q.weight", 32, 32, true},
        {"blk.0.attn_q.bias", 32, 0, qwen2},
        {"blk.0.attn_k.weight", 32, 32, true},
        {"blk.0.attn_k.bias", 32, 0, qwen2},
        {"blk.0.attn_v.weight", 32, 32, true},
        {"blk.0.attn_v.bias", 32, 0, qwen2},
        {"blk.0.attn_output.weight", 32, 32, true},
        {"blk.0.attn_q_norm.weight", 16, 0, qwen3},
        {"blk.0.attn_k_norm.weight", 16, 0, qwen3},
        {"blk.0.ffn_norm.weight", 32, 0, true},
        {"blk.0.ffn_gate.weight", 64, 32, true},
        {"blk.0.ffn_up.weight", 64, 32, true},
        {"blk.0.ffn_down.weight", 32, 64, true},
        {"output_norm.weight", 32, 0, true},
        {m->extra, 32, 0, m->extra != NULL},
    };
    GByteArray *infos = g_byte_array_new();
    guint64 n_tensors = 0, offset = 0;
    for (gsize i = 0; i < G_N_ELEMENTS(tensors); i++) {
        if (!tensors[i].present || g_strcmp0(tensors[i].name, m->drop) == 0)
            continue;
        guint64 rows = g_strcmp0(tensors[i].name, m->reshape) == 0 ? 24 : tensors[i].rows;
        guint64 cols = tensors[i].cols;
        put_str(infos, tensors[i].name);
        put_u32(infos, cols > 0 ? 2 : 1);
        if (cols > 0)
            put_u64(infos, cols);
        put_u64(infos, rows);
        put_u32(infos, HN_GGML_F32);
        put_u64(infos, offset);
        offset += (rows * MAX(cols, 1) * 4 + 31) / 32 * 32;
        n_tensors++;
    }
    GByteArray *b = g_byte_array_new();
    put(b, "GGUF", 4);
    put_u32(b, 3);
    put_u64(b, n_tensors);
    put_u64(b, n_kv);
    put(b, kv->data, kv->len);
    put(b, infos->data, infos->len);
    while (b->len % 32 != 0)
        g_byte_array_append(b, (const guint8 *)"", 1);
    guint8 *data = g_malloc(offset);
    test_random_bytes(data, offset, 41);
    for (guint64 i = 0; i < offset / 4; i++) { /* finite values */
        float f = (float)(data[4 * i] - 128) / 32.0f;
        memcpy(data + 4 * i, &f, 4);
    }
    put(b, data, offset);
    g_free(data);
    g_byte_array_unref(infos);
    g_byte_array_unref(kv);
    return b;
}

static hn_status hf_config_of(const tiny_model *m, hn_model_config *config, hn_error *err)
{
    GByteArray *b = build_tiny(m);
    hn_gguf_file *file = NULL;
    char *label = g_strdup_printf("%s.gguf", m->arch);
    hn_status status = hn_gguf_open_buffer(label, b->data, b->len, &file, err);
    if (status == HN_OK)
        status = hn_gguf_hf_config(file, config, err);
    hn_gguf_close(file);
    g_free(label);
    g_byte_array_unref(b);
    return status;
}

/* Each architecture's switches, from its metadata and tensors. */
static void test_hf_config_archs(void)
{
    static const struct {
        const char *arch, *architecture;
        bool attention_bias, qk_norm;
    } archs[] = {
        {"llama", "LlamaForCausalLM", false, false},
        {"qwen2", "Qwen2ForCausalLM", true, false},
        {"qwen3", "Qwen3ForCausalLM", false, true},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(archs); i++) {
        hn_model_config config;
        hn_error err = {0};
        if (hf_config_of(&(tiny_model){.arch = archs[i].arch}, &config, &err) != HN_OK)
            g_error("%s", err.message);
        g_assert_cmpstr(config.architecture, ==, archs[i].architecture);
        g_assert_cmpstr(config.model_type, ==, archs[i].arch);
        g_assert_cmpint(config.head_dim, ==, 16);
        g_assert_cmpint(config.num_key_value_heads, ==, 2);
        g_assert_cmpint(config.vocab_size, ==, 4);
        g_assert_cmpint(config.max_position_embeddings, ==, 128);
        g_assert_true(config.tie_word_embeddings);
        g_assert_cmpint(config.torch_dtype, ==, HN_DTYPE_F32);
        g_assert_cmpint(config.attention_bias, ==, archs[i].attention_bias);
        g_assert_false(config.o_proj_bias);
        g_assert_false(config.mlp_bias);
        g_assert_cmpint(config.qk_norm, ==, archs[i].qk_norm);
    }
    /* llama.cpp writes Mistral as "llama": a Llama (without a sliding window) to Hone too. */
    hn_model_config config;
    hn_error err = {0};
    tiny_model mistral = {.arch = "llama", .string_key = "general.name",
                          .string_value = "Mistral 7B Instruct v0.3"};
    if (hf_config_of(&mistral, &config, &err) != HN_OK)
        g_error("%s", err.message);
    g_assert_cmpstr(config.architecture, ==, "LlamaForCausalLM");
    g_assert_false(config.use_sliding_window);
}

static void test_hf_config_refusals(void)
{
    static const struct {
        tiny_model model;
        hn_status status;
        const char *expect;
    } cases[] = {
        {{.arch = "gemma3"}, HN_ERR_UNSUPPORTED,
         "gemma3.gguf: metadata key \"general.architecture\": expected one of \"llama\" (Llama, "
         "Mistral, SmolLM2), \"qwen2\" (Qwen2, Qwen2.5), \"qwen3\" (Qwen3), found \"gemma3\""},
        {{.arch = "llama", .extra = "rope_freqs.weight"}, HN_ERR_UNSUPPORTED,
         "llama.gguf: tensor \"rope_freqs.weight\": expected no RoPE frequency factors, found them "
         "(Llama 3.1-style rope scaling): transformers' GGUF loader ignores RoPE scaling"},
        {{.arch = "llama", .string_key = "llama.rope.scaling.type", .string_value = "yarn"},
         HN_ERR_UNSUPPORTED,
         "llama.gguf: metadata key \"llama.rope.scaling.type\": expected \"none\", found \"yarn\": "
         "transformers' GGUF loader ignores RoPE scaling and would run plain RoPE"},
        {{.arch = "qwen2", .string_key = "qwen2.rope.scaling.type", .string_value = "yarn"},
         HN_ERR_UNSUPPORTED, "metadata key \"qwen2.rope.scaling.type\": expected \"none\""},
        {{.arch = "llama", .uint_key = "llama.rope.scale_linear", .uint_value = 4},
         HN_ERR_UNSUPPORTED,
         "metadata key \"llama.rope.scale_linear\": expected no RoPE scaling factor (0 or 1), "
         "found 4"},
        {{.arch = "llama", .extra = "blk.0.ffn_gate_exps.weight"}, HN_ERR_UNSUPPORTED,
         "tensor \"blk.0.ffn_gate_exps.weight\": expected a decoder weight"},
        {{.arch = "llama", .extra = "blk.5.attn_v.weight"}, HN_ERR_FORMAT,
         "tensor \"blk.5.attn_v.weight\": expected a block below llama.block_count (1), found "
         "block 5"},
        {{.arch = "llama", .uint_key = "llama.vocab_size", .uint_value = 5}, HN_ERR_FORMAT,
         "metadata key \"llama.vocab_size\": expected 4 (the tokens of tokenizer.ggml.tokens), "
         "found 5"},
        {{.arch = "llama", .uint_key = "llama.attention.key_length", .uint_value = 8},
         HN_ERR_UNSUPPORTED,
         "llama.gguf: metadata key \"llama.attention.key_length\": expected 16, the model's "
         "head_dim, found 8"},
        {{.arch = "qwen2", .drop = "blk.0.attn_k.bias"}, HN_ERR_FORMAT,
         "qwen2.gguf: expected tensor \"blk.0.attn_k.bias\" (model.layers.0.self_attn.k_proj.bias "
         "of a Qwen2ForCausalLM with this file's metadata), found no such tensor"},
        {{.arch = "qwen2", .reshape = "blk.0.attn_v.bias"}, HN_ERR_FORMAT,
         "qwen2.gguf: tensor \"blk.0.attn_v.bias\": expected model.layers.0.self_attn.v_proj.bias "
         "of shape [32] (rows first), found [24]"},
        {{.arch = "qwen2", .reshape = "blk.0.ffn_down.weight"}, HN_ERR_FORMAT,
         "tensor \"blk.0.ffn_down.weight\": expected model.layers.0.mlp.down_proj.weight of shape "
         "[32, 64] (rows first), found [24, 64]"},
        {{.arch = "qwen2", .extra = "blk.0.ffn_gate.bias"}, HN_ERR_FORMAT,
         "qwen2.gguf: tensor \"blk.0.ffn_gate.bias\": expected only the weights of a "
         "Qwen2ForCausalLM with this file's metadata, found \"model.layers.0.mlp.gate_proj.bias\", "
         "which it does not have"},
        {{.arch = "llama", .extra = "blk.0.attn_q_norm.weight"}, HN_ERR_FORMAT,
         "expected only the weights of a LlamaForCausalLM"},
        {{.arch = "qwen3", .drop = "blk.0.attn_q_norm.weight"}, HN_ERR_FORMAT,
         "expected tensor \"blk.0.attn_q_norm.weight\" (model.layers.0.self_attn.q_norm.weight"},
        {{.arch = "qwen3", .uint_key = "qwen3.attention.value_length", .uint_value = 8},
         HN_ERR_UNSUPPORTED, "metadata key \"qwen3.attention.value_length\": expected 16"},
        {{.arch = "qwen3", .drop = "output_norm.weight"}, HN_ERR_FORMAT,
         "expected tensor \"output_norm.weight\" (model.norm.weight"},
    };
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        hn_model_config config;
        hn_error err = {0};
        g_assert_cmpint(hf_config_of(&cases[i].model, &config, &err), ==, cases[i].status);
        test_assert_contains(err.message, cases[i].expect);
    }
}

/* Without key_length a Qwen3 has Qwen3Config's head_dim (128), as in transformers, and these
 * weights do not fit it. */
static void test_hf_config_qwen3_default_head_dim(void)
{
    GByteArray *b = build_tiny(&(tiny_model){.arch = "qwen3"});
    /* drop the key by renaming it: same length, a key nobody reads */
    guint8 *at = memmem(b->data, b->len, "qwen3.attention.key_length", 26);
    g_assert_nonnull(at);
    memcpy(at, "qwen3.attention.key_lengtX", 26);
    hn_gguf_file *file = NULL;
    hn_error err = {0};
    hn_model_config config;
    g_assert_cmpint(hn_gguf_open_buffer("qwen3.gguf", b->data, b->len, &file, &err), ==, HN_OK);
    g_assert_cmpint(hn_gguf_hf_config(file, &config, &err), ==, HN_ERR_FORMAT);
    test_assert_contains(err.message, "qwen3.gguf: tensor \"blk.0.attn_q.weight\": expected "
                                      "model.layers.0.self_attn.q_proj.weight of shape [256, 32]");
    hn_gguf_close(file);
    g_byte_array_unref(b);
}

/* Llama Q rows come back from llama.cpp's interleaved order: HF row h*D + j*D/2 + i is GGUF row
 * h*D + 2i + j; a K tensor whose rows do not fit the heads is refused. Qwen2 rows stay. */
static void test_hf_unpermute(void)
{
    hn_model_config config = {.num_attention_heads = 2, .num_key_value_heads = 2, .head_dim = 16};
    float stored[32 * 32], hf[32 * 32];
    hn_error err = {0};
    const char *const archs[] = {"llama", "qwen2"};
    for (gsize a = 0; a < G_N_ELEMENTS(archs); a++) {
        GByteArray *b = build_tiny(&(tiny_model){.arch = archs[a], .reshape = "blk.0.attn_k.weight"});
        hn_gguf_file *file = NULL;
        if (hn_gguf_open_buffer("model.gguf", b->data, b->len, &file, &err) != HN_OK)
            g_error("%s", err.message);
        const hn_gguf_tensor *q = hn_gguf_tensor_find(file, "blk.0.attn_q.weight");
        g_assert_cmpint(hn_gguf_tensor_to_f32(file, q, stored, &err), ==, HN_OK);
        g_assert_cmpint(hn_gguf_hf_tensor_f32(file, q, &config, hf, &err), ==, HN_OK);
        const bool permuted = a == 0;
        for (int h = 0; h < 2; h++)
            for (int j = 0; j < 2; j++)
                for (int i = 0; i < 8; i++)
                    g_assert_cmpmem(hf + (h * 16 + j * 8 + i) * 32, 32 * sizeof(float),
                                    stored + (h * 16 + (permuted ? 2 * i + j : j * 8 + i)) * 32,
                                    32 * sizeof(float));
        const hn_gguf_tensor *k = hn_gguf_tensor_find(file, "blk.0.attn_k.weight");
        if (permuted) {
            g_assert_cmpint(hn_gguf_hf_tensor_f32(file, k, &config, hf, &err), ==, HN_ERR_FORMAT);
            test_assert_contains(err.message, "model.gguf: tensor \"blk.0.attn_k.weight\": expected "
                                              "32 rows (2 heads of 16), found 24");
        }
        hn_gguf_close(file);
        g_byte_array_unref(b);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/gguf/sample", test_sample_reads);
    g_test_add_func("/engine/gguf/typed-getters", test_typed_getters);
    g_test_add_func("/engine/gguf/bad/magic", test_bad_magic);
    g_test_add_func("/engine/gguf/bad/version", test_unsupported_version);
    g_test_add_func("/engine/gguf/bad/tensor-type", test_unknown_tensor_type);
    g_test_add_func("/engine/gguf/bad/data-out-of-range", test_data_out_of_range);
    g_test_add_func("/engine/gguf/bad/truncated", test_truncated);
    g_test_add_func("/engine/gguf/bad/value-type", test_unknown_value_type);
    g_test_add_func("/engine/gguf/bad/other", test_other_corruptions);
    g_test_add_func("/engine/gguf/bad/deep-nesting", test_deep_nesting);
    g_test_add_func("/engine/gguf/hf-names", test_hf_names);
    g_test_add_func("/engine/gguf/hf-config-archs", test_hf_config_archs);
    g_test_add_func("/engine/gguf/hf-config-refusals", test_hf_config_refusals);
    g_test_add_func("/engine/gguf/hf-config-qwen3-default-head-dim",
                    test_hf_config_qwen3_default_head_dim);
    g_test_add_func("/engine/gguf/hf-unpermute", test_hf_unpermute);
    g_test_add_func("/reference/gguf/python-written-files", test_python_written_files);
    g_test_add_func("/reference/gguf/smollm2-q4_1", test_real_smollm2);
    g_test_add_func("/reference/gguf/gemma3-q4_k_m", test_real_gemma3);
    g_test_add_func("/reference/gguf/transformers-view/tiny-models", test_hf_view_tiny_models);
    g_test_add_func("/reference/gguf/transformers-view/smollm2", test_hf_view_smollm2);
    return g_test_run();
}
