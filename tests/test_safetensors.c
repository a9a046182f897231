/* safetensors: writer/reader round trips, sharding, atomic writes and every kind of bad file. */
#include <glib/gstdio.h>
#include <string.h>

#include "safetensors.h"
#include "tensor_store.h"
#include "test_util.h"

/* Writes 8-byte length + header + data to dir/name and returns the path. */
static char *craft(const char *dir, const char *name, const char *header, size_t data_size,
                   guint64 claimed_length)
{
    size_t header_length = strlen(header);
    size_t size = 8 + header_length + data_size;
    unsigned char *bytes = g_malloc0(size);
    guint64 length = claimed_length != 0 ? claimed_length : header_length;
    for (int i = 0; i < 8; i++)
        bytes[i] = (unsigned char)(length >> (8 * i));
    memcpy(bytes + 8, header, header_length);
    test_random_bytes(bytes + 8 + header_length, data_size, 7);
    char *path = g_build_filename(dir, name, NULL);
    test_write_file(path, bytes, size);
    g_free(bytes);
    return path;
}

/* Opening must fail with `status` and a message naming the file and containing `expect`. */
static void expect_open_failure(const char *path, hn_status status, const char *expect)
{
    hn_st_file *file = NULL;
    hn_error err = {0};
    g_assert_cmpint(hn_st_open(path, &file, &err), ==, status);
    g_assert_null(file);
    test_assert_contains(err.message, path);
    test_assert_contains(err.message, expect);
}

typedef struct {
    hn_st_tensor tensors[4];
    float f32[6];
    guint16 bf16[8];
    gint64 i64[3];
    guint8 flags[5];
} sample;

static void make_sample(sample *s)
{
    memset(s, 0, sizeof *s);
    test_random_bytes(s->f32, sizeof s->f32, 1);
    test_random_bytes(s->bf16, sizeof s->bf16, 2);
    test_random_bytes(s->i64, sizeof s->i64, 3);
    test_random_bytes(s->flags, sizeof s->flags, 4);
    for (int i = 0; i < 6; i++) /* keep floats finite so comparisons read well */
        s->f32[i] = (float)(i * 1.25 - 3.0);
    s->tensors[0] = (hn_st_tensor){.name = "model.embed_tokens.weight", .dtype = HN_DTYPE_F32,
                                   .ndim = 2, .shape = {2, 3}, .data = s->f32};
    s->tensors[1] = (hn_st_tensor){.name = "lm_head.weight", .dtype = HN_DTYPE_BF16, .ndim = 3,
                                   .shape = {2, 2, 2}, .data = s->bf16};
    s->tensors[2] = (hn_st_tensor){.name = "step", .dtype = HN_DTYPE_I64, .ndim = 1,
                                   .shape = {3}, .data = s->i64};
    s->tensors[3] = (hn_st_tensor){.name = "mask \"quoted\"", .dtype = HN_DTYPE_BOOL, .ndim = 1,
                                   .shape = {5}, .data = s->flags};
}

static void assert_same_tensor(const hn_st_tensor *want, const hn_st_tensor *got)
{
    g_assert_nonnull(got);
    g_assert_cmpstr(got->name, ==, want->name);
    g_assert_cmpint(got->dtype, ==, want->dtype);
    g_assert_cmpint(got->ndim, ==, want->ndim);
    gint64 numel = 1;
    for (int d = 0; d < want->ndim; d++) {
        g_assert_cmpint(got->shape[d], ==, want->shape[d]);
        numel *= want->shape[d];
    }
    g_assert_cmpint(got->numel, ==, numel);
    g_assert_cmpuint(got->nbytes, ==, (guint64)numel * hn_dtype_size(want->dtype));
    g_assert_cmpmem(got->data, got->nbytes, want->data, got->nbytes);
}

static void test_round_trip(void)
{
    char *dir = test_make_tmpdir();
    char *path = g_build_filename(dir, "model.safetensors", NULL);
    sample s;
    make_sample(&s);
    hn_st_meta meta[] = {{"format", "pt"}, {"note", "line\nbreak \"q\" ü"}};
    hn_error err = {0};
    g_assert_cmpint(hn_st_write(path, s.tensors, 4, meta, 2, &err), ==, HN_OK);

    hn_st_file *file = NULL;
    g_assert_cmpint(hn_st_open(path, &file, &err), ==, HN_OK);
    g_assert_cmpuint(hn_st_count(file), ==, 4);
    for (int i = 0; i < 4; i++) {
        const hn_st_tensor *t = hn_st_find(file, s.tensors[i].name);
        assert_same_tensor(&s.tensors[i], t);
        /* the header is padded to 8 bytes and larger elements come first: all aligned */
        g_assert_cmpuint((guintptr)t->data % hn_dtype_size(t->dtype), ==, 0);
    }
    g_assert_cmpuint(hn_st_metadata_count(file), ==, 2);
    g_assert_cmpstr(hn_st_metadata(file, "note"), ==, "line\nbreak \"q\" ü");
    g_assert_null(hn_st_metadata(file, "missing"));
    float values[6];
    hn_convert_to_f32(values, hn_st_find(file, "model.embed_tokens.weight")->data, HN_DTYPE_F32, 6);
    g_assert_cmpfloat(values[5], ==, 3.25f);
    hn_st_close(file);

    /* Writing again replaces the file atomically and leaves no temporary behind. */
    g_assert_cmpint(hn_st_write(path, s.tensors, 1, NULL, 0, &err), ==, HN_OK);
    g_assert_cmpint(hn_st_open(path, &file, &err), ==, HN_OK);
    g_assert_cmpuint(hn_st_count(file), ==, 1);
    hn_st_close(file);
    GDir *listing = g_dir_open(dir, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name(listing)) != NULL)
        g_assert_cmpstr(name, ==, "model.safetensors");
    g_dir_close(listing);
    g_free(path);
    test_remove_tree(dir);
    g_free(dir);
}

static void test_writer_refuses(void)
{
    char *dir = test_make_tmpdir();
    sample s;
    make_sample(&s);
    hn_error err = {0};
    char *missing = g_build_filename(dir, "no-such-folder", "model.safetensors", NULL);
    g_assert_cmpint(hn_st_write(missing, s.tensors, 4, NULL, 0, &err), ==, HN_ERR_IO);
    test_assert_contains(err.message, missing);
    hn_st_tensor twice[2] = {s.tensors[0], s.tensors[0]};
    char *path = g_build_filename(dir, "twice.safetensors", NULL);
    g_assert_cmpint(hn_st_write(path, twice, 2, NULL, 0, &err), ==, HN_ERR_ARGUMENT);
    test_assert_contains(err.message, "given twice");
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
    g_free(path);
    g_free(missing);
    test_remove_tree(dir);
    g_free(dir);
}

static void test_sharded(void)
{
    char *dir = test_make_tmpdir();
    /* 10 tensors of 400 bytes, limit 1000: two per shard -> 5 shards; one of 3000 bytes
     * exceeds the limit and gets a shard of its own. */
    enum { N = 11 };
    hn_st_tensor tensors[N];
    float *data = g_new(float, 10 * 100 + 750);
    test_random_bytes(data, (10 * 100 + 750) * sizeof(float), 11);
    char *names[N];
    for (int i = 0; i < N; i++) {
        names[i] = g_strdup_printf("layers.%02d.weight", i);
        tensors[i] = (hn_st_tensor){.name = names[i], .dtype = HN_DTYPE_F32, .ndim = 2,
                                    .shape = {10, i < 10 ? 10 : 75}, .data = data + 100 * i};
    }
    hn_st_meta meta[] = {{"format", "pt"}};
    hn_error err = {0};
    int n_shards = 0;
    g_assert_cmpint(hn_st_write_sharded(dir, "model", tensors, N, meta, 1, 1000, &n_shards, &err),
                    ==, HN_OK);
    g_assert_cmpint(n_shards, ==, 6);
    char *index = g_build_filename(dir, "model.safetensors.index.json", NULL);
    g_assert_true(g_file_test(index, G_FILE_TEST_EXISTS));
    char *last = g_build_filename(dir, "model-00006-of-00006.safetensors", NULL);
    g_assert_true(g_file_test(last, G_FILE_TEST_EXISTS));

    hn_tensor_store *store = NULL;
    g_assert_cmpint(hn_tensor_store_open(dir, &store, &err), ==, HN_OK);
    g_assert_cmpint(hn_tensor_store_shard_count(store), ==, 6);
    g_assert_cmpuint(hn_tensor_store_count(store), ==, N);
    for (int i = 0; i < N; i++)
        assert_same_tensor(&tensors[i], hn_tensor_store_find(store, names[i]));
    g_assert_null(hn_tensor_store_find(store, "nope"));
    hn_tensor_store_close(store);

    /* Under the limit: one model.safetensors, no index. */
    char *single_dir = g_build_filename(dir, "single", NULL);
    g_mkdir(single_dir, 0755);
    g_assert_cmpint(hn_st_write_sharded(single_dir, "model", tensors, N, NULL, 0, 1 << 20,
                                        &n_shards, &err), ==, HN_OK);
    g_assert_cmpint(n_shards, ==, 1);
    g_assert_cmpint(hn_tensor_store_open(single_dir, &store, &err), ==, HN_OK);
    g_assert_null(hn_tensor_store_index_path(store));
    g_assert_cmpuint(hn_tensor_store_count(store), ==, N);
    hn_tensor_store_close(store);

    for (int i = 0; i < N; i++)
        g_free(names[i]);
    g_free(data);
    g_free(index);
    g_free(last);
    g_free(single_dir);
    test_remove_tree(dir);
    g_free(dir);
}

static const char *good_header =
    "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
    "\"b\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[16,24]}}";

/* Headers that must be refused: file name, header, data bytes after it, a false header
 * length (0: the true one), and what the error must say. */
typedef struct {
    const char *file, *header;
    size_t data_size;
    guint64 claimed_length;
    hn_status status;
    const char *expect;
} bad_header;

static const bad_header bad_headers[] = {
    {"huge-length.safetensors", "{}", 24, 1u << 30, HN_ERR_FORMAT,
     "header length 1073741824 runs past the end"},
    {"past-end.safetensors", "{\"a\":{\"dtype\":\"U8\",\"shape\":[100],\"data_offsets\":[8,108]}}",
     16, 0, HN_ERR_FORMAT, "data_offsets [8, 108] run past the end"},
    {"overlap.safetensors",
     "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
     "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
     16, 0, HN_ERR_FORMAT, "overlap"},
    {"dtype.safetensors", "{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[4],\"data_offsets\":[0,4]}}", 4,
     0, HN_ERR_UNSUPPORTED, "unknown dtype \"F8_E4M3\" (expected one of F64"},
    {"not-json.safetensors", "{\"a\": [1, 2,, }", 0, 0, HN_ERR_FORMAT,
     "header: line 1, column 13: not valid JSON"},
    {"not-object.safetensors", "[1,2]", 0, 0, HN_ERR_FORMAT,
     "expected the JSON header to start with '{'"},
    {"size-mismatch.safetensors",
     "{\"a\":{\"dtype\":\"BF16\",\"shape\":[3,3],\"data_offsets\":[0,16]}}", 16, 0, HN_ERR_FORMAT,
     "need 18 bytes but data_offsets [0, 16] hold 16"},
    {"metadata.safetensors", "{\"__metadata__\":{\"format\":\"pt\",\"n\":3}}", 0, 0,
     HN_ERR_FORMAT, "\"__metadata__\".\"n\": expected a string, found a number"},
    {"duplicate.safetensors",
     "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
     "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
     2, 0, HN_ERR_FORMAT, "the name \"a\" appears twice"},
    {"negative.safetensors", "{\"a\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,1]}}", 1,
     0, HN_ERR_FORMAT, "shape[0]: expected a non-negative integer"},
    {"offsets.safetensors", "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[2,1]}}", 2, 0,
     HN_ERR_FORMAT, "expected [begin, end] with 0 <= begin <= end"},
    {"overflow.safetensors",
     "{\"a\":{\"dtype\":\"F64\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}", 0, 0,
     HN_ERR_FORMAT, "more than 2^64 bytes"},
    {"not-utf8.safetensors", "{\"\xff\":{}}", 0, 0, HN_ERR_FORMAT, "the header is not valid UTF-8"},
};

static void test_bad_files(void)
{
    char *dir = test_make_tmpdir();
    char *path;

    path = craft(dir, "good.safetensors", good_header, 24, 0);
    hn_st_file *file = NULL;
    hn_error err = {0};
    g_assert_cmpint(hn_st_open(path, &file, &err), ==, HN_OK);
    hn_st_close(file);
    g_free(path);

    /* Truncated in the data area: the last tensor runs past the end. */
    /* A header with no tensors is a valid, empty file (found by the fuzzer: it once crashed). */
    path = craft(dir, "empty.safetensors", "{}      ", 0, 0);
    g_assert_cmpint(hn_st_open(path, &file, &err), ==, HN_OK);
    g_assert_cmpuint(hn_st_count(file), ==, 0);
    hn_st_close(file);
    g_free(path);

    path = craft(dir, "truncated-data.safetensors", good_header, 20, 0);
    expect_open_failure(path, HN_ERR_FORMAT, "run past the end of the data area");
    g_free(path);

    /* Truncated inside the header. */
    GBytes *whole = NULL;
    path = craft(dir, "truncated-header.safetensors", good_header, 24, 0);
    whole = test_read_file(path);
    test_write_file(path, g_bytes_get_data(whole, NULL), 40);
    expect_open_failure(path, HN_ERR_FORMAT, "runs past the end of the file");
    g_bytes_unref(whole);
    g_free(path);

    path = craft(dir, "short.safetensors", "", 0, 0);
    test_write_file(path, "\x05\x00\x00", 3);
    expect_open_failure(path, HN_ERR_FORMAT, "too short for the 8-byte header length");
    g_free(path);

    for (size_t i = 0; i < G_N_ELEMENTS(bad_headers); i++) {
        const bad_header *c = &bad_headers[i];
        path = craft(dir, c->file, c->header, c->data_size, c->claimed_length);
        expect_open_failure(path, c->status, c->expect);
        g_free(path);
    }

    path = g_build_filename(dir, "absent.safetensors", NULL);
    expect_open_failure(path, HN_ERR_IO, "cannot open");
    g_free(path);

    test_remove_tree(dir);
    g_free(dir);
}

/* A sharded folder whose index promises what the shards do not hold. */
static void test_bad_index(void)
{
    char *dir = test_make_tmpdir();
    char *shard = craft(dir, "model-00001-of-00002.safetensors", good_header, 24, 0);
    char *index = g_build_filename(dir, "model.safetensors.index.json", NULL);
    hn_tensor_store *store = NULL;
    hn_error err = {0};

    test_write_text(index, "{\"metadata\":{},\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
                           "\"c\":\"model-00002-of-00002.safetensors\"}}");
    g_assert_cmpint(hn_tensor_store_open(dir, &store, &err), ==, HN_ERR_IO);
    test_assert_contains(err.message, "model.safetensors.index.json: weight_map names shard "
                                      "\"model-00002-of-00002.safetensors\" (for tensor \"c\")");
    test_assert_contains(err.message, "does not exist");

    test_write_text(index, "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\","
                           "\"zz\":\"model-00001-of-00002.safetensors\"}}");
    g_assert_cmpint(hn_tensor_store_open(dir, &store, &err), ==, HN_ERR_FORMAT);
    test_assert_contains(err.message, "puts tensor \"zz\" in model-00001-of-00002.safetensors, but no shard holds it");

    test_write_text(index, "{\"weight_map\":{\"a\":\"../etc/passwd\"}}");
    g_assert_cmpint(hn_tensor_store_open(dir, &store, &err), ==, HN_ERR_FORMAT);
    test_assert_contains(err.message, "expected the file name of a shard in the same folder");

    test_write_text(index, "{\"weight_map\": [1]}");
    g_assert_cmpint(hn_tensor_store_open(dir, &store, &err), ==, HN_ERR_FORMAT);
    test_assert_contains(err.message, "field \"weight_map\": expected an object");

    test_write_text(index, "{\"weight_map\": {");
    g_assert_cmpint(hn_tensor_store_open(dir, &store, &err), ==, HN_ERR_FORMAT);
    test_assert_contains(err.message, "not valid JSON");

    /* A corrupt shard is reported with its own path. */
    test_write_text(index, "{\"weight_map\":{\"a\":\"model-00001-of-00002.safetensors\"}}");
    test_write_file(shard, "\xff\xff\xff\xff\xff\xff\xff\xff{}", 10);
    g_assert_cmpint(hn_tensor_store_open(dir, &store, &err), ==, HN_ERR_FORMAT);
    test_assert_contains(err.message, shard);
    g_assert_null(store);

    g_unlink(index);
    g_unlink(shard);
    g_assert_cmpint(hn_tensor_store_open(dir, &store, &err), ==, HN_ERR_IO);
    test_assert_contains(err.message, "no model.safetensors or model.safetensors.index.json");

    g_free(shard);
    g_free(index);
    test_remove_tree(dir);
    g_free(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/safetensors/round-trip", test_round_trip);
    g_test_add_func("/engine/safetensors/writer-refuses", test_writer_refuses);
    g_test_add_func("/engine/safetensors/sharded", test_sharded);
    g_test_add_func("/engine/safetensors/bad-files", test_bad_files);
    g_test_add_func("/engine/safetensors/bad-index", test_bad_index);
    return g_test_run();
}
