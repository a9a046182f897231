/* A GGUF v3 writer (gguf_write.h), following ggml's docs/gguf.md and gguf-py's GGUFWriter:
 * header, metadata, tensor infos, padding to 32, then each tensor's data padded to 32. */
#include "gguf_write.h"

#include <glib.h>
#include <string.h>

#include "atomic_file.h"

#define GGUF_WRITE_ALIGNMENT 32

typedef struct {
    char *name;
    uint32_t type;
    int n_dims;
    int64_t dims[HN_GGUF_MAX_DIMS];
    uint64_t nbytes;
    uint64_t offset;
} tensor_info;

struct hn_gguf_writer {
    GByteArray *kv;   /* the encoded key/value pairs */
    uint64_t n_kv;
    GHashTable *keys; /* set of keys added */
    GArray *tensors;  /* tensor_info */
};

hn_gguf_writer *hn_gguf_writer_new(void)
{
    hn_gguf_writer *w = g_new0(hn_gguf_writer, 1);
    w->kv = g_byte_array_new();
    w->keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    w->tensors = g_array_new(FALSE, TRUE, sizeof(tensor_info));
    return w;
}

void hn_gguf_writer_free(hn_gguf_writer *w)
{
    if (w == NULL)
        return;
    for (guint i = 0; i < w->tensors->len; i++)
        g_free(g_array_index(w->tensors, tensor_info, i).name);
    g_array_free(w->tensors, TRUE);
    g_byte_array_free(w->kv, TRUE);
    g_hash_table_destroy(w->keys);
    g_free(w);
}

/* Little-endian, as GGUF requires (the hosts Hone builds for are little-endian). */
static void put(GByteArray *out, const void *data, size_t n)
{
    g_byte_array_append(out, data, (guint)n);
}
static void put_u32(GByteArray *out, uint32_t v) { put(out, &v, 4); }
static void put_u64(GByteArray *out, uint64_t v) { put(out, &v, 8); }
static void put_bytes_string(GByteArray *out, const char *data, uint64_t n)
{
    put_u64(out, n);
    put(out, data, (size_t)n);
}
static void put_string(GByteArray *out, const char *s) { put_bytes_string(out, s, strlen(s)); }

static void begin_kv(hn_gguf_writer *w, const char *key, hn_gguf_type type)
{
    put_string(w->kv, key);
    put_u32(w->kv, (uint32_t)type);
    w->n_kv++;
    g_hash_table_add(w->keys, g_strdup(key));
}

void hn_gguf_add_u32(hn_gguf_writer *w, const char *key, uint32_t value)
{
    begin_kv(w, key, HN_GGUF_UINT32);
    put_u32(w->kv, value);
}

void hn_gguf_add_i32(hn_gguf_writer *w, const char *key, int32_t value)
{
    begin_kv(w, key, HN_GGUF_INT32);
    put(w->kv, &value, 4);
}

void hn_gguf_add_f32(hn_gguf_writer *w, const char *key, float value)
{
    begin_kv(w, key, HN_GGUF_FLOAT32);
    put(w->kv, &value, 4);
}

void hn_gguf_add_bool(hn_gguf_writer *w, const char *key, bool value)
{
    begin_kv(w, key, HN_GGUF_BOOL);
    uint8_t b = value ? 1 : 0;
    put(w->kv, &b, 1);
}

void hn_gguf_add_string(hn_gguf_writer *w, const char *key, const char *value)
{
    begin_kv(w, key, HN_GGUF_STRING);
    put_string(w->kv, value);
}

void hn_gguf_add_strings(hn_gguf_writer *w, const char *key, const char *const *values, size_t n)
{
    begin_kv(w, key, HN_GGUF_ARRAY);
    put_u32(w->kv, HN_GGUF_STRING);
    put_u64(w->kv, n);
    for (size_t i = 0; i < n; i++)
        put_string(w->kv, values[i]);
}

void hn_gguf_add_i32s(hn_gguf_writer *w, const char *key, const int32_t *values, size_t n)
{
    begin_kv(w, key, HN_GGUF_ARRAY);
    put_u32(w->kv, HN_GGUF_INT32);
    put_u64(w->kv, n);
    for (size_t i = 0; i < n; i++)
        put_u32(w->kv, (uint32_t)values[i]);
}

static size_t scalar_size(hn_gguf_type type)
{
    switch (type) {
    case HN_GGUF_UINT8: case HN_GGUF_INT8: case HN_GGUF_BOOL: return 1;
    case HN_GGUF_UINT16: case HN_GGUF_INT16: return 2;
    case HN_GGUF_UINT32: case HN_GGUF_INT32: case HN_GGUF_FLOAT32: return 4;
    case HN_GGUF_UINT64: case HN_GGUF_INT64: case HN_GGUF_FLOAT64: return 8;
    default: return 0;
    }
}

/* The value's bytes without its type (the reader widened scalars: narrow them back). */
static void put_value(GByteArray *out, const hn_gguf_value *v)
{
    switch (v->type) {
    case HN_GGUF_STRING:
        put_bytes_string(out, v->string.bytes.data, v->string.bytes.length);
        return;
    case HN_GGUF_ARRAY: {
        put_u32(out, (uint32_t)v->array.type);
        put_u64(out, v->array.count);
        if (v->array.type == HN_GGUF_STRING) {
            for (uint64_t i = 0; i < v->array.count; i++)
                put_bytes_string(out, v->array.strings[i].data, v->array.strings[i].length);
        } else if (v->array.type == HN_GGUF_ARRAY) {
            for (uint64_t i = 0; i < v->array.count; i++)
                put_value(out, &v->array.items[i]);
        } else {
            put(out, v->array.raw, (size_t)v->array.count * scalar_size(v->array.type));
        }
        return;
    }
    case HN_GGUF_FLOAT32: {
        float f = (float)v->f;
        put(out, &f, 4);
        return;
    }
    case HN_GGUF_FLOAT64:
        put(out, &v->f, 8);
        return;
    case HN_GGUF_INT8: case HN_GGUF_INT16: case HN_GGUF_INT32: case HN_GGUF_INT64:
        put(out, &v->i, scalar_size(v->type)); /* the low bytes, little-endian */
        return;
    default:
        put(out, &v->u, scalar_size(v->type));
        return;
    }
}

void hn_gguf_add_value(hn_gguf_writer *w, const char *key, const hn_gguf_value *value)
{
    begin_kv(w, key, value->type);
    put_value(w->kv, value);
}

bool hn_gguf_writer_has(const hn_gguf_writer *w, const char *key)
{
    return g_hash_table_contains(w->keys, key);
}

void hn_gguf_add_tensor(hn_gguf_writer *w, const char *name, uint32_t type, int n_dims,
                        const int64_t *dims)
{
    tensor_info t = {.name = g_strdup(name), .type = type, .n_dims = n_dims};
    int64_t numel = 1;
    for (int d = 0; d < n_dims; d++) {
        t.dims[d] = dims[d];
        numel *= dims[d];
    }
    t.nbytes = hn_ggml_row_bytes(type, numel);
    g_array_append_val(w->tensors, t);
}

static uint64_t padded(uint64_t n)
{
    return (n + GGUF_WRITE_ALIGNMENT - 1) / GGUF_WRITE_ALIGNMENT * GGUF_WRITE_ALIGNMENT;
}

hn_status hn_gguf_writer_write(hn_gguf_writer *w, const char *path, hn_gguf_fill fill,
                               void *user, hn_error *err)
{
    GByteArray *head = g_byte_array_new();
    put(head, "GGUF", 4);
    put_u32(head, 3);
    put_u64(head, w->tensors->len);
    put_u64(head, w->n_kv);
    put(head, w->kv->data, w->kv->len);
    uint64_t offset = 0;
    for (guint i = 0; i < w->tensors->len; i++) {
        tensor_info *t = &g_array_index(w->tensors, tensor_info, i);
        put_string(head, t->name);
        put_u32(head, (uint32_t)t->n_dims);
        for (int d = 0; d < t->n_dims; d++)
            put_u64(head, (uint64_t)t->dims[d]);
        put_u32(head, t->type);
        put_u64(head, offset);
        t->offset = offset;
        offset += padded(t->nbytes);
    }
    static const uint8_t zeros[GGUF_WRITE_ALIGNMENT] = {0};
    put(head, zeros, padded(head->len) - head->len);

    hn_atomic_file file;
    hn_status s = hn_atomic_open(&file, path, err);
    if (s != HN_OK) {
        g_byte_array_free(head, TRUE);
        return s;
    }
    s = hn_atomic_write(&file, head->data, head->len, err);
    g_byte_array_free(head, TRUE);
    for (guint i = 0; s == HN_OK && i < w->tensors->len; i++) {
        const tensor_info *t = &g_array_index(w->tensors, tensor_info, i);
        void *data = g_try_malloc0(padded(t->nbytes) > 0 ? padded(t->nbytes) : 1);
        if (data == NULL) {
            s = hn_fail(err, HN_ERR_NOMEM, "out of memory writing tensor %s of %s", t->name,
                        path);
            break;
        }
        s = fill(user, i, data, err);
        if (s == HN_OK)
            s = hn_atomic_write(&file, data, padded(t->nbytes), err);
        g_free(data);
    }
    if (s != HN_OK) {
        hn_atomic_abort(&file);
        return s;
    }
    return hn_atomic_commit(&file, err);
}
